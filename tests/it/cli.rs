//! Behaviour through the binary: init/new, the read-only views, schema and
//! rules, exit codes, hostile input, output shapes, colour and `--fix`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{copy_tree, orch, repo_path};

// ---------------------------------------------------------------- helpers

/// Every path under `root` with its bytes (`None` for a folder).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.expect("walk"))
        .map(|e| {
            let rel = e.path().strip_prefix(root).expect("inside").to_path_buf();
            let bytes = e
                .file_type()
                .is_file()
                .then(|| std::fs::read(e.path()).expect("read"));
            (rel, bytes)
        })
        .collect()
}

/// A copy of the handwritten program (lints clean) in a fresh tempdir.
fn handwritten() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&repo_path("testdata/handwritten"), tmp.path());
    tmp
}

/// A tempdir holding `orch init`'s scaffold.
fn scaffold() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    orch().current_dir(tmp.path()).arg("init").assert().code(0);
    tmp
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn run(cmd: &mut assert_cmd::Command) -> Run {
    let start = Instant::now();
    let out = cmd
        .timeout(Duration::from_secs(30))
        .output()
        .expect("run orch");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

fn lint_json(dir: &Path, extra: &[&str]) -> (Run, Value) {
    let r = run(orch()
        .arg("lint")
        .arg("--dir")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra));
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "lint --format json is not JSON ({e}):\n{}\n{}",
            r.stdout, r.stderr
        )
    });
    (r, v)
}

fn example_dir() -> PathBuf {
    repo_path(".orchestrator.example")
}

fn json_of(args: &[&str]) -> Value {
    let r = run(orch()
        .arg("--dir")
        .arg(example_dir())
        .args(args)
        .args(["--format", "json"]));
    assert_eq!(r.code, Some(0), "orch {args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("JSON")
}

fn text_of(args: &[&str]) -> String {
    let r = run(orch().arg("--dir").arg(example_dir()).args(args));
    assert_eq!(r.code, Some(0), "orch {args:?}: {}", r.stderr);
    r.stdout
}

/// The backlog of a plan: (id, dependencies), in table order.
fn backlog(plan: &str) -> Vec<(String, Vec<String>)> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in plan.lines() {
        let line = line.trim();
        if line.starts_with("| Branch ID") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells[0].starts_with("--") {
            continue;
        }
        let deps = cells[3]
            .split(',')
            .map(str::trim)
            .filter(|d| !matches!(d.to_ascii_lowercase().as_str(), "" | "-" | "—" | "none"))
            .map(String::from)
            .collect();
        rows.push((cells[0].to_string(), deps));
    }
    rows
}

/// The phases named in a plan's Phase Tree (`P1`, `P2`, ...).
fn phases(plan: &str) -> Vec<String> {
    plan.lines()
        .filter_map(|l| l.strip_prefix("## Phase "))
        .map(|l| l.split(':').next().expect("phase").trim().to_string())
        .collect()
}

/// Evidence Ledger rows: (task id, result), in order.
fn ledger_rows(ledger: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in ledger.lines() {
        let line = line.trim();
        if line.starts_with("| Task ID") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells[0].starts_with("--") {
            continue;
        }
        rows.push((
            cells[0].to_string(),
            cells[3].trim_matches('`').to_ascii_lowercase(),
        ));
    }
    rows
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn codes(v: &Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().expect("code").to_string())
        .collect()
}

// ---------------------------------------------------------------- init

