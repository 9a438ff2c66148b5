//! Writing files safely: atomically (temp file + rename in the same
//! folder), and only inside a given folder.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// `path` joined onto `base` if it stays inside it (no `..`, no absolute
/// part), else an error.
pub fn inside(base: &Path, relative: &str) -> Result<PathBuf> {
    let rel = Path::new(relative);
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe || relative.contains('\\') {
        return Err(Error::usage(format!(
            "refusing to write `{relative}`: it would leave {}",
            base.display()
        )));
    }
    Ok(base.join(rel))
}

/// Write `bytes` to `path` atomically. With `overwrite` false, fail if the
/// file exists (checked at the rename, not before it).
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| Error::usage(format!("{} has no parent folder", path.display())))?;
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".orch-")
        .suffix(".tmp")
        .tempfile_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    let result = if overwrite {
        tmp.persist(path).map(|_| ())
    } else {
        tmp.persist_noclobber(path).map(|_| ())
    };
    result.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::with_help(
                format!("{} already exists", path.display()),
                "remove it first, or edit it by hand",
            )
        } else {
            Error::io(path, e.error)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_refuses_escapes() {
        let base = Path::new("/repo/.orchestrator");
        assert!(inside(base, "tickets/P1.md").is_ok());
        for bad in ["../x.md", "/etc/passwd", "a/../../b", "a\\b"] {
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
}
