//! What isolated runs leave behind, and `orch clean`.
//!
//! [`survey`] lists every task branch (`orch/*`), every worktree orch made
//! (registered, or a folder under its worktrees folder that nothing
//! registers) and every registration whose folder is gone, each with a
//! [`State`] saying whether it may go: integrated work, no work at all,
//! leftovers of a killed command go without asking; work not integrated
//! (a done task awaiting `orch integrate`, a cancelled or abandoned task,
//! a worktree holding uncommitted files) only with `--force`; a task whose
//! dispatch run may still be going, never.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dispatch::{LastRun, RunState};
use crate::error::Result;
use crate::git::{INITIALIZING, Oid, Repo, Worktree, building_pid, registration_name, remove_tree};
use crate::model::program::{Index, display_path};
use crate::model::{Program, TaskStatus};

use super::integrate::{integrated, read_branch};
use super::{SCRATCH, Settings, disk_usage, human_size, short, worktrees_dir};

/// Where a leftover stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Its branch's work is integrated into HEAD.
    Integrated,
    /// Its branch holds no change since its base.
    Empty,
    /// A done (or partial) task whose branch awaits `orch integrate`.
    Awaiting,
    /// A task in progress whose agent ended: its result is not recorded.
    Unrecorded,
    /// A task whose dispatch run never ended: its agent may still run.
    Running,
    /// Work of a task that is not done (failed, cancelled, blocked, set
    /// back to todo, split) or not in the plan.
    Unintegrated,
    /// The worktree holds files not committed to its branch (the run was
    /// stopped before orch sealed it, or someone worked there since).
    Uncommitted,
    /// A worktree whose creation was killed before it was complete.
    Incomplete,
    /// A registration whose folder is gone (`git worktree list` would show
    /// it as prunable).
    Stale,
    /// A folder under orch's worktrees folder that no registration names.
    Orphan,
    /// The scratch worktree of an `orch integrate --check` that was stopped.
    Scratch,
}

impl State {
    /// `orch clean` removes it without `--force`.
    pub fn disposable(self) -> bool {
        matches!(
            self,
            State::Integrated
                | State::Empty
                | State::Incomplete
                | State::Stale
                | State::Orphan
                | State::Scratch
        )
    }

    /// `orch clean --force` removes it.
    pub fn forcible(self) -> bool {
        self != State::Running
    }
}

/// One thing isolation left in the repository.
#[derive(Clone, Debug, Serialize)]
pub struct Leftover {
    pub task: Option<String>,
    pub branch: Option<String>,
    pub tip: Option<String>,
    /// The worktree folder, relative to the work tree's top when inside
    /// the repository.
    pub worktree: Option<String>,
    /// Bytes the worktree folder takes (0 when not measured or absent).
    pub bytes: u64,
    pub state: State,
    /// What to do about it, in words.
    pub advice: String,
    #[serde(skip)]
    registration: Option<Worktree>,
    #[serde(skip)]
    folder: Option<PathBuf>,
    #[serde(skip)]
    tip_id: Option<Oid>,
}

