//! Linked worktrees (`git worktree add|list|remove|prune`), through gix:
//! one is added on an existing branch and checked out by gix; they are
//! listed with where their folder is, which branch they hold and whether
//! they are locked; one is removed registration first, then its folder,
//! so that a removal killed half-way leaves at worst a folder that no
//! `git worktree list` entry names (which [`Repo::worktrees`] does not
//! list and the caller can delete); a registration whose folder is gone is
//! pruned.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use gix::bstr::ByteSlice;

use super::{GitError, Repo};

/// The lock reason gix leaves on a worktree whose creation has not ended
/// (it is removed when the checkout completes).
pub const INITIALIZING: &str = "initializing";

/// The name prefix of a registration folder being built (`.orch-new-<pid>-<name>`):
/// it has no `gitdir` until complete, so git does not list it.
pub const NEW_PREFIX: &str = ".orch-new-";

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
    /// Its `HEAD` names a ref or an object id (git reports a registration
    /// whose `HEAD` is missing or empty: `git fsck`, `git worktree list`).
    pub head_readable: bool,
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

    /// The registration is made atomically: its files (`locked`, `HEAD`,
    /// `commondir`) are written in a folder git does not list
    /// (`<common-dir>/worktrees/.orch-new-<pid>-<name>`), which is renamed
    /// into place, and `gitdir`, which makes git list it, comes last,
    /// written aside and renamed (a name starting with `.` is no valid ref
    /// component: git would report such a registration); so a kill
    /// at any moment leaves no registration git reports as broken (`git
    /// fsck`, `git worktree list`). gix's `add_worktree` writes `gitdir`
    /// before `HEAD`, and a kill between them left an empty `HEAD` that
    /// git reports until the registration is removed. The checkout is
    /// gix's; the registration stays locked (`initializing`) until it ends.
    fn add_worktree_at(
        &self,
        path: &Path,
        head: gix::worktree::add::Head,
        what: &str,
        stop: &AtomicBool,
    ) -> Result<(), GitError> {
        let context = || format!("cannot add a worktree for {what} at {}", path.display());
        let refuse = |reason: String| GitError::InvalidPath {
            path: path.display().to_string(),
            reason,
        };
        let io = |p: &Path, source: std::io::Error| GitError::Io {
            path: p.to_path_buf(),
            source,
        };
        let interrupted = || refuse("adding the worktree was interrupted".to_string());
        if stop.load(Ordering::Relaxed) {
            return Err(interrupted());
        }
        let head_line = match &head {
            gix::worktree::add::Head::Attached(name) => {
                self.repo
                    .find_reference(name.as_ref())
                    .and_then(|mut r| r.peel_to_commit().map(|_| ()))
                    .map_err(|e| GitError::gix(context(), e))?;
                if let Some(at) = self.checked_out_at(name.as_bstr().to_str_lossy().as_ref())? {
                    return Err(refuse(format!(
                        "`{what}` is already checked out at {}",
                        at.display()
                    )));
                }
                format!("ref: {}\n", name.as_bstr())
            }
            gix::worktree::add::Head::Detached(id) => {
                self.repo
                    .find_commit(*id)
                    .map_err(|e| GitError::gix(context(), e))?;
                format!("{id}\n")
            }
        };
        // The destination: absent, or an empty folder (not a link).
        let existed = match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut entries = std::fs::read_dir(path).map_err(|e| io(path, e))?;
                if entries.next().is_some() {
                    return Err(refuse("the folder is not empty".to_string()));
                }
                true
            }
            Ok(_) => return Err(refuse("it is not a folder".to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(io(path, e)),
        };
        let Some(name) = path.file_name().map(|n| sanitize(&n.to_string_lossy())) else {
            return Err(refuse("it has no folder name".to_string()));
        };
        if !existed {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::create_dir(path).map_err(|e| io(path, e))?;
        }
        let mut undo = Undo {
            folder: path.to_path_buf(),
            remove_folder: !existed,
            admin: None,
            armed: true,
        };
        kill_point("worktree-folder");
        let work_dir = path.canonicalize().map_err(|e| io(path, e))?;
        let common = self
            .common_dir()
            .canonicalize()
            .map_err(|e| io(self.common_dir(), e))?;
        let worktrees = common.join("worktrees");
        std::fs::create_dir_all(&worktrees).map_err(|e| io(&worktrees, e))?;
        // The registration, in a folder git does not list yet.
        let temp = worktrees.join(format!("{NEW_PREFIX}{}-{name}", std::process::id()));
        remove_tree(&temp)?;
        std::fs::create_dir(&temp).map_err(|e| io(&temp, e))?;
        undo.admin = Some(temp.clone());
        let dot_git = work_dir.join(".git");
        let write = |file: &str, text: &str| {
            let p = temp.join(file);
            std::fs::write(&p, text).map_err(|e| io(&p, e))
        };
        write("locked", &format!("{INITIALIZING}\n"))?;
        write("HEAD", &head_line)?;
        kill_point("worktree-admin");
        write("commondir", "../..\n")?;
        // Into place under the first free name: `name`, `name1`, ...
        let mut admin = None;
        for n in 0..1000u32 {
            let candidate = worktrees.join(if n == 0 {
                name.clone()
            } else {
                format!("{name}{n}")
            });
            if std::fs::symlink_metadata(&candidate).is_ok() {
                continue;
            }
            match std::fs::rename(&temp, &candidate) {
                Ok(()) => {
                    admin = Some(candidate);
                    break;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::DirectoryNotEmpty
                    ) => {}
                Err(e) => return Err(io(&temp, e)),
            }
        }
        let Some(admin) = admin else {
            return Err(refuse(format!(
                "no free registration name `{name}<n>` under {}",
                worktrees.display()
            )));
        };
        undo.admin = Some(admin.clone());
        kill_point("worktree-renamed");
        // `gitdir` last, whole (written aside, then renamed): with it, git
        // lists the registration, complete.
        let gitdir = admin.join("gitdir");
        let aside = admin.join("gitdir.new");
        std::fs::write(&aside, format!("{}\n", dot_git.display())).map_err(|e| io(&aside, e))?;
        std::fs::rename(&aside, &gitdir).map_err(|e| io(&gitdir, e))?;
        kill_point("worktree-registered");
        let link = format!("gitdir: {}\n", admin.display());
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dot_git)
            .and_then(|mut f| std::io::Write::write_all(&mut f, link.as_bytes()))
            .map_err(|e| io(&dot_git, e))?;
        kill_point("worktree-linked");
        if stop.load(Ordering::Relaxed) {
            return Err(interrupted());
        }
        let options = self.repo.open_options().clone().open_path_as_is(true);
        let linked = gix::ThreadSafeRepository::open_opts(&admin, options)
            .map_err(|e| GitError::gix(context(), e))?
            .to_thread_local();
        let Some(tree) = linked.worktree() else {
            return Err(refuse("gix opens it without a work tree".to_string()));
        };
        let outcome = tree
            .checkout(gix::progress::Discard, stop)
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
        kill_point("worktree-checked-out");
        let locked = admin.join("locked");
        std::fs::remove_file(&locked).map_err(|e| io(&locked, e))?;
        undo.armed = false;
        Ok(())
    }

    /// Where the branch `full_name` (`refs/heads/...`) is checked out: the
    /// main work tree or a linked worktree, if any.
    fn checked_out_at(&self, full_name: &str) -> Result<Option<PathBuf>, GitError> {
        if let Ok(Some(head)) = self.repo.head_name()
            && head.as_bstr() == full_name.as_bytes()
        {
            return Ok(Some(self.workdir().to_path_buf()));
        }
        for w in self.worktrees()? {
            let head = std::fs::read_to_string(w.admin.join("HEAD")).unwrap_or_default();
            if head.trim().strip_prefix("ref:").map(str::trim) == Some(full_name) {
                return Ok(Some(w.path.unwrap_or(w.admin)));
            }
        }
        Ok(None)
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
            let head = std::fs::read_to_string(admin.join("HEAD")).ok();
            let head_readable = head.as_deref().is_some_and(|h| {
                let h = h.trim();
                h.starts_with("ref: refs/")
                    || (matches!(h.len(), 40 | 64) && h.bytes().all(|b| b.is_ascii_hexdigit()))
            });
            let branch = head.and_then(|h| {
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
                head_readable,
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
    /// never written (a creation killed before its end), and the folders
    /// [`Repo::add_worktree`] builds a registration in (`.orch-new-<pid>-*`)
    /// whose orch is gone. Another live orch's are left out.
    pub fn unfinished_registrations(&self) -> Vec<PathBuf> {
        let dir = self.common_dir().join("worktrees");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
                    && !p.join("gitdir").exists()
                    && building_pid(p).is_none_or(|pid| !alive(pid))
            })
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

/// The process building the registration at `admin`, if it is one
/// [`Repo::add_worktree`] builds (`.orch-new-<pid>-<name>`).
pub fn building_pid(admin: &Path) -> Option<u32> {
    admin
        .file_name()?
        .to_str()?
        .strip_prefix(NEW_PREFIX)?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// The task-side name of a registration being built (`A` of
/// `.orch-new-<pid>-A`), or the folder's name.
pub fn registration_name(admin: &Path) -> String {
    let name = admin
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match building_pid(admin) {
        Some(_) => name
            .strip_prefix(NEW_PREFIX)
            .and_then(|r| r.split_once('-'))
            .map_or(name.clone(), |(_, n)| n.to_string()),
        None => name,
    }
}

/// The process `pid` exists (it may belong to someone else).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    pid == std::process::id()
        || i32::try_from(pid).is_ok_and(|p| {
            !matches!(
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None),
                Err(nix::errno::Errno::ESRCH)
            )
        })
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

/// What a failed or interrupted [`Repo::add_worktree`] removes: the
/// registration (first), then the folder it created (or its contents).
struct Undo {
    folder: PathBuf,
    remove_folder: bool,
    admin: Option<PathBuf>,
    armed: bool,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(admin) = &self.admin {
            let _ = remove_tree(admin);
        }
        if self.remove_folder {
            let _ = remove_tree(&self.folder);
        } else if let Ok(entries) = std::fs::read_dir(&self.folder) {
            for e in entries.flatten() {
                let _ = remove_tree(&e.path());
            }
        }
    }
}

/// A registration name from a folder name: what git allows in a ref
/// component (letters, digits, `.`, `_`, `-`, no `..`), anything else as
/// `-`, never starting with `.` or `-`.
fn sanitize(name: &str) -> String {
    let s: String = name
        .replace("..", "-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_start_matches(['-', '.']).to_string();
    if s.is_empty() {
        "worktree".to_string()
    } else {
        s
    }
}

/// A kill point for the tests (debug builds only): when `ORCH_KILL_AT`
/// names `point`, the process kills itself with SIGKILL there, so a test
/// can stop orch deterministically between two steps of an operation that
/// must stay sound whenever it is killed. Does nothing in a release build.
pub fn kill_point(point: &str) {
    #[cfg(all(debug_assertions, unix))]
    if std::env::var_os("ORCH_KILL_AT").is_some_and(|v| v == point) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
    #[cfg(not(all(debug_assertions, unix)))]
    let _ = point;
}
