//! `orch mcp`: serve the program to a coding agent over the Model Context
//! Protocol on stdio (see [`crate::mcp`] and `docs/agents.md`).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::Path;

use clap::Parser;
use serde_json::Value;

use crate::error::{Error, Outcome, Result};
use crate::mcp::{Context, Tier};

use super::{Cli, Color, Global, Workspace};

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// The tools to offer: core (next, show, status, lint, scope_check,
    /// start, record, block) or all (also sheet, replan, align_docs and
    /// dispatch as a dry run)
    #[arg(long, value_enum, default_value_t = ToolSet::Core, value_name = "SET")]
    pub tools: ToolSet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ToolSet {
    Core,
    All,
}

/// Serve until the client closes stdin.
pub fn run(args: &McpArgs, g: &Global) -> Result<Outcome> {
    if std::io::stdin().is_terminal() && !g.quiet {
        eprintln!(
            "This is orch's MCP server: it speaks the Model Context Protocol on stdin and stdout; start it from an MCP client (docs/agents.md). Ctrl-D ends it."
        );
    }
    let (root, dir, no_commit) = (g.root.clone(), g.dir.clone(), g.no_commit);
    let locate = Box::new(move || {
        let g = Global {
            root: root.clone(),
            dir: dir.clone(),
            format: crate::report::Format::Json,
            quiet: true,
            no_commit,
            color: Color::Never,
        };
        Workspace::find(&g).map(|ws| (ws.root, ws.dir))
    });
    let tier = match args.tools {
        ToolSet::Core => Tier::Core,
        ToolSet::All => Tier::All,
    };
    crate::mcp::serve(Context::new(locate, !g.no_commit, tier))?;
    Ok(Outcome::Clean)
}

/// Run an orch command in-process with `--format json` on the folder
/// `dir` of the work tree `root`, and parse what it prints: the MCP
/// server's extended tools answer with the command's own JSON this way.
pub fn run_json(root: &Path, dir: &Path, commit: bool, args: &[String]) -> Result<Value> {
    let mut argv: Vec<OsString> = vec![
        "orch".into(),
        "--root".into(),
        root.into(),
        "--dir".into(),
        dir.into(),
        "--format".into(),
        "json".into(),
        "--color".into(),
        "never".into(),
    ];
    if !commit {
        argv.push("--no-commit".into());
    }
    argv.extend(args.iter().map(OsString::from));
    let cli = Cli::try_parse_from(argv).map_err(|e| {
        let text = e.to_string();
        Error::usage(text.lines().next().unwrap_or("bad arguments").to_string())
    })?;
    let mut out = Vec::new();
    super::run_with(cli, &mut out)?;
    serde_json::from_slice(&out)
        .map_err(|e| Error::usage(format!("the command printed no JSON object: {e}")))
}
