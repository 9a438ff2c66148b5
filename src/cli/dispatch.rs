//! `orch dispatch` and `orch harvest`: run the cards' agents side by side,
//! then judge what they did.

use std::io::Write;

use crate::error::{Error, Outcome, Result};

use super::Global;

#[derive(Debug, clap::Args)]
pub struct DispatchArgs {}

#[derive(Debug, clap::Args)]
pub struct HarvestArgs {}

pub fn dispatch(_args: &DispatchArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
pub fn harvest(_args: &HarvestArgs, _g: &Global, _out: &mut dyn Write) -> Result<Outcome> {
    Err(Error::usage("not built yet"))
}
