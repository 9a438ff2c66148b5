//! The state transitions: `orch start`, `record`, `block`, `cancel`,
//! `split`, each one commit (DESIGN 2 and 7).

use std::io::Write;

use crate::error::{Error, Outcome, Result};

use super::Global;

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    pub ids: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    pub id: String,
}

#[derive(Debug, clap::Args)]
pub struct ReasonArgs {
    pub id: String,
}

#[derive(Debug, clap::Args)]
pub struct SplitArgs {
    pub id: String,
}

pub fn start(_args: &StartArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
pub fn record(_args: &RecordArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
pub fn block(_args: &ReasonArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
pub fn cancel(_args: &ReasonArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
pub fn split(_args: &SplitArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
