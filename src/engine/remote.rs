//! The one thing gix does not do for orch: talk to a remote. Fetching a
//! task's branch runs the `git` binary (argv only, no shell, no prompt,
//! bounded in time); everything read back is checked here.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::git::{Oid, Repo};

/// Longest a `git fetch` may take.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Run `git` in the repository's work tree; its stdout, or why not.
pub fn git(repo: &Repo, args: &[&str]) -> Result<String, String> {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(repo.workdir())
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git (remote work needs the git binary): {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`git {}` took over {} s and was stopped",
                    args.join(" "),
                    TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(crate::util::escape_controls(&crate::util::clip_chars(err.trim(), 300)).into_owned())
    }
}

/// Fetch `branch` from `remote` into `refs/remotes/<remote>/<branch>`;
/// its tip, or `None` when the remote has no such branch.
pub fn fetch_branch(repo: &Repo, remote: &str, branch: &str) -> Result<Option<Oid>, String> {
    if remote.starts_with('-') || remote.is_empty() {
        return Err(format!("`{remote}` is not a remote name"));
    }
    let listed = git(
        repo,
        &[
            "ls-remote",
            "--heads",
            "--",
            remote,
            &format!("refs/heads/{branch}"),
        ],
    )?;
    if listed.trim().is_empty() {
        return Ok(None);
    }
    let tracking = format!("refs/remotes/{remote}/{branch}");
    git(
        repo,
        &[
            "fetch",
            "--no-tags",
            "--quiet",
            "--",
            remote,
            &format!("+refs/heads/{branch}:{tracking}"),
        ],
    )?;
    repo.resolve(&tracking).map(Some).map_err(|e| e.to_string())
}
