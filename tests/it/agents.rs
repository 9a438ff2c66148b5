//! Every agent's stream through its adapter, with stand-in agents from
//! `testdata/agents/` replaying the real formats (codex `exec --json`,
//! Claude Code `stream-json`, Gemini CLI `stream-json`): per case, the
//! proposal, the figures (tokens, cost) and the ledger row. The presets'
//! default commands run against stand-in `codex`, `claude` and `gemini`
//! programs (`testdata/agents/bin/`) that check their argv.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::dispatch::{CODEX, Fixture, T, stderr, stdout, t, task, tc};
use crate::util::git;

const CLAUDE: &str = "agent:\n  isolate: none\n  command: [\"agents/{task}.sh\", \"{task}\", \"{prompt}\"]\n  adapter: claude\n";
const GEMINI: &str = "agent:\n  isolate: none\n  command: [\"agents/{task}.sh\", \"{task}\", \"{prompt}\"]\n  adapter: gemini\n";

/// One task `P1-A-01` with the check `cargo test`, run by `agent`.
fn one(agent: &'static str, config: &str) -> Fixture {
    Fixture::new(&[tc("P1-A-01", agent)], config)
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn has(list: &Value, part: &str) -> bool {
    strs(list).iter().any(|s| s.contains(part))
}

/// The ledger row of a task, as written.
fn ledger_row(f: &Fixture, id: &str) -> String {
    f.read(".orchestrator/ledger.md")
        .lines()
        .find(|l| l.starts_with(&format!("| {id} |")))
        .unwrap_or_else(|| panic!("no ledger row for {id}"))
        .to_string()
}

// ---------------------------------------------------------------------------
// codex `exec --json` (issue 15)

#[test]
fn codex_edits_made_through_shell_commands_are_seen() {
    let f = one("codex-shell-edits.sh", CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(
        a["changed"],
        json!(["README.md", "work/P1-A-01/lib.rs"]),
        "no file_change item, yet both are seen: {a}"
    );
    assert_eq!(a["violations"], json!(["README.md"]));
    assert_eq!(a["attribution"], "exact");
    assert!(
        has(&a["reasons"], "changed `README.md` outside its scope"),
        "{a}"
    );
    assert_eq!(
        a["usage"],
        json!({"input_tokens": 1200, "cached_input_tokens": 1000, "output_tokens": 80})
    );
}

#[test]
fn codex_without_a_completed_turn_is_no_pass() {
    let f = one("codex-no-turn-completed.sh", CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["exit_code"], 0);
    assert_eq!(a["proposal"], "fail", "{a}");
    assert!(
        has(
            &a["reasons"],
            "the turn never completed (no `turn.completed`)"
        ),
        "{a}"
    );
    assert!(has(&a["reasons"], "check `cargo test` not seen run"), "{a}");
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| fail |") && row.contains("turn never completed"),
        "{row}"
    );
    // A failed task unlocks nothing.
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: failed")
    );
}

