//! [`Repo::advance`]: move a work tree's HEAD from one commit to another
//! (a fast-forward of commits orch made), updating the files and index
//! entries of exactly the paths whose content differs, and refusing before
//! anything is written when one of those paths holds uncommitted work
//! (staged, modified, or an untracked file or folder in the way).
//!
//! Order: `index.lock` → HEAD must still be `from` → the check → a journal
//! (`<git-dir>/orch-advance`: from, to) → deletions, then writes (each a
//! temp file renamed over the path) → the index entries → HEAD moved
//! (compare-and-swap, reflog) → the journal removed. Killed at any point,
//! the journal says what to finish: [`Repo::resume_advance`] completes it
//! (every listed path is either as it was or as it will be) or says which
//! paths changed since.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::index::entry::{Mode, Stage};
use gix::objs::tree::EntryKind;
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use super::commit::acquire_lock;
use super::files::{self, Disk};
use super::seal::is_file_kind;
use super::{GitError, Repo};

/// One path whose entry differs between two trees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathChange {
    pub path: String,
    pub old: Option<(EntryKind, ObjectId)>,
    pub new: Option<(EntryKind, ObjectId)>,
}

/// What [`Repo::resume_advance`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resumed {
    /// The interrupted move was completed: HEAD is at `to`.
    Finished { from: ObjectId, to: ObjectId },
    /// HEAD had moved elsewhere since: the journal was dropped, nothing
    /// written.
    Abandoned {
        from: ObjectId,
        to: ObjectId,
        head: Option<ObjectId>,
    },
}

const JOURNAL: &str = "orch-advance";

impl Repo {
    /// Paths (files, links, submodules; no folders) whose entries differ
    /// between two trees, without rename detection, sorted.
    pub fn tree_changes(&self, a: ObjectId, b: ObjectId) -> Result<Vec<PathChange>, GitError> {
        use gix::object::tree::diff::ChangeDetached as C;
        if a == b {
            return Ok(Vec::new());
        }
        let context = || format!("cannot compare tree {a} with {b}");
        let old = self
            .repo
            .find_tree(a)
            .map_err(|e| GitError::gix(context(), e))?;
        let new = self
            .repo
            .find_tree(b)
            .map_err(|e| GitError::gix(context(), e))?;
        let options = gix::diff::Options::default().with_rewrites(None);
        let changes = self
            .repo
            .diff_tree_to_tree(Some(&old), Some(&new), Some(options))
            .map_err(|e| GitError::gix(context(), e))?;
        let entry = |mode: gix::objs::tree::EntryMode, id: ObjectId| {
            (!mode.is_tree()).then(|| (mode.kind(), id))
        };
        let mut out: Vec<PathChange> = Vec::new();
        for c in changes {
            let (path, old, new) = match c {
                C::Addition {
                    location,
                    entry_mode,
                    id,
                    ..
                } => (location, None, entry(entry_mode, id)),
                C::Deletion {
                    location,
                    entry_mode,
                    id,
                    ..
                } => (location, entry(entry_mode, id), None),
                C::Modification {
                    location,
                    previous_entry_mode,
                    previous_id,
                    entry_mode,
                    id,
                } => (
                    location,
                    entry(previous_entry_mode, previous_id),
                    entry(entry_mode, id),
                ),
                C::Rewrite { .. } => continue,
            };
            if old.is_none() && new.is_none() {
                continue;
            }
            out.push(PathChange {
                path: path.to_str_lossy().into_owned(),
                old,
                new,
            });
        }
        out.sort_by(|x, y| x.path.cmp(&y.path));
        Ok(out)
    }

    /// Of `changes`, the paths where this work tree holds something other
    /// than the old side (or, with `accept_new`, the new side): a staged
    /// version, a modified or deleted file, an untracked file where one is
    /// added, an untracked file or folder in the way of a new path.
    pub fn touched(
        &self,
        changes: &[PathChange],
        accept_new: bool,
    ) -> Result<Vec<String>, GitError> {
        let index = self
            .repo
            .index_or_empty()
            .map_err(|e| GitError::gix("cannot read the git index", e))?;
        self.touched_in(&index, changes, accept_new)
    }

