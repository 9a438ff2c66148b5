//! `orch scope check`: the changed files against the scopes of the tasks in
//! progress. A file outside every in-progress task's effective scope, or
//! inside two of them at once, is a problem (exit 1).

use std::io::Write;

use crate::error::{Error, Outcome, Result};
use crate::query::{self, Changes};
use crate::report::Format;

use super::{Global, Workspace, print_json};

#[derive(Debug, clap::Args)]
pub struct ScopeArgs {
    #[command(subcommand)]
    pub action: ScopeAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum ScopeAction {
    /// Check changed files (default: the work tree against HEAD) against the
    /// scopes of the tasks in progress
    Check {
        /// Only what is staged (HEAD to the index)
        #[arg(long)]
        staged: bool,
        /// What changed since REV (commits since REV, plus the work tree)
        #[arg(long, value_name = "REV", conflicts_with = "staged")]
        since: Option<String>,
    },
}

pub fn run(args: &ScopeArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let ScopeAction::Check { staged, since } = &args.action;
    if !matches!(g.format, Format::Human | Format::Json) {
        return Err(Error::usage("`orch scope check` prints human or json"));
    }
    let program = Workspace::find(g)?.load()?;
    let changes = match (staged, since) {
        (true, _) => Changes::Staged,
        (false, Some(rev)) => Changes::Since(rev.clone()),
        (false, None) => Changes::WorkTree,
    };
    let check = query::scope_check(&program, &changes)?;
    if g.format == Format::Json {
        print_json(out, &check.to_json())?;
    } else if !check.running {
        if !g.quiet {
            writeln!(
                out,
                "no task is in progress: {} changed file(s), nothing to check against",
                check.changed
            )?;
        }
    } else {
        for row in &check.rows {
            let path = &row.path;
            match row.problem {
                Some("outside") => {
                    let hint = if row.other_tasks.is_empty() {
                        "no task's scope holds it".to_string()
                    } else {
                        format!("in the scope of {}", row.other_tasks.join(", "))
                    };
                    writeln!(out, "outside  {path}  ({hint})")?;
                }
                Some(_) => writeln!(
                    out,
                    "shared   {path}  (in progress: {})",
                    row.tasks.join(", ")
                )?,
                None if !g.quiet => writeln!(out, "ok       {path}  ({})", row.tasks.join(", "))?,
                None => {}
            }
        }
        for id in &check.unscoped {
            writeln!(
                out,
                "warning: `{id}` is in progress but its card's scope does not parse (`orch lint`)"
            )?;
        }
        if !g.quiet || check.has_problems() {
            writeln!(
                out,
                "{} changed file(s): {} outside every in-progress task's scope, {} in more than one",
                check.changed, check.outside, check.shared
            )?;
        }
    }
    Ok(if check.has_problems() {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
