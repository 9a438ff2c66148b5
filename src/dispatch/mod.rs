//! Dispatch and harvest (DESIGN 8): run the cards' agents side by side on
//! non-overlapping scopes, then judge what they did.
//!
//! [`plan`] resolves and clears the tasks (ready, carded, no overlap);
//! [`prepare`] builds one [`unit`] per task (its argv from
//! [`crate::agent`], its log, its working folder) and the run's files;
//! [`mark_in_progress`] moves them to `in_progress` in one commit through
//! [`crate::transition`]; [`execute`] runs the units ([`process`]: process
//! groups, timeouts, budgets, logs through a fixed buffer) while
//! [`progress`] shows what each agent is doing. Each agent's stdout goes
//! through its adapter ([`adapters`]: codex, claude, gemini, generic) into
//! the one event model of [`event`], read in bounded memory by [`stream`];
//! the folder's HEAD and dirty paths are recorded around each agent
//! ([`unit::Watcher`], [`snapshot`]). [`harvest`] judges each task (with
//! the agent's [`completion`] report beside orch's verdict) and [`report`]
//! writes the run report; [`record`] records the proposals through the
//! transition code.

pub mod adapters;
pub mod completion;
pub mod event;
pub mod harvest;
pub mod plan;
pub mod process;
pub mod progress;
pub mod report;
pub mod snapshot;
pub mod stream;
pub mod time;
pub mod unit;

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use regex_automata::meta;

use crate::config::DurationText;
use crate::error::{Error, Result};
use crate::fsx;
use crate::model::program::display_path;
use crate::model::{Index, Outcome, Program, TaskStatus};
use crate::transition::{self, Draft, Session};

use adapters::Kind;
use harvest::{RunFile, State, TaskContext, Verdict};
use plan::Planned;
use process::{Event, Job, Limits};
use progress::Ui;

/// Largest run file read (`runs/<run>.json`); orch's own are far smaller.
pub const MAX_RUN_FILE: u64 = 32 << 20;

/// Grace between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(3);

/// How a run is limited.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub jobs: usize,
    pub timeout: Option<Duration>,
    pub idle: Option<Duration>,
    pub grace: Duration,
}

/// Where a run's agents work.
#[derive(Clone, Debug)]
pub enum Isolation {
    /// Every agent in the shared work tree (`--isolate none`).
    Shared,
    /// A branch and a linked worktree per task (`--isolate worktree`).
    Worktree(crate::isolate::Settings),
}

/// A run ready to start: its facts so far, one job per task, and what
/// harvest needs.
pub struct Prepared {
    /// The work tree's top.
    pub root: PathBuf,
    pub isolation: Isolation,
    /// Each task's dependencies (a split one stands for its children), in
    /// backlog order: an isolated task's base holds their branches' work.
    pub deps: Vec<Vec<String>>,
    pub run: RunFile,
    pub jobs: Vec<Job>,
    pub contexts: Vec<TaskContext>,
    pub patterns: Vec<meta::Regex>,
    pub settings: Settings,
    /// The orchestrator folder, relative to the work tree (`.orchestrator`).
    pub dir_rel: String,
    /// The completion report's schema: where it goes, and its text.
    pub schema_rel: String,
    pub schema_json: String,
    /// The commit an isolated task's base is decided from (default: HEAD
    /// once the tasks are marked): `orch run-task --base`.
    pub base: Option<crate::git::Oid>,
    /// One task of a run spread over machines (`orch run-task`): its facts
    /// go to `runs/<RUN>/<ID>.json`, not `runs/<RUN>.json`.
    pub part: Option<String>,
}