#[test]
fn codex_retried_error_then_completed_turn_passes_and_records_with_its_report() {
    let f = one("codex-retried-error.sh", CODEX);
    let before = f.head();
    let out = f.orch(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("tokens: 22857 tokens in (20736 cached), 250 out"),
        "{text}"
    );
    // The agent's own change is left in the work tree, and said so.
    assert!(
        text.contains("uncommitted (left for review): work/P1-A-01/out.txt"),
        "{text}"
    );
    let (_, v) = f.json(&["harvest"]);
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "pass", "{a}");
    // The evidence of a pass names what proved it.
    assert_eq!(
        a["evidence"][0], "check `cargo test` passed (exit 0)",
        "{a}"
    );
    assert!(
        has(
            &a["reasons"],
            "exit 0, turn completed, every check seen passing (`cargo test`), 1 changed file(s), all inside its scope"
        ),
        "{a}"
    );
    assert!(has(&a["notes"], "Reconnecting... 1/5"), "{a}");
    assert_eq!(a["reported"]["result"], "pass");
    assert_eq!(a["checks"][0]["reported"], "pass");

    // The ledger row: evidence, tokens, the committed report beside the log.
    let run = v["run"].as_str().expect("run").to_string();
    let row = ledger_row(&f, "P1-A-01");
    for part in [
        "| pass |",
        "check `cargo test` passed (exit 0)",
        "22857 tokens in (20736 cached), 250 out",
        &format!("report `.orchestrator/runs/{run}.md`"),
    ] {
        assert!(row.contains(part), "{part} in {row}");
    }
    // The agent's unverified item, naming the task, in Unverified Items.
    let ledger = f.read(".orchestrator/ledger.md");
    assert!(
        ledger.contains(
            "| P1-A-01: behaviour on a slow disk | low: a slower first run | qa-test-engineer |"
        ),
        "{ledger}"
    );
    // The run report is committed with the record and carries the evidence.
    let files = git(f.root(), &["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        files.contains(&format!(".orchestrator/runs/{run}.md")),
        "{files}"
    );
    let committed = git(
        f.root(),
        &["show", &format!("HEAD:.orchestrator/runs/{run}.md")],
    );
    assert!(
        committed.contains("  - check `cargo test` passed (exit 0)"),
        "{committed}"
    );
    assert!(committed.contains("- Recorded: pass"), "{committed}");
    assert!(
        committed.contains("- Tokens and cost: 22857 tokens in"),
        "{committed}"
    );
    assert_eq!(
        git(
            f.root(),
            &["rev-list", "--count", &format!("{}..HEAD", before.trim())]
        )
        .trim(),
        "2",
        "one in_progress commit, one record"
    );
    git(f.root(), &["fsck", "--no-progress"]);
    // `orch status --format json`: the task's tokens, and the totals.
    let (_, s) = f.json(&["status"]);
    let t = s["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == "P1-A-01"))
        .expect("task");
    assert_eq!(t["last_run"]["usage"]["input_tokens"], 22857, "{t}");
    assert_eq!(s["usage"]["output_tokens"], 250, "{s}");
    // Paths in the run file are repository-relative.
    let facts: Value =
        serde_json::from_str(&f.read(&format!(".orchestrator/runs/{run}.json"))).expect("facts");
    assert_eq!(
        facts["tasks"][0]["events"]["paths"],
        json!(["work/P1-A-01/out.txt"])
    );
    assert_eq!(facts["tasks"][0]["log"], ".orchestrator/logs/P1-A-01.log");
    let root = f.root().to_string_lossy().into_owned();
    let text = f.read(&format!(".orchestrator/runs/{run}.json"));
    assert!(
        !text.contains(&root),
        "an absolute path in the run file: {text}"
    );
    assert!(
        !committed.contains(&root),
        "an absolute path in the report: {committed}"
    );
    assert!(
        has(&facts["tasks"][0]["argv"], "{repo}/.orchestrator/runs/"),
        "{facts}"
    );
}

#[test]
fn codex_object_kind_with_a_diff_and_unknown_events() {
    let f = one("codex-object-kind.sh", CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01"]);
    let a = task(&v, "P1-A-01");
    assert_eq!(a["changed"], json!(["work/P1-A-01/lib.rs"]), "{a}");
    // No completion report: a note, not a downgrade.
    assert_eq!(a["proposal"], "pass", "{a}");
    assert_eq!(code, Some(0));
    assert!(has(&a["notes"], "no completion report"), "{a}");
}

#[test]
fn codex_two_mib_event_line_is_read_not_dropped() {
    let f = one("codex-huge-line.sh", CODEX);
    let (_, v) = f.json(&["dispatch", "P1-A-01"]);
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(a["violations"], json!(["docs/big.md"]), "{a}");
    assert!(
        has(&a["notes"], "1 event line(s) held a string too long"),
        "{a}"
    );
    let run = v["run"].as_str().expect("run");
    let facts: Value =
        serde_json::from_str(&f.read(&format!(".orchestrator/runs/{run}.json"))).expect("facts");
    // The 2 MiB line's file change is in the events themselves.
    assert!(
        has(&facts["tasks"][0]["events"]["paths"], "docs/big.md"),
        "{facts}"
    );
    assert_eq!(facts["tasks"][0]["events"]["malformed"], 0);
}

#[test]
fn changes_an_agent_commits_itself_are_seen() {
    let f = one("codex-commits.sh", CODEX);
    let before = f.head();
    let (_, v) = f.json(&["dispatch", "P1-A-01"]);
    let a = task(&v, "P1-A-01");
    assert_ne!(f.head(), before);
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(
        a["committed"],
        json!(["docs/notes.md", "work/P1-A-01/lib.rs"]),
        "{a}"
    );
    assert_eq!(a["violations"], json!(["docs/notes.md"]), "{a}");
    assert!(
        has(
            &a["notes"],
            "it committed `docs/notes.md`, `work/P1-A-01/lib.rs` itself"
        ),
        "{a}"
    );
}

#[test]
fn a_check_not_seen_is_named_and_keeps_the_task_from_passing() {
    let mut a = tc("P1-A-01", "codex-object-kind.sh");
    a.checks = "`cargo test`, `cargo clippy`";
    let f = Fixture::new(&[a], CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01"]);
    assert_eq!(code, Some(1));
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(
        strs(&a["reasons"]),
        ["exit 0", "check `cargo clippy` not seen run"],
        "{a}"
    );
}

#[test]
fn live_progress_shows_what_the_agent_is_doing() {
    let f = one("codex-shell-edits.sh", CODEX);
    let out = f.orch(&["dispatch", "P1-A-01"]);
    let text = stdout(&out);
    for line in [
        "P1-A-01 $ /bin/bash -lc 'sed -i s/old/new/ work/P1-A-01/lib.rs'",
        "P1-A-01 $ /bin/bash -lc 'cargo test' (exit 0)",
        "P1-A-01 turn completed",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
}

#[test]
fn codex_answer_breaking_the_schema_is_partial_naming_why() {
    let f = one("codex-bad-answer.sh", CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(a["verified"], "partial", "{a}");
    assert!(a["reported"].is_null(), "{a}");
    for p in [
        "$.result: \"done\" is not one of",
        "$.evidence: expected array, found string",
        "$.checks[0]: `outcome` is missing",
        "$: `confidence` is not allowed",
        "$: `next_action` is missing",
    ] {
        assert!(has(&a["report_problems"], p), "{p} in {a}");
    }
    assert!(
        has(&a["reasons"], "its completion report breaks the schema"),
        "{a}"
    );
    // What orch saw still stands: the check passed, the edit is in scope.
    assert_eq!(a["checks"][0]["exit_code"], 0, "{a}");
    assert_eq!(a["violations"], json!([]), "{a}");
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| partial |") && row.contains("completion report breaks the schema"),
        "{row}"
    );
}

#[test]
fn codex_claim_contradicting_what_orch_saw_never_raises_the_verdict() {
    let f = one("codex-contradiction.sh", CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(a["verified"], "partial", "{a}");
    assert_eq!(a["reported"]["result"], "pass", "{a}");
    assert_eq!(a["checks"][0]["exit_code"], 101, "{a}");
    assert_eq!(a["checks"][0]["reported"], "pass", "{a}");
    assert!(
        has(&a["reasons"], "check `cargo test` failed (exit 101)"),
        "{a}"
    );
    for c in [
        "it claims check `cargo test` passed; orch saw it exit 101",
        "it reports `pass`; orch verified `partial`",
    ] {
        assert!(has(&a["contradictions"], c), "{c} in {a}");
    }
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| partial |") && row.contains("the agent reported pass"),
        "{row}"
    );
    // Both are shown side by side in the report.
    let report = f.read(v["report"].as_str().expect("report"));
    for line in [
        "- Reported by the agent: pass · verified by orch: partial",
        "- Contradiction: it claims check `cargo test` passed; orch saw it exit 101",
    ] {
        assert!(report.contains(line), "{line} in {report}");
    }
}

#[test]
fn codex_over_its_token_budget_is_stopped_and_fails() {
    let mut a = tc("P1-A-01", "codex-budget.sh");
    a.front = "budget: {tokens: 5000}\n";
    let f = Fixture::new(&[a], CODEX);
    let started = Instant::now();
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert!(started.elapsed() < Duration::from_secs(15), "stopped early");
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["killed"], "budget", "{a}");
    assert_eq!(a["proposal"], "fail", "{a}");
    assert!(
        has(&a["reasons"], "budget 5000; the agent was stopped"),
        "{a}"
    );
    let used = a["usage"]["input_tokens"].as_u64().unwrap_or(0)
        + a["usage"]["output_tokens"].as_u64().unwrap_or(0);
    assert!(used > 5000 && used < 100_000, "{a}");
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| fail |") && row.contains("over budget"),
        "{row}"
    );
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: failed")
    );
}

#[test]
fn codex_request_user_input_waits_on_a_person_in_status_report_and_ledger() {
    let f = one("codex-needs-input.sh", CODEX);
    let question = "May I change the public API of the sync module?";
    let child = Command::new(env!("CARGO_BIN_EXE_orch"))
        .current_dir(f.root())
        .env("HOME", f.root())
        .args(["dispatch", "P1-A-01", "--record"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn orch");
    // While it runs, `orch status` says it waits on a person.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = false;
    while Instant::now() < deadline && !seen {
        let (_, s) = f.json(&["status"]);
        seen = s["tasks"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["id"] == "P1-A-01"))
            .is_some_and(|t| t["last_run"]["waiting_on_person"][0] == question);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(seen, "status never showed the question");
    let out = child.wait_with_output().expect("wait");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("P1-A-01 waiting on a person: {question}")),
        "{text}"
    );
    let (_, v) = f.json(&["harvest"]);
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(a["needs_input"], json!([question]), "{a}");
    assert!(
        has(&a["reasons"], &format!("waiting on a person: {question}")),
        "{a}"
    );
    let md = f.read(v["report"].as_str().expect("report"));
    assert!(
        md.contains(&format!("- Waiting on a person: {question}")),
        "{md}"
    );
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| partial |") && row.contains(&format!("waiting on a person: {question}")),
        "{row}"
    );
    // After the run, status still says who it waits on.
    let status = stdout(&f.orch(&["status"]));
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("P1-A-01") && l.contains("waiting on a person (May I change")),
        "{status}"
    );
}

