//! `orch mcp` end to end, in real temporary git repositories holding a copy
//! of the example program: the official MCP Python SDK as the client
//! (`testdata/mcp/client.py`, skipped with a note where PyPI `mcp` is not
//! installed), and a fuzz of the tool inputs over stdio with a small
//! JSON-RPC client of our own (always run).
//!
//! `ORCH_FUZZ_CASES=N` sets the fuzz cases (default: a short run for CI).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::util::{copy_tree, external, git, git_output, orch, python_has, repo_path};

/// The environment of git, orch and the client: the machine's own git
/// config shut out, a fixed identity.
fn isolate(cmd: &mut Command, home: &Path) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("NO_COLOR", "1");
}

/// A repository holding the example program as `.orchestrator/`, committed.
fn example_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    copy_tree(
        &repo_path(".orchestrator.example"),
        &dir.join(".orchestrator"),
    );
    std::fs::write(dir.join("README.md"), "# demo\n").expect("write");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "start"]);
    tmp
}

/// `orch ARGS --format json` in `dir`, parsed.
fn cli_json(dir: &Path, args: &[&str]) -> Value {
    let out = orch()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run orch");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "orch {args:?}: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

const CORE: [&str; 8] = [
    "next",
    "show",
    "status",
    "lint",
    "scope_check",
    "start",
    "record",
    "block",
];

#[test]
fn the_python_sdk_calls_every_core_tool_commits_a_transition_and_sees_edits() {
    if !external("python mcp", python_has("mcp")) {
        return;
    }
    let tmp = example_repo();
    let dir = tmp.path();
    // A change outside every scope in progress, for scope_check to name.
    std::fs::write(dir.join("README.md"), "# demo, edited\n").expect("write");
    let expected = json!({
        "next": cli_json(dir, &["next"]),
        "status": cli_json(dir, &["status"]),
        "show": cli_json(dir, &["show", "P2-CORE-03"]),
        "lint": cli_json(dir, &["lint"]),
        "scope_check": cli_json(dir, &["scope", "check"]),
    });
    let head_before = git(dir, &["rev-parse", "HEAD"]);

    let mut cmd = Command::new("python3");
    cmd.arg(repo_path("testdata/mcp/client.py"))
        .arg(env!("CARGO_BIN_EXE_orch"))
        .arg(dir)
        .current_dir(dir);
    isolate(&mut cmd, dir);
    let out = cmd.output().expect("run python3");
    assert!(
        out.status.success(),
        "the client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("the client prints JSON");

    // initialize and the tool list
    let init = &got["initialize"];
    assert_eq!(init["name"], "orch");
    assert_eq!(init["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(init["tools"], true);
    assert_eq!(init["resources"], true);
    assert!(
        init["instructions"]
            .as_str()
            .unwrap_or("")
            .contains("scope_check")
    );
    let tools = got["tools"].as_object().expect("tools");
    assert_eq!(
        tools.keys().collect::<Vec<_>>(),
        CORE,
        "the core tools, in order"
    );
    for (name, schema) in tools {
        assert_eq!(schema["type"], "object", "{name}");
        assert_eq!(schema["additionalProperties"], false, "{name}");
    }
    assert_eq!(
        tools["record"]["required"],
        json!(["id", "result", "evidence"])
    );
    assert_eq!(
        tools["show"]["properties"]["id"]["pattern"],
        "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    );
    assert_eq!(got["read_only"]["next"], true);
    assert_eq!(got["read_only"]["record"], false);

    // every core view answers the CLI's own JSON, as structured content and
    // as its text
    for (tool, want) in expected.as_object().expect("object") {
        let call = &got["calls"][tool];
        assert_eq!(call["is_error"], false, "{tool}: {call}");
        assert_eq!(&call["structured"], want, "{tool} differs from the CLI");
        let text: Value =
            serde_json::from_str(call["texts"][0].as_str().expect("text")).expect("JSON text");
        assert_eq!(&text, want, "{tool}'s text content");
    }
    assert_eq!(
        got["calls"]["scope_check"]["structured"]["summary"]["outside"],
        1
    );

    // the cards are resources
    let resources: Vec<&str> = got["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for uri in ["orch://plan", "orch://ledger", "orch://cards/P2-CORE-01"] {
        assert!(resources.contains(&uri), "{uri} in {resources:?}");
    }
    assert_eq!(
        got["card"].as_str(),
        Some(
            std::fs::read_to_string(dir.join(".orchestrator/cards/P2-CORE-01.md"))
                .expect("card")
                .as_str()
        )
    );

    // bad calls are tool errors with a code, a message and a help line
    let bad = &got["bad"];
    let error = |case: &str| {
        assert_eq!(bad[case]["is_error"], true, "{case}: {}", bad[case]);
        bad[case]["structured"]["error"].clone()
    };
    assert_eq!(error("climbing_id")["code"], "id-invalid");
    assert!(error("climbing_id")["help"].as_str().is_some());
    let unknown = error("unknown_id");
    assert_eq!(unknown["code"], "task-unknown");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap_or("")
            .contains("did you mean `P2-CORE-01`?"),
        "{unknown}"
    );
    assert_eq!(error("wrong_type")["code"], "invalid-arguments");
    assert!(
        error("wrong_type")["message"]
            .as_str()
            .unwrap_or("")
            .contains("expected a string")
    );
    assert!(
        error("unknown_field")["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field `all`")
    );
    let refused = error("refused");
    assert_eq!(refused["code"], "refused");
    assert_eq!(
        refused["message"],
        "`P2-CORE-03` is `todo`: it cannot move to `done`"
    );
    assert!(
        refused["help"]
            .as_str()
            .unwrap_or("")
            .contains("in_progress")
    );
    assert!(
        bad["unknown_tool"]
            .as_str()
            .unwrap_or("")
            .contains("no tool `no_such_tool`"),
        "{}",
        bad["unknown_tool"]
    );
    assert!(
        bad["climbing_resource"]
            .as_str()
            .unwrap_or("")
            .contains("no resource"),
        "{}",
        bad["climbing_resource"]
    );

    // the transitions are commits, checked with git itself
    let moves = &got["transitions"];
    let mut commits = Vec::new();
    for (step, task, from, to) in [
        ("start", "P2-INFRA-01", "blocked", "in_progress"),
        ("record", "P2-INFRA-01", "in_progress", "done"),
        ("block", "P2-UI-01", "in_progress", "blocked"),
    ] {
        let t = &moves[step]["structured"]["transitions"][0];
        assert_eq!(moves[step]["is_error"], false, "{step}: {}", moves[step]);
        assert_eq!(
            (t["task"].as_str(), t["from"].as_str(), t["to"].as_str()),
            (Some(task), Some(from), Some(to)),
            "{step}"
        );
        assert_eq!(t["branch"], "main");
        commits.push(t["commit"].as_str().expect("a commit").to_string());
    }
    let log = git(
        dir,
        &[
            "log",
            "--format=%H %s",
            &format!("{}..HEAD", head_before.trim()),
        ],
    );
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines,
        [
            format!("{} orch(P2-UI-01): in_progress -> blocked", commits[2]),
            format!("{} orch(P2-INFRA-01): in_progress -> done", commits[1]),
            format!("{} orch(P2-INFRA-01): blocked -> in_progress", commits[0]),
        ]
    );
    let body = git(dir, &["log", "-1", "--format=%B", &commits[2]]);
    assert!(
        body.contains("Orch-Reason: waiting for the design review"),
        "{body}"
    );
    let ledger = git(
        dir,
        &["show", &format!("{}:.orchestrator/ledger.md", commits[1])],
    );
    assert!(ledger.contains("kubectl rollout status: deployment successfully rolled out"));
    let fsck = git_output(dir, &["fsck", "--strict"]);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    // only the files the client edited by hand, and the user's own change
    assert_eq!(
        git(dir, &["status", "--porcelain"]),
        " M .orchestrator/cards/P2-CORE-02.md\n M .orchestrator/plan.md\n M README.md\n"
    );

    // documents edited between calls: the next call sees the edit
    let edit = &got["edit"];
    assert_eq!(
        edit["before"]["structured"]["objective"],
        "Write the offline sync user guide"
    );
    assert_eq!(
        edit["after"]["structured"]["objective"],
        "Write the sync guide, edited while the server ran"
    );
    let broken = &edit["broken_card_start"];
    assert_eq!(broken["is_error"], true);
    assert_eq!(broken["structured"]["error"]["code"], "refused");
    let diagnostic = &broken["structured"]["diagnostics"][0];
    assert_eq!(diagnostic["code"], "glob-invalid", "{broken}");
    assert_eq!(diagnostic["file"], ".orchestrator/cards/P2-CORE-02.md");
    assert_eq!(diagnostic["line"], 10);
    assert!(
        diagnostic["help"]
            .as_str()
            .unwrap_or("")
            .contains("close every bracket")
    );
    let note = &edit["next"]["texts"][1];
    assert!(
        note.as_str().unwrap_or("").contains("1 lint error"),
        "a view warns of lint errors: {}",
        edit["next"]
    );
}

// ------------------------------------------------------------------ fuzzing

/// `orch mcp` with a line-based JSON-RPC client of our own, and a watchdog
/// that kills it if it hangs.
struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    next_id: u64,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orch"));
        cmd.arg("mcp")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        isolate(&mut cmd, dir);
        let mut child = cmd.spawn().expect("start orch mcp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout: ChildStdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            stdin,
            lines,
            next_id: 0,
        };
        let init = server.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "0"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "orch", "{init}");
        server.send_line(
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
        );
        server
    }

    fn send_line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    /// The answer to one request; fails on silence or a closed stdout.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send_line(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        );
        self.answer(id)
    }

    fn answer(&mut self, id: u64) -> Value {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("no answer to request {id}: {e} (did the server die?)"));
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                panic!("the server printed something that is not JSON: {line:.200}");
            };
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every tool name the server knows, then near misses.
const TOOL_NAMES: &[&str] = &[
    "next",
    "show",
    "status",
    "lint",
    "scope_check",
    "start",
    "record",
    "block",
    "sheet",
    "replan",
    "align_docs",
    "dispatch",
    "Next",
    "",
    "../show",
    "show\u{0}",
];