/// A run's id: a new one from the time and a label (the group's name, the
/// single task's ID, or `tasks`), or one given (`orch run-task --run`).
#[derive(Clone, Copy, Debug)]
pub enum RunId<'a> {
    New(&'a str),
    Given(&'a str),
}

/// The adapter for a command: the configured one, else the one named like
/// the program (`codex`, `claude`, `gemini`), else generic.
pub fn adapter(configured: Option<Kind>, argv0: &str) -> Kind {
    configured.unwrap_or_else(|| Kind::for_program(argv0))
}

/// Build the run: its id (`20261124T193000Z-G2`) and one unit per task
/// (argv, log, last-message file), all in the work tree. Nothing is
/// written. An argv that cannot be built (an unknown skill, a value that
/// reads as an option) refuses the whole run.
pub fn prepare(
    root: &Path,
    dir: &Path,
    program: &Program,
    planned: Vec<Planned>,
    run_id: RunId<'_>,
    settings: Settings,
    isolation: Isolation,
) -> Result<Prepared> {
    let config = &program.config.agent;
    let repo = match isolation {
        Isolation::Shared => None,
        Isolation::Worktree(_) => Some(crate::git::Repo::discover(root)?.ok_or_else(|| {
            Error::with_help(
                "`--isolate worktree` needs a git repository: each task gets a branch and a worktree",
                "run inside a git clone, or dispatch with `--isolate none` (the shared work tree)",
            )
        })?),
    };
    let index = Index::build(program);
    let command = config.command();
    let patterns = harvest::patterns(&config.evidence)
        .map_err(|e| Error::with_help(e, "fix the pattern in config.yaml"))?;
    // Logs and runs go only into real folders: refuse a link before any
    // task is marked (execute makes the missing ones).
    for sub in ["logs", "runs"] {
        fsx::check_dir(fsx::base_for(root, dir), &dir.join(sub))?;
    }
    if let Some(b) = config.budget
        && b.usd.is_some_and(|u| !(u.is_finite() && u > 0.0))
    {
        return Err(Error::with_help(
            "config agent.budget.usd is not a positive amount",
            "write it in US dollars, e.g. `usd: 2.5`",
        ));
    }
    let kind = adapter(config.adapter, command.first().map_or("", String::as_str));
    let dir_rel = display_path(root, dir);
    let now = SystemTime::now();
    let run_id = match run_id {
        RunId::Given(id) => id.to_string(),
        RunId::New(label) => {
            let mut id = format!("{}-{label}", time::compact(now));
            let mut n = 2;
            while dir.join("runs").join(format!("{id}.json")).exists() {
                id = format!("{}-{label}-{n}", time::compact(now));
                n += 1;
            }
            id
        }
    };
    let ids: Vec<&str> = planned.iter().map(|p| p.id.as_str()).collect();
    let schema_json = completion::schema_text(&ids);
    let schema_rel = format!("{dir_rel}/runs/{run_id}/completion.schema.json");
    let paths = unit::RunPaths {
        root,
        dir_rel: &dir_rel,
        run: &run_id,
        schema_rel: &schema_rel,
        schema_json: &schema_json,
    };
    let mut jobs = Vec::new();
    let mut facts = Vec::new();
    let mut contexts = Vec::new();
    let mut refusals = Vec::new();
    let mut deps = Vec::new();
    for p in planned {
        let id = p.id.clone();
        let folder = match (&isolation, &repo) {
            (Isolation::Worktree(_), Some(repo)) => crate::isolate::worktree_path(repo, &id),
            _ => root.to_path_buf(),
        };
        match unit::build(&program.config, kind, &paths, &folder, p) {
            Ok(mut u) => {
                if let Isolation::Worktree(iso) = &isolation {
                    u.facts.folder = String::new();
                    u.facts.branch = Some(harvest::BranchFacts {
                        branch: iso.branch(&id),
                        worktree: display_path(root, &folder),
                        ..Default::default()
                    });
                }
                deps.push(
                    index
                        .task(&id)
                        .map(|t| crate::isolate::unit::dep_ids(&index, t))
                        .unwrap_or_default(),
                );
                jobs.push(u.job);
                facts.push(u.facts);
                contexts.push(u.context);
            }
            Err(e) => refusals.push(e),
        }
    }
    if !refusals.is_empty() {
        return Err(Error::with_help(
            format!(
                "refusing to dispatch; nothing was started:\n  - {}",
                refusals.join("\n  - ")
            ),
            "fix the card or config.yaml (`orch lint` shows where)",
        ));
    }
    Ok(Prepared {
        root: root.to_path_buf(),
        isolation,
        deps,
        run: RunFile {
            run: run_id,
            started: time::rfc3339(now),
            ended: None,
            jobs: settings.jobs,
            timeout: settings.timeout.map(|d| DurationText(d).to_string()),
            idle_timeout: settings.idle.map(|d| DurationText(d).to_string()),
            interrupted: false,
            tasks: facts,
        },
        jobs,
        contexts,
        patterns,
        settings,
        dir_rel,
        schema_rel,
        schema_json,
        base: None,
        part: None,
    })
}

/// Every agent program resolves (on PATH, or as a path from its folder) to
/// an executable file; otherwise the reasons, one per task.
pub fn check_programs(p: &Prepared) -> Result<()> {
    let problems: Vec<String> = p
        .jobs
        .iter()
        .filter_map(|j| {
            let program = j.argv.first().map_or("", String::as_str);
            // A task's worktree is made when the run starts: a relative
            // program is looked for where the worktree checks it out.
            let folder = if j.cwd.exists() { &j.cwd } else { &p.root };
            unit::resolve_program(program, folder)
                .err()
                .map(|e| format!("`{}`: {e}", j.id))
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::with_help(
        format!(
            "refusing to dispatch: an agent program cannot run; nothing was started:\n  - {}",
            problems.join("\n  - ")
        ),
        "install the agent, or set `agent.command` (or `agent.preset`) in config.yaml",
    ))
}

/// Move every task of the run to `in_progress` in one commit (under the
/// orch lock the session holds), claiming them first
/// ([`Session::claim`]: all or nothing). Every task is checked before
/// anything is written.
pub fn mark_in_progress(session: &Session, label: &str, run: &str, ids: &[String]) -> Result<()> {
    let program = session.load()?;
    let index = Index::build(&program);
    let mut draft = Draft::default();
    // `todo`, or `failed` for a retry whose root cause passed.
    let mut from: Vec<&str> = Vec::new();
    for id in ids {
        let t = transition::task(&index, id)?;
        transition::check_ticket(t)?;
        transition::check_move(t, TaskStatus::InProgress)?;
        transition::set_status(&mut draft, &program, t, TaskStatus::InProgress)?;
        if !from.contains(&t.status.as_str()) {
            from.push(t.status.as_str());
        }
    }
    let mut change = draft.into_change(
        &program,
        format!("orch({label}): {} -> in_progress", from.join(", ")),
    )?;
    change
        .body
        .push(format!("orch dispatch run {run}: {}", ids.join(", ")));
    for id in ids {
        change.trailers.push(("Orch-Task".into(), id.clone()));
    }
    change.trailers.push(("Orch-Run".into(), run.to_string()));
    // Claimed before the commit, let go again if it fails.
    session.claim(&program, ids, Some(run))?;
    if let Err(e) = session.write(&change) {
        let left = session.not_in_progress(ids);
        session.unclaim(&program, &left, "the move to in_progress did not commit");
        return Err(e);
    }
    Ok(())
}

/// The flag Ctrl-C sets, and SIGTERM and SIGHUP (a CI job cancelled, a
/// terminal closed): the handler is installed on first use.
pub fn interrupt_flag() -> &'static AtomicBool {
    static STOP: AtomicBool = AtomicBool::new(false);
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Without a handler (one was installed elsewhere) a signal ends orch
        // and the agents, in their own process groups, run on: say so.
        if ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst)).is_err() {
            eprintln!(
                "warning: cannot catch Ctrl-C or SIGTERM; interrupting orch will not stop the agents"
            );
        }
    });
    &STOP
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Where one task's facts go when its run is spread over machines
/// (`orch run-task`): `runs/<RUN>/<ID>.json`.
pub fn part_path(dir: &Path, run: &str, task: &str) -> PathBuf {
    dir.join("runs").join(run).join(format!("{task}.json"))
}

