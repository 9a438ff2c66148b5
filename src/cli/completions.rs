//! `orch completions SHELL` and `orch man`: generated from the clap
//! definitions, so they never drift from the real arguments.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::error::{Outcome, Result};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for; an unknown one is a usage error (exit 2)
    /// that lists these
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for a shell, on `out`. Install it where the shell
/// looks, e.g. `orch completions bash > ~/.local/share/bash-completion/completions/orch`.
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> Result<Outcome> {
    let mut cmd = super::Cli::command();
    // clap_complete panics when its writer fails (a closed pipe), so render
    // into memory and write once, letting the error reach the caller.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "orch", &mut script);
    out.write_all(&script)?;
    Ok(Outcome::Clean)
}

/// The roff man page of `orch` (`orch man | man -l -`).
pub fn man(out: &mut dyn Write) -> Result<Outcome> {
    let cmd = super::Cli::command();
    clap_mangen::Man::new(cmd).render(out)?;
    Ok(Outcome::Clean)
}