    fn touched_in(
        &self,
        index: &gix::index::State,
        changes: &[PathChange],
        accept_new: bool,
    ) -> Result<Vec<String>, GitError> {
        let hash = self.repo.object_hash();
        let deleted: BTreeSet<&str> = changes
            .iter()
            .filter(|c| c.new.is_none() || c.new.is_some_and(|(k, _)| !is_file_kind(k)))
            .map(|c| c.path.as_str())
            .collect();
        let mut out = Vec::new();
        for c in changes {
            let sides: Vec<Option<(EntryKind, ObjectId)>> = if accept_new {
                vec![c.old, c.new]
            } else {
                vec![c.old]
            };
            // The index: stage 0 as one of the sides, no conflict stages.
            let bpath: &gix::bstr::BStr = c.path.as_str().into();
            let mut staged = None;
            let mut conflicted = false;
            if let Some(range) = index.entry_range(bpath) {
                for e in &index.entries()[range] {
                    if e.stage() != Stage::Unconflicted {
                        conflicted = true;
                    } else {
                        staged = Some((e.mode, e.id));
                    }
                }
            }
            let index_ok = !conflicted
                && sides.iter().any(|side| match (side, staged) {
                    (None, None) => true,
                    (Some((kind, id)), Some((mode, sid))) => sid == *id && same_mode(*kind, mode),
                    _ => false,
                });
            if !index_ok {
                out.push(c.path.clone());
                continue;
            }
            // Submodules: only their index entry is orch's business.
            if c.old.is_some_and(|(k, _)| k == EntryKind::Commit)
                || c.new.is_some_and(|(k, _)| k == EntryKind::Commit)
            {
                continue;
            }
            // Something in the way of a new path: a parent that is a file
            // (not one being deleted), or a folder with other files in it.
            if c.old.is_none() {
                if let Some(blocker) = blocking_parent(&self.workdir, &c.path, &deleted) {
                    out.push(blocker);
                    continue;
                }
                let at = self.workdir.join(&c.path);
                if std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir()) {
                    if !only_deleted_inside(&at, &c.path, &deleted) {
                        out.push(c.path.clone());
                    }
                    continue;
                }
            }
            let disk = files::read(&self.workdir, &c.path)?;
            let disk_ok = match &disk {
                Disk::Other => false,
                _ => {
                    let on_disk = match disk.entry() {
                        None => None,
                        Some((kind, bytes)) => Some((kind, files::hash(hash, bytes)?)),
                    };
                    sides.iter().any(|side| match (side, on_disk) {
                        (None, None) => true,
                        (Some((kind, id)), Some((dkind, did))) => {
                            did == *id && same_kind(*kind, dkind)
                        }
                        _ => false,
                    })
                }
            };
            if !disk_ok {
                out.push(c.path.clone());
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Move HEAD from `from` to `to`, updating the work tree and the index
    /// for the paths that differ (see the module docs). Refused with
    /// [`GitError::Uncommitted`] before anything is written when any of
    /// them holds uncommitted work. Returns the paths changed.
    pub fn advance(
        &self,
        from: ObjectId,
        to: ObjectId,
        reflog: &str,
    ) -> Result<Vec<PathChange>, GitError> {
        self.check_identity()?;
        if self.journal_path().exists() {
            return Err(GitError::Interrupted {
                journal: self.journal_path(),
            });
        }
        let index_path = self.repo.index_path();
        let lock = acquire_lock(&index_path)?;
        let mut index = self.read_index_locked(&index_path)?;
        let (head, _) = self.head_state()?;
        if head != Some(from) {
            return Err(GitError::Moved {
                reference: "HEAD".into(),
                expected: from.to_string(),
                actual: head.map_or_else(|| "no commit".to_string(), |h| h.to_string()),
            });
        }
        let changes = self.tree_changes(self.tree_of_commit(from)?, self.tree_of_commit(to)?)?;
        let touched = self.touched_in(&index, &changes, false)?;
        if !touched.is_empty() {
            return Err(GitError::Uncommitted { paths: touched });
        }
        self.write_journal(from, to)?;
        self.apply(&mut index, &changes, lock)?;
        self.move_head_to(from, to, reflog)?;
        let _ = std::fs::remove_file(self.journal_path());
        Ok(changes)
    }

    /// The move [`Repo::advance`] was doing when it was killed, if any:
    /// (from, to).
    pub fn interrupted_advance(&self) -> Option<(ObjectId, ObjectId)> {
        let text = std::fs::read_to_string(self.journal_path()).ok()?;
        let mut from = None;
        let mut to = None;
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("from ") {
                from = ObjectId::from_hex(v.trim().as_bytes()).ok();
            } else if let Some(v) = line.strip_prefix("to ") {
                to = ObjectId::from_hex(v.trim().as_bytes()).ok();
            }
        }
        Some((from?, to?))
    }

    /// Finish a move [`Repo::advance`] was killed in; `None` when there is
    /// none. Paths that hold neither side any more are
    /// [`GitError::Uncommitted`], and nothing is written.
    pub fn resume_advance(&self, reflog: &str) -> Result<Option<Resumed>, GitError> {
        let journal = self.journal_path();
        if !journal.exists() {
            return Ok(None);
        }
        let Some((from, to)) = self.interrupted_advance() else {
            // Unreadable: killed while writing it, before any file moved.
            let _ = std::fs::remove_file(&journal);
            return Ok(None);
        };
        self.check_identity()?;
        let index_path = self.repo.index_path();
        let lock = acquire_lock(&index_path)?;
        let mut index = self.read_index_locked(&index_path)?;
        let (head, _) = self.head_state()?;
        if head != Some(from) && head != Some(to) {
            drop(lock);
            let _ = std::fs::remove_file(&journal);
            return Ok(Some(Resumed::Abandoned { from, to, head }));
        }
        let changes = self.tree_changes(self.tree_of_commit(from)?, self.tree_of_commit(to)?)?;
        let touched = self.touched_in(&index, &changes, true)?;
        if !touched.is_empty() {
            return Err(GitError::Uncommitted { paths: touched });
        }
        // Temp files a write killed half-way left beside its path.
        let folders: BTreeSet<PathBuf> = changes
            .iter()
            .filter_map(|c| self.workdir.join(&c.path).parent().map(Path::to_path_buf))
            .collect();
        for folder in folders {
            files::remove_temps(&folder);
        }
        self.apply(&mut index, &changes, lock)?;
        if head == Some(from) {
            self.move_head_to(from, to, reflog)?;
        }
        let _ = std::fs::remove_file(&journal);
        Ok(Some(Resumed::Finished { from, to }))
    }

    fn journal_path(&self) -> PathBuf {
        self.repo.git_dir().join(JOURNAL)
    }

    fn write_journal(&self, from: ObjectId, to: ObjectId) -> Result<(), GitError> {
        let path = self.journal_path();
        let tmp = path.with_extension("tmp");
        let text = format!("from {from}\nto {to}\n");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| GitError::Io { path, source })
    }

