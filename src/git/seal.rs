//! [`Repo::seal`]: commit whatever an agent left in its worktree onto its
//! branch, so that the branch alone records the task's work.
//!
//! Every path `git status` reports (staged, modified, deleted, untracked;
//! ignored files excluded) is committed as it is on disk, on top of the
//! worktree's HEAD, so the agent's own commits stay beneath. The seal is
//! made even when nothing is left: its trailers (task, run, base) make the
//! branch self-describing. Order: `index.lock` → read HEAD and the index →
//! blobs, tree, commit → move the ref (compare-and-swap) → the index
//! entries of those paths → commit the lock.

use std::collections::BTreeSet;
use std::path::Path;

use gix::ObjectId;
use gix::objs::tree::EntryKind;
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use super::commit::{acquire_lock, validate_path};
use super::files::{self, Disk};
use super::{GitError, Repo};

/// What [`Repo::seal`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The branch's new tip (the seal commit).
    pub tip: ObjectId,
    /// Paths orch committed for the agent (changed, added or deleted since
    /// the worktree's HEAD), sorted.
    pub committed: Vec<String>,
    /// Untracked entries git cannot store as files (a nested repository, a
    /// FIFO), left out of the commit.
    pub skipped: Vec<String>,
    /// The worktree's HEAD was not on the branch: what it was on (a branch
    /// name, or `a detached HEAD`). The branch now holds the work, and the
    /// worktree is back on it.
    pub head_was: Option<String>,
}

impl Repo {
    /// Open the linked worktree at `path` (its top folder).
    pub fn open_worktree(path: &Path) -> Result<Repo, GitError> {
        let repo = gix::open(path).map_err(|e| {
            GitError::gix(format!("cannot open the worktree at {}", path.display()), e)
        })?;
        let repo = Repo::from_gix(repo)?;
        let same = repo.workdir() == path
            || repo.workdir().canonicalize().ok() == path.canonicalize().ok();
        if !same {
            return Err(GitError::InvalidPath {
                path: path.display().to_string(),
                reason: format!(
                    "it is not the top of a worktree (git finds {} instead)",
                    repo.workdir().display()
                ),
            });
        }
        Ok(repo)
    }

