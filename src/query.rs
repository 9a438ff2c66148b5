//! The JSON answers of the views and transitions (`status`, `next`, `show`,
//! `scope check`, the transition reports), built in one place for every
//! front end: the command line's `--format json`, the MCP server's tools
//! ([`crate::mcp`]) and `orch prime` ([`crate::prime`]). Each takes a
//! program already loaded, so the MCP server answers from the program it
//! holds in memory and the command line from the one it just read; the
//! objects are the same either way.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::dispatch::LastRun;
use crate::error::{Error, Result};
use crate::git::{Change, OrchCommit, Repo};
use crate::model::program::{Index, Task, display_path};
use crate::model::scope::{CardScope, effective_scope};
use crate::model::{Program, TaskStatus};
use crate::rules::ids::phase_of;
use crate::scope::Scope;
use crate::source::{Spanned, Text};
use crate::transition::Report;
use crate::util::{did_you_mean, nearest};

/// A field's text, trimmed; empty when absent.
pub fn text(s: &Option<Spanned<Text>>) -> String {
    s.as_ref()
        .map(|s| s.value.trim().to_string())
        .unwrap_or_default()
}

/// Whether a task is ready, and the dependencies it waits on, in words
/// (`P1-UI-01 (in_progress)`).
pub fn readiness(index: &Index, task: &Task) -> (bool, Vec<String>) {
    let waiting: Vec<String> = index
        .waiting_on(task)
        .iter()
        .map(|d| {
            let status = index
                .task(d.value.trim())
                .map_or("unknown".to_string(), |t| t.status.to_string());
            format!("{} ({status})", d.value.trim())
        })
        .collect();
    (index.is_ready(task), waiting)
}

/// One task as `status`, `next` and `show` print it.
pub fn task_json(program: &Program, index: &Index, task: &Task, run: Option<&LastRun>) -> Value {
    let (ready, waiting) = readiness(index, task);
    let mut v = json!({
        "id": task.id,
        "status": task.status.as_str(),
        "ready": ready,
        "retry_after": index.retry_after(task).map(|rc| rc.id.as_str()),
        "waiting_on": waiting,
        "owner": text(&task.skill),
        "group": task.group.as_ref().map(|g| g.value.clone()),
        "phase": phase_of(&task.id),
        "objective": text(&task.objective),
        "ticket": task.ticket.map(|d| program.file(program.docs[d].file).path.clone()),
        "card": task.card.map(|d| program.file(program.docs[d].file).path.clone()),
    });
    if let Some(run) = run {
        v["last_run"] = json!(run);
    }
    v
}

/// `orch status --format json`: `{"tasks": [...], "usage": ...}`, every
/// task in backlog order with the last dispatch run of each, and the
/// tokens and cost of those runs, summed.
pub fn status(program: &Program, index: &Index, runs: &HashMap<String, LastRun>) -> Value {
    let latest = latest_commits(program, &set_aside(index));
    let tasks: Vec<Value> = index
        .tasks
        .iter()
        .map(|t| {
            let mut v = task_json(program, index, t, runs.get(&t.id));
            if let Some(r) = reason_of(t, &latest) {
                v["reason"] = json!(r);
            }
            v
        })
        .collect();
    let usage = index
        .tasks
        .iter()
        .filter_map(|t| runs.get(&t.id).and_then(|r| r.usage))
        .reduce(|a, b| a.plus(&b));
    json!({ "tasks": tasks, "usage": usage })
}

/// The ready queue, in backlog order.
pub fn ready(index: &Index) -> Vec<&Task> {
    index.tasks.iter().filter(|t| index.is_ready(t)).collect()
}

/// The failed tasks whose root-cause task passed since, in backlog order:
/// `orch dispatch` takes them again.
pub fn retries(index: &Index) -> Vec<&Task> {
    index
        .tasks
        .iter()
        .filter(|t| index.retry_after(t).is_some())
        .collect()
}

