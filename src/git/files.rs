//! Work-tree files as git sees them: what a path holds on disk (a file
//! with its executable bit, a symbolic link, nothing, or something git
//! does not store), writing a blob to a path atomically (temp file and
//! rename in its folder), deleting a path and the folders it leaves empty,
//! and setting or dropping index entries for a few paths.
//!
//! Bytes are written and read as they are: no clean or smudge filters
//! (`core.autocrlf`, `.gitattributes`), as for every commit orch makes.

use std::io::Write;
use std::path::Path;

use gix::ObjectId;
use gix::bstr::BStr;
use gix::index::entry::{Flags, Mode, Stat};
use gix::objs::tree::EntryKind;

use super::GitError;

/// What a path holds in a work tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Disk {
    Missing,
    File {
        bytes: Vec<u8>,
        executable: bool,
    },
    Link {
        target: Vec<u8>,
    },
    /// A folder (a nested repository, or a folder where a file was), a
    /// FIFO, a socket: nothing git stores as a blob.
    Other,
}

impl Disk {
    /// The tree entry this would be committed as, and its bytes.
    pub(super) fn entry(&self) -> Option<(EntryKind, &[u8])> {
        match self {
            Disk::File {
                bytes,
                executable: true,
            } => Some((EntryKind::BlobExecutable, bytes)),
            Disk::File { bytes, .. } => Some((EntryKind::Blob, bytes)),
            Disk::Link { target } => Some((EntryKind::Link, target)),
            Disk::Missing | Disk::Other => None,
        }
    }
}

fn io(path: &Path, source: std::io::Error) -> GitError {
    GitError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What `rel` holds under `root`. A path whose parent folder is a file or
/// a link reads as missing (git would not follow the link either).
pub(super) fn read(root: &Path, rel: &str) -> Result<Disk, GitError> {
    // A link in a parent folder: the path is not in the work tree.
    let mut at = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Ok(Disk::Missing),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Disk::Missing),
            Err(e) => return Err(io(&at, e)),
        }
    }
    let path = root.join(rel);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Disk::Missing),
        Err(e) if e.raw_os_error() == Some(20) => return Ok(Disk::Missing), // ENOTDIR
        Err(e) => return Err(io(&path, e)),
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        let target = std::fs::read_link(&path).map_err(|e| io(&path, e))?;
        let target = gix::path::into_bstr(target)
            .map_err(|e| GitError::gix(format!("cannot read the link {}", path.display()), e))?
            .into_owned();
        return Ok(Disk::Link {
            target: target.into(),
        });
    }
    if kind.is_file() {
        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
        return Ok(Disk::File {
            bytes,
            executable: is_executable(&meta),
        });
    }
    Ok(Disk::Other)
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

/// The blob id `bytes` would have.
pub(super) fn hash(kind: gix::hash::Kind, bytes: &[u8]) -> Result<ObjectId, GitError> {
    gix::objs::compute_hash(kind, gix::objs::Kind::Blob, bytes)
        .map_err(|e| GitError::gix("cannot hash a file's content", e))
}

/// Write `bytes` at `rel` under `root` as `kind` (a file, an executable
/// file or a symbolic link), atomically: a temp file (or link) in the same
/// folder renamed over the path. Missing folders are created; a file in
/// the way of a folder is an error the caller has ruled out.
pub(super) fn write(root: &Path, rel: &str, kind: EntryKind, bytes: &[u8]) -> Result<(), GitError> {
    let path = root.join(rel);
    let parent = path.parent().unwrap_or(root);
    std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
        // An empty folder left where a file goes (its files were deleted).
        std::fs::remove_dir(&path).map_err(|e| io(&path, e))?;
    }
    match kind {
        EntryKind::Link => write_link(parent, &path, bytes),
        _ => write_file(parent, &path, bytes, kind == EntryKind::BlobExecutable),
    }
}

