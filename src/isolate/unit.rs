//! The per-task unit of an isolated run: [`enter`] before the agent (a
//! branch at the base, a linked worktree, the environment), [`leave`]
//! after it (the seal, and the exact changes base..branch), plus what
//! decides the base ([`base_for`]: a task whose dependencies' branches are
//! not integrated yet starts from a merge of them) and what must hold
//! before any of it ([`preflight`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::error::{Error, Result};
use crate::git::{Change, Merged, Oid, Repo};
use crate::model::program::{Index, Task};

use super::{BASE, RUN, Settings, TASK, env, short, worktree_path};

/// A task's branch and worktree, ready for its agent.
#[derive(Clone, Debug)]
pub struct Isolated {
    pub task: String,
    pub branch: String,
    /// The worktree's top folder: the agent's `{repo}`.
    pub path: PathBuf,
    /// The commit the branch started at (`ORCH_BASE`).
    pub base: Oid,
    /// What preparing the environment noticed (a path to copy that does
    /// not exist, say).
    pub notes: Vec<String>,
}

/// What [`leave`] found.
#[derive(Clone, Debug)]
pub struct Left {
    /// The branch's tip after the seal.
    pub tip: Oid,
    /// base..tip, renames detected: exactly what harvest judges.
    pub changes: Vec<Change>,
    /// Paths orch committed for the agent in the seal.
    pub committed: Vec<String>,
    /// Commits the agent made itself.
    pub agent_commits: usize,
    /// The worktree's HEAD when the agent ended (before the seal).
    pub agent_head: Option<Oid>,
    /// Paths the agent's own commits changed since the base.
    pub agent_paths: Vec<String>,
    pub notes: Vec<String>,
}