/// `orch next --format json`: `{"ready": [...], "retry": [...]}`.
pub fn next(program: &Program, index: &Index) -> Value {
    let tasks: Vec<Value> = ready(index)
        .into_iter()
        .map(|t| task_json(program, index, t, None))
        .collect();
    let retry: Vec<Value> = retries(index)
        .into_iter()
        .map(|t| task_json(program, index, t, None))
        .collect();
    json!({ "ready": tasks, "retry": retry })
}

/// At most this many commits are read looking for a task's transitions.
pub const HISTORY_WALK: usize = 20_000;

/// The newest orch commit of each task in `ids` (by its `Orch-Task:`
/// trailer), read from git; empty outside git, or when `ids` is empty.
pub fn latest_commits(program: &Program, ids: &[&str]) -> HashMap<String, OrchCommit> {
    let mut found: HashMap<String, OrchCommit> = HashMap::new();
    if ids.is_empty() {
        return found;
    }
    let Ok(Some(repo)) = Repo::discover(&program.dir) else {
        return found;
    };
    let _ = repo.each_orch_commit(HISTORY_WALK, |c| {
        for (k, v) in &c.trailers {
            let v = v.trim();
            if k.eq_ignore_ascii_case("Orch-Task") && ids.contains(&v) && !found.contains_key(v) {
                found.insert(v.to_string(), c.clone());
            }
        }
        found.len() < ids.len()
    });
    found
}

/// Why a blocked or cancelled task is so: the `Orch-Reason:` of the
/// transition that made it so, when that is its latest commit.
pub fn reason_of<'c>(task: &Task, latest: &'c HashMap<String, OrchCommit>) -> Option<&'c str> {
    if !matches!(task.status, TaskStatus::Blocked | TaskStatus::Cancelled) {
        return None;
    }
    let c = latest.get(&task.id)?;
    c.subject
        .trim_end()
        .ends_with(&format!("-> {}", task.status))
        .then(|| c.trailer("Orch-Reason").map(str::trim))
        .flatten()
}

/// The blocked and cancelled tasks, whose reasons the views show.
pub fn set_aside(index: &Index) -> Vec<&str> {
    index
        .tasks
        .iter()
        .filter(|t| matches!(t.status, TaskStatus::Blocked | TaskStatus::Cancelled))
        .map(|t| t.id.as_str())
        .collect()
}

/// A task's transitions (orch commits with its `Orch-Task:` trailer),
/// oldest first; empty outside git.
pub fn history(program: &Program, id: &str) -> Vec<OrchCommit> {
    let Ok(Some(repo)) = Repo::discover(&program.dir) else {
        return Vec::new();
    };
    let mut v = Vec::new();
    let _ = repo.each_orch_commit(HISTORY_WALK, |c| {
        if c.trailers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("Orch-Task") && v.trim() == id)
        {
            v.push(c);
        }
        true
    });
    v.reverse();
    v
}

/// One transition as `show` and `log` print it in JSON.
pub fn commit_json(c: &OrchCommit) -> Value {
    json!({
        "id": c.id.to_string(),
        "time": c.time,
        "date": crate::util::utc_minute(c.time),
        "subject": c.subject,
        "result": c.trailer("Orch-Result").map(str::trim),
        "reason": c.trailer("Orch-Reason").map(str::trim),
    })
}

/// The error for an ID that names no task, with the nearest one.
pub fn no_task(index: &Index, id: &str) -> Error {
    let ids = index.tasks.iter().map(|t| t.id.as_str());
    Error::with_help(
        format!(
            "no task `{id}` in the backlog{}",
            did_you_mean(nearest(id, ids))
        ),
        "`orch status` lists the tasks",
    )
}