#[test]
fn a_claimed_pass_on_a_failed_turn_stays_fail() {
    let f = one("codex-failed-turn-claims-pass.sh", CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["exit_code"], 0, "{a}");
    assert_eq!(a["proposal"], "fail", "{a}");
    assert_eq!(a["verified"], "fail", "{a}");
    assert_eq!(a["reported"]["result"], "pass", "{a}");
    assert!(
        has(
            &a["reasons"],
            "turn.failed: stream disconnected before completion"
        ),
        "{a}"
    );
    assert!(
        has(
            &a["contradictions"],
            "it reports `pass`; orch verified `fail`"
        ),
        "{a}"
    );
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| fail |") && row.contains("the agent reported pass"),
        "{row}"
    );
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: failed")
    );
}

#[test]
fn a_claimed_pass_with_an_out_of_scope_change_stays_partial() {
    let f = one("claude-out-of-scope.sh", CLAUDE);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(a["verified"], "partial", "{a}");
    assert_eq!(a["reported"]["result"], "pass", "{a}");
    assert_eq!(a["violations"], json!(["README.md"]), "{a}");
    assert_eq!(a["checks"][0]["exit_code"], 0, "{a}");
    for c in [
        "it reports `pass`; orch verified `partial`",
        "it reports `pass` but changed `README.md` outside its scope",
    ] {
        assert!(has(&a["contradictions"], c), "{c} in {a}");
    }
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| partial |") && row.contains("outside its scope"),
        "{row}"
    );
}

