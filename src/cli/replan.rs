//! `orch replan` and `orch log`.

use std::io::Write;

use crate::error::{Error, Outcome, Result};

use super::Global;

#[derive(Debug, clap::Args)]
pub struct ReplanArgs {}

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    pub id: Option<String>,
}

pub fn replan(_args: &ReplanArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
pub fn log(_args: &LogArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
