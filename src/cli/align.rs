//! `orch align-docs`: the Documentation Alignment Checklist over a range.

use std::io::Write;

use crate::error::{Error, Outcome, Result};

use super::Global;

#[derive(Debug, clap::Args)]
pub struct AlignArgs {}

pub fn run(_args: &AlignArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