#[test]
fn tasks_overlapping_in_the_shared_tree_are_shared_never_exact() {
    let tasks = [
        tc("P1-A-01", "codex-slow.sh"),
        tc("P1-B-01", "codex-slow.sh"),
    ];
    let f = Fixture::new(&tasks, CODEX);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "P1-B-01", "--jobs", "2"]);
    assert_eq!(code, Some(0), "{v}");
    let run = v["run"].as_str().expect("run").to_string();
    let facts: Value =
        serde_json::from_str(&f.read(&format!(".orchestrator/runs/{run}.json"))).expect("facts");
    let ms = |i: usize, k: &str| facts["tasks"][i][k].as_u64().expect("times");
    assert!(
        ms(0, "started_ms") < ms(1, "ended_ms") && ms(1, "started_ms") < ms(0, "ended_ms"),
        "they ran at the same time: {facts}"
    );
    let check = |v: &Value| {
        for (id, other) in [("P1-A-01", "P1-B-01"), ("P1-B-01", "P1-A-01")] {
            let a = task(v, id);
            assert_eq!(a["attribution"], "shared", "{a}");
            // Each keeps its own change; the other's, in the other's scope, is left to it.
            assert_eq!(a["changed"], json!([format!("work/{id}/out.txt")]), "{a}");
            assert_eq!(a["proposal"], "pass", "{a}");
            assert!(!a.to_string().contains(&format!("work/{other}/")), "{a}");
        }
    };
    check(&v);
    // Judged again from the run file, the same.
    let (_, again) = f.json(&["harvest", &run]);
    check(&again);
    let report = f.read(v["report"].as_str().expect("report"));
    assert_eq!(
        report
            .matches("(shared: other agents ran in its folder at the same time")
            .count(),
        2,
        "{report}"
    );
    assert!(!report.contains("exact"), "{report}");

    // One at a time, each ran alone: exact.
    let f = Fixture::new(&tasks, CODEX);
    let (_, v) = f.json(&["dispatch", "P1-A-01", "P1-B-01", "--jobs", "1"]);
    for id in ["P1-A-01", "P1-B-01"] {
        assert_eq!(task(&v, id)["attribution"], "exact", "{v}");
    }
}

