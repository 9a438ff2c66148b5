//! `orch align-docs` on scripted histories, continued: renames and
//! deletions count as changes on every checklist line, test evidence is
//! charged to the task that made a change (never to one that never ran),
//! a head with no program is reported as such, and `--fix` round trips.

use serde_json::Value;

use crate::align::{Repo, clean_store_change, finding};

/// The messages of every finding with `code`.
fn messages(v: &Value, code: &str) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| d["message"].as_str().expect("message").to_string())
        .collect()
}

/// A commit that adds `src/core/extra.rs` and `deploy/extra.yaml` with
/// every line passing, so the next commit can rename or delete them with
/// `--base HEAD~1` as the range.
fn with_extra_files(r: &Repo) {
    r.write("src/core/extra.rs", "pub fn extra() {}\n");
    r.write("deploy/extra.yaml", "kind: Extra\n");
    r.edit("docs/guide.md", "Add the crate", "Add the `store` crate");
    r.edit("CHANGELOG.md", "## 0.1.0", "## 0.1.1\n- Extra.\n\n## 0.1.0");
    r.edit("docs/rollback.md", "Apply", "Remove the extra, then apply");
    r.commit("extra files");
    assert_eq!(r.codes(&["--base", "HEAD~1"]), (0, vec![]));
}

#[test]
fn renames_away_and_deletions_of_governed_coupled_and_deployment_paths_count_as_changes() {
    // Each way out, on each checklist line that looks at paths.
    type Move = fn(&Repo);
    let moves: [(&str, Move); 2] = [
        ("renamed away", |r: &Repo| {
            std::fs::create_dir_all(r.file("lib")).expect("mkdir");
            std::fs::create_dir_all(r.file("k8s")).expect("mkdir");
            r.git(&["mv", "src/core/extra.rs", "lib/extra.rs"]);
            r.git(&["mv", "deploy/extra.yaml", "k8s/extra.yaml"]);
        }),
        ("deleted", |r: &Repo| {
            r.git(&["rm", "-q", "src/core/extra.rs", "deploy/extra.yaml"]);
        }),
    ];
    for (how, move_away) in moves {
        let r = Repo::new();
        with_extra_files(&r);
        // The store's card stops citing the ADR and its ledger row stops
        // naming a test, as the files leave.
        r.edit(
            ".orchestrator/cards/P1-CORE-01.md",
            " as `docs/adr/0001-storage.md` decides",
            "",
        );
        r.edit(
            ".orchestrator/ledger.md",
            "`cargo test` 12 passed",
            "reviewed by hand",
        );
        move_away(&r);
        r.commit(how);
        let (code, v) = r.json(&["--base", "HEAD~1"]);
        assert_eq!(code, 1, "{how}: {v:#}");
        // One change per file: the two moved, the card and the ledger.
        assert_eq!(v["range"]["changed"], 4, "{how}: {v:#}");
        // Line 1: the governed path left, under a card that does not cite
        // the ADR.
        let governed = messages(&v, "governing-untraced");
        assert!(
            governed.iter().any(|m| m.contains("src/core/extra.rs")),
            "{how}: {governed:?}"
        );
        // Line 2: coupled code changed, its guide did not.
        let coupled = messages(&v, "docs-not-updated");
        assert!(
            coupled.iter().any(|m| m.contains("src/core/extra.rs")),
            "{how}: {coupled:?}"
        );
        // Line 3: the store's task is charged with it and names no test.
        let tests = messages(&v, "tests-not-recorded");
        assert!(
            tests
                .iter()
                .any(|m| m.contains("src/core/extra.rs") && m.contains("`P1-CORE-01`")),
            "{how}: {tests:?}"
        );
        // Line 4: the deployment file left without release or rollback notes.
        for code in ["release-notes-missing", "rollback-notes-missing"] {
            let found = messages(&v, code);
            assert!(
                found.iter().any(|m| m.contains("deploy/extra.yaml")),
                "{how}: {code}: {found:?}"
            );
        }
        let checklist: Vec<&str> = v["checklist"]
            .as_array()
            .expect("checklist")
            .iter()
            .map(|l| l["status"].as_str().expect("status"))
            .collect();
        assert_eq!(checklist, ["fail", "fail", "fail", "fail", "pass"], "{how}");
    }
}

