//! Claims across machines: a task being worked on is claimed by the ref
//! `refs/orch/claims/<ID>`, created only if absent, so that two clones,
//! two machines or two leads never run the same task.
//!
//! A claim points at a commit orch writes (no parent, the empty tree) whose
//! message names the holder (`user.name <user.email>` on the host), the
//! dispatch run if any, with the trailers `Orch-Task`, `Orch-Claim-Holder`,
//! `Orch-Run`; its committer time is when the claim was taken.
//!
//! When a claims remote is configured (`claims.remote` in config.yaml,
//! overridden by `ORCH_CLAIMS_REMOTE`, empty for none), taking a claim
//! also pushes it, created at the remote only if absent there
//! (`--force-with-lease=<ref>:`, all of one call's claims in one atomic
//! push): a refused push means someone else holds it. Releasing deletes the
//! remote's claim only if it is the one expected (`--force-with-lease=<ref>:<oid>`);
//! a remote that cannot be reached then is a warning, not a failure.
//!
//! Policy only: the ref and object mechanics, and running `git`, are in
//! [`crate::git`]. Everything read from a claim is untrusted: bounded when
//! read, clipped and with control characters escaped when shown.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::git::{CLAIMS_PREFIX, GitError, Oid, Pushed, REMOTE_TIMEOUT, Repo};
use crate::util::{clip_chars, escape_controls, one_line, utc_minute};

/// The variable that overrides `claims.remote` (empty: no remote).
pub const REMOTE_VAR: &str = "ORCH_CLAIMS_REMOTE";

/// Characters of a holder or run shown at most.
const SHOWN: usize = 200;

/// One claim, as read from its commit (untrusted: see [`Claim::shown`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Claim {
    pub task: String,
    /// `Name <email> on host`, or what could be read.
    pub holder: String,
    /// When the claim was taken, seconds since the epoch (0 if unknown).
    pub since: i64,
    pub run: Option<String>,
    /// The claim commit.
    pub oid: String,
}

impl Claim {
    /// `HOLDER since YYYY-MM-DD HH:MM UTC (run RUN)`, clipped and escaped,
    /// for a person to read.
    pub fn shown(&self) -> String {
        let mut s = format!(
            "{} since {} UTC",
            safe(&self.holder),
            utc_minute(self.since)
        );
        if let Some(r) = &self.run {
            s.push_str(&format!(" (run {})", safe(r)));
        }
        s
    }

    /// The claim as JSON, its texts clipped and escaped.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "task": safe(&self.task),
            "holder": safe(&self.holder),
            "since": crate::dispatch::time::rfc3339(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.since.max(0) as u64)
            ),
            "run": self.run.as_deref().map(safe),
            "oid": self.oid,
        })
    }
}

/// An untrusted text on one line, clipped, control characters escaped.
fn safe(text: &str) -> String {
    escape_controls(&clip_chars(&one_line(text), SHOWN)).into_owned()
}

/// The claims remote: `ORCH_CLAIMS_REMOTE` if set (empty: none), else
/// `claims.remote`; refused when git would read it as an option.
pub fn remote(config: &Config) -> Result<Option<String>> {
    let (name, from) = match std::env::var(REMOTE_VAR) {
        Ok(v) => (Some(v), REMOTE_VAR),
        Err(_) => (config.claims.remote.clone(), "config claims.remote"),
    };
    let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.starts_with('-') || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::with_help(
            format!("{from} `{}` is not a remote git can be given", safe(&name)),
            "name a remote (`origin`) or a URL, without leading `-` or spaces",
        ));
    }
    Ok(Some(name))
}

/// The host name, for the holder (Linux: the kernel's; else `HOSTNAME`).
fn host() -> String {
    for path in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(text) = std::fs::read_to_string(path) {
            let h = one_line(&clip_chars(&text, 255));
            if !h.is_empty() {
                return h;
            }
        }
    }
    std::env::var("HOSTNAME")
        .ok()
        .map(|h| one_line(&h))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unknown host".to_string())
}

fn git_error(e: GitError) -> Error {
    Error::usage(e.to_string())
}

fn warn(text: &str) {
    eprintln!("warning: {}", escape_controls(text));
}

