//! Issue 13, beyond the files beside the documents (see `untrusted.rs`):
//! git's write order and what a failed or killed transition leaves, the
//! user's unstaged edits, the document size limit, durations, `lint PATH`,
//! evidence patterns, readiness of a ticket that does not parse, text that
//! would fail lint, `init` all or nothing and its ignores, the umask,
//! `core.autocrlf`, the index version, and links on the way of `lint
//! --fix`, `new`, `sheet --write` and `align-docs --fix`. Each test drives
//! the binary against a real repository and checks it with real `git`.

#![cfg(unix)]

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::untrusted::{Repo, stderr, stdout};
use crate::util::{copy_tree, git, git_output, repo_path};

/// `orch` run by `sh -c` with `setup` before it (ulimit, umask, trap).
fn orch_sh(r: &Repo, setup: &str, args: &str) -> Output {
    Command::new("sh")
        .current_dir(r.root())
        .env("HOME", r.root())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .arg("-c")
        .arg(format!(
            "{setup}; exec {} {args}",
            env!("CARGO_BIN_EXE_orch")
        ))
        .output()
        .expect("run orch")
}

fn status(r: &Repo) -> String {
    git(
        &r.root(),
        &["status", "--porcelain", "--untracked-files=all"],
    )
}

fn fsck(r: &Repo) {
    let out = git_output(&r.root(), &["fsck", "--full", "--strict", "--no-progress"]);
    assert!(
        out.status.success(),
        "git fsck: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every `.orch-*.tmp` under the work tree.
fn temps(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.path().components().any(|c| c.as_os_str() == ".git"))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".orch-") && n.ends_with(".tmp"))
        .collect()
}

fn ledger_rows(r: &Repo, task: &str) -> usize {
    r.read(".orchestrator/ledger.md")
        .lines()
        .filter(|l| l.starts_with(&format!("| {task} |")))
        .count()
}

const RECORD: &[&str] = &["record", "T2", "--result", "pass", "--evidence", "1 passed"];

#[test]
fn a_transition_refuses_the_users_unstaged_edits_to_its_files() {
    let r = Repo::new();
    let head = r.head();
    let ledger = r.o("ledger.md");
    let mine = format!(
        "{}\nA note of mine, not committed.\n",
        r.read(".orchestrator/ledger.md")
    );
    std::fs::write(&ledger, &mine).expect("edit");
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`.orchestrator/ledger.md` has changes that are not committed"),
        "{err}"
    );
    assert!(err.contains("git stash"), "{err}");
    assert_eq!(r.head(), head);
    assert_eq!(
        std::fs::read_to_string(&ledger).unwrap(),
        mine,
        "the user's edit stays"
    );
    assert!(
        r.read(".orchestrator/tickets/T2.md")
            .contains("status: in_progress")
    );
    // An edit to a file the transition does not write is no obstacle.
    git(
        &r.root(),
        &["checkout", "-q", "--", ".orchestrator/ledger.md"],
    );
    std::fs::write(r.root().join("notes.txt"), "mine\n").expect("write");
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(status(&r), "?? notes.txt\n");
}

/// A repository whose index is large (2,000 tracked files) next to small
/// documents: under `ulimit -f` the documents can be written, the index not.
fn big_index_repo() -> Repo {
    let r = Repo::new();
    for i in 0..2000 {
        let p = r.root().join(format!("src/m{:02}/f{i:04}.rs", i % 40));
        std::fs::create_dir_all(p.parent().unwrap()).expect("mkdir");
        std::fs::write(p, format!("// {i}\n")).expect("write");
    }
    git(&r.root(), &["add", "-A"]);
    git(&r.root(), &["commit", "-q", "-m", "many files"]);
    r
}

