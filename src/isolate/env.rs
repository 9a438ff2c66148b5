//! A worktree's environment: the untracked files and folders an agent
//! needs that a checkout does not bring (config `agent.worktree.copy`,
//! such as `.env`; `agent.worktree.link`, such as `node_modules`), and the
//! setup command run in the worktree before the agent, with its own
//! timeout and log.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::dispatch::process::{self, Job, Kill, Limits};

use super::Settings;

/// Copy and link the configured paths from the main work tree (`root`)
/// into the worktree at `into`. Returns notes for what could not be done
/// (the source is missing, the worktree already has the path); nothing
/// here stops a run.
pub fn provide(root: &Path, into: &Path, settings: &Settings) -> Vec<String> {
    let mut notes = Vec::new();
    for rel in &settings.copy {
        let from = root.join(rel);
        let to = into.join(rel);
        if std::fs::symlink_metadata(&from).is_err() {
            notes.push(format!(
                "agent.worktree.copy: `{rel}` does not exist; not copied"
            ));
            continue;
        }
        if std::fs::symlink_metadata(&to).is_ok() {
            notes.push(format!(
                "agent.worktree.copy: `{rel}` is already in the worktree (tracked?); left as checked out"
            ));
            continue;
        }
        if let Err(e) = copy(&from, &to) {
            notes.push(format!(
                "agent.worktree.copy: `{rel}` could not be copied: {e}"
            ));
        }
    }
    for rel in &settings.link {
        let from = root.join(rel);
        let to = into.join(rel);
        if std::fs::symlink_metadata(&from).is_err() {
            notes.push(format!(
                "agent.worktree.link: `{rel}` does not exist; not linked"
            ));
            continue;
        }
        if std::fs::symlink_metadata(&to).is_ok() {
            notes.push(format!(
                "agent.worktree.link: `{rel}` is already in the worktree (tracked?); left as checked out"
            ));
            continue;
        }
        if let Err(e) = link(&from, &to) {
            notes.push(format!(
                "agent.worktree.link: `{rel}` could not be linked: {e}"
            ));
        }
    }
    notes
}

/// Copy a file, a link (as a link) or a folder (recursively, links as
/// links).
fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel = entry
            .path()
            .strip_prefix(from)
            .map_err(std::io::Error::other)?;
        let target = if rel.as_os_str().is_empty() {
            to.to_path_buf()
        } else {
            to.join(rel)
        };
        let kind = entry.file_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if kind.is_symlink() {
            let dest = std::fs::read_link(entry.path())?;
            symlink(&dest, &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn link(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    symlink(from, to)
}

#[cfg(unix)]
fn symlink(target: &Path, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "symbolic links are not supported here",
    ))
}

/// How a command run in a worktree ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    /// The shell's `$?`: exit code, 128 + signal; 127 when it could not start.
    pub code: i32,
    pub killed: Option<Kill>,
    pub spawn_error: Option<String>,
    pub duration: Duration,
}

impl Ran {
    /// How a job of [`process::run`] ended; `None`: it never started (the
    /// run was interrupted first).
    pub fn of(end: Option<&process::End>) -> Ran {
        match end {
            Some(end) => Ran {
                code: end
                    .shell_code()
                    .unwrap_or(if end.spawn_error.is_some() { 127 } else { 1 }),
                killed: end.killed,
                spawn_error: end.spawn_error.clone(),
                duration: end.duration,
            },
            None => Ran {
                code: 130,
                killed: Some(Kill::Interrupted),
                spawn_error: None,
                duration: Duration::ZERO,
            },
        }
    }

    pub fn ok(&self) -> bool {
        self.code == 0 && self.killed.is_none() && self.spawn_error.is_none()
    }

    /// `exit 1`, `timed out after 10m`, `could not start: ...`.
    pub fn describe(&self) -> String {
        if let Some(e) = &self.spawn_error {
            return format!("could not start: {e}");
        }
        match self.killed {
            Some(k) => format!(
                "{} after {}",
                k.describe(),
                crate::dispatch::time::human(self.duration)
            ),
            None => format!("exit {}", self.code),
        }
    }
}

/// Run `argv` (no shell) in `cwd` with `env`, its output to `log`, killed
/// with its process group after `timeout` or when `stop` is set.
pub fn run(
    argv: &[String],
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
    timeout: Option<Duration>,
    stop: &AtomicBool,
) -> Ran {
    if let Some(parent) = log.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let job = Job {
        id: "setup".into(),
        argv: argv.to_vec(),
        cwd: cwd.to_path_buf(),
        env: env.to_vec(),
        log: log.to_path_buf(),
        adapter: None,
        budget: None,
    };
    let limits = Limits {
        jobs: 1,
        timeout,
        idle: None,
        grace: crate::dispatch::GRACE,
    };
    let ends = process::run(std::slice::from_ref(&job), limits, stop, &mut |_| {});
    Ran::of(ends.first().and_then(Option::as_ref))
}

/// Run the configured setup command in a worktree, if there is one.
pub fn setup(
    settings: &Settings,
    worktree: &Path,
    env: &[(String, String)],
    log: &Path,
    stop: &AtomicBool,
) -> Option<Ran> {
    if settings.setup.is_empty() {
        return None;
    }
    Some(run(
        &settings.setup,
        worktree,
        env,
        log,
        Some(settings.setup_timeout),
        stop,
    ))
}
