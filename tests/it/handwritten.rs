//! Programs written by hand, the way leads write them, read right: scopes
//! as nested lists, dependencies with prose, typos in headings and labels.
//! What lint passes must mean what the lead wrote, and what it cannot read
//! it must say, at the text.

use std::path::Path;

use serde_json::Value;

use crate::util::{copy_tree, git, git_command, orch, repo_path};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).expect("read")
}

/// Replace `from` (which must occur exactly once) in a file.
fn edit(dir: &Path, rel: &str, from: &str, to: &str) {
    let text = read(dir, rel);
    assert_eq!(text.matches(from).count(), 1, "`{from}` in {rel}");
    write(dir, rel, &text.replacen(from, to, 1));
}

/// A rule fixture's orchestrator folder as the `.orchestrator/` of a fresh
/// repository, committed.
fn repo_from(fixture: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    copy_tree(&repo_path(fixture), &tmp.path().join(".orchestrator"));
    write(tmp.path(), "src/parser.rs", "// parser\n");
    commit(tmp.path());
    tmp
}

fn commit(dir: &Path) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "work"]);
}

/// Run orch in `dir` with git's identity from the environment; exit code,
/// stdout, stderr.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let probe = git_command(dir);
    let mut cmd = orch();
    cmd.current_dir(dir).args(args);
    for (k, v) in probe.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().expect("run orch");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "orch panicked: {stderr}");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let (code, stdout, stderr) = run(dir, &[args, &["--format", "json"]].concat());
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?} exit {code}: not JSON ({e}): {stdout}{stderr}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

#[test]
fn a_scope_written_as_a_nested_list_is_the_scope_every_command_uses() {
    let tmp = repo_from("testdata/rules/scope-unreadable/pass");
    let show = json(tmp.path(), &["show", "P1-CORE-01"]);
    assert_eq!(
        strings(&show["scope"]["allowed"]),
        ["src/parser.rs", "src/parser/tests.rs"]
    );
    assert_eq!(
        strings(&show["scope"]["prohibited"]),
        ["docs/**", "src/checker/**"]
    );
    assert!(
        show["scope"]["problems"]
            .as_array()
            .expect("problems")
            .is_empty()
    );
    // The scope check reads the same scope: a change in the sub-item's path
    // is inside it.
    edit(
        tmp.path(),
        ".orchestrator/tickets/P1-CORE-01.md",
        "status: done",
        "status: todo",
    );
    commit(tmp.path());
    let (code, _, err) = run(tmp.path(), &["start", "P1-CORE-01"]);
    assert_eq!(code, 0, "{err}");
    write(tmp.path(), "src/parser/tests.rs", "// tests\n");
    let check = json(tmp.path(), &["scope", "check"]);
    assert_eq!(check["files"][0]["path"], "src/parser/tests.rs", "{check}");
    assert_eq!(check["files"][0]["tasks"][0], "P1-CORE-01", "{check}");
}

#[test]
fn a_card_whose_scope_orch_cannot_read_is_refused_never_run_on_a_smaller_scope() {
    for fixture in ["scope-unreadable", "scope-empty"] {
        let tmp = repo_from(&format!("testdata/rules/{fixture}/fail"));
        edit(
            tmp.path(),
            ".orchestrator/tickets/P1-CORE-01.md",
            "status: done",
            "status: todo",
        );
        commit(tmp.path());
        let head = git(tmp.path(), &["rev-parse", "HEAD"]);
        let (code, _, err) = run(tmp.path(), &["start", "P1-CORE-01"]);
        assert_eq!(code, 2, "{fixture}: start must refuse: {err}");
        let want = if fixture == "scope-empty" {
            "the agent may change no file"
        } else {
            "`except its fixtures`"
        };
        assert!(err.contains(want), "{fixture}: {err}");
        assert!(
            err.contains("orch lint"),
            "{fixture}: the help leads to the text: {err}"
        );
        let (code, out, err) = run(tmp.path(), &["dispatch", "P1-CORE-01", "--dry-run"]);
        assert_eq!(code, 2, "{fixture}: dispatch must refuse: {out}{err}");
        assert!(err.contains(want), "{fixture}: {err}");
        assert_eq!(
            git(tmp.path(), &["rev-parse", "HEAD"]),
            head,
            "{fixture}: nothing committed"
        );
        assert_eq!(
            git(tmp.path(), &["status", "--porcelain"]),
            "",
            "{fixture}: nothing written"
        );
    }
}

