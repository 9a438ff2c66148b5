//! Every output format of `orch lint` over one program with several faults
//! (snapshotted), the structure SARIF consumers rely on, the github format's
//! escaping and annotation cap, and the generated completions and man page.

use std::path::Path;

use serde_json::Value;

use crate::util::{copy_tree, orch, repo_path};

/// The tiny base program all rule fixtures derive from.
const BASE: &str = "testdata/rules/dep-unknown/pass";

/// Replace `from` by `to` in a file of the program, once, insisting it is there.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read fixture file");
    assert!(text.contains(from), "{file} lacks {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write fixture file");
}

/// A work tree holding `.orchestrator/`, a copy of the base program.
fn base() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&repo_path(BASE), &tmp.path().join(".orchestrator"));
    tmp
}

/// The base program with faults of several kinds: an unknown dependency, a
/// bad status, a skill that disagrees with the plan (with a related span)
/// and an unknown front-matter key (a warning).
fn faulty() -> tempfile::TempDir {
    let tmp = base();
    let dir = tmp.path().join(".orchestrator");
    edit(
        &dir,
        "plan.md",
        "| P1-CORE-02 | Write the checker | development-implementer | P1-CORE-01 |",
        "| P1-CORE-02 | Write the checker | development-implementer | P1-CORE-1 |",
    );
    edit(
        &dir,
        "tickets/P1-CORE-01.md",
        "status: done",
        "status: finished",
    );
    edit(
        &dir,
        "tickets/P1-CORE-01.md",
        "- Owner Skill: development-implementer",
        "- Owner Skill: qa-test-engineer",
    );
    edit(
        &dir,
        "cards/P1-CORE-01.md",
        "group: G1\n",
        "group: G1\nowner: ana\n",
    );
    tmp
}

/// Exit code and standard output of `orch lint` run in `tree`.
fn lint(tree: &Path, format: &str) -> (i32, String) {
    let out = orch()
        .current_dir(tree)
        .args(["lint", "--color", "never", "--format", format])
        .output()
        .expect("run orch");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "orch panicked: {stderr}");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let tmp = tree.to_string_lossy();
    assert!(
        !stdout.contains(tmp.as_ref()),
        "output holds {tmp}:\n{stdout}"
    );
    (out.status.code().expect("exit code"), stdout)
}

fn sarif_snapshot(sarif: &str) -> String {
    let version = format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(
        sarif.contains(&version),
        "the driver names the crate version"
    );
    sarif.replace(&version, "\"version\": \"[VERSION]\"")
}

#[test]
fn every_format_over_one_faulty_program() {
    let tree = faulty();
    let mut outputs = Vec::new();
    for format in ["human", "json", "github", "sarif", "markdown"] {
        let (code, out) = lint(tree.path(), format);
        assert_eq!(code, 1, "{format}: errors exit 1\n{out}");
        outputs.push((format, out));
    }
    for (format, out) in &outputs {
        match *format {
            "sarif" => insta::assert_snapshot!("lint_sarif", sarif_snapshot(out)),
            other => insta::assert_snapshot!(format!("lint_{other}"), out),
        }
    }
    // Every format reports the same findings.
    let json: Value = serde_json::from_str(&outputs[1].1).expect("json");
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().expect("code"))
        .collect();
    assert!(codes.len() >= 4, "{codes:?}");
    for code in [
        "dep-unknown",
        "status-invalid",
        "skill-mismatch",
        "field-unknown",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let sarif: Value = serde_json::from_str(&outputs[3].1).expect("sarif");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().expect("ruleId"))
        .collect();
    assert_eq!(ids, codes);
}

#[test]
fn sarif_is_structurally_valid() {
    let tree = faulty();
    let (_, out) = lint(tree.path(), "sarif");
    let sarif: Value = serde_json::from_str(&out).expect("sarif is JSON");
    assert_eq!(
        sarif["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "orch");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    // Present once Cargo.toml names a repository or home page.
    if let Some(uri) = driver.get("informationUri") {
        assert!(
            uri.as_str().expect("a string").starts_with("https://"),
            "{uri}"
        );
    }
    let rules = driver["rules"].as_array().expect("rules");
    // One rule per code, as `orch rules --format json` lists them.
    let listed = orch()
        .args(["rules", "--format", "json"])
        .output()
        .expect("run orch");
    let listed = String::from_utf8(listed.stdout).expect("UTF-8");
    for rule in rules {
        let id = rule["id"].as_str().expect("rule id");
        assert!(listed.contains(&format!("\"{id}\"")), "{id} is not a rule");
        assert!(
            !rule["shortDescription"]["text"]
                .as_str()
                .expect("summary")
                .is_empty()
        );
        assert!(
            rule["help"]["text"]
                .as_str()
                .expect("help")
                .contains("## What it does")
        );
        assert!(rule["help"]["markdown"].is_string());
        let level = rule["defaultConfiguration"]["level"]
            .as_str()
            .expect("level");
        assert!(matches!(level, "error" | "warning"), "{id}: {level}");
    }
    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), rules.len(), "rule ids are unique");

    let results = run["results"].as_array().expect("results");
    assert!(!results.is_empty());
    let mut fingerprints = Vec::new();
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at ruleId"
        );
        assert!(matches!(r["level"].as_str(), Some("error" | "warning")));
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let mut locations = vec![&r["locations"][0]];
        locations.extend(r["relatedLocations"].as_array().into_iter().flatten());
        for loc in locations {
            let physical = &loc["physicalLocation"];
            let artifact = &physical["artifactLocation"];
            let uri = artifact["uri"].as_str().expect("uri");
            assert!(
                uri.starts_with(".orchestrator/"),
                "{uri} is repository-relative"
            );
            assert!(!uri.contains(":") && !uri.starts_with('/'), "{uri}");
            assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
            let region = &physical["region"];
            for key in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(region[key].as_u64().expect(key) >= 1, "{key} is 1-based");
            }
            assert!(region["endLine"].as_u64() >= region["startLine"].as_u64());
        }
        let fp = r["partialFingerprints"]["orchFingerprint/v1"]
            .as_str()
            .expect("fingerprint");
        fingerprints.push(fp.to_string());
    }
    assert!(
        results.iter().any(|r| r["relatedLocations"].is_array()),
        "skill-mismatch carries a related location"
    );
    let n = fingerprints.len();
    fingerprints.sort();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), n, "fingerprints are distinct");

    // Stable: the same program gives the same fingerprints, and so does the
    // program moved elsewhere.
    let again = faulty();
    let (_, out2) = lint(again.path(), "sarif");
    assert_eq!(out, out2);
}