fn run_paths(dir: &Path, run: &str) -> (PathBuf, PathBuf) {
    let runs = dir.join("runs");
    (
        runs.join(format!("{run}.json")),
        runs.join(format!("{run}.md")),
    )
}

/// Save the run's facts (never through a link: see [`crate::fsx`]).
pub fn save_facts(root: &Path, dir: &Path, run: &RunFile) -> Result<()> {
    let (json, _) = run_paths(dir, &run.run);
    save_facts_at(root, dir, &json, run)
}

fn save_facts_at(root: &Path, dir: &Path, json: &Path, run: &RunFile) -> Result<()> {
    let text = serde_json::to_string_pretty(run).map_err(std::io::Error::other)?;
    fsx::write_inside(fsx::base_for(root, dir), json, text.as_bytes(), true)
}

/// A run file read from disk (a regular file under real folders, at most
/// [`MAX_RUN_FILE`] bytes), checked against what orch writes (see
/// [`harvest::check_run`]; `dir_rel` checks its paths too); why not,
/// worded to follow its path.
pub(crate) fn read_run(
    dir: &Path,
    path: &Path,
    id: &str,
    dir_rel: Option<&str>,
) -> std::result::Result<RunFile, String> {
    let bytes = fsx::read_inside(dir, path, MAX_RUN_FILE).map_err(|e| e.to_string())?;
    let run: RunFile =
        serde_json::from_slice(&bytes).map_err(|e| format!("is not a run orch wrote: {e}"))?;
    harvest::check_run(&run, id, dir_rel)?;
    Ok(run)
}

/// Where a task's latest dispatch run left it, for `orch status`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// The run never wrote its end: orch was killed, or is still running.
    Unended,
    /// Ctrl-C or SIGTERM stopped the run before the task's agent ended.
    Interrupted,
    /// The agent ended; no result is recorded yet.
    Unrecorded,
    /// A result was recorded from this run.
    Recorded,
}

/// A task's latest dispatch run: its id and where it left the task.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LastRun {
    pub run: String,
    pub state: RunState,
    /// The run report, relative to the work tree.
    pub report: String,
    /// What the agent stopped to ask a person, when it did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waiting_on_person: Vec<String>,
    /// Tokens and cost, when its stream reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<event::Usage>,
}

