//! `orch dispatch` and `orch harvest` with real child processes: stand-in
//! agents from `testdata/agents/` (one per behaviour) run in temporary git
//! repositories, each task's agent copied to `agents/<ID>.sh`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{git, orch, repo_path};

/// One task of a generated program.
pub struct T {
    pub id: &'static str,
    /// The script in testdata/agents/ that acts as its agent.
    pub agent: &'static str,
    pub deps: &'static str,
    pub status: Option<&'static str>,
    pub card: bool,
    /// Allowed scope (default `work/<ID>/**`).
    pub scope: Option<&'static str>,
    pub goal: &'static str,
    /// The card's "Tests/checks to run" (default: none).
    pub checks: &'static str,
    /// The card's `group:` (default G1).
    pub group: &'static str,
    /// Extra front-matter lines for the card (`budget: {tokens: 10}`).
    pub front: &'static str,
}

pub fn t(id: &'static str, agent: &'static str) -> T {
    T {
        id,
        agent,
        deps: "-",
        status: Some("todo"),
        card: true,
        scope: None,
        goal: "Build the thing",
        checks: "none",
        group: "G1",
        front: "",
    }
}

/// A task whose card asks for the check `cargo test`.
pub fn tc(id: &'static str, agent: &'static str) -> T {
    T {
        checks: "`cargo test`",
        ..t(id, agent)
    }
}

pub struct Fixture {
    dir: tempfile::TempDir,
}

pub const GENERIC: &str = "agent:\n  isolate: none\n  command: [\"agents/{task}.sh\", \"{task}\", \"{prompt}\"]\n  adapter: generic\n  evidence: [\"(?i)test result\"]\n";
pub const CODEX: &str = "agent:\n  isolate: none\n  command: [\"agents/{task}.sh\", \"{task}\", \"{last_message}\", \"{prompt}\"]\n  adapter: codex\n";