/// Every path a list of changes touches: both sides of a rename.
pub fn changed_paths(changes: &[Change]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in changes {
        match c {
            Change::Renamed { from, to } => {
                out.push(from.clone());
                out.push(to.clone());
            }
            other => out.push(other.path().to_string()),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Reasons the tasks cannot get a branch and a worktree now (a branch or
/// folder left by an earlier run), each with the fix. Empty: go ahead.
pub fn preflight(repo: &Repo, settings: &Settings, ids: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let registered = repo.worktrees()?;
    for id in ids {
        let branch = settings.branch(id);
        if let Some(tip) = repo.branch_tip(&branch)? {
            out.push(format!(
                "`{id}`'s branch `{branch}` (at {}) is left from an earlier run: `orch integrate {id}` brings it in, \
                 `orch clean` removes it once integrated (`orch clean --force` discards its work)",
                short(tip)
            ));
            continue;
        }
        let path = worktree_path(repo, id);
        let stale = registered
            .iter()
            .any(|w| w.path.as_deref() == Some(path.as_path()));
        if stale || std::fs::symlink_metadata(&path).is_ok() {
            out.push(format!(
                "`{id}`'s worktree folder {} is left from an earlier run: `orch clean` removes it",
                path.display()
            ));
        }
    }
    Ok(out)
}

/// A task's dependencies (a split one stands for its children, which are
/// what did the work), in backlog order.
pub fn dep_ids(index: &Index, task: &Task) -> Vec<String> {
    let mut deps: Vec<String> = Vec::new();
    let mut stack: Vec<String> = task
        .deps
        .iter()
        .map(|d| d.value.trim().to_string())
        .collect();
    let mut seen = HashSet::new();
    while let Some(d) = stack.pop() {
        if !seen.insert(d.clone()) {
            continue;
        }
        let children: Vec<String> = index.children(&d).map(|c| c.id.clone()).collect();
        if !children.is_empty() {
            stack.extend(children);
        }
        deps.push(d);
    }
    deps.sort_by_key(|d| index.position(d));
    deps
}

/// The commit a task starts from, and the dependency branches merged into
/// it. A dependency integrated into HEAD (or without a branch: it ran in
/// the shared work tree, whose commits HEAD holds) needs nothing: the base
/// is HEAD. A dependency whose branch (`orch/<DEP>`) holds work not yet
/// integrated is merged in: the base is then a commit whose parents are
/// HEAD and those branches' tips (reachable only from the task's branch),
/// so the agent sees its parents' work, and the task's own changes are
/// still exactly base..branch. `orch integrate` brings the dependencies in
/// first, then the task, whose merge applies only its own changes.
pub fn base_for(
    repo: &Repo,
    settings: &Settings,
    task: &str,
    deps: &[String],
    head: Oid,
) -> Result<(Oid, Vec<String>)> {
    let mut pending: Vec<(String, String, Oid, Oid)> = Vec::new();
    for d in deps {
        let branch = settings.branch(d);
        let Some(tip) = repo.branch_tip(&branch)? else {
            continue;
        };
        let record = super::integrate::read_branch(repo, d, tip)?;
        if repo.tree_of_commit(tip)? == repo.tree_of_commit(record.base)? {
            continue;
        }
        if super::integrate::integrated(repo, &[record.base])?.contains(&(d.clone(), tip)) {
            continue;
        }
        pending.push((d.clone(), branch, tip, record.base));
    }
    if pending.is_empty() {
        return Ok((head, Vec::new()));
    }
    let merger = repo.merger()?;
    let mut ours = repo.tree_of_commit(head)?;
    for (d, branch, tip, base) in &pending {
        let base_tree = repo.tree_of_commit(*base)?;
        let theirs = repo.tree_of_commit(*tip)?;
        match merger.merge(base_tree, ours, theirs, ("HEAD", branch))? {
            Merged::Clean(t) => ours = t,
            Merged::Conflicts(paths) => {
                return Err(Error::with_help(
                    format!(
                        "`{task}` depends on `{d}`, whose branch `{branch}` does not merge with HEAD and the other dependencies in {}",
                        paths
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    format!(
                        "integrate the dependencies first (`orch integrate {d}`), resolving the conflict"
                    ),
                ));
            }
        }
    }
    let names: Vec<&str> = pending.iter().map(|(_, b, _, _)| b.as_str()).collect();
    let mut parents = vec![head];
    parents.extend(pending.iter().map(|(_, _, t, _)| *t));
    let message = format!(
        "orch({task}): base with {} merged into {}\n\nThe work of the dependencies not yet integrated, so the task starts from it.\n\nOrch-Base-For: {task}\n",
        names.join(", "),
        short(head),
    );
    let commit = repo.write_commit(ours, &parents, &message)?;
    Ok((commit, pending.into_iter().map(|(_, b, _, _)| b).collect()))
}

/// Create the task's branch at `base` and its linked worktree, then copy
/// and link the environment in (`root` is the main work tree's top). A
/// failure removes what was created.
pub fn enter(
    repo: &Repo,
    settings: &Settings,
    root: &Path,
    task: &str,
    base: Oid,
    run: &str,
    stop: &AtomicBool,
) -> Result<Isolated> {
    let branch = settings.branch(task);
    let path = worktree_path(repo, task);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    repo.create_branch(
        &branch,
        base,
        &format!("branch: dispatch run {run}, task {task}, base {base}"),
    )?;
    if let Err(e) = repo.add_worktree(&path, &branch, stop) {
        let _ = repo.delete_branch(&branch, base);
        return Err(e.into());
    }
    let notes = env::provide(root, &path, settings);
    Ok(Isolated {
        task: task.to_string(),
        branch,
        path,
        base,
        notes,
    })
}

/// Seal what the agent left in its worktree onto its branch, and return
/// the changes base..branch.
pub fn leave(repo: &Repo, settings: &Settings, iso: &Isolated, run: &str) -> Result<Left> {
    let wt = Repo::open_worktree(&iso.path)?;
    let (head, _) = wt.head_state()?;
    let agent_commits = match head {
        Some(h) => wt.first_parents(h, Some(iso.base), 100_000)?.len(),
        None => 0,
    };
    let agent_paths = match head {
        Some(h) if h != iso.base => {
            changed_paths(&repo.changes(&iso.base.to_string(), &h.to_string())?)
        }
        _ => Vec::new(),
    };
    let message = format!(
        "orch({task}): seal run {run}\n\nWhat the agent left in its worktree (tracked and untracked, not ignored), \
         committed by orch; the agent made {agent_commits} commit(s) of its own.\n\n{TASK}: {task}\n{RUN}: {run}\n{BASE}: {base}\n",
        task = iso.task,
        base = iso.base,
    );
    let sealed = wt.seal(&iso.branch, &message, &settings.environment())?;
    let changes = repo.changes(&iso.base.to_string(), &sealed.tip.to_string())?;
    let mut notes = Vec::new();
    if let Some(was) = &sealed.head_was {
        notes.push(format!(
            "the agent left its worktree on {was}; `{}` now holds that work",
            iso.branch
        ));
    }
    if !sealed.skipped.is_empty() {
        notes.push(format!(
            "not committed (not a file git stores): {}",
            sealed
                .skipped
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Left {
        tip: sealed.tip,
        changes,
        committed: sealed.committed,
        agent_commits,
        agent_head: head,
        agent_paths,
        notes,
    })
}