#[test]
fn a_staged_rename_of_a_deployment_file_counts_too() {
    let r = Repo::new();
    std::fs::create_dir_all(r.file("k8s")).expect("mkdir");
    r.git(&["mv", "deploy/app.yaml", "k8s/app.yaml"]);
    let (code, v) = r.json(&["--staged"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["range"]["spec"], "HEAD..index");
    assert!(
        finding(&v, "release-notes-missing")["message"]
            .as_str()
            .unwrap()
            .contains("deploy/app.yaml"),
        "{v:#}"
    );
}

/// A third task, `P1-CLI-01`, whose card holds `src/cli/**`, with its
/// ticket at `status` (`None`: no ticket, so `todo`).
fn add_cli_task(r: &Repo, status: Option<&str>) {
    r.edit(
        ".orchestrator/plan.md",
        "| P1-INFRA-01 | Deploy the store",
        "| P1-CLI-01 | A command line for the store | development-implementer | P1-CORE-01 | The command line opens a store |\n| P1-INFRA-01 | Deploy the store",
    );
    r.write(
        ".orchestrator/cards/P1-CLI-01.md",
        "---\nkind: card\nid: P1-CLI-01\n---\n\n## Codex Execution Card: P1-CLI-01\n- Skill: development-implementer\n- Goal: A command line for the store, as `docs/adr/0001-storage.md` decides\n- Allowed Scope:\n  - Files/paths: `src/cli/**`\n  - Prohibited areas: `deploy/**`\n- Commands to run: `cargo build`\n- Tests/checks to run: `cargo test -p cli`\n- Evidence to capture: the `test result:` line\n- Completion criteria: The command line opens a store\n",
    );
    if let Some(status) = status {
        r.write(
            ".orchestrator/tickets/P1-CLI-01.md",
            &format!(
                "---\nkind: ticket\nid: P1-CLI-01\nstatus: {status}\n---\n\n## Dispatch Ticket: P1-CLI-01\n- Objective: A command line for the store\n- Owner Skill: development-implementer\n- Inputs: `docs/adr/0001-storage.md`\n- Commands/Checks: `cargo test -p cli`\n- Expected Artifacts: `src/cli/main.rs`\n- Risks: none known\n- Exit Criteria: The command line opens a store\n"
            ),
        );
    }
}

#[test]
fn a_todo_task_that_never_ran_is_not_charged_with_changes_in_its_scope() {
    let r = Repo::new();
    add_cli_task(&r, None);
    r.commit("plan the command line");
    r.write("src/cli/main.rs", "fn main() {}\n");
    r.commit("work no task was started for");
    let (code, v) = r.json(&[]);
    // Not a missing test of P1-CLI-01, which never ran: a change no task
    // that ran accounts for, which names the task to start.
    assert_eq!(code, 0, "{v:#}");
    assert!(messages(&v, "tests-not-recorded").is_empty(), "{v:#}");
    let d = finding(&v, "change-untracked");
    assert_eq!(d["file"], "src/cli/main.rs");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("`P1-CLI-01` (todo and never ran)"),
        "{d:#}"
    );
    assert!(
        d["help"]
            .as_str()
            .unwrap()
            .contains("`orch start P1-CLI-01`"),
        "{d:#}"
    );

    // Started, it is charged: no ledger row yet. The help says to run the
    // card's tests and record what they gave, never to record a pass.
    add_cli_task(&r, Some("in_progress"));
    r.commit("start P1-CLI-01");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1, "{v:#}");
    let d = finding(&v, "tests-not-recorded");
    assert_eq!(d["file"], ".orchestrator/cards/P1-CLI-01.md");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains("`src/cli/main.rs` changed in the scope of `P1-CLI-01` (in_progress)"),
        "{message}"
    );
    assert!(message.contains("no row for `P1-CLI-01`"), "{message}");
    let help = d["help"].as_str().unwrap();
    assert!(help.contains("run `cargo test -p cli`"), "{help}");
    assert!(
        help.contains(
            "--result <pass|partial|fail> --evidence \"cargo test -p cli: <what it printed>\""
        ),
        "{help}"
    );
    assert!(!help.contains("--result pass "), "{help}");
    assert!(messages(&v, "change-untracked").is_empty(), "{v:#}");

    // Its tests recorded, every line passes.
    r.edit(
        ".orchestrator/ledger.md",
        "| P1-INFRA-01 | release-devops |",
        "| P1-CLI-01 | development-implementer | `cargo test -p cli`: 3 passed | pass | - |\n| P1-INFRA-01 | release-devops |",
    );
    add_cli_task(&r, Some("done"));
    r.commit("record P1-CLI-01");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn test_evidence_names_a_test_and_is_not_inferred_from_an_id_or_a_log_path() {
    let r = Repo::new();
    // A task whose ID holds TEST, partial after a dispatch run whose
    // evidence is a run id and a log path.
    r.edit(
        ".orchestrator/plan.md",
        "| P1-INFRA-01 | Deploy the store",
        "| P1-TEST-01 | Test the command line | qa-test-engineer | P1-CORE-01 | The command line is tested |\n| P1-INFRA-01 | Deploy the store",
    );
    r.write(
        ".orchestrator/cards/P1-TEST-01.md",
        "---\nkind: card\nid: P1-TEST-01\n---\n\n## Codex Execution Card: P1-TEST-01\n- Skill: qa-test-engineer\n- Goal: Test the command line, as `docs/adr/0001-storage.md` decides\n- Allowed Scope:\n  - Files/paths: `src/cli/**`\n  - Prohibited areas: `deploy/**`\n- Commands to run: `cargo build`\n- Tests/checks to run: `cargo nextest run -p cli`\n- Evidence to capture: the summary line\n- Completion criteria: The command line is tested\n",
    );
    r.write(
        ".orchestrator/tickets/P1-TEST-01.md",
        "---\nkind: ticket\nid: P1-TEST-01\nstatus: partial\n---\n\n## Dispatch Ticket: P1-TEST-01\n- Objective: Test the command line\n- Owner Skill: qa-test-engineer\n- Inputs: `docs/adr/0001-storage.md`\n- Commands/Checks: `cargo nextest run -p cli`\n- Expected Artifacts: `src/cli/main.rs`\n- Risks: none known\n- Exit Criteria: The command line is tested\n",
    );
    let row = "| P1-TEST-01 | qa-test-engineer | orch dispatch run 20260101T000000Z-P1-TEST-01: exit 0; log `.orchestrator/logs/P1-TEST-01.log` | partial | split P1-TEST-01 |";
    r.edit(
        ".orchestrator/ledger.md",
        "| P1-INFRA-01 | release-devops |",
        &format!("{row}\n| P1-INFRA-01 | release-devops |"),
    );
    r.edit(
        ".orchestrator/ledger.md",
        "| Store files larger than 2 GB |",
        "| P1-TEST-01: the command line on Windows | low: few users | qa-test-engineer |\n| Store files larger than 2 GB |",
    );
    r.write("src/cli/main.rs", "fn main() {}\n");
    r.commit("a partial run");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1, "{v:#}");
    let d = finding(&v, "tests-not-recorded");
    assert_eq!(d["file"], ".orchestrator/ledger.md");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("no ledger evidence of `P1-TEST-01` names a test"),
        "{d:#}"
    );
    let help = d["help"].as_str().unwrap();
    assert!(help.contains("`orch start P1-TEST-01`"), "{help}");
    assert!(!help.contains("--result pass "), "{help}");
    // A row naming the card's check (or any test run) is evidence.
    r.edit(
        ".orchestrator/ledger.md",
        "| partial | split P1-TEST-01 |",
        "| partial | split P1-TEST-01 |\n| P1-TEST-01 | qa-test-engineer | `cargo nextest run -p cli`: 2 passed, 1 skipped on Windows | partial | split P1-TEST-01 |",
    );
    r.commit("the check's result");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn a_run_file_at_head_charges_the_task_whose_run_changed_a_file() {
    let r = Repo::new();
    add_cli_task(&r, None);
    r.commit("plan the command line");
    // P1-CLI-01's run (later set back to todo) changed a file outside its
    // scope; the run file is committed with the change.
    r.write("tools/gen.sh", "echo gen\n");
    r.write(
        ".orchestrator/runs/20260101T000000Z-P1-CLI-01.json",
        r#"{
  "run": "20260101T000000Z-P1-CLI-01",
  "started": "2026-01-01T00:00:00Z",
  "ended": "2026-01-01T00:05:00Z",
  "jobs": 1,
  "tasks": [
    {
      "task": "P1-CLI-01",
      "adapter": "generic",
      "argv": ["my-agent"],
      "log": ".orchestrator/logs/P1-CLI-01.log",
      "state": "finished",
      "exit_code": 0,
      "changed": ["tools/gen.sh"]
    }
  ]
}
"#,
    );
    r.commit("what the run changed");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1, "{v:#}");
    let d = finding(&v, "tests-not-recorded");
    assert!(
        d["message"].as_str().unwrap().contains(
            "`tools/gen.sh` changed by `P1-CLI-01` (todo) in dispatch run 20260101T000000Z-P1-CLI-01"
        ),
        "{d:#}"
    );
    // The run accounts for it: it is not untracked.
    assert!(messages(&v, "change-untracked").is_empty(), "{v:#}");
}