#[test]
fn an_index_that_cannot_be_written_leaves_the_branch_and_puts_the_files_back() {
    let r = big_index_repo();
    let head = r.head();
    let index = std::fs::read(r.root().join(".git/index")).expect("index");
    assert!(index.len() > 100_000, "{} bytes", index.len());
    // Files the process writes may not pass 64 blocks; SIGXFSZ ignored,
    // so a write past it fails with EFBIG instead of killing orch.
    let out = orch_sh(
        &r,
        "trap '' XFSZ; ulimit -f 64",
        "record T2 --result pass --evidence '1 passed'",
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("the branch did not move"), "{err}");
    assert!(err.contains("put back"), "{err}");
    assert_eq!(r.head(), head, "the branch must not move");
    assert_eq!(std::fs::read(r.root().join(".git/index")).unwrap(), index);
    assert_eq!(status(&r), "", "the documents are as they were");
    assert!(temps(&r.root()).is_empty(), "{:?}", temps(&r.root()));
    assert!(!r.root().join(".git/index.lock").exists());
    assert!(!r.root().join(".git/orch-transition.json").exists());
    fsck(&r);
    // And the retry, with room, records once.
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ledger_rows(&r, "T2"), 1);
    assert_eq!(status(&r), "");
}

#[test]
fn a_held_ref_lock_is_named_with_the_fix_and_nothing_moves() {
    let r = Repo::new();
    let head = r.head();
    let lock = r.root().join(".git/refs/heads/main.lock");
    std::fs::write(&lock, "").expect("lock");
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("refs/heads/main.lock"), "{err}");
    assert!(err.contains("the branch did not move"), "{err}");
    assert!(err.contains("delete the stale lock file"), "{err}");
    assert_eq!(r.head(), head);
    assert_eq!(status(&r), "");
    std::fs::remove_file(&lock).expect("rm");
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ledger_rows(&r, "T2"), 1);
}

