//! Ranges as reviewers read them, for `orch align-docs` and `orch lint
//! --base`: `A...B` compares B with the merge-base of A and B (what `git
//! diff A...B` and a pull request's "Files changed" show), `A..B` compares
//! the two trees directly. In a shallow clone, a side or a merge-base that is
//! not in the fetched history is an error with the fix, never a silent pass.

use super::{GitError, Repo};

/// How the base side of a range is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `A...B`: the merge-base of A and B.
    MergeBase,
    /// `A..B`: A itself.
    TwoDot,
}

/// A range with both sides resolved to commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The commit the head is compared with: the merge-base, or A itself.
    pub base: gix::ObjectId,
    /// A, the base revision as given.
    pub base_tip: gix::ObjectId,
    pub head: gix::ObjectId,
    pub form: Form,
}

impl Repo {
    /// [`Repo::resolve`], and in a shallow clone a revision that does not
    /// resolve may lie outside the fetched history: say so, with the fix.
    pub fn resolve_side(&self, rev: &str) -> Result<gix::ObjectId, GitError> {
        match self.resolve(rev) {
            Err(GitError::BadRevision { rev, detail }) if self.is_shallow() => {
                Err(GitError::ShallowRevision { rev, detail })
            }
            other => other,
        }
    }

    /// Resolve `base` and `head` and the commit the range compares `head`
    /// with (see [`Form`]).
    pub fn range(&self, base: &str, head: &str, form: Form) -> Result<Resolved, GitError> {
        let head_id = self.resolve_side(head)?;
        let base_tip = self.resolve_side(base)?;
        let base_id = match form {
            Form::TwoDot => base_tip,
            Form::MergeBase => self.merge_base(base, head)?,
        };
        Ok(Resolved {
            base: base_id,
            base_tip,
            head: head_id,
            form,
        })
    }
}

/// A revision as a range shows it: a full commit id is cut to 7 digits,
/// anything else is kept as written.
pub fn shown(rev: &str) -> &str {
    if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        &rev[..7]
    } else {
        rev
    }
}
