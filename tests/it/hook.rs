//! The pre-commit hook end to end: `orch hook install` in a real
//! repository, then real `git commit`s.

use crate::util::{copy_tree, git, git_output, orch, repo_path};
use std::path::Path;

/// A repository holding the example program, committed.
fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    copy_tree(
        &repo_path(".orchestrator.example"),
        &tmp.path().join(".orchestrator"),
    );
    std::fs::write(tmp.path().join("notes.txt"), "one\n").expect("write");
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "start"]);
    tmp
}

fn install(dir: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    orch()
        .current_dir(dir)
        .args(["hook", "install"])
        .args(extra)
        .assert()
}

const CARD: &str = ".orchestrator/cards/P2-UI-01.md";

fn break_card(dir: &Path) {
    let path = dir.join(CARD);
    let text = std::fs::read_to_string(&path).expect("card");
    std::fs::write(&path, text.replace("kind: card", "kind: crad")).expect("write");
}

#[test]
fn a_bad_staged_card_blocks_the_commit_and_names_the_rule() {
    let tmp = repo();
    install(tmp.path(), &[]).success();
    break_card(tmp.path());
    git(tmp.path(), &["add", CARD]);
    let out = git_output(tmp.path(), &["commit", "-q", "-m", "bad card"]);
    assert!(!out.status.success(), "the commit must be refused");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("kind-unknown"), "{text}");
    assert_eq!(
        git(tmp.path(), &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
}

#[test]
fn a_good_index_commits_whatever_the_work_tree_holds() {
    let tmp = repo();
    install(tmp.path(), &[]).success();
    break_card(tmp.path()); // broken, but not staged
    std::fs::write(tmp.path().join("notes.txt"), "two\n").expect("write");
    git(tmp.path(), &["add", "notes.txt"]);
    let out = git_output(tmp.path(), &["commit", "-q", "-m", "notes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        git(tmp.path(), &["rev-list", "--count", "HEAD"]).trim(),
        "2"
    );
    // The work tree's broken card is still there, unstaged.
    assert_eq!(
        git(tmp.path(), &["status", "--porcelain"]).trim(),
        format!("M {CARD}")
    );
}

#[test]
fn a_foreign_hook_is_left_alone_or_chained_with_force() {
    let tmp = repo();
    let hooks = tmp.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    let foreign = "#!/bin/sh\necho ran > foreign-ran\n";
    std::fs::write(hooks.join("pre-commit"), foreign).expect("write");
    set_executable(&hooks.join("pre-commit"));
    install(tmp.path(), &[]).code(2);
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).expect("hook"),
        foreign
    );
    orch()
        .current_dir(tmp.path())
        .args(["hook", "uninstall"])
        .assert()
        .code(2);
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).expect("hook"),
        foreign
    );

    install(tmp.path(), &["--force"]).success();
    std::fs::write(tmp.path().join("notes.txt"), "three\n").expect("write");
    git(tmp.path(), &["add", "notes.txt"]);
    git(tmp.path(), &["commit", "-q", "-m", "both hooks"]);
    assert!(
        tmp.path().join("foreign-ran").exists(),
        "the chained hook ran"
    );

    orch()
        .current_dir(tmp.path())
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).expect("hook"),
        foreign
    );
}

#[test]
fn core_hooks_path_is_honoured() {
    let tmp = repo();
    git(tmp.path(), &["config", "core.hooksPath", "githooks"]);
    install(tmp.path(), &[]).success();
    assert!(tmp.path().join("githooks/pre-commit").exists());
    assert!(!tmp.path().join(".git/hooks/pre-commit").exists());
    break_card(tmp.path());
    git(tmp.path(), &["add", CARD]);
    assert!(
        !git_output(tmp.path(), &["commit", "-q", "-m", "bad"])
            .status
            .success()
    );
}

#[test]
fn lint_staged_reads_the_index_not_the_work_tree() {
    let tmp = repo();
    break_card(tmp.path());
    orch()
        .current_dir(tmp.path())
        .args(["lint", "--staged"])
        .assert()
        .success();
    orch()
        .current_dir(tmp.path())
        .args(["lint"])
        .assert()
        .code(1);
    git(tmp.path(), &["add", CARD]);
    orch()
        .current_dir(tmp.path())
        .args(["lint", "--staged"])
        .assert()
        .code(1);
}

#[test]
fn a_staged_blob_missing_from_the_repository_is_exit_2_naming_the_file() {
    let tmp = repo();
    // A staged edit is a loose object; deleting it damages the repository.
    let path = tmp.path().join(CARD);
    let text = std::fs::read_to_string(&path).expect("card");
    std::fs::write(&path, format!("{text}\n")).expect("write");
    git(tmp.path(), &["add", CARD]);
    let oid = remove_staged_object(tmp.path(), CARD);
    let oid = oid.as_str();
    for args in [&["lint", "--staged"][..], &["align-docs", "--staged"][..]] {
        let stderr = refused(tmp.path(), args);
        assert!(
            stderr.contains(CARD) && stderr.contains(oid) && stderr.contains("git fsck"),
            "{args:?}: {stderr}"
        );
    }
}

/// The stderr of `orch ARGS` in `dir`, which must exit 2.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = orch().current_dir(dir).args(args).assert().code(2);
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// Delete the loose object of a staged file (a staged edit is one).
fn remove_staged_object(dir: &Path, path: &str) -> String {
    let oid = git(dir, &["rev-parse", &format!(":{path}")]);
    let oid = oid.trim().to_string();
    std::fs::remove_file(dir.join(".git/objects").join(&oid[..2]).join(&oid[2..]))
        .expect("remove the loose object");
    oid
}

#[test]
fn with_several_blobs_missing_the_first_by_path_is_named_every_time() {
    let tmp = repo();
    // Enough documents to be read and parsed on several threads.
    for i in 0..96 {
        let path = tmp.path().join(format!(".orchestrator/notes/n{i:02}.md"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, format!("# Note {i}\n")).expect("write");
    }
    git(tmp.path(), &["add", "-A"]);
    // In path order n02 is the 16th document, the last of the first batch a
    // thread takes, and n03 the first of the next: the thread given n03
    // meets it first.
    remove_staged_object(tmp.path(), ".orchestrator/notes/n03.md");
    remove_staged_object(tmp.path(), ".orchestrator/notes/n02.md");
    for _ in 0..8 {
        let stderr = refused(tmp.path(), &["lint", "--staged"]);
        assert!(
            stderr.contains(".orchestrator/notes/n02.md in the index cannot be read"),
            "{stderr}"
        );
    }
}

#[cfg(unix)]
fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
#[cfg(not(unix))]
fn set_executable(_: &Path) {}
