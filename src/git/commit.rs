//! [`Repo::commit_files`]: commit a few files on top of HEAD without
//! touching anything else (DESIGN 7).
//!
//! Order, mirroring git: check the identity (before anything is written) →
//! take `index.lock` (waiting up to [`LOCK_WAIT`]) → read the index and HEAD →
//! refuse a conflicting staged version → write blobs, trees and the commit →
//! write the new index (only these paths' entries changed, the cached-tree
//! extension dropped, the index version kept) into `index.lock` → move the
//! ref (compare-and-swap against the HEAD read, reflog entry, ref lock
//! waited on up to [`LOCK_WAIT`]) → rename `index.lock` over the index.
//! Any failure before the ref moves drops the lock and leaves the index and
//! the branch as they were (the error says the branch did not move); a
//! failure to rename the lock after it moved says so, with the fix
//! ([`GitError::IndexNotUpdated`]).

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::index::entry::{Flags, Mode, Stage, Stat};
use gix::objs::tree::EntryKind;
use gix::refs::Target;
use gix::refs::transaction::{PreviousValue, RefEdit};

use super::{CommitInfo, GitError, LOCK_WAIT, Repo};

#[derive(Clone, Copy)]
pub(super) enum Role {
    Author,
    Committer,
}

/// One file to commit, with what HEAD and the index hold for it.
struct Planned<'a> {
    path: &'a str,
    content: &'a [u8],
    id: ObjectId,
    /// The tree entry kind (HEAD's executable bit is kept).
    kind: EntryKind,
    /// The index mode (a staged executable bit is kept).
    mode: Mode,
}

impl Repo {
    /// Commit `files` (repo-relative path, new content) on top of HEAD: the
    /// new tree is HEAD's with only these paths replaced; `message` is the
    /// message (a final newline is added if missing); author and committer
    /// come from git config or the GIT_* variables.
    ///
    /// - No identity: [`GitError::NoIdentity`], checked before anything is written.
    /// - An unborn branch gets a root commit; a detached HEAD moves itself.
    /// - The ref moves under git's lock protocol with a reflog entry
    ///   (`commit: <subject>`), only if it still points where it did when read
    ///   ([`GitError::Moved`] otherwise: nothing is clobbered).
    /// - A held `index.lock` or ref lock is waited on for about 2 s, then
    ///   [`GitError::Locked`] naming the lock file.
    /// - If the user staged a version of one of these paths that differs from
    ///   both HEAD's and ours: [`GitError::StagedConflict`], before writing.
    /// - Then only these paths' index entries are updated (stat taken from the
    ///   file on disk when it holds exactly the committed content), leaving
    ///   every other staged or unstaged change as it was.
    ///
    /// The work tree is not touched: the caller writes the files first.
    /// Hooks do not run and the commit is never signed (`gpgsign` in the
    /// result says whether `commit.gpgsign` asked for a signature).
    pub fn commit_files(
        &self,
        files: &[(String, Vec<u8>)],
        message: &str,
    ) -> Result<CommitInfo, GitError> {
        self.commit_files_with(files, message, &mut || {})
    }

