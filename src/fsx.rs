//! The file system beside the documents, which orch does not trust: run
//! files, logs, last-message files, sheets, new documents and `--fix`
//! targets may all be links, FIFOs, devices or huge, placed there by a clone
//! or by an agent. Every read and write orch makes there goes through here.
//!
//! Reading ([`read_regular`], [`read_inside`], [`open_inside`]): a regular
//! file only, opened without following a link at its last component
//! (`O_NOFOLLOW`) nor blocking on a FIFO (`O_NONBLOCK`), with every folder
//! between a base and the file a real folder, and a size bound checked on
//! the open file before a byte is read and again while reading.
//!
//! Writing ([`write_inside`], [`create_fresh`]): the folders from a base
//! down to the file are real folders (created when missing, a link refused,
//! and the canonical path checked to lie inside the base's); the file is
//! written to a temporary file in the same folder (`.orch-<pid>-<n>.tmp`,
//! created exclusively, so never through a link), synced, then renamed over
//! the target, which replaces a link rather than following it. A new file
//! gets `0666` less the umask, a replaced one keeps its permissions. A
//! temporary file left by a killed orch is removed by the next writer
//! ([`sweep_temps`]: only those whose process is gone).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Why a file beside the documents was not read or written.
#[derive(Debug)]
pub enum Refused {
    /// The file itself is a symbolic link.
    Link,
    /// A FIFO, socket, device or folder.
    NotRegular,
    /// Larger than the bound.
    TooBig {
        len: u64,
        max: u64,
    },
    /// A folder on the way is a symbolic link (or not a folder).
    Folder {
        folder: PathBuf,
        why: &'static str,
    },
    /// The path leaves the base folder.
    Outside {
        base: PathBuf,
    },
    Io(std::io::Error),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Link => f.write_str("is a symbolic link; orch does not follow links here"),
            Refused::NotRegular => f.write_str(
                "is not a regular file (a FIFO, socket, device or folder); orch reads only regular files",
            ),
            Refused::TooBig { len, max } => {
                write!(f, "is {len} bytes, over the {} limit", size(*max))
            }
            Refused::Folder { folder, why } => write!(f, "lies under {}, which {why}", folder.display()),
            Refused::Outside { base } => write!(f, "lies outside {}", base.display()),
            Refused::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl Refused {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Refused::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }

    /// As an operational error on `path` (exit 2), with the fix.
    pub fn at(self, path: &Path) -> Error {
        let help = match &self {
            Refused::Link | Refused::Folder { .. } | Refused::Outside { .. } => {
                "orch reads and writes only real files in real folders inside the repository; replace the link by a folder or file (or remove it)"
            }
            Refused::NotRegular => "remove it, or replace it by a regular file",
            Refused::TooBig { .. } => "remove or truncate it",
            Refused::Io(_) => "check the path and its permissions",
        };
        match self {
            Refused::Io(e) => Error::io(path, e),
            other => Error::with_help(format!("{} {other}", path.display()), help),
        }
    }
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// `path` joined onto `base` if it stays inside it (no `..`, no absolute
/// part), else an error.
pub fn inside(base: &Path, relative: &str) -> Result<PathBuf> {
    let rel = Path::new(relative);
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe || relative.contains('\\') || relative.is_empty() {
        return Err(Error::usage(format!(
            "refusing to write `{relative}`: it would leave {}",
            base.display()
        )));
    }
    Ok(base.join(rel))
}

/// The folder orch's checks start from for files under the orchestrator
/// folder `dir`: the work tree's top when `dir` lies in it (so a linked
/// `.orchestrator` is refused too), else `dir` itself (an explicit `--dir`
/// elsewhere is the user's choice).
pub fn base_for<'a>(root: &'a Path, dir: &'a Path) -> &'a Path {
    if dir.starts_with(root) { root } else { dir }
}

/// Open a regular file for reading without following a link at its last
/// component and without blocking on a FIFO.
pub fn open_regular(path: &Path) -> std::result::Result<File, Refused> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(nix::libc::ELOOP)
                || std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
            {
                Refused::Link
            } else {
                Refused::Io(e)
            }
        })?;
    let md = file.metadata().map_err(Refused::Io)?;
    if !md.is_file() {
        return Err(Refused::NotRegular);
    }
    Ok(file)
}