const FIELDS: &[&str] = &[
    "id",
    "ids",
    "result",
    "evidence",
    "next",
    "reason",
    "paths",
    "staged",
    "base",
    "since",
    "jobs",
    "apply",
    "head",
    "targets",
    "all",
    "",
    "__proto__",
];

/// Strings an attacker or a confused model would send.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("P2-CORE-03".to_string()),
        Just("P2-INFRA-01".to_string()),
        Just("P2-UI-01".to_string()),
        Just("G2".to_string()),
        Just("../../etc/passwd".to_string()),
        Just("../.orchestrator/plan".to_string()),
        Just("..".to_string()),
        Just("/etc/passwd".to_string()),
        Just("--write".to_string()),
        Just("--apply".to_string()),
        Just("pass".to_string()),
        Just("fail".to_string()),
        Just("HEAD".to_string()),
        Just("HEAD~999".to_string()),
        Just("P1-\u{202e}10".to_string()),
        Just("line\nbreak\r\u{7}".to_string()),
        Just("x".repeat(1 << 20)),
        Just("P".repeat(5000)),
        ".{0,40}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(1e308)),
        Just(json!(-1)),
        Just(json!(0)),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A tool call: a name, and arguments made of known and unknown fields
/// with values of any type.
fn tool_call() -> impl Strategy<Value = (String, Value)> {
    let name = prop_oneof![
        4 => prop::sample::select(TOOL_NAMES).prop_map(str::to_string),
        1 => ".{0,20}",
    ];
    let args = prop_oneof![
        4 => prop::collection::vec((prop::sample::select(FIELDS), json_value()), 0..5).prop_map(|kv| {
            Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        }),
        1 => json_value(),
    ];
    (name, args)
}

