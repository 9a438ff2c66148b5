//! The program the server holds between calls, and when it reads it again.
//!
//! Each call lists the orchestrator folder (a directory walk, no file read
//! but `config.yaml`) and takes each listed file's metadata: size, inode,
//! modification and change times. When every file is as it was, the program,
//! its task index and its lint findings are reused as they are. Otherwise
//! the program is rebuilt with [`Program::reload`]: the documents whose
//! metadata is unchanged are moved over as they were parsed, and only the
//! new and changed ones are read and parsed.
//!
//! A file whose times are within [`RACY`] of the moment it was stamped is
//! never trusted: a second write in the same tick of a coarse file-system
//! clock, keeping the size, would leave every field the same (git's "racy
//! clean" problem). Such a file is read again on each call until it is
//! older than that. orch's own writes replace files by rename, so they
//! always change the inode.
//!
//! Lint findings are kept with the program and with the stamp of the git
//! index (the tracked files some rules read); either changing drops them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::model::{Index, Program};

/// How recent a file's times may be before its stamp is distrusted.
pub const RACY: Duration = Duration::from_secs(2);

/// What a file's metadata says about its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    changed: (i64, i64),
    #[cfg(unix)]
    inode: (u64, u64),
    /// Too recent to vouch for the content.
    racy: bool,
}

impl Stamp {
    /// The stamp of the file at `path` (not following a link), taken at
    /// `now`; `None` when it has no metadata.
    pub fn of(path: &Path, now: SystemTime) -> Option<Stamp> {
        let md = std::fs::symlink_metadata(path).ok()?;
        let modified = md.modified().ok();
        let recent = |t: SystemTime| now.duration_since(t).map_or(true, |age| age < RACY);
        #[cfg(unix)]
        let (changed, inode) = {
            use std::os::unix::fs::MetadataExt;
            ((md.ctime(), md.ctime_nsec()), (md.dev(), md.ino()))
        };
        #[cfg(unix)]
        let changed_recently = {
            let at = std::time::UNIX_EPOCH
                + Duration::new(
                    changed.0.max(0) as u64,
                    changed.1.clamp(0, 999_999_999) as u32,
                );
            recent(at)
        };
        #[cfg(not(unix))]
        let changed_recently = false;
        Some(Stamp {
            len: md.len(),
            modified,
            #[cfg(unix)]
            changed,
            #[cfg(unix)]
            inode,
            racy: modified.is_none_or(recent) || changed_recently,
        })
    }

    /// The file is as it was when `self` was taken.
    pub fn vouches_for(&self, now: &Option<Stamp>) -> bool {
        !self.racy && Some(*self) == *now
    }
}

/// One load of the program and what was derived from it.
pub struct Loaded {
    pub program: Program,
    pub index: Index,
    /// Bumped on every rebuild.
    pub generation: u64,
    stamps: HashMap<PathBuf, Option<Stamp>>,
    lint: Option<(Option<Stamp>, Vec<Diagnostic>)>,
}

/// The program of one orchestrator folder, kept between calls.
pub struct Cache {
    pub root: PathBuf,
    pub dir: PathBuf,
    /// The git index, whose changes invalidate the lint findings.
    git_index: Option<PathBuf>,
    loaded: Option<Loaded>,
    generation: u64,
    /// Documents parsed by the last refresh (for tests and the log).
    pub reparsed: usize,
}

impl Cache {
    pub fn new(root: PathBuf, dir: PathBuf) -> Cache {
        let git_index = crate::git::Repo::discover(&dir)
            .ok()
            .flatten()
            .map(|r| r.git_dir().join("index"));
        Cache {
            root,
            dir,
            git_index,
            loaded: None,
            generation: 0,
            reparsed: 0,
        }
    }

