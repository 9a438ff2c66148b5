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
