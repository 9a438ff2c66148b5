//! Claim refs: `refs/orch/claims/<ID>` pointing at a commit with no parent
//! and the empty tree, whose message says who holds the claim. Only the
//! mechanics live here (write the commit, create the ref only if absent,
//! read, list, delete only if unchanged); what a claim means is
//! [`crate::claims`].

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::refs::transaction::{Change, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target};

use super::{CommitRecord, GitError, Repo};

/// Where claims live.
pub const CLAIMS_PREFIX: &str = "refs/orch/claims/";

/// A claim commit larger than this is not read (claims are a few lines;
/// one fetched from a remote is untrusted).
pub const MAX_CLAIM_BYTES: u64 = 16 * 1024;

/// A claim's reflog longer than this is not kept past a release.
const MAX_KEPT_LOG: u64 = 1 << 20;

/// `refs/orch/claims/<task>` as a full reference name, or why git would
/// refuse it.
pub fn claim_ref(task: &str) -> Result<FullName, GitError> {
    let full = format!("{CLAIMS_PREFIX}{task}");
    FullName::try_from(full.as_str()).map_err(|e| GitError::InvalidPath {
        path: task.to_string(),
        reason: format!("it cannot name a claim ref: {e}"),
    })
}

impl Repo {
    /// Write a claim commit: no parent, the empty tree, `message`; the
    /// committer (and its time, the claim's "since") from git config or the
    /// GIT_* variables. No reference moves.
    pub fn write_claim_commit(&self, message: &str) -> Result<ObjectId, GitError> {
        let tree = self
            .repo
            .write_object(gix::objs::Tree::empty())
            .map_err(|e| GitError::gix("cannot write to the object database", e))?
            .detach();
        self.write_commit(tree, &[], message)
    }

    /// The committer as `Name <email>` (who holds a claim this clone takes).
    pub fn committer_ident(&self) -> Result<String, GitError> {
        let sig = self.signature(super::commit::Role::Committer)?;
        Ok(format!(
            "{} <{}>",
            sig.name.to_str_lossy(),
            sig.email.to_str_lossy()
        ))
    }

    /// The claim commit `refs/orch/claims/<task>` points at, if any.
    pub fn claim_tip(&self, task: &str) -> Result<Option<ObjectId>, GitError> {
        let name = claim_ref(task)?;
        let context = || format!("cannot read {}", name.as_bstr());
        let found = self
            .repo
            .try_find_reference(name.as_ref())
            .map_err(|e| GitError::gix(context(), e))?;
        match found {
            None => Ok(None),
            Some(r) => match r.target().try_id() {
                Some(id) => Ok(Some(id.to_owned())),
                None => Err(GitError::Object {
                    path: name.as_bstr().to_str_lossy().into_owned(),
                    place: "is".into(),
                    detail: "a symbolic reference, not a claim".into(),
                }),
            },
        }
    }

