//! Linked worktrees (`git worktree add|list|remove|prune`), through gix:
//! one is added on an existing branch and checked out by gix; they are
//! listed with where their folder is, which branch they hold and whether
//! they are locked; one is removed registration first, then its folder,
//! so that a removal killed half-way leaves at worst a folder that no
//! `git worktree list` entry names (which [`Repo::worktrees`] does not
//! list and the caller can delete); a registration whose folder is gone is
//! pruned.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::bstr::ByteSlice;

use super::{GitError, Repo};

/// The lock reason gix leaves on a worktree whose creation has not ended
/// (it is removed when the checkout completes).
pub const INITIALIZING: &str = "initializing";

/// One linked worktree as its registration describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worktree {
    /// The registration's name (`<common-dir>/worktrees/<id>`).
    pub id: String,
    /// The registration folder.
    pub admin: PathBuf,
    /// Where its files are (absolute); `None` when the registration does
    /// not say.
    pub path: Option<PathBuf>,
    /// The branch its HEAD points at (`orch/P1-UI-01`), if any.
    pub branch: Option<String>,
    /// The folder exists.
    pub exists: bool,
    /// `Some(reason)` when locked (`git worktree lock`); the reason may be empty.
    pub locked: Option<String>,
    /// Its index exists (gix writes it when the checkout ends).
    pub has_index: bool,
}

impl Repo {
    /// The repository's common git folder (`.git`, shared by every worktree).
    pub fn common_dir(&self) -> &Path {
        self.repo.common_dir()
    }

    /// Add a linked worktree at `path` with `branch` (which must exist and
    /// be checked out nowhere) checked out in it. `path` must not exist or
    /// be an empty folder. A failure or `stop` rolls back what was created.
    pub fn add_worktree(
        &self,
        path: &Path,
        branch: &str,
        stop: &AtomicBool,
    ) -> Result<(), GitError> {
        let name = super::refs::branch_ref(branch)?;
        self.add_worktree_at(path, gix::worktree::add::Head::Attached(name), branch, stop)
    }

    /// [`Repo::add_worktree`] with a detached HEAD at `commit`.
    pub fn add_detached_worktree(
        &self,
        path: &Path,
        commit: gix::ObjectId,
        stop: &AtomicBool,
    ) -> Result<(), GitError> {
        let what = commit.to_string();
        self.add_worktree_at(
            path,
            gix::worktree::add::Head::Detached(commit),
            &what,
            stop,
        )
    }

    fn add_worktree_at(
        &self,
        path: &Path,
        head: gix::worktree::add::Head,
        what: &str,
        stop: &AtomicBool,
    ) -> Result<(), GitError> {
        let context = || format!("cannot add a worktree for {what} at {}", path.display());
        let (_, outcome) = self
            .repo
            .add_worktree(path, head, gix::progress::Discard, stop)
            .map_err(|e| GitError::gix(context(), e))?;
        if let Some(first) = outcome.errors.first() {
            return Err(GitError::InvalidPath {
                path: first.path.to_str_lossy().into_owned(),
                reason: format!(
                    "checking it out in the worktree at {} failed: {}",
                    path.display(),
                    first.error
                ),
            });
        }
        if let Some(first) = outcome.collisions.first() {
            return Err(GitError::InvalidPath {
                path: first.path.to_str_lossy().into_owned(),
                reason: format!(
                    "it collides with another path when checked out at {} (a case-insensitive file system?)",
                    path.display()
                ),
            });
        }
        Ok(())
    }

    /// Every linked worktree with a registration, sorted by id.
    pub fn worktrees(&self) -> Result<Vec<Worktree>, GitError> {
        let proxies = self
            .repo
            .worktrees()
            .map_err(|e| GitError::gix("cannot list the worktrees", e))?;
        let mut out = Vec::new();
        for p in proxies {
            let admin = p.git_dir().to_path_buf();
            let id = admin
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = p.base().ok();
            let exists = path
                .as_ref()
                .is_some_and(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()));
            let locked = p.lock_reason().map(|r| r.to_str_lossy().trim().to_string());
            let branch = std::fs::read_to_string(admin.join("HEAD"))
                .ok()
                .and_then(|h| {
                    h.trim()
                        .strip_prefix("ref: refs/heads/")
                        .map(|b| b.trim().to_string())
                });
            let has_index = admin.join("index").is_file();
            out.push(Worktree {
                id,
                admin,
                path,
                branch,
                exists,
                locked,
                has_index,
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Remove a linked worktree: its registration first (so `git worktree
    /// list` never names a folder that is going away), then its folder.
    /// Symbolic links inside it are removed, never followed. The caller
    /// decides whether its contents may go; a worktree locked by someone
    /// else (any reason but gix's [`INITIALIZING`]) is refused.
    pub fn remove_worktree(&self, worktree: &Worktree) -> Result<(), GitError> {
        if let Some(reason) = &worktree.locked
            && reason != INITIALIZING
        {
            return Err(GitError::InvalidPath {
                path: worktree
                    .path
                    .as_ref()
                    .map_or(worktree.id.clone(), |p| p.display().to_string()),
                reason: format!(
                    "the worktree is locked{}; unlock it first (git worktree unlock)",
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({reason})")
                    }
                ),
            });
        }
        self.check_admin(&worktree.admin)?;
        remove_tree(&worktree.admin)?;
        let _ = std::fs::remove_dir(self.common_dir().join("worktrees"));
        if let Some(path) = &worktree.path {
            remove_tree(path)?;
        }
        Ok(())
    }

    /// Registration folders under `<common-dir>/worktrees/` that
    /// [`Repo::worktrees`] does not list because their `gitdir` file was
    /// never written (a creation killed at its start).
    pub fn unfinished_registrations(&self) -> Vec<PathBuf> {
        let dir = self.common_dir().join("worktrees");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() && !p.join("gitdir").exists())
            .collect();
        out.sort();
        out
    }

    /// Remove an unfinished registration folder (see
    /// [`Repo::unfinished_registrations`]).
    pub fn remove_registration(&self, admin: &Path) -> Result<(), GitError> {
        self.check_admin(admin)?;
        remove_tree(admin)?;
        let _ = std::fs::remove_dir(self.common_dir().join("worktrees"));
        Ok(())
    }

    /// `admin` is a folder directly under `<common-dir>/worktrees/`.
    fn check_admin(&self, admin: &Path) -> Result<(), GitError> {
        let worktrees = self.common_dir().join("worktrees");
        let inside = admin.parent().is_some_and(|p| {
            p == worktrees
                || p.canonicalize()
                    .ok()
                    .zip(worktrees.canonicalize().ok())
                    .is_some_and(|(a, b)| a == b)
        });
        if inside {
            Ok(())
        } else {
            Err(GitError::InvalidPath {
                path: admin.display().to_string(),
                reason: "it is not a worktree registration of this repository".to_string(),
            })
        }
    }
}

/// Delete a folder and everything in it, never following a symbolic link
/// (a link is removed as a link). A missing folder is fine.
pub fn remove_tree(path: &Path) -> Result<(), GitError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(GitError::Io {
            path: path.to_path_buf(),
            source,
        }),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).or_else(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Ok(())
            } else {
                Err(GitError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }),
        Ok(_) => std::fs::remove_file(path).map_err(|source| GitError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
