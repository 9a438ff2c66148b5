//! `orch prime [ID]`: a compact context for an agent's session hook (see
//! [`crate::prime`] and `docs/agents.md`).

use std::io::Write;

use crate::error::{Error, Outcome, Result};
use crate::model::Index;
use crate::prime::{self, Prime};
use crate::report::Format;
use crate::util::is_valid_id;

use super::{Global, Workspace, print_json};

/// The variable that names the task of an agent's session.
pub const TASK_VAR: &str = "ORCH_TASK";

#[derive(Debug, clap::Args)]
pub struct PrimeArgs {
    /// The task (default: $ORCH_TASK when set, else the lead's view of the
    /// whole program)
    pub id: Option<String>,
    /// Print a SessionStart hook's JSON for Claude Code and Codex
    /// ({"hookSpecificOutput":{"additionalContext":...}}); without a
    /// program, an empty context and exit 0, so a hook never fails a
    /// session
    #[arg(long)]
    pub hook: bool,
}

fn build(args: &PrimeArgs, g: &Global) -> Result<Prime> {
    let id = args.id.clone().or_else(|| {
        std::env::var(TASK_VAR)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    });
    let program = Workspace::find(g)?.load()?;
    let index = Index::build(&program);
    let runs = crate::dispatch::last_runs(&program.dir);
    match id {
        Some(id) if !is_valid_id(&id) => Err(Error::with_help(
            format!("`{id}` is not a task ID"),
            "name a Branch ID of the plan's backlog, e.g. `orch prime P1-UI-01`",
        )),
        Some(id) => prime::task(&program, &index, &id, &runs),
        None => {
            let diagnostics = crate::rules::lint(&program);
            Ok(prime::lead(&program, &index, &diagnostics, &runs))
        }
    }
}

pub fn run(args: &PrimeArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if !matches!(g.format, Format::Human | Format::Json | Format::Markdown) {
        return Err(Error::usage(
            "`orch prime` prints markdown (the default) or json",
        ));
    }
    if args.hook {
        let markdown = match build(args, g) {
            Ok(p) => p.markdown,
            Err(e) => {
                if !g.quiet {
                    eprintln!("orch prime: {e}");
                }
                String::new()
            }
        };
        print_json(out, &prime::hook_json(&markdown))?;
        return Ok(Outcome::Clean);
    }
    let p = build(args, g)?;
    if g.format == Format::Json {
        print_json(out, &p.json)?;
    } else {
        out.write_all(p.markdown.as_bytes())?;
    }
    Ok(Outcome::Clean)
}
