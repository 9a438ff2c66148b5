//! `orch dispatch` and `orch harvest`: run the cards' agents side by side,
//! then judge what they did.

use std::io::{IsTerminal, Write};

use serde_json::json;

use crate::agent::shell_quote;
use crate::config::DurationText;
use crate::dispatch::harvest::Verdict;
use crate::dispatch::plan::{self, Planned};
use crate::dispatch::progress::Ui;
use crate::dispatch::{self, GRACE, Settings};
use crate::error::{Error, Outcome, Result};
use crate::model::{Index, Program};
use crate::report::Format;
use crate::transition::Session;

use super::{Global, Workspace, print_json};

fn duration(text: &str) -> std::result::Result<DurationText, String> {
    DurationText::parse(text)
}

#[derive(Debug, clap::Args)]
pub struct DispatchArgs {
    /// Groups (`G2`: the cards with `group: G2`, else `sheets/G2.md`) or task IDs
    #[arg(required = true, value_name = "GROUP|ID")]
    pub targets: Vec<String>,
    /// Agents run at once (default: config `agent.jobs`, else 4)
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Kill an agent (its whole process group) after this long: `90s`, `30m`, `2h`
    #[arg(long, value_name = "D", value_parser = duration)]
    pub timeout: Option<DurationText>,
    /// Kill an agent that prints nothing for this long
    #[arg(long, value_name = "D", value_parser = duration)]
    pub idle_timeout: Option<DurationText>,
    /// Print each agent's argv (shell-quoted) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Record each proposal in the ledger (one transition commit per task)
    #[arg(long)]
    pub record: bool,
    /// Where each agent works: `worktree`, its own branch `orch/<ID>` and
    /// worktree (default: config `agent.isolate`, else worktree); `none`,
    /// the shared work tree
    #[arg(long, value_name = "MODE", value_enum)]
    pub isolate: Option<crate::config::Isolate>,
    /// Where the agents run: `local` (here), or `github` (the workflow
    /// `orch workflow write` wrote, one job per task)
    #[arg(long, value_enum, default_value_t = EngineArg::Local)]
    pub engine: EngineArg,
    /// With `--engine github`: the agent the jobs use
    #[arg(long, value_enum, default_value_t = super::engine::AgentArg::Config)]
    pub agent: super::engine::AgentArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    Local,
    Github,
}

#[derive(Debug, clap::Args)]
pub struct HarvestArgs {
    /// The run id (`20261124T193000Z-G2`) or its report's path (default: the latest run)
    pub run: Option<String>,
    /// Record each proposal not yet recorded
    #[arg(long)]
    pub record: bool,
    /// The run's tasks ran elsewhere (`orch run-task`): put the run file
    /// together from their branches `orch/<ID>` and their facts in
    /// runs/<RUN>/, then judge it
    #[arg(long, requires = "run")]
    pub from_branches: bool,
    /// With --from-branches: fetch the tasks' branches from this remote first
    #[arg(long, value_name = "REMOTE", requires = "from_branches")]
    pub remote: Option<String>,
}

/// Resolve and clear the tasks, or refuse with every reason (exit 2).
pub(super) fn clear(program: &Program, targets: &[String]) -> Result<(Vec<Planned>, String)> {
    refuse_unlinted(program)?;
    let index = Index::build(program);
    let (tasks, label) = plan::resolve(program, &index, targets).map_err(|e| {
        Error::with_help(
            e,
            "name task IDs from the backlog or a group (`orch sheet --write` assigns groups)",
        )
    })?;
    let planned = plan::check(program, &index, &tasks).map_err(|reasons| {
        Error::with_help(
            format!(
                "refusing to dispatch; nothing was started:\n  - {}",
                reasons.join("\n  - ")
            ),
            "`orch next` lists the ready tasks and `orch sheet` groups them without overlap",
        )
    })?;
    Ok((planned, label))
}

