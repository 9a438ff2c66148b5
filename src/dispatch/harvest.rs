//! Harvest: judge what each agent of a run did and propose a result.
//!
//! A run's facts (`runs/<run>.json`: argv, times, exit, kill, what changed
//! in the folder, the normalized events) are written by dispatch; harvest
//! reads them with the cards as they are now and the config's evidence
//! patterns. A pass is earned: the agent exited 0, its turn completed
//! (where its stream says so), every check of its card was seen passing,
//! and nothing changed outside its scope; otherwise partial (it finished,
//! but a file changed outside its scope, a check failed or was not seen, it
//! waits on a person, or its completion report is malformed) or fail
//! (non-zero exit, killed, over budget, could not start, a failed or
//! unfinished turn). The agent's own completion report is set beside that
//! verdict: it can lower it, never raise it. The Markdown report
//! (`runs/<run>.md`) is in [`super::report`].

use std::io::{BufReader, Read};
use std::path::{Component, Path};

use regex_automata::meta;
use serde::{Deserialize, Serialize};

use crate::config::Budget;
use crate::model::Outcome;
use crate::scope::Scope;

use super::adapters::Kind;
use super::completion::{self, Reported, ReportedItem};
use super::event::{Observed, Usage};
use super::process::Kill;
use super::time;

/// Most evidence lines taken from one log.
const MAX_EVIDENCE: usize = 10;
/// Longest evidence line kept.
const MAX_EVIDENCE_LINE: usize = 300;
/// Largest last-message file read.
const MAX_LAST_MESSAGE: u64 = 1 << 20;
/// Most of a log scanned for evidence: its last this many bytes.
const MAX_LOG_SCAN: u64 = 64 << 20;

/// Check a run file read from disk against what orch writes, as input
/// rather than truth: its `run` field names `id` (the run its file is named
/// for), every task is a valid ID, and (given the orchestrator folder
/// relative to the work tree, `dir_rel`) every log is a file under
/// `<dir_rel>/logs/` and every last-message file one under
/// `<dir_rel>/runs/`. Why not, worded to follow the file's path.
pub fn check_run(run: &RunFile, id: &str, dir_rel: Option<&str>) -> Result<(), String> {
    let shown =
        |s: &str| crate::util::escape_controls(&crate::util::clip_chars(s, 80)).into_owned();
    if run.run != id {
        return Err(format!(
            "is not a run orch wrote: its \"run\" field names `{}`, not `{id}`",
            shown(&run.run)
        ));
    }
    let under = |path: &str, folder: &str| {
        let prefix = match dir_rel {
            Some("") | None => format!("{folder}/"),
            Some(d) => format!("{d}/{folder}/"),
        };
        path.strip_prefix(&prefix).is_some_and(|rest| {
            !rest.contains(['\\', '\0'])
                && rest
                    .split('/')
                    .all(|c| !c.is_empty() && c != "." && c != "..")
        })
    };
    for t in &run.tasks {
        if !crate::util::is_valid_id(&t.task) {
            return Err(format!(
                "is not a run orch wrote: `{}` is not a task ID",
                shown(&t.task)
            ));
        }
        if dir_rel.is_none() {
            continue;
        }
        if !under(&t.log, "logs") {
            return Err(format!(
                "is not a run orch wrote: {}'s log `{}` is not a file under logs/",
                t.task,
                shown(&t.log)
            ));
        }
        if let Some(m) = &t.last_message
            && !under(m, "runs")
        {
            return Err(format!(
                "is not a run orch wrote: {}'s last message `{}` is not a file under runs/",
                t.task,
                shown(m)
            ));
        }
        if let Some(m) = &t.schema
            && !under(m, "runs")
        {
            return Err(format!(
                "is not a run orch wrote: {}'s schema `{}` is not a file under runs/",
                t.task,
                shown(m)
            ));
        }
    }
    Ok(())
}
/// Most bytes read from a final-message file or a log's tail for the
/// completion report.
const MAX_ANSWER: u64 = 256 * 1024;

/// Everything dispatch observed about one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunFile {
    pub run: String,
    pub started: String,
    #[serde(default)]
    pub ended: Option<String>,
    pub jobs: usize,
    #[serde(default)]
    pub timeout: Option<String>,
    #[serde(default)]
    pub idle_timeout: Option<String>,
    #[serde(default)]
    pub interrupted: bool,
    pub tasks: Vec<TaskFacts>,
}