#[test]
fn every_dependency_in_a_cell_is_read_whatever_separates_them() {
    for (cell, prose) in [
        ("P1-CORE-01 and `P1-CORE-02`", None),
        ("`P1-CORE-01`; `P1-CORE-02`", None),
        ("P1-CORE-01 P1-CORE-02", None),
        (
            "P1-CORE-01, P1-CORE-02 (after review)",
            Some("(after review)"),
        ),
        (
            "`P1-CORE-02` and P1-CORE-01 once it is signed off",
            Some("once it is signed off"),
        ),
    ] {
        let tmp = repo_from("testdata/rules/dep-unreadable/pass");
        edit(
            tmp.path(),
            ".orchestrator/plan.md",
            "| P1-CORE-01 and `P1-CORE-02` |",
            &format!("| {cell} |"),
        );
        let show = json(tmp.path(), &["show", "P1-DOCS-01"]);
        let mut deps = strings(&show["dependencies"]);
        deps.sort();
        assert_eq!(deps, ["P1-CORE-01", "P1-CORE-02"], "{cell}");
        let lint = json(tmp.path(), &["lint"]);
        let found: Vec<(String, String)> = lint["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| {
                let line = read(tmp.path(), ".orchestrator/plan.md")
                    .lines()
                    .nth(d["line"].as_u64().expect("line") as usize - 1)
                    .expect("the line")
                    .chars()
                    .skip(d["column"].as_u64().expect("column") as usize - 1)
                    .take(
                        (d["end_column"].as_u64().expect("end")
                            - d["column"].as_u64().expect("col")) as usize,
                    )
                    .collect();
                (d["code"].as_str().expect("code").to_string(), line)
            })
            .collect();
        match prose {
            None => assert!(found.is_empty(), "{cell}: {found:?}"),
            Some(p) => assert_eq!(
                found,
                [("dep-unreadable".to_string(), p.to_string())],
                "{cell}"
            ),
        }
    }
}

fn codes_of(v: &Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().expect("code").to_string())
        .collect()
}

#[test]
fn config_paths_take_one_glob_or_a_list_and_rules_take_every_code() {
    let tmp = repo_from("testdata/rules/dep-unknown/pass");
    write(
        tmp.path(),
        ".orchestrator/config.yaml",
        "align:\n  deployment_paths: deploy/**\n  release_notes: [CHANGELOG.md, docs/releases/**]\n  rollback_notes: ops/rollback.md\n  product_docs: README.md\nrules:\n  docs-not-updated: off       # an align-docs code\n  field-unknown: warning      # a lint code\n",
    );
    commit(tmp.path());
    let lint = json(tmp.path(), &["lint"]);
    assert!(codes_of(&lint).is_empty(), "{lint}");
    let base = git(tmp.path(), &["rev-parse", "HEAD"]);
    let base = base.trim();
    // A deployment change with a note in the second release-notes glob.
    write(tmp.path(), "deploy/app.yaml", "replicas: 3\n");
    write(tmp.path(), "docs/releases/1.2.md", "Three replicas.\n");
    commit(tmp.path());
    let align = json(tmp.path(), &["align-docs", "--base", base]);
    let codes = codes_of(&align);
    assert!(
        !codes.contains(&"release-notes-missing".to_string()),
        "{align}"
    );
    assert!(
        codes.contains(&"rollback-notes-missing".to_string()),
        "{align}"
    );
    // `rules:` sets an align-docs code's level as it does a lint code's.
    edit(
        tmp.path(),
        ".orchestrator/config.yaml",
        "  docs-not-updated: off",
        "  rollback-notes-missing: off",
    );
    commit(tmp.path());
    let align = json(tmp.path(), &["align-docs", "--base", base]);
    assert!(
        !codes_of(&align).contains(&"rollback-notes-missing".to_string()),
        "{align}"
    );
    let lint = json(tmp.path(), &["lint"]);
    assert!(codes_of(&lint).is_empty(), "{lint}");
}