pub fn dispatch(args: &DispatchArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    super::human_or_json(g, "dispatch")?;
    let ws = Workspace::find(g)?;
    if args.jobs == Some(0) {
        return Err(Error::usage("--jobs must be at least 1"));
    }
    if args.engine == EngineArg::Github {
        return super::engine::launch_github(args, &ws, g, out);
    }
    if args.dry_run {
        let program = ws.load()?;
        let (planned, label) = clear(&program, &args.targets)?;
        let settings = settings(args, &program);
        let isolation = isolation(args, &program, &ws)?;
        let prepared = dispatch::prepare(
            &ws.root,
            &ws.dir,
            &program,
            planned,
            dispatch::RunId::New(&label),
            settings,
            isolation,
        )?;
        dispatch::check_programs(&prepared)?;
        if g.format == Format::Json {
            let tasks: Vec<_> = prepared
                .jobs
                .iter()
                .zip(&prepared.run.tasks)
                .map(|(j, f)| json!({"task": j.id, "argv": j.argv, "adapter": f.adapter, "log": f.log, "branch": f.branch.as_ref().map(|b| &b.branch), "worktree": f.branch.as_ref().map(|b| &b.worktree)}))
                .collect();
            let v = json!({"dry_run": true, "jobs": settings.jobs, "tasks": tasks});
            print_json(out, &v)?;
        } else {
            for j in &prepared.jobs {
                let argv: Vec<String> = j.argv.iter().map(|a| shell_quote(a)).collect();
                writeln!(out, "{}: {}", j.id, argv.join(" "))?;
            }
        }
        return Ok(Outcome::Clean);
    }

    // Check and mark under the orch lock, then let it go while agents run.
    let session = Session::open(&ws.root, &ws.dir, !g.no_commit)?;
    let program = session.load()?;
    let (planned, label) = clear(&program, &args.targets)?;
    let settings = settings(args, &program);
    let isolation = isolation(args, &program, &ws)?;
    let ids: Vec<String> = planned.iter().map(|p| p.id.clone()).collect();
    if let dispatch::Isolation::Worktree(iso) = &isolation {
        preflight(&ws, iso, &ids)?;
    }
    let isolated = matches!(isolation, dispatch::Isolation::Worktree(_));
    let mut prepared = dispatch::prepare(
        &ws.root,
        &ws.dir,
        &program,
        planned,
        dispatch::RunId::New(&label),
        settings,
        isolation,
    )?;
    dispatch::check_programs(&prepared)?;
    dispatch::begin(&ws.root, &ws.dir, &prepared)?;
    if let Err(e) = dispatch::mark_in_progress(&session, &label, &prepared.run.run, &ids) {
        dispatch::forget(&ws.root, &ws.dir, &prepared);
        return Err(e);
    }
    drop(session);

    let stop = dispatch::interrupt_flag();
    {
        let mut ui = if std::io::stderr().is_terminal() && !g.quiet {
            Ui::bars(ids.len())
        } else if g.format == Format::Human && !g.quiet {
            Ui::Lines(&mut *out)
        } else {
            Ui::Silent
        };
        dispatch::execute(&ws.root, &ws.dir, &mut prepared, &mut ui, stop)?;
    }
    let run = &mut prepared.run;
    let alongside = dispatch::alongside(&program, run);
    let mut verdicts = dispatch::judge(
        &ws.root,
        run,
        &prepared.contexts,
        &alongside,
        &prepared.patterns,
    );
    let records = if args.record {
        let session = Session::open(&ws.root, &ws.dir, !g.no_commit)?;
        dispatch::record(&session, run, &mut verdicts)
    } else {
        Vec::new()
    };
    let report = dispatch::write_report(&ws.root, &ws.dir, run, &verdicts)?;
    let left = uncommitted(&ws, args.record && !isolated);
    print(g, out, run, &verdicts, &records, &report, &left)
}

/// Refuse (exit 2) a program whose config is invalid or that `orch lint`
/// reports errors for: an agent dispatched from it works from a brief orch
/// cannot vouch for.
pub(super) fn refuse_unlinted(program: &Program) -> Result<()> {
    if let Some(e) = program
        .config_error
        .as_ref()
        .or(program.config_problems.first())
    {
        return Err(Error::with_help(
            format!("config.yaml is invalid: {}", e.message),
            "`orch lint` shows where",
        ));
    }
    // An agent dispatched from a program that does not lint works from a
    // brief orch cannot vouch for.
    let errors: Vec<String> = crate::rules::lint(program)
        .iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Error)
        .map(|d| {
            let file = program.file(d.file);
            let (line, col) = file.line_col(d.span.start);
            format!("{}:{line}:{col}: {} [{}]", file.path, d.message, d.code)
        })
        .collect();
    if !errors.is_empty() {
        let shown = errors.len().min(10);
        let more = if errors.len() > shown {
            format!("\n  - and {} more", errors.len() - shown)
        } else {
            String::new()
        };
        return Err(Error::with_help(
            format!(
                "refusing to dispatch: `orch lint` reports {} error(s); nothing was started:\n  - {}{more}",
                errors.len(),
                errors[..shown].join("\n  - ")
            ),
            "fix them (`orch lint` shows each with its help), then dispatch again",
        ));
    }
    Ok(())
}