/// A new file in `parent` under a free temporary name, created with the
/// mode git gives (0666 or 0777, less the umask, which the kernel applies).
fn create_temp(
    parent: &Path,
    executable: bool,
) -> Result<(std::fs::File, std::path::PathBuf), GitError> {
    for n in 0..1000u32 {
        let tmp = parent.join(format!(".orch-{}-{n}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if executable { 0o777 } else { 0o666 });
        }
        #[cfg(not(unix))]
        let _ = executable;
        match options.open(&tmp) {
            Ok(file) => return Ok((file, tmp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(&tmp, e)),
        }
    }
    Err(io(
        parent,
        std::io::Error::other("cannot find a free temporary name"),
    ))
}

fn write_file(parent: &Path, path: &Path, bytes: &[u8], executable: bool) -> Result<(), GitError> {
    let (mut file, tmp) = create_temp(parent, executable)?;
    let written = file
        .write_all(bytes)
        .map_err(|e| io(&tmp, e))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| io(path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(unix)]
fn write_link(parent: &Path, path: &Path, target: &[u8]) -> Result<(), GitError> {
    use std::os::unix::ffi::OsStrExt;
    let target = std::ffi::OsStr::from_bytes(target);
    for n in 0..100u32 {
        let tmp = parent.join(format!(".orch-link-{}-{n}.tmp", std::process::id()));
        match std::os::unix::fs::symlink(target, &tmp) {
            Ok(()) => {
                return std::fs::rename(&tmp, path).map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    io(path, e)
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(path, e)),
        }
    }
    Err(io(
        path,
        std::io::Error::other("cannot find a free temporary name"),
    ))
}

#[cfg(not(unix))]
fn write_link(_: &Path, path: &Path, _: &[u8]) -> Result<(), GitError> {
    Err(io(
        path,
        std::io::Error::other("symbolic links are not supported here"),
    ))
}

/// Remove the temp files [`write`] names (`.orch-<pid>-<n>.tmp`,
/// `.orch-link-<pid>-<n>.tmp`) from `folder`: what a write killed between
/// creating and renaming one leaves.
pub(super) fn remove_temps(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Some(middle) = name.strip_suffix(".tmp").and_then(|n| {
            n.strip_prefix(".orch-link-")
                .or_else(|| n.strip_prefix(".orch-"))
        }) else {
            continue;
        };
        let ours = middle.split('-').count() == 2
            && middle
                .split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if ours {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Delete `rel` under `root` (a file or a link; a missing path is fine),
/// then every parent folder it leaves empty, up to `root`.
pub(super) fn delete(root: &Path, rel: &str) -> Result<(), GitError> {
    let path = root.join(rel);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => std::fs::remove_file(&path).map_err(|e| io(&path, e))?,
        Err(_) => {}
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) {
            break;
        }
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// The index mode for a tree entry kind.
pub(super) fn index_mode(kind: EntryKind) -> Mode {
    match kind {
        EntryKind::BlobExecutable => Mode::FILE_EXECUTABLE,
        EntryKind::Link => Mode::SYMLINK,
        EntryKind::Commit => Mode::COMMIT,
        EntryKind::Tree => Mode::DIR,
        EntryKind::Blob => Mode::FILE,
    }
}

/// The index stat of `rel` on disk, or an empty one (git then looks at
/// the file again) when it cannot be read.
pub(super) fn stat(root: &Path, rel: &str) -> Stat {
    gix::index::fs::Metadata::from_path_no_follow(&root.join(rel))
        .ok()
        .and_then(|m| Stat::from_fs(&m).ok())
        .unwrap_or_default()
}

/// Set the index to `entries` for exactly these paths: every entry (every
/// stage) of each path in `paths` is dropped, then each `(path, kind, id)`
/// of `entries` is added at stage 0 with the stat of the file on disk.
/// The cached-tree extension is dropped (gix does not refresh it).
pub(super) fn update_index(
    index: &mut gix::index::File,
    root: &Path,
    paths: &std::collections::BTreeSet<String>,
    entries: &[(String, EntryKind, ObjectId)],
) {
    if !paths.is_empty() {
        index.remove_entries(|_, path, _| {
            std::str::from_utf8(path).is_ok_and(|p| paths.contains(p))
                || paths.contains(&*String::from_utf8_lossy(path))
        });
    }
    for (path, kind, id) in entries {
        let bpath: &BStr = path.as_str().into();
        index.dangerously_push_entry(
            stat(root, path),
            *id,
            Flags::empty(),
            index_mode(*kind),
            bpath,
        );
    }
    index.sort_entries();
    index.remove_tree();
}

/// Write the index through its held lock file, then commit the lock.
pub(super) fn write_index(index: &gix::index::File, lock: gix::lock::File) -> Result<(), GitError> {
    let lock_path = lock.lock_path().to_path_buf();
    let mut out = std::io::BufWriter::new(lock);
    index
        .write_to(&mut out, gix::index::write::Options::default())
        .map_err(|e| GitError::gix("cannot write the index", e))?;
    let lock = out.into_inner().map_err(|e| GitError::Io {
        path: lock_path.clone(),
        source: e.into_error(),
    })?;
    lock.commit().map_err(|e| GitError::Io {
        path: lock_path,
        source: e.error,
    })?;
    Ok(())
}