#[test]
fn an_unknown_prompt_placeholder_is_an_error_and_dispatch_refuses() {
    let tmp = repo_from("testdata/rules/dep-unknown/pass");
    edit(
        tmp.path(),
        ".orchestrator/tickets/P1-CORE-01.md",
        "status: done",
        "status: todo",
    );
    write(
        tmp.path(),
        ".orchestrator/config.yaml",
        "agent:\n  command: [\"true\", \"{prompt}\"]\n  prompt: \"Do {task}: {gaol}\"\n",
    );
    commit(tmp.path());
    let lint = json(tmp.path(), &["lint"]);
    let d = &lint["diagnostics"][0];
    assert_eq!(d["code"], "config-invalid", "{lint}");
    assert_eq!(d["line"], 3, "{lint}");
    assert!(
        d["help"]
            .as_str()
            .is_some_and(|h| h.starts_with("rename it to `{goal}`")),
        "{lint}"
    );
    let head = git(tmp.path(), &["rev-parse", "HEAD"]);
    let (code, _, err) = run(tmp.path(), &["dispatch", "P1-CORE-01"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("{gaol}"), "{err}");
    assert_eq!(
        git(tmp.path(), &["rev-parse", "HEAD"]),
        head,
        "nothing committed"
    );
}

/// `testdata/handwritten/relay/`: a second program written by hand, with
/// the shapes leads write. orch's reading of it, field by field: every
/// task's dependencies and scope, and every finding at its exact text.
#[test]
fn a_second_hand_written_program_is_read_field_by_field() {
    let tmp = repo_from("testdata/handwritten/relay/.orchestrator");
    let task = |id: &str| json(tmp.path(), &["show", id]);
    let scope = |v: &Value, key: &str| strings(&v["scope"][key]);
    // (ID, dependencies, allowed, prohibited, scope problems)
    type Want<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str], usize);
    let want: &[Want<'_>] = &[
        // One glob per line.
        (
            "P1-CORE-01",
            &[],
            &["src/config/hooks.rs"],
            &["src/sign/**"],
            0,
        ),
        // A nested list, code spans, a dependency in a code span.
        (
            "P1-CORE-02",
            &["P1-CORE-01"],
            &["src/sign.rs", "src/sign/**"],
            &["src/config/**"],
            0,
        ),
        // A nested list without code spans, lowercase labels, `none`, and
        // dependencies separated by a semicolon.
        (
            "P1-CORE-03",
            &["P1-CORE-01", "P1-CORE-02"],
            &["src/retry.rs", "tests/retry.rs"],
            &[],
            0,
        ),
        // `and` between the IDs; the card's heading is misspelt, so it has
        // no scope, and says so (never an empty scope read as one).
        ("P1-UI-01", &["P1-CORE-01", "P1-CORE-02"], &[], &[], 1),
        // IDs separated by a space; prose in the scope is a problem.
        (
            "P1-TEST-01",
            &["P1-CORE-02", "P1-CORE-03"],
            &["tests/delivery/**"],
            &["src/**"],
            1,
        ),
        // Prose after the IDs: both IDs are read.
        (
            "P1-DOCS-01",
            &["P1-UI-01", "P1-TEST-01"],
            &["docs/**"],
            &["src/**"],
            0,
        ),
    ];
    for (id, deps, allowed, prohibited, problems) in want {
        let v = task(id);
        assert_eq!(strings(&v["dependencies"]), *deps, "{id} dependencies");
        assert_eq!(scope(&v, "allowed"), *allowed, "{id} allowed");
        assert_eq!(scope(&v, "prohibited"), *prohibited, "{id} prohibited");
        assert_eq!(
            v["scope"]["problems"].as_array().map(Vec::len),
            Some(*problems),
            "{id} scope problems: {v}"
        );
    }
    let v = task("P2-INFRA-01");
    assert_eq!(strings(&v["dependencies"]), ["P1-TEST-01"]);
    assert!(v["scope"].is_null(), "no card, no scope: {v}");
    assert_eq!(v["phase"], "P2");

    // Every finding, at the text it is about: (code, severity, file, text).
    let lint = json(tmp.path(), &["lint"]);
    let found: Vec<(String, String, String, String)> = lint["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let file = d["file"].as_str().expect("file").to_string();
            let line = d["line"].as_u64().expect("line") as usize;
            let (col, end) = (
                d["column"].as_u64().expect("column") as usize,
                d["end_column"].as_u64().expect("end") as usize,
            );
            let text: String = read(tmp.path(), &file)
                .lines()
                .nth(line - 1)
                .expect("the line")
                .chars()
                .skip(col - 1)
                .take(end - col)
                .collect();
            (
                d["code"].as_str().expect("code").to_string(),
                d["severity"].as_str().expect("severity").to_string(),
                file.trim_start_matches(".orchestrator/").to_string(),
                text,
            )
        })
        .collect();
    let want = [
        ("group-dependency", "warning", "cards/P1-CORE-03.md", "G1"),
        (
            "scope-unreadable",
            "error",
            "cards/P1-TEST-01.md",
            "except the recorded fixtures",
        ),
        (
            "section-missing",
            "error",
            "cards/P1-UI-01.md",
            "Codex Exectuion Card: P1-UI-01",
        ),
        (
            "phase-unknown",
            "error",
            "plan.md",
            "Phase 2 - Ship the image",
        ),
        ("dep-unreadable", "error", "plan.md", "(after review)"),
        (
            "artifact-out-of-scope",
            "warning",
            "tickets/P1-DOCS-01.md",
            "README.md",
        ),
        ("field-missing", "error", "tickets/P1-UI-01.md", "Objectve"),
    ];
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(found, want, "{lint}");
    // The help of each leads to the fix.
    let help = |code: &str| -> String {
        lint["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .find(|d| d["code"] == code)
            .and_then(|d| d["help"].as_str())
            .expect("help")
            .to_string()
    };
    assert_eq!(
        help("section-missing"),
        "rename the heading to `## Codex Execution Card: P1-UI-01`"
    );
    assert_eq!(
        help("phase-unknown"),
        "rename it to `## Phase P2: Ship the image`"
    );
    assert_eq!(
        help("field-missing"),
        "rename `- Objectve:` to `- Objective:`"
    );
    assert!(
        help("group-dependency").starts_with("move `P1-CORE-03` to a later group"),
        "{lint}"
    );
}
