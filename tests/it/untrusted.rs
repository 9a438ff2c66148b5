//! Files beside the documents are input, not truth (issue 13): run files,
//! logs, last-message files and the folders that hold them may come with a
//! clone or from an agent. Each test builds a real repository, plants the
//! hostile file (a forged run file, a link, a FIFO, a huge file, an escape
//! sequence) and drives the binary: orch must refuse or skip it with a
//! clear message, never follow it, never hang, and never write outside the
//! repository.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::util::{git, orch};

/// A committed program with tasks `T1` (todo) and `T2` (in progress), each
/// with a card scoped to `work/<ID>/**`, and a generic stand-in agent.
pub struct Repo {
    dir: tempfile::TempDir,
}

pub const AGENT: &str = "#!/bin/sh\nmkdir -p \"work/$1\"\necho done > \"work/$1/out.txt\"\necho \"test result: ok. 1 passed\"\n";

impl Repo {
    pub fn new() -> Repo {
        Repo::with_config(
            "agent:\n  isolate: none\n  command: [\"agents/run.sh\", \"{task}\"]\n  adapter: generic\n  evidence: [\"(?i)test result\"]\n",
        )
    }

    pub fn with_config(config: &str) -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("repo");
        let o = root.join(".orchestrator");
        for sub in ["tickets", "cards"] {
            std::fs::create_dir_all(o.join(sub)).expect("mkdir");
        }
        std::fs::create_dir_all(root.join("agents")).expect("mkdir");
        let mut rows = String::new();
        for (id, status) in [("T1", "todo"), ("T2", "in_progress")] {
            rows.push_str(&format!(
                "| {id} | Build {id} | development-implementer | - | {id} passes |\n"
            ));
            std::fs::write(
                o.join(format!("tickets/{id}.md")),
                format!(
                    "---\nkind: ticket\nid: {id}\nstatus: {status}\n---\n\n## Dispatch Ticket: {id}\n- Objective: Build {id}\n- Owner Skill: development-implementer\n- Inputs: The plan.\n- Commands/Checks: `make test`\n- Expected Artifacts: `work/{id}/out.txt`\n- Risks: none\n- Exit Criteria: {id} passes\n"
                ),
            )
            .expect("ticket");
            std::fs::write(
                o.join(format!("cards/{id}.md")),
                format!(
                    "---\nkind: card\nid: {id}\ngroup: G1\n---\n\n## Codex Execution Card: {id}\n- Skill: development-implementer\n- Goal: Build {id}\n- Allowed Scope:\n  - Files/paths: `work/{id}/**`\n  - Prohibited areas: none\n- Commands to run: `make`\n- Tests/checks to run: `make test`\n- Evidence to capture: The test summary line.\n- Completion criteria: {id} passes\n"
                ),
            )
            .expect("card");
        }
        std::fs::write(
            o.join("plan.md"),
            format!(
                "---\nkind: plan\nid: demo\ntitle: Demo\nstatus: active\n---\n\n# Program Goal\n- Goal: Exercise orch.\n- Scope: Stand-in agents.\n- Non-goals: Anything else.\n\n# Phase Tree\n## Phase P1: Only phase\n- Outcome: Agents run.\n- Workstreams:\n  - UI: none\n  - Core: The work.\n  - Infrastructure: none\n  - Test: none\n  - Docs: none\n\n## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n{rows}"
            ),
        )
        .expect("plan");
        std::fs::write(
            o.join("ledger.md"),
            "---\nkind: ledger\nplan: demo\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n",
        )
        .expect("ledger");
        std::fs::write(o.join("config.yaml"), config).expect("config");
        let agent = root.join("agents/run.sh");
        std::fs::write(&agent, AGENT).expect("agent");
        chmod_x(&agent);
        std::fs::write(
            root.join(".gitignore"),
            ".orchestrator/logs/\n.orchestrator/runs/\n",
        )
        .expect("ignore");
        git(&root, &["init", "-q", "-b", "main"]);
        git(&root, &["config", "user.name", "Test"]);
        git(&root, &["config", "user.email", "test@example.com"]);
        git(&root, &["config", "commit.gpgsign", "false"]);
        git(&root, &["add", "-A"]);
        git(&root, &["commit", "-q", "-m", "init"]);
        Repo { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// A folder beside the repository, for link targets.
    pub fn outside(&self) -> PathBuf {
        let p = self.dir.path().join("outside");
        std::fs::create_dir_all(&p).expect("mkdir");
        p
    }

    pub fn o(&self, rel: &str) -> PathBuf {
        self.root().join(".orchestrator").join(rel)
    }

    pub fn orch(&self, args: &[&str]) -> Output {
        self.orch_within(args, Duration::from_secs(60))
    }

    /// Run orch, killed after `bound` (a hang fails the caller's checks).
    pub fn orch_within(&self, args: &[&str], bound: Duration) -> Output {
        orch()
            .current_dir(self.root())
            .env("HOME", self.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(args)
            .timeout(bound)
            .output()
            .expect("run orch")
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap_or_default()
    }

    pub fn head(&self) -> String {
        git(&self.root(), &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// A run file as a clone could carry it: finished, exit 0, for `T2`.
    pub fn plant_run(&self, file_id: &str, run: &str, log: &str, last: Option<&str>) {
        let runs = self.o("runs");
        std::fs::create_dir_all(&runs).expect("mkdir");
        let last = last.map_or("null".to_string(), |l| format!("{l:?}"));
        std::fs::write(
            runs.join(format!("{file_id}.json")),
            format!(
                r#"{{"run":{run:?},"started":"2026-01-01T00:00:00Z","ended":"2026-01-01T00:01:00Z","jobs":1,"tasks":[{{"task":"T2","adapter":"generic","argv":["agents/run.sh","T2"],"log":{log:?},"last_message":{last},"state":"finished","started":"2026-01-01T00:00:00Z","ended":"2026-01-01T00:01:00Z","started_ms":1,"ended_ms":2,"duration_ms":1,"exit_code":0,"changed":[]}}]}}"#
            ),
        )
        .expect("run file");
    }
}

pub fn chmod_x(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(ok.success());
}

/// Bytes that must never reach a terminal raw: C0 controls but tab and
/// line feed (and CR before LF), DEL, C1 controls, bidi overrides.
pub fn raw_controls(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let lone_cr = c == '\r' && chars.peek() != Some(&'\n');
        let unsafe_char = matches!(c, '\0'..='\x08' | '\x0b'..='\x0c' | '\x0e'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if unsafe_char || lone_cr {
            found.push(format!("{:?}", c));
        }
    }
    found
}

const SECRET: &str = "root:x:0:0:secret-line-from-outside";

#[test]
fn a_forged_run_file_cannot_read_outside_files_into_the_ledger() {
    let r = Repo::new();
    let secret = r.outside().join("passwd");
    std::fs::write(&secret, format!("{SECRET}\n")).expect("secret");
    let head = r.head();
    // An absolute last-message path, and one that climbs out.
    for (i, last) in [
        secret.to_string_lossy().into_owned(),
        "../outside/passwd".to_string(),
        ".orchestrator/runs/../../../outside/passwd".to_string(),
    ]
    .iter()
    .enumerate()
    {
        let id = format!("20260101T00000{i}Z-T2");
        r.plant_run(&id, &id, ".orchestrator/logs/T2.log", Some(last));
        let out = r.orch(&["harvest", &id, "--record"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(err.contains("is not a run orch wrote"), "{err}");
        assert!(err.contains("last message"), "{err}");
        assert!(!r.read(".orchestrator/ledger.md").contains("secret-line"));
        assert_eq!(r.head(), head, "nothing may be committed");
    }
    // A log outside logs/.
    r.plant_run(
        "20260101T000009Z-T2",
        "20260101T000009Z-T2",
        "/etc/passwd",
        None,
    );
    let out = r.orch(&["harvest", "20260101T000009Z-T2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("log `/etc/passwd` is not a file under logs/"));
}

#[test]
fn the_report_is_named_for_the_run_file_never_for_its_run_field() {
    let r = Repo::new();
    let escape = r.outside().join("pwned");
    let run_field = format!(
        "../../../{}",
        escape.strip_prefix(r.dir.path()).unwrap().display()
    );
    r.plant_run(
        "20260101T000000Z-T2",
        &run_field,
        ".orchestrator/logs/T2.log",
        None,
    );
    let out = r.orch(&["harvest", "20260101T000000Z-T2"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("its \"run\" field names"),
        "{}",
        stderr(&out)
    );
    assert!(!escape.with_extension("md").exists());
    assert!(!escape.with_extension("json").exists());
    // A run named by a path that is not a run id.
    let out = r.orch(&["harvest", "../../etc/pass wd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("does not name a dispatch run"),
        "{}",
        stderr(&out)
    );
    // The latest-run listing skips the forged one (it says no run).
    let out = r.orch(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn run_files_that_are_links_fifos_or_huge_are_refused_without_hanging() {
    let r = Repo::new();
    let runs = r.o("runs");
    std::fs::create_dir_all(&runs).expect("mkdir");
    symlink("/dev/zero", runs.join("20260101T000001Z-T2.json")).expect("link");
    mkfifo(&runs.join("20260101T000002Z-T2.json"));
    let huge = std::fs::File::create(runs.join("20260101T000003Z-T2.json")).expect("huge");
    huge.set_len(40 << 20).expect("sparse 40 MiB");
    for (id, why) in [
        ("20260101T000001Z-T2", "is a symbolic link"),
        ("20260101T000002Z-T2", "is not a regular file"),
        ("20260101T000003Z-T2", "over the 32 MiB limit"),
    ] {
        let started = Instant::now();
        let out = r.orch_within(&["harvest", id], Duration::from_secs(20));
        assert!(started.elapsed() < Duration::from_secs(15), "{id} hung");
        assert_eq!(out.status.code(), Some(2), "{id}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{id}: {}", stderr(&out));
    }
    // `orch status` reads every run file for its notes: it must not hang.
    let out = r.orch_within(&["status"], Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_planted_last_message_link_or_log_link_is_not_followed() {
    let r = Repo::new();
    let secret = r.outside().join("secret.txt");
    std::fs::write(&secret, format!("{SECRET}\ntest result: stolen\n")).expect("secret");
    let id = "20260101T000000Z-T2";
    let last = format!(".orchestrator/runs/{id}/T2.last-message.md");
    r.plant_run(id, id, ".orchestrator/logs/T2.log", Some(&last));
    std::fs::create_dir_all(r.o(&format!("runs/{id}"))).expect("mkdir");
    symlink(&secret, r.root().join(&last)).expect("link");
    std::fs::create_dir_all(r.o("logs")).expect("mkdir");
    symlink(&secret, r.o("logs/T2.log")).expect("link");
    let out = r.orch(&["harvest", id, "--format", "json"]);
    let text = stdout(&out);
    assert!(
        !text.contains("secret-line") && !text.contains("stolen"),
        "{text}"
    );
    assert!(text.contains("cannot read the log"), "{text}");
    assert!(text.contains("symbolic link"), "{text}");
    // The same through a linked runs/<RUN>/ folder.
    std::fs::remove_file(r.root().join(&last)).expect("rm");
    std::fs::remove_dir(r.o(&format!("runs/{id}"))).expect("rmdir");
    symlink(r.outside(), r.o(&format!("runs/{id}"))).expect("link");
    std::fs::write(r.outside().join("T2.last-message.md"), SECRET).expect("write");
    let out = r.orch(&["harvest", id, "--format", "json"]);
    assert!(!stdout(&out).contains("secret-line"), "{}", stdout(&out));
    // A log that is /dev/zero or a FIFO ends at once with a note.
    std::fs::remove_file(r.o("logs/T2.log")).expect("rm");
    mkfifo(&r.o("logs/T2.log"));
    let out = r.orch_within(
        &["harvest", id, "--format", "json"],
        Duration::from_secs(20),
    );
    assert!(
        stdout(&out).contains("not a regular file"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn dispatch_never_writes_through_a_linked_folder_or_log() {
    let r = Repo::new();
    let outside = r.outside();
    // A log that is a link to a file outside: replaced, the file untouched.
    std::fs::create_dir_all(r.o("logs")).expect("mkdir");
    std::fs::write(outside.join("victim"), "keep").expect("victim");
    symlink(outside.join("victim"), r.o("logs/T1.log")).expect("link");
    let out = r.orch(&["dispatch", "T1"]);
    // It ran (partial: a generic agent's checks are never seen run).
    assert!(
        stdout(&out).contains("T1=0"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("victim")).unwrap(),
        "keep"
    );
    let md = std::fs::symlink_metadata(r.o("logs/T1.log")).expect("log");
    assert!(md.is_file(), "the log is a regular file now");
    assert!(r.read(".orchestrator/logs/T1.log").contains("test result"));

    // A linked runs/ folder: refused before anything starts.
    let r = Repo::new();
    let outside = r.outside();
    symlink(&outside, r.o("runs")).expect("link");
    let head = r.head();
    let out = r.orch(&["dispatch", "T1"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(r.head(), head, "no task was marked in progress");

    // A linked .orchestrator/logs, and a linked .orchestrator itself.
    let r = Repo::new();
    let outside = r.outside();
    symlink(&outside, r.o("logs")).expect("link");
    let out = r.orch(&["dispatch", "T1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn live_progress_and_messages_escape_control_characters() {
    // An agent command holding an escape sequence: it cannot start (it is
    // refused before any task is marked), and the message quoting it must
    // not carry the sequence raw.
    let r = Repo::with_config(
        "agent:\n  isolate: none\n  command: [\"agents/\\e]0;pwned\\a\\e[2J.sh\", \"{task}\"]\n  adapter: generic\n",
    );
    let out = r.orch(&["dispatch", "T1"]);
    let all = [out.stdout.clone(), out.stderr.clone()].concat();
    assert!(
        raw_controls(&all).is_empty(),
        "raw controls {:?} in:\n{}",
        raw_controls(&all),
        String::from_utf8_lossy(&all)
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("\\u{1b}]0;pwned\\u{7}"),
        "{}",
        stderr(&out)
    );
}

/// `orch` under a 250 MB address-space limit (`ulimit -v`): inflating a
/// 300 MB blob whole would fail to allocate and abort.
fn orch_limited(r: &Repo, args: &str) -> Output {
    std::process::Command::new("sh")
        .current_dir(r.root())
        .env("HOME", r.root())
        .arg("-c")
        .arg(format!(
            "ulimit -v 250000; exec {} {args}",
            env!("CARGO_BIN_EXE_orch")
        ))
        .output()
        .expect("run orch")
}

#[test]
fn a_300_mb_blob_is_sized_from_its_header_not_inflated() {
    let r = Repo::new();
    let huge = r.o("tickets/T9.md");
    std::fs::write(&huge, "---\nkind: ticket\nid: T9\nstatus: todo\n---\n").expect("write");
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(&huge)
        .expect("open");
    f.set_len(300 << 20).expect("sparse 300 MB");
    drop(f);
    git(&r.root(), &["add", ".orchestrator/tickets/T9.md"]);
    // The staged program: the blob is refused from its size.
    let out = orch_limited(&r, "lint --staged --format json");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("over the 4 MiB limit"), "{text}");
    // Committed, and read back as the base of a range.
    git(&r.root(), &["commit", "-q", "-m", "huge"]);
    std::fs::remove_file(&huge).expect("rm");
    let out = orch_limited(&r, "lint --base HEAD --format json");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let out = orch_limited(&r, "align-docs --base HEAD~1 --format json");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
}

fn hook_path(r: &Repo) -> PathBuf {
    r.root().join(".git/hooks/pre-commit")
}

#[test]
fn hook_install_and_uninstall_recognise_only_their_exact_script() {
    let r = Repo::new();
    let hook = hook_path(&r);
    std::fs::create_dir_all(hook.parent().unwrap()).expect("mkdir");
    // A user's hook that happens to hold orch's marker line.
    let theirs = "#!/bin/sh\n# orch-hook: installed by `orch hook install`; `orch hook uninstall` removes it.\nrun-my-own-checks\nexec orch lint --staged\n";
    std::fs::write(&hook, theirs).expect("hook");
    let out = r.orch(&["hook", "install"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("a hook orch did not write"),
        "{}",
        stderr(&out)
    );
    let out = r.orch(&["hook", "uninstall"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        theirs,
        "left as it was"
    );

    // orch's own script, with a --dir that needs quoting: recognised.
    std::fs::remove_file(&hook).expect("rm");
    std::fs::create_dir_all(r.root().join("my orch's dir")).expect("mkdir");
    let out = r.orch(&["hook", "install", "--dir", "my orch's dir"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = r.orch(&["hook", "install"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "reinstalling over its own: {}",
        stderr(&out)
    );
    // One more line makes it someone else's.
    let ours = std::fs::read_to_string(&hook).expect("hook");
    std::fs::write(&hook, format!("{ours}echo extra\n")).expect("edit");
    let out = r.orch(&["hook", "uninstall"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    std::fs::write(&hook, &ours).expect("restore");
    let out = r.orch(&["hook", "uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&hook).is_err());
}

#[test]
fn hook_install_never_follows_or_replaces_a_link() {
    let r = Repo::new();
    let hook = hook_path(&r);
    std::fs::create_dir_all(hook.parent().unwrap()).expect("mkdir");
    let target = r.outside().join("not-yet");
    symlink(&target, &hook).expect("dangling link");
    let out = r.orch(&["hook", "install"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert!(!target.exists(), "the link was followed");
    assert!(
        std::fs::symlink_metadata(&hook)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let out = r.orch(&["hook", "uninstall"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        std::fs::symlink_metadata(&hook)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A link to a copy of orch's own script is still a link.
    let out = r.orch(&["hook", "install", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!target.exists(), "the link was followed");
    let chained = hook.with_file_name("pre-commit.orch-chained");
    assert!(
        std::fs::symlink_metadata(&chained)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let ours = std::fs::read(&hook).expect("hook");
    std::fs::remove_file(&hook).expect("rm");
    std::fs::write(r.outside().join("copy"), ours).expect("copy");
    symlink(r.outside().join("copy"), &hook).expect("link");
    let out = r.orch(&["hook", "uninstall"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(r.outside().join("copy").exists());
    // A FIFO at the hook's name does not hang either command.
    std::fs::remove_file(&hook).expect("rm");
    mkfifo(&hook);
    let out = r.orch_within(&["hook", "uninstall"], Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
}