#[test]
fn an_agents_own_escape_sequences_reach_live_progress_escaped() {
    let f = one("codex-hostile-text.sh", CODEX);
    let out = f.orch(&["dispatch", "P1-A-01", "--record"]);
    let all = [out.stdout.clone(), out.stderr.clone()].concat();
    let raw = crate::untrusted::raw_controls(&all);
    assert!(raw.is_empty(), "raw {raw:?} in:\n{}", stdout(&out));
    let text = stdout(&out);
    let shown = "\\u{1b}]0;pwned\\u{7}\\u{1b}[31mred\\u{1b}[2J\\u{202e}evil";
    for line in [
        format!("P1-A-01 $ echo {shown}"),
        format!("P1-A-01 $ echo {shown} (exit 0)"),
        format!("P1-A-01 waiting on a person: Proceed {shown}?"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    assert!(text.contains(&format!("Reconnecting {shown}")), "{text}");
    // The ledger row holds no raw control character either.
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        crate::untrusted::raw_controls(row.as_bytes()).is_empty(),
        "{row:?}"
    );
}

#[test]
fn two_dispatch_runs_at_once_in_the_shared_tree_are_shared_never_exact() {
    let tasks = [
        tc("P1-A-01", "codex-slow.sh"),
        tc("P1-B-01", "codex-slow.sh"),
    ];
    let f = Fixture::new(&tasks, CODEX);
    let spawn = |id: &str| {
        Command::new(env!("CARGO_BIN_EXE_orch"))
            .current_dir(f.root())
            .env("HOME", f.root())
            .args(["dispatch", id, "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn orch")
    };
    let a = spawn("P1-A-01");
    std::thread::sleep(Duration::from_millis(300));
    let b = spawn("P1-B-01");
    for (child, id) in [(a, "P1-A-01"), (b, "P1-B-01")] {
        let out = child.wait_with_output().expect("wait");
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        let t = task(&v, id);
        assert_eq!(t["attribution"], "shared", "{t}");
        // The other run's transition commits are not this agent's changes.
        assert_eq!(t["changed"], json!([format!("work/{id}/out.txt")]), "{t}");
        assert_eq!(t["proposal"], "pass", "{t}");
    }
}

// ---------------------------------------------------------------------------
// Refusals before anything runs (issues 13 and 15)

#[test]
fn a_missing_or_unexecutable_agent_program_is_refused_with_nothing_committed() {
    let config = "agent:\n  isolate: none\n  command: [\"agents/nope.sh\", \"{task}\", \"{prompt}\"]\n  adapter: generic\n";
    let f = Fixture::new(&[t("P1-A-01", "ok-agent.sh")], config);
    let head = f.head();
    for args in [
        &["dispatch", "--dry-run", "P1-A-01"][..],
        &["dispatch", "P1-A-01"],
    ] {
        let out = f.orch(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("`P1-A-01`: `agents/nope.sh` does not exist"),
            "{}",
            stderr(&out)
        );
        assert!(
            stdout(&out).is_empty(),
            "no 127 and no fail row: {}",
            stdout(&out)
        );
    }
    // Not executable, and not on PATH.
    std::fs::write(f.root().join("agents/nope.sh"), "#!/bin/sh\n").expect("write");
    let out = f.orch(&["dispatch", "P1-A-01"]);
    assert!(
        stderr(&out).contains("is not an executable file"),
        "{}",
        stderr(&out)
    );
    let config = "agent:\n  isolate: none\n  command: [\"no-such-agent-on-path\", \"{prompt}\"]\n";
    std::fs::write(f.root().join(".orchestrator/config.yaml"), config).expect("config");
    git(f.root(), &["commit", "-qam", "config"]);
    let head2 = f.head();
    let out = f.orch(&["dispatch", "P1-A-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not on PATH"), "{}", stderr(&out));
    assert_eq!(f.head(), head2);
    assert_ne!(head, head2);
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: todo")
    );
    assert!(!f.root().join(".orchestrator/runs").exists());
}

#[test]
fn a_program_lint_reports_errors_for_is_refused_naming_them() {
    let mut b = t("P1-B-01", "ok-agent.sh");
    b.scope = Some("work/**");
    let f = Fixture::new(&[t("P1-A-01", "ok-agent.sh"), b], crate::dispatch::GENERIC);
    let head = f.head();
    for args in [
        &["dispatch", "--dry-run", "P1-A-01"][..],
        &["dispatch", "P1-A-01"],
    ] {
        let out = f.orch(args);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("`orch lint` reports"), "{err}");
        assert!(err.contains(".orchestrator/cards/P1-"), "{err}");
        assert!(err.contains("[scope-overlap]"), "{err}");
    }
    assert_eq!(f.head(), head);
    assert_eq!(f.status(), "");
}