impl Fixture {
    pub fn new(tasks: &[T], config: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let o = root.join(".orchestrator");
        for sub in ["tickets", "cards", "logs"] {
            std::fs::create_dir_all(o.join(sub)).expect("mkdir");
        }
        std::fs::create_dir_all(root.join("agents")).expect("mkdir");
        let mut rows = String::new();
        for task in tasks {
            rows.push_str(&format!(
                "| {} | {} | development-implementer | {} | {} passes |\n",
                task.id, task.goal, task.deps, task.id
            ));
            if let Some(status) = task.status {
                std::fs::write(
                    o.join(format!("tickets/{}.md", task.id)),
                    format!(
                        "---\nkind: ticket\nid: {id}\nstatus: {status}\n---\n\n## Dispatch Ticket: {id}\n- Objective: {goal}\n- Owner Skill: development-implementer\n- Inputs: The plan.\n- Commands/Checks: `cargo test`\n- Expected Artifacts: `work/{id}/out.txt`\n- Risks: none\n- Exit Criteria: {id} passes\n",
                        id = task.id,
                        goal = task.goal
                    ),
                )
                .expect("ticket");
            }
            if task.card {
                let scope = task
                    .scope
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| format!("work/{}/**", task.id));
                std::fs::write(
                    o.join(format!("cards/{}.md", task.id)),
                    format!(
                        "---\nkind: card\nid: {id}\ngroup: {group}\n{front}---\n\n## Codex Execution Card: {id}\n- Skill: development-implementer\n- Goal: {goal}\n- Allowed Scope:\n  - Files/paths: `{scope}`\n  - Prohibited areas: none\n- Commands to run: `make`\n- Tests/checks to run: {checks}\n- Evidence to capture: The test summary line.\n- Completion criteria: {id} passes\n",
                        id = task.id,
                        goal = task.goal,
                        checks = task.checks,
                        group = task.group,
                        front = task.front
                    ),
                )
                .expect("card");
            }
            let agent = root.join(format!("agents/{}.sh", task.id));
            std::fs::copy(
                repo_path(&format!("testdata/agents/{}", task.agent)),
                &agent,
            )
            .expect("copy agent");
        }
        std::fs::write(
            o.join("plan.md"),
            format!(
                "---\nkind: plan\nid: demo\ntitle: Demo\nstatus: active\n---\n\n# Program Goal\n- Goal: Exercise dispatch.\n- Scope: Stand-in agents.\n- Non-goals: Anything else.\n\n# Phase Tree\n## Phase P1: Only phase\n- Outcome: Agents run.\n- Workstreams:\n  - UI: none\n  - Core: The work.\n  - Infrastructure: none\n  - Test: none\n  - Docs: none\n\n## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n{rows}"
            ),
        )
        .expect("plan");
        std::fs::write(
            o.join("ledger.md"),
            "---\nkind: ledger\nplan: demo\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n",
        )
        .expect("ledger");
        std::fs::write(o.join("config.yaml"), config).expect("config");
        std::fs::write(root.join(".gitignore"), ".orchestrator/logs/\n").expect("ignore");
        git(root, &["init", "-q", "-b", "main"]);
        git(root, &["config", "user.name", "Test"]);
        git(root, &["config", "user.email", "test@example.com"]);
        git(root, &["config", "commit.gpgsign", "false"]);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "init"]);
        Fixture { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn orch(&self, args: &[&str]) -> Output {
        self.orch_with(args, None)
    }

    /// `orch` with the stand-in `codex`, `claude` and `gemini` of
    /// `testdata/agents/bin/` first on PATH.
    pub fn orch_path(&self, args: &[&str]) -> Output {
        self.orch_with(args, Some(&stand_in_path()))
    }

    fn orch_with(&self, args: &[&str], path: Option<&str>) -> Output {
        let mut cmd = orch();
        cmd.current_dir(self.root())
            .env("HOME", self.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(args);
        if let Some(p) = path {
            cmd.env("PATH", p);
        }
        cmd.output().expect("run orch")
    }

    pub fn json(&self, args: &[&str]) -> (Option<i32>, serde_json::Value) {
        let out = self.orch(&[args, &["--format", "json"]].concat());
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code(), v)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap_or_default()
    }

    pub fn head(&self) -> String {
        git(self.root(), &["rev-parse", "HEAD"])
    }

    /// `orch dispatch IDS` with stand-in agents that hang: once every
    /// agent has started (its log names its child), send orch `signal`
    /// (`INT`, `TERM`) and wait for it, which must take under 6 s.
    fn dispatch_then_signal(&self, ids: &[&str], signal: &str) -> Output {
        let child = Command::new(env!("CARGO_BIN_EXE_orch"))
            .current_dir(self.root())
            .env("HOME", self.root())
            .arg("dispatch")
            .args(ids)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn orch");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ids.iter().all(|id| self.agent_child(id).is_some()) {
            assert!(Instant::now() < deadline, "agents did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
        let started = Instant::now();
        let out = child.wait_with_output().expect("wait");
        assert!(started.elapsed() < Duration::from_secs(6));
        out
    }

    /// The pid of the child a hanging stand-in agent logged, once it has.
    fn agent_child(&self, id: &str) -> Option<u32> {
        self.read(&format!(".orchestrator/logs/{id}.log"))
            .lines()
            .find_map(|l| l.strip_prefix("child="))
            .and_then(|p| p.trim().parse().ok())
    }

    pub fn status(&self) -> String {
        git(
            self.root(),
            &["status", "--porcelain", "--untracked-files=all"],
        )
    }
}

/// PATH with the stand-in `codex`, `claude` and `gemini` of
/// `testdata/agents/bin/` first.
pub fn stand_in_path() -> String {
    format!(
        "{}:{}",
        repo_path("testdata/agents/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn task<'v>(v: &'v serde_json::Value, id: &str) -> &'v serde_json::Value {
    v["tasks"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["task"] == id))
        .unwrap_or_else(|| panic!("no task {id} in {v}"))
}

/// A process is gone, or a zombie nobody reaped (PID 1 in some containers).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rfind(')')
            .is_some_and(|i| s[i + 1..].trim_start().starts_with(['Z', 'X'])),
    }
}