#[test]
fn github_escapes_message_and_file_properties() {
    let tree = base();
    let dir = tree.path().join(".orchestrator");
    // A dependency cell with `%`, `:` and `,` reaches the message, and a
    // sheet whose file name holds `:` and `,` reaches the `file` property.
    edit(
        &dir,
        "plan.md",
        "| P1-CORE-02 | Write the checker | development-implementer | P1-CORE-01 |",
        "| P1-CORE-02 | Write the checker | development-implementer | P1-CORE-01, 100%:x |",
    );
    std::fs::copy(
        dir.join("tickets/P1-CORE-01.md"),
        dir.join("tickets/a:b,c.md"),
    )
    .expect("copy a ticket");
    let (code, out) = lint(tree.path(), "github");
    assert_eq!(code, 1, "{out}");
    let annotations: Vec<&str> = out.lines().filter(|l| l.starts_with("::")).collect();
    assert!(!annotations.is_empty(), "{out}");
    for a in &annotations {
        let (props, data) = a
            .strip_prefix("::error ")
            .or_else(|| a.strip_prefix("::warning "))
            .expect("an error or warning command")
            .split_once("::")
            .expect("properties :: message");
        assert!(!data.contains('\n') && !data.contains('\r'));
        assert!(
            !data
                .replace("%25", "")
                .replace("%0A", "")
                .replace("%0D", "")
                .contains('%'),
            "an unescaped % in {data}"
        );
        for prop in props.split(',') {
            let (key, value) = prop.split_once('=').expect("key=value");
            assert!(!value.contains(':'), "{key}={value}");
        }
    }
    // In the message `%` is escaped but `:` is not; in `file=` both `:` and
    // `,` are; the plain log line keeps the text as it is.
    assert!(
        annotations.iter().any(|a| a.contains("::`100%25:x`")),
        "{out}"
    );
    assert!(out.contains("`100%:x`"), "{out}");
    assert!(
        annotations
            .iter()
            .any(|a| a.contains(" file=.orchestrator/tickets/a%3Ab%2Cc.md,line=")),
        "{out}"
    );
    assert!(out.contains("\n.orchestrator/tickets/a:b,c.md:"), "{out}");
}

#[test]
fn github_annotates_ten_errors_and_logs_them_all() {
    let tree = base();
    let dir = tree.path().join(".orchestrator");
    let rows: String = (3..=14)
        .map(|i| {
            format!(
                "| P1-CORE-{i:02} | Write part {i} | development-implementer | P1-NONE-{i:02} | Done |\n"
            )
        })
        .collect();
    edit(
        &dir,
        "plan.md",
        "| P1-DOCS-01 |",
        &format!("{rows}| P1-DOCS-01 |"),
    );
    let (code, out) = lint(tree.path(), "github");
    assert_eq!(code, 1);
    let logged = out
        .lines()
        .filter(|l| l.starts_with(".orchestrator/plan.md:") && l.contains("error[dep-unknown]"))
        .count();
    assert_eq!(logged, 12, "every finding is in the log:\n{out}");
    let annotated = out.lines().filter(|l| l.starts_with("::error ")).count();
    assert_eq!(annotated, 10, "{out}");
    let summary = out.lines().last().expect("a summary line");
    assert_eq!(
        summary,
        "orch: 12 errors and 0 warnings in 4 files; 2 errors not annotated \
         (GitHub shows 10 per severity per step), all listed above"
    );
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = orch()
            .args(["completions", shell])
            .output()
            .expect("run orch");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).expect("UTF-8");
        assert!(script.contains("lint"), "{shell} completes `lint`");
        if !matches!(shell, "powershell" | "elvish") {
            // clap's PowerShell and Elvish scripts complete flags, not values.
            assert!(
                script.contains("sarif"),
                "{shell} completes --format values"
            );
        }
    }
}

#[test]
fn completions_reject_an_unknown_shell_with_the_list() {
    let out = orch()
        .args(["completions", "tcsh"])
        .output()
        .expect("run orch");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(stderr.contains(shell), "{shell} in {stderr}");
    }
}

#[test]
fn man_page_is_roff() {
    let out = orch().arg("man").output().expect("run orch");
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).expect("UTF-8");
    // clap_mangen puts two lines defining the apostrophe string before .TH.
    let th = page.lines().position(|l| l.starts_with(".TH orch 1"));
    assert!(th.is_some_and(|i| i <= 2), "{page}");
    assert!(page.contains("lint"));
}