/// A regular file's bytes (see [`open_regular`]), at most `max` of them: a
/// larger file is refused from its size before it is read, and a file that
/// grows while it is read is cut off at the bound and refused.
pub fn read_regular(path: &Path, max: u64) -> std::result::Result<Vec<u8>, Refused> {
    let file = open_regular(path)?;
    read_open(file, max)
}

fn read_open(file: File, max: u64) -> std::result::Result<Vec<u8>, Refused> {
    let len = file.metadata().map_err(Refused::Io)?.len();
    if len > max {
        return Err(Refused::TooBig { len, max });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(Refused::Io)?;
    if bytes.len() as u64 > max {
        return Err(Refused::TooBig {
            len: bytes.len() as u64,
            max,
        });
    }
    Ok(bytes)
}

/// Every folder from `base` (not included) down to `path`'s parent must be
/// a real folder, not a link; `path` must lie lexically inside `base`.
pub fn check_folders(base: &Path, path: &Path) -> std::result::Result<(), Refused> {
    let rel = path.strip_prefix(base).map_err(|_| Refused::Outside {
        base: base.to_path_buf(),
    })?;
    let mut at = base.to_path_buf();
    let parts: Vec<Component<'_>> = rel.components().collect();
    for c in parts.iter().take(parts.len().saturating_sub(1)) {
        match c {
            Component::Normal(name) => at.push(name),
            _ => {
                return Err(Refused::Outside {
                    base: base.to_path_buf(),
                });
            }
        }
        let md = std::fs::symlink_metadata(&at).map_err(Refused::Io)?;
        if md.file_type().is_symlink() {
            return Err(Refused::Folder {
                folder: at,
                why: "is a symbolic link",
            });
        }
        if !md.is_dir() {
            return Err(Refused::Folder {
                folder: at,
                why: "is not a folder",
            });
        }
    }
    Ok(())
}

/// Open `path` (a regular file under real folders inside `base`), checking
/// that the file opened is the one the canonical path names inside the
/// canonical base.
pub fn open_inside(base: &Path, path: &Path) -> std::result::Result<File, Refused> {
    check_folders(base, path)?;
    let file = open_regular(path)?;
    let outside = || Refused::Outside {
        base: base.to_path_buf(),
    };
    let canon = path.canonicalize().map_err(Refused::Io)?;
    let base_canon = base.canonicalize().map_err(Refused::Io)?;
    if !canon.starts_with(&base_canon) {
        return Err(outside());
    }
    let (opened, named) = (
        file.metadata().map_err(Refused::Io)?,
        std::fs::symlink_metadata(&canon).map_err(Refused::Io)?,
    );
    if (opened.dev(), opened.ino()) != (named.dev(), named.ino()) {
        return Err(outside());
    }
    Ok(file)
}

/// [`open_inside`], then at most `max` bytes (see [`read_regular`]).
pub fn read_inside(base: &Path, path: &Path, max: u64) -> std::result::Result<Vec<u8>, Refused> {
    read_open(open_inside(base, path)?, max)
}

/// Make `dir` (inside `base`) a real folder: every missing folder from
/// `base` down is created, an existing link or file on the way is refused,
/// and the canonical result must lie inside the canonical `base`.
pub fn ensure_dir(base: &Path, dir: &Path) -> Result<()> {
    walk_folders(base, dir, |at, e| {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(Error::io(at, e));
        }
        match std::fs::create_dir(at) {
            // Made by someone else meanwhile: checked as any other.
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(true),
            Err(e) => Err(Error::io(at, e)),
        }
    })?;
    let base_canon = base.canonicalize().map_err(|e| Error::io(base, e))?;
    let canon = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    if !canon.starts_with(&base_canon) {
        return Err(Refused::Outside {
            base: base.to_path_buf(),
        }
        .at(dir));
    }
    Ok(())
}

/// Check, creating nothing, that the folders from `base` down to `dir`
/// that exist are real folders (a link or file on the way is refused);
/// missing ones are left for [`ensure_dir`] to make.
pub fn check_dir(base: &Path, dir: &Path) -> Result<()> {
    walk_folders(base, dir, |_, _| Ok(false))
}