    /// [`Repo::commit_files`], running `before_ref_update` between writing
    /// the commit object and moving the ref (tests use it to move the ref).
    pub(crate) fn commit_files_with(
        &self,
        files: &[(String, Vec<u8>)],
        message: &str,
        before_ref_update: &mut dyn FnMut(),
    ) -> Result<CommitInfo, GitError> {
        if files.is_empty() {
            return Err(GitError::NothingToCommit);
        }
        for (i, (path, _)) in files.iter().enumerate() {
            validate_path(path)?;
            if files[..i].iter().any(|(p, _)| p == path) {
                return Err(invalid(path, "it is given twice"));
            }
        }
        // Identity first: nothing may be written without one.
        let author = self.signature(Role::Author)?;
        let committer = self.signature(Role::Committer)?;
        let gpgsign = self
            .repo
            .config_snapshot()
            .boolean("commit.gpgsign")
            .unwrap_or(false);
        let hash = self.repo.object_hash();

        let index_path = self.repo.index_path();
        let mut lock = acquire_lock(&index_path)?;
        let mut index = self.read_index_locked(&index_path)?;
        let version = index.version();

        let head_context = "cannot read HEAD";
        let head = self
            .repo
            .head()
            .map_err(|e| GitError::gix(head_context, e))?;
        let parent: Option<ObjectId> = head.id().map(|id| id.detach());
        let branch: Option<gix::refs::FullName> = head.referent_name().map(ToOwned::to_owned);
        let head_tree = match parent {
            Some(id) => Some(
                self.repo
                    .find_commit(id)
                    .and_then(|c| c.tree())
                    .map_err(|e| GitError::gix(head_context, e))?,
            ),
            None => None,
        };

        // Plan every path and refuse conflicts before anything is written.
        let mut planned = Vec::with_capacity(files.len());
        for (path, content) in files {
            let id = gix::objs::compute_hash(hash, gix::objs::Kind::Blob, content)
                .map_err(|e| GitError::gix("cannot hash the new content", e))?;
            let in_head = match &head_tree {
                Some(tree) => head_entry(tree, path)?,
                None => None,
            };
            let (kind, mode) = check_index(&index, path, id, in_head)?;
            planned.push(Planned {
                path,
                content,
                id,
                kind,
                mode,
            });
        }

        // Objects: blobs, trees, the commit.
        let write_context = "cannot write to the object database";
        for p in &planned {
            let written = self
                .repo
                .write_blob(p.content)
                .map_err(|e| GitError::gix(write_context, e))?;
            if written.detach() != p.id {
                return Err(invalid(
                    p.path,
                    "the object database stored different content",
                ));
            }
        }
        let base_tree = head_tree
            .as_ref()
            .map(|t| t.id)
            .unwrap_or_else(|| ObjectId::empty_tree(hash));
        let mut editor = self
            .repo
            .edit_tree(base_tree)
            .map_err(|e| GitError::gix(write_context, e))?;
        for p in &planned {
            editor.upsert(p.path, p.kind, p.id).map_err(|e| {
                GitError::gix(format!("cannot place {} in the new tree", p.path), e)
            })?;
        }
        let tree = editor
            .write()
            .map_err(|e| GitError::gix(write_context, e))?
            .detach();
        let mut message = message.to_string();
        if !message.ends_with('\n') {
            message.push('\n');
        }
        let commit = gix::objs::Commit {
            tree,
            parents: parent.into_iter().collect(),
            author,
            committer: committer.clone(),
            encoding: None,
            message: message.as_str().into(),
            extra_headers: Vec::new(),
        };
        let commit_id = self
            .repo
            .write_object(&commit)
            .map_err(|e| GitError::gix(write_context, e))?
            .detach();

        // Index: only these paths, written into the lock we hold before the
        // ref moves, as git does: a failure here leaves the branch alone.
        for p in &planned {
            let stat = disk_stat(&self.workdir.join(p.path), p.content);
            let mode = p.mode;
            let bpath: &BStr = p.path.into();
            match index.entry_index_by_path_and_stage(bpath, Stage::Unconflicted) {
                Some(i) => {
                    let e = &mut index.entries_mut()[i];
                    e.id = p.id;
                    e.stat = stat;
                    e.mode = mode;
                    e.flags.remove(Flags::INTENT_TO_ADD);
                    if !e.flags.contains(Flags::SKIP_WORKTREE) {
                        e.flags.remove(Flags::EXTENDED);
                    }
                }
                None => {
                    index.dangerously_push_entry(stat, p.id, Flags::empty(), mode, bpath);
                    index.sort_entries();
                }
            }
        }
        // gix does not refresh the cached-tree extension; a stale one would
        // make the user's next `git commit` record outdated trees.
        index.remove_tree();
        let lock_path = lock.lock_path().to_path_buf();
        let not_written = |detail: String| GitError::IndexWrite {
            lock: lock_path.clone(),
            detail,
        };
        let mut bytes = Vec::new();
        index
            .write_to(&mut bytes, gix::index::write::Options::default())
            .map_err(|e| not_written(super::error::describe(&e)))?;
        let bytes = super::index::keep_version(bytes, version, hash)
            .map_err(|e| not_written(e.to_string()))?;
        {
            use std::io::Write;
            lock.write_all(&bytes)
                .and_then(|()| lock.flush())
                .map_err(|e| not_written(e.to_string()))?;
        }

        before_ref_update();
        if let Err(e) = self.move_head(parent, commit_id, &message, &committer, branch.as_ref()) {
            // A failure past the ref's rename (its reflog, say) moved it all
            // the same: then the index must follow.
            if self.points_at(branch.as_ref(), commit_id) != Some(true) {
                return Err(e);
            }
        }
        lock.commit().map_err(|e| GitError::IndexNotUpdated {
            reference: branch.as_ref().map_or_else(
                || "HEAD".to_string(),
                |b| b.shorten().to_str_lossy().into_owned(),
            ),
            commit: commit_id.to_string(),
            paths: planned
                .iter()
                .map(|p| p.path.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            detail: e.error.to_string(),
        })?;

        Ok(CommitInfo {
            id: commit_id,
            gpgsign,
            branch: branch.map(|b| b.shorten().to_str_lossy().into_owned()),
        })
    }

    /// Is `head` a commit whose first parent is `parent` (none: a root
    /// commit) and whose subject is `subject`? That is how a transition's
    /// own commit is known after a kill.
    pub fn is_commit_of(&self, head: Option<&str>, parent: Option<&str>, subject: &str) -> bool {
        let Some(head) = head else { return false };
        let Ok(commit) = self.commit_of(head) else {
            return false;
        };
        let first = commit.parent_ids().next().map(|id| id.to_string());
        let summary = commit
            .message()
            .map(|m| m.summary().to_str_lossy().into_owned())
            .unwrap_or_default();
        first.as_deref() == parent && summary == subject
    }

    /// Bring the index entries of `paths` up to HEAD's blobs (after a
    /// transition was killed between moving the branch and renaming
    /// `index.lock`), under `index.lock`. Other entries are left as they
    /// are; the index version is kept. Whether anything changed.
    pub fn sync_index_to_head(&self, paths: &[String]) -> Result<bool, GitError> {
        let index_path = self.repo.index_path();
        let mut lock = acquire_lock(&index_path)?;
        let mut index = self.read_index_locked(&index_path)?;
        let version = index.version();
        let context = "cannot read HEAD";
        let tree = self
            .repo
            .head_commit()
            .and_then(|c| c.tree())
            .map_err(|e| GitError::gix(context, e))?;
        let mut changed = false;
        for path in paths {
            let Some((kind, id)) = head_entry(&tree, path)? else {
                continue;
            };
            let mode = match kind {
                EntryKind::BlobExecutable => Mode::FILE_EXECUTABLE,
                _ => Mode::FILE,
            };
            let bpath: &BStr = path.as_str().into();
            let current = index
                .entry_by_path_and_stage(bpath, Stage::Unconflicted)
                .map(|e| (e.id, e.mode));
            if current == Some((id, mode)) {
                continue;
            }
            let content = self
                .repo
                .find_blob(id)
                .map_err(|e| GitError::gix(format!("cannot read {path} at HEAD"), e))?
                .data
                .clone();
            let stat = disk_stat(&self.workdir.join(path), &content);
            match index.entry_index_by_path_and_stage(bpath, Stage::Unconflicted) {
                Some(i) => {
                    let e = &mut index.entries_mut()[i];
                    e.id = id;
                    e.stat = stat;
                    e.mode = mode;
                    e.flags.remove(Flags::INTENT_TO_ADD);
                }
                None => {
                    index.dangerously_push_entry(stat, id, Flags::empty(), mode, bpath);
                    index.sort_entries();
                }
            }
            changed = true;
        }
        if !changed {
            return Ok(false);
        }
        index.remove_tree();
        let lock_path = lock.lock_path().to_path_buf();
        let failed = |detail: String| GitError::IndexWrite {
            lock: lock_path.clone(),
            detail,
        };
        let mut bytes = Vec::new();
        index
            .write_to(&mut bytes, gix::index::write::Options::default())
            .map_err(|e| failed(super::error::describe(&e)))?;
        let bytes = super::index::keep_version(bytes, version, self.repo.object_hash())
            .map_err(|e| failed(e.to_string()))?;
        use std::io::Write;
        lock.write_all(&bytes)
            .and_then(|()| lock.flush())
            .map_err(|e| failed(e.to_string()))?;
        lock.commit().map_err(|e| GitError::Io {
            path: index_path,
            source: e.error,
        })?;
        Ok(true)
    }

    pub(super) fn signature(&self, role: Role) -> Result<gix::actor::Signature, GitError> {
        let (sig, name, date_key) = match role {
            Role::Author => (self.repo.author(), "author", "gitoxide.commit.authorDate"),
            Role::Committer => (
                self.repo.committer(),
                "committer",
                "gitoxide.commit.committerDate",
            ),
        };
        let sig = sig
            .ok_or(GitError::NoIdentity { role: name })?
            .map_err(|e| GitError::gix(format!("the configured {name} identity is invalid"), e))?
            .trim();
        if sig.name.is_empty() || sig.email.is_empty() {
            return Err(GitError::NoIdentity { role: name });
        }
        // gix caches the persona's time when first asked; take a fresh one
        // unless GIT_AUTHOR_DATE / GIT_COMMITTER_DATE pins it.
        let time = if self.repo.config_snapshot().string(date_key).is_some() {
            sig.time()
                .map_err(|e| GitError::gix(format!("the {name} date is invalid"), e))?
        } else {
            gix::date::Time::now_local_or_utc()
        };
        Ok(gix::actor::Signature {
            name: sig.name.to_owned(),
            email: sig.email.to_owned(),
            time,
        })
    }

    pub(super) fn read_index_locked(&self, path: &Path) -> Result<gix::index::File, GitError> {
        if path.exists() {
            self.repo
                .open_index()
                .map_err(|e| GitError::gix("cannot read the git index", e))
        } else {
            Ok(gix::index::File::from_state(
                gix::index::State::new(self.repo.object_hash()),
                path,
            ))
        }
    }

    /// Moves HEAD (through to its branch) from `parent` to `new`, or fails
    /// without writing if it no longer points at `parent`.
    fn move_head(
        &self,
        parent: Option<ObjectId>,
        new: ObjectId,
        message: &str,
        committer: &gix::actor::Signature,
        branch: Option<&gix::refs::FullName>,
    ) -> Result<(), GitError> {
        let expected = match parent {
            Some(p) => PreviousValue::MustExistAndMatch(Target::Object(p)),
            None => PreviousValue::MustNotExist,
        };
        let reflog =
            gix::reference::log::message("commit", message.into(), usize::from(parent.is_some()));
        let head: gix::refs::FullName = "HEAD"
            .try_into()
            .map_err(|_| invalid("HEAD", "not a valid reference name"))?;
        let edit = RefEdit::update(head, new, expected, reflog).with_deref(true);
        let fail = gix::lock::acquire::Fail::AfterDurationWithBackoff(LOCK_WAIT);
        let mut time = gix::date::parse::TimeBuf::default();
        let result = self
            .repo
            .refs
            .transaction()
            .prepare(Some(edit), fail, fail)
            .and_then(|t| t.commit(Some(committer.to_ref(&mut time))));
        let reference = branch
            .map(|b| b.as_bstr().to_str_lossy().into_owned())
            .unwrap_or_else(|| "HEAD".to_string());
        let expected_text =
            parent.map_or_else(|| "no commit (unborn)".to_string(), |p| p.to_string());
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(actual) = moved_to(&err) {
                    return Err(GitError::Moved {
                        reference,
                        expected: expected_text,
                        actual,
                    });
                }
                if is_lock_contention(&err) {
                    return Err(GitError::Locked {
                        lock: self.held_ref_lock(branch),
                    });
                }
                if parent.is_some() && err.is_not_found() {
                    return Err(GitError::Moved {
                        reference,
                        expected: expected_text,
                        actual: "nothing (it was deleted)".to_string(),
                    });
                }
                Err(GitError::gix(format!("cannot update {reference}"), err))
            }
        }
    }

    /// Does the branch (or a detached HEAD) point at `id` now? `None` when
    /// it cannot be read.
    fn points_at(&self, branch: Option<&gix::refs::FullName>, id: ObjectId) -> Option<bool> {
        let name = branch.map_or_else(
            || "HEAD".to_string(),
            |b| b.as_bstr().to_str_lossy().into_owned(),
        );
        let mut r = self.repo.try_find_reference(name.as_str()).ok()??;
        Some(r.peel_to_id().ok()?.detach() == id)
    }

    /// The ref lock file that is in the way: the branch's or HEAD's.
    fn held_ref_lock(&self, branch: Option<&gix::refs::FullName>) -> PathBuf {
        let head_lock = self.repo.git_dir().join("HEAD.lock");
        let Some(branch) = branch else {
            return head_lock;
        };
        let mut branch_lock = self.repo.common_dir().to_path_buf();
        for part in branch.as_bstr().to_str_lossy().split('/') {
            branch_lock.push(part);
        }
        branch_lock.set_extension(match branch_lock.extension() {
            Some(ext) => format!("{}.lock", ext.to_string_lossy()),
            None => "lock".to_string(),
        });
        if !branch_lock.exists() && head_lock.exists() {
            head_lock
        } else {
            branch_lock
        }
    }
}

