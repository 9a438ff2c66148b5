//! Isolated runs: a branch and a linked worktree per task, the branch as
//! the record of its work, the integration train that brings passing
//! branches into the current branch, and the clean-up of what is left.
//!
//! A task `ID` dispatched with isolation gets the branch `<prefix>ID`
//! (`orch/ID`) at its base commit and a linked worktree at
//! `<git-common-dir>/orch/worktrees/ID` (outside the work tree, so no tool
//! running there sees it; `git worktree list` does). [`unit`] is the
//! per-task unit: [`unit::enter`] creates both and prepares the
//! environment ([`env`]: files copied or linked in, a setup command),
//! [`unit::leave`] seals what the agent left onto the branch and returns
//! the exact changes base..branch that harvest judges. [`integrate`] is
//! `orch integrate`, [`clean`] is `orch clean` and the survey `orch status`
//! shows.
//!
//! Every commit orch makes here carries trailers: `Orch-Task`, `Orch-Run`,
//! `Orch-Base` on a branch's seal (so the branch describes itself), and
//! `Orch-Branch`, `Orch-Tip` on an integration (so what is integrated is
//! read back from the history).

pub mod clean;
pub mod env;
pub mod integrate;
pub mod unit;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::git::{Repo, branch_ref};

pub const TASK: &str = "Orch-Task";
pub const RUN: &str = "Orch-Run";
pub const BASE: &str = "Orch-Base";
pub const BRANCH: &str = "Orch-Branch";
pub const TIP: &str = "Orch-Tip";

/// The default for `agent.worktree.setup_timeout`.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(600);

/// The worktree `orch integrate --check` runs checks in. Not a task ID:
/// IDs start with a letter or digit.
pub const SCRATCH: &str = "_check";

/// The isolation settings of a program, checked.
#[derive(Clone, Debug)]
pub struct Settings {
    pub prefix: String,
    pub copy: Vec<String>,
    pub link: Vec<String>,
    pub setup: Vec<String>,
    pub setup_timeout: Duration,
}

impl Settings {
    /// From `agent.worktree` in config, or exit 2 naming the bad value.
    pub fn of(config: &Config) -> Result<Settings> {
        let w = &config.agent.worktree;
        let prefix = w.branch_prefix.trim().to_string();
        if prefix.is_empty() {
            return Err(Error::with_help(
                "config agent.worktree.branch_prefix is empty",
                "set it to a prefix such as `orch/`, so task branches never take a name of yours",
            ));
        }
        branch_ref(&format!("{prefix}X")).map_err(|e| {
            Error::with_help(
                format!("config agent.worktree.branch_prefix `{prefix}`: {e}"),
                "use letters, digits, `/`, `-` or `_`, such as `orch/`",
            )
        })?;
        for (key, paths) in [("copy", &w.copy), ("link", &w.link)] {
            for p in paths {
                check_relative(p).map_err(|why| {
                    Error::with_help(
                        format!("config agent.worktree.{key}: `{p}` {why}"),
                        "name paths relative to the work tree's top, without `..`",
                    )
                })?;
            }
        }
        Ok(Settings {
            prefix,
            copy: w.copy.iter().map(|p| trim_slash(p)).collect(),
            link: w.link.iter().map(|p| trim_slash(p)).collect(),
            setup: w.setup.clone(),
            setup_timeout: w.setup_timeout.map_or(SETUP_TIMEOUT, |d| d.0),
        })
    }

    /// The task's branch (`orch/P1-UI-01`).
    pub fn branch(&self, task: &str) -> String {
        format!("{}{task}", self.prefix)
    }

    /// The task a branch belongs to, when it is one of ours.
    pub fn task_of<'b>(&self, branch: &'b str) -> Option<&'b str> {
        branch
            .strip_prefix(&self.prefix)
            .filter(|id| crate::util::is_valid_id(id))
    }

    /// Paths that belong to the environment, not to the agent's work: the
    /// seal leaves them out.
    pub fn environment(&self) -> Vec<String> {
        self.copy.iter().chain(&self.link).cloned().collect()
    }
}

fn trim_slash(p: &str) -> String {
    p.trim().trim_end_matches('/').to_string()
}

fn check_relative(p: &str) -> std::result::Result<(), &'static str> {
    let p = p.trim().trim_end_matches('/');
    if p.is_empty() {
        return Err("is empty");
    }
    if p.starts_with('/') || p.contains('\\') {
        return Err("is not a relative path with `/` separators");
    }
    if p.split('/')
        .any(|c| c.is_empty() || c == "." || c == ".." || c.eq_ignore_ascii_case(".git"))
    {
        return Err("has an empty, `.`, `..` or `.git` component");
    }
    Ok(())
}

/// Where task worktrees go: `<git-common-dir>/orch/worktrees`, outside the
/// work tree.
pub fn worktrees_dir(repo: &Repo) -> PathBuf {
    repo.common_dir().join("orch").join("worktrees")
}

/// A task's worktree folder.
pub fn worktree_path(repo: &Repo, task: &str) -> PathBuf {
    worktrees_dir(repo).join(task)
}

/// Bytes a folder takes on disk (allocated blocks where the system says,
/// else file sizes), links not followed.
pub fn disk_usage(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .follow_links(false)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .map(|m| allocated(&m))
        .sum()
}

#[cfg(unix)]
fn allocated(m: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    m.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(m: &std::fs::Metadata) -> u64 {
    m.len()
}

/// `12.3 MiB`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b if b < 1024 * 1024 * 1024 => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
        b => format!("{:.2} GiB", b as f64 / (1024.0 * 1024.0 * 1024.0)),
    }
}

/// The first 10 hex digits of a commit, as messages show it.
pub fn short(id: crate::git::Oid) -> String {
    let mut s = id.to_string();
    s.truncate(10);
    s
}