    /// Every claim ref, (task, commit), sorted by task. A ref that cannot
    /// be read, or is symbolic, is skipped.
    pub fn claim_refs(&self) -> Result<Vec<(String, ObjectId)>, GitError> {
        let context = "cannot list the claims";
        let platform = self
            .repo
            .references()
            .map_err(|e| GitError::gix(context, e))?;
        let iter = platform
            .prefixed(CLAIMS_PREFIX)
            .map_err(|e| GitError::gix(context, e))?;
        let mut out = Vec::new();
        for r in iter {
            let Ok(r) = r else { continue };
            let name = r.name().as_bstr().to_str_lossy().into_owned();
            let Some(task) = name.strip_prefix(CLAIMS_PREFIX) else {
                continue;
            };
            if let Some(id) = r.target().try_id() {
                out.push((task.to_string(), id.to_owned()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Create `refs/orch/claims/<task>` at `at`, only if it does not exist
    /// (else [`GitError::Moved`] naming what is there), with a reflog entry.
    pub fn create_claim(&self, task: &str, at: ObjectId, reflog: &str) -> Result<(), GitError> {
        self.create_ref(claim_ref(task)?, self.claim_tip(task)?, at, reflog)
    }

    /// Delete `refs/orch/claims/<task>` (and its reflog) if it still points
    /// at `expected`.
    pub fn delete_claim(&self, task: &str, expected: ObjectId) -> Result<(), GitError> {
        let name = claim_ref(task)?;
        self.edit_ref(RefEdit {
            change: Change::Delete {
                expected: PreviousValue::MustExistAndMatch(Target::Object(expected)),
                log: RefLog::AndReference,
            },
            name,
            deref: false,
        })
    }

    /// [`Repo::delete_claim`], keeping the claim's reflog, which git (and
    /// gix) delete with the ref: it is written back with one more entry, on
    /// the released claim commit, saying why (`message`). The next claim of
    /// the task continues it, so `git reflog show refs/orch/claims/<ID>`
    /// lists every claim and release with its reason. A log that cannot be
    /// kept is no failure (the claim is released): `Err` only when the ref
    /// could not be deleted.
    pub fn delete_claim_logged(
        &self,
        task: &str,
        expected: ObjectId,
        message: &str,
    ) -> Result<(), GitError> {
        let mut path = self.repo.common_dir().join("logs");
        for part in format!("{CLAIMS_PREFIX}{task}").split('/') {
            path.push(part);
        }
        let old = crate_read_bounded(&path, MAX_KEPT_LOG).unwrap_or_default();
        self.delete_claim(task, expected)?;
        let Ok(sig) = self.signature(super::commit::Role::Committer) else {
            return Ok(());
        };
        let offset = sig.time.offset;
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        let message: String = message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut text = if old.len() as u64 >= MAX_KEPT_LOG {
            String::new()
        } else {
            old
        };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "{expected} {expected} {} <{}> {} {sign}{:02}{:02}\t{message}\n",
            sig.name.to_str_lossy(),
            sig.email.to_str_lossy(),
            sig.time.seconds,
            abs / 3600,
            abs % 3600 / 60,
        ));
        let write = || -> std::io::Result<()> {
            let Some(dir) = path.parent() else {
                return Ok(());
            };
            std::fs::create_dir_all(dir)?;
            if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
                return Ok(());
            }
            let tmp = dir.join(format!(".{task}.orch-{}.tmp", std::process::id()));
            std::fs::write(&tmp, text.as_bytes())?;
            std::fs::rename(&tmp, &path).inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
        };
        let _ = write();
        Ok(())
    }

    /// A claim commit's subject, trailers and time, refused when it is not
    /// a commit or larger than [`MAX_CLAIM_BYTES`] (checked on the object's
    /// header, before anything is inflated).
    pub fn read_claim(&self, id: ObjectId) -> Result<CommitRecord, GitError> {
        let header = self
            .repo
            .find_header(id)
            .map_err(|e| GitError::gix(format!("cannot read claim commit {id}"), e))?;
        if header.kind() != gix::objs::Kind::Commit || header.size() > MAX_CLAIM_BYTES {
            return Err(GitError::Object {
                path: format!("claim commit {id}"),
                place: "is".into(),
                detail: format!(
                    "a {} of {} bytes, not a commit of at most {MAX_CLAIM_BYTES}",
                    header.kind(),
                    header.size()
                ),
            });
        }
        self.commit_info(id)
    }

    /// Whether the object is in this repository.
    pub fn has_object(&self, id: ObjectId) -> bool {
        self.repo.has_object(id)
    }

    /// The git dir's `FETCH_HEAD` first object id (after `git fetch`).
    pub fn fetch_head(&self) -> Option<ObjectId> {
        let path = self.repo.git_dir().join("FETCH_HEAD");
        let text = crate_read_bounded(&path, 64 * 1024)?;
        let hex = text.split(['\t', '\n', ' ']).next()?;
        ObjectId::from_hex(hex.as_bytes()).ok()
    }
}

/// At most `max` bytes of a regular file (no symlink followed), as text.
fn crate_read_bounded(path: &std::path::Path, max: u64) -> Option<String> {
    use std::io::Read;
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(max)
        .read_to_end(&mut buf)
        .ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}