/// Survey what isolation left: see the module docs. `measure` computes
/// each worktree's size; `inspect` looks for uncommitted files in each
/// worktree that would otherwise be removed (a `git status` per worktree).
pub fn survey(
    repo: &Repo,
    settings: &Settings,
    program: &Program,
    runs: &std::collections::HashMap<String, LastRun>,
    measure: bool,
    inspect: bool,
) -> Result<Vec<Leftover>> {
    let index = Index::build(program);
    let dir = worktrees_dir(repo);
    let root = repo.workdir().to_path_buf();
    let shown = |p: &Path| -> String {
        let rel = display_path(&root, p);
        if rel.starts_with('/') {
            p.display().to_string()
        } else {
            rel
        }
    };
    let branches: BTreeMap<String, Oid> = repo.branches(&settings.prefix)?.into_iter().collect();
    let registrations = repo.worktrees()?;
    // A task's worktree: registered on its branch, or at its folder.
    let mut by_task: BTreeMap<String, (Option<Oid>, Option<Worktree>)> = BTreeMap::new();
    for (branch, tip) in &branches {
        if let Some(id) = settings.task_of(branch) {
            by_task.entry(id.to_string()).or_default().0 = Some(*tip);
        }
    }
    let mut out = Vec::new();
    let mut claimed: HashSet<PathBuf> = HashSet::new();
    for w in &registrations {
        let in_dir = w.path.as_ref().is_some_and(|p| p.starts_with(&dir));
        let task = w
            .branch
            .as_deref()
            .and_then(|b| settings.task_of(b))
            .map(str::to_string)
            .or_else(|| {
                w.path
                    .as_ref()
                    .filter(|_| in_dir)
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .filter(|n| crate::util::is_valid_id(n))
            });
        if let Some(p) = &w.path {
            claimed.insert(p.clone());
        }
        let scratch = w.path.as_ref().is_some_and(|p| p == &dir.join(SCRATCH));
        if scratch {
            out.push(leftover(None, None, Some(w.clone()), None, State::Scratch,
                "the scratch worktree of a stopped `orch integrate --check`: `orch clean` removes it".into(), &shown));
            continue;
        }
        match task {
            Some(t)
                if in_dir
                    || w.branch
                        .as_deref()
                        .is_some_and(|b| settings.task_of(b).is_some()) =>
            {
                by_task.entry(t).or_default().1 = Some(w.clone());
            }
            _ => {}
        }
    }
    let bases: Vec<Oid> = by_task
        .iter()
        .filter_map(|(id, (tip, _))| {
            tip.and_then(|t| read_branch(repo, id, t).ok())
                .map(|r| r.base)
        })
        .collect();
    let done = integrated(repo, &bases)?;
    for (id, (tip, wt)) in &by_task {
        let branch = tip.map(|_| settings.branch(id));
        // The worktree's own condition first.
        if let Some(w) = wt {
            if !w.exists {
                out.push(leftover(
                    Some(id),
                    branch.as_deref(),
                    Some(w.clone()),
                    *tip,
                    State::Stale,
                    "its worktree folder is gone: `orch clean` prunes the registration".into(),
                    &shown,
                ));
                if tip.is_none() {
                    continue;
                }
            } else if w.locked.as_deref() == Some(INITIALIZING) || !w.has_index || !w.head_readable
            {
                out.push(leftover(Some(id), branch.as_deref(), Some(w.clone()), *tip, State::Incomplete,
                    "its worktree was never completed (orch was stopped while creating it): `orch clean` removes it".into(), &shown));
                continue;
            }
        }
        let wt = wt.as_ref().filter(|w| w.exists);
        let status = index.task(id).map(|t| t.status);
        let last = runs.get(id);
        let running = status == Some(TaskStatus::InProgress)
            && last.is_some_and(|r| r.state == RunState::Unended);
        let (state, advice) = if running {
            let run = last.map_or("?", |r| r.run.as_str());
            (
                State::Running,
                format!(
                    "dispatch run {run} never ended: its agent may still run; if it does not, `orch block {id} --reason \"<why>\"`, then `orch clean --force`"
                ),
            )
        } else {
            let Some(tip) = tip else {
                // A worktree without its branch: nothing integrable is left.
                out.push(leftover(
                    Some(id),
                    None,
                    wt.cloned(),
                    None,
                    State::Orphan,
                    "a worktree whose branch is gone: `orch clean` removes it".into(),
                    &shown,
                ));
                continue;
            };
            let record = read_branch(repo, id, *tip)?;
            let integrated = done.contains(&(id.clone(), *tip));
            let empty = repo.tree_of_commit(record.base)? == repo.tree_of_commit(*tip)?;
            let dirty = inspect && wt.is_some_and(|w| uncommitted(w, settings));
            if dirty && status != Some(TaskStatus::InProgress) {
                (
                    State::Uncommitted,
                    format!(
                        "its worktree holds files not committed to `{}`: commit them there, or `orch clean --force` discards them",
                        settings.branch(id)
                    ),
                )
            } else if integrated {
                (
                    State::Integrated,
                    "integrated: `orch clean` removes it".to_string(),
                )
            } else if empty && status != Some(TaskStatus::InProgress) {
                (
                    State::Empty,
                    "no work on its branch: `orch clean` removes it".to_string(),
                )
            } else {
                match status {
                    Some(TaskStatus::Done) | Some(TaskStatus::Partial) => (
                        State::Awaiting,
                        format!(
                            "awaiting `orch integrate {id}` ({} on the branch)",
                            short(*tip)
                        ),
                    ),
                    Some(TaskStatus::InProgress) => {
                        let run = last.map_or("RUN".to_string(), |r| r.run.clone());
                        (
                            State::Unrecorded,
                            format!(
                                "its agent ended; `orch harvest {run} --record` records the result"
                            ),
                        )
                    }
                    Some(s) => (
                        State::Unintegrated,
                        format!(
                            "work of a `{s}` task, not integrated: `orch clean --force` discards it"
                        ),
                    ),
                    None => (
                        State::Unintegrated,
                        format!(
                            "`{id}` is not a task of the plan: `orch clean --force` discards the branch"
                        ),
                    ),
                }
            }
        };
        out.push(leftover(
            Some(id),
            branch.as_deref(),
            wt.cloned(),
            *tip,
            state,
            advice,
            &shown,
        ));
    }
    // Folders under orch's worktrees folder that nothing registers.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut orphans: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| !claimed.contains(p))
            .collect();
        orphans.sort();
        for p in orphans {
            let mut l = leftover(None, None, None, None, State::Orphan,
                "a folder no worktree registration names (its creation or removal was stopped): `orch clean` removes it".into(), &shown);
            l.worktree = Some(shown(&p));
            l.task = p.file_name().map(|n| n.to_string_lossy().into_owned());
            l.folder = Some(p);
            out.push(l);
        }
    }
    // Registrations whose creation was killed before `gitdir` was written.
    for admin in repo.unfinished_registrations() {
        let locked = std::fs::read_to_string(admin.join("locked")).unwrap_or_default();
        if locked.trim() == INITIALIZING || building_pid(&admin).is_some() {
            let mut l = leftover(
                None,
                None,
                None,
                None,
                State::Incomplete,
                "a worktree registration whose creation was stopped: `orch clean` removes it"
                    .into(),
                &shown,
            );
            l.task = Some(registration_name(&admin));
            l.worktree = Some(shown(&admin));
            l.folder = Some(admin);
            out.push(l);
        }
    }
    if measure {
        for l in &mut out {
            if let Some(p) = l
                .registration
                .as_ref()
                .and_then(|w| w.path.as_ref())
                .or(l.folder.as_ref())
            {
                l.bytes = disk_usage(p);
            }
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn leftover(
    task: Option<&str>,
    branch: Option<&str>,
    registration: Option<Worktree>,
    tip: Option<Oid>,
    state: State,
    advice: String,
    shown: &dyn Fn(&Path) -> String,
) -> Leftover {
    Leftover {
        task: task.map(str::to_string),
        branch: branch.map(str::to_string),
        tip: tip.map(|t| t.to_string()),
        worktree: registration
            .as_ref()
            .and_then(|w| w.path.as_ref())
            .map(|p| shown(p)),
        bytes: 0,
        state,
        advice,
        registration,
        folder: None,
        tip_id: tip,
    }
}

/// The worktree holds uncommitted files other than the environment's.
fn uncommitted(w: &Worktree, settings: &Settings) -> bool {
    let Some(path) = &w.path else { return false };
    let Ok(repo) = Repo::open_worktree(path) else {
        return false;
    };
    let env = settings.environment();
    repo.dirty_paths().is_ok_and(|paths| {
        paths.iter().any(|p| {
            !env.iter().any(|e| {
                p == e
                    || p.strip_prefix(e.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
        })
    })
}

/// For the next command after a kill: remove what git itself reports as
/// broken, a worktree registration of orch's whose creation never ended
/// (locked `initializing`) and whose `HEAD` is missing or empty (an orch
/// before the atomic registration of [`Repo::add_worktree`], or gix's
/// `git worktree add`, killed half-way), with its folder; and the folders
/// a registration was built in by an orch that is gone. What was removed,
/// one line each. Never fails: what cannot be removed is left to `orch
/// clean`, which lists it.
pub fn recover(repo: &Repo) -> Vec<String> {
    let mut notes = Vec::new();
    let dir = worktrees_dir(repo);
    let root = repo.workdir().to_path_buf();
    let shown = |p: &Path| display_path(&root, p);
    for w in repo.worktrees().unwrap_or_default() {
        let ours = w.path.as_ref().is_none_or(|p| p.starts_with(&dir));
        if ours && !w.head_readable && w.locked.as_deref() == Some(INITIALIZING) {
            let what = w.path.as_deref().map_or(shown(&w.admin), &shown);
            if repo.remove_worktree(&w).is_ok() {
                notes.push(format!(
                    "removed the worktree {what}, whose creation a killed orch left with an empty HEAD (git reported its registration {} as broken)",
                    shown(&w.admin)
                ));
            }
        }
    }
    for admin in repo.unfinished_registrations() {
        if building_pid(&admin).is_some() && repo.remove_registration(&admin).is_ok() {
            notes.push(format!(
                "removed {}, a worktree registration a killed orch left half built",
                shown(&admin)
            ));
        }
    }
    notes
}

/// What [`clean`] did or would do.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cleaned {
    pub dry_run: bool,
    pub removed: Vec<Leftover>,
    pub kept: Vec<Leftover>,
    /// Bytes freed (or that would be).
    pub freed: u64,
    /// Removals that failed: (what, why).
    pub failed: Vec<(String, String)>,
}

/// `orch clean`: remove what may go (all but running tasks with
/// `force`); with `dry_run`, only say so.
pub fn clean(
    repo: &Repo,
    settings: &Settings,
    program: &Program,
    runs: &std::collections::HashMap<String, LastRun>,
    force: bool,
    dry_run: bool,
) -> Result<Cleaned> {
    let leftovers = survey(repo, settings, program, runs, true, true)?;
    let mut out = Cleaned {
        dry_run,
        ..Cleaned::default()
    };
    for l in leftovers {
        let go = l.state.disposable() || (force && l.state.forcible());
        if !go {
            out.kept.push(l);
            continue;
        }
        if !dry_run && let Err(e) = remove(repo, &l) {
            out.failed.push((
                l.task.clone().or(l.worktree.clone()).unwrap_or_default(),
                e.to_string(),
            ));
            continue;
        }
        out.freed += l.bytes;
        out.removed.push(l);
    }
    Ok(out)
}

/// Remove one leftover: its worktree (registration, then folder), then its
/// branch if it still points where it did.
fn remove(repo: &Repo, l: &Leftover) -> Result<()> {
    if let Some(w) = &l.registration {
        repo.remove_worktree(w)?;
    }
    if let Some(folder) = &l.folder {
        if folder.parent() == Some(repo.common_dir().join("worktrees").as_path()) {
            repo.remove_registration(folder)?;
        } else {
            remove_tree(folder)?;
        }
    }
    if let (Some(branch), Some(tip)) = (&l.branch, l.tip_id)
        && l.state != State::Stale
    {
        repo.delete_branch(branch, tip)?;
    }
    if let Some(parent) = l
        .registration
        .as_ref()
        .and_then(|w| w.path.as_ref())
        .and_then(|p| p.parent())
    {
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}

/// Remove an integrated task's worktree and branch (at `tip`); the bytes
/// freed.
pub fn remove_task(repo: &Repo, settings: &Settings, task: &str, tip: Oid) -> Result<u64> {
    let branch = settings.branch(task);
    let path = super::worktree_path(repo, task);
    let mut freed = 0;
    for w in repo.worktrees()? {
        let ours = w.branch.as_deref() == Some(branch.as_str())
            || w.path.as_deref() == Some(path.as_path());
        if ours {
            if let Some(p) = &w.path {
                freed += disk_usage(p);
            }
            repo.remove_worktree(&w)?;
        }
    }
    repo.delete_branch(&branch, tip)?;
    let _ = std::fs::remove_dir(worktrees_dir(repo));
    Ok(freed)
}

/// Remove the `--check` scratch worktree, if there is one.
pub fn remove_scratch(repo: &Repo) -> Result<()> {
    let path = worktrees_dir(repo).join(SCRATCH);
    for w in repo.worktrees()? {
        if w.path.as_deref() == Some(path.as_path()) {
            repo.remove_worktree(&w)?;
        }
    }
    remove_tree(&path)?;
    Ok(())
}

/// `3 worktrees, 12.4 MiB`.
pub fn summary(leftovers: &[Leftover]) -> String {
    let worktrees = leftovers.iter().filter(|l| l.worktree.is_some()).count();
    let bytes: u64 = leftovers.iter().map(|l| l.bytes).sum();
    format!("{worktrees} worktree(s), {}", human_size(bytes))
}
