//! `orch integrate` and `orch clean`: bring isolated tasks' branches into
//! the current branch, and remove what isolated runs left.

use std::io::Write;

use serde_json::json;

use crate::config::DurationText;
use crate::error::{Error, Outcome, Result};
use crate::git::Repo;
use crate::isolate::{self, Settings, clean, human_size, integrate};
use crate::report::Format;
use crate::transition::Session;

use super::{Global, Workspace, print_json};

fn duration(text: &str) -> std::result::Result<DurationText, String> {
    DurationText::parse(text)
}

#[derive(Debug, clap::Args)]
pub struct IntegrateArgs {
    /// Task IDs or dispatch run ids (default: every task with a branch)
    #[arg(value_name = "RUN|ID")]
    pub targets: Vec<String>,
    /// Run each card's Tests/checks after its merge, in a scratch worktree, and stop at the first failure
    #[arg(long)]
    pub check: bool,
    /// Integrate partial tasks too (and branches with changes outside their scope)
    #[arg(long)]
    pub include_partial: bool,
    /// Keep the integrated tasks' worktrees and branches
    #[arg(long)]
    pub keep: bool,
    /// Kill a check (its process group) after this long: `90s`, `30m`, `2h`
    #[arg(long, value_name = "D", value_parser = duration)]
    pub timeout: Option<DurationText>,
}

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// Say what would be removed, and remove nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove work not integrated (done tasks awaiting integration, cancelled or abandoned tasks, uncommitted files in a worktree)
    #[arg(long)]
    pub force: bool,
}

fn open(g: &Global) -> Result<(Workspace, Session, Settings)> {
    let ws = Workspace::find(g)?;
    let session = Session::open(&ws.root, &ws.dir, true)?;
    let program = session.load()?;
    if let Some(e) = &program.config_error {
        return Err(Error::with_help(
            format!("config.yaml is invalid: {}", e.message),
            "`orch lint` shows where",
        ));
    }
    let settings = Settings::of(&program.config)?;
    Ok((ws, session, settings))
}

pub fn integrate(args: &IntegrateArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    super::human_or_json(g, "integrate")?;
    if g.no_commit {
        return Err(Error::with_help(
            "orch integrate commits by nature; --no-commit does not apply",
            "drop --no-commit",
        ));
    }
    let (_, session, settings) = open(g)?;
    let options = integrate::Options {
        check: args.check,
        include_partial: args.include_partial,
        keep: args.keep,
        timeout: args.timeout.map(|d| d.0),
    };
    let stop = crate::dispatch::interrupt_flag();
    let report = integrate::integrate(&session, &settings, &args.targets, options, stop)?;
    let outcome = if report.stopped.is_some() {
        Outcome::Findings
    } else {
        Outcome::Clean
    };
    if g.format == Format::Json {
        print_json(
            out,
            &serde_json::to_value(&report).map_err(std::io::Error::other)?,
        )?;
        return Ok(outcome);
    }
    if let Some(r) = &report.resumed {
        writeln!(out, "{r}")?;
    }
    let width = report
        .integrated
        .iter()
        .map(|i| i.task.len())
        .chain(report.skipped.iter().map(|(t, _)| t.len()))
        .max()
        .unwrap_or(0);
    for i in &report.integrated {
        let mut line = format!(
            "integrated {:width$}  {}  {}  {} file(s)",
            i.task,
            &i.commit[..10],
            i.branch,
            i.files
        );
        if i.result != crate::model::Outcome::Pass {
            line.push_str(&format!("  [{}]", i.result));
        }
        if !i.checks.is_empty() {
            let checks: Vec<String> = i
                .checks
                .iter()
                .map(|c| format!("`{}` {}", c.check, c.outcome))
                .collect();
            line.push_str(&format!("  checks: {}", checks.join(", ")));
        }
        writeln!(out, "{line}")?;
    }
    if !g.quiet {
        for (t, why) in &report.skipped {
            writeln!(out, "skipped    {t:width$}  {why}")?;
        }
    }
    if let Some(s) = &report.stopped {
        writeln!(
            out,
            "stopped at {}: check `{}` {} (log {}); not integrated: {}",
            s.task,
            s.check,
            s.outcome,
            s.log,
            s.not_integrated.join(", ")
        )?;
    }
    for n in &report.notes {
        writeln!(out, "note: {n}")?;
    }
    if !report.cleaned.is_empty() && !g.quiet {
        writeln!(
            out,
            "removed the worktree and branch of {}; freed {}",
            report.cleaned.join(", "),
            human_size(report.freed)
        )?;
    }
    match (&report.from, &report.to) {
        (Some(from), Some(to)) if from != to => writeln!(
            out,
            "{}: {} -> {}",
            report.into.as_deref().unwrap_or("HEAD"),
            &from[..10],
            &to[..10]
        )?,
        _ if !g.quiet => writeln!(out, "nothing integrated")?,
        _ => {}
    }
    Ok(outcome)
}