#[test]
fn proposals_logs_summary_line_and_one_in_progress_commit() {
    let f = Fixture::new(
        &[
            t("P1-A-01", "ok-agent.sh"),
            t("P1-B-01", "stray-agent.sh"),
            t("P1-C-01", "fail-agent.sh"),
        ],
        GENERIC,
    );
    let before = f.head();
    // One at a time: each agent's changes are its own (see the parallel
    // case below).
    let out = f.orch(&["dispatch", "--jobs", "1", "P1-A-01", "P1-B-01", "P1-C-01"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert_eq!(
        text.lines().last(),
        Some("P1-A-01=0 P1-B-01=0 P1-C-01=1"),
        "{text}"
    );
    // Plain event lines, not a terminal.
    assert!(text.contains("P1-C-01 exited 1"), "{text}");

    // One commit moved all three to in_progress.
    let log = git(
        f.root(),
        &["log", "--format=%H %s", &format!("{}..HEAD", before.trim())],
    );
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("orch(tasks): todo -> in_progress"), "{log}");
    let body = git(f.root(), &["log", "-1", "--format=%B"]);
    for id in ["P1-A-01", "P1-B-01", "P1-C-01"] {
        assert!(body.contains(&format!("Orch-Task: {id}")), "{body}");
        assert!(
            f.read(&format!(".orchestrator/tickets/{id}.md"))
                .contains("status: in_progress")
        );
    }
    let files = git(f.root(), &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.lines().count(), 3, "{files}");
    git(f.root(), &["fsck", "--no-progress"]);

    // Logs hold stdout and stderr.
    assert!(
        f.read(".orchestrator/logs/P1-A-01.log")
            .contains("test result: ok")
    );
    assert!(
        f.read(".orchestrator/logs/P1-C-01.log")
            .contains("error: the build broke")
    );

    // Harvest again: same proposals, from the saved facts.
    let (code, v) = f.json(&["harvest"]);
    assert_eq!(code, Some(1));
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "pass", "{a}");
    assert_eq!(a["changed"], serde_json::json!(["work/P1-A-01/out.txt"]));
    assert!(
        a["evidence"][0]
            .as_str()
            .is_some_and(|e| e.contains("test result: ok")),
        "{a}"
    );
    let b = task(&v, "P1-B-01");
    assert_eq!(b["proposal"], "partial", "{b}");
    assert_eq!(b["violations"], serde_json::json!(["stray/P1-B-01.txt"]));
    let c = task(&v, "P1-C-01");
    assert_eq!(c["proposal"], "fail", "{c}");
    assert_eq!(c["exit_code"], 1);
    let report = v["report"].as_str().expect("report path");
    let md = f.read(report);
    assert!(md.starts_with("# Dispatch run "), "{md}");
    assert!(md.contains("## P1-B-01: partial"), "{md}");
    assert!(md.contains("`stray/P1-B-01.txt`"), "{md}");
    // Nothing recorded without --record; tickets untouched by harvest.
    assert!(!f.read(".orchestrator/ledger.md").contains("P1-A-01"));
    // `orch status` says the results wait to be recorded.
    let status = stdout(&f.orch(&["status"]));
    let line = status
        .lines()
        .find(|l| l.starts_with("P1-C-01"))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(
        line.contains("agent ended in dispatch run") && line.contains("--record` records it"),
        "{line}"
    );
}

