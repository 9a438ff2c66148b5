//! Small reads `orch`'s transitions need beyond the core API: the identity
//! check that must pass before any file is written.

use super::{GitError, Repo};

impl Repo {
    /// Author and committer identities are set (git config or the GIT_*
    /// variables). Transitions check this before they write any file, so
    /// that a missing identity changes nothing.
    pub fn check_identity(&self) -> Result<(), GitError> {
        for (sig, role) in [
            (self.repo.author(), "author"),
            (self.repo.committer(), "committer"),
        ] {
            let sig = sig
                .ok_or(GitError::NoIdentity { role })?
                .map_err(|e| {
                    GitError::gix(format!("the configured {role} identity is invalid"), e)
                })?
                .trim();
            if sig.name.is_empty() || sig.email.is_empty() {
                return Err(GitError::NoIdentity { role });
            }
        }
        Ok(())
    }
}
