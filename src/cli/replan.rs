//! `orch replan` (DESIGN 9) and `orch log`: the re-planning decisions, and
//! the transition history read back from commit trailers.

use std::io::Write;

use crate::error::{Error, Outcome, Result};
use crate::git::Repo;
use crate::model::Index;
use crate::report::Format;
use crate::transition::{self, git_error, replan as rules};

use super::{Global, Workspace, print_json};

#[derive(Debug, clap::Args)]
pub struct ReplanArgs {
    /// Write and commit the decisions that need no human words (new backlog
    /// rows, rewired dependencies); the rest stay printed
    #[arg(long)]
    pub apply: bool,
}

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Only this task's transitions
    pub id: Option<String>,
    /// At most this many commits, newest first
    #[arg(long, short = 'n', default_value_t = 1000, value_name = "N")]
    pub limit: usize,
}

pub fn replan(args: &ReplanArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let mut applied = None;
    let (program, decisions) = if args.apply {
        let session = super::transition::session(g)?;
        let program = session.load()?;
        let index = Index::build(&program);
        let decisions = rules::decide(&program, &index);
        let change = rules::apply(&program, &index, &decisions)?;
        let added: Vec<String> = decisions
            .iter()
            .filter_map(|d| d.new_task.as_ref().map(|r| r.id.clone()))
            .collect();
        let written = session.write(&change)?;
        applied = Some((added, written));
        let program = session.load()?;
        let index = Index::build(&program);
        let decisions = rules::decide(&program, &index);
        (program, decisions)
    } else {
        if !matches!(g.format, Format::Human | Format::Json) {
            return Err(Error::usage("`orch replan` prints human or json"));
        }
        let ws = Workspace::find(g)?;
        let program = ws.load()?;
        let index = Index::build(&program);
        let decisions = rules::decide(&program, &index);
        (program, decisions)
    };
    let _ = program;
    if g.format == Format::Json {
        let applied = applied.as_ref().map(|(added, w)| {
            serde_json::json!({
                "added": added,
                "files": w.files,
                "commit": w.commit.as_ref().map(|c| c.id.to_string()),
            })
        });
        let v = serde_json::json!({ "decisions": decisions, "applied": applied });
        print_json(out, &v)?;
        return Ok(Outcome::Clean);
    }
    if let Some((added, w)) = &applied {
        if w.files.is_empty() {
            if !g.quiet {
                writeln!(out, "applied: nothing to write")?;
            }
        } else {
            let commit = w
                .commit
                .as_ref()
                .map(|c| format!(", commit {}", &c.id.to_string()[..10]))
                .unwrap_or_else(|| " (not committed: --no-commit)".into());
            writeln!(out, "applied: added {}{commit}", added.join(", "))?;
            if !g.quiet {
                for f in &w.files {
                    writeln!(out, "  wrote {f}")?;
                }
            }
        }
    }
    if decisions.is_empty() {
        if !g.quiet {
            writeln!(out, "no open decisions")?;
        }
        return Ok(Outcome::Clean);
    }
    for d in &decisions {
        let tag = if d.needs_human {
            "needs you"
        } else {
            "--apply"
        };
        writeln!(
            out,
            "{:<12} {:<14} {} [{tag}]",
            rules::kebab(d.kind),
            d.task,
            d.message.replace('`', "")
        )?;
        if let Some(c) = &d.command {
            writeln!(out, "{:<27} run: {c}", "")?;
        }
    }
    Ok(Outcome::Clean)
}

pub fn log(args: &LogArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if !matches!(g.format, Format::Human | Format::Json) {
        return Err(Error::usage("`orch log` prints human or json"));
    }
    let ws = Workspace::find(g)?;
    let repo = Repo::discover(&ws.dir).map_err(git_error)?.ok_or_else(|| {
        Error::with_help(
            format!("{} is not inside a git repository", ws.dir.display()),
            "`orch log` reads the history from git commits; run it inside a clone",
        )
    })?;
    let commits = repo
        .orch_commits(args.id.as_deref(), args.limit)
        .map_err(git_error)?;
    if let Some(id) = &args.id
        && commits.is_empty()
    {
        let program = ws.load()?;
        let index = Index::build(&program);
        transition::task(&index, id)?;
    }
    if g.format == Format::Json {
        let items: Vec<serde_json::Value> = commits
            .iter()
            .map(|c| {
                let tasks: Vec<&str> = c
                    .trailers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case("Orch-Task"))
                    .map(|(_, v)| v.trim())
                    .collect();
                let trailers: serde_json::Map<String, serde_json::Value> = c
                    .trailers
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::from(v.trim())))
                    .collect();
                serde_json::json!({
                    "id": c.id.to_string(),
                    "time": c.time,
                    "date": crate::util::utc_minute(c.time),
                    "subject": c.subject,
                    "tasks": tasks,
                    "result": c.trailer("Orch-Result").map(str::trim),
                    "reason": c.trailer("Orch-Reason").map(str::trim),
                    "trailers": trailers,
                })
            })
            .collect();
        let v = serde_json::json!({ "commits": items });
        print_json(out, &v)?;
        return Ok(Outcome::Clean);
    }
    if commits.is_empty() {
        if !g.quiet {
            writeln!(out, "no transitions recorded")?;
        }
        return Ok(Outcome::Clean);
    }
    for c in &commits {
        let id = c.id.to_string();
        let mut line = format!(
            "{}  {}  {}",
            &id[..10],
            crate::util::utc_minute(c.time),
            c.subject
        );
        if let Some(r) = c.trailer("Orch-Result") {
            line.push_str(&format!("  [{}]", r.trim()));
        }
        writeln!(out, "{line}")?;
        if let Some(r) = c.trailer("Orch-Reason")
            && !g.quiet
        {
            writeln!(out, "            reason: {}", r.trim())?;
        }
    }
    Ok(Outcome::Clean)
}