fn invalid(path: &str, reason: &str) -> GitError {
    GitError::InvalidPath {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

pub(super) fn validate_path(path: &str) -> Result<(), GitError> {
    if path.is_empty() {
        return Err(invalid(path, "the path is empty"));
    }
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err(invalid(
            path,
            "use a repository-relative path with `/` separators",
        ));
    }
    for component in path.split('/') {
        match component {
            "" => return Err(invalid(path, "the path has an empty component")),
            "." | ".." => return Err(invalid(path, "the path may not contain `.` or `..`")),
            c if c.eq_ignore_ascii_case(".git") => {
                return Err(invalid(path, "the path may not enter `.git`"));
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn acquire_lock(path: &Path) -> Result<gix::lock::File, GitError> {
    gix::lock::File::acquire_to_update_resource(
        path,
        gix::lock::acquire::Fail::AfterDurationWithBackoff(LOCK_WAIT),
        None,
        0,
    )
    .map_err(|err| {
        if is_lock_contention(&err) {
            let mut lock = path.as_os_str().to_owned();
            lock.push(".lock");
            GitError::Locked { lock: lock.into() }
        } else {
            GitError::gix(format!("cannot lock {}", path.display()), err)
        }
    })
}

/// What a reference holds now, when a ref transaction was refused because
/// it no longer held the value expected (or exists where it must not).
pub(super) fn moved_to(err: &gix::Error) -> Option<String> {
    use gix::refs::file::transaction::prepare::{MustNotExist, ReferenceOutOfDate};
    err.downcast_any_ref::<ReferenceOutOfDate>()
        .map(|e| e.actual.to_string())
        .or_else(|| {
            err.downcast_any_ref::<MustNotExist>()
                .map(|e| e.actual.to_string())
        })
}

pub(super) fn is_lock_contention(err: &gix::Error) -> bool {
    err.iter_errors().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AlreadyExists)
    })
}

/// What HEAD's tree holds at `path` (mode and id), refusing a path whose
/// parent is a file or which is itself a folder, link or submodule.
fn head_entry(tree: &gix::Tree<'_>, path: &str) -> Result<Option<(EntryKind, ObjectId)>, GitError> {
    let context = || format!("cannot look up {path} in HEAD");
    let parts: Vec<&str> = path.split('/').collect();
    for depth in 1..parts.len() {
        let entry = tree
            .lookup_entry(parts[..depth].iter().copied())
            .map_err(|e| GitError::gix(context(), e))?;
        match entry {
            None => return Ok(None),
            Some(e) if e.mode().is_tree() => {}
            Some(_) => return Err(invalid(path, "a parent folder of it is a file in HEAD")),
        }
    }
    let entry = tree
        .lookup_entry(parts.iter().copied())
        .map_err(|e| GitError::gix(context(), e))?;
    match entry {
        None => Ok(None),
        Some(e) => match e.mode().kind() {
            EntryKind::Blob | EntryKind::BlobExecutable => {
                Ok(Some((e.mode().kind(), e.object_id())))
            }
            EntryKind::Tree => Err(invalid(path, "it is a folder in HEAD")),
            EntryKind::Link => Err(invalid(path, "it is a symbolic link in HEAD")),
            EntryKind::Commit => Err(invalid(path, "it is a submodule in HEAD")),
        },
    }
}

/// Checks the index for `path` against HEAD's entry and the new blob, and
/// returns the tree entry kind to commit (HEAD's executable bit is kept)
/// and the index mode to write (a staged executable bit is kept).
fn check_index(
    index: &gix::index::File,
    path: &str,
    new: ObjectId,
    in_head: Option<(EntryKind, ObjectId)>,
) -> Result<(EntryKind, Mode), GitError> {
    let bpath: &BStr = path.into();
    // A file entry at a parent path, a sparse directory covering the path,
    // or entries below it (the path is a folder in the index).
    let mut prefix = String::new();
    for part in path.split('/') {
        if !prefix.is_empty() {
            let parent: &BStr = prefix.as_str().into();
            if let Ok(i) = index.entry_index_by_path(parent) {
                let e = &index.entries()[i];
                return Err(if e.mode == Mode::DIR {
                    invalid(
                        path,
                        "it lies in a sparse-index folder; widen the sparse checkout (git sparse-checkout add) first",
                    )
                } else {
                    invalid(path, "a parent folder of it is a file in the index")
                });
            }
            let sparse = format!("{prefix}/");
            if index.entry_index_by_path(sparse.as_str().into()).is_ok() {
                return Err(invalid(
                    path,
                    "it lies in a sparse-index folder; widen the sparse checkout (git sparse-checkout add) first",
                ));
            }
            prefix.push('/');
        }
        prefix.push_str(part);
    }
    let below = format!("{path}/");
    if index
        .prefixed_entries(below.as_str().into())
        .is_some_and(|e| !e.is_empty())
    {
        return Err(invalid(path, "it is a folder in the index"));
    }

    let mut staged = None;
    if let Some(range) = index.entry_range(bpath) {
        for e in &index.entries()[range] {
            if e.stage() != Stage::Unconflicted {
                return Err(GitError::StagedConflict(path.to_string()));
            }
            if !e.flags.contains(Flags::INTENT_TO_ADD) {
                staged = Some((e.id, e.mode));
            }
        }
    }
    match (staged, in_head) {
        (Some((id, _)), Some((_, head))) if id != head && id != new => {
            return Err(GitError::StagedConflict(path.to_string()));
        }
        (Some((id, _)), None) if id != new => {
            return Err(GitError::StagedConflict(path.to_string()));
        }
        // Staged for deletion (`git rm --cached`).
        (None, Some(_)) => return Err(GitError::StagedConflict(path.to_string())),
        _ => {}
    }
    if let Some((_, mode)) = staged
        && !matches!(mode, Mode::FILE | Mode::FILE_EXECUTABLE)
    {
        return Err(invalid(path, "the index holds it as a link or submodule"));
    }
    let kind = match (in_head, staged) {
        (Some((kind, _)), _) => kind,
        (None, Some((_, Mode::FILE_EXECUTABLE))) => EntryKind::BlobExecutable,
        _ => EntryKind::Blob,
    };
    let mode = match (staged, kind) {
        (Some((_, mode)), _) => mode,
        (None, EntryKind::BlobExecutable) => Mode::FILE_EXECUTABLE,
        (None, _) => Mode::FILE,
    };
    Ok((kind, mode))
}

/// The index stat of the file on disk if it holds exactly `content` (so the
/// path shows clean), else an empty stat that makes git look at it again.
fn disk_stat(path: &Path, content: &[u8]) -> Stat {
    let Ok(before) = gix::index::fs::Metadata::from_path_no_follow(path) else {
        return Stat::default();
    };
    if !before.is_file() {
        return Stat::default();
    }
    match std::fs::read(path) {
        Ok(on_disk) if on_disk == content => {}
        _ => return Stat::default(),
    }
    let Ok(after) = gix::index::fs::Metadata::from_path_no_follow(path) else {
        return Stat::default();
    };
    match (Stat::from_fs(&before), Stat::from_fs(&after)) {
        (Ok(a), Ok(b)) if a == b => a,
        _ => Stat::default(),
    }
}