/// Where a task of a run got to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for a slot (or orch stopped before it started).
    #[default]
    Pending,
    Running,
    Finished,
    /// The run was interrupted before it started.
    NotStarted,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskFacts {
    pub task: String,
    /// `codex`, `claude`, `gemini` or `generic`.
    pub adapter: String,
    /// The folder the agent ran in, relative to the work tree (empty: its top).
    pub folder: String,
    /// The argv, the work tree's top written `{repo}`.
    pub argv: Vec<String>,
    /// The log, relative to the work tree.
    pub log: String,
    /// The `{last_message}` file, relative to the work tree.
    pub last_message: Option<String>,
    /// The completion report's schema the agent was handed (relative).
    pub schema: Option<String>,
    /// The budget it ran under.
    pub budget: Option<Budget>,
    pub state: State,
    pub started: Option<String>,
    pub ended: Option<String>,
    /// Milliseconds since the Unix epoch, for ordering runs that overlap.
    pub started_ms: Option<u64>,
    pub ended_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub killed: Option<Kill>,
    /// Why it was stopped over budget.
    pub over_budget: Option<String>,
    pub spawn_error: Option<String>,
    pub log_error: Option<String>,
    pub log_bytes: u64,
    pub lingering: bool,
    pub pipes_abandoned: bool,
    /// Work-tree paths whose state changed while it ran, repo-relative;
    /// `None` when unknown (no git repository).
    pub changed: Option<Vec<String>>,
    /// Paths the commits made while it ran changed (HEAD moved).
    pub committed: Vec<String>,
    /// HEAD when it started and when it ended, when they differ.
    pub head_before: Option<String>,
    pub head_after: Option<String>,
    /// What its event stream said (agents with a stream).
    pub events: Option<Observed>,
    /// What it asked a person while it ran (saved at once, for `orch status`).
    pub waiting: Option<String>,
    /// The result recorded in the ledger, once it is.
    pub recorded: Option<Outcome>,
    /// Its branch and worktree, when it ran isolated (`--isolate
    /// worktree`): what it changed is exactly base..tip.
    pub branch: Option<BranchFacts>,
}

/// A task's branch in an isolated run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BranchFacts {
    /// `orch/<ID>`.
    pub branch: String,
    /// The worktree the agent ran in (`{repo}`), as shown to people.
    pub worktree: String,
    /// The commit the branch started at (`ORCH_BASE`).
    pub base: Option<String>,
    /// Dependencies' branches merged into the base (not yet integrated).
    pub merged: Vec<String>,
    /// The branch's tip once orch sealed what the agent left.
    pub tip: Option<String>,
    /// Every path base..tip changed (both sides of a rename), sorted.
    pub changed: Vec<String>,
    /// Paths orch committed for the agent in the seal.
    pub sealed: Vec<String>,
    /// Commits the agent made itself.
    pub agent_commits: usize,
    /// Why its branch holds no verdict-worthy record (the seal failed).
    pub error: Option<String>,
    /// What making the worktree or sealing it noticed.
    pub notes: Vec<String>,
}

impl TaskFacts {
    /// The shell's `$?` for the summary line: exit code, 128 + signal, 127
    /// when it could not start, `-` when it never ran.
    pub fn shell_code(&self) -> String {
        if self.spawn_error.is_some() && self.exit_code.is_none() && self.signal.is_none() {
            return "127".into();
        }
        match (self.exit_code, self.signal) {
            (Some(c), _) => c.to_string(),
            // i64: a run file is input, its signal any number.
            (None, Some(s)) => (128 + i64::from(s)).to_string(),
            _ => "-".into(),
        }
    }

    pub fn kind(&self) -> Kind {
        Kind::parse(&self.adapter).unwrap_or(Kind::Generic)
    }

    pub fn usage(&self) -> Option<Usage> {
        self.events.as_ref().and_then(|e| e.usage)
    }
}

