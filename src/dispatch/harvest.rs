//! Harvest: judge what each agent of a run did and propose a result.
//!
//! A run's facts (`runs/<run>.json`: argv, times, exit, kill, bytes, changed
//! files, codex events) are written by dispatch; harvest reads them with the
//! cards as they are now and the config's evidence patterns, and proposes
//! pass (it succeeded and changed nothing outside its scope), partial (it
//! succeeded, but changed a file outside its scope or a check it ran failed)
//! or fail (non-zero exit, killed, could not start, or a failed turn). The
//! Markdown report (`runs/<run>.md`) is for people.

use std::io::{BufReader, Read};
use std::path::{Component, Path};

use regex_automata::meta;
use serde::{Deserialize, Serialize};

use crate::agent::shell_quote;
use crate::model::Outcome;
use crate::scope::Scope;

use super::codex::Events;
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
    }
    Ok(())
}

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for a slot (or orch stopped before it started).
    Pending,
    Running,
    Finished,
    /// The run was interrupted before it started.
    NotStarted,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskFacts {
    pub task: String,
    /// `codex` or `generic`.
    pub adapter: String,
    pub argv: Vec<String>,
    /// The log, relative to the work tree.
    pub log: String,
    /// The `{last_message}` file, relative to the work tree.
    #[serde(default)]
    pub last_message: Option<String>,
    pub state: State,
    #[serde(default)]
    pub started: Option<String>,
    #[serde(default)]
    pub ended: Option<String>,
    /// Seconds since the Unix epoch, for ordering runs that overlap.
    #[serde(default)]
    pub started_ms: Option<u64>,
    #[serde(default)]
    pub ended_ms: Option<u64>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub signal: Option<i32>,
    #[serde(default)]
    pub killed: Option<Kill>,
    #[serde(default)]
    pub spawn_error: Option<String>,
    #[serde(default)]
    pub log_error: Option<String>,
    #[serde(default)]
    pub log_bytes: u64,
    #[serde(default)]
    pub lingering: bool,
    #[serde(default)]
    pub pipes_abandoned: bool,
    /// Work-tree paths that changed during the run (generic), repo-relative;
    /// `None` when unknown (no git repository).
    #[serde(default)]
    pub changed: Option<Vec<String>>,
    #[serde(default)]
    pub events: Option<Events>,
    /// The result recorded in the ledger, once it is.
    #[serde(default)]
    pub recorded: Option<Outcome>,
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
            (None, Some(s)) => (128 + s).to_string(),
            _ => "-".into(),
        }
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

/// A check from the card and what the agent's run of it returned.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub check: String,
    /// `None`: not seen among the commands the agent ran.
    pub exit_code: Option<i64>,
}

/// Harvest's judgement of one task.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub task: String,
    /// `None` when the task did not run to an end (interrupted, not started).
    pub proposal: Option<Outcome>,
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
    pub violations: Vec<String>,
    pub evidence: Vec<String>,
    pub checks: Vec<Check>,
    /// Why this proposal, one reason a line.
    pub reasons: Vec<String>,
    /// Things worth knowing that do not change the proposal.
    pub notes: Vec<String>,
    pub recorded: Option<Outcome>,
}

/// What harvest needs about each task besides its facts.
pub struct TaskContext {
    /// The card's effective scope, when the card still parses.
    pub scope: Option<Scope>,
    pub checks: Vec<String>,
}

/// Compile the config's evidence patterns (ASCII classes; `(?i)` works).
pub fn patterns(sources: &[String]) -> Result<Vec<meta::Regex>, String> {
    sources
        .iter()
        .map(|p| {
            meta::Regex::builder()
                .syntax(
                    regex_automata::util::syntax::Config::new()
                        .unicode(false)
                        .utf8(false),
                )
                .build(p)
                .map_err(|e| format!("agent.evidence pattern `{p}` does not compile: {e}"))
        })
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

/// What a task changed, as its adapter sees it.
pub struct Changes {
    /// `None` when unknown.
    pub files: Option<Vec<String>>,
    /// Generic adapter: the tasks that ran at the same time in the same work
    /// tree, whose changes cannot be told apart from this one's.
    pub alongside: Vec<String>,
}

/// The files each task changed. Codex: its `file_change` paths (exact). The
/// generic adapter sees the work tree: when runs overlapped in time, a change
/// that lies in another overlapping task's scope and not in this one's is
/// left to that task; any other change is this task's (and is noted as
/// possibly another's).
pub fn changed_files(facts: &[TaskFacts], contexts: &[TaskContext], root: &Path) -> Vec<Changes> {
    let overlaps =
        |a: &TaskFacts, b: &TaskFacts| match (a.started_ms, a.ended_ms, b.started_ms, b.ended_ms) {
            (Some(s1), Some(e1), Some(s2), Some(e2)) => s1 <= e2 && s2 <= e1,
            _ => false,
        };
    facts
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if f.adapter == "codex" {
                let files = f.events.as_ref().map(|events| {
                    let mut v: Vec<String> =
                        events.paths.iter().map(|p| normalize(p, root)).collect();
                    v.sort();
                    v.dedup();
                    v
                });
                return Changes {
                    files,
                    alongside: Vec::new(),
                };
            }
            let others: Vec<usize> = (0..facts.len())
                .filter(|&j| j != i && facts[j].adapter != "codex" && overlaps(f, &facts[j]))
                .collect();
            let own = contexts[i].scope.as_ref();
            let files = f.changed.as_ref().map(|changed| {
                changed
                    .iter()
                    .filter(|path| {
                        own.is_some_and(|s| s.is_match(path))
                            || !others.iter().any(|&j| {
                                contexts[j].scope.as_ref().is_some_and(|s| s.is_match(path))
                            })
                    })
                    .cloned()
                    .collect()
            });
            Changes {
                files,
                alongside: others.iter().map(|&j| facts[j].task.clone()).collect(),
            }
        })
        .collect()
}

