//! The state transitions: `orch start`, `record`, `block`, `cancel`,
//! `split`, each one commit (DESIGN 2 and 7). The work is in
//! [`crate::transition`]; this file parses arguments and prints reports.

use std::io::Write;

use clap::ValueEnum;

use crate::error::{Error, Outcome, Result};
use crate::model::{Outcome as Result_, TaskStatus};
use crate::report::Format;
use crate::transition::{self, Report, Session};

use super::{Global, Workspace, print_json};

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// The tasks to start (todo, blocked, failed or partial -> in_progress)
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ResultArg {
    Pass,
    Partial,
    Fail,
}

impl From<ResultArg> for Result_ {
    fn from(r: ResultArg) -> Result_ {
        match r {
            ResultArg::Pass => Result_::Pass,
            ResultArg::Partial => Result_::Partial,
            ResultArg::Fail => Result_::Fail,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The task, in progress
    pub id: String,
    /// The result: pass (-> done), partial (-> partial) or fail (-> failed)
    #[arg(long, value_enum)]
    pub result: ResultArg,
    /// What shows the result (a test summary line, a log path, a diff)
    #[arg(long, value_name = "TEXT")]
    pub evidence: String,
    /// The Next Action cell (default: what the re-planning rules ask)
    #[arg(long, value_name = "TEXT")]
    pub next: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReasonArgs {
    /// The task
    pub id: String,
    /// Why (recorded in the commit's Orch-Reason trailer)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Debug, clap::Args)]
pub struct SplitArgs {
    /// The partial task
    pub id: String,
    /// One child's objective; repeat for each child (<ID>.1, <ID>.2, ...)
    #[arg(long, value_name = "TEXT", required = true, num_args = 1)]
    pub into: Vec<String>,
}

/// The session for a transition: the workspace, the repository, the lock.
pub(super) fn session(g: &Global) -> Result<Session> {
    match g.format {
        Format::Human | Format::Json => {}
        other => {
            return Err(Error::usage(format!(
                "`--format {}` does not apply here: use human or json",
                other
                    .to_possible_value()
                    .map_or("?".into(), |v| v.get_name().to_string())
            )));
        }
    }
    let ws = Workspace::find(g)?;
    Session::open(&ws.root, &ws.dir, !g.no_commit)
}

pub fn start(args: &StartArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let s = session(g)?;
    let reports = transition::start(&s, &args.ids)?;
    print(g, &reports, out)
}

pub fn record(args: &RecordArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let s = session(g)?;
    let rep = transition::record(
        &s,
        &args.id,
        args.result.into(),
        &args.evidence,
        args.next.as_deref(),
    )?;
    print(g, &[rep], out)
}

pub fn block(args: &ReasonArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let s = session(g)?;
    let rep = transition::with_reason(&s, &args.id, TaskStatus::Blocked, &args.reason)?;
    print(g, &[rep], out)
}

pub fn unblock(args: &ReasonArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let s = session(g)?;
    let rep = transition::with_reason(&s, &args.id, TaskStatus::Todo, &args.reason)?;
    print(g, &[rep], out)
}

pub fn cancel(args: &ReasonArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let s = session(g)?;
    let rep = transition::with_reason(&s, &args.id, TaskStatus::Cancelled, &args.reason)?;
    print(g, &[rep], out)
}

pub fn split(args: &SplitArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let s = session(g)?;
    let rep = transition::split(&s, &args.id, &args.into)?;
    print(g, &[rep], out)
}

/// `orch unclaim ID --reason TEXT`: release the task's claim, here and at
/// the claims remote; exit 2 when there is none.
pub fn unclaim(args: &ReasonArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if args.reason.trim().is_empty() {
        return Err(Error::usage("--reason is empty: say why"));
    }
    let s = session(g)?;
    let program = s.load()?;
    let repo = s.repo().ok_or_else(|| {
        Error::with_help(
            "claims are git refs: releasing one needs a git repository",
            "run it inside the clone that holds the claim",
        )
    })?;
    let remote = crate::claims::remote(&program.config)?;
    crate::git::claim_ref(&args.id).map_err(transition::git_error)?;
    let before = crate::claims::get(repo, &args.id)?;
    let released = crate::claims::release(repo, &args.id, &args.reason, remote.as_deref())?;
    let id = crate::util::escape_controls(&args.id).into_owned();
    if !released {
        return Err(Error::with_help(
            format!(
                "`{id}` has no claim here{}",
                remote
                    .as_deref()
                    .map_or(String::new(), |r| format!(" nor at remote `{r}`"))
            ),
            "`orch status` lists the claims this clone knows",
        ));
    }
    let reason = crate::util::one_line(&args.reason);
    if g.format == Format::Json {
        let v = serde_json::json!({
            "task": id,
            "released": true,
            "claim": before.as_ref().map(crate::claims::Claim::json),
            "remote": remote,
            "reason": reason,
        });
        print_json(out, &v)?;
        return Ok(Outcome::Clean);
    }
    match &before {
        Some(c) => writeln!(out, "{id}: claim released (held by {})", c.shown())?,
        None => writeln!(
            out,
            "{id}: claim released at remote `{}`",
            remote.as_deref().unwrap_or("")
        )?,
    }
    if !g.quiet {
        writeln!(out, "  reason: {}", crate::util::escape_controls(&reason))?;
    }
    Ok(Outcome::Clean)
}

fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}

fn print(g: &Global, reports: &[Report], out: &mut dyn Write) -> Result<Outcome> {
    if g.format == Format::Json {
        print_json(out, &crate::query::transitions(reports))?;
        return Ok(Outcome::Clean);
    }
    for r in reports {
        writeln!(out, "{}: {} -> {}", r.task, r.from, r.to)?;
        if g.quiet {
            continue;
        }
        match &r.commit {
            Some(id) => writeln!(
                out,
                "  committed {}{}",
                short(id),
                r.branch
                    .as_deref()
                    .map_or(" (detached HEAD)".to_string(), |b| format!(" on {b}"))
            )?,
            None if r.files.is_empty() => {}
            None => writeln!(out, "  not committed (--no-commit)")?,
        }
        for f in &r.files {
            writeln!(out, "  wrote {f}")?;
        }
        if r.unsigned {
            writeln!(
                out,
                "  note: commit.gpgsign is set, but orch commits are not signed (and hooks do not run)"
            )?;
        }
        for a in &r.asks {
            writeln!(out, "  next: {a}")?;
        }
    }
    Ok(Outcome::Clean)
}
