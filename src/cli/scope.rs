//! `orch scope check`: the changed files against the scopes of the tasks in
//! progress. A file outside every in-progress task's effective scope, or
//! inside two of them at once, is a problem (exit 1).

use std::io::Write;

use serde_json::json;

use crate::error::{Error, Outcome, Result};
use crate::model::program::{Index, Task, display_path};
use crate::model::scope::effective_scope;
use crate::model::{Program, TaskStatus};
use crate::report::Format;
use crate::scope::Scope;

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

/// A task's effective scope, when its card parses.
fn scope(program: &Program, task: &Task) -> Option<Scope> {
    effective_scope(program, task).ok()
}

pub fn run(args: &ScopeArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let ScopeAction::Check { staged, since } = &args.action;
    if !matches!(g.format, Format::Human | Format::Json) {
        return Err(Error::usage("`orch scope check` prints human or json"));
    }
    let ws = Workspace::find(g)?;
    let program = ws.load()?;
    let repo = crate::git::Repo::discover(&ws.root)?.ok_or_else(|| {
        Error::with_help(
            format!("{} is not in a git repository", ws.root.display()),
            "scope check compares changes git knows about",
        )
    })?;
    let mut changed: Vec<String> = if *staged {
        repo.staged_changes()?
            .iter()
            .flat_map(change_paths)
            .collect()
    } else {
        let mut v = repo.dirty_paths()?;
        if let Some(rev) = since {
            v.extend(repo.changes(rev, "HEAD")?.iter().flat_map(change_paths));
        }
        v
    };
    // orch's own bookkeeping is not a task's work.
    let own = format!("{}/", display_path(repo.workdir(), &ws.dir));
    changed.retain(|p| !p.starts_with(&own));
    changed.sort();
    changed.dedup();

    let index = Index::build(&program);
    let scoped: Vec<(&Task, Option<Scope>)> = index
        .tasks
        .iter()
        .map(|t| (t, scope(&program, t)))
        .collect();
    let running: Vec<&(&Task, Option<Scope>)> = scoped
        .iter()
        .filter(|(t, _)| t.status == TaskStatus::InProgress)
        .collect();
    if running.is_empty() {
        if g.format == Format::Json {
            print_json(
                out,
                &json!({"files": [], "summary": {"changed": changed.len(), "outside": 0, "shared": 0}, "note": "no task is in progress"}),
            )?;
        } else if !g.quiet {
            writeln!(
                out,
                "no task is in progress: {} changed file(s), nothing to check against",
                changed.len()
            )?;
        }
        return Ok(Outcome::Clean);
    }
    let unscoped: Vec<&str> = running
        .iter()
        .filter(|(_, s)| s.is_none())
        .map(|(t, _)| t.id.as_str())
        .collect();
    let mut rows = Vec::new();
    let (mut outside, mut shared) = (0, 0);
    for path in &changed {
        let owners: Vec<&str> = running
            .iter()
            .filter(|(_, s)| s.as_ref().is_some_and(|s| s.is_match(path)))
            .map(|(t, _)| t.id.as_str())
            .collect();
        let others: Vec<String> = scoped
            .iter()
            .filter(|(t, s)| {
                t.status != TaskStatus::InProgress && s.as_ref().is_some_and(|s| s.is_match(path))
            })
            .map(|(t, _)| format!("{} ({})", t.id, t.status))
            .collect();
        let problem = match owners.len() {
            0 => {
                outside += 1;
                Some("outside")
            }
            1 => None,
            _ => {
                shared += 1;
                Some("shared")
            }
        };
        rows.push((path, owners, others, problem));
    }
    if g.format == Format::Json {
        let files: Vec<_> = rows
            .iter()
            .map(|(p, owners, others, problem)| json!({"path": p, "tasks": owners, "other_tasks": others, "problem": problem}))
            .collect();
        let v = json!({
            "files": files,
            "unscoped_tasks": unscoped,
            "summary": {"changed": changed.len(), "outside": outside, "shared": shared},
        });
        print_json(out, &v)?;
    } else {
        for (path, owners, others, problem) in &rows {
            match problem {
                Some("outside") => {
                    let hint = if others.is_empty() {
                        "no task's scope holds it".to_string()
                    } else {
                        format!("in the scope of {}", others.join(", "))
                    };
                    writeln!(out, "outside  {path}  ({hint})")?;
                }
                Some(_) => writeln!(out, "shared   {path}  (in progress: {})", owners.join(", "))?,
                None if !g.quiet => writeln!(out, "ok       {path}  ({})", owners.join(", "))?,
                None => {}
            }
        }
        for id in &unscoped {
            writeln!(
                out,
                "warning: `{id}` is in progress but its card's scope does not parse (`orch lint`)"
            )?;
        }
        writeln!(
            out,
            "{} changed file(s): {outside} outside every in-progress task's scope, {shared} in more than one",
            changed.len()
        )?;
    }
    Ok(if outside + shared > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn change_paths(c: &crate::git::Change) -> Vec<String> {
    match c {
        crate::git::Change::Renamed { from, to } => vec![from.clone(), to.clone()],
        other => vec![other.path().to_string()],
    }
}