    /// The program as it is on disk now: the one held, or rebuilt from it.
    pub fn get(&mut self) -> Result<&mut Loaded> {
        let listing = Program::list(&self.root, &self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let now = SystemTime::now();
        let stamps: HashMap<PathBuf, Option<Stamp>> = listing
            .files()
            .map(|p| (p.to_path_buf(), Stamp::of(p, now)))
            .collect();
        let trusted = |old: &HashMap<PathBuf, Option<Stamp>>, path: &Path| matches!((old.get(path), stamps.get(path)), (Some(Some(was)), Some(is)) if was.vouches_for(is));
        let loaded = match self.loaded.take() {
            Some(old)
                if old.stamps.len() == stamps.len()
                    && stamps.keys().all(|p| trusted(&old.stamps, p)) =>
            {
                self.reparsed = 0;
                old
            }
            previous => {
                let program = match previous {
                    Some(old) => {
                        let keep = |p: &Path| trusted(&old.stamps, p);
                        self.reparsed = listing.documents().filter(|p| !keep(p)).count();
                        Program::reload(listing, old.program, &keep)
                    }
                    None => {
                        self.reparsed = listing.documents().count();
                        Program::read(listing)
                    }
                };
                if program.docs.is_empty() && program.unreadable.is_empty() {
                    return Err(Error::with_help(
                        format!("{} holds no documents", self.dir.display()),
                        "run `orch init` to scaffold a plan and a ledger",
                    ));
                }
                self.generation += 1;
                Loaded {
                    index: Index::build(&program),
                    program,
                    generation: self.generation,
                    stamps,
                    lint: None,
                }
            }
        };
        Ok(self.loaded.insert(loaded))
    }

    /// The program with its lint findings ([`Loaded::diagnostics`]: every
    /// rule, as `orch lint` reports them), computed once per program and
    /// git index.
    pub fn lint(&mut self) -> Result<&Loaded> {
        let index_stamp = self
            .git_index
            .as_deref()
            .and_then(|p| Stamp::of(p, SystemTime::now()));
        let loaded = self.get()?;
        let fresh = match &loaded.lint {
            Some((Some(was), _)) => was.vouches_for(&index_stamp),
            Some((None, _)) => index_stamp.is_none(),
            None => false,
        };
        if !fresh {
            loaded.lint = Some((index_stamp, crate::rules::lint(&loaded.program)));
        }
        Ok(loaded)
    }
}

impl Loaded {
    /// The lint findings, once [`Cache::lint`] computed them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        self.lint.as_ref().map_or(&[], |(_, found)| found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_example(to: &Path) {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(".orchestrator.example");
        for entry in walkdir::WalkDir::new(&from) {
            let entry = entry.expect("walk");
            let target = to.join(entry.path().strip_prefix(&from).expect("inside"));
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target).expect("mkdir");
            } else {
                std::fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }

    /// Push every file's times back, so their stamps are trusted.
    fn age(dir: &Path) {
        let old = SystemTime::now() - Duration::from_secs(60);
        for entry in walkdir::WalkDir::new(dir) {
            let entry = entry.expect("walk");
            if entry.file_type().is_file() {
                let f = std::fs::File::options()
                    .write(true)
                    .open(entry.path())
                    .expect("open");
                f.set_modified(old).expect("set mtime");
            }
        }
    }

    fn debug_docs(p: &Program) -> String {
        let files: Vec<(&String, &str)> = p.files.iter().map(|f| (&f.path, &*f.text)).collect();
        format!("{:?}{files:?}{:?}", p.docs, p.unreadable)
    }

    #[test]
    fn only_changed_documents_are_parsed_again_and_the_result_is_a_fresh_load() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join(".orchestrator");
        copy_example(&dir);
        age(&dir);
        let mut cache = Cache::new(tmp.path().to_path_buf(), dir.clone());
        let first = cache.get().expect("load").generation;
        let all = cache.reparsed;
        assert!(all > 20, "{all}");
        // ctime cannot be set back: the first calls may distrust every file.
        std::thread::sleep(RACY + Duration::from_millis(100));
        cache.get().expect("reload");
        let second = cache.get().expect("reload");
        assert!(second.generation > first);
        let unchanged = second.generation;
        assert_eq!(cache.reparsed, 0, "nothing changed");

        let ticket = dir.join("tickets/P2-CORE-03.md");
        let text = std::fs::read_to_string(&ticket).expect("read");
        std::fs::write(&ticket, text.replace("status: todo", "status: blocked")).expect("write");
        std::fs::write(dir.join("tickets/NEW.md"), "no front matter\n").expect("write");
        std::fs::remove_file(dir.join("sheets/G2.md")).expect("rm");
        cache.get().expect("reload");
        assert_eq!(cache.reparsed, 2, "the edited ticket and the new file");
        let after = cache.get().expect("held");
        assert!(after.generation > unchanged);
        let task = after.index.task("P2-CORE-03").expect("task");
        assert_eq!(task.status, crate::model::TaskStatus::Blocked);
        let fresh = Program::load(tmp.path(), &dir).expect("fresh");
        assert_eq!(debug_docs(&after.program), debug_docs(&fresh));
    }

    #[test]
    fn a_recent_file_is_read_again_even_when_its_metadata_looks_the_same() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join(".orchestrator");
        copy_example(&dir);
        let mut cache = Cache::new(tmp.path().to_path_buf(), dir.clone());
        cache.get().expect("load");
        let ticket = dir.join("tickets/P2-CORE-03.md");
        let text = std::fs::read_to_string(&ticket).expect("read");
        let before = std::fs::metadata(&ticket)
            .expect("md")
            .modified()
            .expect("mtime");
        // Same size, same modification time: only the racy rule catches it.
        let edited = text.replace("status: todo", "status: done");
        assert_eq!(edited.len(), text.len());
        std::fs::write(&ticket, edited).expect("write");
        std::fs::File::options()
            .write(true)
            .open(&ticket)
            .expect("open")
            .set_modified(before)
            .expect("set mtime");
        let after = cache.get().expect("reload");
        let task = after.index.task("P2-CORE-03").expect("task");
        assert_eq!(task.status, crate::model::TaskStatus::Done);
    }
}
