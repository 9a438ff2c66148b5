//! The views read right (issue 14, item 6): `status`'s READY column says
//! `waiting`, never `blocked`; block and cancel reasons show in `status`
//! and `show`; `show` gives the task's transition history; `--quiet`
//! prints only problems; `orch new` and `orch split` keep the plan's
//! inline code. Real git repositories, through the binary.

use serde_json::Value;

use crate::dispatch::{Fixture, GENERIC, stderr, stdout, t};
use crate::util::git;

fn ok(f: &Fixture, args: &[&str]) -> String {
    let out = f.orch(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "orch {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// The row of `id` in `orch status`, split on runs of spaces: ID, STATUS,
/// READY, OWNER, GROUP, then the note's words.
fn row(status: &str, id: &str) -> Vec<String> {
    status
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no row {id} in\n{status}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn program() -> Fixture {
    let mut waits = t("P1-B-01", "ok-agent.sh");
    waits.deps = "P1-A-01";
    let mut set_aside = t("P1-C-01", "ok-agent.sh");
    set_aside.group = "G2";
    let mut dropped = t("P1-D-01", "ok-agent.sh");
    dropped.group = "G3";
    Fixture::new(
        &[t("P1-A-01", "ok-agent.sh"), waits, set_aside, dropped],
        GENERIC,
    )
}

#[test]
fn status_says_waiting_and_gives_the_reasons_show_gives_the_history() {
    let f = program();
    ok(
        &f,
        &["block", "P1-C-01", "--reason", "the relay image is missing"],
    );
    ok(
        &f,
        &[
            "cancel",
            "P1-D-01",
            "--reason",
            "the guide moves to the wiki",
        ],
    );
    let status = ok(&f, &["status"]);
    assert_eq!(row(&status, "P1-A-01")[2], "ready", "{status}");
    assert_eq!(row(&status, "P1-B-01")[2], "waiting", "{status}");
    for l in status.lines().skip(1) {
        let cells: Vec<&str> = l.split_whitespace().collect();
        assert_ne!(cells.get(2), Some(&"blocked"), "READY says blocked: {l}");
    }
    assert!(
        status.contains("blocked: the relay image is missing"),
        "{status}"
    );
    assert!(
        status.contains("cancelled: the guide moves to the wiki"),
        "{status}"
    );
    let (_, v) = f.json(&["status"]);
    let task = |id: &str| -> Value {
        v["tasks"]
            .as_array()
            .and_then(|a| a.iter().find(|t| t["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("no {id} in {v}"))
    };
    assert_eq!(task("P1-C-01")["reason"], "the relay image is missing");
    assert_eq!(task("P1-D-01")["reason"], "the guide moves to the wiki");
    assert!(task("P1-A-01").get("reason").is_none(), "{v}");

    // show: the reason, and the history from git, oldest first.
    let show = ok(&f, &["show", "P1-C-01"]);
    assert!(
        show.contains("reason:       the relay image is missing"),
        "{show}"
    );
    assert!(show.contains("history:"), "{show}");
    assert!(show.contains("orch(P1-C-01): todo -> blocked"), "{show}");
    ok(
        &f,
        &["unblock", "P1-C-01", "--reason", "the image is rebuilt"],
    );
    let (_, v) = f.json(&["show", "P1-C-01"]);
    let subjects: Vec<&str> = v["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|c| c["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(
        subjects,
        [
            "orch(P1-C-01): todo -> blocked",
            "orch(P1-C-01): blocked -> todo"
        ],
        "{v}"
    );
    assert_eq!(v["history"][1]["reason"], "the image is rebuilt", "{v}");
    // Unblocked, it has no reason to be set aside.
    assert!(v.get("reason").is_none(), "{v}");
    let status = ok(&f, &["status"]);
    assert!(!status.contains("the relay image is missing"), "{status}");
    // A task no transition touched has an empty history.
    let show = ok(&f, &["show", "P1-A-01"]);
    assert!(
        show.contains("history:      no transitions recorded"),
        "{show}"
    );
}

#[test]
fn quiet_prints_only_problems() {
    let f = program();
    let status = ok(&f, &["status", "--quiet"]);
    assert!(!status.contains("tasks:"), "{status}");
    assert!(ok(&f, &["status"]).contains("4 tasks:"));
    // A clean scope check says nothing.
    ok(&f, &["start", "P1-A-01"]);
    std::fs::create_dir_all(f.root().join("work/P1-A-01")).expect("mkdir");
    std::fs::write(f.root().join("work/P1-A-01/a.txt"), "a\n").expect("write");
    assert_eq!(ok(&f, &["scope", "check", "--quiet"]), "");
    std::fs::write(f.root().join("stray.txt"), "x\n").expect("write");
    let out = f.orch(&["scope", "check", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("outside  stray.txt"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("1 outside"), "{}", stdout(&out));
    std::fs::remove_file(f.root().join("stray.txt")).expect("rm");
    std::fs::remove_dir_all(f.root().join("work")).expect("rm");
    ok(
        &f,
        &[
            "record",
            "P1-A-01",
            "--result",
            "pass",
            "--evidence",
            "by hand",
        ],
    );
    // A dispatch where every task passed says only what it left for
    // review; nothing ready, next says nothing; nothing to write, nor does
    // replan --apply.
    assert_eq!(
        ok(&f, &["dispatch", "P1-B-01", "--record", "--quiet"]),
        "uncommitted (left for review): work/P1-B-01/out.txt\n"
    );
    std::fs::remove_dir_all(f.root().join("work")).expect("rm");
    assert!(
        f.read(".orchestrator/tickets/P1-B-01.md")
            .contains("status: done")
    );
    ok(&f, &["block", "P1-C-01", "--reason", "later", "--quiet"]);
    ok(&f, &["block", "P1-D-01", "--reason", "later", "--quiet"]);
    assert_eq!(ok(&f, &["next", "--quiet"]), "");
    let head = f.head();
    assert_eq!(ok(&f, &["replan", "--apply", "--quiet"]), "");
    assert_eq!(ok(&f, &["sheet", "--quiet"]), "");
    assert_eq!(f.head(), head);
}

#[test]
fn new_and_split_keep_the_plans_inline_code() {
    let mut coded = t("P1-A-01", "ok-agent.sh");
    coded.goal = "Add the `--json` flag to `orch status`";
    coded.status = Some("in_progress");
    let f = Fixture::new(&[coded, t("P1-B-01", "ok-agent.sh")], GENERIC);
    // Done criteria with code spans and an escaped pipe.
    let plan = f.read(".orchestrator/plan.md").replace(
        "| P1-A-01 passes |",
        "| `cargo test status` passes and `a \\| b` parses |",
    );
    std::fs::write(f.root().join(".orchestrator/plan.md"), plan).expect("plan");
    std::fs::remove_file(f.root().join(".orchestrator/cards/P1-B-01.md")).expect("rm");
    std::fs::remove_file(f.root().join(".orchestrator/tickets/P1-B-01.md")).expect("rm");
    let plan = f.read(".orchestrator/plan.md").replace(
        "| P1-B-01 | Build the thing |",
        "| P1-B-01 | Read `config.yaml` with `serde-saphyr` |",
    );
    std::fs::write(f.root().join(".orchestrator/plan.md"), plan).expect("plan");
    git(f.root(), &["add", "-A"]);
    git(f.root(), &["commit", "-q", "-m", "code spans"]);

    ok(&f, &["new", "ticket", "P1-B-01"]);
    ok(&f, &["new", "card", "P1-B-01"]);
    let ticket = f.read(".orchestrator/tickets/P1-B-01.md");
    assert!(
        ticket.contains("- Objective: Read `config.yaml` with `serde-saphyr`\n"),
        "{ticket}"
    );
    assert!(
        ticket.contains("- Exit Criteria: P1-B-01 passes\n"),
        "{ticket}"
    );
    let card = f.read(".orchestrator/cards/P1-B-01.md");
    assert!(
        card.contains("- Goal: Read `config.yaml` with `serde-saphyr`\n"),
        "{card}"
    );

    ok(
        &f,
        &[
            "record",
            "P1-A-01",
            "--result",
            "partial",
            "--evidence",
            "the flag parses",
        ],
    );
    ok(
        &f,
        &[
            "split",
            "P1-A-01",
            "--into",
            "Print `status` as JSON",
            "--into",
            "Document it",
        ],
    );
    let plan = f.read(".orchestrator/plan.md");
    assert!(
        plan.contains("| P1-A-01.1 | Print `status` as JSON | development-implementer | - | Part of P1-A-01: `cargo test status` passes and `a \\| b` parses |"),
        "{plan}"
    );
    assert!(
        plan.contains("| P1-A-01.2 | Document it | development-implementer | - | Part of P1-A-01: `cargo test status` passes and `a \\| b` parses |"),
        "{plan}"
    );
    // The parent's own row is left as it was.
    assert!(
        plan.contains("| P1-A-01 | Add the `--json` flag to `orch status` |"),
        "{plan}"
    );
    ok(&f, &["new", "ticket", "P1-A-01.1"]);
    let ticket = f.read(".orchestrator/tickets/P1-A-01.1.md");
    assert!(
        ticket.contains(
            "- Exit Criteria: Part of P1-A-01: `cargo test status` passes and `a \\| b` parses\n"
        ),
        "{ticket}"
    );
}