impl LastRun {
    /// What to do next about `task`, still in progress, as a complete
    /// command; `None` when the run has nothing to add. An agent that did
    /// not end has no result to record (DESIGN 8): a person records one, or
    /// sets the task aside.
    pub fn advice(&self, task: &str) -> Option<String> {
        let run = &self.run;
        let dir_rel = self
            .report
            .rsplit_once("/runs/")
            .map_or(".orchestrator", |(d, _)| d);
        let by_hand = format!(
            "record a result by hand: {}",
            report::by_hand(task, run, dir_rel)
        );
        let waiting = self
            .waiting_on_person
            .first()
            .map(|q| {
                format!(
                    "waiting on a person ({}); ",
                    crate::util::clip_chars(q, 120)
                )
            })
            .unwrap_or_default();
        match self.state {
            RunState::Unended => Some(format!(
                "{waiting}dispatch run {run} never ended (orch was stopped, or still runs): once its agent is gone, {by_hand}"
            )),
            RunState::Interrupted => Some(format!(
                "{waiting}interrupted in dispatch run {run}: {by_hand}"
            )),
            RunState::Unrecorded => Some(format!(
                "{waiting}agent ended in dispatch run {run}: `orch harvest {run} --record` records it"
            )),
            RunState::Recorded => None,
        }
    }
}

/// Each task's latest dispatch run (by start time, then run id), from the
/// run files under `dir/runs/`. A run file that cannot be read is skipped:
/// this only adds notes to `orch status`, which must not fail on it.
pub fn last_runs(dir: &Path) -> std::collections::HashMap<String, LastRun> {
    let mut runs: Vec<RunFile> = run_files(&dir.join("runs"))
        .into_iter()
        .filter_map(|(id, p)| read_run(dir, &p, &id, None).ok())
        .collect();
    runs.sort_by(|a, b| (&a.started, &a.run).cmp(&(&b.started, &b.run)));
    let dir_name = dir
        .file_name()
        .map_or(".orchestrator".into(), |n| n.to_string_lossy().into_owned());
    let mut last = std::collections::HashMap::new();
    for run in &runs {
        for facts in &run.tasks {
            let state = if facts.recorded.is_some() {
                RunState::Recorded
            } else if facts.state == harvest::State::Finished
                && facts.killed != Some(process::Kill::Interrupted)
            {
                RunState::Unrecorded
            } else if run.interrupted {
                RunState::Interrupted
            } else if run.ended.is_none() {
                RunState::Unended
            } else {
                // Ended, not interrupted, the task not finished: it never
                // started (a spawn error is a finished task).
                RunState::Interrupted
            };
            let mut waiting = facts
                .events
                .as_ref()
                .map(|e| e.needs_input.clone())
                .unwrap_or_default();
            if let Some(w) = &facts.waiting
                && !waiting.contains(w)
            {
                waiting.push(w.clone());
            }
            last.insert(
                facts.task.clone(),
                LastRun {
                    run: run.run.clone(),
                    state,
                    report: format!("{dir_name}/runs/{}.md", run.run),
                    waiting_on_person: waiting,
                    usage: facts.usage(),
                },
            );
        }
    }
    last
}