#[test]
fn a_head_with_no_program_is_reported_as_such_not_passed() {
    let r = Repo::new();
    r.git(&[
        "rm",
        "-q",
        "-r",
        ".orchestrator/plan.md",
        ".orchestrator/ledger.md",
        ".orchestrator/tickets",
        ".orchestrator/cards",
    ]);
    r.write("tools/gen.sh", "echo gen\n");
    r.commit("no program");
    let (code, v) = r.json(&[]);
    // Nothing failed, but lines 3 and 5 were not checked, and say why.
    assert_eq!(code, 0, "{v:#}");
    let checklist = v["checklist"].as_array().expect("checklist");
    let statuses: Vec<&str> = checklist
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["pass", "pass", "not-checked", "pass", "not-checked"],
        "{v:#}"
    );
    let reason = checklist[2]["reason"].as_str().unwrap();
    assert!(
        reason.contains("the head has no program (no `.orchestrator/plan.md`"),
        "{reason}"
    );
    assert!(messages(&v, "change-untracked").is_empty(), "{v:#}");
    // With --deny-warnings a line not checked fails.
    assert_eq!(r.codes(&["--deny-warnings"]).0, 1);

    let out = r.align(&["--color", "never"]).output().expect("run orch");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("– 3. Test scope and outcomes recorded for each changed feature: not checked: the head has no program"),
        "{text}"
    );
    assert!(
        text.contains("⚠ 3 of 5 checklist lines pass; 2 not checked"),
        "{text}"
    );
    let out = r
        .align(&["--format", "markdown"])
        .output()
        .expect("run orch");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("- [ ] Test scope and outcomes recorded for each changed feature — not checked: the head has no program"),
        "{md}"
    );
    assert!(
        md.contains("⚠️ 3 of 5 checklist lines pass, 2 not checked"),
        "{md}"
    );
}

