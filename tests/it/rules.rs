//! One `fail` and one `pass` fixture per rule code, under
//! `testdata/rules/<code>/`. Each is a complete small orchestrator folder
//! derived from one tiny base program by one focused change: `fail` makes the
//! rule fire (and nothing else), `pass` is the nearest correct variant and
//! lints clean. The fail output is snapshotted in both human and JSON form, so
//! a change to a rule's message, span or help shows up in review.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::{orch, repo_path};

const FIXTURES: &str = "testdata/rules";

/// Exit code and standard output of one `orch lint` run over a fixture,
/// from the repository's top so that reported paths are relative.
fn lint(dir: &str, args: &[&str]) -> (i32, String) {
    let out = orch()
        .current_dir(repo_path(""))
        .args(["lint", "--dir", dir])
        .args(args)
        .output()
        .expect("run orch");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "orch panicked on {dir}: {stderr}"
    );
    (out.status.code().expect("exit code"), stdout)
}

fn diagnostics(json: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).expect("lint --format json prints JSON");
    v["diagnostics"]
        .as_array()
        .expect("a diagnostics array")
        .clone()
}

fn codes(diags: &[Value]) -> Vec<&str> {
    diags
        .iter()
        .map(|d| d["code"].as_str().expect("code is a string"))
        .collect()
}

/// Output must not depend on where the repository is checked out.
fn assert_machine_independent(output: &str) {
    let root = repo_path("");
    let root = root.to_string_lossy();
    let root = root.trim_end_matches('/');
    assert!(
        !output.contains(root),
        "output holds the absolute path {root}:\n{output}"
    );
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_string_lossy();
    let tmp = tmp.trim_end_matches('/');
    assert!(
        !output.contains(tmp),
        "output holds the temp dir {tmp}:\n{output}"
    );
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Error,
    Warning,
}

fn check_rule(code: &str, level: Level) {
    let fail = format!("{FIXTURES}/{code}/fail");
    let pass = format!("{FIXTURES}/{code}/pass");
    let severity = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };

    // A warning alone does not fail the run, unless --deny-warnings.
    if level == Level::Warning {
        let (exit, json) = lint(&fail, &["--format", "json"]);
        assert_eq!(
            exit, 0,
            "{code} is a warning: exit 0 without --deny-warnings\n{json}"
        );
        assert!(
            codes(&diagnostics(&json)).contains(&code),
            "{code} not reported:\n{json}"
        );
    }
    let deny: &[&str] = match level {
        Level::Error => &[],
        Level::Warning => &["--deny-warnings"],
    };

    let (exit, json) = lint(&fail, &[&["--format", "json"], deny].concat());
    assert_eq!(exit, 1, "{fail} must exit 1\n{json}");
    let diags = diagnostics(&json);
    assert!(
        codes(&diags).contains(&code),
        "{fail} does not report {code}:\n{json}"
    );
    for d in &diags {
        assert_eq!(d["code"], code, "{fail} reports more than {code}:\n{json}");
        assert_eq!(
            d["severity"], severity,
            "{code} has the wrong severity:\n{json}"
        );
        let file = d["file"].as_str().expect("file is a string");
        assert!(
            file.starts_with(&format!("{fail}/")),
            "{code}: `{file}` is not a path inside the fixture"
        );
    }
    assert_machine_independent(&json);
    insta::assert_snapshot!(format!("{code}_json"), json);

    let (exit, human) = lint(&fail, &[&["--color", "never"], deny].concat());
    assert_eq!(exit, 1, "{fail} must exit 1 in human format too\n{human}");
    assert!(
        human.contains(code),
        "the human output does not name {code}:\n{human}"
    );
    assert_machine_independent(&human);
    insta::assert_snapshot!(format!("{code}_human"), human);

    // The nearest correct variant is clean, warnings included.
    let (exit, json) = lint(&pass, &["--format", "json", "--deny-warnings"]);
    let diags = diagnostics(&json);
    assert!(
        !codes(&diags).contains(&code),
        "{pass} still reports {code}:\n{json}"
    );
    assert_eq!(exit, 0, "{pass} must lint clean\n{json}");
    assert!(diags.is_empty(), "{pass} must lint clean:\n{json}");
}

macro_rules! rule_test {
    ($name:ident, $code:literal) => {
        rule_test!($name, $code, Error);
    };
    ($name:ident, $code:literal, $level:ident) => {
        #[test]
        fn $name() {
            check_rule($code, Level::$level);
        }
    };
}