/// The `ID=exit ...` line, as the seed's sheet prints it.
pub fn summary_line(run: &RunFile) -> String {
    run.tasks
        .iter()
        .map(|t| format!("{}={}", t.task, t.shell_code()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Tokens and cost of every task of a run that reported usage.
pub fn total_usage(run: &RunFile) -> Option<Usage> {
    run.tasks
        .iter()
        .filter_map(TaskFacts::usage)
        .reduce(|a, b| a.plus(&b))
}

/// A check from the card and what the agent's runs of it returned.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub check: String,
    /// `None`: not seen among the commands the agent ran.
    pub exit_code: Option<i64>,
    /// What the agent's completion report says of it (`pass`, `fail`,
    /// `not_run`), when it names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported: Option<String>,
}

/// How sure the changed files are to be this task's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// The agent ran alone in its folder: every change there while it ran
    /// (work tree and commits) is its own.
    Exact,
    /// Other agents ran in the same folder at the same time: the paths it
    /// reported are its own; other changes are apportioned by scope.
    Shared,
    /// Not a git work tree: nothing seen.
    Unknown,
}

/// Harvest's judgement of one task.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub task: String,
    /// `None` when the task did not run to an end (interrupted, not started).
    pub proposal: Option<Outcome>,
    /// orch's own verdict, before the agent's report could lower it.
    pub verified: Option<Outcome>,
    pub exit: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub killed: Option<Kill>,
    pub duration_ms: Option<u64>,
    pub log: String,
    pub log_bytes: u64,
    /// Files it changed (repo-relative; outside the repository: absolute);
    /// `None` when unknown.
    pub changed: Option<Vec<String>>,
    pub attribution: Attribution,
    /// Paths it committed itself (a part of `changed`).
    pub committed: Vec<String>,
    pub violations: Vec<String>,
    pub evidence: Vec<String>,
    pub checks: Vec<Check>,
    /// Why this proposal, one reason a line.
    pub reasons: Vec<String>,
    /// Things worth knowing that do not change the proposal.
    pub notes: Vec<String>,
    pub usage: Option<Usage>,
    /// What the agent stopped to ask a person.
    pub needs_input: Vec<String>,
    /// The agent's completion report, when it matches the schema.
    pub reported: Option<Reported>,
    /// Where its completion report breaks the schema.
    pub report_problems: Vec<String>,
    /// Where the report says what orch did not see.
    pub contradictions: Vec<String>,
    pub recorded: Option<Outcome>,
}

impl Verdict {
    /// The unverified items the agent reported, each naming the task.
    pub fn unverified(&self) -> Vec<ReportedItem> {
        self.reported
            .iter()
            .flat_map(|r| &r.unverified)
            .map(|u| ReportedItem {
                item: if crate::util::one_line(&u.item).contains(&self.task) {
                    u.item.clone()
                } else {
                    format!("{}: {}", self.task, u.item)
                },
                risk: u.risk.clone(),
                owner: u.owner.clone(),
            })
            .collect()
    }
}

/// What harvest needs about each task besides its facts.
pub struct TaskContext {
    /// The card's effective scope, when the card still parses.
    pub scope: Option<Scope>,
    pub checks: Vec<String>,
}

/// Compile the config's evidence patterns (ASCII classes; `(?i)` works).
pub fn patterns(sources: &[String]) -> Result<Vec<meta::Regex>, String> {
    // One compiler for dispatch and lint (`config-invalid`), one size limit.
    sources
        .iter()
        .map(|p| crate::config::compile_evidence(p))
        .collect()
}

/// `path` made repository-relative and normal (`./a/../b` -> `b`); an
/// absolute path outside the repository stays absolute.
pub fn normalize(path: &str, root: &Path) -> String {
    let p = Path::new(path);
    let rel = if p.is_absolute() {
        match p.strip_prefix(root).ok().or_else(|| {
            root.canonicalize()
                .ok()
                .and_then(|r| p.strip_prefix(r).ok())
        }) {
            Some(r) => r.to_path_buf(),
            None => return path.to_string(),
        }
    } else {
        p.to_path_buf()
    };
    let mut parts: Vec<String> = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            // Climbs out of the repository.
            Component::ParentDir if parts.pop().is_none() => {
                return root.join(&rel).to_string_lossy().into_owned();
            }
            _ => {}
        }
    }
    parts.join("/")
}

/// The paths of `changed` outside `scope`: the scope judgement, on any list
/// of changed paths (a run's, or a branch's diff against its base). An
/// absolute path (outside the repository) is always outside.
pub fn outside_scope(scope: &Scope, changed: &[String]) -> Vec<String> {
    changed
        .iter()
        .filter(|p| Path::new(p.as_str()).is_absolute() || !scope.is_match(p))
        .cloned()
        .collect()
}

/// What a task changed, and how sure that is.
pub struct Changes {
    /// `None` when unknown.
    pub files: Option<Vec<String>>,
    /// The tasks that ran at the same time in the same folder.
    pub alongside: Vec<String>,
    pub attribution: Attribution,
}