#[test]
fn record_writes_the_ledger_through_transitions_once() {
    let f = Fixture::new(
        &[t("P1-A-01", "ok-agent.sh"), t("P1-C-01", "fail-agent.sh")],
        GENERIC,
    );
    let (code, v) = f.json(&["dispatch", "G1", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["summary"], "P1-A-01=0 P1-C-01=1");
    assert!(v["run"].as_str().is_some_and(|r| r.ends_with("-G1")), "{v}");
    assert_eq!(v["records"].as_array().map(Vec::len), Some(2), "{v}");
    let ledger = f.read(".orchestrator/ledger.md");
    assert!(ledger.contains("| P1-A-01 |"), "{ledger}");
    assert!(ledger.contains("| pass |"), "{ledger}");
    assert!(ledger.contains("| fail |"), "{ledger}");
    assert!(ledger.contains("orch dispatch run"), "{ledger}");
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: done")
    );
    assert!(
        f.read(".orchestrator/tickets/P1-C-01.md")
            .contains("status: failed")
    );
    let subjects = git(f.root(), &["log", "--format=%s"]);
    assert!(
        subjects.contains("orch(P1-A-01): in_progress -> done"),
        "{subjects}"
    );
    assert!(
        subjects.contains("orch(P1-C-01): in_progress -> failed"),
        "{subjects}"
    );
    // A second harvest --record records nothing again.
    let head = f.head();
    let (_, v) = f.json(&["harvest", "--record"]);
    assert_eq!(v["records"].as_array().map(Vec::len), Some(0), "{v}");
    assert_eq!(f.head(), head);
    assert!(
        f.read(v["report"].as_str().expect("report"))
            .contains("- Recorded: pass")
    );
    // The program lints clean afterwards.
    let lint = f.orch(&["lint"]);
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{}{}",
        stdout(&lint),
        stderr(&lint)
    );
}

