//! Branches as records: create one at a commit, find its tip, list those
//! under a prefix, move or delete one only if it is where it was read
//! (compare-and-swap under git's lock protocol, with a reflog entry), and
//! write a commit object without moving any ref.

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target};

use super::commit::Role;
use super::{GitError, LOCK_WAIT, Repo};

/// A commit as [`Repo::commit_info`] reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitRecord {
    pub id: ObjectId,
    pub subject: String,
    pub trailers: Vec<(String, String)>,
    pub parents: Vec<ObjectId>,
    /// Commit time, seconds since the epoch.
    pub time: i64,
}

impl CommitRecord {
    /// The value of the first trailer named `key` (case-insensitive), trimmed.
    pub fn trailer(&self, key: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    }
}

/// A branch name (`orch/P1-UI-01`) as a full reference name, or an error
/// saying why git would refuse it.
pub fn branch_ref(branch: &str) -> Result<FullName, GitError> {
    let full = format!("refs/heads/{branch}");
    FullName::try_from(full.as_str()).map_err(|e| GitError::InvalidPath {
        path: branch.to_string(),
        reason: format!("it is not a valid branch name: {e}"),
    })
}

impl Repo {
    /// The commit a branch points at; `None` when there is no such branch.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<ObjectId>, GitError> {
        let name = branch_ref(branch)?;
        let context = || format!("cannot read branch {branch}");
        let found = self
            .repo
            .try_find_reference(name.as_ref())
            .map_err(|e| GitError::gix(context(), e))?;
        match found {
            None => Ok(None),
            Some(mut r) => Ok(Some(
                r.peel_to_id()
                    .map_err(|e| GitError::gix(context(), e))?
                    .detach(),
            )),
        }
    }

    /// Branches whose name starts with `prefix` (`orch/`), with their tips,
    /// sorted by name. A branch that cannot be read is skipped.
    pub fn branches(&self, prefix: &str) -> Result<Vec<(String, ObjectId)>, GitError> {
        let context = "cannot list the branches";
        let platform = self
            .repo
            .references()
            .map_err(|e| GitError::gix(context, e))?;
        let iter = platform
            .local_branches()
            .map_err(|e| GitError::gix(context, e))?;
        let mut out = Vec::new();
        for r in iter {
            let Ok(mut r) = r else { continue };
            let name = r.name().as_bstr().to_str_lossy().into_owned();
            let Some(short) = name.strip_prefix("refs/heads/") else {
                continue;
            };
            if !short.starts_with(prefix) {
                continue;
            }
            let short = short.to_string();
            if let Ok(id) = r.peel_to_id() {
                out.push((short, id.detach()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Create `branch` at `at`; fails with [`GitError::Moved`] when it
    /// already exists. The reflog says `message`.
    pub fn create_branch(&self, branch: &str, at: ObjectId, message: &str) -> Result<(), GitError> {
        self.create_ref(branch_ref(branch)?, self.branch_tip(branch)?, at, message)
    }

    /// Create the reference `name` at `at` with a reflog entry, only if it
    /// does not exist: `now` is what it points at now (read by the caller),
    /// and anything there fails with [`GitError::Moved`] naming it.
    pub(super) fn create_ref(
        &self,
        name: FullName,
        now: Option<ObjectId>,
        at: ObjectId,
        message: &str,
    ) -> Result<(), GitError> {
        // gix lets "must not exist" pass for a ref already at the new value.
        if let Some(tip) = now {
            return Err(GitError::Moved {
                reference: name.as_bstr().to_str_lossy().into_owned(),
                expected: "no such reference".into(),
                actual: tip.to_string(),
            });
        }
        self.edit_ref(RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: true,
                    message: message.into(),
                },
                expected: PreviousValue::MustNotExist,
                new: Target::Object(at),
            },
            name,
            deref: false,
        })
    }

    /// Move `branch` from `from` to `to` (`None`: it must not exist yet).
    pub fn move_branch(
        &self,
        branch: &str,
        from: Option<ObjectId>,
        to: ObjectId,
        message: &str,
    ) -> Result<(), GitError> {
        let name = branch_ref(branch)?;
        let expected = match from {
            Some(id) => PreviousValue::MustExistAndMatch(Target::Object(id)),
            None => PreviousValue::MustNotExist,
        };
        self.edit_ref(RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: true,
                    message: message.into(),
                },
                expected,
                new: Target::Object(to),
            },
            name,
            deref: false,
        })
    }

    /// Delete `branch` if it still points at `expected` (and its reflog).
    pub fn delete_branch(&self, branch: &str, expected: ObjectId) -> Result<(), GitError> {
        let name = branch_ref(branch)?;
        self.edit_ref(RefEdit {
            change: Change::Delete {
                expected: PreviousValue::MustExistAndMatch(Target::Object(expected)),
                log: RefLog::AndReference,
            },
            name,
            deref: false,
        })
    }

    /// One reference edit under git's lock protocol, the lock waited on for
    /// [`LOCK_WAIT`]; a ref that moved is [`GitError::Moved`].
    pub(super) fn edit_ref(&self, edit: RefEdit) -> Result<(), GitError> {
        let reference = edit.name.as_bstr().to_str_lossy().into_owned();
        let expected = match &edit.change {
            Change::Update { expected, .. } | Change::Delete { expected, .. } => expected.clone(),
        };
        let committer = self.signature(Role::Committer)?;
        let fail = gix::lock::acquire::Fail::AfterDurationWithBackoff(LOCK_WAIT);
        let mut time = gix::date::parse::TimeBuf::default();
        let result = self
            .repo
            .refs
            .transaction()
            .prepare(Some(edit), fail, fail)
            .and_then(|t| t.commit(Some(committer.to_ref(&mut time))));
        let Err(err) = result else { return Ok(()) };
        let expected_text = match &expected {
            PreviousValue::MustNotExist => "no such reference".to_string(),
            PreviousValue::MustExistAndMatch(Target::Object(id))
            | PreviousValue::ExistingMustMatch(Target::Object(id)) => id.to_string(),
            _ => "a value it no longer has".to_string(),
        };
        if let Some(actual) = super::commit::moved_to(&err) {
            return Err(GitError::Moved {
                reference,
                expected: expected_text,
                actual,
            });
        }
        if super::commit::is_lock_contention(&err) {
            let mut lock = self.repo.common_dir().to_path_buf();
            for part in reference.split('/') {
                lock.push(part);
            }
            let mut name = lock.into_os_string();
            name.push(".lock");
            return Err(GitError::Locked { lock: name.into() });
        }
        if err.is_not_found() && !matches!(expected, PreviousValue::MustNotExist) {
            return Err(GitError::Moved {
                reference,
                expected: expected_text,
                actual: "nothing (it was deleted)".to_string(),
            });
        }
        Err(GitError::gix(format!("cannot update {reference}"), err))
    }

    /// Write a commit object (author and committer from git config or the
    /// GIT_* variables) without moving any reference.
    pub fn write_commit(
        &self,
        tree: ObjectId,
        parents: &[ObjectId],
        message: &str,
    ) -> Result<ObjectId, GitError> {
        let author = self.signature(Role::Author)?;
        let committer = self.signature(Role::Committer)?;
        let mut message = message.to_string();
        if !message.ends_with('\n') {
            message.push('\n');
        }
        let commit = gix::objs::Commit {
            tree,
            parents: parents.iter().copied().collect(),
            author,
            committer,
            encoding: None,
            message: message.as_str().into(),
            extra_headers: Vec::new(),
        };
        Ok(self
            .repo
            .write_object(&commit)
            .map_err(|e| GitError::gix("cannot write to the object database", e))?
            .detach())
    }

    /// The tree of a commit.
    pub fn tree_of_commit(&self, commit: ObjectId) -> Result<ObjectId, GitError> {
        self.repo
            .find_commit(commit)
            .and_then(|c| c.tree_id().map(|t| t.detach()))
            .map_err(|e| GitError::gix(format!("cannot read commit {commit}"), e))
    }

    /// Commits from `tip` along first parents, newest first, stopping
    /// before `until` (or a root), at most `limit`.
    pub fn first_parents(
        &self,
        tip: ObjectId,
        until: Option<ObjectId>,
        limit: usize,
    ) -> Result<Vec<CommitRecord>, GitError> {
        let mut out = Vec::new();
        let mut at = Some(tip);
        while let Some(id) = at {
            if Some(id) == until || out.len() >= limit {
                break;
            }
            let info = self.commit_info(id)?;
            at = info.parents.first().copied();
            out.push(info);
        }
        Ok(out)
    }

    /// A commit's subject, trailers, parents and commit time.
    pub fn commit_info(&self, id: ObjectId) -> Result<CommitRecord, GitError> {
        let context = || format!("cannot read commit {id}");
        let commit = self
            .repo
            .find_commit(id)
            .map_err(|e| GitError::gix(context(), e))?;
        let message = commit.message().map_err(|e| GitError::gix(context(), e))?;
        let trailers = match message.body() {
            Some(body) => body
                .trailers()
                .map(|t| (super::lossy(t.token), super::lossy(t.value.as_ref())))
                .collect(),
            None => Vec::new(),
        };
        let time = commit
            .time()
            .map_err(|e| GitError::gix(context(), e))?
            .seconds;
        Ok(CommitRecord {
            id,
            subject: super::lossy(message.summary().as_ref()),
            trailers,
            parents: commit.parent_ids().map(|p| p.detach()).collect(),
            time,
        })
    }

    /// Commits reachable from HEAD whose message has an `Orch-Tip:`
    /// trailer, newest first: (task, tip) pairs. The walk (by commit time)
    /// stops at commits older than `since` (seconds since the epoch).
    pub fn integrations(&self, since: Option<i64>) -> Result<Vec<(String, ObjectId)>, GitError> {
        use gix::revision::walk::Sorting;
        let context = "cannot read the commit history";
        let head = self.repo.head().map_err(|e| GitError::gix(context, e))?;
        let Some(tip) = head.id() else {
            return Ok(Vec::new());
        };
        let sorting = match since {
            Some(s) => Sorting::ByCommitTimeCutoff {
                order: Default::default(),
                seconds: s,
            },
            None => Sorting::ByCommitTime(Default::default()),
        };
        let walk = tip
            .ancestors()
            .sorting(sorting)
            .all()
            .map_err(|e| GitError::gix(context, e))?;
        let mut out = Vec::new();
        for info in walk {
            let info = info.map_err(|e| GitError::gix(context, e))?;
            let commit = info.object().map_err(|e| GitError::gix(context, e))?;
            let message = commit
                .message_raw()
                .map_err(|e| GitError::gix(context, e))?;
            if !message.contains_str("Orch-Tip:") {
                continue;
            }
            let message = commit.message().map_err(|e| GitError::gix(context, e))?;
            let Some(body) = message.body() else { continue };
            let mut task = None;
            let mut tips = None;
            for t in body.trailers() {
                let key = super::lossy(t.token);
                if key.eq_ignore_ascii_case("Orch-Task") {
                    task = Some(super::lossy(t.value.as_ref()).trim().to_string());
                } else if key.eq_ignore_ascii_case("Orch-Tip") {
                    tips = ObjectId::from_hex(t.value.trim().as_bytes()).ok();
                }
            }
            if let (Some(task), Some(tip)) = (task, tips) {
                out.push((task, tip));
            }
        }
        Ok(out)
    }

    /// HEAD's commit, and the branch HEAD points at (`None` when detached);
    /// `None` for the commit on an unborn branch.
    pub fn head_state(&self) -> Result<(Option<ObjectId>, Option<String>), GitError> {
        let head = self
            .repo
            .head()
            .map_err(|e| GitError::gix("cannot read HEAD", e))?;
        let id = head.id().map(|id| id.detach());
        let branch = head
            .referent_name()
            .map(|n| n.shorten().to_str_lossy().into_owned());
        Ok((id, branch))
    }
}