#[test]
fn a_placeholder_value_that_reads_as_an_option_is_refused() {
    let mut a = t("P1-A-01", "ok-agent.sh");
    a.goal = "--dangerously-bypass-approvals-and-sandbox now";
    let config = "agent:\n  isolate: none\n  command: [\"agents/{task}.sh\", \"{prompt}\"]\n  adapter: generic\n  prompt: \"{goal}\"\n";
    let f = Fixture::new(&[a], config);
    let head = f.head();
    let out = f.orch(&["dispatch", "P1-A-01"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("the value of `{prompt}` starts with `-`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.head(), head);
}

// ---------------------------------------------------------------------------
// The presets' default commands, against stand-ins that check their argv

#[test]
fn the_default_command_is_the_codex_preset_and_works() {
    let f = Fixture::new(&[tc("P1-A-01", "ok-agent.sh")], "");
    let out = f.orch_path(&["dispatch", "--dry-run", "P1-A-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("P1-A-01: codex exec --json --sandbox workspace-write --cd "),
        "{text}"
    );
    assert!(!text.contains("dangerously"), "{text}");
    let out = f.orch_path(&["dispatch", "P1-A-01"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn the_claude_preset_runs_with_its_flags() {
    let f = Fixture::new(
        &[tc("P1-A-01", "ok-agent.sh")],
        "agent:\n  isolate: none\n  preset: claude\n",
    );
    let (code, v) = {
        let out = f.orch_path(&["dispatch", "P1-A-01", "--format", "json"]);
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        (out.status.code(), v)
    };
    assert_eq!(code, Some(0), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "pass", "{a}");
    assert_eq!(a["usage"]["cost_usd"], 0.01);
}

#[test]
fn the_gemini_preset_runs_with_the_report_in_its_prompt() {
    let f = Fixture::new(
        &[tc("P1-A-01", "ok-agent.sh")],
        "agent:\n  isolate: none\n  preset: gemini\n",
    );
    let out = f.orch_path(&["dispatch", "P1-A-01", "--format", "json"]);
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(out.status.code(), Some(0), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "pass", "{a}");
    assert_eq!(a["reported"]["result"], "pass", "{a}");
}

// ---------------------------------------------------------------------------
// Claude Code `stream-json` (issue 18)

#[test]
fn claude_success_edits_usage_cost_and_structured_output() {
    let f = one("claude-success.sh", CLAUDE);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(0), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "pass", "{a}");
    assert_eq!(a["changed"], json!(["work/P1-A-01/main.rs"]));
    assert_eq!(
        a["usage"],
        json!({"input_tokens": 4050, "cached_input_tokens": 3000, "output_tokens": 150, "cost_usd": 0.0421})
    );
    assert_eq!(v["usage"]["cost_usd"], 0.0421);
    assert_eq!(a["reported"]["unverified"][0]["owner"], "qa-test-engineer");
    let row = ledger_row(&f, "P1-A-01");
    assert!(row.contains("| pass |") && row.contains("$0.0421"), "{row}");
    assert!(
        f.read(".orchestrator/ledger.md")
            .contains("| P1-A-01: main.rs on Windows | low: path separators | qa-test-engineer |")
    );
}

#[test]
fn claude_is_error_fails_even_when_the_subtype_says_success() {
    let f = one("claude-failure.sh", CLAUDE);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1));
    let a = task(&v, "P1-A-01");
    assert_eq!(a["exit_code"], 0);
    assert_eq!(a["proposal"], "fail", "{a}");
    assert!(has(&a["reasons"], "result: success: API Error: 500"), "{a}");
    assert!(ledger_row(&f, "P1-A-01").contains("| fail |"));
}

#[test]
fn claude_answer_breaking_the_schema_is_partial_naming_why() {
    let f = one("claude-bad-answer.sh", CLAUDE);
    let (_, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    for p in [
        "$.result: \"done\" is not one of",
        "$.evidence: expected array, found string",
        "$: `mood` is not allowed",
        "$: `checks` is missing",
    ] {
        assert!(has(&a["report_problems"], p), "{p} in {a}");
    }
    assert!(
        has(&a["reasons"], "its completion report breaks the schema"),
        "{a}"
    );
    assert!(ledger_row(&f, "P1-A-01").contains("| partial |"));
}

#[test]
fn claude_claim_contradicting_what_orch_saw_never_raises_the_verdict() {
    let f = one("claude-contradiction.sh", CLAUDE);
    let (_, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(a["verified"], "partial");
    assert_eq!(a["reported"]["result"], "pass");
    assert_eq!(a["checks"][0]["exit_code"], 101);
    assert!(
        has(
            &a["contradictions"],
            "it claims check `cargo test` passed; orch saw it exit 101"
        ),
        "{a}"
    );
    assert!(
        has(
            &a["contradictions"],
            "it reports `pass`; orch verified `partial`"
        ),
        "{a}"
    );
    assert!(ledger_row(&f, "P1-A-01").contains("| partial |"));
    let report = f.read(v["report"].as_str().expect("report"));
    assert!(
        report.contains("- Reported by the agent: pass · verified by orch: partial"),
        "{report}"
    );
    assert!(
        report.contains("- Contradiction: it claims check `cargo test` passed"),
        "{report}"
    );
}

#[test]
fn claude_over_its_token_budget_is_stopped_and_fails() {
    let mut a = tc("P1-A-01", "claude-budget.sh");
    a.front = "budget: {tokens: 2000}\n";
    let f = Fixture::new(&[a], CLAUDE);
    let started = Instant::now();
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert!(started.elapsed() < Duration::from_secs(15), "stopped early");
    assert_eq!(code, Some(1));
    let a = task(&v, "P1-A-01");
    assert_eq!(a["killed"], "budget", "{a}");
    assert_eq!(a["proposal"], "fail", "{a}");
    assert!(
        has(&a["reasons"], "budget 2000; the agent was stopped"),
        "{a}"
    );
    assert!(
        a["usage"]["input_tokens"]
            .as_u64()
            .is_some_and(|t| t > 1000),
        "{a}"
    );
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| fail |") && row.contains("over budget"),
        "{row}"
    );
}

#[test]
fn claude_permission_denials_wait_on_a_person() {
    let f = one("claude-needs-input.sh", CLAUDE);
    let (_, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(
        a["needs_input"],
        json!(["permission denied: Bash(npm install left-pad)"])
    );
    assert!(
        has(
            &a["reasons"],
            "waiting on a person: permission denied: Bash(npm install left-pad)"
        ),
        "{a}"
    );
    let report = f.read(v["report"].as_str().expect("report"));
    assert!(
        report.contains("- Waiting on a person: permission denied"),
        "{report}"
    );
    let status = stdout(&f.orch(&["status"]));
    let line = status
        .lines()
        .find(|l| l.starts_with("P1-A-01"))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(
        line.contains("waiting on a person (permission denied"),
        "{line}"
    );
    // The ledger row says who it waits on.
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| partial |")
            && row.contains("waiting on a person: permission denied: Bash(npm install left-pad)"),
        "{row}"
    );
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: partial")
    );
}

// ---------------------------------------------------------------------------
// Gemini CLI `stream-json` (issue 18)

#[test]
fn gemini_success_with_the_report_in_its_final_message() {
    let f = one("gemini-success.sh", GEMINI);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(0), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "pass", "{a}");
    assert_eq!(a["changed"], json!(["work/P1-A-01/out.txt"]));
    assert_eq!(
        a["usage"],
        json!({"input_tokens": 5000, "cached_input_tokens": 4000, "output_tokens": 200})
    );
    assert_eq!(a["reported"]["evidence"], json!(["cargo test: 3 passed"]));
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| pass |") && row.contains("5000 tokens in (4000 cached), 200 out"),
        "{row}"
    );
}

#[test]
fn gemini_error_result_fails() {
    let f = one("gemini-failure.sh", GEMINI);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1));
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "fail", "{a}");
    assert!(has(&a["reasons"], "exit 1"), "{a}");
    assert!(has(&a["reasons"], "result: Quota exceeded"), "{a}");
    assert!(ledger_row(&f, "P1-A-01").contains("| fail |"));
}

