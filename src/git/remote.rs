//! Refs at a remote, through the `git` binary (gix cannot push): claims
//! created only if absent, deleted only if unchanged, listed, and one ref
//! fetched (a claim's holder, a task's branch for `orch harvest
//! --from-branches --remote`). This is the only place orch runs `git`, and
//! only when a claims remote is configured or a remote is named. Every run is argv only (no shell), with
//! `GIT_TERMINAL_PROMPT=0` (and ssh in batch mode) so that nothing waits
//! for a password, and a bounded time after which git is killed.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gix::ObjectId;

use super::Repo;

/// How long one `git` run may take by default.
pub const REMOTE_TIMEOUT: Duration = Duration::from_secs(60);

/// Bytes of git's stdout or stderr kept.
const MAX_OUTPUT: u64 = 256 * 1024;

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Every ref was updated.
    Done,
    /// The remote refused these refs (full name, git's reason): a lease
    /// that failed (someone else's claim is there, or not the one
    /// expected), a lost race for the ref's lock, a hook; with `--atomic`
    /// nothing was updated.
    Rejected(Vec<(String, String)>),
}

/// A remote that could not be reached, or git that failed otherwise: the
/// message says what git said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteError(pub String);

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The output of one `git` run.
struct Ran {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Repo {
    /// Run `git args...` in the work tree, bounded in time.
    fn run_git(&self, args: &[String], timeout: Duration) -> Result<Ran, RemoteError> {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(&self.workdir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let mut child = cmd.spawn().map_err(|e| {
            RemoteError(format!(
                "cannot run `git` ({e}): claims at a remote need the git binary on PATH"
            ))
        })?;
        let reader = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(p) = pipe {
                    let mut limited = p.take(MAX_OUTPUT);
                    let _ = limited.read_to_end(&mut buf);
                    // Drain the rest so git never blocks on a full pipe.
                    let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
                }
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
        let out = reader(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let err = reader(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if start.elapsed() >= timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(RemoteError(format!("cannot wait for `git`: {e}"))),
            }
        };
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        match status {
            None => Err(RemoteError(format!(
                "`git {}` took longer than {}s and was stopped",
                args.first().map_or("", String::as_str),
                timeout.as_secs()
            ))),
            Some(s) => Ok(Ran {
                ok: s.success(),
                stdout,
                stderr,
            }),
        }
    }

    /// Push refs with leases: `updates` are (full ref, new value: `None`
    /// deletes, expected value at the remote: `None` = must be absent).
    /// `atomic`: all or none.
    pub fn push_leased(
        &self,
        remote: &str,
        updates: &[(String, Option<ObjectId>, Option<ObjectId>)],
        atomic: bool,
        timeout: Duration,
    ) -> Result<Pushed, RemoteError> {
        let mut args: Vec<String> = vec!["push".into(), "--porcelain".into(), "--no-verify".into()];
        if atomic {
            args.push("--atomic".into());
        }
        for (r, _, expected) in updates {
            args.push(format!(
                "--force-with-lease={r}:{}",
                expected.map(|e| e.to_string()).unwrap_or_default()
            ));
        }
        args.push(remote.to_string());
        for (r, new, _) in updates {
            args.push(match new {
                Some(id) => format!("{id}:{r}"),
                None => format!(":{r}"),
            });
        }
        let ran = self.run_git(&args, timeout)?;
        let mut rejected = Vec::new();
        let mut atomic_failed = Vec::new();
        let mut reported = 0;
        for line in ran.stdout.lines() {
            let mut parts = line.split('\t');
            let (Some(flag), Some(spec)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Some(dst) = spec.rsplit(':').next() else {
                continue;
            };
            if !updates.iter().any(|(r, _, _)| r == dst) {
                continue;
            }
            reported += 1;
            if flag == "!" {
                let why = parts.next().unwrap_or_default().to_string();
                // With --atomic, the refs that did not fail themselves say
                // "atomic push failed" (or the transaction failed for all).
                if why.contains("atomic") {
                    atomic_failed.push((dst.to_string(), why));
                } else {
                    rejected.push((dst.to_string(), why));
                }
            }
        }
        if rejected.is_empty() {
            rejected = atomic_failed;
        }
        if !rejected.is_empty() {
            return Ok(Pushed::Rejected(rejected));
        }
        if ran.ok && reported > 0 {
            return Ok(Pushed::Done);
        }
        Err(RemoteError(last_lines(&ran.stderr)))
    }

    /// The refs under `prefix` (`refs/orch/claims/`) at the remote.
    pub fn remote_refs(
        &self,
        remote: &str,
        prefix: &str,
        timeout: Duration,
    ) -> Result<Vec<(String, ObjectId)>, RemoteError> {
        let args: Vec<String> = vec![
            "ls-remote".into(),
            "--refs".into(),
            remote.to_string(),
            format!("{prefix}*"),
        ];
        let ran = self.run_git(&args, timeout)?;
        if !ran.ok {
            return Err(RemoteError(last_lines(&ran.stderr)));
        }
        let mut out = Vec::new();
        for line in ran.stdout.lines() {
            let Some((hex, name)) = line.split_once('\t') else {
                continue;
            };
            if !name.starts_with(prefix) {
                continue;
            }
            if let Ok(id) = ObjectId::from_hex(hex.trim().as_bytes()) {
                out.push((name.to_string(), id));
            }
        }
        Ok(out)
    }

    /// Fetch one ref of the remote (into `FETCH_HEAD` only; no local ref
    /// moves): the commit it points at, now in this repository, or `None`
    /// when the remote has no such ref.
    pub fn fetch_one(
        &self,
        remote: &str,
        reference: &str,
        timeout: Duration,
    ) -> Result<Option<ObjectId>, RemoteError> {
        let args: Vec<String> = vec![
            "fetch".into(),
            "--quiet".into(),
            "--no-tags".into(),
            "--no-recurse-submodules".into(),
            "--no-auto-maintenance".into(),
            remote.to_string(),
            reference.to_string(),
        ];
        let ran = self.run_git(&args, timeout)?;
        if !ran.ok {
            if ran.stderr.contains("couldn't find remote ref") {
                return Ok(None);
            }
            return Err(RemoteError(last_lines(&ran.stderr)));
        }
        Ok(self.fetch_head())
    }
}

/// The last few lines of what git said, on one line.
fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(3);
    let text = lines[start..].join("; ");
    if text.is_empty() {
        "git failed without saying why".to_string()
    } else {
        crate_clip(&text)
    }
}

fn crate_clip(text: &str) -> String {
    const MAX: usize = 600;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
