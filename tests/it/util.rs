//! Test helpers: run the binary, copy fixture programs into temp folders.

use std::path::{Path, PathBuf};

/// The `orch` binary under test, with a clean environment for output.
pub fn orch() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_orch"));
    cmd.env_remove("NO_COLOR").env("COLUMNS", "100");
    cmd
}

/// A path inside the repository (fixtures, the example).
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Copy a folder tree (regular files only).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk fixture");
        let rel = entry.path().strip_prefix(from).expect("inside fixture");
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