#[test]
fn init_scaffolds_config_plan_ledger_and_gitignore() {
    let tmp = scaffold();
    let dir = tmp.path().join(".orchestrator");
    for f in ["config.yaml", "plan.md", "ledger.md", ".gitignore"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let ignore = read(dir.join(".gitignore"));
    assert!(
        ignore.lines().any(|l| l.trim() == "logs/"),
        ".gitignore: {ignore:?}"
    );
    assert!(read(dir.join("plan.md")).contains("kind: plan"));
    assert!(read(dir.join("ledger.md")).contains("kind: ledger"));
}

#[test]
fn init_config_commented_agent_keys_are_valid_once_uncommented() {
    let tmp = scaffold();
    let path = tmp.path().join(".orchestrator/config.yaml");
    let text = read(path.clone());
    assert!(text.contains("#   isolate: worktree"), "{text}");
    // The `agent:` block, uncommented as a user would.
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("# agent:"))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with("#  "))
        .map(|(_, l)| l.strip_prefix("# ").unwrap_or(l))
        .collect();
    assert!(
        block
            .iter()
            .any(|l| l.trim_start().starts_with("worktree:"))
    );
    std::fs::write(&path, block.join("\n") + "\n").expect("write config");
    let r = run(orch()
        .current_dir(tmp.path())
        .args(["lint", "--format", "json"]));
    assert!(!r.stdout.contains("config-invalid"), "{}", r.stdout);
    assert!(!r.stderr.contains("config"), "{}", r.stderr);
}

#[test]
fn second_init_exits_2_and_changes_nothing() {
    let tmp = scaffold();
    let before = snapshot(tmp.path());
    let r = run(orch().current_dir(tmp.path()).arg("init"));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
    assert_eq!(snapshot(tmp.path()), before, "second init changed files");
}