#[test]
fn gemini_over_budget_at_its_end_fails() {
    let mut a = tc("P1-A-01", "gemini-over-budget.sh");
    a.front = "budget: {tokens: 100000}\n";
    let f = Fixture::new(&[a], GEMINI);
    let (_, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "fail", "{a}");
    assert!(
        has(
            &a["reasons"],
            "over budget: 250000 tokens used, budget 100000"
        ),
        "{a}"
    );
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| fail |") && row.contains("240000 tokens in"),
        "{row}"
    );
}

#[test]
fn gemini_asking_a_person_shows_as_waiting_while_it_runs() {
    let f = one("gemini-needs-input.sh", GEMINI);
    let child = Command::new(env!("CARGO_BIN_EXE_orch"))
        .current_dir(f.root())
        .env("HOME", f.root())
        .args(["dispatch", "P1-A-01", "--idle-timeout", "4s", "--record"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn orch");
    // While it runs, `orch status` says it waits on a person.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    while Instant::now() < deadline {
        let (_, s) = f.json(&["status"]);
        let t = s["tasks"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["id"] == "P1-A-01").cloned())
            .unwrap_or_default();
        if t["last_run"]["waiting_on_person"][0] == "Which database should the sync use?" {
            seen = t.to_string();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!seen.is_empty(), "status never showed the question");
    let out = child.wait_with_output().expect("wait");
    let text = stdout(&out);
    assert!(
        text.contains("P1-A-01 waiting on a person: Which database should the sync use?"),
        "{text}"
    );
    let report = text
        .lines()
        .find_map(|l| l.strip_prefix("report: "))
        .expect("report");
    let md = f.read(report);
    assert!(
        md.contains("- Waiting on a person: Which database should the sync use?"),
        "{md}"
    );
    // Stopped while it waited: a fail, whose row names the question.
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| fail |")
            && row.contains("waiting on a person: Which database should the sync use?"),
        "{row}"
    );
}

#[test]
fn gemini_answer_breaking_the_schema_is_partial_naming_why() {
    let f = one("gemini-bad-answer.sh", GEMINI);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert!(a["reported"].is_null(), "{a}");
    for p in [
        "$.result: \"finished\" is not one of",
        "$.evidence: expected array, found string",
        "$: `checks` is missing",
        "$: `mood` is not allowed",
    ] {
        assert!(has(&a["report_problems"], p), "{p} in {a}");
    }
    assert!(
        has(&a["reasons"], "its completion report breaks the schema"),
        "{a}"
    );
    assert_eq!(a["checks"][0]["exit_code"], 0, "{a}");
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| partial |") && row.contains("1000 tokens in, 100 out"),
        "{row}"
    );
}

#[test]
fn gemini_claim_contradicting_what_orch_saw_never_raises_the_verdict() {
    let f = one("gemini-contradiction.sh", GEMINI);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "partial", "{a}");
    assert_eq!(a["verified"], "partial", "{a}");
    assert_eq!(a["reported"]["result"], "pass", "{a}");
    assert_eq!(a["checks"][0]["exit_code"], 101, "{a}");
    for c in [
        "it claims check `cargo test` passed; orch saw it exit 101",
        "it reports `pass`; orch verified `partial`",
    ] {
        assert!(has(&a["contradictions"], c), "{c} in {a}");
    }
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| partial |") && row.contains("the agent reported pass"),
        "{row}"
    );
    let report = f.read(v["report"].as_str().expect("report"));
    assert!(
        report.contains("- Reported by the agent: pass · verified by orch: partial"),
        "{report}"
    );
}

// ---------------------------------------------------------------------------
// Budgets in US dollars, and in config.yaml (issue 18)

#[test]
fn the_claude_preset_passes_a_usd_budget_from_the_card_or_the_config() {
    for (front, config, usd) in [
        (
            "budget: {usd: 0.5}\n",
            "agent:\n  isolate: none\n  preset: claude\n",
            "0.5",
        ),
        (
            "",
            "agent:\n  isolate: none\n  preset: claude\n  budget:\n    usd: 0.25\n",
            "0.25",
        ),
        // The card's budget overrides the config's.
        (
            "budget: {usd: 1.5}\n",
            "agent:\n  isolate: none\n  preset: claude\n  budget:\n    usd: 0.25\n",
            "1.5",
        ),
    ] {
        let mut a = tc("P1-A-01", "ok-agent.sh");
        a.front = front;
        let f = Fixture::new(&[a], config);
        let out = f.orch_path(&["dispatch", "P1-A-01", "--format", "json"]);
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        // The stand-in claude exits 64 on an argv it does not expect.
        assert_eq!(out.status.code(), Some(0), "{config}: {v}");
        let a = task(&v, "P1-A-01");
        assert_eq!(a["proposal"], "pass", "{a}");
        let run = v["run"].as_str().expect("run");
        let facts: Value = serde_json::from_str(&f.read(&format!(".orchestrator/runs/{run}.json")))
            .expect("facts");
        let argv = strs(&facts["tasks"][0]["argv"]);
        let at = argv
            .iter()
            .position(|a| a == "--max-budget-usd")
            .unwrap_or_else(|| panic!("no --max-budget-usd in {argv:?}"));
        assert_eq!(argv[at + 1], usd, "{front} {config}");
        assert_eq!(facts["tasks"][0]["budget"]["usd"].to_string(), usd);
    }
}