#[test]
fn a_transition_killed_after_writing_is_rolled_back_by_the_next_command() {
    let r = Repo::new();
    let head = r.head();
    // A held index.lock makes the transition wait (2 s) after it wrote the
    // documents and before it commits: kill it there.
    let index_lock = r.root().join(".git/index.lock");
    std::fs::write(&index_lock, "").expect("lock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_orch"))
        .current_dir(r.root())
        .env("HOME", r.root())
        .args(RECORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !r.read(".orchestrator/ledger.md").contains("| T2 |") {
        assert!(
            Instant::now() < deadline,
            "the record never wrote the ledger"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    assert_eq!(r.head(), head);
    assert_ne!(
        status(&r),
        "",
        "killed half way: the documents differ from HEAD"
    );
    // The next command, read-only as it is, finishes the job and says so.
    let out = r.orch(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("rolled back an interrupted transition (`orch(T2): in_progress -> done`)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(status(&r), "", "the documents are whole again");
    let out = r.orch(&["lint"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // The stale index.lock is named by the retry, with the fix.
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("index.lock"), "{}", stderr(&out));
    assert_eq!(status(&r), "");
    std::fs::remove_file(&index_lock).expect("rm");
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ledger_rows(&r, "T2"), 1, "a retry never duplicates the row");
    assert!(temps(&r.root()).is_empty());
    fsck(&r);
}

/// The plan's backlog grows with the task count, so `plan.md` has a limit
/// of its own (16 MiB): a 5 MiB plan is read, on the work tree and staged,
/// where any other document of that size is `file-invalid`.
#[test]
fn the_plan_may_pass_4_mib_up_to_its_own_limit() {
    let r = Repo::new();
    let plan = r.o("plan.md");
    let mut text = r.read(".orchestrator/plan.md");
    let line = "Filler of a very long plan, one paragraph after the backlog.\n";
    text.push('\n');
    text.push_str(&line.repeat((5 << 20) / line.len()));
    assert!(text.len() > 5 << 20 && text.len() < 16 << 20);
    std::fs::write(&plan, &text).expect("write");
    git(&r.root(), &["add", ".orchestrator/plan.md"]);
    for args in [
        &["lint", "--format", "json"][..],
        &["lint", "--staged", "--format", "json"],
    ] {
        let out = r.orch(args);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let json = stdout(&out);
        for code in ["file-invalid", "document-missing"] {
            assert!(!json.contains(&format!("\"{code}\"")), "{args:?}: {json}");
        }
    }
    // Another file holding the same text is over the 4 MiB limit of a
    // document, and the message names that limit.
    std::fs::write(r.o("plan-copy.md"), &text).expect("write");
    let out = r.orch(&["lint", "--format", "json"]);
    let json = stdout(&out);
    assert!(
        json.contains("over the 4 MiB limit for a document"),
        "{json}"
    );
    assert!(json.contains("`plan.md`, under 16 MiB"), "{json}");
}

#[test]
fn no_document_orch_writes_passes_the_size_limit() {
    let r = Repo::new();
    let ledger = r.o("ledger.md");
    let mut text = r.read(".orchestrator/ledger.md");
    let row = format!(
        "| T1 | development-implementer | {} | fail | retry |\n",
        "x".repeat(300)
    );
    let at = text.find("\n## Unverified Items").expect("section");
    let rows = row.repeat((4 * 1024 * 1024 - text.len() - 150) / row.len());
    text.insert_str(at, &format!("\n{}", rows.trim_end()));
    assert!(text.len() < 4 * 1024 * 1024);
    std::fs::write(&ledger, &text).expect("write");
    git(&r.root(), &["commit", "-q", "-am", "a long ledger"]);
    let head = r.head();
    let out = r.orch(&[
        "record",
        "T2",
        "--result",
        "pass",
        "--evidence",
        &"y".repeat(400),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("over the 4 MiB limit"), "{err}");
    assert!(err.contains("archive"), "{err}");
    assert_eq!(r.head(), head);
    assert_eq!(status(&r), "");
}

#[test]
fn durations_are_capped_before_anything_starts() {
    let r = Repo::new();
    let head = r.head();
    for flag in ["--timeout", "--idle-timeout"] {
        let out = r.orch(&["dispatch", "T1", flag, "18446744073709551615s"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        assert!(stderr(&out).contains("out of range"), "{}", stderr(&out));
    }
    assert_eq!(r.head(), head, "no task was marked");
    std::fs::write(
        r.o("config.yaml"),
        "agent:\n  isolate: none\n  command: [\"agents/run.sh\", \"{task}\"]\n  adapter: generic\n  timeout: 18446744073709551615s\n",
    )
    .expect("config");
    let out = r.orch(&["lint", "--format", "json"]);
    assert!(stdout(&out).contains("config-invalid"), "{}", stdout(&out));
    let out = r.orch(&["dispatch", "T1", "--no-commit"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn lint_of_a_path_that_names_no_document_is_exit_2() {
    let r = Repo::new();
    let out = r.orch(&["lint", ".orchestrator/tickets/T7.md"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("matches no document"),
        "{}",
        stderr(&out)
    );
    let out = r.orch(&["lint", ".orchestrator/tickets", ".orchestrator/plan.md"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn evidence_patterns_compile_in_lint_with_the_dispatch_size_limit() {
    let r = Repo::with_config(
        "agent:\n  isolate: none\n  command: [\"agents/run.sh\", \"{task}\"]\n  evidence: [\"(\", \"(?:a{1000}){1000}\", \"(?i)test result\"]\n",
    );
    let out = r.orch(&["lint", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let found: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "config-invalid")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found.iter().all(|m| m.contains("does not compile")),
        "{found:?}"
    );
    let out = r.orch(&["dispatch", "T1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_ticket_that_does_not_parse_is_never_ready() {
    for broken in [
        "---\nkind: ticket\nid: T1\nstatus: [todo\n---\n\n## Dispatch Ticket: T1\n",
        "---\nkind: ticket\nid: T1\nstatus:\n  - done\n---\n",
        "\0binary\0",
    ] {
        let r = Repo::new();
        std::fs::write(r.o("tickets/T1.md"), broken).expect("write");
        let out = r.orch(&["next", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["ready"], serde_json::json!([]), "{broken:?}: {v}");
        let out = r.orch(&["status"]);
        let line = stdout(&out)
            .lines()
            .find(|l| l.starts_with("T1 "))
            .unwrap_or_default()
            .to_string();
        assert!(!line.contains("ready"), "{broken:?}: {line}");
        assert!(line.contains("status unknown"), "{broken:?}: {line}");
        let out = r.orch(&["dispatch", "T1", "--dry-run"]);
        assert_eq!(out.status.code(), Some(2), "{broken:?}");
    }
}

#[test]
fn a_transition_refuses_text_that_would_fail_lint() {
    let r = Repo::new();
    let head = r.head();
    for evidence in [
        "<!-- looks fine -->",
        "<!-- orch-ignore-file status-ledger-mismatch -->",
    ] {
        let out = r.orch(&["record", "T2", "--result", "pass", "--evidence", evidence]);
        assert_eq!(out.status.code(), Some(2), "{evidence}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("would fail `orch lint`"),
            "{}",
            stderr(&out)
        );
        assert_eq!(r.head(), head);
        assert_eq!(status(&r), "");
    }
    let out = r.orch(&["lint"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn init_writes_all_or_nothing_and_ignores_the_untrusted_run_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    git(root, &["init", "-q", "-b", "main"]);
    // One file the example writes is there already: nothing is written.
    std::fs::create_dir_all(root.join(".orchestrator/tickets")).expect("mkdir");
    std::fs::write(root.join(".orchestrator/tickets/P1-CORE-01.md"), "mine\n").expect("write");
    let run = |args: &[&str], umask: &str| {
        Command::new("sh")
            .current_dir(root)
            .env("HOME", root)
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec {} {}",
                env!("CARGO_BIN_EXE_orch"),
                args.join(" ")
            ))
            .output()
            .expect("run")
    };
    let out = run(&["init", "--example"], "022");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let left: Vec<_> = walkdir::WalkDir::new(root.join(".orchestrator"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().display().to_string())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    std::fs::remove_dir_all(root.join(".orchestrator")).expect("rm");
    // A linked cards/ folder: refused before anything is written.
    let outside = tempfile::tempdir().expect("outside");
    std::fs::create_dir_all(root.join(".orchestrator")).expect("mkdir");
    symlink(outside.path(), root.join(".orchestrator/cards")).expect("link");
    let out = run(&["init", "--example"], "022");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert!(!root.join(".orchestrator/plan.md").exists());
    std::fs::remove_file(root.join(".orchestrator/cards")).expect("rm");
    // Now it works, with the umask's modes.
    let out = run(&["init", "--example"], "027");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mode = std::fs::metadata(root.join(".orchestrator/plan.md"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640, "{mode:o}");
    let ignored = |p: &str| {
        git_output(root, &["check-ignore", "-q", p])
            .status
            .success()
    };
    assert!(ignored(".orchestrator/logs/T1.log"));
    assert!(ignored(".orchestrator/runs/20260101T000000Z-G1.json"));
    assert!(ignored(
        ".orchestrator/runs/20260101T000000Z-G1/T1.last-message.md"
    ));
    assert!(ignored(".orchestrator/tickets/.orch-123-abcd.tmp"));
    assert!(
        !ignored(".orchestrator/runs/20260101T000000Z-G1.md"),
        "reports are committed"
    );
}

#[test]
fn new_documents_honour_the_umask() {
    let r = Repo::new();
    let plan = r.read(".orchestrator/plan.md");
    std::fs::write(
        r.o("plan.md"),
        format!("{plan}| T3 | Build T3 | development-implementer | - | T3 passes |\n"),
    )
    .expect("plan");
    let out = orch_sh(&r, "umask 022", "new ticket T3");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mode = |p: &str| std::fs::metadata(r.o(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("tickets/T3.md"), 0o644);
    let out = orch_sh(&r, "umask 077", "new card T3");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode("cards/T3.md"), 0o600);
    // A transition keeps the mode of the file it replaces.
    std::fs::set_permissions(r.o("tickets/T2.md"), std::fs::Permissions::from_mode(0o664))
        .expect("chmod");
    git(&r.root(), &["add", "-A"]);
    git(&r.root(), &["commit", "-q", "-m", "T3"]);
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode("tickets/T2.md"), 0o664);
}

#[test]
fn core_autocrlf_is_honoured_when_orch_commits() {
    let r = Repo::new();
    git(&r.root(), &["config", "core.autocrlf", "true"]);
    // Check the documents out again, now with CRLF line ends.
    for f in ["ledger.md", "tickets/T2.md"] {
        std::fs::remove_file(r.o(f)).expect("rm");
    }
    git(&r.root(), &["checkout", "--", "."]);
    assert!(r.read(".orchestrator/ledger.md").contains("\r\n"));
    assert_eq!(status(&r), "");
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let blob = git(
        &r.root(),
        &["cat-file", "-p", "HEAD:.orchestrator/ledger.md"],
    );
    assert!(!blob.contains('\r'), "committed as git would: LF");
    assert!(blob.contains("| T2 |"));
    assert!(
        r.read(".orchestrator/ledger.md").contains("\r\n"),
        "the work tree keeps CRLF"
    );
    assert_eq!(status(&r), "");
    fsck(&r);
}

#[test]
fn the_index_version_is_kept() {
    let r = Repo::new();
    git(&r.root(), &["update-index", "--index-version", "4"]);
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        git(&r.root(), &["update-index", "--show-index-version"]).trim(),
        "4"
    );
    assert_eq!(status(&r), "");
    fsck(&r);
}

#[test]
fn lint_fix_new_and_sheet_never_write_through_a_linked_folder() {
    let r = Repo::new();
    let outside = r.outside();
    // lint --fix would move a misnamed ticket into tickets/: a link there.
    std::fs::rename(r.o("tickets/T1.md"), r.o("T1-ticket.md")).expect("mv");
    std::fs::rename(r.o("tickets/T2.md"), r.o("T2-ticket.md")).expect("mv");
    std::fs::remove_dir(r.o("tickets")).expect("rmdir");
    symlink(&outside, r.o("tickets")).expect("link");
    let out = r.orch(&["lint", "--fix"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(r.o("T1-ticket.md").exists());
    // orch new ticket through the same link.
    let plan = r.read(".orchestrator/plan.md");
    std::fs::write(
        r.o("plan.md"),
        format!("{plan}| T3 | Build T3 | development-implementer | - | T3 passes |\n"),
    )
    .expect("plan");
    let out = r.orch(&["new", "ticket", "T3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    // sheet --write through a linked sheets/.
    symlink(&outside, r.o("sheets")).expect("link");
    let out = r.orch(&["sheet", "T1", "--write"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

/// The align fixture with drift between `docs/guide.md`'s snippet and its
/// source, committed.
fn drifted() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(&root).expect("mkdir");
    git(&root, &["init", "-q", "-b", "main"]);
    copy_tree(&repo_path("testdata/align/base"), &root);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "base"]);
    let store = root.join("src/core/store.rs");
    let text = std::fs::read_to_string(&store).expect("read");
    std::fs::write(&store, text.replace("path.to_string()", "path.to_owned()")).expect("write");
    git(&root, &["commit", "-q", "-am", "change the region"]);
    tmp
}

fn align_fix(root: &Path) -> Output {
    crate::util::orch()
        .current_dir(root)
        .env_remove("PRE_COMMIT_FROM_REF")
        .env_remove("PRE_COMMIT_TO_REF")
        .args(["align-docs", "--base", "HEAD~1", "--fix"])
        .output()
        .expect("run orch")
}

#[test]
fn align_fix_never_overwrites_an_uncommitted_edit_in_the_block() {
    let tmp = drifted();
    let root = tmp.path().join("repo");
    let guide = root.join("docs/guide.md");
    let text = std::fs::read_to_string(&guide).expect("read");
    let mine = text.replace(
        "Store { path: path.to_string() }",
        "Store { path: my_own_edit() }",
    );
    assert_ne!(mine, text);
    std::fs::write(&guide, &mine).expect("edit");
    let out = align_fix(&root);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("would overwrite them"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&guide).unwrap(), mine);
    // Without the edit, the fix goes through.
    std::fs::write(&guide, &text).expect("undo");
    let out = align_fix(&root);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(&guide)
            .unwrap()
            .contains("path.to_owned()")
    );
}

#[test]
fn align_fix_never_copies_an_outside_file_in_or_writes_through_a_link() {
    let tmp = drifted();
    let root = tmp.path().join("repo");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    // docs/ in the work tree is now a link to a folder outside, holding a
    // guide.md with the same drifted snippet and a secret.
    let guide = std::fs::read_to_string(root.join("docs/guide.md")).expect("read");
    let theirs = format!("{guide}\nSECRET outside the repository\n");
    std::fs::write(outside.join("guide.md"), &theirs).expect("write");
    std::fs::rename(root.join("docs"), tmp.path().join("docs-moved")).expect("mv");
    symlink(&outside, root.join("docs")).expect("link");
    let out = align_fix(&root);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(outside.join("guide.md")).unwrap(),
        theirs
    );
    // The doc itself a link to an outside file: its bytes are not copied in.
    std::fs::remove_file(root.join("docs")).expect("rm");
    std::fs::rename(tmp.path().join("docs-moved"), root.join("docs")).expect("mv back");
    std::fs::remove_file(root.join("docs/guide.md")).expect("rm");
    symlink(outside.join("guide.md"), root.join("docs/guide.md")).expect("link");
    let out = align_fix(&root);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        std::fs::symlink_metadata(root.join("docs/guide.md"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("guide.md")).unwrap(),
        theirs
    );
}

#[test]
fn a_held_head_lock_is_named_with_the_fix_and_nothing_moves() {
    let r = Repo::new();
    let head = r.head();
    let lock = r.root().join(".git/HEAD.lock");
    std::fs::write(&lock, "").expect("lock");
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("HEAD.lock"), "{err}");
    assert!(err.contains("delete the stale lock file"), "{err}");
    assert_eq!(r.head(), head);
    assert_eq!(status(&r), "");
    assert_eq!(ledger_rows(&r, "T2"), 0);
    fsck(&r);
    std::fs::remove_file(&lock).expect("rm");
    let out = r.orch(RECORD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ledger_rows(&r, "T2"), 1);
}

#[test]
fn lint_github_escapes_control_characters_from_documents() {
    let r = Repo::new();
    let plan = r.o("plan.md");
    let text = std::fs::read_to_string(&plan).expect("plan");
    let hostile = "x\u{1b}]0;pwned\u{7}\u{1b}[31mred\u{202e}evil";
    std::fs::write(
        &plan,
        text.replace(
            "| T2 | Build T2 | development-implementer | - |",
            &format!("| T2 | Build T2 | development-implementer | {hostile} |"),
        ),
    )
    .expect("plan");
    let out = r.orch(&["lint", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let all = [out.stdout.clone(), out.stderr.clone()].concat();
    let raw = crate::untrusted::raw_controls(&all);
    assert!(raw.is_empty(), "raw {raw:?} in:\n{}", stdout(&out));
    // Shown escaped, in the annotations and in the log lines alike (the
    // cell splits at `;` into two IDs, each reported).
    let text = stdout(&out);
    for shown in ["`x\\u{1b}]0`", "`pwned\\u{7}\\u{1b}[31mred\\u{202e}evil`"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("::error ") && l.contains(shown)),
            "{shown} in {text}"
        );
        assert!(
            text.lines()
                .any(|l| !l.starts_with("::") && l.contains(shown)),
            "{shown} in {text}"
        );
    }
}

#[test]
fn dispatch_refuses_an_unknown_skill_with_nothing_committed() {
    let config =
        "agent:\n  command: [\"agents/run.sh\", \"{task}\", \"{skill}\"]\n  adapter: generic\n";
    for (skill, rules, says) in [
        // Lint reports it: dispatch names the finding.
        ("evil-skill", "", "[skill-unknown]"),
        // With the rules turned off, the argv check still refuses it.
        (
            "evil-skill",
            "rules:\n  skill-unknown: off\n  skill-mismatch: off\n",
            "`T1`'s skill `evil-skill` is not one of the config's `skills`",
        ),
        (
            "--dangerously-bypass-approvals-and-sandbox",
            "rules:\n  skill-unknown: off\n  skill-mismatch: off\n",
            "is not one of the config's `skills`",
        ),
    ] {
        let r = Repo::with_config(&format!("{config}{rules}"));
        let card = r.o("cards/T1.md");
        let text = std::fs::read_to_string(&card).expect("card");
        std::fs::write(
            &card,
            text.replace(
                "- Skill: development-implementer",
                &format!("- Skill: {skill}"),
            ),
        )
        .expect("card");
        git(&r.root(), &["commit", "-qam", "skill"]);
        let head = r.head();
        for args in [&["dispatch", "--dry-run", "T1"][..], &["dispatch", "T1"]] {
            let out = r.orch(args);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{skill} {args:?}: {}{}",
                stdout(&out),
                stderr(&out)
            );
            assert!(stderr(&out).contains(says), "{says} in {}", stderr(&out));
        }
        assert_eq!(r.head(), head, "nothing committed");
        assert_eq!(status(&r), "");
        assert!(!r.root().join("work/T1").exists(), "the agent never ran");
        assert!(
            r.read(".orchestrator/tickets/T1.md")
                .contains("status: todo")
        );
    }
}