pub fn clean(args: &CleanArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    super::human_or_json(g, "clean")?;
    let (ws, session, settings) = open(g)?;
    let repo = session.repo().ok_or_else(|| {
        Error::with_help(
            "`orch clean` needs a git repository",
            "run it inside the clone the tasks were dispatched in",
        )
    })?;
    let program = session.load()?;
    let runs = crate::dispatch::last_runs(&ws.dir);
    let done = clean::clean(repo, &settings, &program, &runs, args.force, args.dry_run)?;
    let outcome = if done.failed.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    };
    if g.format == Format::Json {
        let v = json!({
            "dry_run": done.dry_run,
            "removed": done.removed,
            "kept": done.kept,
            "freed": done.freed,
            "failed": done.failed.iter().map(|(what, why)| json!({"what": what, "error": why})).collect::<Vec<_>>(),
        });
        print_json(out, &v)?;
        return Ok(outcome);
    }
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let width = done
        .removed
        .iter()
        .chain(&done.kept)
        .map(|l| l.task.as_deref().unwrap_or("-").len())
        .max()
        .unwrap_or(0);
    for l in &done.removed {
        writeln!(out, "{verb} {}", line(l, width))?;
    }
    if !g.quiet {
        for l in &done.kept {
            writeln!(out, "kept {}  {}", line(l, width), l.advice)?;
        }
    }
    for (what, why) in &done.failed {
        writeln!(out, "could not remove {what}: {why}")?;
    }
    if done.removed.is_empty() && done.kept.is_empty() {
        if !g.quiet {
            writeln!(out, "nothing to clean")?;
        }
    } else {
        writeln!(
            out,
            "{} {}",
            if args.dry_run { "would free" } else { "freed" },
            human_size(done.freed)
        )?;
    }
    if !args.force && done.kept.iter().any(|l| l.state.forcible()) && !g.quiet {
        writeln!(
            out,
            "`orch clean --force` also removes work that is not integrated (listed as kept above)"
        )?;
    }
    Ok(outcome)
}

fn line(l: &clean::Leftover, width: usize) -> String {
    let mut s = format!(
        "{:width$}  {:12}",
        l.task.as_deref().unwrap_or("-"),
        serde_json::to_value(l.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    );
    if let Some(b) = &l.branch {
        s.push_str(&format!("  {b}"));
    }
    if let Some(w) = &l.worktree {
        s.push_str(&format!("  {w}"));
    }
    if l.bytes > 0 {
        s.push_str(&format!("  {}", human_size(l.bytes)));
    }
    s
}

/// What `orch status` adds about isolated runs: leftover worktrees and
/// branches, their size, and an integration stopped half-way. `None` when
/// there is nothing to say (or no repository).
pub fn status_section(
    program: &crate::model::Program,
    runs: &std::collections::HashMap<String, crate::dispatch::LastRun>,
) -> Option<(Vec<clean::Leftover>, Option<String>)> {
    let repo = Repo::discover(&program.dir).ok().flatten()?;
    let settings = Settings::of(&program.config).ok()?;
    let interrupted = repo.interrupted_advance().map(|(from, to)| {
        format!(
            "an `orch integrate` was stopped while moving HEAD from {} to {}: run `orch integrate` to finish it",
            isolate::short(from),
            isolate::short(to)
        )
    });
    let leftovers = clean::survey(&repo, &settings, program, runs, true, false).ok()?;
    if leftovers.is_empty() && interrupted.is_none() {
        return None;
    }
    Some((leftovers, interrupted))
}