#[test]
fn refusals_start_nothing_and_write_nothing() {
    let mut blocked = t("P1-D-01", "ok-agent.sh");
    blocked.deps = "P1-A-01";
    let mut cardless = t("P1-E-01", "ok-agent.sh");
    cardless.card = false;
    let mut ticketless = t("P1-H-01", "ok-agent.sh");
    ticketless.status = None;
    let mut wide = t("P1-F-01", "ok-agent.sh");
    wide.scope = Some("work/**");
    let mut running = t("P1-G-01", "ok-agent.sh");
    running.status = Some("in_progress");
    running.scope = Some("shared/**");
    let mut shared = t("P1-S-01", "ok-agent.sh");
    shared.scope = Some("shared/x/**");
    let mut set_aside = t("P1-B-01", "ok-agent.sh");
    set_aside.status = Some("blocked");
    // Groups of their own: overlapping scopes in one group is a lint error,
    // which refuses every dispatch (below).
    for (task, g) in [
        (&mut blocked, "G2"),
        (&mut cardless, "G3"),
        (&mut wide, "G4"),
        (&mut running, "G5"),
        (&mut shared, "G6"),
        (&mut ticketless, "G7"),
        (&mut set_aside, "G8"),
    ] {
        task.group = g;
    }
    let f = Fixture::new(
        &[
            t("P1-A-01", "ok-agent.sh"),
            blocked,
            cardless,
            wide,
            running,
            shared,
            ticketless,
            set_aside,
        ],
        GENERIC,
    );
    let head = f.head();
    for (args, says) in [
        (&["P1-D-01"][..], "waits on `P1-A-01`"),
        (&["P1-E-01"][..], "has no card"),
        (&["P1-H-01"][..], "no Dispatch Ticket"),
        (&["P1-A-01", "P1-F-01"][..], "can touch `work/P1-A-01/"),
        (&["P1-S-01"][..], "`P1-G-01`, in progress,"),
        (&["P1-G-01"][..], "is `in_progress`"),
        (
            &["P1-B-01"][..],
            "`orch unblock P1-B-01 --reason \"<why>\"` first",
        ),
        (&["P9-NOPE-01"][..], "neither a task nor a group"),
    ] {
        let out = f.orch(&[&["dispatch"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("nothing was started") || says.contains("neither"));
    }
    // --dry-run refuses the same way.
    let out = f.orch(&["dispatch", "--dry-run", "P1-D-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(f.head(), head);
    assert_eq!(f.status(), "", "nothing written");
    assert!(!f.root().join(".orchestrator/runs").exists());
    assert!(
        std::fs::read_dir(f.root().join(".orchestrator/logs"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0
    );
}

#[test]
fn dry_run_prints_quoted_argv_and_a_prompt_runs_no_shell() {
    let mut a = t("P1-A-01", "ok-agent.sh");
    a.goal = "Fix it $(touch pwned); it's done";
    // Backticks in a card's text are code spans; put some in the template.
    let config = format!(
        "{GENERIC}  prompt: \"Use ${{skill}} to execute {{task}} (`touch pwned2`): {{goal}}\"\n"
    );
    let f = Fixture::new(&[a], &config);
    let head = f.head();
    let out = f.orch(&["dispatch", "--dry-run", "P1-A-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("P1-A-01: agents/P1-A-01.sh P1-A-01 'Use $development-implementer to execute P1-A-01 (`touch pwned2`): Fix it $(touch pwned)"),
        "{text}"
    );
    assert!(text.contains("it'\\''s done"), "{text}");
    assert_eq!(f.head(), head);
    assert_eq!(f.status(), "");

    let out = f.orch(&["dispatch", "P1-A-01"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(!f.root().join("pwned").exists());
    assert!(!f.root().join("pwned2").exists());
    let log = f.read(".orchestrator/logs/P1-A-01.log");
    assert!(
        log.contains("$(touch pwned)") && log.contains("`touch pwned2`"),
        "{log}"
    );
}

#[test]
fn a_timeout_kills_the_agent_and_its_child() {
    let f = Fixture::new(&[t("P1-A-01", "hang-agent.sh")], GENERIC);
    let started = Instant::now();
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--timeout", "2s"]);
    let took = started.elapsed();
    assert_eq!(code, Some(1), "{v}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "fail", "{a}");
    assert_eq!(a["timed_out"], true);
    assert_eq!(a["killed"], "timeout");
    assert_eq!(v["summary"], "P1-A-01=143");
    let log = f.read(".orchestrator/logs/P1-A-01.log");
    let pid: u32 = log
        .lines()
        .find_map(|l| l.strip_prefix("child="))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no child pid in {log}"));
    assert!(gone(pid), "the agent's child {pid} survived");
}

#[test]
fn an_idle_agent_is_killed() {
    let f = Fixture::new(&[t("P1-A-01", "quiet-agent.sh")], GENERIC);
    let started = Instant::now();
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--idle-timeout", "1s"]);
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(code, Some(1));
    let a = task(&v, "P1-A-01");
    assert_eq!(a["killed"], "idle", "{a}");
    assert_eq!(a["proposal"], "fail");
    assert!(
        f.read(".orchestrator/logs/P1-A-01.log")
            .contains("thinking")
    );
}

#[test]
fn stdin_is_dev_null() {
    let f = Fixture::new(&[t("P1-A-01", "stdin-agent.sh")], GENERIC);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--timeout", "10s"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(f.read(".orchestrator/logs/P1-A-01.log"), "stdin: EOF\n");
}

#[test]
fn codex_failed_turn_at_exit_zero_is_a_fail() {
    let f = Fixture::new(&[t("P1-A-01", "codex-failed-turn.sh")], CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["exit_code"], 0);
    assert_eq!(a["proposal"], "fail", "{a}");
    assert!(
        a["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("turn.failed: stream disconnected")),
        "{a}"
    );
    // Stderr went to the log too; the JSONL is kept whole.
    let log = f.read(".orchestrator/logs/P1-A-01.log");
    assert!(log.contains("\"turn.failed\"") && log.contains("progress goes to stderr"));
}

#[test]
fn codex_file_changes_with_absolute_paths_and_the_last_message() {
    let f = Fixture::new(&[tc("P1-A-01", "codex-file-change.sh")], CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(
        a["changed"],
        serde_json::json!(["docs/notes.md", "work/P1-A-01/main.rs"]),
        "{a}"
    );
    assert_eq!(a["violations"], serde_json::json!(["docs/notes.md"]));
    assert_eq!(a["proposal"], "partial");
    assert_eq!(a["checks"][0]["exit_code"], 0, "{a}");
    assert!(
        a["evidence"][0]
            .as_str()
            .is_some_and(|e| e == "last message: Added main.rs; cargo test passes."),
        "{a}"
    );
    let run = v["run"].as_str().expect("run");
    assert!(
        f.root()
            .join(format!(".orchestrator/runs/{run}/P1-A-01.last-message.md"))
            .is_file()
    );
}

#[test]
fn two_hundred_megabytes_stream_to_the_log_in_flat_memory() {
    let f = Fixture::new(&[t("P1-A-01", "loud-agent.sh")], GENERIC);
    let mut child = Command::new(env!("CARGO_BIN_EXE_orch"))
        .current_dir(f.root())
        .env("HOME", f.root())
        .args([
            "dispatch",
            "P1-A-01",
            "--format",
            "json",
            "--timeout",
            "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn orch");
    let pid = child.id();
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let len = std::fs::metadata(f.root().join(".orchestrator/logs/P1-A-01.log"))
        .expect("log")
        .len();
    assert_eq!(len, 200 * 1024 * 1024 + "start\n".len() as u64);
    // Far below the 200 MiB printed (a debug build's baseline included).
    assert!(peak_kb < 64 * 1024, "orch peaked at {peak_kb} kB");
}

#[test]
fn jobs_bounds_concurrency() {
    let ids = ["P1-A-01", "P1-B-01", "P1-C-01", "P1-D-01"];
    let f = Fixture::new(&ids.map(|id| t(id, "mark-agent.sh")), GENERIC);
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let marks: PathBuf = elsewhere.path().join("marks.txt");
    let run = |jobs: &str, sleep: &str| {
        let _ = std::fs::remove_file(&marks);
        let started = Instant::now();
        let out = orch()
            .current_dir(f.root())
            .env("HOME", f.root())
            .env("ORCH_TEST_MARKS", &marks)
            .env("ORCH_TEST_SLEEP", sleep)
            .args(["dispatch", "--no-commit", "--jobs", jobs])
            .args(ids)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        (
            started.elapsed(),
            std::fs::read_to_string(&marks).unwrap_or_default(),
        )
    };
    // Four agents sleeping 1 s, four at once: about as long as one.
    let (took, _) = run("4", "1");
    assert!(took < Duration::from_millis(2800), "took {took:?}");
    // Reset the tickets --no-commit moved, then one at a time: never two open.
    git(f.root(), &["checkout", "--", ".orchestrator/tickets"]);
    let (_, marks) = run("1", "0.1");
    let lines: Vec<&str> = marks.lines().collect();
    assert_eq!(lines.len(), 8, "{marks}");
    for pair in lines.chunks(2) {
        let id = pair[0].strip_prefix("start ").expect("a start");
        assert_eq!(pair[1], format!("end {id}"), "{marks}");
    }
}

#[test]
fn sigterm_stops_every_agent_as_ctrl_c_does() {
    let f = Fixture::new(&[t("P1-A-01", "hang-agent.sh")], GENERIC);
    let out = f.dispatch_then_signal(&["P1-A-01"], "TERM");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("interrupted"), "{}", stdout(&out));
    let pid = f.agent_child("P1-A-01").expect("pid");
    assert!(gone(pid), "{pid} survived");
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: in_progress")
    );
}

#[test]
fn ctrl_c_stops_every_agent_and_leaves_the_tasks_in_progress() {
    let f = Fixture::new(
        &[t("P1-A-01", "hang-agent.sh"), t("P1-B-01", "hang-agent.sh")],
        GENERIC,
    );
    let out = f.dispatch_then_signal(&["P1-A-01", "P1-B-01"], "INT");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("interrupted"), "{text}");
    for id in ["P1-A-01", "P1-B-01"] {
        let pid = f.agent_child(id).expect("pid");
        assert!(gone(pid), "{pid} survived");
        assert!(
            f.read(&format!(".orchestrator/tickets/{id}.md"))
                .contains("status: in_progress")
        );
    }
    let report = text
        .lines()
        .find_map(|l| l.strip_prefix("report: "))
        .expect("report line");
    let md = f.read(report);
    assert!(md.contains("- Interrupted: yes"), "{md}");
    assert!(md.contains("stays `in_progress`"), "{md}");

    // `orch status` explains the tasks left in progress.
    let run = std::path::Path::new(report)
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("run id")
        .to_string();
    let status = stdout(&f.orch(&["status"]));
    for id in ["P1-A-01", "P1-B-01"] {
        let line = status
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} in {status}"));
        assert!(
            line.contains(&format!("interrupted in dispatch run {run}"))
                && line.contains(&format!("`orch record {id} --result partial --evidence"))
                && line.contains(&format!("`orch block {id} --reason")),
            "{line}"
        );
    }
    // Dispatch printed the same complete commands.
    assert!(
        text.contains(&format!("  P1-B-01: `orch record P1-B-01 --result partial --evidence \"dispatch run {run} did not finish it;")),
        "{text}"
    );
    let (code, v) = f.json(&["status"]);
    assert_eq!(code, Some(0));
    let a = v["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == "P1-A-01"))
        .expect("P1-A-01");
    assert_eq!(
        a["last_run"],
        serde_json::json!({"run": run, "state": "interrupted", "report": format!(".orchestrator/runs/{run}.md")})
    );
    let show = stdout(&f.orch(&["show", "P1-B-01"]));
    assert!(
        show.contains("  last run:     interrupted in dispatch run"),
        "{show}"
    );

    // A run file as an orch killed mid-run leaves it: no end written.
    let facts_path = format!(".orchestrator/runs/{run}.json");
    let mut facts: serde_json::Value =
        serde_json::from_str(&f.read(&facts_path)).expect("run facts");
    facts["interrupted"] = serde_json::json!(false);
    facts["ended"] = serde_json::Value::Null;
    for t in facts["tasks"].as_array_mut().expect("tasks") {
        t["state"] = serde_json::json!("running");
        t["killed"] = serde_json::Value::Null;
    }
    std::fs::write(f.root().join(&facts_path), facts.to_string()).expect("write facts");
    let status = stdout(&f.orch(&["status"]));
    assert!(
        status.contains(&format!("dispatch run {run} never ended")),
        "{status}"
    );
    // A run file that is not one orch wrote is skipped, not fatal.
    std::fs::write(f.root().join(".orchestrator/runs/zz.json"), "{not json").expect("write");
    assert_eq!(f.orch(&["status"]).status.code(), Some(0));

    // The command the status line gives runs as it is.
    let line = status
        .lines()
        .find(|l| l.starts_with("P1-A-01"))
        .expect("P1-A-01's line")
        .to_string();
    let record = line
        .split('`')
        .find(|c| c.starts_with("orch record P1-A-01"))
        .expect("a record command");
    let bin = Path::new(env!("CARGO_BIN_EXE_orch"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ran = Command::new("sh")
        .args(["-c", record])
        .current_dir(f.root())
        .env("PATH", path)
        .env("HOME", f.root())
        .output()
        .expect("sh");
    assert!(ran.status.success(), "{record}: {}", stderr(&ran));
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: partial")
    );
}

#[test]
fn parallel_generic_runs_share_what_no_scope_explains() {
    let f = Fixture::new(
        &[t("P1-A-01", "ok-agent.sh"), t("P1-B-01", "stray-agent.sh")],
        GENERIC,
    );
    let (_, v) = f.json(&["dispatch", "P1-A-01", "P1-B-01"]);
    // In-scope changes go to their owner, whatever the timing.
    let a = task(&v, "P1-A-01");
    assert!(
        !a["changed"]
            .as_array()
            .is_some_and(|c| c.iter().any(|p| p == "work/P1-B-01/out.txt")),
        "{a}"
    );
    // The stray write is B's for sure, and A's only if they overlapped.
    let b = task(&v, "P1-B-01");
    assert_eq!(b["proposal"], "partial", "{b}");
    if a["proposal"] == "partial" {
        assert!(
            a["notes"][0]
                .as_str()
                .is_some_and(|n| n.contains("`P1-B-01`")),
            "{a}"
        );
    }
}