    /// Deletions, then writes, then the index entries (committing `lock`).
    fn apply(
        &self,
        index: &mut gix::index::File,
        changes: &[PathChange],
        lock: gix::lock::File,
    ) -> Result<(), GitError> {
        for c in changes {
            let keeps_file = c.new.is_some_and(|(k, _)| is_file_kind(k));
            let had_file = c.old.is_some_and(|(k, _)| is_file_kind(k));
            if had_file && !keeps_file {
                files::delete(&self.workdir, &c.path)?;
            }
        }
        for c in changes {
            let Some((kind, id)) = c.new else { continue };
            if !is_file_kind(kind) {
                continue;
            }
            let blob = self
                .repo
                .find_blob(id)
                .map_err(|e| GitError::gix(format!("cannot read {} ({id})", c.path), e))?;
            files::write(&self.workdir, &c.path, kind, &blob.data)?;
        }
        let paths: BTreeSet<String> = changes.iter().map(|c| c.path.clone()).collect();
        let entries: Vec<(String, EntryKind, ObjectId)> = changes
            .iter()
            .filter_map(|c| c.new.map(|(k, id)| (c.path.clone(), k, id)))
            .collect();
        files::update_index(index, &self.workdir, &paths, &entries);
        files::write_index(index, lock)
    }

    fn move_head_to(&self, from: ObjectId, to: ObjectId, reflog: &str) -> Result<(), GitError> {
        self.edit_ref(RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: false,
                    message: reflog.into(),
                },
                expected: PreviousValue::MustExistAndMatch(Target::Object(from)),
                new: Target::Object(to),
            },
            name: "HEAD".try_into().map_err(|_| GitError::InvalidPath {
                path: "HEAD".into(),
                reason: "not a reference name".into(),
            })?,
            deref: true,
        })
    }
}

fn same_mode(kind: EntryKind, mode: Mode) -> bool {
    match kind {
        EntryKind::Blob | EntryKind::BlobExecutable => {
            mode == Mode::FILE || mode == Mode::FILE_EXECUTABLE
        }
        EntryKind::Link => mode == Mode::SYMLINK,
        EntryKind::Commit => mode.contains(Mode::COMMIT),
        EntryKind::Tree => mode == Mode::DIR,
    }
}

fn same_kind(a: EntryKind, b: EntryKind) -> bool {
    match (a, b) {
        (
            EntryKind::Blob | EntryKind::BlobExecutable,
            EntryKind::Blob | EntryKind::BlobExecutable,
        ) => {
            // The executable bit counts where the file system keeps it.
            cfg!(not(unix)) || a == b
        }
        _ => a == b,
    }
}

/// The first parent folder of `rel` that exists on disk as something other
/// than a folder and is not among the paths being deleted.
fn blocking_parent(root: &Path, rel: &str, deleted: &BTreeSet<&str>) -> Option<String> {
    let mut at = root.to_path_buf();
    let mut prefix = String::new();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        at.push(part);
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => {}
            Ok(_) if deleted.contains(prefix.as_str()) => return None,
            Ok(_) => return Some(prefix),
            Err(_) => return None,
        }
    }
    None
}

/// Every file under the folder `dir` (the path `rel`) is being deleted.
fn only_deleted_inside(dir: &Path, rel: &str, deleted: &BTreeSet<&str>) -> bool {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_type().is_dir())
        .all(|e| {
            e.path()
                .strip_prefix(dir)
                .ok()
                .map(|p| {
                    let sub: Vec<String> = p
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    format!("{rel}/{}", sub.join("/"))
                })
                .is_some_and(|p| deleted.contains(p.as_str()))
        })
}