/// Judge one task.
pub fn judge(
    f: &TaskFacts,
    ctx: &TaskContext,
    changes: Changes,
    patterns: &[meta::Regex],
    root: &Path,
) -> Verdict {
    let mut reasons = Vec::new();
    let mut notes = Vec::new();
    let changed = changes.files;
    let violations: Vec<String> = match (&changed, &ctx.scope) {
        (Some(c), Some(s)) => c
            .iter()
            .filter(|p| Path::new(p).is_absolute() || !s.is_match(p))
            .cloned()
            .collect(),
        (Some(_), None) => {
            notes.push("the card's scope cannot be read: scope not checked".into());
            Vec::new()
        }
        (None, _) => {
            notes.push("changed files unknown (not a git work tree)".into());
            Vec::new()
        }
    };
    if !violations.is_empty() && !changes.alongside.is_empty() {
        notes.push(format!(
            "it ran at the same time as {} in this work tree, so a change outside every scope may be theirs; \
             `--jobs 1` or the codex adapter attributes changes exactly",
            changes
                .alongside
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut evidence = Vec::new();
    // Files beside the documents: regular files under real folders of the
    // work tree, never a link, read within a bound.
    let last_message = f
        .last_message
        .as_ref()
        .and_then(|p| crate::fsx::read_inside(root, &root.join(p), MAX_LAST_MESSAGE).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .filter(|t| !t.trim().is_empty())
        .or_else(|| f.events.as_ref().and_then(|e| e.last_message.clone()));
    if let Some(m) = last_message {
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
            exit_code: f.events.as_ref().and_then(|e| {
                e.commands
                    .iter()
                    .rev()
                    .find(|r| r.command.contains(c.as_str()))
                    .and_then(|r| r.exit_code)
            }),
        })
        .collect();
    let failed_checks: Vec<&Check> = checks
        .iter()
        .filter(|c| c.exit_code.is_some_and(|x| x != 0))
        .collect();
    for c in &failed_checks {
        evidence.push(format!(
            "check `{}` failed (exit {})",
            c.check,
            c.exit_code.unwrap_or(0)
        ));
    }

    let mut proposal = None;
    match f.state {
        State::NotStarted => reasons.push("not started: the run was interrupted first".into()),
        State::Pending | State::Running => {
            reasons.push("no end recorded: orch stopped during the run".into())
        }
        State::Finished => {}
    }
    if f.state == State::Finished {
        let mut fail = Vec::new();
        if let Some(e) = &f.spawn_error {
            fail.push(format!("could not start: {e}"));
        }
        match f.killed {
            Some(Kill::Interrupted) => reasons.push(
                "interrupted: stopped by Ctrl-C or SIGTERM; the task stays in progress".into(),
            ),
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
        if let Some(ev) = &f.events {
            fail.extend(ev.failures.iter().cloned());
            if ev.events == 0 && f.spawn_error.is_none() {
                notes.push("no JSONL events read from stdout".into());
            }
        }
        if f.killed != Some(Kill::Interrupted) {
            if !fail.is_empty() {
                proposal = Some(Outcome::Fail);
                reasons.extend(fail);
            } else if !violations.is_empty() || !failed_checks.is_empty() {
                proposal = Some(Outcome::Partial);
                if !violations.is_empty() {
                    reasons.push(format!(
                        "exit 0, but changed {} outside its scope",
                        list(&violations)
                    ));
                }
                for c in &failed_checks {
                    reasons.push(format!(
                        "check `{}` failed (exit {})",
                        c.check,
                        c.exit_code.unwrap_or(0)
                    ));
                }
            } else {
                proposal = Some(Outcome::Pass);
                reasons.push("exit 0, nothing changed outside its scope".into());
            }
            if proposal == Some(Outcome::Fail) && !violations.is_empty() {
                reasons.push(format!(
                    "also changed {} outside its scope",
                    list(&violations)
                ));
            }
        }
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
    Verdict {
        task: f.task.clone(),
        proposal,
        exit: f.shell_code(),
        exit_code: f.exit_code,
        signal: f.signal,
        timed_out: matches!(f.killed, Some(Kill::Timeout | Kill::Idle)),
        killed: f.killed,
        duration_ms: f.duration_ms,
        log: f.log.clone(),
        log_bytes: f.log_bytes,
        changed,
        violations,
        evidence,
        checks,
        reasons,
        notes,
        recorded: f.recorded,
    }
}

fn list(paths: &[String]) -> String {
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

fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// The run report, Markdown for people.
pub fn render(run: &RunFile, verdicts: &[Verdict]) -> String {
    let mut s = format!("# Dispatch run {}\n\n", run.run);
    s.push_str(&format!("- Started: {}\n", run.started));
    if let Some(e) = &run.ended {
        s.push_str(&format!("- Ended: {e}\n"));
    }
    let mut limits = format!("- Jobs: {}", run.jobs);
    if let Some(t) = &run.timeout {
        limits.push_str(&format!("; timeout {t}"));
    }
    if let Some(t) = &run.idle_timeout {
        limits.push_str(&format!("; idle timeout {t}"));
    }
    s.push_str(&limits);
    s.push('\n');
    s.push_str(&format!("- Exit codes: `{}`\n", summary_line(run)));
    if run.interrupted {
        s.push_str("- Interrupted: yes (Ctrl-C or SIGTERM); the agents were stopped and their tasks stay `in_progress`\n");
    }
    s.push_str("\n| Task | Exit | Time | Proposal | Changed | Outside scope | Recorded |\n|---|---|---|---|---|---|---|\n");
    for v in verdicts {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            v.task,
            v.exit,
            v.duration_ms
                .map(|d| time::human(std::time::Duration::from_millis(d)))
                .unwrap_or_else(|| "-".into()),
            v.proposal.map_or("-", |p| p.as_str()),
            v.changed
                .as_ref()
                .map_or("?".to_string(), |c| c.len().to_string()),
            v.violations.len(),
            v.recorded.map_or("-", |p| p.as_str()),
        ));
    }
    for (v, f) in verdicts.iter().zip(&run.tasks) {
        s.push_str(&format!(
            "\n## {}: {}\n",
            v.task,
            v.proposal.map_or("no proposal", |p| p.as_str())
        ));
        let argv: Vec<String> = f.argv.iter().map(|a| shell_quote(a)).collect();
        let argv = argv.join(" ");
        s.push_str(&format!(
            "- Command: {}\n",
            code(&crate::util::clip_bytes(&argv, 400))
        ));
        match &f.ended {
            Some(_) => s.push_str(&format!(
                "- Exit: {} after {}{}\n",
                v.exit,
                time::human(std::time::Duration::from_millis(v.duration_ms.unwrap_or(0))),
                v.killed
                    .map(|k| format!(" ({}; process group killed)", k.describe()))
                    .unwrap_or_default()
            )),
            None => s.push_str("- Exit: did not run to an end\n"),
        }
        s.push_str(&format!(
            "- Log: {} ({})\n",
            code(&v.log),
            size(v.log_bytes)
        ));
        if let Some(p) = &f.last_message {
            s.push_str(&format!("- Last message: {}\n", code(p)));
        }
        match &v.changed {
            Some(c) if c.is_empty() => s.push_str("- Changed files: none\n"),
            Some(c) => s.push_str(&format!(
                "- Changed files: {}\n",
                c.iter().map(|p| code(p)).collect::<Vec<_>>().join(", ")
            )),
            None => s.push_str("- Changed files: unknown\n"),
        }
        if v.violations.is_empty() {
            s.push_str("- Outside scope: none\n");
        } else {
            s.push_str(&format!(
                "- Outside scope: {}\n",
                v.violations
                    .iter()
                    .map(|p| code(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !v.checks.is_empty() {
            let checks: Vec<String> = v
                .checks
                .iter()
                .map(|c| match c.exit_code {
                    Some(x) => format!("{} exit {x}", code(&c.check)),
                    None => format!("{} not seen", code(&c.check)),
                })
                .collect();
            s.push_str(&format!("- Checks: {}\n", checks.join("; ")));
        }
        if v.evidence.is_empty() {
            s.push_str("- Evidence: none\n");
        } else {
            s.push_str("- Evidence:\n");
            for e in &v.evidence {
                s.push_str(&format!("  - {e}\n"));
            }
        }
        s.push_str(&format!("- Why: {}\n", v.reasons.join("; ")));
        for n in &v.notes {
            s.push_str(&format!("- Note: {n}\n"));
        }
        match (v.recorded, v.proposal) {
            (Some(r), _) => s.push_str(&format!("- Recorded: {r}\n")),
            (None, Some(_)) => s.push_str(&format!(
                "- Recorded: not yet (`orch harvest {} --record`)\n",
                run.run
            )),
            (None, None) => s.push_str(&format!(
                "- Recorded: no; `{}` stays `in_progress` (record a result by hand with `orch record {} --result fail --evidence \"<what happened>\"`, or set it aside with `orch block {} --reason \"<why>\"` and dispatch it again after `orch unblock {} --reason \"<why>\"`)\n",
                v.task, v.task, v.task, v.task
            )),
        }
    }
    s
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