rule_test!(file_invalid, "file-invalid");
rule_test!(config_invalid, "config-invalid");
rule_test!(frontmatter_missing, "frontmatter-missing");
rule_test!(frontmatter_invalid, "frontmatter-invalid");
rule_test!(kind_unknown, "kind-unknown");
rule_test!(document_missing, "document-missing");
rule_test!(document_duplicate, "document-duplicate");
rule_test!(field_missing, "field-missing");
rule_test!(field_empty, "field-empty");
rule_test!(field_unknown, "field-unknown", Warning);
rule_test!(section_missing, "section-missing");
rule_test!(table_malformed, "table-malformed");
rule_test!(id_invalid, "id-invalid");
rule_test!(id_duplicate, "id-duplicate");
rule_test!(id_mismatch, "id-mismatch");
rule_test!(task_unknown, "task-unknown");
rule_test!(phase_unknown, "phase-unknown");
rule_test!(dep_unknown, "dep-unknown");
rule_test!(dep_unreadable, "dep-unreadable");
rule_test!(dep_cycle, "dep-cycle");
rule_test!(skill_unknown, "skill-unknown");
rule_test!(skill_mismatch, "skill-mismatch");
rule_test!(status_invalid, "status-invalid");
rule_test!(status_ledger_mismatch, "status-ledger-mismatch");
rule_test!(status_dep_not_done, "status-dep-not-done");
rule_test!(unverified_incomplete, "unverified-incomplete");
rule_test!(glob_invalid, "glob-invalid");
rule_test!(scope_unreadable, "scope-unreadable");
rule_test!(scope_empty, "scope-empty");
rule_test!(scope_escapes, "scope-escapes");
rule_test!(scope_overlap, "scope-overlap");
rule_test!(scope_self_conflict, "scope-self-conflict", Warning);
rule_test!(scope_unmatched, "scope-unmatched", Warning);
rule_test!(card_missing, "card-missing");
rule_test!(artifact_out_of_scope, "artifact-out-of-scope", Warning);
rule_test!(group_dependency, "group-dependency", Warning);
rule_test!(sheet_mismatch, "sheet-mismatch");
rule_test!(sheet_stale, "sheet-stale", Warning);
rule_test!(suppression_unused, "suppression-unused", Warning);

/// The registry's codes, as `orch rules --format json` lists them.
fn registry() -> Vec<(String, String)> {
    let out = orch()
        .args(["rules", "--format", "json"])
        .output()
        .expect("run orch rules");
    assert!(out.status.success(), "orch rules --format json failed");
    let v: Value = serde_json::from_slice(&out.stdout).expect("rules JSON");
    v["rules"]
        .as_array()
        .expect("a rules array")
        .iter()
        .map(|r| {
            (
                r["code"].as_str().expect("code").to_string(),
                r["severity"].as_str().expect("severity").to_string(),
            )
        })
        .collect()
}

/// Rules that compare with another revision (`orch lint --base REV`). A
/// fixture folder linted with `--dir` has no history, so these are tested
/// in real repositories by `tests/it/transitions.rs` (`lint_base_*`)
/// instead, and have no `testdata/rules/<code>/` folder.
const HISTORY_RULES: &[&str] = &["ledger-rewritten", "id-collision"];

#[test]
fn every_rule_has_fixtures() {
    let this_file = include_str!("rules.rs");
    let rules = registry();
    assert!(!rules.is_empty());
    for (code, severity) in &rules {
        if HISTORY_RULES.contains(&code.as_str()) {
            continue;
        }
        for variant in ["fail", "pass"] {
            let dir = repo_path(&format!("{FIXTURES}/{code}/{variant}"));
            assert!(dir.is_dir(), "no fixture {FIXTURES}/{code}/{variant}");
        }
        let level = if severity == "warning" {
            ", Warning)"
        } else {
            ")"
        };
        assert!(
            this_file.contains(&format!("\"{code}\"{level};")),
            "no `rule_test!(..., \"{code}\"{level}` in tests/it/rules.rs (severity {severity})"
        );
    }
    let known: BTreeSet<&str> = rules.iter().map(|(c, _)| c.as_str()).collect();
    for entry in std::fs::read_dir(repo_path(FIXTURES)).expect("read testdata/rules") {
        let entry = entry.expect("entry");
        if !entry.file_type().expect("file type").is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            known.contains(name.as_str()),
            "{FIXTURES}/{name} is not a rule code"
        );
        for sub in std::fs::read_dir(entry.path()).expect("read fixture") {
            let sub = sub
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            assert!(
                sub == "fail" || sub == "pass",
                "{FIXTURES}/{name}/{sub}: a rule's folder holds only fail/ and pass/"
            );
        }
    }
}