/// `orch show ID --format json`: the task with its dependencies,
/// dependents, done criteria, scope and ledger rows.
pub fn show(
    program: &Program,
    index: &Index,
    id: &str,
    runs: &HashMap<String, LastRun>,
) -> Result<Value> {
    let task = index.task(id).ok_or_else(|| no_task(index, id))?;
    let rows: Vec<Value> = task
        .rows
        .iter()
        .map(|&i| {
            let r = &index.ledger[i];
            json!({
                "owner": text(&r.skill),
                "evidence": text(&r.evidence),
                "result": text(&r.result_text),
                "next": text(&r.next),
            })
        })
        .collect();
    let mut value = task_json(program, index, task, runs.get(&task.id));
    value["dependencies"] = json!(task.deps.iter().map(|d| d.value.trim()).collect::<Vec<_>>());
    value["done_criteria"] = json!(text(&task.done_criteria));
    value["dependents"] = json!(
        index
            .tasks
            .iter()
            .filter(|t| t.deps.iter().any(|d| d.value.trim() == task.id))
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>()
    );
    value["scope"] = match CardScope::read(program, task) {
        Some(s) => json!({
            "allowed": s.allowed.iter().map(|x| x.text.value.as_str()).collect::<Vec<_>>(),
            "prohibited": s.prohibited.iter().map(|x| x.text.value.as_str()).collect::<Vec<_>>(),
            "problems": s.problems.iter().map(|p| p.message(&task.id)).collect::<Vec<_>>(),
        }),
        None => Value::Null,
    };
    value["ledger"] = json!(rows);
    let history = history(program, &task.id);
    if let Some(last) = history.last()
        && matches!(task.status, TaskStatus::Blocked | TaskStatus::Cancelled)
    {
        let latest = HashMap::from([(task.id.clone(), last.clone())]);
        if let Some(r) = reason_of(task, &latest) {
            value["reason"] = json!(r);
        }
    }
    value["history"] = json!(history.iter().map(commit_json).collect::<Vec<_>>());
    Ok(value)
}

/// The transitions' `--format json`: `{"transitions": [...]}`.
pub fn transitions(reports: &[Report]) -> Value {
    json!({ "transitions": reports })
}

/// Which changes `scope check` looks at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Changes {
    /// The work tree (and index) against HEAD.
    #[default]
    WorkTree,
    /// HEAD to the index.
    Staged,
    /// Commits since REV, plus the work tree.
    Since(String),
}

/// One changed file and the in-progress tasks whose scope holds it.
#[derive(Clone, Debug)]
pub struct ScopeRow {
    pub path: String,
    /// The in-progress tasks whose effective scope holds the file.
    pub tasks: Vec<String>,
    /// Other tasks whose scope holds it, with their status (`P1 (todo)`).
    pub other_tasks: Vec<String>,
    /// `outside` (no in-progress task's scope), `shared` (two or more).
    pub problem: Option<&'static str>,
}

/// What `orch scope check` found.
#[derive(Clone, Debug, Default)]
pub struct ScopeCheck {
    /// Changed files, orch's own bookkeeping left out.
    pub changed: usize,
    /// False when no task is in progress: nothing was checked.
    pub running: bool,
    pub rows: Vec<ScopeRow>,
    /// In-progress tasks whose card's scope does not parse.
    pub unscoped: Vec<String>,
    pub outside: usize,
    pub shared: usize,
}

impl ScopeCheck {
    /// A file outside every in-progress scope, or inside two.
    pub fn has_problems(&self) -> bool {
        self.outside + self.shared > 0
    }

    /// `orch scope check --format json`.
    pub fn to_json(&self) -> Value {
        let summary =
            json!({"changed": self.changed, "outside": self.outside, "shared": self.shared});
        if !self.running {
            return json!({"files": [], "summary": summary, "note": "no task is in progress"});
        }
        let files: Vec<Value> = self
            .rows
            .iter()
            .map(|r| json!({"path": r.path, "tasks": r.tasks, "other_tasks": r.other_tasks, "problem": r.problem}))
            .collect();
        json!({
            "files": files,
            "unscoped_tasks": self.unscoped,
            "summary": summary,
        })
    }
}