/// The paths a task's stream reported changing, repo-relative and sorted.
fn reported_paths(f: &TaskFacts, root: &Path) -> Vec<String> {
    let folder = if f.folder.is_empty() {
        root.to_path_buf()
    } else {
        root.join(&f.folder)
    };
    let mut v: Vec<String> = f
        .events
        .iter()
        .flat_map(|e| &e.paths)
        .map(|p| {
            let n = normalize(p, &folder);
            if f.folder.is_empty() || Path::new(&n).is_absolute() {
                n
            } else {
                format!("{}/{n}", f.folder)
            }
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Every file a task's run touched by any account (its stream's reports,
/// the work tree, the commits made while it ran), repo-relative, sorted;
/// unattributed among tasks that overlapped (`align-docs` reads it from the
/// run files a commit holds).
pub fn touched_by(f: &TaskFacts, root: &Path) -> Vec<String> {
    let mut v = reported_paths(f, root);
    v.extend(f.changed.iter().flatten().cloned());
    v.extend(f.committed.iter().cloned());
    v.sort();
    v.dedup();
    v
}

/// A task of another dispatch run in the same work tree: another `orch
/// dispatch` can run at the same time as this one, its agents in the same
/// folder, its transitions committing while this run's agents work.
pub struct Alongside {
    /// Its facts; `ended_ms` is `u64::MAX` while its run has not ended.
    pub facts: TaskFacts,
    pub context: TaskContext,
    /// The documents its run's transitions write (its ticket, the ledger),
    /// repository-relative: a commit of them while this run's agent ran is
    /// that other run's, not the agent's.
    pub documents: Vec<String>,
}

/// The files each task changed: what its stream reported, and what changed
/// in its folder (work tree and commits) while it ran. A task that ran
/// alone in its folder owns every change there (exact). When tasks
/// overlapped in time in one folder (of this run, or of another run:
/// `alongside`), a path another of them reported, or that lies in
/// another's scope and not in this one's (or is one of another run's
/// documents), is left to it; any other change is this task's (and is
/// noted as possibly another's).
pub fn changed_files(
    facts: &[TaskFacts],
    contexts: &[TaskContext],
    alongside: &[Alongside],
    root: &Path,
) -> Vec<Changes> {
    let overlaps = |a: &TaskFacts, b: &TaskFacts| {
        a.folder == b.folder
            && a.branch.is_none()
            && b.branch.is_none()
            && match (a.started_ms, a.ended_ms, b.started_ms, b.ended_ms) {
                (Some(s1), Some(e1), Some(s2), Some(e2)) => s1 <= e2 && s2 <= e1,
                _ => false,
            }
    };
    let n = facts.len();
    // This run's tasks, then the other runs'.
    let all: Vec<&TaskFacts> = facts
        .iter()
        .chain(alongside.iter().map(|a| &a.facts))
        .collect();
    let scopes: Vec<Option<&Scope>> = contexts
        .iter()
        .chain(alongside.iter().map(|a| &a.context))
        .map(|c| c.scope.as_ref())
        .collect();
    let documents = |j: usize| -> &[String] {
        if j < n {
            &[]
        } else {
            &alongside[j - n].documents
        }
    };
    let reported: Vec<Vec<String>> = all.iter().map(|f| reported_paths(f, root)).collect();
    facts
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if let Some(b) = &f.branch {
                return branch_changes(f, b);
            }
            let others: Vec<usize> = (0..all.len())
                .filter(|&j| j != i && overlaps(f, all[j]))
                .collect();
            let own = contexts[i].scope.as_ref();
            let mut seen: Option<Vec<String>> = f.changed.as_ref().map(|c| {
                let mut v = c.clone();
                v.extend(f.committed.iter().cloned());
                v
            });
            if let Some(seen) = &mut seen
                && !others.is_empty()
            {
                seen.retain(|path| {
                    reported[i].contains(path)
                        || own.is_some_and(|s| s.is_match(path))
                        || !others.iter().any(|&j| {
                            reported[j].contains(path)
                                || scopes[j].is_some_and(|s| s.is_match(path))
                                || documents(j).contains(path)
                        })
                });
            }
            let attribution = match (&seen, others.is_empty()) {
                (None, _) => Attribution::Unknown,
                (Some(_), true) => Attribution::Exact,
                (Some(_), false) => Attribution::Shared,
            };
            let files = match seen {
                Some(mut v) => {
                    v.extend(reported[i].iter().cloned());
                    v.sort();
                    v.dedup();
                    Some(v)
                }
                None if f.events.is_some() => Some(reported[i].clone()),
                None => None,
            };
            let mut names: Vec<String> = others.iter().map(|&j| all[j].task.clone()).collect();
            names.dedup();
            Changes {
                files,
                alongside: names,
                attribution,
            }
        })
        .collect()
}

/// An isolated task's changes: exactly base..tip of its branch, whatever
/// tool made them, plus any path its stream reported outside its worktree
/// (absolute: always outside its scope). Unknown when the branch was never
/// sealed.
fn branch_changes(f: &TaskFacts, b: &BranchFacts) -> Changes {
    let files = b.tip.as_ref().map(|_| {
        let mut v = b.changed.clone();
        v.extend(
            f.events
                .iter()
                .flat_map(|e| &e.paths)
                .filter(|p| Path::new(p.as_str()).is_absolute())
                .cloned(),
        );
        v.sort();
        v.dedup();
        v
    });
    Changes {
        files,
        alongside: Vec::new(),
        attribution: Attribution::Exact,
    }
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Fail => 0,
        Outcome::Partial => 1,
        Outcome::Pass => 2,
    }
}

