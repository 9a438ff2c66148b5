//! `orch scope check`: changed files against the tasks' scopes.

use std::io::Write;

use crate::error::{Error, Outcome, Result};

use super::Global;

#[derive(Debug, clap::Args)]
pub struct ScopeArgs {}

pub fn run(_args: &ScopeArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