/// The changed files (relative to the work tree's top) against the
/// effective scopes of the tasks in progress.
pub fn scope_check(program: &Program, changes: &Changes) -> Result<ScopeCheck> {
    let repo = Repo::discover(&program.root)?.ok_or_else(|| {
        Error::with_help(
            format!("{} is not in a git repository", program.root.display()),
            "scope check compares changes git knows about",
        )
    })?;
    let mut changed: Vec<String> = match changes {
        Changes::Staged => repo
            .staged_changes()?
            .iter()
            .flat_map(change_paths)
            .collect(),
        Changes::WorkTree => repo.dirty_paths()?,
        Changes::Since(rev) => {
            let mut v = repo.dirty_paths()?;
            v.extend(repo.changes(rev, "HEAD")?.iter().flat_map(change_paths));
            v
        }
    };
    // orch's own bookkeeping is not a task's work.
    let own = format!("{}/", display_path(repo.workdir(), &program.dir));
    changed.retain(|p| !p.starts_with(&own));
    changed.sort();
    changed.dedup();

    let index = Index::build(program);
    let scoped: Vec<(&Task, Option<Scope>)> = index
        .tasks
        .iter()
        .map(|t| (t, effective_scope(program, t).ok()))
        .collect();
    let running: Vec<&(&Task, Option<Scope>)> = scoped
        .iter()
        .filter(|(t, _)| t.status == TaskStatus::InProgress)
        .collect();
    let mut check = ScopeCheck {
        changed: changed.len(),
        running: !running.is_empty(),
        ..ScopeCheck::default()
    };
    if running.is_empty() {
        return Ok(check);
    }
    check.unscoped = running
        .iter()
        .filter(|(_, s)| s.is_none())
        .map(|(t, _)| t.id.clone())
        .collect();
    for path in changed {
        let tasks: Vec<String> = running
            .iter()
            .filter(|(_, s)| s.as_ref().is_some_and(|s| s.is_match(&path)))
            .map(|(t, _)| t.id.clone())
            .collect();
        let other_tasks: Vec<String> = scoped
            .iter()
            .filter(|(t, s)| {
                t.status != TaskStatus::InProgress && s.as_ref().is_some_and(|s| s.is_match(&path))
            })
            .map(|(t, _)| format!("{} ({})", t.id, t.status))
            .collect();
        let problem = match tasks.len() {
            0 => {
                check.outside += 1;
                Some("outside")
            }
            1 => None,
            _ => {
                check.shared += 1;
                Some("shared")
            }
        };
        check.rows.push(ScopeRow {
            path,
            tasks,
            other_tasks,
            problem,
        });
    }
    Ok(check)
}

fn change_paths(c: &Change) -> Vec<String> {
    match c {
        Change::Renamed { from, to } => vec![from.clone(), to.clone()],
        other => vec![other.path().to_string()],
    }
}

/// Keep the diagnostics of the files under `paths` (absolute, or relative
/// to the current folder), as `orch lint PATH...` does.
pub fn only_paths(
    program: &Program,
    diagnostics: &mut Vec<crate::diagnostic::Diagnostic>,
    paths: &[std::path::PathBuf],
) -> crate::error::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let wanted: Vec<std::path::PathBuf> = paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect();
    // A path that names no document is a mistake (a typo, the wrong
    // folder), never a clean pass.
    for (given, w) in paths.iter().zip(&wanted) {
        if !program.files.iter().any(|f| f.abs_path.starts_with(w)) {
            return Err(crate::error::Error::with_help(
                format!(
                    "{} matches no document under {}",
                    given.display(),
                    program.dir.display()
                ),
                "name a document or a folder of documents (`orch lint .orchestrator/tickets`), or drop the path to lint everything",
            ));
        }
    }
    diagnostics.retain(|d| {
        let abs = &program.file(d.file).abs_path;
        wanted.iter().any(|w| abs.starts_with(w))
    });
    Ok(())
}
