//! `orch scope check` in a real repository: changed files against the
//! scopes of the tasks in progress.

use std::path::Path;

use crate::util::{copy_tree, git, orch, repo_path};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The sheet fixture (P1-CORE-02 in progress on `src/core/**`) committed
/// with a few source files.
fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    copy_tree(&repo_path("testdata/sheet"), tmp.path());
    write(tmp.path(), "src/core/queue.rs", "queue\n");
    write(tmp.path(), "src/ui/panel.rs", "panel\n");
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "start"]);
    tmp
}

fn check(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = orch()
        .current_dir(dir)
        .args(["scope", "check", "--format", "json"])
        .args(args)
        .output()
        .expect("run orch");
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("json: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn changes_inside_the_running_scope_pass() {
    let tmp = repo();
    write(tmp.path(), "src/core/queue.rs", "changed\n");
    write(tmp.path(), "src/core/new.rs", "new\n");
    // orch's own documents are not checked.
    write(tmp.path(), ".orchestrator/notes.md", "x\n");
    let (code, v) = check(tmp.path(), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["changed"], 2);
    assert_eq!(v["files"][0]["tasks"][0], "P1-CORE-02");
}

#[test]
fn a_change_outside_every_running_scope_fails_and_names_whose_area_it_is() {
    let tmp = repo();
    write(tmp.path(), "src/ui/panel.rs", "changed\n");
    let (code, v) = check(tmp.path(), &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["files"][0]["path"], "src/ui/panel.rs");
    assert_eq!(v["files"][0]["problem"], "outside");
    assert!(
        v["files"][0]["other_tasks"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("P1-UI-01"),
        "{v}"
    );
    // Human output says the same.
    let out = orch()
        .current_dir(tmp.path())
        .args(["scope", "check"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "outside  src/ui/panel.rs  (in the scope of P1-UI-01 (todo), P1-CORE-01 (todo))"
        ),
        "{text}"
    );
}

#[test]
fn staged_and_since_choose_the_changes() {
    let tmp = repo();
    write(tmp.path(), "src/ui/panel.rs", "unstaged, outside\n");
    write(tmp.path(), "src/core/queue.rs", "staged, inside\n");
    git(tmp.path(), &["add", "src/core/queue.rs"]);
    let (code, v) = check(tmp.path(), &["--staged"]);
    assert_eq!(
        (code, v["summary"]["changed"].clone()),
        (0, 1.into()),
        "{v}"
    );
    git(tmp.path(), &["commit", "-q", "-m", "work"]);
    git(tmp.path(), &["checkout", "-q", "--", "src/ui/panel.rs"]);
    let (code, v) = check(tmp.path(), &["--since", "HEAD~1"]);
    assert_eq!(
        (code, v["summary"]["changed"].clone()),
        (0, 1.into()),
        "{v}"
    );
    orch()
        .current_dir(tmp.path())
        .args(["scope", "check", "--since", "nope"])
        .assert()
        .code(2);
}
