//! Retry as a first-class path: a `failed` task whose root-cause task
//! (owner skill `debug-troubleshooter`) passed is offered by `orch next`
//! and taken by `orch dispatch`, with no start/block/unblock dance; a root
//! cause that fails, or is cancelled, spawns no root-cause task of its own.
//! Stand-in agents from `testdata/agents/` in real git repositories.

use crate::dispatch::{Fixture, GENERIC, stderr, stdout, t};
use crate::util::{git, repo_path};

/// A program whose `P1-A-01` failed under dispatch, and whose root-cause
/// task `replan --apply` added, with a ticket and a card, committed.
fn failed_with_root_cause() -> (Fixture, String) {
    let f = Fixture::new(&[t("P1-A-01", "fail-agent.sh")], GENERIC);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(1), "{v}");
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: failed")
    );
    // Not retryable yet: nothing found the cause.
    let (_, next) = f.json(&["next"]);
    assert_eq!(next["retry"], serde_json::json!([]), "{next}");
    let out = f.orch(&["dispatch", "P1-A-01", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("no root-cause task it depends on has passed"),
        "{}",
        stderr(&out)
    );

    let out = f.orch(&["replan", "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = f.read(".orchestrator/plan.md");
    let row = plan
        .lines()
        .find(|l| l.contains("| debug-troubleshooter |"))
        .unwrap_or_else(|| panic!("no root-cause row in\n{plan}"));
    let rc = row.split('|').nth(1).expect("id").trim().to_string();
    write_root_cause(&f, &rc);
    (f, rc)
}

/// A ticket and a card for the root-cause task `id`, its agent ok-agent.
fn write_root_cause(f: &Fixture, id: &str) {
    let o = f.root().join(".orchestrator");
    std::fs::write(
        o.join(format!("tickets/{id}.md")),
        format!(
            "---\nkind: ticket\nid: {id}\nstatus: todo\n---\n\n## Dispatch Ticket: {id}\n- Objective: Find the root cause of the P1-A-01 failure\n- Owner Skill: debug-troubleshooter\n- Inputs: The failing run's log.\n- Commands/Checks: `cargo test`\n- Expected Artifacts: `work/{id}/out.txt`\n- Risks: none\n- Exit Criteria: The cause is in the ledger\n"
        ),
    )
    .expect("ticket");
    std::fs::write(
        o.join(format!("cards/{id}.md")),
        format!(
            "---\nkind: card\nid: {id}\ngroup: G2\n---\n\n## Codex Execution Card: {id}\n- Skill: debug-troubleshooter\n- Goal: Find the root cause of the P1-A-01 failure\n- Allowed Scope:\n  - Files/paths: `work/{id}/**`\n  - Prohibited areas: none\n- Commands to run: `make`\n- Tests/checks to run: none\n- Evidence to capture: The test summary line.\n- Completion criteria: The cause is in the ledger\n"
        ),
    )
    .expect("card");
    std::fs::copy(
        repo_path("testdata/agents/ok-agent.sh"),
        f.root().join(format!("agents/{id}.sh")),
    )
    .expect("agent");
    git(f.root(), &["add", "-A"]);
    git(f.root(), &["commit", "-q", "-m", "root-cause task"]);
}

fn lint_clean(f: &Fixture) {
    let out = f.orch(&["lint"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn a_failed_task_whose_root_cause_passed_is_offered_and_dispatched_again() {
    let (f, rc) = failed_with_root_cause();
    lint_clean(&f);
    // The root cause passes; record says the failed task can be retried.
    let out = f.orch(&["dispatch", &rc]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = f.orch(&[
        "record",
        &rc,
        "--result",
        "pass",
        "--evidence",
        "a stale lock file",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("P1-A-01 can be retried") && said.contains("`orch dispatch P1-A-01`"),
        "{said}"
    );
    assert!(
        f.read(".orchestrator/ledger.md")
            .contains("| retry P1-A-01 (root cause found) |"),
        "{}",
        f.read(".orchestrator/ledger.md")
    );
    // `orch next` offers it as a retry, in both forms.
    let out = f.orch(&["next"]);
    let next = stdout(&out);
    assert!(
        next.contains("P1-A-01") && next.contains(&format!("retry: root cause `{rc}` passed")),
        "{next}"
    );
    let (_, next) = f.json(&["next"]);
    assert_eq!(next["retry"][0]["id"], "P1-A-01", "{next}");
    assert_eq!(next["retry"][0]["retry_after"], rc.as_str(), "{next}");
    // `status` says so in its READY column; `show` in its status line.
    let status = stdout(&f.orch(&["status"]));
    let line = status
        .lines()
        .find(|l| l.starts_with("P1-A-01 "))
        .expect("a row");
    assert!(line.contains(" retry "), "{status}");
    assert!(
        line.contains("`orch dispatch P1-A-01` retries it"),
        "{status}"
    );
    assert!(status.contains("1 to retry"), "{status}");
    let show = stdout(&f.orch(&["show", "P1-A-01"]));
    assert!(
        show.contains(&format!("failed (retry: root cause `{rc}` passed)")),
        "{show}"
    );
    // replan says the same, with the same command, and so does the lead's
    // prime.
    let replan = stdout(&f.orch(&["replan"]));
    assert!(replan.contains("orch dispatch P1-A-01"), "{replan}");
    let prime = stdout(&f.orch(&["prime"]));
    assert!(
        prime.contains(&format!(
            "P1-A-01 failed, its root cause `{rc}` passed: retry it (`orch dispatch P1-A-01`)"
        )),
        "{prime}"
    );

    // dispatch takes it straight from `failed`: one commit failed ->
    // in_progress, then the agent's work recorded.
    std::fs::copy(
        repo_path("testdata/agents/ok-agent.sh"),
        f.root().join("agents/P1-A-01.sh"),
    )
    .expect("agent");
    git(f.root(), &["add", "-A"]);
    git(f.root(), &["commit", "-q", "-m", "a working agent"]);
    let (code, v) = f.json(&["dispatch", "P1-A-01", "--record"]);
    assert_eq!(code, Some(0), "{v}");
    let subjects = git(f.root(), &["log", "--format=%s"]);
    assert!(
        subjects.contains("orch(P1-A-01): failed -> in_progress"),
        "{subjects}"
    );
    assert!(
        subjects.contains("orch(P1-A-01): in_progress -> done"),
        "{subjects}"
    );
    assert!(
        f.read(".orchestrator/tickets/P1-A-01.md")
            .contains("status: done")
    );
    let (_, next) = f.json(&["next"]);
    assert_eq!(next["retry"], serde_json::json!([]), "{next}");
    lint_clean(&f);
}

#[test]
fn a_root_cause_that_fails_or_is_cancelled_spawns_no_root_cause_of_its_own() {
    let (f, rc) = failed_with_root_cause();
    std::fs::copy(
        repo_path("testdata/agents/fail-agent.sh"),
        f.root().join(format!("agents/{rc}.sh")),
    )
    .expect("agent");
    git(f.root(), &["add", "-A"]);
    git(f.root(), &["commit", "-q", "-m", "a failing root cause"]);
    let out = f.orch(&["dispatch", &rc]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = f.orch(&[
        "record",
        &rc,
        "--result",
        "fail",
        "--evidence",
        "could not reproduce",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("gets no root-cause task of its own"),
        "{said}"
    );
    // Nothing to retry: the cause was not found.
    let (_, next) = f.json(&["next"]);
    assert_eq!(next["retry"], serde_json::json!([]), "{next}");

    // replan adds no task: both decisions are a human's.
    let plan = f.read(".orchestrator/plan.md");
    let head = f.head();
    let (_, v) = f.json(&["replan"]);
    let decisions = v["decisions"].as_array().expect("decisions");
    let on = |id: &str| {
        decisions
            .iter()
            .find(|d| d["task"] == id && d["kind"] == "root-cause")
            .unwrap_or_else(|| panic!("no root-cause decision on {id}: {v}"))
    };
    assert_eq!(on(&rc)["needs_human"], true, "{v}");
    assert!(on(&rc)["new_task"].is_null(), "{v}");
    assert_eq!(on("P1-A-01")["needs_human"], true, "{v}");
    assert!(on("P1-A-01")["new_task"].is_null(), "{v}");
    let out = f.orch(&["replan", "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(f.read(".orchestrator/plan.md"), plan, "no row added");
    assert_eq!(f.head(), head, "nothing committed");

    // Cancelled, the root cause still spawns nothing.
    let out = f.orch(&["cancel", &rc, "--reason", "the relay is gone"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let head = f.head();
    let (_, v) = f.json(&["replan"]);
    let d = v["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .find(|d| d["task"] == "P1-A-01")
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    assert_eq!(d["needs_human"], true, "{v}");
    assert!(d["new_task"].is_null(), "{v}");
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("cancelled")),
        "{v}"
    );
    let out = f.orch(&["replan", "--apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(f.head(), head, "nothing committed");
    lint_clean(&f);
}
