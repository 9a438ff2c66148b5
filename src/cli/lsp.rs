//! `orch lsp`: the language server on stdin and stdout (see `crate::lsp`).

use crate::error::{Error, Outcome, Result};
use crate::lsp::{self, Start};

use super::{Global, Workspace};

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Speak LSP on stdin and stdout (the only transport; accepted because
    /// editors pass it by habit)
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: &LspArgs, g: &Global) -> Result<Outcome> {
    // With `--dir` or `--root` the program is fixed; otherwise the server
    // finds programs from the editor's workspace folders and the documents
    // it opens.
    let start = if g.dir.is_some() || g.root.is_some() {
        let ws = Workspace::find(g)?;
        Some(Start {
            root: ws.root,
            dir: ws.dir,
        })
    } else {
        None
    };
    lsp::run_stdio(start).map_err(|e| {
        Error::with_help(
            e,
            "start `orch lsp` from an editor: it speaks LSP on stdin and stdout",
        )
    })?;
    Ok(Outcome::Clean)
}
