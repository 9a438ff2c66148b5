//! orch's own docs, checked by orch: `orch align-docs --dir .ci/align-docs`
//! on a clone of this repository (its last commit) passes, and the checks
//! the configuration sets up do bite: a changed snippet region is drift in
//! the doc that quotes it (which `--fix` repairs), and a changed workflow
//! without its doc is `docs-not-updated`. `.ci/run` runs the same command on
//! the repository itself.

use serde_json::Value;

use crate::util::{git, git_output, orch, repo_path};

fn align(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let out = orch()
        .current_dir(dir)
        .env_remove("PRE_COMMIT_FROM_REF")
        .env_remove("PRE_COMMIT_TO_REF")
        .args(["align-docs", "--dir", ".ci/align-docs", "--format", "json"])
        .args(args)
        .output()
        .expect("run orch");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().expect("exit code"), v)
}

fn codes(v: &Value) -> Vec<(String, String)> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn orch_align_docs_passes_on_orch_itself_and_its_checks_bite() {
    let here = repo_path("");
    if !git_output(&here, &["rev-parse", "--git-dir"])
        .status
        .success()
    {
        eprintln!("skipped: this copy of orch is not a git repository");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", here.display());
    git(tmp.path(), &["clone", "-q", "--depth", "1", &url, "orch"]);
    let dir = tmp.path().join("orch");
    // The last commit's docs against its code: every line that can be
    // checked passes; the task lines are not checked (no program).
    let (code, v) = align(&dir, &["--base", "HEAD"]);
    assert_eq!(code, 0, "{v:#}");
    assert!(codes(&v).is_empty(), "{v:#}");
    let statuses: Vec<&str> = v["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["pass", "pass", "not-checked", "pass", "not-checked"]
    );

    // A change to the comment step the docs quote, without the docs.
    let workflow = dir.join(".github/workflows/orch-check.yml");
    let text = std::fs::read_to_string(&workflow).expect("read");
    let from = "marker=\"<!-- orch-align-docs -->\"";
    assert!(text.contains(from), "the comment step finds its marker");
    std::fs::write(
        &workflow,
        text.replace(from, "marker='<!-- orch-align-docs -->'"),
    )
    .expect("write");
    git(&dir, &["commit", "-q", "-am", "quote the marker"]);
    let (code, v) = align(&dir, &["--base", "HEAD~1"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        codes(&v),
        [
            (
                "docs-not-updated".to_string(),
                ".github/workflows/orch-check.yml".to_string()
            ),
            ("docs-snippet-drift".to_string(), "docs/ci.md".to_string()),
        ]
    );
    // --fix copies the region into docs/ci.md; committed, the range passes.
    orch()
        .current_dir(&dir)
        .args([
            "align-docs",
            "--dir",
            ".ci/align-docs",
            "--base",
            "HEAD~1",
            "--fix",
        ])
        .assert()
        .code(1);
    git(&dir, &["commit", "-q", "-am", "docs/ci.md follows"]);
    let (code, v) = align(&dir, &["--base", "HEAD~2"]);
    assert_eq!(code, 0, "{v:#}");
}