    /// Commit everything left in this worktree onto `branch` with
    /// `message` (see the module docs), and leave the worktree clean on it.
    /// Paths equal to or under one of `exclude` (the environment orch
    /// copied or linked in) are left out.
    pub fn seal(
        &self,
        branch: &str,
        message: &str,
        exclude: &[String],
    ) -> Result<Sealed, GitError> {
        self.check_identity()?;
        let branch_name = super::refs::branch_ref(branch)?;
        let dirty = self.dirty_paths()?;
        let index_path = self.repo.index_path();
        let lock = acquire_lock(&index_path)?;
        let mut index = self.read_index_locked(&index_path)?;
        let (head, on) = self.head_state()?;
        let head = match head {
            Some(id) => id,
            None => self
                .branch_tip(branch)?
                .ok_or_else(|| GitError::InvalidPath {
                    path: self.workdir.display().to_string(),
                    reason: format!("the worktree has no commit and branch {branch} is gone"),
                })?,
        };
        let head_tree = self.tree_of_commit(head)?;
        let mut editor = self
            .repo
            .edit_tree(head_tree)
            .map_err(|e| GitError::gix("cannot edit the worktree's tree", e))?;
        let mut committed = Vec::new();
        let mut skipped = Vec::new();
        let mut touched = BTreeSet::new();
        let mut entries = Vec::new();
        let mut disks = Vec::new();
        let excluded = |p: &str| {
            exclude.iter().any(|e| {
                p == e
                    || p.strip_prefix(e.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
        };
        for path in &dirty {
            if excluded(path) {
                continue;
            }
            if validate_path(path).is_err() {
                skipped.push(path.clone());
                continue;
            }
            let disk = files::read(&self.workdir, path)?;
            if disk == Disk::Other {
                skipped.push(path.clone());
                continue;
            }
            disks.push((path, disk));
        }
        // Removals first: a file that became a folder is removed before the
        // files under it are added.
        for (path, disk) in &disks {
            if *disk == Disk::Missing {
                editor
                    .remove(path.as_str())
                    .map_err(|e| GitError::gix(format!("cannot remove {path} from the tree"), e))?;
                touched.insert((*path).clone());
                committed.push((*path).clone());
            }
        }
        for (path, disk) in &disks {
            let Some((kind, bytes)) = disk.entry() else {
                continue;
            };
            let id = self
                .repo
                .write_blob(bytes)
                .map_err(|e| GitError::gix("cannot write to the object database", e))?
                .detach();
            editor
                .upsert(path.as_str(), kind, id)
                .map_err(|e| GitError::gix(format!("cannot place {path} in the tree"), e))?;
            touched.insert((*path).clone());
            entries.push(((*path).clone(), kind, id));
            committed.push((*path).clone());
        }
        let tree = editor
            .write()
            .map_err(|e| GitError::gix("cannot write the worktree's tree", e))?
            .detach();
        // Paths whose content equals HEAD's (a file modified, then put back)
        // are not work orch committed.
        let changed: BTreeSet<String> = if tree == head_tree {
            BTreeSet::new()
        } else {
            self.tree_paths_changed(head_tree, tree)?
        };
        committed.retain(|p| changed.contains(p));
        committed.sort();
        committed.dedup();

        let tip = self.write_commit(tree, &[head], message)?;
        let subject = message.lines().next().unwrap_or("orch seal");
        let reflog = format!("commit: {subject}");
        let head_was = match on.as_deref() {
            Some(b) if b == branch => {
                self.edit_ref(RefEdit {
                    change: Change::Update {
                        log: LogChange {
                            mode: RefLog::AndReference,
                            force_create_reflog: false,
                            message: reflog.as_str().into(),
                        },
                        expected: PreviousValue::MustExistAndMatch(Target::Object(head)),
                        new: Target::Object(tip),
                    },
                    name: "HEAD".try_into().map_err(|_| GitError::InvalidPath {
                        path: "HEAD".into(),
                        reason: "not a reference name".into(),
                    })?,
                    deref: true,
                })?;
                None
            }
            other => {
                // The agent switched branches or detached HEAD: the task's
                // branch takes the work, and the worktree goes back to it.
                let was =
                    other.map_or_else(|| "a detached HEAD".to_string(), |b| format!("branch {b}"));
                let current = self.branch_tip(branch)?;
                let expected = match current {
                    Some(id) => PreviousValue::MustExistAndMatch(Target::Object(id)),
                    None => PreviousValue::MustNotExist,
                };
                self.edit_ref(RefEdit {
                    change: Change::Update {
                        log: LogChange {
                            mode: RefLog::AndReference,
                            force_create_reflog: true,
                            message: format!("{reflog} (the agent left the worktree on {was})")
                                .into(),
                        },
                        expected,
                        new: Target::Object(tip),
                    },
                    name: branch_name.clone(),
                    deref: false,
                })?;
                self.edit_ref(RefEdit {
                    change: Change::Update {
                        log: LogChange {
                            mode: RefLog::AndReference,
                            force_create_reflog: false,
                            message: format!("checkout: moving to {branch}").into(),
                        },
                        expected: PreviousValue::Any,
                        new: Target::Symbolic(branch_name),
                    },
                    name: "HEAD".try_into().map_err(|_| GitError::InvalidPath {
                        path: "HEAD".into(),
                        reason: "not a reference name".into(),
                    })?,
                    deref: false,
                })?;
                Some(was)
            }
        };

        files::update_index(&mut index, &self.workdir, &touched, &entries);
        files::write_index(&index, lock)?;
        Ok(Sealed {
            tip,
            committed,
            skipped,
            head_was,
        })
    }

    /// Paths (files, links, submodules) that differ between two trees, no
    /// rename detection: a rename is its two paths.
    pub(super) fn tree_paths_changed(
        &self,
        a: ObjectId,
        b: ObjectId,
    ) -> Result<BTreeSet<String>, GitError> {
        Ok(self
            .tree_changes(a, b)?
            .into_iter()
            .map(|c| c.path)
            .collect())
    }
}

/// `kind` is a blob-like entry git stores for a file.
pub(super) fn is_file_kind(kind: EntryKind) -> bool {
    matches!(
        kind,
        EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link
    )
}