/// At most `max` bytes of a file beside the documents (a regular file
/// under real folders of the work tree, never a link); with `tail`, its
/// last `max` bytes, however large it is.
fn read_bounded(root: &Path, rel: &str, max: u64, tail: bool) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    let bytes = if tail {
        let mut f = crate::fsx::open_inside(root, &root.join(rel)).ok()?;
        let len = f.metadata().ok()?.len();
        if len > max {
            f.seek(SeekFrom::Start(len - max)).ok()?;
        }
        let mut buf = Vec::new();
        f.take(max).read_to_end(&mut buf).ok()?;
        buf
    } else {
        crate::fsx::read_inside(root, &root.join(rel), max).ok()?
    };
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The agent's final answer: its structured output, its final-message
/// file, its last message, or (generic) the tail of its log.
fn answer(f: &TaskFacts, root: &Path) -> Option<serde_json::Value> {
    if let Some(s) = f.events.as_ref().and_then(|e| e.structured.clone()) {
        return Some(s);
    }
    let texts = [
        f.last_message
            .as_ref()
            .and_then(|p| read_bounded(root, p, MAX_LAST_MESSAGE, false)),
        f.events.as_ref().and_then(|e| e.last_message.clone()),
        (f.kind() == Kind::Generic)
            .then(|| read_bounded(root, &f.log, MAX_ANSWER, true))
            .flatten(),
    ];
    texts
        .into_iter()
        .flatten()
        .find_map(|t| completion::answer_in(&t))
}

/// The text of the final message, for evidence.
fn final_text(f: &TaskFacts, root: &Path) -> Option<String> {
    // Files beside the documents: regular files under real folders of the
    // work tree, never a link, read within a bound.
    f.last_message
        .as_ref()
        .and_then(|p| read_bounded(root, p, MAX_LAST_MESSAGE, false))
        .filter(|t| !t.trim().is_empty())
        .or_else(|| f.events.as_ref().and_then(|e| e.last_message.clone()))
}