/// The run files (`<RUN>.json`, a valid run id) in `runs` with their ids,
/// sorted by name (run ids start with their UTC start time); none when the
/// folder cannot be read or is not a real folder.
pub fn run_files(runs: &Path) -> Vec<(String, PathBuf)> {
    if !std::fs::symlink_metadata(runs).is_ok_and(|m| m.is_dir()) {
        return Vec::new();
    }
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(runs)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter_map(|p| {
                    let id = p.file_name()?.to_str()?.strip_suffix(".json")?;
                    crate::util::is_valid_id(id).then(|| (id.to_string(), p.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Read a run's facts: `RUN` is a run id or a path to its `.json` or `.md`;
/// none means the latest run. The file is input, not truth: it must be a
/// regular file under `runs/` (no link followed), named for a valid run
/// id, with its `run` field naming that id and every path in it where
/// orch puts logs and last messages; else it is refused (exit 2).
pub fn load_facts(root: &Path, dir: &Path, run: Option<&str>) -> Result<RunFile> {
    let runs = dir.join("runs");
    let (id, path) = match run {
        Some(r) => {
            let name = Path::new(r)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| r.to_string());
            let id = name
                .strip_suffix(".json")
                .or_else(|| name.strip_suffix(".md"))
                .unwrap_or(&name);
            if !crate::util::is_valid_id(id) {
                return Err(Error::with_help(
                    format!("`{r}` does not name a dispatch run"),
                    format!(
                        "name a run by its id (`20261124T193000Z-G2`): the .json files in {}",
                        runs.display()
                    ),
                ));
            }
            (id.to_string(), runs.join(format!("{id}.json")))
        }
        None => run_files(&runs).pop().ok_or_else(|| {
            Error::with_help(
                format!("no dispatch run in {}", runs.display()),
                "run `orch dispatch <GROUP>` first",
            )
        })?,
    };
    let dir_rel = display_path(root, dir);
    read_run(dir, &path, &id, Some(&dir_rel)).map_err(|why| {
        if std::fs::symlink_metadata(&path).is_err() {
            Error::with_help(
                format!("no run {}", path.display()),
                format!("the runs are the .json files in {}", runs.display()),
            )
        } else {
            Error::with_help(
                format!("{} {why}", path.display()),
                "orch reads only the run files it wrote; remove this one (dispatch writes a new run each time)",
            )
        }
    })
}

/// Run the units, showing progress, and fill in the run's facts.
///
/// Shared work tree: each folder the agents work in is recorded (HEAD and
/// dirty paths) before the first agent starts and after each one ends; an
/// agent's changes are those between the last record before it started
/// and the one after it ended.
///
/// Isolated: before the agents, each task gets its branch at its base and
/// its worktree ([`crate::isolate::unit::enter`]), then the setup command
/// runs in each; when an agent ends, orch seals what it left onto its
/// branch ([`crate::isolate::unit::leave`]) and its changes are exactly
/// base..tip. A task whose worktree or setup fails is finished as one that
/// could not start; the others run.
pub fn execute(
    root: &Path,
    dir: &Path,
    p: &mut Prepared,
    ui: &mut Ui<'_>,
    stop: &AtomicBool,
) -> Result<()> {
    begin(root, dir, p)?;
    let facts_at = p.facts_path(dir);
    let save = |run: &RunFile| save_facts_at(root, dir, &facts_at, run);
    let repo = crate::git::Repo::discover(root).ok().flatten();
    let head = p
        .base
        .or_else(|| repo.as_ref().and_then(|r| r.resolve("HEAD").ok()));
    let n = p.jobs.len();
    let mut runnable = vec![true; n];
    let mut entered: Vec<Option<crate::isolate::unit::Isolated>> = vec![None; n];
    let isolation = p.isolation.clone();
    match (&isolation, &repo) {
        (Isolation::Worktree(settings), Some(repo)) => {
            let head = head.ok_or_else(|| {
                Error::with_help(
                    "HEAD has no commit: a task's branch starts at one",
                    "make a first commit, or dispatch with `--isolate none`",
                )
            })?;
            for i in 0..n {
                let id = p.jobs[i].id.clone();
                let made = crate::isolate::unit::base_for(repo, settings, &id, &p.deps[i], head)
                    .and_then(|(base, merged)| {
                        crate::isolate::unit::enter(
                            repo, settings, root, &id, base, &p.run.run, stop,
                        )
                        .map(|iso| (iso, merged))
                    });
                let f = &mut p.run.tasks[i];
                match made {
                    Ok((iso, merged)) => {
                        p.jobs[i]
                            .env
                            .push(("ORCH_BASE".into(), iso.base.to_string()));
                        if let Some(b) = &mut f.branch {
                            b.base = Some(iso.base.to_string());
                            b.merged = merged;
                            b.notes.extend(iso.notes.iter().cloned());
                        }
                        entered[i] = Some(iso);
                    }
                    Err(e) => {
                        f.state = State::Finished;
                        f.spawn_error =
                            Some(format!("its branch and worktree could not be made: {e}"));
                        runnable[i] = false;
                    }
                }
            }
            setup(root, p, settings, &entered, &mut runnable, stop);
            save(&p.run)?;
        }
        (Isolation::Worktree(_), None) => {
            return Err(Error::with_help(
                "`--isolate worktree` needs a git repository",
                "dispatch with `--isolate none` (the shared work tree)",
            ));
        }
        (Isolation::Shared, _) => {
            if let Some(h) = head {
                for j in &mut p.jobs {
                    j.env.push(("ORCH_BASE".into(), h.to_string()));
                }
            }
        }
    }
    let isolated = matches!(p.isolation, Isolation::Worktree(_));
    let skip = vec![
        format!("{}/logs/", p.dir_rel),
        format!("{}/runs/", p.dir_rel),
    ];
    // The jobs that run, and one watcher per shared folder they work in.
    let order: Vec<usize> = (0..n).filter(|&i| runnable[i]).collect();
    let jobs: Vec<Job> = order.iter().map(|&i| p.jobs[i].clone()).collect();
    let mut watchers: Vec<(PathBuf, unit::Watcher)> = Vec::new();
    let mut watcher_of: Vec<Option<usize>> = Vec::new();
    for j in &jobs {
        if isolated {
            watcher_of.push(None);
            continue;
        }
        let at = match watchers.iter().position(|(f, _)| *f == j.cwd) {
            Some(at) => at,
            None => {
                watchers.push((j.cwd.clone(), unit::Watcher::new(&j.cwd, skip.clone())));
                watchers.len() - 1
            }
        };
        watcher_of.push(Some(at));
    }
    let mut marks: Vec<usize> = vec![0; jobs.len()];
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    let limits = Limits {
        jobs: p.settings.jobs,
        timeout: p.settings.timeout,
        idle: p.settings.idle,
        grace: p.settings.grace,
    };
    let header = p.run_header();
    let run_id = p.run.run.clone();
    let facts = &mut p.run.tasks;
    let settings = match &p.isolation {
        Isolation::Worktree(s) => Some(s),
        Isolation::Shared => None,
    };
    let ends = process::run(&jobs, limits, stop, &mut |event| {
        match &event {
            Event::Started { job, .. } => {
                if let Some(w) = watcher_of[*job] {
                    marks[*job] = watchers[w].1.mark();
                }
                facts[order[*job]].state = State::Running;
                // Said at once in the run file, so that another `orch
                // dispatch` sees this agent running ([`alongside`]).
                facts[order[*job]].started_ms = Some(millis(SystemTime::now()));
                let _ = save(&RunFile {
                    tasks: facts.clone(),
                    ..header.clone()
                });
            }
            Event::Activity { job, what } => {
                // A person is needed: say so in the run file at once, for
                // `orch status`.
                if let Some(q) = what.strip_prefix(event::WAITING) {
                    facts[order[*job]].waiting = Some(q.to_string());
                    let _ = save(&RunFile {
                        tasks: facts.clone(),
                        ..header.clone()
                    });
                }
            }
            Event::Finished { job, end } => {
                let i = order[*job];
                let f = &mut facts[i];
                f.state = State::Finished;
                f.started = Some(time::rfc3339(end.started));
                f.ended = Some(time::rfc3339(end.ended));
                f.started_ms = Some(millis(end.started));
                f.ended_ms = Some(millis(end.ended));
                f.duration_ms = Some(end.duration.as_millis() as u64);
                f.exit_code = end.code;
                f.signal = end.signal;
                f.killed = end.killed;
                f.over_budget = end.over_budget.clone();
                f.spawn_error = end.spawn_error.clone();
                f.log_error = end.log_error.clone();
                f.log_bytes = end.bytes;
                f.lingering = end.lingering;
                f.pipes_abandoned = end.pipes_abandoned;
                f.events = end.events.clone().map(|mut e| {
                    // Paths in run files are repository-relative.
                    for path in &mut e.paths {
                        *path = harvest::normalize(path, &jobs[*job].cwd);
                    }
                    e
                });
                if let Some(w) = watcher_of[*job]
                    && let Some(seen) = watchers[w].1.since(marks[*job])
                {
                    f.changed = Some(seen.worktree);
                    f.committed = seen.committed;
                    if seen.head_before != seen.head_after {
                        f.head_before = seen.head_before;
                        f.head_after = seen.head_after;
                    }
                }
                if let (Some(settings), Some(repo), Some(iso)) = (settings, &repo, &entered[i]) {
                    seal(repo, settings, iso, &run_id, f);
                }
                // The seal is the record: say so in the run file at once.
                let _ = save(&RunFile {
                    tasks: facts.clone(),
                    ..header.clone()
                });
            }
            _ => {}
        }
        ui.event(&ids, &event);
    });
    for (k, end) in ends.iter().enumerate() {
        let f = &mut p.run.tasks[order[k]];
        if end.is_none() && f.state != State::Finished {
            f.state = State::NotStarted;
        }
    }
    p.run.interrupted = stop.load(Ordering::SeqCst);
    p.run.ended = Some(time::rfc3339(SystemTime::now()));
    save(&p.run)
}

/// Run the configured setup command in each task's worktree (as many at
/// once as agents), its output to `logs/<ID>.setup.log`; a task whose setup
/// fails does not run.
fn setup(
    root: &Path,
    p: &mut Prepared,
    settings: &crate::isolate::Settings,
    entered: &[Option<crate::isolate::unit::Isolated>],
    runnable: &mut [bool],
    stop: &AtomicBool,
) {
    if settings.setup.is_empty() {
        return;
    }
    let order: Vec<usize> = (0..p.jobs.len())
        .filter(|&i| runnable[i] && entered[i].is_some())
        .collect();
    let logs: Vec<String> = order
        .iter()
        .map(|&i| format!("{}/logs/{}.setup.log", p.dir_rel, p.jobs[i].id))
        .collect();
    let jobs: Vec<Job> = order
        .iter()
        .zip(&logs)
        .map(|(&i, log)| Job {
            id: p.jobs[i].id.clone(),
            argv: settings.setup.clone(),
            cwd: p.jobs[i].cwd.clone(),
            env: p.jobs[i].env.clone(),
            log: root.join(log),
            adapter: None,
            budget: None,
        })
        .collect();
    let limits = Limits {
        jobs: p.settings.jobs,
        timeout: Some(settings.setup_timeout),
        idle: None,
        grace: p.settings.grace,
    };
    let ends = process::run(&jobs, limits, stop, &mut |_| {});
    for ((&i, log), end) in order.iter().zip(&logs).zip(ends) {
        let ran = crate::isolate::env::Ran::of(end.as_ref());
        if ran.ok() {
            continue;
        }
        let f = &mut p.run.tasks[i];
        f.state = State::Finished;
        f.spawn_error = Some(format!(
            "its setup command failed ({}; log `{log}`)",
            ran.describe()
        ));
        runnable[i] = false;
    }
}

/// Seal what an isolated task's agent left onto its branch and record its
/// exact changes, base..tip, in its facts.
fn seal(
    repo: &crate::git::Repo,
    settings: &crate::isolate::Settings,
    iso: &crate::isolate::unit::Isolated,
    run: &str,
    f: &mut harvest::TaskFacts,
) {
    let left = crate::isolate::unit::leave(repo, settings, iso, run);
    let Some(b) = &mut f.branch else { return };
    match left {
        Ok(left) => {
            b.tip = Some(left.tip.to_string());
            b.changed = crate::isolate::unit::changed_paths(&left.changes);
            b.sealed = left.committed;
            b.agent_commits = left.agent_commits;
            b.notes.extend(left.notes);
            f.changed = Some(b.changed.clone());
            f.committed = left.agent_paths;
            if let Some(h) = left.agent_head
                && h != iso.base
            {
                f.head_before = Some(iso.base.to_string());
                f.head_after = Some(h.to_string());
            }
        }
        Err(e) => {
            b.error = Some(format!(
                "what it left in its worktree could not be committed to `{}`: {e}",
                b.branch
            ));
        }
    }
}

impl Prepared {
    /// Where this run's facts go (see [`part_path`]).
    pub fn facts_path(&self, dir: &Path) -> PathBuf {
        match &self.part {
            Some(task) => part_path(dir, &self.run.run, task),
            None => run_paths(dir, &self.run.run).0,
        }
    }

    /// The run file without its tasks.
    fn run_header(&self) -> RunFile {
        RunFile {
            tasks: Vec::new(),
            ..self.run.clone()
        }
    }
}

/// Most run files before a run, and after it, looked at for tasks that ran
/// at the same time as its own ([`alongside`]).
const ALONGSIDE_RUNS: usize = 8;

/// The tasks of other dispatch runs in this work tree that ran, or still
/// run, at the same time as a task of `run` in the same folder: another
/// `orch dispatch` started meanwhile (its agents change the tree, its
/// transitions commit). The nearest [`ALONGSIDE_RUNS`] run files on each
/// side of `run` (by name: run ids start with their start time) are read;
/// one that cannot be read is skipped. A task of a run that never wrote
/// its end counts as still running.
pub fn alongside(program: &Program, run: &RunFile) -> Vec<harvest::Alongside> {
    let (root, dir) = (&program.root, &program.dir);
    let span = run
        .tasks
        .iter()
        .filter_map(|t| Some((t.started_ms?, t.ended_ms?)))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let Some((start, end)) = span else {
        return Vec::new();
    };
    let files = run_files(&dir.join("runs"));
    let at = files.partition_point(|(id, _)| id.as_str() < run.run.as_str());
    let before = files[..at].iter().rev().take(ALONGSIDE_RUNS);
    let after = files[at..]
        .iter()
        .filter(|(id, _)| *id != run.run)
        .take(ALONGSIDE_RUNS);
    let dir_rel = display_path(root, dir);
    let mut out = Vec::new();
    for (id, _) in before.chain(after) {
        let Ok(other) = load_facts(root, dir, Some(id)) else {
            continue;
        };
        let contexts = contexts_now(program, &other);
        for (mut facts, context) in other.tasks.into_iter().zip(contexts) {
            let Some(s) = facts.started_ms else { continue };
            let e = match facts.ended_ms {
                Some(e) => e,
                None if other.ended.is_none() => u64::MAX,
                None => continue,
            };
            if s > end || e < start {
                continue;
            }
            facts.ended_ms = Some(e);
            let documents = vec![
                format!("{dir_rel}/tickets/{}.md", facts.task),
                format!("{dir_rel}/ledger.md"),
            ]
            .into_iter()
            .map(|d| d.trim_start_matches("./").to_string())
            .collect();
            out.push(harvest::Alongside {
                facts,
                context,
                documents,
            });
        }
    }
    out
}

/// Write the run's folders, its schema and its run file (every task
/// pending): before the tasks are marked in progress, so that a kill
/// between that commit and the agents' start leaves a run that `orch
/// status` names (never ended) with the command that records a result.
pub fn begin(root: &Path, dir: &Path, p: &Prepared) -> Result<()> {
    // Real folders inside the repository: a linked `logs/` or `runs/` (a
    // clone can carry one) would take the logs elsewhere.
    let base = fsx::base_for(root, dir);
    fsx::ensure_dir(base, &dir.join("logs"))?;
    let runs = dir.join("runs");
    fsx::ensure_dir(base, &runs)?;
    fsx::ensure_dir(base, &runs.join(&p.run.run))?;
    fsx::write_inside(
        base,
        &root.join(&p.schema_rel),
        p.schema_json.as_bytes(),
        true,
    )?;
    save_facts_at(root, dir, &p.facts_path(dir), &p.run)
}

/// Remove what [`begin`] wrote, for a run that never started (its tasks
/// could not be marked in progress).
pub fn forget(root: &Path, dir: &Path, p: &Prepared) {
    let _ = std::fs::remove_file(p.facts_path(dir));
    let _ = std::fs::remove_file(root.join(&p.schema_rel));
    let _ = std::fs::remove_dir(dir.join("runs").join(&p.run.run));
}

/// Judge every task of a run. `contexts` come from the cards (as they are
/// now, for `orch harvest`); `alongside`, the tasks of other runs that ran
/// at the same time ([`alongside`]).
pub fn judge(
    root: &Path,
    run: &RunFile,
    contexts: &[TaskContext],
    alongside: &[harvest::Alongside],
    patterns: &[meta::Regex],
) -> Vec<Verdict> {
    let changed = harvest::changed_files(&run.tasks, contexts, alongside, root);
    run.tasks
        .iter()
        .zip(contexts)
        .zip(changed)
        .map(|((f, c), ch)| harvest::judge(f, c, ch, patterns, root))
        .collect()
}

/// Write `runs/<run>.md` (and the facts); returns its path relative to the
/// work tree.
pub fn write_report(
    root: &Path,
    dir: &Path,
    run: &RunFile,
    verdicts: &[Verdict],
) -> Result<String> {
    save_facts(root, dir, run)?;
    let (_, md) = run_paths(dir, &run.run);
    let dir_rel = display_path(root, dir);
    let report = report::render(run, verdicts, &dir_rel);
    fsx::write_inside(fsx::base_for(root, dir), &md, report.as_bytes(), true)?;
    Ok(display_path(root, &md))
}

/// What harvest needs from the cards as they are now.
pub fn contexts_now(program: &Program, run: &RunFile) -> Vec<TaskContext> {
    let index = Index::build(program);
    run.tasks
        .iter()
        .map(|f| match index.task(&f.task) {
            Some(t) => TaskContext {
                scope: crate::model::program::effective_scope(program, t).ok(),
                checks: crate::agent::brief(program, t)
                    .map(|b| b.1)
                    .unwrap_or_default(),
            },
            None => TaskContext {
                scope: None,
                checks: Vec::new(),
            },
        })
        .collect()
}

/// The ledger's evidence text for a verdict: the run, the reasons, what
/// proved it, tokens and cost, and the run report (committed with the
/// record) besides the git-ignored log.
pub fn evidence_text(run: &str, dir_rel: &str, v: &Verdict) -> String {
    let clip = |s: &str, n: usize| crate::util::clip_bytes(&harvest::one_line(s), n);
    let mut parts = vec![clip(
        &format!("orch dispatch run {run}: {}", v.reasons.join("; ")),
        300,
    )];
    parts.extend(v.evidence.iter().take(3).map(|e| clip(e, 160)));
    if let Some(r) = &v.reported
        && Some(r.result) != v.verified
    {
        parts.push(format!("the agent reported {}", r.result.as_str()));
    }
    if let Some(u) = v.usage {
        parts.push(u.describe());
    }
    // The report, committed with the record, carries every evidence line.
    parts.push(format!("report `{dir_rel}/runs/{run}.md`"));
    parts.push(format!("log `{}`", v.log));
    crate::util::escape_controls(&crate::util::one_line(&parts.join("; "))).into_owned()
}

/// Record each proposal not yet recorded, one transition (one commit) per
/// task, the run report committed with it: its evidence and the agent's
/// unverified items go to the ledger. Returns, per verdict, what happened
/// when something was attempted.
pub fn record(
    session: &Session,
    run: &mut RunFile,
    verdicts: &mut [Verdict],
) -> Vec<(String, std::result::Result<Outcome, String>)> {
    let mut out = Vec::new();
    let dir_rel = display_path(&session.root, &session.dir);
    let (_, md) = run_paths(&session.dir, &run.run);
    for i in 0..verdicts.len() {
        let Some(result) = verdicts[i].proposal else {
            continue;
        };
        if run.tasks[i].recorded.is_some() {
            continue;
        }
        let evidence = evidence_text(&run.run, &dir_rel, &verdicts[i]);
        let unverified: Vec<transition::UnverifiedCells> = verdicts[i]
            .unverified()
            .into_iter()
            .map(|u| transition::UnverifiedCells {
                item: u.item,
                risk: u.risk,
                owner: u.owner,
            })
            .collect();
        // The report as it reads once this record is made.
        verdicts[i].recorded = Some(result);
        run.tasks[i].recorded = Some(result);
        let text = report::render(run, verdicts, &dir_rel);
        let extras = transition::RecordExtras {
            unverified,
            files: vec![(md.clone(), text)],
        };
        match transition::record_with(session, &verdicts[i].task, result, &evidence, None, &extras)
        {
            Ok(_) => out.push((verdicts[i].task.clone(), Ok(result))),
            Err(e) => {
                verdicts[i].recorded = None;
                run.tasks[i].recorded = None;
                out.push((verdicts[i].task.clone(), Err(e.to_string())));
            }
        }
    }
    out
}