/// The folders from `base` down to `dir`, in turn: each must be a real
/// folder (a link or a file on the way is refused). When one cannot be
/// read (it is missing, say), `unreadable` decides: `Ok(true)` when it made
/// the folder (it is then checked as the others), `Ok(false)` to stop the
/// walk there, content.
fn walk_folders(
    base: &Path,
    dir: &Path,
    mut unreadable: impl FnMut(&Path, std::io::Error) -> Result<bool>,
) -> Result<()> {
    let outside = || {
        Refused::Outside {
            base: base.to_path_buf(),
        }
        .at(dir)
    };
    let rel = dir.strip_prefix(base).map_err(|_| outside())?;
    let mut at = base.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(name) => at.push(name),
            Component::CurDir => continue,
            _ => return Err(outside()),
        }
        let md = match std::fs::symlink_metadata(&at) {
            Ok(md) => md,
            Err(e) => {
                if !unreadable(&at, e)? {
                    return Ok(());
                }
                std::fs::symlink_metadata(&at).map_err(|e| Error::io(&at, e))?
            }
        };
        let why = if md.file_type().is_symlink() {
            "is a symbolic link"
        } else if !md.is_dir() {
            "is not a folder"
        } else {
            continue;
        };
        return Err(Refused::Folder { folder: at, why }.at(dir));
    }
    Ok(())
}

/// A fresh temporary file in `folder`, created exclusively (never through
/// a link) with `mode` less the umask.
fn temp_in(folder: &Path, mode: u32) -> Result<(PathBuf, File)> {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    for _ in 0..100 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let name = format!(".orch-{}-{:08x}.tmp", std::process::id(), h.finish() as u32);
        let path = folder.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(folder, e)),
        }
    }
    Err(Error::usage(format!(
        "cannot create a temporary file in {}",
        folder.display()
    )))
}

/// Removes the temporary file unless it was renamed into place.
struct Temp(Option<PathBuf>);

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Write `bytes` to `path` atomically, in a folder already checked: a
/// temporary file in the same folder, synced, then renamed over `path`
/// (`overwrite`; a link there is replaced, not followed) or linked to it
/// (not `overwrite`: fails if anything is there, a dangling link too).
fn write_in_place(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let folder = path
        .parent()
        .ok_or_else(|| Error::usage(format!("{} has no parent folder", path.display())))?;
    let existing = std::fs::symlink_metadata(path).ok();
    if !overwrite && existing.is_some() {
        return Err(exists(path));
    }
    // A replaced regular file keeps its permissions; anything new gets
    // 0666 less the umask, as `touch` would.
    let mode = existing
        .as_ref()
        .filter(|m| m.is_file())
        .map_or(0o666, |m| m.permissions().mode() & 0o7777);
    let (tmp_path, mut file) = temp_in(folder, mode)?;
    let mut guard = Temp(Some(tmp_path.clone()));
    file.write_all(bytes).map_err(|e| Error::io(&tmp_path, e))?;
    if existing.as_ref().is_some_and(|m| m.is_file()) {
        // `mode` at creation was masked by the umask: set it exactly.
        let _ = file.set_permissions(std::fs::Permissions::from_mode(mode));
    }
    file.sync_all().map_err(|e| Error::io(&tmp_path, e))?;
    drop(file);
    if overwrite {
        std::fs::rename(&tmp_path, path).map_err(|e| Error::io(path, e))?;
        guard.0 = None;
    } else {
        // A hard link fails if the name exists, whatever it is.
        std::fs::hard_link(&tmp_path, path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                exists(path)
            } else {
                Error::io(path, e)
            }
        })?;
    }
    Ok(())
}

fn exists(path: &Path) -> Error {
    Error::with_help(
        format!("{} already exists", path.display()),
        "remove it first, or edit it by hand",
    )
}

/// Write `bytes` to `path` atomically (see the module docs), creating the
/// missing folders between `base` and it as real folders and refusing a
/// link on the way. With `overwrite` false, fail if anything is at `path`.
pub fn write_inside(base: &Path, path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let folder = path
        .parent()
        .ok_or_else(|| Error::usage(format!("{} has no parent folder", path.display())))?;
    ensure_dir(base, folder)?;
    write_in_place(path, bytes, overwrite)
}

