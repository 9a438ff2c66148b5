//! State transitions end to end (`orch start|record|block|cancel|split`,
//! `replan`, `log`, `lint --base`), in real temporary repositories built
//! and checked with the real `git` binary: every commit passes `git fsck
//! --strict`, leaves the user's staged, unstaged and untracked work exactly
//! as it was, and a refused transition changes nothing at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{copy_tree, repo_path};

/// A temporary repository. git and orch both run with the machine's own
/// config shut out (HOME is the temp folder, no system or global config);
/// the identity is set in the repository's own config.
struct Repo {
    tmp: tempfile::TempDir,
}

fn isolate(cmd: &mut Command, home: &Path) {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join("no-global-config"))
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "EMAIL",
        "GIT_CEILING_DIRECTORIES",
    ] {
        cmd.env_remove(var);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Repo {
    /// An empty repository on `main` with a local identity.
    fn empty() -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let repo = Repo { tmp };
        std::fs::create_dir_all(repo.work()).expect("mkdir");
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test User"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    /// The example program and a few user files, committed.
    fn example() -> Repo {
        let repo = Repo::empty();
        copy_tree(
            &repo_path(".orchestrator.example"),
            &repo.work().join(".orchestrator"),
        );
        repo.write("README.md", "# demo\n");
        repo.write("notes.txt", "one\n");
        repo.commit_all("start");
        repo
    }

    /// A generated program (see [`generated`]), committed.
    fn generated(tasks: usize) -> Repo {
        let repo = Repo::empty();
        for (path, content) in generated(tasks) {
            repo.write(&format!(".orchestrator/{path}"), &content);
        }
        repo.commit_all("start");
        repo
    }

    fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    fn home(&self) -> &Path {
        self.tmp.path()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.work().join(rel)
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("read")
    }

    fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn git_output(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(self.work());
        isolate(&mut cmd, self.home());
        cmd.output().expect("run git")
    }

    /// git, which must succeed; its stdout.
    fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    fn orch_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orch"));
        cmd.args(args).current_dir(self.work());
        isolate(&mut cmd, self.home());
        cmd
    }

    fn orch(&self, args: &[&str]) -> Output {
        let out = self.orch_cmd(args).output().expect("run orch");
        assert!(
            !text(&out.stderr).contains("panicked"),
            "orch {args:?} panicked: {}",
            text(&out.stderr)
        );
        out
    }

    /// orch, which must exit 0; its stdout.
    fn orch_ok(&self, args: &[&str]) -> String {
        let out = self.orch(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "orch {args:?}:\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    fn status(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }

    fn commits(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .expect("a count")
    }

    /// Every file under `.orchestrator/`, with its bytes.
    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let root = self.path(".orchestrator");
        walkdir::WalkDir::new(&root)
            .into_iter()
            .map(|e| e.expect("walk"))
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path()
                        .strip_prefix(&root)
                        .expect("inside")
                        .to_string_lossy()
                        .into_owned(),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect()
    }

    /// HEAD, the status and every document's bytes.
    fn snapshot(&self) -> (String, String, BTreeMap<String, Vec<u8>>) {
        (self.head(), self.status(), self.files())
    }

    fn fsck(&self) {
        let out = self.git_output(&["fsck", "--strict", "--no-progress"]);
        assert!(
            out.status.success(),
            "git fsck --strict failed:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let errors: Vec<String> = text(&out.stderr)
            .lines()
            .chain(text(&out.stdout).lines())
            .filter(|l| l.starts_with("error") || l.starts_with("warning") || l.contains("broken"))
            .map(str::to_string)
            .collect();
        assert!(errors.is_empty(), "git fsck: {errors:?}");
    }

    /// `orch lint` exits 0.
    fn lint_clean(&self) {
        let out = self.orch(&["lint", "--color", "never"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "orch lint is not clean:\n{}",
            text(&out.stdout)
        );
    }

    /// What git and orch say after one transition of `task`: one commit
    /// touching only `.orchestrator/`, with the message and trailers,
    /// in the reflog and in `orch log`; fsck and lint clean.
    fn check_transition(&self, task: &str, from: &str, to: &str, trailers: &[&str]) {
        let subject = format!("orch({task}): {from} -> {to}");
        let message = self.git(&["log", "-1", "--format=%B"]);
        assert_eq!(message.lines().next(), Some(subject.as_str()), "{message}");
        assert!(
            message.contains(&format!("Orch-Task: {task}\n")),
            "{message}"
        );
        for t in trailers {
            assert!(
                message.contains(&format!("{t}\n")),
                "no `{t}` in\n{message}"
            );
        }
        let parsed = self.git(&["log", "-1", "--format=%(trailers:key=Orch-Task,valueonly)"]);
        assert_eq!(parsed.lines().next(), Some(task), "git reads the trailer");
        let touched = self.git(&["show", "--name-only", "--format=", "HEAD"]);
        for path in touched.lines().filter(|l| !l.is_empty()) {
            assert!(path.starts_with(".orchestrator/"), "orch committed {path}");
        }
        let reflog = self.git(&["reflog", "-1", "--format=%gs"]);
        assert_eq!(reflog.trim(), format!("commit: {subject}"));
        let log = self.orch_ok(&["log", task]);
        assert!(log.contains(&subject), "orch log {task}:\n{log}");
        self.fsck();
        let status = self.status();
        assert!(
            !status.contains(".orchestrator/"),
            "orch left changes under .orchestrator/:\n{status}"
        );
        self.lint_clean();
    }
}

/// A program of `n` independent tasks `P1-CORE-01`..., each `in_progress`
/// with a ticket and a card whose scope (`src/mNN/**`) is its own.
fn generated(n: usize) -> Vec<(String, String)> {
    let id = |i: usize| format!("P1-CORE-{:02}", i + 1);
    let mut rows = String::new();
    for i in 0..n {
        rows.push_str(&format!(
            "| {} | Build module {i} | development-implementer | - | Module {i} tests pass |\n",
            id(i)
        ));
    }
    let mut files = vec![
        (
            "plan.md".to_string(),
            format!(
                "---\nkind: plan\nid: gen\ntitle: Generated program\nstatus: active\n---\n\n\
# Program Goal\n- Goal: Ship the modules.\n- Scope: `src/`.\n- Non-goals: none\n\n\
# Phase Tree\n## Phase P1: Modules\n- Outcome: Every module works.\n- Workstreams:\n\
\x20 - UI: none\n  - Core: The modules in `src/`.\n  - Infrastructure: none\n  - Test: Unit tests.\n  - Docs: none\n\n\
## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n{rows}"
            ),
        ),
        (
            "ledger.md".to_string(),
            "---\nkind: ledger\nplan: gen\n---\n\n# Evidence Ledger\n\
| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n\n\
## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n\
| Modules on huge inputs | low: slow only | qa-test-engineer |\n"
                .to_string(),
        ),
    ];
    for i in 0..n {
        let t = id(i);
        files.push((
            format!("tickets/{t}.md"),
            format!(
                "---\nkind: ticket\nid: {t}\nstatus: in_progress\n---\n\n## Dispatch Ticket: {t}\n\
- Objective: Build module {i}\n- Owner Skill: development-implementer\n- Inputs: none\n\
- Commands/Checks: `cargo test m{i:02}`\n- Expected Artifacts: `src/m{i:02}/lib.rs`\n- Risks: none\n\
- Exit Criteria: Module {i} tests pass\n"
            ),
        ));
        files.push((
            format!("cards/{t}.md"),
            format!(
                "---\nkind: card\nid: {t}\n---\n\n## Codex Execution Card: {t}\n\
- Skill: development-implementer\n- Goal: Build module {i}\n- Allowed Scope:\n\
\x20 - Files/paths: `src/m{i:02}/**`\n  - Prohibited areas: `docs/**`\n- Commands to run: `cargo build`\n\
- Tests/checks to run: `cargo test m{i:02}`\n- Evidence to capture: The `test result:` line\n\
- Completion criteria: Module {i} tests pass\n"
            ),
        ));
    }
    files
}

fn exit(out: &Output) -> Option<i32> {
    out.status.code()
}

// ---------------------------------------------------------------------------

#[test]
fn record_commits_only_the_orchestrator_files_and_leaves_the_users_work() {
    let repo = Repo::example();
    // The user's work in progress: staged, unstaged and untracked.
    repo.write("src/staged.rs", "pub fn staged() {}\n");
    repo.write("README.md", "# demo\n\nstaged line\n");
    repo.git(&["add", "src/staged.rs", "README.md"]);
    repo.write("README.md", "# demo\n\nstaged line\nunstaged line\n");
    repo.write("notes.txt", "one\ntwo, unstaged\n");
    repo.write("scratch.txt", "untracked\n");
    let status_before = repo.status();
    let staged_before = repo.git(&["diff", "--cached"]);
    let unstaged_before = repo.git(&["diff"]);
    let commits = repo.commits();

    let started = Instant::now();
    let out = repo.orch_ok(&[
        "record",
        "P2-UI-01",
        "--result",
        "pass",
        "--evidence",
        "`npx vitest run tests/ui/sync` Tests 14 passed | screenshots attached",
    ]);
    let latency = started.elapsed();
    eprintln!("orch record (debug build) took {latency:?}");
    assert!(out.contains("P2-UI-01: in_progress -> done"), "{out}");

    assert_eq!(repo.commits(), commits + 1);
    repo.check_transition("P2-UI-01", "in_progress", "done", &["Orch-Result: pass"]);
    assert_eq!(
        repo.status(),
        status_before,
        "the user's files changed state"
    );
    assert_eq!(repo.git(&["diff", "--cached"]), staged_before);
    assert_eq!(repo.git(&["diff"]), unstaged_before);
    let committed = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(
        committed.lines().collect::<Vec<_>>(),
        [
            ".orchestrator/ledger.md",
            ".orchestrator/tickets/P2-UI-01.md"
        ]
    );

    // The ledger row, appended after the last row, pipes escaped.
    let ledger = repo.read(".orchestrator/ledger.md");
    assert!(
        ledger.contains("| P2-UI-01 | development-implementer | `npx vitest run tests/ui/sync` Tests 14 passed \\| screenshots attached | pass |"),
        "{ledger}"
    );
    let rows: Vec<&str> = ledger.lines().filter(|l| l.starts_with("| P")).collect();
    assert!(rows[rows.len() - 1].starts_with("| P2-UI-01 "), "{rows:?}");
    let ticket = repo.read(".orchestrator/tickets/P2-UI-01.md");
    assert!(ticket.contains("\nstatus: done\n"), "{ticket}");

    // The user's next commit holds exactly their staged change.
    repo.git(&["commit", "-q", "-m", "mine"]);
    let mine = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(
        mine.lines().collect::<Vec<_>>(),
        ["README.md", "src/staged.rs"]
    );
    assert_eq!(
        repo.git(&["show", "HEAD:README.md"]),
        "# demo\n\nstaged line\n"
    );
    let after = repo.status();
    assert!(after.contains(" M README.md"), "{after}");
    assert!(after.contains(" M notes.txt"), "{after}");
    assert!(after.contains("?? scratch.txt"), "{after}");
    repo.fsck();

    // orch log, human and json.
    let log = repo.orch_ok(&["log"]);
    assert!(
        log.contains("orch(P2-UI-01): in_progress -> done  [pass]"),
        "{log}"
    );
    let json: Value = serde_json::from_str(&repo.orch_ok(&["log", "P2-UI-01", "--format", "json"]))
        .expect("json");
    let c = &json["commits"][0];
    assert_eq!(c["tasks"][0], "P2-UI-01");
    assert_eq!(c["result"], "pass");
    assert_eq!(c["id"].as_str().map(str::len), Some(40));
}

#[test]
fn every_transition_is_one_commit_and_the_program_lints_clean() {
    let repo = Repo::example();
    // A card for P2-CORE-03 whose scope overlaps nothing in progress.
    repo.write(
        ".orchestrator/cards/P2-CORE-03.md",
        "---\nkind: card\nid: P2-CORE-03\n---\n\n## Codex Execution Card: P2-CORE-03\n\
- Skill: debug-troubleshooter\n- Goal: Find the root cause of push timeouts against the fake relay\n\
- Allowed Scope:\n  - Files/paths: `tests/support/fake_relay/**`, `tests/sync_transport_timeout.rs`\n\
\x20 - Prohibited areas: `core/**`\n- Commands to run: `cargo test --test sync_transport_timeout`\n\
- Tests/checks to run: `cargo test --test sync_transport_timeout`\n\
- Evidence to capture: The failing test's output\n\
- Completion criteria: The timeout is explained in the ledger and a failing test reproduces it\n",
    );
    repo.commit_all("card for P2-CORE-03");
    repo.lint_clean();

    let out = repo.orch_ok(&["start", "P2-CORE-03"]);
    assert!(out.contains("P2-CORE-03: todo -> in_progress"), "{out}");
    repo.check_transition("P2-CORE-03", "todo", "in_progress", &[]);

    repo.orch_ok(&[
        "block",
        "P2-CORE-03",
        "--reason",
        "the relay image is missing",
    ]);
    repo.check_transition(
        "P2-CORE-03",
        "in_progress",
        "blocked",
        &["Orch-Reason: the relay image is missing"],
    );
    repo.orch_ok(&[
        "unblock",
        "P2-CORE-03",
        "--reason",
        "the relay image is rebuilt",
    ]);
    repo.check_transition(
        "P2-CORE-03",
        "blocked",
        "todo",
        &["Orch-Reason: the relay image is rebuilt"],
    );
    repo.orch_ok(&["start", "P2-CORE-03"]);
    repo.check_transition("P2-CORE-03", "todo", "in_progress", &[]);

    let out = repo.orch_ok(&[
        "record",
        "P2-CORE-03",
        "--result",
        "pass",
        "--evidence",
        "timeout reproduced by `tests/sync_transport_timeout.rs`",
        "--next",
        "redispatch P2-CORE-02",
    ]);
    repo.check_transition("P2-CORE-03", "in_progress", "done", &["Orch-Result: pass"]);
    assert!(out.contains("next: "), "{out}");
    assert!(
        repo.read(".orchestrator/ledger.md")
            .contains("| pass | redispatch P2-CORE-02 |")
    );

    repo.orch_ok(&[
        "cancel",
        "P2-DOCS-01",
        "--reason",
        "the guide moves to the wiki",
    ]);
    repo.check_transition(
        "P2-DOCS-01",
        "todo",
        "cancelled",
        &["Orch-Reason: the guide moves to the wiki"],
    );

    let out = repo.orch_ok(&[
        "record",
        "P2-CORE-01",
        "--result",
        "partial",
        "--evidence",
        "12 of 14 merge cases pass",
    ]);
    assert!(out.contains("orch split P2-CORE-01"), "{out}");
    repo.check_transition(
        "P2-CORE-01",
        "in_progress",
        "partial",
        &["Orch-Result: partial"],
    );

    repo.orch_ok(&[
        "split",
        "P2-CORE-01",
        "--into",
        "Merge concurrent title edits",
        "--into",
        "Merge edits across moved paragraphs",
    ]);
    repo.check_transition(
        "P2-CORE-01",
        "partial",
        "split",
        &["Orch-Task: P2-CORE-01.2"],
    );
    let plan = repo.read(".orchestrator/plan.md");
    let rows: Vec<&str> = plan
        .lines()
        .filter(|l| l.starts_with("| P2-CORE-01"))
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[1].starts_with("| P2-CORE-01.1 | Merge concurrent title edits | development-implementer | P1-CORE-01, P1-CORE-02, P1-DOCS-02 |"));
    assert!(rows[2].starts_with("| P2-CORE-01.2 | Merge edits across moved paragraphs |"));
    // The children show in orch log too.
    assert!(
        repo.orch_ok(&["log", "P2-CORE-01.1"])
            .contains("partial -> split")
    );

    // A failure, then a retry of the failed task.
    repo.orch_ok(&[
        "record",
        "P2-UI-01",
        "--result",
        "fail",
        "--evidence",
        "banner flickers",
    ]);
    repo.check_transition("P2-UI-01", "in_progress", "failed", &["Orch-Result: fail"]);
    repo.orch_ok(&["start", "P2-UI-01"]);
    repo.check_transition("P2-UI-01", "failed", "in_progress", &[]);

    // Every transition above is in orch log, newest first.
    let json: Value =
        serde_json::from_str(&repo.orch_ok(&["log", "--format", "json"])).expect("json");
    let subjects: Vec<&str> = json["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .map(|c| c["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(subjects.len(), 10, "{subjects:?}");
    assert_eq!(subjects[0], "orch(P2-UI-01): failed -> in_progress");
}

#[test]
fn refused_transitions_change_nothing() {
    let repo = Repo::example();
    repo.write("notes.txt", "dirty\n");
    repo.write("scratch.txt", "untracked\n");
    // P3-UI-01 has no ticket; P2-TEST-01 waits on unfinished work.
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "record",
                "P2-TEST-01",
                "--result",
                "pass",
                "--evidence",
                "x",
            ],
            "cannot move to `done`",
        ),
        (vec!["start", "P2-TEST-01"], "waits on"),
        (vec!["start", "P3-UI-01"], "orch new ticket P3-UI-01"),
        (vec!["start", "P2-CORE-03"], "orch new card P2-CORE-03"),
        (vec!["start", "P2-CORE-02"], "waits on `P2-CORE-03`"),
        (
            vec!["split", "P2-UI-01", "--into", "a"],
            "cannot move to `split`",
        ),
        (
            vec!["cancel", "P1-CORE-01", "--reason", "x"],
            "`done` is final",
        ),
        (vec!["block", "P9-NOPE-01", "--reason", "x"], "not a task"),
        (
            vec!["unblock", "P2-UI-01", "--reason", "x"],
            "cannot move to `todo`",
        ),
        (
            vec!["record", "P2-UI-0l", "--result", "pass", "--evidence", "x"],
            "did you mean `P2-UI-01`",
        ),
        (
            vec!["record", "P2-UI-01", "--result", "pass", "--evidence", " "],
            "--evidence is empty",
        ),
    ];
    for (args, expect) in cases {
        let before = repo.snapshot();
        let out = repo.orch(&args);
        assert_eq!(
            exit(&out),
            Some(2),
            "orch {args:?} must be refused:\n{}",
            text(&out.stdout)
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(expect),
            "orch {args:?}: expected `{expect}` in\n{stderr}"
        );
        assert!(repo.snapshot() == before, "orch {args:?} changed something");
    }

    // A scope overlap with a task in progress: a card for P2-CORE-03 that
    // reaches into P2-UI-01's `web/src/ui/sync/**`.
    repo.write(
        ".orchestrator/cards/P2-CORE-03.md",
        "---\nkind: card\nid: P2-CORE-03\n---\n\n## Codex Execution Card: P2-CORE-03\n\
- Skill: debug-troubleshooter\n- Goal: Find the root cause of push timeouts against the fake relay\n\
- Allowed Scope:\n  - Files/paths: `web/src/**`\n  - Prohibited areas: `core/**`\n\
- Commands to run: `cargo test`\n- Tests/checks to run: `cargo test`\n\
- Evidence to capture: The failing test's output\n- Completion criteria: The timeout is explained\n",
    );
    repo.commit_all("overlapping card");
    let before = repo.snapshot();
    let out = repo.orch(&["start", "P2-CORE-03"]);
    assert_eq!(exit(&out), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("overlaps `P2-CORE-01`") || stderr.contains("overlaps `P2-UI-01`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("web/src/ui/sync/") || stderr.contains("both can touch"),
        "{stderr}"
    );
    assert!(repo.snapshot() == before);

    // No identity: refused before anything is written.
    repo.git(&["config", "--unset", "user.name"]);
    repo.git(&["config", "--unset", "user.email"]);
    let before = repo.snapshot();
    let out = repo.orch(&["record", "P2-UI-01", "--result", "pass", "--evidence", "x"]);
    assert_eq!(exit(&out), Some(2));
    assert!(
        text(&out.stderr).contains("user.name"),
        "{}",
        text(&out.stderr)
    );
    assert!(repo.snapshot() == before);
}

#[test]
fn a_conflicting_staged_version_refuses_and_restores_the_files() {
    let repo = Repo::example();
    // The user staged an edit of the ticket orch must write.
    let path = ".orchestrator/tickets/P2-UI-01.md";
    let original = repo.read(path);
    repo.write(path, &format!("{original}\n<!-- my staged note -->\n"));
    repo.git(&["add", path]);
    repo.write(path, &original);
    let before = repo.snapshot();
    let out = repo.orch(&["record", "P2-UI-01", "--result", "pass", "--evidence", "x"]);
    assert_eq!(exit(&out), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("staged"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        repo.snapshot() == before,
        "a refused commit must put the files back"
    );
    repo.fsck();
}

#[test]
fn no_commit_writes_the_files_only_and_works_outside_git() {
    let repo = Repo::example();
    let head = repo.head();
    repo.orch_ok(&[
        "--no-commit",
        "record",
        "P2-UI-01",
        "--result",
        "pass",
        "--evidence",
        "ok",
    ]);
    assert_eq!(repo.head(), head);
    let status = repo.status();
    assert!(status.contains(" M .orchestrator/ledger.md"), "{status}");
    assert!(
        status.contains(" M .orchestrator/tickets/P2-UI-01.md"),
        "{status}"
    );
    repo.lint_clean();

    // Outside git: refused without --no-commit, written with it.
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(
        &repo_path(".orchestrator.example"),
        &tmp.path().join(".orchestrator"),
    );
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orch"));
        cmd.args(args).current_dir(tmp.path());
        isolate(&mut cmd, tmp.path());
        cmd.env(
            "GIT_CEILING_DIRECTORIES",
            tmp.path().parent().expect("parent"),
        );
        cmd.output().expect("run orch")
    };
    let out = run(&["block", "P2-CORE-03", "--reason", "x"]);
    assert_eq!(exit(&out), Some(2));
    assert!(
        text(&out.stderr).contains("--no-commit"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["--no-commit", "block", "P2-CORE-03", "--reason", "x"]);
    assert_eq!(exit(&out), Some(0), "{}", text(&out.stderr));
    let ticket = std::fs::read_to_string(tmp.path().join(".orchestrator/tickets/P2-CORE-03.md"))
        .expect("read");
    assert!(ticket.contains("status: blocked"));
}

#[test]
fn crlf_documents_keep_their_line_endings() {
    let repo = Repo::example();
    for rel in [
        ".orchestrator/ledger.md",
        ".orchestrator/tickets/P2-UI-01.md",
    ] {
        let crlf = repo.read(rel).replace('\n', "\r\n");
        repo.write(rel, &crlf);
    }
    repo.commit_all("crlf");
    repo.orch_ok(&["record", "P2-UI-01", "--result", "pass", "--evidence", "ok"]);
    let ledger = repo.read(".orchestrator/ledger.md");
    assert!(
        !ledger.replace("\r\n", "").contains('\n'),
        "a bare LF was written"
    );
    assert!(ledger.contains("| P2-UI-01 | development-implementer | ok | pass |"));
    assert!(
        repo.read(".orchestrator/tickets/P2-UI-01.md")
            .contains("status: done\r\n")
    );
    repo.lint_clean();
}

#[test]
fn four_concurrent_records_all_land() {
    let repo = Repo::generated(4);
    repo.lint_clean();
    let commits = repo.commits();
    let children: Vec<_> = (1..=4)
        .map(|i| {
            repo.orch_cmd(&[
                "record",
                &format!("P1-CORE-{i:02}"),
                "--result",
                "pass",
                "--evidence",
                &format!("module {i} passed"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn orch")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert_eq!(
            exit(&out),
            Some(0),
            "a concurrent record failed: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(repo.commits(), commits + 4, "four commits");
    let ledger = repo.read(".orchestrator/ledger.md");
    for i in 1..=4 {
        assert!(
            ledger.contains(&format!(
                "| P1-CORE-{i:02} | development-implementer | module {i} passed | pass |"
            )),
            "row {i} lost:\n{ledger}"
        );
    }
    let log = repo.git(&["log", "--format=%s", "-4"]);
    for i in 1..=4 {
        assert!(
            log.contains(&format!("orch(P1-CORE-{i:02}): in_progress -> done")),
            "{log}"
        );
    }
    repo.fsck();
    assert_eq!(repo.status(), "", "nothing left uncommitted");
    assert!(
        !repo.work().join(".git/orch.lock").exists(),
        "the lock is removed"
    );
    repo.lint_clean();
}

/// A small deterministic generator (no `rand` dependency).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn a_record_killed_at_any_moment_leaves_a_sound_repository() {
    const TRIALS: usize = 30;
    let repo = Repo::generated(2 * TRIALS);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("kill trials: seed {seed}");
    let mut rng = XorShift(seed);
    let mut stale_locks = 0;
    let mut restored = 0;
    let mut killed_before_commit = 0;
    for trial in 0..TRIALS {
        let victim = format!("P1-CORE-{:02}", 2 * trial + 1);
        let probe = format!("P1-CORE-{:02}", 2 * trial + 2);
        let head = repo.head();
        let mut child = repo
            .orch_cmd(&[
                "record",
                &victim,
                "--result",
                "pass",
                "--evidence",
                "killed run",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(rng.next() % 51));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if repo.head() == head {
            killed_before_commit += 1;
        }
        repo.fsck();
        let lint = repo.orch(&["lint", "--format", "json"]);
        assert!(
            matches!(exit(&lint), Some(0 | 1)),
            "trial {trial}: documents unreadable after a kill:\n{}{}",
            text(&lint.stdout),
            text(&lint.stderr)
        );
        let args = [
            "record",
            probe.as_str(),
            "--result",
            "pass",
            "--evidence",
            "probe",
        ];
        // The next record works, or fails naming what a killed run left
        // behind and how to fix it: a stale git lock (delete it), or, when
        // the run died after moving the branch but before writing the index,
        // an index entry older than HEAD (`git restore --staged`).
        let mut attempts = 0;
        loop {
            let out = repo.orch(&args);
            if exit(&out) == Some(0) {
                break;
            }
            attempts += 1;
            let stderr = text(&out.stderr);
            assert_eq!(exit(&out), Some(2), "trial {trial}: {stderr}");
            assert!(attempts < 5, "trial {trial}: still failing: {stderr}");
            let named: Vec<PathBuf> = stderr
                .split_whitespace()
                .map(|w| w.trim_matches(|c: char| matches!(c, '`' | ',' | ';' | ':' | '(' | ')')))
                .filter(|w| w.ends_with(".lock"))
                .map(PathBuf::from)
                .filter(|p| p.exists())
                .collect();
            if !named.is_empty() {
                for p in named {
                    std::fs::remove_file(p).expect("remove the stale lock");
                }
                stale_locks += 1;
            } else {
                assert!(
                    stderr.contains("git restore --staged"),
                    "trial {trial}: the failure names no stale lock and no fix: {stderr}"
                );
                repo.git(&["restore", "--staged", ".orchestrator"]);
                restored += 1;
            }
        }
        let subject = repo.git(&["log", "-1", "--format=%s"]);
        assert_eq!(
            subject.trim(),
            format!("orch({probe}): in_progress -> done")
        );
    }
    eprintln!(
        "kill trials: {TRIALS}, killed before the commit {killed_before_commit}, stale git locks {stale_locks}, index restored {restored}"
    );
    repo.fsck();
    let lint = repo.orch(&["lint"]);
    assert!(matches!(exit(&lint), Some(0 | 1)));
}

#[test]
fn replan_reports_decisions_and_apply_is_idempotent() {
    let repo = Repo::example();
    // The example's open decision: P1-TEST-01 is partial and needs a split.
    let json: Value =
        serde_json::from_str(&repo.orch_ok(&["replan", "--format", "json"])).expect("json");
    let decisions = json["decisions"].as_array().expect("decisions");
    assert!(
        decisions
            .iter()
            .any(|d| d["kind"] == "split" && d["task"] == "P1-TEST-01" && d["needs_human"] == true)
    );
    // Without --apply nothing is written.
    let before = repo.snapshot();
    repo.orch_ok(&["replan"]);
    assert!(repo.snapshot() == before);

    // A failure asks for a root-cause task; a high-risk unverified item for
    // a release gate.
    repo.orch_ok(&[
        "record",
        "P2-UI-01",
        "--result",
        "fail",
        "--evidence",
        "banner | flickers",
    ]);
    let ledger = repo.read(".orchestrator/ledger.md").replace(
        "| Migration 0012 on databases larger than 1 GB | medium:",
        "| Migration 0012 on databases larger than 1 GB | high:",
    );
    repo.write(".orchestrator/ledger.md", &ledger);
    repo.commit_all("the migration risk is high");
    let out = repo.orch_ok(&["replan"]);
    assert!(out.contains("root-cause"), "{out}");
    assert!(out.contains("release-risk"), "{out}");
    let json: Value =
        serde_json::from_str(&repo.orch_ok(&["replan", "--format", "json"])).expect("json");
    let rc = json["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .find(|d| d["kind"] == "root-cause")
        .expect("a root-cause decision")
        .clone();
    assert_eq!(rc["task"], "P2-UI-01");
    assert_eq!(rc["new_task"]["id"], "P2-UI-02");
    assert_eq!(rc["new_task"]["skill"], "debug-troubleshooter");
    assert_eq!(rc["gates"][0], "P2-UI-01");

    let commits = repo.commits();
    let out = repo.orch_ok(&["replan", "--apply"]);
    assert!(out.contains("applied: added P2-UI-02"), "{out}");
    assert_eq!(repo.commits(), commits + 1);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("orch(replan): add P2-UI-02"),
        "{message}"
    );
    assert!(message.contains("Orch-Task: P2-UI-02\n"), "{message}");
    assert!(
        message.contains("Orch-Decision: root-cause P2-UI-01 -> P2-UI-02\n"),
        "{message}"
    );
    repo.fsck();
    assert!(!repo.status().contains(".orchestrator/"));
    repo.lint_clean();
    let plan = repo.read(".orchestrator/plan.md");
    assert!(plan.contains("| P2-UI-01 | Support offline editing with an offline banner and a pending-changes panel | development-implementer | P1-UI-01, P1-CORE-01, P2-UI-02 |"), "{plan}");
    assert!(plan.contains("| P2-UI-02 | Find the root cause of the P2-UI-01 failure: banner \\| flickers | debug-troubleshooter | - |"), "{plan}");
    // The release gate comes before the first task not started, which waits on it.
    let gate_line = plan
        .lines()
        .find(|l| l.contains("| release-devops |") && l.contains("Clear the release risk"))
        .expect("a release gate row");
    let gate = gate_line.split('|').nth(1).expect("id").trim().to_string();
    let todo_row = plan
        .lines()
        .find(|l| l.starts_with("| P2-CORE-03 "))
        .expect("P2-CORE-03");
    assert!(todo_row.contains(&gate), "{todo_row}");
    assert!(repo.orch_ok(&["log", &gate]).contains("orch(replan)"));

    // Applying again changes nothing.
    let before = repo.snapshot();
    let out = repo.orch_ok(&["replan", "--apply"]);
    assert!(out.contains("nothing to write"), "{out}");
    assert!(
        repo.snapshot() == before,
        "a second --apply changed something"
    );

    // Once the root cause passed, replan says to dispatch the task again.
    repo.write(
        ".orchestrator/tickets/P2-UI-02.md",
        "---\nkind: ticket\nid: P2-UI-02\nstatus: in_progress\n---\n\n## Dispatch Ticket: P2-UI-02\n\
- Objective: Find the root cause of the P2-UI-01 failure\n- Owner Skill: debug-troubleshooter\n\
- Inputs: none\n- Commands/Checks: `npx vitest run tests/ui/sync`\n- Expected Artifacts: none\n- Risks: none\n\
- Exit Criteria: The cause is recorded\n",
    );
    repo.write(
        ".orchestrator/cards/P2-UI-02.md",
        "---\nkind: card\nid: P2-UI-02\n---\n\n## Codex Execution Card: P2-UI-02\n\
- Skill: debug-troubleshooter\n- Goal: Find the root cause of the P2-UI-01 failure\n- Allowed Scope:\n\
\x20 - Files/paths: `tests/ui/repro/**`\n  - Prohibited areas: `core/**`\n- Commands to run: `npx vitest`\n\
- Tests/checks to run: `npx vitest run tests/ui/repro`\n- Evidence to capture: the failing test\n\
- Completion criteria: The cause is recorded\n",
    );
    repo.commit_all("root cause under way");
    repo.orch_ok(&[
        "record",
        "P2-UI-02",
        "--result",
        "pass",
        "--evidence",
        "a stale timer",
    ]);
    let out = repo.orch_ok(&["replan"]);
    assert!(
        out.contains("redispatch") && out.contains("orch dispatch P2-UI-01"),
        "{out}"
    );
    repo.lint_clean();
}

#[test]
fn replan_flags_unclear_criteria_and_scope_conflicts() {
    let repo = Repo::generated(3);
    // P1-CORE-02's criteria are a placeholder; P1-CORE-03 reaches into P1-CORE-01's scope.
    let plan = repo
        .read(".orchestrator/plan.md")
        .replace("| Module 1 tests pass |", "| TBD |");
    repo.write(".orchestrator/plan.md", &plan);
    let card = repo
        .read(".orchestrator/cards/P1-CORE-03.md")
        .replace("`src/m02/**`", "`src/m02/**`, `src/m00/shared.rs`");
    repo.write(".orchestrator/cards/P1-CORE-03.md", &card);
    repo.commit_all("unclear and conflicting");
    let json: Value =
        serde_json::from_str(&repo.orch_ok(&["replan", "--format", "json"])).expect("json");
    let decisions = json["decisions"].as_array().expect("decisions");
    let criteria = decisions
        .iter()
        .find(|d| d["kind"] == "criteria")
        .expect("criteria");
    assert_eq!(criteria["task"], "P1-CORE-02");
    assert_eq!(criteria["new_task"]["skill"], "requirements-analyst");
    let conflict = decisions
        .iter()
        .find(|d| d["kind"] == "conflict")
        .expect("conflict");
    assert_eq!(conflict["new_task"]["skill"], "solution-architect");
    assert!(
        conflict["message"]
            .as_str()
            .expect("message")
            .contains("src/m00/shared.rs")
    );
    repo.orch_ok(&["replan", "--apply"]);
    let second = repo.snapshot();
    repo.orch_ok(&["replan", "--apply"]);
    assert!(
        repo.snapshot() == second,
        "a second --apply changed something"
    );
    let json: Value =
        serde_json::from_str(&repo.orch_ok(&["replan", "--format", "json"])).expect("json");
    assert!(
        json["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .all(|d| d["needs_human"] == true),
        "{json}"
    );
    repo.fsck();
}

/// main and a branch `feature` that diverge after a common commit.
fn diverged() -> Repo {
    let repo = Repo::example();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo
}

fn lint_codes(repo: &Repo, base: &str) -> (Option<i32>, Vec<(String, String)>) {
    let out = repo.orch(&["lint", "--base", base, "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let codes = json["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    (
                        d["code"].as_str().unwrap_or("").to_string(),
                        d["message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (exit(&out), codes)
}

#[test]
fn lint_base_catches_rewritten_rows_and_colliding_ids_both_ways() {
    let repo = diverged();
    // The branch appends a row through orch: not a rewrite.
    repo.orch_ok(&[
        "record",
        "P2-UI-01",
        "--result",
        "pass",
        "--evidence",
        "14 passed",
    ]);
    assert_eq!(lint_codes(&repo, "main"), (Some(0), vec![]));

    // The branch edits a row in place and deletes another.
    let ledger = repo
        .read(".orchestrator/ledger.md")
        .replace(
            "`cargo test -p core sync::queue` 48 passed",
            "`cargo test -p core sync::queue` 49 passed",
        )
        .lines()
        .filter(|l| !l.starts_with("| P1-INFRA-01 "))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    repo.write(".orchestrator/ledger.md", &ledger);
    // Both sides add P3-DOCS-02, for different tasks.
    let add = |repo: &Repo, objective: &str| {
        let plan = repo.read(".orchestrator/plan.md").replace(
            "| P3-DOCS-01 |",
            &format!("| P3-DOCS-02 | {objective} | technical-writer | - | The page is reviewed |\n| P3-DOCS-01 |"),
        );
        repo.write(".orchestrator/plan.md", &plan);
    };
    add(&repo, "Write the FAQ");
    repo.commit_all("feature work");
    repo.git(&["checkout", "-q", "main"]);
    add(&repo, "Write the migration guide");
    repo.commit_all("main work");
    repo.git(&["checkout", "-q", "feature"]);

    let (code, found) = lint_codes(&repo, "main");
    assert_eq!(code, Some(1), "{found:?}");
    let rewritten: Vec<&String> = found
        .iter()
        .filter(|(c, _)| c == "ledger-rewritten")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(rewritten.len(), 2, "{found:?}");
    assert!(
        rewritten
            .iter()
            .any(|m| m.contains("`P1-CORE-01` row was changed") && m.contains("48 passed")),
        "{rewritten:?}"
    );
    assert!(
        rewritten
            .iter()
            .any(|m| m.contains("`P1-INFRA-01` row present at main was removed")),
        "{rewritten:?}"
    );
    let collisions: Vec<&String> = found
        .iter()
        .filter(|(c, _)| c == "id-collision")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(collisions.len(), 1, "{found:?}");
    assert!(
        collisions[0].contains("P3-DOCS-02") && collisions[0].contains("Write the migration guide")
    );
    // Without --base these rules are silent: they need history.
    let out = repo.orch(&["lint", "--format", "json"]);
    let plain = text(&out.stdout);
    assert!(
        !plain.contains("ledger-rewritten") && !plain.contains("id-collision"),
        "{plain}"
    );

    // The other way: main against the feature branch sees the collision
    // too, and no rewrite (main changed no row the branch had at the merge-base).
    repo.git(&["checkout", "-q", "main"]);
    let (code, found) = lint_codes(&repo, "feature");
    assert_eq!(code, Some(1));
    assert!(
        found
            .iter()
            .any(|(c, m)| c == "id-collision" && m.contains("Write the FAQ")),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(c, _)| c == "ledger-rewritten"),
        "{found:?}"
    );

    // Identical rows added on both sides (a cherry-pick) do not collide.
    let repo = diverged();
    add(&repo, "Same task");
    repo.commit_all("feature");
    repo.git(&["checkout", "-q", "main"]);
    add(&repo, "Same task");
    repo.commit_all("main");
    repo.git(&["checkout", "-q", "feature"]);
    assert_eq!(lint_codes(&repo, "main"), (Some(0), vec![]));

    // A revision that does not exist is exit 2.
    let out = repo.orch(&["lint", "--base", "no-such-branch"]);
    assert_eq!(exit(&out), Some(2));
    assert!(text(&out.stderr).contains("no-such-branch"));
}

#[test]
fn lint_base_in_a_shallow_clone_without_the_merge_base_is_exit_2_with_the_fix() {
    let origin = diverged();
    origin.write("feature.txt", "f\n");
    origin.commit_all("feature");
    origin.git(&["checkout", "-q", "main"]);
    origin.write("main.txt", "m\n");
    origin.commit_all("main");
    let clone = Repo::empty();
    std::fs::remove_dir_all(clone.work()).expect("rm");
    let url = format!("file://{}", origin.work().display());
    let mut cmd = Command::new("git");
    cmd.args(["clone", "-q", "--depth", "1", "--no-single-branch", &url])
        .arg(clone.work())
        .current_dir(clone.home());
    isolate(&mut cmd, clone.home());
    let out = cmd.output().expect("git clone");
    assert!(out.status.success(), "{}", text(&out.stderr));
    clone.git(&["checkout", "-q", "feature"]);
    let out = clone.orch(&["lint", "--base", "origin/main"]);
    assert_eq!(exit(&out), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("shallow") && stderr.contains("fetch-depth: 0"),
        "{stderr}"
    );
}

#[test]
fn record_pass_names_the_dependents_it_unlocks() {
    let repo = Repo::example();
    let out = repo.orch_ok(&["record", "P2-UI-01", "--result", "pass", "--evidence", "ok"]);
    assert!(out.contains("next: no task is unlocked by this"), "{out}");
    let out = repo.orch_ok(&[
        "record",
        "P2-CORE-01",
        "--result",
        "pass",
        "--evidence",
        "ok",
    ]);
    assert!(
        out.contains("unlocked: P2-DOCS-01, P3-UI-01 (`orch start P2-DOCS-01 P3-UI-01`)"),
        "{out}"
    );
    let ledger = repo.read(".orchestrator/ledger.md");
    assert!(
        ledger.contains(
            "| P2-CORE-01 | development-implementer | ok | pass | unlock P2-DOCS-01, P3-UI-01 |"
        ),
        "{ledger}"
    );
    let json: Value =
        serde_json::from_str(&repo.orch_ok(&["replan", "--format", "json"])).expect("json");
    let unlock = json["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .find(|d| d["kind"] == "unlock" && d["task"] == "P2-CORE-01")
        .expect("an unlock decision")
        .clone();
    assert_eq!(unlock["command"], "orch start P2-DOCS-01 P3-UI-01");
    repo.lint_clean();
}

#[test]
fn start_several_tasks_checks_them_all_first_then_commits_each() {
    let repo = Repo::generated(3);
    for t in ["P1-CORE-01", "P1-CORE-02", "P1-CORE-03"] {
        repo.orch_ok(&["block", t, "--reason", "waiting on review"]);
    }
    // One of three refused: none starts.
    let card = repo
        .read(".orchestrator/cards/P1-CORE-03.md")
        .replace("`src/m02/**`", "`src/m00/**`");
    repo.write(".orchestrator/cards/P1-CORE-03.md", &card);
    repo.commit_all("P1-CORE-03 now shares P1-CORE-01's scope");
    let before = repo.snapshot();
    let out = repo.orch(&["start", "P1-CORE-01", "P1-CORE-02", "P1-CORE-03"]);
    assert_eq!(exit(&out), Some(2));
    assert!(
        text(&out.stderr).contains("overlaps `P1-CORE-01`, which is starting too"),
        "{}",
        text(&out.stderr)
    );
    assert!(repo.snapshot() == before);
    let out = repo.orch(&["start", "P1-CORE-01", "P1-CORE-01"]);
    assert_eq!(exit(&out), Some(2));
    assert!(repo.snapshot() == before);

    let commits = repo.commits();
    let out = repo.orch_ok(&["start", "P1-CORE-01", "P1-CORE-02", "--format", "json"]);
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["transitions"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["transitions"][1]["from"], "blocked");
    assert_eq!(json["transitions"][1]["to"], "in_progress");
    assert_eq!(repo.commits(), commits + 2, "one commit per task");
    let subjects = repo.git(&["log", "-2", "--format=%s"]);
    assert_eq!(
        subjects,
        "orch(P1-CORE-02): blocked -> in_progress\norch(P1-CORE-01): blocked -> in_progress\n"
    );
    repo.fsck();
    repo.lint_clean();
}
