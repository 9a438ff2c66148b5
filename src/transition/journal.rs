//! The transition journal: what a transition is about to write, kept in the
//! git folder (`<git-dir>/orch-transition.json`) from before the first
//! document is written until its commit is made, so that a transition that
//! dies part way (killed, power cut) is finished or undone by the next orch
//! rather than left half written.
//!
//! [`recover`] reads it (under the orch lock, so its writer is gone): HEAD
//! unmoved means the commit was never made, and every file that holds what
//! the transition wrote gets its old content back (a file changed since is
//! left alone and named); HEAD at the transition's commit means only the
//! index may lag, and its entries for those files are brought up to HEAD
//! (a stale `index.lock` in the way is named, with the fix). Either way the
//! temporary files a killed writer left are removed. A retry then starts
//! from a whole state, so it can never append a ledger row twice.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsx;
use crate::git::Repo;

/// The journal's file name in the git folder.
pub const NAME: &str = "orch-transition.json";

/// Largest journal read: a few documents' old and new texts.
const MAX_JOURNAL: u64 = 64 << 20;

#[derive(Debug, Serialize, Deserialize)]
pub struct Journal {
    /// The commit subject (`orch(T1): in_progress -> done`).
    pub subject: String,
    /// HEAD when the transition began; `None` on an unborn branch.
    pub head: Option<String>,
    /// Whether the transition commits (not `--no-commit`).
    pub commit: bool,
    pub files: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the work tree's top.
    pub path: String,
    /// The content before; `None` when the file did not exist.
    pub old: Option<String>,
    pub new: String,
}

pub fn path(git_dir: &Path) -> PathBuf {
    git_dir.join(NAME)
}

/// Write the journal (synced) before any document is touched.
pub fn begin(git_dir: &Path, journal: &Journal) -> Result<()> {
    let text = serde_json::to_vec(journal).map_err(std::io::Error::other)?;
    fsx::write_atomic(&path(git_dir), &text, true)
}

/// Remove the journal: the transition is whole (committed, or undone).
pub fn end(git_dir: &Path) -> Result<()> {
    let p = path(git_dir);
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(&p, e)),
    }
}

/// The journal a transition that did not finish left, if any.
pub fn pending(git_dir: &Path) -> Option<PathBuf> {
    let p = path(git_dir);
    std::fs::symlink_metadata(&p).is_ok().then_some(p)
}

/// Finish or undo the transition a killed orch left (see the module docs);
/// what was done, one line each, for the user. Call with the orch lock
/// held. `root` is the work tree's top, `dir` the orchestrator folder.
pub fn recover(repo: &Repo, root: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut notes = sweep(root, dir);
    let git_dir = repo.git_dir().to_path_buf();
    let Some(jpath) = pending(&git_dir) else {
        return Ok(notes);
    };
    let journal: Journal = match fsx::read_regular(&jpath, MAX_JOURNAL)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(j) => j,
        Err(why) => {
            end(&git_dir)?;
            notes.push(format!(
                "removed {} ({why}): an interrupted transition's record that cannot be read; check `git status`",
                jpath.display()
            ));
            return Ok(notes);
        }
    };
    let head = repo.resolve("HEAD").ok().map(|h| h.to_string());
    let base = fsx::base_for(root, dir);
    let subject = &journal.subject;
    let paths: Vec<String> = journal.files.iter().map(|e| e.path.clone()).collect();
    if journal.commit
        && head != journal.head
        && repo.is_commit_of(head.as_deref(), journal.head.as_deref(), subject)
    {
        // Committed: only the index may still hold the old versions.
        if repo
            .sync_index_to_head(&paths)
            .map_err(crate::transition::git_error)?
        {
            notes.push(format!(
                "finished an interrupted transition (`{subject}`, committed): brought the index up to date for {}",
                paths.join(", ")
            ));
        }
        end(&git_dir)?;
        return Ok(notes);
    }
    if head != journal.head {
        end(&git_dir)?;
        notes.push(format!(
            "an interrupted transition (`{subject}`) was found, but HEAD moved since; check {} with `git status` and `orch lint`",
            paths.join(", ")
        ));
        return Ok(notes);
    }
    // Never committed: put back what it wrote.
    let mut restored = Vec::new();
    let mut changed = Vec::new();
    for e in &journal.files {
        let abs = root.join(&e.path);
        let now = match fsx::read_regular(&abs, crate::model::program::MAX_DOCUMENT_BYTES) {
            Ok(b) => Some(b),
            Err(r) if r.is_not_found() => None,
            Err(_) => {
                changed.push(e.path.clone());
                continue;
            }
        };
        let holds = |text: Option<&str>| now.as_deref() == text.map(str::as_bytes);
        if holds(e.old.as_deref()) {
            continue;
        }
        if !holds(Some(&e.new)) {
            changed.push(e.path.clone());
            continue;
        }
        match &e.old {
            Some(old) => fsx::write_inside(base, &abs, old.as_bytes(), true)?,
            None => std::fs::remove_file(&abs).map_err(|err| Error::io(&abs, err))?,
        }
        restored.push(e.path.clone());
    }
    end(&git_dir)?;
    let mut note = format!("rolled back an interrupted transition (`{subject}`)");
    if !restored.is_empty() {
        note.push_str(&format!(": restored {}", restored.join(", ")));
    }
    if !changed.is_empty() {
        note.push_str(&format!(
            "; left {} as it is (changed since; check it with `git diff` and `orch lint`)",
            changed.join(", ")
        ));
    }
    notes.push(note);
    Ok(notes)
}

/// Remove the temporary files an orch that is gone left in the folders
/// orch writes into; what was removed, one line each.
pub fn sweep(root: &Path, dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    for folder in temp_folders(dir) {
        for name in fsx::sweep_temps(&folder) {
            notes.push(format!(
                "removed {}, a temporary file a killed orch left",
                crate::model::program::display_path(root, &folder.join(name))
            ));
        }
    }
    notes
}

/// Most run folders (`runs/<RUN>/`, the newest by name) swept.
const RUN_FOLDERS: usize = 8;

/// The folders orch writes documents and run files into, and the newest
/// run folders (a run's schema is written there before its tasks start).
fn temp_folders(dir: &Path) -> Vec<PathBuf> {
    let mut folders = vec![dir.to_path_buf()];
    for sub in ["tickets", "cards", "sheets", "runs"] {
        folders.push(dir.join(sub));
    }
    let runs = dir.join("runs");
    if std::fs::symlink_metadata(&runs).is_ok_and(|m| m.is_dir()) {
        let mut named: Vec<PathBuf> = std::fs::read_dir(&runs)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .filter(|e| e.file_name().to_str().is_some_and(crate::util::is_valid_id))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        named.sort();
        folders.extend(named.into_iter().rev().take(RUN_FOLDERS));
    }
    folders
}