/// Write `bytes` to `path` atomically, its folder created if missing (see
/// [`write_inside`], with the folder itself as the base: nothing above it
/// is checked). Prefer [`write_inside`] where a base is known.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let folder = path
        .parent()
        .ok_or_else(|| Error::usage(format!("{} has no parent folder", path.display())))?;
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    write_in_place(path, bytes, overwrite)
}

/// Create `path` empty for writing (a log), replacing whatever entry is
/// there (a link is removed, not followed), under real folders inside
/// `base`. The new file gets 0666 less the umask.
pub fn create_fresh(base: &Path, path: &Path) -> Result<File> {
    let folder = path
        .parent()
        .ok_or_else(|| Error::usage(format!("{} has no parent folder", path.display())))?;
    ensure_dir(base, folder)?;
    if let Ok(md) = std::fs::symlink_metadata(path)
        && !md.is_dir()
    {
        std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o666)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// Does process `pid` exist?
fn alive(pid: i32) -> bool {
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// Remove the temporary files (`.orch-<pid>-*.tmp`, regular files) that an
/// orch which is gone left in `folder` (killed between writing one and
/// renaming it); returns their names. Another live orch's are left alone.
pub fn sweep_temps(folder: &Path) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(".orch-")
            .and_then(|r| r.strip_suffix(".tmp"))
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid <= 0 || pid as u32 == std::process::id() || alive(pid) {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_file()) && std::fs::remove_file(e.path()).is_ok() {
            removed.push(name);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_refuses_escapes() {
        let base = Path::new("/repo/.orchestrator");
        assert!(inside(base, "tickets/P1.md").is_ok());
        for bad in ["../x.md", "/etc/passwd", "a/../../b", "a\\b", ""] {
            assert!(inside(base, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn atomic_write_creates_and_refuses_to_clobber() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a/b.md");
        write_atomic(&p, b"one", false).expect("first write");
        assert!(write_atomic(&p, b"two", false).is_err());
        write_atomic(&p, b"three", true).expect("overwrite");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "three");
        let leftovers = std::fs::read_dir(dir.path().join("a")).expect("ls").count();
        assert_eq!(leftovers, 1, "no temp files left behind");
    }

    #[test]
    fn writes_never_follow_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("repo");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(base.join("o")).expect("mkdir");
        std::fs::create_dir_all(&outside).expect("mkdir");
        std::fs::write(outside.join("victim"), "keep").expect("write");
        // A link at the target is replaced, its target untouched.
        std::os::unix::fs::symlink(outside.join("victim"), base.join("o/t.md")).expect("link");
        write_inside(&base, &base.join("o/t.md"), b"new", true).expect("replaces the link");
        assert_eq!(
            std::fs::read_to_string(outside.join("victim")).expect("read"),
            "keep"
        );
        assert!(
            std::fs::symlink_metadata(base.join("o/t.md"))
                .expect("md")
                .is_file()
        );
        // A dangling link blocks a create and is not followed.
        std::os::unix::fs::symlink(outside.join("new"), base.join("o/d.md")).expect("link");
        assert!(write_inside(&base, &base.join("o/d.md"), b"x", false).is_err());
        assert!(!outside.join("new").exists());
        // A linked folder on the way is refused.
        std::os::unix::fs::symlink(&outside, base.join("o/runs")).expect("link");
        let err = write_inside(&base, &base.join("o/runs/r.json"), b"x", true).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!outside.join("r.json").exists());
        assert!(ensure_dir(&base, &base.join("o/runs/x")).is_err());
        assert!(create_fresh(&base, &base.join("o/runs/l.log")).is_err());
    }

    #[test]
    fn folders_are_made_or_checked_and_never_through_a_link_or_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        let outside = tempfile::tempdir().expect("tempdir");
        // check_dir makes nothing and is content with a missing folder.
        check_dir(base, &base.join("a/b/c")).expect("missing is fine");
        assert!(!base.join("a").exists());
        ensure_dir(base, &base.join("a/b/c")).expect("made");
        assert!(base.join("a/b/c").is_dir());
        check_dir(base, &base.join("a/b/c")).expect("real folders");
        ensure_dir(base, &base.join("a/./b/c")).expect("again, through `.`");
        // A file on the way.
        std::fs::write(base.join("f"), "x").expect("write");
        for err in [
            ensure_dir(base, &base.join("f/g")).unwrap_err(),
            check_dir(base, &base.join("f/g")).unwrap_err(),
        ] {
            assert!(err.to_string().contains("is not a folder"), "{err}");
        }
        // A link on the way, even to a real folder.
        std::os::unix::fs::symlink(outside.path(), base.join("l")).expect("link");
        for err in [
            ensure_dir(base, &base.join("l/g")).unwrap_err(),
            check_dir(base, &base.join("l/g")).unwrap_err(),
        ] {
            assert!(err.to_string().contains("symbolic link"), "{err}");
        }
        assert!(!outside.path().join("g").exists());
        // Out of `base`.
        assert!(ensure_dir(base, &base.join("a/../../x")).is_err());
        assert!(check_dir(base, &base.join("a/../../x")).is_err());
        assert!(ensure_dir(base, outside.path()).is_err());
    }

    #[test]
    fn reads_are_regular_bounded_and_inside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        std::fs::write(base.join("f"), "hello").expect("write");
        assert_eq!(read_regular(&base.join("f"), 5).expect("read"), b"hello");
        assert!(matches!(
            read_regular(&base.join("f"), 4),
            Err(Refused::TooBig { len: 5, max: 4 })
        ));
        std::os::unix::fs::symlink("/dev/zero", base.join("z")).expect("link");
        assert!(matches!(
            read_regular(&base.join("z"), 10),
            Err(Refused::Link)
        ));
        assert!(matches!(
            read_regular(Path::new("/dev/null"), 10),
            Err(Refused::NotRegular)
        ));
        let made = std::process::Command::new("mkfifo")
            .arg(base.join("fifo"))
            .status()
            .expect("mkfifo");
        assert!(made.success());
        assert!(matches!(
            read_regular(&base.join("fifo"), 10),
            Err(Refused::NotRegular)
        ));
        std::fs::create_dir(base.join("d")).expect("mkdir");
        std::os::unix::fs::symlink(base.join("d"), base.join("l")).expect("link");
        std::fs::write(base.join("d/x"), "x").expect("write");
        assert!(read_inside(base, &base.join("d/x"), 10).is_ok());
        assert!(matches!(
            read_inside(base, &base.join("l/x"), 10),
            Err(Refused::Folder { .. })
        ));
        assert!(matches!(
            read_inside(&base.join("d"), Path::new("/etc/passwd"), 10),
            Err(Refused::Outside { .. })
        ));
    }

    #[test]
    fn new_files_honour_the_umask_and_replaced_ones_keep_their_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("n.md");
        write_inside(dir.path(), &p, b"x", false).expect("write");
        let mode = std::fs::metadata(&p).expect("md").permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask(), "{mode:o}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o751)).expect("chmod");
        write_inside(dir.path(), &p, b"y", true).expect("write");
        let mode = std::fs::metadata(&p).expect("md").permissions().mode() & 0o777;
        assert_eq!(mode, 0o751);
    }

    /// This process's umask, from /proc.
    fn umask() -> u32 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("Umask:")
                        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
                })
            })
            .expect("umask in /proc/self/status")
    }

    #[test]
    fn stale_temps_of_dead_processes_are_swept() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A process that is surely gone: a child we reaped.
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        let stale = format!(".orch-{dead}-0000abcd.tmp");
        let live = format!(".orch-{}-0000abcd.tmp", std::process::id());
        std::fs::write(dir.path().join(&stale), "x").expect("write");
        std::fs::write(dir.path().join(&live), "x").expect("write");
        std::fs::write(dir.path().join("keep.md"), "x").expect("write");
        assert_eq!(sweep_temps(dir.path()), vec![stale]);
        assert!(dir.path().join(&live).exists() && dir.path().join("keep.md").exists());
    }
}