#[test]
fn a_reported_cost_past_the_usd_budget_in_config_fails() {
    let config = format!("{CLAUDE}  budget:\n    usd: 0.5\n");
    let f = Fixture::new(&[tc("P1-A-01", "claude-cost.sh")], &config);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["proposal"], "fail", "{a}");
    assert_eq!(a["reported"]["result"], "pass", "{a}");
    assert_eq!(a["usage"]["cost_usd"], 0.75, "{a}");
    assert!(
        has(&a["reasons"], "over budget: $0.7500 spent, budget $0.5"),
        "{a}"
    );
    let row = ledger_row(&f, "P1-A-01");
    assert!(
        row.contains("| fail |") && row.contains("over budget") && row.contains("$0.7500"),
        "{row}"
    );
    // Within budget, the same run passes.
    let config = format!("{CLAUDE}  budget:\n    usd: 1\n");
    let f = Fixture::new(&[tc("P1-A-01", "claude-cost.sh")], &config);
    let (code, v) = f.json(&["dispatch", "P1-A-01"]);
    assert_eq!(code, Some(0), "{v}");
}

#[test]
fn a_token_budget_in_config_stops_the_agent() {
    let config = format!("{CLAUDE}  budget:\n    tokens: 2000\n");
    let f = Fixture::new(&[tc("P1-A-01", "claude-budget.sh")], &config);
    let started = Instant::now();
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert!(started.elapsed() < Duration::from_secs(15), "stopped early");
    assert_eq!(code, Some(1), "{v}");
    let a = task(&v, "P1-A-01");
    assert_eq!(a["killed"], "budget", "{a}");
    assert_eq!(a["proposal"], "fail", "{a}");
    assert!(
        has(&a["reasons"], "budget 2000; the agent was stopped"),
        "{a}"
    );
    assert!(ledger_row(&f, "P1-A-01").contains("| fail |"));
}

// ---------------------------------------------------------------------------
// The written command sheet runs by hand (issue 15)

#[test]
fn the_written_sheet_runs_by_hand_with_the_default_command() {
    // IDs that differ only in `.` and `-` share one group.
    let mut a = tc("P1-A-1", "ok-agent.sh");
    a.scope = Some("work/P1-A-1/**");
    let mut b = tc("P1-A.1", "ok-agent.sh");
    b.scope = Some("work/P1-A.1/**");
    let tasks: [T; 2] = [a, b];
    let f = Fixture::new(&tasks, "");
    let out = f.orch(&["sheet", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let group = stdout(&out)
        .lines()
        .find(|l| l.contains("P1-A-1") && l.contains("P1-A.1"))
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("one group: {}", stdout(&out)));
    let sheet = f.read(&format!(".orchestrator/sheets/{group}.md"));
    assert!(!sheet.contains("'$PWD'"), "{sheet}");
    let script = crate::sheet::bash_block(&sheet);
    // Run it by hand from a fresh clone of logs/ and runs/: neither exists.
    let _ = std::fs::remove_dir_all(f.root().join(".orchestrator/logs"));
    let ran = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(f.root())
        .env("PATH", crate::dispatch::stand_in_path())
        .output()
        .expect("bash");
    assert!(ran.status.success(), "{}", stderr(&ran));
    // The stand-in codex checked its argv ({repo} expanded, the last
    // message and the schema where they belong) and exits 64 otherwise.
    assert_eq!(
        stdout(&ran).trim(),
        "P1-A-1=0 P1-A.1=0",
        "{}",
        f.read(".orchestrator/logs/P1-A-1.log")
    );
    for id in ["P1-A-1", "P1-A.1"] {
        assert!(
            f.read(&format!(".orchestrator/logs/{id}.log"))
                .contains("\"turn.completed\"")
        );
        assert!(f.root().join(format!("work/{id}/out.txt")).is_file());
        assert!(
            f.read(&format!(".orchestrator/runs/{group}/{id}.last-message.md"))
                .contains("\"result\":\"pass\"")
        );
    }
}

#[test]
fn a_card_budget_lint_cannot_read_is_reported_where_it_is_written() {
    let mut a = tc("P1-A-01", "ok-agent.sh");
    a.front = "budget: {tokens: lots, dollars: 2}\n";
    let f = Fixture::new(&[a], crate::dispatch::GENERIC);
    let out = f.orch(&["lint", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = v["diagnostics"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == "frontmatter-invalid"))
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        d["message"],
        "budget `tokens: lots` is not a whole number of tokens"
    );
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(5), Some(9))
    );
}