const ERROR_CODES: &[&str] = &[
    "invalid-arguments",
    "id-invalid",
    "task-unknown",
    "refused",
    "no-program",
    "io-error",
    "git-error",
];

#[test]
fn hostile_tool_arguments_get_answers_and_never_end_the_server() {
    let tmp = example_repo();
    let dir = tmp.path();
    let mut server = Server::start(dir, &["--tools", "all"]);

    // Protocol garbage first: each gets an error or nothing, then a ping
    // still answers.
    for line in [
        "not json at all",
        "[]",
        "{}",
        r#"{"jsonrpc":"2.0","id":"x","method":"tools/call"}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":5}}"#,
        r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"show","arguments":[1,2]}}"#,
        r#"{"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"orch://cards/../../../etc/passwd"}}"#,
        r#"{"jsonrpc":"2.0","id":10,"method":"no/such/method"}"#,
    ] {
        server.send_line(line);
        let ping = server.request("ping", json!({}));
        assert!(ping.get("result").is_some(), "ping after {line:?}: {ping}");
    }

    let mut runner = TestRunner::new(Config {
        cases: std::env::var("ORCH_FUZZ_CASES")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(300),
        failure_persistence: None,
        ..Config::default()
    });
    let server = std::cell::RefCell::new(server);
    // (answered, tool errors, protocol errors)
    let seen = std::cell::Cell::new((0, 0, 0));
    runner
        .run(&tool_call(), |(name, arguments)| {
            let mut server = server.borrow_mut();
            let answer = server.request(
                "tools/call",
                json!({"name": name, "arguments": arguments}),
            );
            let (ok, failed, rejected) = seen.get();
            if let Some(result) = answer.get("result") {
                if result["isError"] == true {
                    seen.set((ok, failed + 1, rejected));
                } else {
                    seen.set((ok + 1, failed, rejected));
                }
                let content = result["content"].as_array();
                prop_assert!(content.is_some_and(|c| !c.is_empty()), "{answer}");
                if result["isError"] == true {
                    let code = result["structuredContent"]["error"]["code"].as_str();
                    prop_assert!(
                        code.is_some_and(|c| ERROR_CODES.contains(&c)),
                        "a tool error without a known code (internal-error is a bug): {answer:.2000}"
                    );
                    prop_assert!(result["structuredContent"]["error"]["message"].is_string());
                }
            } else {
                seen.set((ok, failed, rejected + 1));
                let error = &answer["error"];
                prop_assert!(
                    error["code"].is_i64() && error["message"].is_string(),
                    "neither a result nor a JSON-RPC error: {answer:.2000}"
                );
            }
            prop_assert!(server.alive(), "the server ended");
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (ok, failed, rejected) = seen.get();
    eprintln!("fuzz: {ok} answered, {failed} tool errors, {rejected} protocol errors");
    assert!(
        ok > 0 && failed > 0 && rejected > 0,
        "the inputs reach every kind of answer: {ok}, {failed}, {rejected}"
    );
    let mut server = server.into_inner();
    let ping = server.request("ping", json!({}));
    assert!(ping.get("result").is_some(), "{ping}");
    assert!(server.alive());

    // Nothing was written outside the orchestrator folder, and what was
    // written there was committed (transitions) or is a run file.
    let status = git(dir, &["status", "--porcelain", "--untracked-files=all"]);
    for line in status.lines() {
        assert!(
            line[3..].starts_with(".orchestrator/"),
            "the fuzz wrote outside .orchestrator/: {status}"
        );
    }
    let fsck = git_output(dir, &["fsck", "--strict"]);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}