#[test]
fn fix_rewrites_the_work_tree_says_to_commit_and_a_rerun_after_commit_is_clean() {
    let r = Repo::new();
    clean_store_change(&r);
    r.edit("src/core/store.rs", "path.to_string()", "path.to_owned()");
    r.commit("change the region");
    let out = r
        .align(&["--fix", "--color", "never"])
        .output()
        .expect("run orch");
    // Fixed in the work tree, not at HEAD, which the check reads: exit 1
    // until the fix is committed, and the output says so.
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "fixed: docs/guide.md:8: snippet now matches region `open` of `src/core/store.rs`"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 snippet fixed in the work tree: commit it (`git commit docs/guide.md`) and run align-docs again; it reads HEAD, not the work tree"),
        "{text}"
    );
    assert_eq!(r.git(&["status", "--porcelain"]), " M docs/guide.md\n");
    // Before the commit a re-run still sees HEAD's drift.
    assert_eq!(r.codes(&[]).1, ["docs-snippet-drift"]);
    r.commit("the fixed snippet");
    assert_eq!(r.codes(&[]), (0, vec![]));
    r.align(&["--fix"]).assert().success();
    assert_eq!(r.git(&["status", "--porcelain"]), "");

    // --staged --fix: stage it.
    r.edit("src/core/store.rs", "path.to_owned()", "path.into()");
    r.git(&["add", "src/core/store.rs"]);
    let out = r
        .align(&["--staged", "--fix", "--color", "never"])
        .output()
        .expect("run orch");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("stage it (`git add docs/guide.md`)"),
        "{text}"
    );
    r.git(&["add", "docs/guide.md"]);
    assert_eq!(r.codes(&["--staged"]), (0, vec![]));
}
