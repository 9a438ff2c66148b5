//! What changed in the work tree while an agent ran (the generic adapter's
//! view of "files it changed"): a snapshot is the stat stamp of every path
//! `git status` reports (modified, deleted or untracked; ignored files left
//! out), and a path changed between two snapshots when it entered, left or
//! changed its stamp. A file that was already dirty and that the agent did
//! not touch keeps its stamp, so it is not attributed to the agent.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::git::Repo;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    mode: u32,
}

/// Dirty paths and their stamps (`None`: absent, i.e. deleted).
#[derive(Clone, Debug, Default)]
pub struct Snapshot(BTreeMap<String, Option<Stamp>>);

/// Take a snapshot, leaving out paths under any of `skip` (prefixes ending
/// in `/`, e.g. the orchestrator's `logs/` and `runs/`).
pub fn take(repo: &Repo, skip: &[String]) -> Result<Snapshot, crate::git::GitError> {
    let root = repo.workdir().to_path_buf();
    let mut map = BTreeMap::new();
    for path in repo.dirty_paths()? {
        if skip.iter().any(|s| path.starts_with(s.as_str())) {
            continue;
        }
        let stamp = stamp(&root.join(&path));
        map.insert(path, stamp);
    }
    Ok(Snapshot(map))
}

fn stamp(path: &Path) -> Option<Stamp> {
    let md = std::fs::symlink_metadata(path).ok()?;
    Some(Stamp {
        len: md.len(),
        mtime: (md.mtime(), md.mtime_nsec()),
        ctime: (md.ctime(), md.ctime_nsec()),
        ino: md.ino(),
        mode: md.mode(),
    })
}

/// Paths that changed from `before` to `after`, sorted.
pub fn changed(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (path, stamp) in &after.0 {
        if before.0.get(path) != Some(stamp) {
            out.push(path.clone());
        }
    }
    for path in before.0.keys() {
        if !after.0.contains_key(path) {
            // Dirty before, clean now: the agent restored it.
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}