/// The isolation of this run: `--isolate`, else config `agent.isolate`,
/// else `worktree`, which needs a git repository with a commit (without
/// one, the default falls back to the shared folder; asking for it
/// refuses).
fn isolation(
    args: &DispatchArgs,
    program: &Program,
    ws: &Workspace,
) -> Result<dispatch::Isolation> {
    use crate::config::Isolate;
    let asked = args.isolate.or(program.config.agent.isolate);
    if asked == Some(Isolate::None) {
        return Ok(dispatch::Isolation::Shared);
    }
    let head = crate::git::Repo::discover(&ws.root)
        .ok()
        .flatten()
        .map(|r| r.resolve("HEAD").is_ok());
    match (head, asked) {
        (Some(true), _) => Ok(dispatch::Isolation::Worktree(crate::isolate::Settings::of(
            &program.config,
        )?)),
        (_, None) => Ok(dispatch::Isolation::Shared),
        (found, Some(_)) => Err(Error::with_help(
            if found.is_some() {
                "`--isolate worktree` needs a commit to start each task's branch at: HEAD has none"
            } else {
                "`--isolate worktree` needs a git repository: each task gets a branch and a worktree"
            },
            "make a first commit in a git repository, or dispatch with `--isolate none` (the shared work tree)",
        )),
    }
}

/// Refuse (exit 2, nothing started) when a task's branch or worktree is
/// left from an earlier run.
fn preflight(ws: &Workspace, iso: &crate::isolate::Settings, ids: &[String]) -> Result<()> {
    let Some(repo) = crate::git::Repo::discover(&ws.root).ok().flatten() else {
        return Ok(());
    };
    let problems = crate::isolate::unit::preflight(&repo, iso, ids)?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::with_help(
        format!(
            "refusing to dispatch; nothing was started:\n  - {}",
            problems.join("\n  - ")
        ),
        "bring the earlier work in or remove it (`orch integrate`, `orch clean`), then dispatch again",
    ))
}

/// After `--record`: the work-tree paths left uncommitted (the agents'
/// changes, for review), orch's own working files under `logs/` and
/// `runs/` left out; `None` without `--record` or outside git.
fn uncommitted(ws: &Workspace, record: bool) -> Option<Vec<String>> {
    if !record {
        return None;
    }
    let repo = crate::git::Repo::discover(&ws.root).ok().flatten()?;
    let dir_rel = crate::model::program::display_path(&ws.root, &ws.dir);
    let own = [format!("{dir_rel}/logs/"), format!("{dir_rel}/runs/")];
    let mut paths = repo.dirty_paths().ok()?;
    paths.retain(|p| !own.iter().any(|o| p.starts_with(o.as_str())));
    Some(paths)
}

fn settings(args: &DispatchArgs, program: &Program) -> Settings {
    let agent = &program.config.agent;
    Settings {
        jobs: args
            .jobs
            .or(agent.jobs.map(|j| j as usize))
            .unwrap_or(4)
            .max(1),
        timeout: args.timeout.or(agent.timeout).map(|d| d.0),
        idle: args.idle_timeout.or(agent.idle_timeout).map(|d| d.0),
        grace: GRACE,
    }
}

pub fn harvest(args: &HarvestArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    super::human_or_json(g, "harvest")?;
    let ws = Workspace::find(g)?;
    let program = ws.load()?;
    let mut collected = None;
    if args.from_branches {
        let run = args.run.as_deref().unwrap_or_default();
        if !crate::util::is_valid_id(run) {
            return Err(Error::usage(format!("`{run}` is not a run id")));
        }
        let (_, c) = crate::engine::collect::collect(&program, run, args.remote.as_deref())?;
        collected = Some(c);
    }
    let mut run = dispatch::load_facts(&ws.root, &ws.dir, args.run.as_deref())?;
    if let Some(c) = &collected
        && g.format == Format::Human
        && !g.quiet
    {
        if !c.fetched.is_empty() {
            writeln!(out, "fetched: {}", c.fetched.join(", "))?;
        }
        for n in &c.notes {
            writeln!(out, "note: {n}")?;
        }
    }
    let contexts = dispatch::contexts_now(&program, &run);
    let patterns = dispatch::harvest::patterns(&program.config.agent.evidence)
        .map_err(|e| Error::with_help(e, "fix the pattern in config.yaml"))?;
    let alongside = dispatch::alongside(&program, &run);
    let mut verdicts = dispatch::judge(&ws.root, &run, &contexts, &alongside, &patterns);
    let records = if args.record {
        let session = Session::open(&ws.root, &ws.dir, !g.no_commit)?;
        dispatch::record(&session, &mut run, &mut verdicts)
    } else {
        Vec::new()
    };
    let report = dispatch::write_report(&ws.root, &ws.dir, &run, &verdicts)?;
    let left = uncommitted(&ws, args.record);
    print(g, out, &run, &verdicts, &records, &report, &left)
}