/// Read one claim commit (possibly unreadable: then said so).
fn read(repo: &Repo, task: &str, oid: Oid) -> Claim {
    match repo.read_claim(oid) {
        Ok(c) => Claim {
            task: task.to_string(),
            holder: c
                .trailer("Orch-Claim-Holder")
                .map_or("an unnamed holder".to_string(), |h| clip_chars(h, SHOWN)),
            since: c.time,
            run: c.trailer("Orch-Run").map(|r| clip_chars(r, SHOWN)),
            oid: oid.to_string(),
        },
        Err(e) => Claim {
            task: task.to_string(),
            holder: format!("an unknown holder (claim commit unreadable: {e})"),
            since: 0,
            run: None,
            oid: oid.to_string(),
        },
    }
}

/// The claim on `task` in this repository, if any.
pub fn get(repo: &Repo, task: &str) -> Result<Option<Claim>> {
    Ok(repo
        .claim_tip(task)
        .map_err(git_error)?
        .map(|oid| read(repo, task, oid)))
}

/// Every claim in this repository, sorted by task.
pub fn list(repo: &Repo) -> Result<Vec<Claim>> {
    Ok(repo
        .claim_refs()
        .map_err(git_error)?
        .into_iter()
        .map(|(task, oid)| read(repo, &task, oid))
        .collect())
}

/// Where this worktree notes each claim it holds, until the claim is
/// released: `<git-dir>/orch-claims/<ID>`, holding the claim commit (the
/// git dir is the worktree's own). A task being moved to `in_progress` is
/// not in progress, so a claim on it still noted there was left by an orch
/// of this worktree stopped before its commit, or before a record, block
/// or cancel let the claim go: it is this worktree's own, and is taken
/// over. Another worktree's or clone's claim is never noted here. `None`
/// for a task ID that cannot name a file.
fn pending_file(repo: &Repo, id: &str) -> Option<std::path::PathBuf> {
    crate::util::is_valid_id(id).then(|| repo.git_dir().join("orch-claims").join(id))
}

