//! The orch lock: one transition at a time per repository (per git folder),
//! so that concurrent `orch record` runs each read the documents the one
//! before them wrote.
//!
//! `<git-dir>/orch.lock` is held with an OS file lock (`flock`/`LockFileEx`
//! through `std::fs::File::lock`), which the kernel releases when the holder
//! exits, however it exits: a killed `orch` never leaves a lock that blocks
//! the next one. The file holds the holder's process id and start time for
//! messages. A waiter retries with backoff for [`WAIT`], then gives up
//! (exit 2) naming the lock and its holder. On Unix the holder removes the
//! file when it is done, and a waiter that locked a file already removed
//! (the path now names another file, or none) retries on the new one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// How long to wait for another orch to finish.
pub const WAIT: Duration = Duration::from_secs(60);

/// The lock file's name inside the git folder.
pub const NAME: &str = "orch.lock";

pub struct OrchLock {
    file: Option<File>,
    path: PathBuf,
}

impl OrchLock {
    /// Take the lock in `dir`, waiting up to `wait`.
    pub fn acquire(dir: &Path, wait: Duration) -> Result<OrchLock> {
        let path = dir.join(NAME);
        let started = Instant::now();
        let mut delay = Duration::from_millis(5);
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            match file.try_lock() {
                Ok(()) => {
                    if !still_named(&file, &path) {
                        continue;
                    }
                    let stamp = format!(
                        "pid {} since {}\n",
                        std::process::id(),
                        SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs())
                    );
                    // Best effort: the content is only for messages.
                    let _ = file.set_len(0);
                    let _ = file.write_all(stamp.as_bytes());
                    return Ok(OrchLock {
                        file: Some(file),
                        path,
                    });
                }
                Err(TryLockError::WouldBlock) => {
                    if started.elapsed() >= wait {
                        let mut holder = String::new();
                        let _ = file.rewind();
                        let _ = file.read_to_string(&mut holder);
                        let holder = holder.trim();
                        return Err(Error::with_help(
                            format!(
                                "{} is held by another orch ({}) for over {} s",
                                path.display(),
                                if holder.is_empty() {
                                    "process unknown"
                                } else {
                                    holder
                                },
                                wait.as_secs()
                            ),
                            format!(
                                "wait for that orch to finish; if no orch is running, delete {}",
                                path.display()
                            ),
                        ));
                    }
                    drop(file);
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_millis(200));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::with_help(
                        format!("cannot lock {}: {e}", path.display()),
                        "orch needs file locks in the git folder; check the file system",
                    ));
                }
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OrchLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            // Remove the name while holding the lock, so a waiter that then
            // locks this (unlinked) file sees it is no longer the lock.
            #[cfg(unix)]
            let _ = std::fs::remove_file(&self.path);
            let _ = file.unlock();
        }
    }
}

/// Does `path` still name the file we hold open?
#[cfg(unix)]
fn still_named(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_named(_file: &File, _path: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_then_names_the_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = OrchLock::acquire(dir.path(), WAIT).expect("first");
        let err = OrchLock::acquire(dir.path(), Duration::from_millis(50))
            .err()
            .expect("second must wait and fail");
        assert!(err.to_string().contains("orch.lock"), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(!dir.path().join(NAME).exists() || cfg!(not(unix)));
        let again = OrchLock::acquire(dir.path(), Duration::from_millis(50)).expect("free again");
        drop(again);
    }

    #[test]
    fn threads_take_turns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let counter = std::sync::Arc::new(std::sync::Mutex::new((0u32, 0u32)));
        std::thread::scope(|s| {
            for _ in 0..4 {
                let counter = counter.clone();
                let path = dir.path();
                s.spawn(move || {
                    for _ in 0..5 {
                        let _lock = OrchLock::acquire(path, WAIT).expect("lock");
                        {
                            let mut c = counter.lock().expect("mutex");
                            c.0 += 1;
                            assert_eq!(c.0, 1, "two holders at once");
                        }
                        std::thread::sleep(Duration::from_millis(2));
                        let mut c = counter.lock().expect("mutex");
                        c.0 -= 1;
                        c.1 += 1;
                    }
                });
            }
        });
        assert_eq!(counter.lock().expect("mutex").1, 20);
    }
}