type Records = [(String, std::result::Result<crate::model::Outcome, String>)];

fn print(
    g: &Global,
    out: &mut dyn Write,
    run: &dispatch::harvest::RunFile,
    verdicts: &[Verdict],
    records: &Records,
    report: &str,
    uncommitted: &Option<Vec<String>>,
) -> Result<Outcome> {
    let summary = dispatch::harvest::summary_line(run);
    let usage = dispatch::harvest::total_usage(run);
    let dir_rel = report
        .rsplit_once("/runs/")
        .map_or(".orchestrator", |(d, _)| d);
    let all_pass = !run.interrupted
        && verdicts
            .iter()
            .all(|v| v.proposal == Some(crate::model::Outcome::Pass))
        && records.iter().all(|(_, r)| r.is_ok());
    if g.format == Format::Json {
        let recs: Vec<_> = records
            .iter()
            .map(|(t, r)| match r {
                Ok(o) => json!({"task": t, "recorded": o}),
                Err(e) => json!({"task": t, "error": e}),
            })
            .collect();
        let v = json!({
            "run": run.run,
            "report": report,
            "interrupted": run.interrupted,
            "summary": summary,
            "usage": usage,
            "tasks": verdicts,
            "records": recs,
        });
        let mut v = v;
        if let Some(left) = uncommitted {
            v["uncommitted"] = json!(left);
        }
        print_json(out, &v)?;
    } else {
        // --quiet: only what needs someone (a task that did not pass, a
        // record that failed, an interrupted run, work left uncommitted).
        let quiet = g.quiet;
        let width = verdicts.iter().map(|v| v.task.len()).max().unwrap_or(0);
        for v in verdicts
            .iter()
            .filter(|v| !quiet || v.proposal != Some(crate::model::Outcome::Pass))
        {
            writeln!(
                out,
                "{:width$}  {:8} {}",
                v.task,
                v.proposal.map_or("-", |p| p.as_str()),
                v.reasons.join("; ")
            )?;
        }
        let branches: Vec<&str> = run
            .tasks
            .iter()
            .filter_map(|f| f.branch.as_ref())
            .filter(|b| b.tip.is_some())
            .map(|b| b.branch.as_str())
            .collect();
        if !branches.is_empty() && !quiet {
            writeln!(
                out,
                "branches: {} (`orch integrate` brings the done tasks' work into the current branch)",
                branches.join(", ")
            )?;
        }
        for (t, r) in records {
            match r {
                Ok(_) if quiet => {}
                Ok(o) => writeln!(out, "recorded {t}: {o}")?,
                Err(e) => writeln!(out, "not recorded {t}: {e}")?,
            }
        }
        if run.interrupted {
            writeln!(
                out,
                "interrupted: the agents were stopped; their tasks stay in_progress (see the report)"
            )?;
            for v in verdicts.iter().filter(|v| v.proposal.is_none()) {
                writeln!(
                    out,
                    "  {}: {}",
                    v.task,
                    dispatch::report::by_hand(&v.task, &run.run, dir_rel)
                )?;
            }
        }
        if let Some(u) = usage
            && !quiet
        {
            writeln!(out, "tokens: {}", u.describe())?;
        }
        match uncommitted {
            Some(left) if left.is_empty() && !quiet => writeln!(out, "uncommitted: nothing")?,
            Some(left) if left.is_empty() => {}
            Some(left) => writeln!(out, "uncommitted (left for review): {}", left.join(", "))?,
            None => {}
        }
        if !quiet || !all_pass {
            writeln!(out, "report: {report}")?;
            writeln!(out, "{summary}")?;
        }
    }
    Ok(if all_pass {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