fn note_pending(repo: &Repo, id: &str, oid: Oid) -> Result<()> {
    let Some(path) = pending_file(repo, id) else {
        return Ok(());
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(&path, format!("{oid}\n")).map_err(|e| Error::io(&path, e))
}

fn pending(repo: &Repo, id: &str) -> Option<Oid> {
    let path = pending_file(repo, id)?;
    let bytes = crate::fsx::read_regular(&path, 256).ok()?;
    Oid::from_hex(String::from_utf8_lossy(&bytes).trim().as_bytes()).ok()
}

fn clear_pending(repo: &Repo, id: &str) {
    if let Some(path) = pending_file(repo, id) {
        let _ = std::fs::remove_file(path);
    }
}

/// The exit-2 error for a task someone holds.
fn held(claim: &Claim, at: Option<&str>) -> Error {
    let task = safe(&claim.task);
    Error::with_help(
        format!(
            "`{task}` is claimed by {}{}; nothing was claimed or started",
            claim.shown(),
            at.map_or(String::new(), |r| format!(" at remote `{}`", safe(r)))
        ),
        format!(
            "if that claim is stale (its holder stopped working on it), release it: `orch unclaim {task} --reason \"<why>\"`"
        ),
    )
}

/// The claim commit's message.
fn message(task: &str, holder: &str, run: Option<&str>) -> String {
    let mut m = format!("orch claim {task}\n\nClaimed by {holder}");
    if let Some(r) = run {
        m.push_str(&format!(" for run {}", one_line(r)));
    }
    m.push_str(".\n\n");
    m.push_str(&format!("Orch-Task: {task}\nOrch-Claim-Holder: {holder}\n"));
    if let Some(r) = run {
        m.push_str(&format!("Orch-Run: {}\n", one_line(r)));
    }
    m
}

/// Claim every task of `ids`, all or nothing: in this repository, then at
/// `remote` in one atomic push. A task already claimed (here or at the
/// remote), or a remote that cannot be reached, is exit 2 naming the holder
/// and the fix; whatever this call had taken is released first.
pub fn take(repo: &Repo, ids: &[String], run: Option<&str>, remote: Option<&str>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    // Refuse before anything is written.
    let mut stale = Vec::new();
    for id in ids {
        crate::git::claim_ref(id).map_err(git_error)?;
        if let Some(c) = get(repo, id)? {
            if pending(repo, id).is_some_and(|p| c.oid == p.to_string().as_str()) {
                stale.push(id.clone());
            } else {
                return Err(held(&c, None));
            }
        }
    }
    // Left by an orch of this worktree that was stopped: ours.
    if !stale.is_empty() {
        release_many(
            repo,
            &stale,
            "left by an orch of this worktree that was stopped",
            remote,
        )?;
        for id in &stale {
            if let Some(c) = get(repo, id)? {
                return Err(held(&c, None));
            }
        }
    }
    let holder = format!(
        "{} on {}",
        one_line(&repo.committer_ident().map_err(git_error)?),
        host()
    );
    let mut taken: Vec<(String, Oid)> = Vec::new();
    for id in ids {
        let oid = repo
            .write_claim_commit(&message(id, &holder, run))
            .map_err(git_error)?;
        if let Err(e) = note_pending(repo, id, oid) {
            undo_local(repo, &taken);
            return Err(e);
        }
        let result = repo
            .create_claim(id, oid, &format!("orch: claim {id}"))
            .map(|()| oid);
        match result {
            Ok(oid) => taken.push((id.clone(), oid)),
            Err(e) => {
                clear_pending(repo, id);
                undo_local(repo, &taken);
                return Err(match get(repo, id)? {
                    Some(c) => held(&c, None),
                    None => git_error(e),
                });
            }
        }
    }
    let Some(remote) = remote else {
        return Ok(());
    };
    let updates: Vec<(String, Option<Oid>, Option<Oid>)> = taken
        .iter()
        .map(|(id, oid)| (format!("{CLAIMS_PREFIX}{id}"), Some(*oid), None))
        .collect();
    match repo.push_leased(remote, &updates, true, REMOTE_TIMEOUT) {
        Ok(Pushed::Done) => Ok(()),
        Ok(Pushed::Rejected(refs)) => {
            undo_local(repo, &taken);
            // Whose claim is there? The first refused ref that holds one.
            let mut reasons = Vec::new();
            for (reference, why) in &refs {
                let task = reference
                    .strip_prefix(CLAIMS_PREFIX)
                    .unwrap_or(reference)
                    .to_string();
                match repo.fetch_one(remote, reference, REMOTE_TIMEOUT) {
                    Ok(Some(oid)) => return Err(held(&read(repo, &task, oid), Some(remote))),
                    Ok(None) => reasons.push(format!("{task}: {why}")),
                    Err(e) => reasons.push(format!(
                        "{task}: {why} (and its claim there cannot be fetched: {e})"
                    )),
                }
            }
            Err(Error::with_help(
                format!(
                    "remote `{}` refused the claims ({}); nothing was claimed or started",
                    safe(remote),
                    escape_controls(&reasons.join("; "))
                ),
                format!(
                    "run it again (a claim released meanwhile is taken then); if the remote refuses refs under {CLAIMS_PREFIX} (a hook), allow them, or claim in this clone only: `{REMOTE_VAR}= orch ...`"
                ),
            ))
        }
        Err(e) => {
            undo_local(repo, &taken);
            let names: Vec<&str> = ids.iter().map(String::as_str).collect();
            Err(Error::with_help(
                format!(
                    "cannot push the claim for {} to remote `{}`: {}; nothing was claimed or started",
                    names.join(", "),
                    safe(remote),
                    escape_controls(&e.0)
                ),
                format!(
                    "check the remote (`git ls-remote {} {CLAIMS_PREFIX}*`), or claim in this clone only: `{REMOTE_VAR}= orch ...`",
                    safe(remote)
                ),
            ))
        }
    }
}

/// Delete the local claims this call made (a failed take).
fn undo_local(repo: &Repo, taken: &[(String, Oid)]) {
    for (id, oid) in taken {
        clear_pending(repo, id);
        if let Err(e) = repo.delete_claim(id, *oid) {
            warn(&format!(
                "the claim this command took on `{id}` could not be removed: {e}"
            ));
        }
    }
}

/// Release the claim on `id` (here, and at `remote` if one is configured).
/// `reason` says why, in the report. True if there was a claim to release.
pub fn release(repo: &Repo, id: &str, reason: &str, remote: Option<&str>) -> Result<bool> {
    Ok(!release_many(repo, &[id.to_string()], reason, remote)?.is_empty())
}

/// Release the claims on `ids`: each local claim whose ref is still
/// there, then at `remote` (one listing of the remote's claims when some
/// are not known here, one push): a remote claim is deleted only if it is
/// the one this clone knows, or the one listed a moment ago. A remote that
/// cannot be reached is a warning. The tasks whose claim was released.
pub fn release_many(
    repo: &Repo,
    ids: &[String],
    reason: &str,
    remote: Option<&str>,
) -> Result<Vec<String>> {
    let reason = one_line(reason);
    let mut released = Vec::new();
    let mut known: Vec<(String, Oid)> = Vec::new();
    for id in ids {
        if crate::git::claim_ref(id).is_err() {
            continue;
        }
        clear_pending(repo, id);
        let Some(oid) = repo.claim_tip(id).map_err(git_error)? else {
            continue;
        };
        match repo.delete_claim_logged(id, oid, &format!("orch: release claim {id}: {reason}")) {
            Ok(()) => {
                released.push(id.clone());
                known.push((id.clone(), oid));
            }
            Err(e) => warn(&format!(
                "the claim on `{id}` could not be released ({reason}): {e}"
            )),
        }
    }
    let Some(remote) = remote else {
        return Ok(released);
    };
    let unknown: Vec<&String> = ids
        .iter()
        .filter(|id| !known.iter().any(|(k, _)| k == *id))
        .filter(|id| crate::git::claim_ref(id).is_ok())
        .collect();
    let mut listed: Option<Vec<(String, Oid)>> = None;
    if !unknown.is_empty() {
        match repo.remote_refs(remote, CLAIMS_PREFIX, REMOTE_TIMEOUT) {
            Ok(refs) => {
                for (name, oid) in &refs {
                    if let Some(task) = name.strip_prefix(CLAIMS_PREFIX)
                        && unknown.iter().any(|u| u.as_str() == task)
                    {
                        known.push((task.to_string(), *oid));
                    }
                }
                listed = Some(refs);
            }
            Err(e) => {
                let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
                warn(&format!(
                    "cannot reach remote `{remote}` to release the claims on {} there: {e} (`orch unclaim ID --reason \"<why>\"` releases one later)",
                    names.join(", ")
                ));
            }
        }
    }
    if known.is_empty() {
        return Ok(released);
    }
    let updates: Vec<(String, Option<Oid>, Option<Oid>)> = known
        .iter()
        .map(|(id, oid)| (format!("{CLAIMS_PREFIX}{id}"), None, Some(*oid)))
        .collect();
    let names: Vec<&str> = known.iter().map(|(id, _)| id.as_str()).collect();
    match repo.push_leased(remote, &updates, false, REMOTE_TIMEOUT) {
        Ok(Pushed::Done) => {
            for (id, _) in &known {
                if !released.contains(id) {
                    released.push(id.clone());
                }
            }
        }
        Ok(Pushed::Rejected(refs)) => {
            // A lease that failed: the remote holds no claim (it was never
            // pushed, or was released), or another one: say so, leave it.
            let now = match listed {
                Some(l) => Ok(l),
                None => repo.remote_refs(remote, CLAIMS_PREFIX, REMOTE_TIMEOUT),
            };
            for (id, oid) in &known {
                let r = format!("{CLAIMS_PREFIX}{id}");
                if !refs.iter().any(|(x, _)| *x == r) {
                    if !released.contains(id) {
                        released.push(id.clone());
                    }
                    continue;
                }
                match &now {
                    Ok(l) => match l.iter().find(|(n, _)| *n == r) {
                        None => {}
                        Some((_, there)) if there != oid => warn(&format!(
                            "remote `{remote}` holds another claim on `{id}` (commit {there}), not the one this clone released: left alone"
                        )),
                        Some(_) => warn(&format!(
                            "remote `{remote}` refused to delete the claim on `{id}`: left there (`orch unclaim {id} --reason \"<why>\"` retries)"
                        )),
                    },
                    Err(e) => warn(&format!(
                        "remote `{remote}` refused to delete the claim on `{id}`, and cannot be listed: {e}"
                    )),
                }
            }
        }
        Err(e) => warn(&format!(
            "cannot reach remote `{remote}` to release the claims on {} there: {e}; released here only (`orch unclaim ID --reason \"<why>\"` retries)",
            names.join(", ")
        )),
    }
    Ok(released)
}