/// Judge one task.
pub fn judge(
    f: &TaskFacts,
    ctx: &TaskContext,
    changes: Changes,
    patterns: &[meta::Regex],
    root: &Path,
) -> Verdict {
    let kind = f.kind();
    let observed = f.events.clone().unwrap_or_default();
    let mut reasons = Vec::new();
    let mut notes = Vec::new();
    let changed = changes.files;
    let violations: Vec<String> = match (&changed, &ctx.scope) {
        (Some(c), Some(s)) => outside_scope(s, c),
        (Some(_), None) => {
            notes.push("the card's scope cannot be read: scope not checked".into());
            Vec::new()
        }
        (None, _) if f.branch.is_some() => {
            notes.push("changed files unknown: its branch was not sealed".into());
            Vec::new()
        }
        (None, _) => {
            notes.push("changed files unknown (not a git work tree)".into());
            Vec::new()
        }
    };
    if !violations.is_empty() && !changes.alongside.is_empty() {
        notes.push(format!(
            "it ran at the same time as {} in this folder, so a change it did not report and no scope explains may be theirs; `--jobs 1` attributes changes exactly",
            changes
                .alongside
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !f.committed.is_empty() {
        notes.push(format!(
            "it committed {} itself (HEAD moved from {} to {})",
            list(&f.committed),
            f.head_before
                .as_deref()
                .map_or("?", |h| &h[..h.len().min(12)]),
            f.head_after
                .as_deref()
                .map_or("?", |h| &h[..h.len().min(12)]),
        ));
    }

    // The agent's completion report.
    let mut report_problems = Vec::new();
    let reported = answer(f, root).and_then(|v| match completion::read(&v, &[f.task.as_str()]) {
        Ok(r) => Some(r),
        Err(p) => {
            report_problems = p;
            None
        }
    });

    let mut evidence = Vec::new();
    // The final message is evidence, unless it is the completion report
    // (shown beside the verdict instead).
    if let Some(m) = final_text(f, root).filter(|m| completion::answer_in(m).is_none()) {
        evidence.push(format!("last message: {}", one_line(&m)));
    }
    if !patterns.is_empty() {
        let log = crate::fsx::open_inside(root, &root.join(&f.log))
            .map_err(|e| std::io::Error::other(e.to_string()));
        match log.and_then(|log| evidence_lines(log, patterns)) {
            Ok(lines) => evidence.extend(lines),
            Err(e) => notes.push(format!("cannot read the log: {e}")),
        }
    }
    let checks: Vec<Check> = ctx
        .checks
        .iter()
        .map(|c| Check {
            check: c.clone(),
            exit_code: observed
                .commands
                .iter()
                .rev()
                .find(|r| r.command.contains(c.as_str()))
                .and_then(|r| r.exit_code),
            reported: reported.as_ref().and_then(|r| {
                r.checks
                    .iter()
                    .rev()
                    .find(|rc| rc.command.contains(c.as_str()))
                    .map(|rc| rc.outcome.clone())
            }),
        })
        .collect();
    let failed_checks: Vec<&Check> = checks
        .iter()
        .filter(|c| c.exit_code.is_some_and(|x| x != 0))
        .collect();
    let unseen_checks: Vec<&Check> = checks.iter().filter(|c| c.exit_code.is_none()).collect();

    let mut verified = None;
    match f.state {
        State::NotStarted => reasons.push("not started: the run was interrupted first".into()),
        State::Pending | State::Running => {
            reasons.push("no end recorded: orch stopped during the run".into())
        }
        State::Finished => {}
    }
    let mut contradictions = Vec::new();
    if f.state == State::Finished && f.killed != Some(Kill::Interrupted) {
        let mut fail = Vec::new();
        if let Some(e) = &f.spawn_error {
            fail.push(format!("could not start: {e}"));
        }
        match f.killed {
            Some(Kill::Budget) => fail.push(format!(
                "over budget: {}; the agent was stopped",
                f.over_budget.as_deref().unwrap_or("its budget was passed")
            )),
            Some(k) => fail.push(format!(
                "{} after {}; its process group was killed",
                k.describe(),
                time::human(std::time::Duration::from_millis(f.duration_ms.unwrap_or(0)))
            )),
            None => {}
        }
        if f.killed.is_none() {
            match (f.exit_code, f.signal) {
                (Some(0), _) => {}
                (Some(c), _) => fail.push(format!("exit {c}")),
                (None, Some(s)) => fail.push(format!("ended by signal {s}")),
                (None, None) => {}
            }
        }
        if f.events.is_some() && f.spawn_error.is_none() {
            fail.extend(observed.failures.iter().cloned());
            if !observed.completed {
                fail.extend(observed.errors.iter().cloned());
                if fail.is_empty() {
                    fail.push(match kind {
                        Kind::Codex => {
                            "exit 0, but the turn never completed (no `turn.completed`)".to_string()
                        }
                        _ => "exit 0, but the turn never completed (no successful `result` event)"
                            .to_string(),
                    });
                }
            } else if !observed.errors.is_empty() {
                notes.push(format!(
                    "errors reported before the turn completed (retried): {}",
                    observed.errors.join("; ")
                ));
            }
            if observed.events == 0 {
                notes.push("no JSON events read from stdout".into());
            }
        }
        if f.killed.is_none()
            && let (Some(b), Some(u)) = (f.budget, observed.usage)
            && let Some(over) = b.exceeded(u.tokens(), u.cost_usd)
        {
            fail.push(format!("over budget: {over}"));
        }
        let mut partial = Vec::new();
        if let Some(e) = f.branch.as_ref().and_then(|b| b.error.as_ref()) {
            partial.push(e.clone());
        }
        if !violations.is_empty() {
            partial.push(format!("changed {} outside its scope", list(&violations)));
        }
        for c in &failed_checks {
            partial.push(format!(
                "check `{}` failed (exit {})",
                c.check,
                c.exit_code.unwrap_or(0)
            ));
        }
        for c in &unseen_checks {
            partial.push(if kind.reports_completion() {
                format!("check `{}` not seen run", c.check)
            } else {
                format!(
                    "check `{}` not seen run (the {} adapter sees no commands)",
                    c.check,
                    kind.name()
                )
            });
        }
        for q in &observed.needs_input {
            partial.push(format!("waiting on a person: {q}"));
        }
        if !report_problems.is_empty() {
            partial.push(format!(
                "its completion report breaks the schema: {}",
                report_problems.join("; ")
            ));
        }
        if !fail.is_empty() {
            verified = Some(Outcome::Fail);
            reasons.extend(fail);
            reasons.extend(partial.into_iter().map(|p| format!("also {p}")));
        } else if !partial.is_empty() {
            verified = Some(Outcome::Partial);
            reasons.push("exit 0".into());
            reasons.extend(partial);
        } else {
            verified = Some(Outcome::Pass);
            let mut why = vec!["exit 0".to_string()];
            if kind.reports_completion() {
                why.push("turn completed".into());
            }
            if !checks.is_empty() {
                why.push(format!(
                    "every check seen passing ({})",
                    checks
                        .iter()
                        .map(|c| format!("`{}`", c.check))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            why.push(match &changed {
                Some(c) if c.is_empty() => "no file changed".into(),
                Some(c) => format!("{} changed file(s), all inside its scope", c.len()),
                None => "changed files unknown".into(),
            });
            reasons.push(why.join(", "));
            for c in &checks {
                evidence.insert(0, format!("check `{}` passed (exit 0)", c.check));
            }
        }
        for c in &failed_checks {
            evidence.push(format!(
                "check `{}` failed (exit {})",
                c.check,
                c.exit_code.unwrap_or(0)
            ));
        }
        // The claim beside the verdict: it can lower it, never raise it.
        if let (Some(r), Some(v)) = (&reported, verified) {
            if rank(r.result) > rank(v) {
                contradictions.push(format!(
                    "it reports `{}`; orch verified `{}`",
                    r.result.as_str(),
                    v.as_str()
                ));
            }
            for c in &checks {
                if c.reported.as_deref() == Some("pass") {
                    match c.exit_code {
                        Some(x) if x != 0 => contradictions.push(format!(
                            "it claims check `{}` passed; orch saw it exit {x}",
                            c.check
                        )),
                        None => contradictions.push(format!(
                            "it claims check `{}` passed; orch did not see it run",
                            c.check
                        )),
                        _ => {}
                    }
                }
            }
            if r.result == Outcome::Pass && !violations.is_empty() {
                contradictions.push(format!(
                    "it reports `pass` but changed {} outside its scope",
                    list(&violations)
                ));
            }
        }
    }
    let proposal = match (&reported, verified) {
        (Some(r), Some(v)) if rank(r.result) < rank(v) => {
            reasons.push(format!(
                "the agent reports `{}`: {}",
                r.result.as_str(),
                one_line(r.evidence.first().unwrap_or(&r.next_action))
            ));
            Some(r.result)
        }
        (_, v) => v,
    };
    if reported.is_none() && report_problems.is_empty() && f.state == State::Finished {
        notes.push("no completion report found in its final answer".into());
    }
    if f.lingering {
        notes.push("processes it left behind were stopped".into());
    }
    if f.pipes_abandoned {
        notes.push(
            "its output pipes stayed open after it was killed; the log may be incomplete".into(),
        );
    }
    if let Some(e) = &f.log_error {
        notes.push(format!("writing the log failed: {e}"));
    }
    if observed.clipped > 0 {
        notes.push(format!(
            "{} event line(s) held a string too long to keep whole (clipped, still read)",
            observed.clipped
        ));
    }
    Verdict {
        task: f.task.clone(),
        proposal,
        verified,
        exit: f.shell_code(),
        exit_code: f.exit_code,
        signal: f.signal,
        timed_out: matches!(f.killed, Some(Kill::Timeout | Kill::Idle)),
        killed: f.killed,
        duration_ms: f.duration_ms,
        log: f.log.clone(),
        log_bytes: f.log_bytes,
        changed,
        attribution: changes.attribution,
        committed: f.committed.clone(),
        violations,
        evidence,
        checks,
        reasons,
        notes,
        usage: observed.usage,
        needs_input: observed.needs_input.clone(),
        reported,
        report_problems,
        contradictions,
        recorded: f.recorded,
    }
}

pub(crate) fn list(paths: &[String]) -> String {
    let shown: Vec<String> = paths.iter().take(5).map(|p| format!("`{p}`")).collect();
    if paths.len() > 5 {
        format!("{} and {} more", shown.join(", "), paths.len() - 5)
    } else {
        shown.join(", ")
    }
}

/// Text on one line, clipped, its control characters escaped (it goes into
/// the ledger and onto terminals).
pub fn one_line(text: &str) -> String {
    let line = crate::util::clip_bytes(&crate::util::one_line(text), MAX_EVIDENCE_LINE);
    crate::util::escape_controls(&line).into_owned()
}

/// Log lines matching any pattern (at most [`MAX_EVIDENCE`], the last ones
/// kept), read through a fixed buffer from the log's last
/// [`MAX_LOG_SCAN`] bytes: a huge log or line costs no memory.
fn evidence_lines(log: std::fs::File, patterns: &[meta::Regex]) -> std::io::Result<Vec<String>> {
    use std::io::{Seek, SeekFrom};
    const MAX_LINE: usize = 64 * 1024;
    let mut log = log;
    let len = log.metadata()?.len();
    if len > MAX_LOG_SCAN {
        log.seek(SeekFrom::Start(len - MAX_LOG_SCAN))?;
    }
    let mut reader = BufReader::new(log.take(MAX_LOG_SCAN));
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut long = false;
    let mut found: std::collections::VecDeque<String> = Default::default();
    let test = |line: &[u8], found: &mut std::collections::VecDeque<String>| {
        if patterns.iter().any(|p| p.is_match(line)) {
            if found.len() == MAX_EVIDENCE {
                found.pop_front();
            }
            found.push_back(one_line(&String::from_utf8_lossy(line)));
        }
    };
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        while let Some(nl) = chunk.iter().position(|&b| b == b'\n') {
            if !long {
                line.extend_from_slice(&chunk[..nl.min(MAX_LINE - line.len().min(MAX_LINE))]);
            }
            test(&line, &mut found);
            line.clear();
            long = false;
            chunk = &chunk[nl + 1..];
        }
        if !long {
            let room = MAX_LINE.saturating_sub(line.len());
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            long = line.len() >= MAX_LINE;
        }
    }
    if !line.is_empty() {
        test(&line, &mut found);
    }
    Ok(found.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_paths() {
        let root = Path::new("/repo");
        assert_eq!(normalize("/repo/src/a.rs", root), "src/a.rs");
        assert_eq!(normalize("./src/../docs/x.md", root), "docs/x.md");
        assert_eq!(normalize("/elsewhere/x", root), "/elsewhere/x");
        assert_eq!(normalize("../x", root), "/repo/../x");
    }

    #[test]
    fn the_scope_judgement_takes_any_list_of_paths() {
        let scope = Scope::new(
            vec![crate::scope::Pattern::parse("src/**").expect("glob")],
            vec![crate::scope::Pattern::parse("src/gen/**").expect("glob")],
        );
        let changed = ["src/a.rs", "src/gen/x.rs", "docs/b.md", "/etc/passwd"].map(String::from);
        assert_eq!(
            outside_scope(&scope, &changed),
            ["src/gen/x.rs", "docs/b.md", "/etc/passwd"]
        );
    }

    #[test]
    fn evidence_lines_are_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("l.log");
        let mut text = String::new();
        for i in 0..50 {
            text.push_str(&format!("line {i}\ntest result: ok. {i} passed\n"));
        }
        text.push_str(&"x".repeat(200_000));
        text.push_str(" test result: tail\n");
        std::fs::write(&log, text).expect("write");
        let p = patterns(&["(?i)test result".into()]).expect("compiles");
        let lines = evidence_lines(std::fs::File::open(&log).expect("open"), &p).expect("reads");
        assert_eq!(lines.len(), MAX_EVIDENCE);
        assert!(lines[9].contains("49 passed"), "{lines:?}");
        assert!(patterns(&["(".into()]).is_err());
    }
}