#[test]
fn init_example_lints_clean() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run(orch().current_dir(tmp.path()).args(["init", "--example"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let dir = tmp.path().join(".orchestrator");
    assert!(dir.join("plan.md").is_file() && dir.join("ledger.md").is_file());
    assert!(dir.join("tickets").is_dir() && dir.join("cards").is_dir());
    let r = run(orch().current_dir(tmp.path()).arg("lint"));
    assert_eq!(
        r.code,
        Some(0),
        "example does not lint clean:\n{}",
        r.stdout
    );
}

// ---------------------------------------------------------------- new

const ROW: &str = "| P1-X-01 | Build the x widget | development-implementer | - | The x widget renders and its tests pass |\n";

fn scaffold_with_row() -> tempfile::TempDir {
    let tmp = scaffold();
    let plan = tmp.path().join(".orchestrator/plan.md");
    let mut text = read(plan.clone());
    text.push_str(ROW);
    std::fs::write(&plan, text).expect("write plan");
    tmp
}

#[test]
fn new_ticket_is_filled_from_the_backlog_row() {
    let tmp = scaffold_with_row();
    let r = run(orch()
        .current_dir(tmp.path())
        .args(["new", "ticket", "P1-X-01"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let ticket = read(tmp.path().join(".orchestrator/tickets/P1-X-01.md"));
    assert!(ticket.starts_with("---\n"), "{ticket}");
    assert!(ticket.contains("kind: ticket"), "{ticket}");
    assert!(ticket.contains("id: P1-X-01"), "{ticket}");
    assert!(ticket.contains("status: todo"), "{ticket}");
    assert!(ticket.contains("## Dispatch Ticket: P1-X-01"), "{ticket}");
    assert!(
        ticket.contains("- Objective: Build the x widget\n"),
        "{ticket}"
    );
    assert!(
        ticket.contains("- Owner Skill: development-implementer\n"),
        "{ticket}"
    );
    assert!(
        ticket.contains("- Exit Criteria: The x widget renders and its tests pass"),
        "{ticket}"
    );
}

#[test]
fn new_card_is_filled_from_the_backlog_row() {
    let tmp = scaffold_with_row();
    let r = run(orch()
        .current_dir(tmp.path())
        .args(["new", "card", "P1-X-01"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let card = read(tmp.path().join(".orchestrator/cards/P1-X-01.md"));
    assert!(card.contains("kind: card"), "{card}");
    assert!(card.contains("## Codex Execution Card: P1-X-01"), "{card}");
    assert!(
        card.contains("- Skill: development-implementer\n"),
        "{card}"
    );
    assert!(card.contains("- Goal: Build the x widget\n"), "{card}");
}

#[test]
fn new_with_an_unsafe_id_exits_2_and_writes_nothing() {
    let tmp = scaffold_with_row();
    let before = snapshot(tmp.path());
    for args in [
        ["new", "ticket", "../evil"],
        ["new", "card", "a/b"],
        ["new", "ticket", "/tmp/evil"],
        ["new", "card", ".."],
    ] {
        let r = run(orch().current_dir(tmp.path()).args(args));
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
        assert_eq!(snapshot(tmp.path()), before, "{args:?} wrote something");
    }
}

#[test]
fn new_for_a_task_not_in_the_backlog_suggests_the_nearest() {
    let tmp = scaffold_with_row();
    let before = snapshot(tmp.path());
    let r = run(orch()
        .current_dir(tmp.path())
        .args(["new", "ticket", "P1-X-1"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean"), "{}", r.stderr);
    assert!(r.stderr.contains("P1-X-01"), "{}", r.stderr);
    let r = run(orch()
        .current_dir(tmp.path())
        .args(["new", "ticket", "QQQQQQ-77"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(!r.stderr.contains("did you mean"), "{}", r.stderr);
    assert_eq!(snapshot(tmp.path()), before);
}

#[test]
fn new_refuses_to_overwrite_an_existing_file() {
    let tmp = scaffold_with_row();
    let path = tmp.path().join(".orchestrator/tickets/P1-X-01.md");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, "hand-written; keep me\n").expect("write");
    let before = snapshot(tmp.path());
    let r = run(orch()
        .current_dir(tmp.path())
        .args(["new", "ticket", "P1-X-01"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert_eq!(snapshot(tmp.path()), before);
    assert_eq!(read(path), "hand-written; keep me\n");
}

// ---------------------------------------------------------------- views

#[test]
fn status_and_next_agree_with_the_backlog_on_readiness() {
    let plan = read(example_dir().join("plan.md"));
    let rows = backlog(&plan);
    assert!(rows.len() >= 10, "backlog parse: {rows:?}");
    let status = json_of(&["status"]);
    let tasks = status["tasks"].as_array().expect("tasks");
    let state: BTreeMap<String, String> = tasks
        .iter()
        .map(|t| {
            (
                t["id"].as_str().expect("id").to_string(),
                t["status"].as_str().expect("status").to_string(),
            )
        })
        .collect();
    let ids: Vec<&str> = tasks
        .iter()
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    let backlog_ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, backlog_ids, "status lists the backlog in order");

    let satisfied = |dep: &str| match state.get(dep).map(String::as_str) {
        Some("done") => true,
        Some("split") => {
            let prefix = format!("{dep}.");
            let children: Vec<_> = state
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .collect();
            !children.is_empty() && children.iter().all(|(_, s)| *s == "done")
        }
        _ => false,
    };
    let expected: Vec<&str> = rows
        .iter()
        .filter(|(id, deps)| state[id] == "todo" && deps.iter().all(|d| satisfied(d)))
        .map(|(id, _)| id.as_str())
        .collect();
    assert!(!expected.is_empty(), "the example should have a ready task");

    let flagged: Vec<&str> = tasks
        .iter()
        .filter(|t| t["ready"] == true)
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    assert_eq!(flagged, expected, "status `ready` flags");

    let next = json_of(&["next"]);
    let queue: Vec<&str> = next["ready"]
        .as_array()
        .expect("ready")
        .iter()
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    assert_eq!(queue, expected, "next's ready queue");
}

#[test]
fn show_lists_plan_row_and_ledger_rows() {
    let plan = read(example_dir().join("plan.md"));
    let rows = backlog(&plan);
    let ledger = ledger_rows(&read(example_dir().join("ledger.md")));
    assert!(!ledger.is_empty(), "ledger parse");
    for id in ["P2-CORE-01", "P1-CORE-02", "P1-TEST-01"] {
        let v = json_of(&["show", id]);
        assert_eq!(v["id"], id);
        let deps: Vec<&str> = v["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .map(|d| d.as_str().expect("dep"))
            .collect();
        let want = &rows.iter().find(|(r, _)| r == id).expect("row").1;
        assert_eq!(deps, *want, "{id} dependencies");
        let dependents: BTreeSet<&str> = v["dependents"]
            .as_array()
            .expect("dependents")
            .iter()
            .map(|d| d.as_str().expect("dependent"))
            .collect();
        let want: BTreeSet<&str> = rows
            .iter()
            .filter(|(_, d)| d.iter().any(|d| d == id))
            .map(|(r, _)| r.as_str())
            .collect();
        assert_eq!(dependents, want, "{id} dependents");
        let shown: Vec<String> = v["ledger"]
            .as_array()
            .expect("ledger")
            .iter()
            .map(|r| r["result"].as_str().expect("result").to_ascii_lowercase())
            .collect();
        let want: Vec<String> = ledger
            .iter()
            .filter(|(t, _)| t == id)
            .map(|(_, r)| r.clone())
            .collect();
        assert_eq!(shown, want, "{id} ledger rows");
    }
    let v = json_of(&["show", "P2-CORE-01"]);
    assert_eq!(v["status"], "in_progress");
    assert!(
        v["scope"]["allowed"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    let human = text_of(&["show", "P1-CORE-02"]);
    assert!(human.contains("P1-CORE-02"), "{human}");
}

#[test]
fn show_of_an_unknown_task_exits_2() {
    let r = run(orch()
        .arg("--dir")
        .arg(example_dir())
        .args(["show", "P9-NOPE-01"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
}

fn dependency_edges() -> Vec<(String, String)> {
    backlog(&read(example_dir().join("plan.md")))
        .into_iter()
        .flat_map(|(id, deps)| deps.into_iter().map(move |d| (d, id.clone())))
        .collect()
}

#[test]
fn graph_mermaid_has_a_subgraph_per_phase_and_an_edge_per_dependency() {
    let out = text_of(&["graph"]);
    assert!(
        out.trim_start().starts_with("flowchart") || out.trim_start().starts_with("graph"),
        "{out}"
    );
    let phases = phases(&read(example_dir().join("plan.md")));
    assert_eq!(phases, ["P1", "P2", "P3"]);
    let subgraphs: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("subgraph "))
        .collect();
    assert_eq!(subgraphs.len(), phases.len(), "{subgraphs:?}");
    for p in &phases {
        assert!(
            subgraphs.iter().any(|s| s
                .strip_prefix("subgraph ")
                .is_some_and(|s| s.starts_with(p.as_str()))),
            "no subgraph for {p}: {subgraphs:?}"
        );
    }
    let edges = dependency_edges();
    let arrows = out.lines().filter(|l| l.contains("-->")).count();
    assert_eq!(arrows, edges.len(), "one edge per dependency");
    let node = |id: &str| id.replace(['-', '.'], "_");
    for (from, to) in &edges {
        let line = format!("{} --> {}", node(from), node(to));
        assert!(
            out.lines().any(|l| l.trim() == line),
            "missing edge {from} -> {to}"
        );
    }
}

#[test]
fn graph_dot_has_a_cluster_per_phase_and_an_edge_per_dependency() {
    let out = text_of(&["graph", "--format", "dot"]);
    assert!(out.trim_start().starts_with("digraph"), "{out}");
    assert!(out.trim_end().ends_with('}'), "{out}");
    for p in phases(&read(example_dir().join("plan.md"))) {
        assert!(
            out.contains(&format!("subgraph cluster_{p}")),
            "no cluster for {p}"
        );
    }
    let edges = dependency_edges();
    let arrows = out.lines().filter(|l| l.contains(" -> ")).count();
    assert_eq!(arrows, edges.len(), "one edge per dependency");
    for (from, to) in &edges {
        assert!(
            out.contains(&format!("\"{from}\" -> \"{to}\"")),
            "missing edge {from} -> {to}"
        );
    }
    assert_eq!(
        out.matches('{').count(),
        out.matches('}').count(),
        "unbalanced braces"
    );
}

// ---------------------------------------------------------------- schema, rules

#[test]
fn schema_ticket_matches_the_committed_schema() {
    let r = run(orch().args(["schema", "ticket"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let printed: Value = serde_json::from_str(&r.stdout).expect("schema is JSON");
    let committed: Value =
        serde_json::from_str(&read(repo_path("schema/ticket.json"))).expect("schema/ticket.json");
    assert_eq!(printed, committed);
}

#[test]
fn schema_of_an_unknown_kind_exits_2() {
    let r = run(orch().args(["schema", "nope"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn rules_lists_every_code_and_explains_each() {
    let r = run(orch().arg("rules"));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let listed: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let v = {
        let r = run(orch().args(["rules", "--format", "json"]));
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        serde_json::from_str::<Value>(&r.stdout).expect("JSON")
    };
    let json_codes: Vec<&str> = v["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    assert_eq!(listed, json_codes, "human and JSON lists agree");
    // Every code the fault list and these tests rely on.
    for code in [
        "file-invalid",
        "frontmatter-missing",
        "frontmatter-invalid",
        "kind-unknown",
        "field-missing",
        "field-empty",
        "field-unknown",
        "section-missing",
        "table-malformed",
        "id-invalid",
        "id-duplicate",
        "id-mismatch",
        "task-unknown",
        "dep-unknown",
        "dep-cycle",
        "phase-unknown",
        "skill-unknown",
        "skill-mismatch",
        "status-invalid",
        "status-ledger-mismatch",
        "status-dep-not-done",
        "unverified-incomplete",
        "suppression-unused",
    ] {
        assert!(listed.contains(&code), "`orch rules` lacks {code}");
    }
    for code in &listed {
        let r = run(orch().args(["rules", code]));
        assert_eq!(r.code, Some(0), "rules {code}: {}", r.stderr);
        assert!(
            r.stdout.contains(code) && r.stdout.contains("## What it does"),
            "rules {code}:\n{}",
            r.stdout
        );
    }
}

#[test]
fn rules_dep_cycle_prints_its_docs() {
    let r = run(orch().args(["rules", "dep-cycle"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("dep-cycle"), "{}", r.stdout);
    assert!(r.stdout.contains("## What it does"), "{}", r.stdout);
}

#[test]
fn rules_with_a_typo_exits_2_and_suggests() {
    let r = run(orch().args(["rules", "dep-cycel"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("dep-cycle"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean"), "{}", r.stderr);
}

// ---------------------------------------------------------------- exit codes

#[test]
fn dir_that_does_not_exist_exits_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run(orch()
        .arg("lint")
        .arg("--dir")
        .arg(tmp.path().join("missing")));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
    assert!(!r.stderr.is_empty());
}

#[test]
fn dir_with_no_documents_exits_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("notes.txt"), "not a document\n").expect("write");
    let r = run(orch().arg("lint").arg("--dir").arg(tmp.path()));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn no_orchestrator_folder_anywhere_exits_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run(orch().current_dir(tmp.path()).arg("status"));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn warnings_exit_0_unless_denied() {
    let tmp = handwritten();
    let card = tmp.path().join(".orchestrator/cards/P1-CORE-01.md");
    let text = read(card.clone()).replacen("group: G1\n", "group: G1\ncolour: blue\n", 1);
    std::fs::write(&card, text).expect("write");
    let (r, v) = lint_json(&tmp.path().join(".orchestrator"), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(codes(&v), ["field-unknown"]);
    assert_eq!(v["summary"]["errors"], 0);
    assert_eq!(v["summary"]["warnings"], 1);
    let (r, _) = lint_json(&tmp.path().join(".orchestrator"), &["--deny-warnings"]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
}

/// Put `bytes` at `rel` in a clean program and lint it.
fn hostile(rel: &str, bytes: &[u8]) -> (Run, Value) {
    let tmp = handwritten();
    let dir = tmp.path().join(".orchestrator");
    std::fs::write(dir.join(rel), bytes).expect("write hostile file");
    let out = lint_json(&dir, &[]);
    drop(tmp);
    out
}

fn assert_diagnosed(name: &str, rel: &str, bytes: &[u8]) {
    let (r, v) = hostile(rel, bytes);
    assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
    assert!(
        r.elapsed < Duration::from_secs(10),
        "{name} took {:?}",
        r.elapsed
    );
    assert_eq!(r.code, Some(1), "{name}: {}\n{}", r.stdout, r.stderr);
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diags
            .iter()
            .any(|d| d["file"].as_str().is_some_and(|f| f.ends_with(rel))
                && d["severity"] == "error"
                && d["line"].as_u64().is_some_and(|l| l >= 1)),
        "{name}: no error on {rel}: {}",
        r.stdout
    );
}

#[test]
fn nul_byte_is_diagnosed() {
    assert_diagnosed(
        "NUL",
        "nul.md",
        b"---\nkind: card\nid: P1-CORE-01\x00\n---\n",
    );
}

#[test]
fn invalid_utf8_is_diagnosed() {
    assert_diagnosed(
        "invalid UTF-8",
        "latin1.md",
        b"---\nkind: card\nid: caf\xe9\n---\n",
    );
}

#[test]
fn empty_file_is_diagnosed() {
    assert_diagnosed("empty", "empty.md", b"");
}

#[test]
fn file_that_is_only_a_rule_is_diagnosed() {
    assert_diagnosed("only ---", "dash.md", b"---");
    assert_diagnosed("only ---\\n", "dash.md", b"---\n");
}

#[test]
fn yaml_alias_bomb_is_diagnosed_quickly() {
    let mut text = String::from(
        "---\nkind: card\nid: P9-X-01\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10u8 {
        let prev = (b'a' + i - 1) as char;
        let this = (b'a' + i) as char;
        let refs = vec![format!("*{prev}"); 9].join(", ");
        text.push_str(&format!("{this}: &{this} [{refs}]\n"));
    }
    text.push_str("---\n\nbody\n");
    assert_diagnosed("alias bomb", "bomb.md", text.as_bytes());
}

#[test]
fn deeply_nested_yaml_is_diagnosed() {
    let flow = format!(
        "---\nkind: card\nid: {}{}\n---\n",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    assert_diagnosed("2000 nested flow sequences", "deep.md", flow.as_bytes());
    let mut block = String::from("---\nkind: card\nid: P9-X-01\nn:\n");
    for i in 0..2000 {
        block.push_str(&" ".repeat(i + 1));
        block.push_str(&format!("k{i}:\n"));
    }
    block.push_str("---\n");
    assert_diagnosed("2000 nested block maps", "deep.md", block.as_bytes());
}

#[test]
fn three_megabyte_single_line_is_diagnosed() {
    let line = "x".repeat(3 * 1024 * 1024);
    assert_diagnosed("3 MB line", "big.md", line.as_bytes());
    let with_front = format!("---{}", "a: b ".repeat(600_000));
    assert_diagnosed("3 MB line after ---", "big.md", with_front.as_bytes());
}

#[test]
fn directory_named_like_a_document_is_skipped() {
    let tmp = handwritten();
    let dir = tmp.path().join(".orchestrator");
    std::fs::create_dir(dir.join("x.md")).expect("mkdir x.md");
    std::fs::write(dir.join("x.md/inner.txt"), "hello\n").expect("write");
    let (r, v) = lint_json(&dir, &[]);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.elapsed < Duration::from_secs(10));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(v["summary"]["errors"], 0);
}

// ---------------------------------------------------------------- output

#[test]
fn json_output_has_the_documented_shape() {
    let tmp = handwritten();
    let dir = tmp.path().join(".orchestrator");
    // A skill mismatch has a related span; an unknown key is a warning.
    let ticket = dir.join("tickets/P1-DOCS-01.md");
    let text = read(ticket.clone()).replacen(
        "- Owner Skill: technical-writer",
        "- Owner Skill: qa-test-engineer",
        1,
    );
    std::fs::write(&ticket, text).expect("write");
    let card = dir.join("cards/P1-CORE-01.md");
    let text = read(card.clone()).replacen("group: G1\n", "group: G1\ncolour: blue\n", 1);
    std::fs::write(&card, text).expect("write");

    let (r, v) = lint_json(&dir, &[]);
    assert_eq!(r.code, Some(1));
    let obj = v.as_object().expect("object");
    let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["diagnostics", "summary"]));
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    assert!(!diags.is_empty());
    let want: BTreeSet<&str> = BTreeSet::from([
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "help",
        "related",
    ]);
    let mut related_seen = 0;
    let (mut errors, mut warnings) = (0, 0);
    for d in diags {
        let keys: BTreeSet<&str> = d
            .as_object()
            .expect("diag")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, want, "{d}");
        assert!(d["code"].is_string() && d["message"].is_string() && d["help"].is_string());
        match d["severity"].as_str() {
            Some("error") => errors += 1,
            Some("warning") => warnings += 1,
            other => panic!("severity {other:?}"),
        }
        let file = d["file"].as_str().expect("file");
        assert!(!file.starts_with('/') && !file.contains('\\'), "{file}");
        assert!(file.starts_with(".orchestrator/"), "{file}");
        for k in ["line", "column", "end_line", "end_column"] {
            assert!(d[k].as_u64().is_some_and(|n| n >= 1), "{k} in {d}");
        }
        assert!(
            (d["end_line"].as_u64(), d["end_column"].as_u64())
                >= (d["line"].as_u64(), d["column"].as_u64()),
            "span ends before it starts: {d}"
        );
        for rel in d["related"].as_array().expect("related") {
            related_seen += 1;
            let keys: BTreeSet<&str> = rel
                .as_object()
                .expect("related")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                BTreeSet::from(["file", "line", "column", "message"]),
                "{rel}"
            );
            let file = rel["file"].as_str().expect("file");
            assert!(!file.starts_with('/'), "{file}");
            assert!(rel["line"].as_u64().is_some_and(|n| n >= 1));
        }
    }
    assert!(related_seen > 0, "expected a related span: {}", r.stdout);
    assert!(codes(&v).contains(&"skill-mismatch".to_string()));
    let summary = v["summary"].as_object().expect("summary");
    let keys: BTreeSet<&str> = summary.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["errors", "warnings", "files"]));
    assert_eq!(v["summary"]["errors"], errors);
    assert_eq!(v["summary"]["warnings"], warnings);
    assert_eq!(v["summary"]["files"], 13);
}

#[test]
fn clean_json_output_is_empty_with_a_file_count() {
    let (r, v) = lint_json(&repo_path("testdata/handwritten/.orchestrator"), &[]);
    assert_eq!(r.code, Some(0));
    assert_eq!(v["diagnostics"], serde_json::json!([]));
    assert_eq!(
        v["summary"],
        serde_json::json!({"errors": 0, "warnings": 0, "files": 13})
    );
}

fn broken_program() -> tempfile::TempDir {
    let tmp = handwritten();
    let ticket = tmp.path().join(".orchestrator/tickets/P1-DOCS-01.md");
    let text = read(ticket.clone()).replacen("status: todo", "status: done", 1);
    std::fs::write(&ticket, text).expect("write");
    tmp
}

#[test]
fn no_color_with_auto_prints_no_escapes() {
    let tmp = broken_program();
    let r = run(orch()
        .env("NO_COLOR", "1")
        .arg("lint")
        .arg("--dir")
        .arg(tmp.path().join(".orchestrator"))
        .args(["--color", "auto"]));
    assert_eq!(r.code, Some(1));
    assert!(r.stdout.contains("status-ledger-mismatch"), "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
    assert!(!r.stderr.contains('\x1b'), "{}", r.stderr);
}

#[test]
fn color_always_prints_escapes() {
    let tmp = broken_program();
    let r = run(orch()
        .arg("lint")
        .arg("--dir")
        .arg(tmp.path().join(".orchestrator"))
        .args(["--color", "always"]));
    assert_eq!(r.code, Some(1));
    assert!(r.stdout.contains("\x1b["), "{}", r.stdout);
}

#[test]
fn color_never_prints_no_escapes() {
    let tmp = broken_program();
    let r = run(orch()
        .arg("lint")
        .arg("--dir")
        .arg(tmp.path().join(".orchestrator"))
        .args(["--color", "never"]));
    assert_eq!(r.code, Some(1));
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
}

// ---------------------------------------------------------------- --fix

#[test]
fn fix_renames_a_misnamed_ticket_and_the_program_lints_clean() {
    let tmp = handwritten();
    let dir = tmp.path().join(".orchestrator");
    let right = dir.join("tickets/P1-DOCS-01.md");
    let wrong = dir.join("tickets/WRONG.md");
    let body = read(right.clone());
    std::fs::rename(&right, &wrong).expect("rename");

    let (r, v) = lint_json(&dir, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(
        codes(&v).contains(&"id-mismatch".to_string()),
        "{}",
        r.stdout
    );

    let r = run(orch().arg("lint").arg("--dir").arg(&dir).arg("--fix"));
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(!wrong.exists(), "WRONG.md is still there");
    assert_eq!(read(right), body, "renamed file keeps its text");

    let (r, v) = lint_json(&dir, &[]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(v["summary"]["errors"], 0);
}

#[test]
fn an_id_that_climbs_out_is_never_a_task_nor_a_file_name() {
    // A backlog row, ticket and card for `../../evil`: lint says id-invalid,
    // and no command treats it as a task or writes a path from it.
    let tmp = tempfile::tempdir().expect("tempdir");
    let inner = tmp.path().join("repo");
    copy_tree(&repo_path("testdata/sheet"), &inner);
    let dir = inner.join(".orchestrator");
    let plan = read(dir.join("plan.md"));
    std::fs::write(
        dir.join("plan.md"),
        plan.replace("| P1-DOCS-01 |", "| ../../evil |"),
    )
    .expect("write plan");
    let before = snapshot(tmp.path());
    let (run, v) = lint_json(&dir, &[]);
    assert_eq!(run.code, Some(1));
    assert!(codes(&v).contains(&"id-invalid".to_string()), "{v}");
    for args in [
        &["show", "../../evil"][..],
        &["new", "ticket", "../../evil"][..],
        &["sheet", "../../evil", "--write"][..],
        &["start", "../../evil", "--no-commit"][..],
        &["dispatch", "../../evil", "--dry-run"][..],
    ] {
        let out = orch()
            .current_dir(&inner)
            .args(args)
            .output()
            .expect("run orch");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let status = json_in(&inner, &["status", "--format", "json"]);
    assert!(!status.to_string().contains("evil"), "{status}");
    assert_eq!(snapshot(tmp.path()), before, "nothing was written");
}

fn json_in(dir: &Path, args: &[&str]) -> Value {
    let out = orch()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run orch");
    serde_json::from_slice(&out.stdout).expect("json")
}
