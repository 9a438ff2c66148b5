//! `orch align-docs` on scripted git histories: real repositories built with
//! the real `git` (system and global config shut out, identity and dates
//! fixed), starting from `testdata/align/base`, which passes every checklist
//! line. Each code is shown failing and then passing once fixed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{copy_tree, git, orch, repo_path};

/// A repository whose `main` holds the base fixture, checked out on a new
/// branch `feature`.
pub(crate) struct Repo {
    tmp: tempfile::TempDir,
}

impl Repo {
    pub(crate) fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let repo = Repo { tmp };
        git(repo.path(), &["init", "-q", "-b", "main"]);
        copy_tree(&repo_path("testdata/align/base"), repo.path());
        repo.commit("base");
        git(repo.path(), &["checkout", "-q", "-b", "feature"]);
        repo
    }

    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub(crate) fn file(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.file(rel)).expect("read")
    }

    pub(crate) fn write(&self, rel: &str, text: &str) {
        let p = self.file(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    /// Replace `from` (which must be there) with `to` in a file.
    pub(crate) fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} lacks {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    pub(crate) fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    pub(crate) fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    pub(crate) fn align(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = orch();
        cmd.current_dir(self.path())
            .env_remove("PRE_COMMIT_FROM_REF")
            .env_remove("PRE_COMMIT_TO_REF")
            .arg("align-docs")
            .args(args);
        cmd
    }

    pub(crate) fn orch_lint(&self, args: &[&str]) -> std::process::Output {
        orch()
            .current_dir(self.path())
            .args(["lint", "--color", "never"])
            .args(args)
            .output()
            .expect("run orch lint")
    }

    /// Exit code and the JSON report.
    pub(crate) fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = self
            .align(&["--format", "json"])
            .args(args)
            .output()
            .expect("run orch");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().expect("exit code"), v)
    }

    /// Exit code and the codes found, in report order.
    pub(crate) fn codes(&self, args: &[&str]) -> (i32, Vec<String>) {
        let (code, v) = self.json(args);
        let codes = v["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| d["code"].as_str().expect("code").to_string())
            .collect();
        (code, codes)
    }
}

/// The codes with their file and the text at the span.
pub(crate) fn finding<'v>(v: &'v Value, code: &str) -> &'v Value {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {v:#}"))
}

/// A change to the store's code that keeps every checklist line passing:
/// the coupled guide changes with it.
pub(crate) fn clean_store_change(r: &Repo) {
    r.edit(
        "src/core/store.rs",
        "pub struct Store {",
        "/// A store.\npub struct Store {",
    );
    r.edit("docs/guide.md", "Add the crate", "Add the `store` crate");
}

#[test]
fn the_base_and_a_clean_change_pass_every_line() {
    let r = Repo::new();
    assert_eq!(r.codes(&[]), (0, vec![]));
    clean_store_change(&r);
    r.commit("document the store");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["range"]["changed"], 2);
    let checklist = v["checklist"].as_array().expect("checklist");
    assert_eq!(checklist.len(), 5);
    assert!(checklist.iter().all(|l| l["status"] == "pass"), "{v:#}");
}

#[test]
fn governing_missing_then_restored() {
    let r = Repo::new();
    r.git(&["rm", "-q", "docs/adr/0001-storage.md"]);
    r.commit("drop the ADR");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let d = finding(&v, "governing-missing");
    assert_eq!(d["file"], ".orchestrator/config.yaml");
    assert_eq!(d["line"], 4);
    r.write("docs/adr/0001-storage.md", "# ADR 0001: storage\n");
    r.commit("restore the ADR");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn governing_untraced_until_the_card_cites_the_doc() {
    let r = Repo::new();
    r.edit(
        ".orchestrator/cards/P1-CORE-01.md",
        " as `docs/adr/0001-storage.md` decides",
        "",
    );
    r.commit("card without the ADR");
    // Nothing governed changed yet: nothing to trace.
    assert_eq!(r.codes(&[]), (0, vec![]));
    clean_store_change(&r);
    r.commit("change the store");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let d = finding(&v, "governing-untraced");
    assert_eq!(d["file"], ".orchestrator/cards/P1-CORE-01.md");
    assert!(
        d["message"].as_str().unwrap().contains("src/core/store.rs"),
        "{d:#}"
    );
    assert_eq!(d["related"][0]["file"], ".orchestrator/config.yaml");
    // Citing it in the ticket's Inputs traces it too.
    r.edit(
        ".orchestrator/tickets/P1-CORE-01.md",
        "the storage ADR",
        "`docs/adr/0001-storage.md`",
    );
    r.commit("cite the ADR");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn governing_untraced_when_no_card_covers_the_path() {
    let r = Repo::new();
    r.write("src/net/http.rs", "pub fn serve() {}\n");
    r.commit("a module no card covers");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    assert_eq!(finding(&v, "governing-untraced")["file"], "src/net/http.rs");
    assert_eq!(finding(&v, "change-untracked")["severity"], "warning");
    r.edit(
        ".orchestrator/cards/P1-CORE-01.md",
        "`src/core/**`, ",
        "`src/core/**`, `src/net/**`, ",
    );
    r.commit("widen the scope");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn docs_broken_path_links_anchors_and_code_spans() {
    let r = Repo::new();
    r.edit(
        "README.md",
        "docs/guide.md#install-it",
        "docs/guide.md#install",
    );
    r.edit("README.md", "(CHANGELOG.md)", "(CHANGES.md)");
    r.edit("README.md", "`src/core/store.rs`", "`src/core/stor.rs`");
    r.edit("docs/guide.md", "(#the-store-guide)", "(#top)");
    r.commit("break the links");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let found: Vec<(String, String, i64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_i64().unwrap(),
            )
        })
        .collect();
    let broken = |file: &str, line: i64| ("docs-broken-path".to_string(), file.to_string(), line);
    assert_eq!(
        found,
        [
            broken("README.md", 4),
            broken("README.md", 4),
            broken("README.md", 5),
            broken("docs/guide.md", 19)
        ]
    );
    let stor = &v["diagnostics"][1];
    assert_eq!(stor["help"], "did you mean `src/core/store.rs`?");
    let anchor = &v["diagnostics"][0];
    assert!(anchor["message"].as_str().unwrap().contains("`#install`"));
    assert!(
        anchor["help"].as_str().unwrap().contains("#install-it"),
        "{anchor:#}"
    );
    // Fixed, every line passes.
    r.edit(
        "README.md",
        "docs/guide.md#install",
        "docs/guide.md#install-it",
    );
    r.edit("README.md", "(CHANGES.md)", "(CHANGELOG.md)");
    r.edit("README.md", "`src/core/stor.rs`", "`src/core/store.rs`");
    r.edit("docs/guide.md", "(#top)", "(#the-store-guide)");
    r.commit("fix the links");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn a_rename_breaks_references_and_the_help_names_the_new_path() {
    let r = Repo::new();
    r.git(&["mv", "src/core/store.rs", "src/core/storage.rs"]);
    r.edit("src/core/lib.rs", "pub mod store;", "pub mod storage;");
    r.edit("docs/guide.md", "pub mod store;", "pub mod storage;");
    r.commit("rename the store module");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let diags = v["diagnostics"].as_array().unwrap();
    let renamed: Vec<&Value> = diags
        .iter()
        .filter(|d| d["code"] == "docs-broken-path" || d["code"] == "artifact-missing")
        .collect();
    assert_eq!(renamed.len(), 3, "{v:#}"); // README code span, snippet file=, ticket artifact
    for d in &renamed {
        assert_eq!(
            d["help"], "`src/core/store.rs` was renamed to `src/core/storage.rs` in this range",
            "{d:#}"
        );
    }
    // The rename is one change, in the card's scope, with the guide updated.
    assert!(
        !diags
            .iter()
            .any(|d| d["code"] == "change-untracked" || d["code"] == "docs-not-updated")
    );
    for file in [
        "README.md",
        "docs/guide.md",
        ".orchestrator/tickets/P1-CORE-01.md",
    ] {
        r.edit(file, "src/core/store.rs", "src/core/storage.rs");
    }
    r.commit("follow the rename");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn snippet_drift_shows_a_unified_diff_and_fix_round_trips() {
    let r = Repo::new();
    r.edit("src/core/store.rs", "path.to_string()", "path.to_owned()");
    r.commit("change the region");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let d = finding(&v, "docs-snippet-drift");
    assert_eq!(
        (d["file"].as_str(), d["line"].as_i64()),
        (Some("docs/guide.md"), Some(8))
    );
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains(
            "--- docs/guide.md (snippet)\n+++ src/core/store.rs (source)\n@@ -1,3 +1,3 @@"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "\n-    Store { path: path.to_string() }\n+    Store { path: path.to_owned() }\n"
        ),
        "{message}"
    );

    let before = r.read("docs/guide.md");
    r.align(&["--fix"]).assert().code(1); // docs-not-updated is left: fix touches snippets only
    let after = r.read("docs/guide.md");
    assert_eq!(
        after,
        before.replace("path.to_string()", "path.to_owned()"),
        "only the snippet's bytes change"
    );
    assert_eq!(r.git(&["status", "--porcelain"]), " M docs/guide.md\n");
    r.commit("fixed snippet");
    assert_eq!(r.codes(&[]), (0, vec![]));
    // A second --fix finds nothing to do and changes nothing.
    r.align(&["--fix"]).assert().success();
    assert_eq!(r.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_region_that_moved_but_did_not_change_has_no_drift() {
    let r = Repo::new();
    r.edit(
        "src/core/store.rs",
        "// ANCHOR: open",
        "impl Store {\n    pub fn len(&self) -> usize {\n        0\n    }\n}\n\n// ANCHOR: open",
    );
    r.edit("docs/guide.md", "Add the crate", "Add the `store` crate");
    r.commit("code above the region");
    assert_eq!(r.codes(&[]), (0, vec![]));
    // Lines pinned with lines= do drift when the file shifts.
    r.edit(
        "src/core/lib.rs",
        "pub mod store;",
        "// the crate\npub mod store;",
    );
    r.commit("shift lib.rs");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    assert!(
        finding(&v, "docs-snippet-drift")["message"]
            .as_str()
            .unwrap()
            .contains("lines 1-1 of `src/core/lib.rs`")
    );
}

#[test]
fn a_missing_region_is_a_broken_path() {
    let r = Repo::new();
    r.edit("docs/guide.md", "region=open", "region=opne");
    r.commit("typo in the region");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let d = finding(&v, "docs-broken-path");
    assert_eq!(
        (
            d["line"].as_i64(),
            d["column"].as_i64(),
            d["end_column"].as_i64()
        ),
        (Some(7), Some(39), Some(43))
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("no `ANCHOR: opne` line")
    );
}

#[test]
fn docs_not_updated_until_the_coupled_doc_changes() {
    let r = Repo::new();
    r.edit(
        "src/core/store.rs",
        "pub struct Store {",
        "/// A store.\npub struct Store {",
    );
    r.commit("code only");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let d = finding(&v, "docs-not-updated");
    assert_eq!(d["file"], "src/core/store.rs");
    assert_eq!(d["related"][0]["file"], ".orchestrator/config.yaml");
    r.edit("docs/guide.md", "Add the crate", "Add the `store` crate");
    r.commit("and the guide");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn artifact_missing_for_a_done_task() {
    let r = Repo::new();
    r.git(&["rm", "-q", "tests/store_test.rs"]);
    r.commit("lose the test");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let d = finding(&v, "artifact-missing");
    assert_eq!(d["file"], ".orchestrator/tickets/P1-CORE-01.md");
    assert_eq!(
        (d["line"].as_i64(), d["column"].as_i64()),
        (Some(12), Some(45))
    );
    r.write("tests/store_test.rs", "#[test]\nfn opens() {}\n");
    r.commit("restore the test");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn tests_not_recorded_for_a_task_with_changes() {
    let r = Repo::new();
    r.edit(
        ".orchestrator/ledger.md",
        "`cargo test` 12 passed",
        "reviewed by hand",
    );
    r.edit(
        ".orchestrator/cards/P1-CORE-01.md",
        "- Tests/checks to run: `cargo test`",
        "- Tests/checks to run: TBD",
    );
    r.commit("no test evidence");
    // No change in the task's scope: nothing to record.
    assert_eq!(r.codes(&[]), (0, vec![]));
    clean_store_change(&r);
    r.commit("change the store");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let files: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "tests-not-recorded")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            ".orchestrator/cards/P1-CORE-01.md",
            ".orchestrator/ledger.md"
        ]
    );
    r.edit(
        ".orchestrator/ledger.md",
        "reviewed by hand",
        "`cargo test` 13 passed",
    );
    r.edit(
        ".orchestrator/cards/P1-CORE-01.md",
        "- Tests/checks to run: TBD",
        "- Tests/checks to run: `cargo test`",
    );
    r.commit("record the tests");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn change_untracked_is_a_warning_that_deny_warnings_fails() {
    let r = Repo::new();
    r.write("tools/gen.sh", "echo gen\n");
    r.commit("a tool");
    assert_eq!(r.codes(&[]), (0, vec!["change-untracked".to_string()]));
    assert_eq!(r.codes(&["--deny-warnings"]).0, 1);
    r.edit(
        ".orchestrator/cards/P1-INFRA-01.md",
        "`deploy/**`, ",
        "`deploy/**`, `tools/**`, ",
    );
    r.commit("the infra task owns tools");
    assert_eq!(r.codes(&["--deny-warnings"]), (0, vec![]));
}

#[test]
fn release_and_rollback_notes_for_deployment_changes() {
    let r = Repo::new();
    r.edit("deploy/app.yaml", "replicas: 1", "replicas: 2");
    r.commit("scale out");
    assert_eq!(
        r.codes(&[]),
        (
            1,
            vec![
                "release-notes-missing".to_string(),
                "rollback-notes-missing".to_string()
            ]
        )
    );
    r.edit(
        "CHANGELOG.md",
        "## 0.1.0",
        "## 0.1.1\n- Two replicas.\n\n## 0.1.0",
    );
    r.commit("release note");
    assert_eq!(
        r.codes(&[]),
        (1, vec!["rollback-notes-missing".to_string()])
    );
    r.edit(
        "docs/rollback.md",
        "Apply",
        "Scale back to one replica, or apply",
    );
    r.commit("rollback note");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn unverified_items_need_risk_owner_and_partial_tasks_listed() {
    let r = Repo::new();
    r.edit(
        ".orchestrator/ledger.md",
        "| low: no user has one yet | qa-test-engineer |",
        "| low: no user has one yet |  |",
    );
    r.edit(
        ".orchestrator/tickets/P1-INFRA-01.md",
        "status: done",
        "status: partial",
    );
    r.commit("incomplete");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let places: Vec<(String, i64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "unverified-incomplete")
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            (".orchestrator/ledger.md".to_string(), 15),
            (".orchestrator/tickets/P1-INFRA-01.md".to_string(), 4)
        ]
    );
    r.edit(".orchestrator/ledger.md", "| low: no user has one yet |  |", "| low: no user has one yet | qa-test-engineer |\n| P1-INFRA-01: health checks under load | medium: pods may restart | release-devops |");
    r.commit("complete");
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn staged_reads_the_index_not_the_work_tree() {
    let r = Repo::new();
    r.edit("src/core/store.rs", "path.to_string()", "path.to_owned()");
    r.git(&["add", "src/core/store.rs"]);
    // The work tree's guide is fixed, but not staged.
    r.edit("docs/guide.md", "path.to_string()", "path.to_owned()");
    let (code, v) = r.json(&["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(v["range"]["head"], "the index");
    assert_eq!(finding(&v, "docs-snippet-drift")["file"], "docs/guide.md");
    r.git(&["add", "docs/guide.md"]);
    assert_eq!(r.codes(&["--staged"]), (0, vec![]));
    // HEAD itself still has the old region and the old snippet: clean.
    assert_eq!(r.codes(&[]), (0, vec![]));
}

#[test]
fn pre_commit_refs_set_the_range() {
    let r = Repo::new();
    r.edit("deploy/app.yaml", "replicas: 1", "replicas: 2");
    r.commit("scale out");
    let head = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    r.git(&["checkout", "-q", "main"]);
    // On main the default range is empty.
    assert_eq!(r.codes(&[]), (0, vec![]));
    let out = r
        .align(&["--format", "json"])
        .env("PRE_COMMIT_FROM_REF", "main")
        .env("PRE_COMMIT_TO_REF", &head)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["range"]["changed"], 1);
    assert_eq!(
        finding(&v, "release-notes-missing")["file"],
        "deploy/app.yaml"
    );
    // The hook passes --staged; pre-commit's refs win over it.
    r.align(&["--staged"])
        .env("PRE_COMMIT_FROM_REF", "main")
        .env("PRE_COMMIT_TO_REF", &head)
        .assert()
        .code(1);
    r.align(&["--staged"]).assert().success();
    // Explicit flags win over the environment.
    r.align(&["--base", "main", "--head", "main"])
        .env("PRE_COMMIT_FROM_REF", "main")
        .env("PRE_COMMIT_TO_REF", &head)
        .assert()
        .success();
}

#[test]
fn the_default_base_is_the_merge_base_with_the_default_branch() {
    let r = Repo::new();
    r.edit("deploy/app.yaml", "replicas: 1", "replicas: 2");
    r.commit("scale out on the branch");
    r.git(&["checkout", "-q", "main"]);
    r.edit("CHANGELOG.md", "## 0.1.0", "## 0.1.1\n- Later.\n\n## 0.1.0");
    r.edit("docs/rollback.md", "Apply", "Then apply");
    r.commit("notes on main");
    r.git(&["checkout", "-q", "feature"]);
    // main's notes are not on this branch's range: they do not count.
    assert_eq!(
        r.codes(&[]).1,
        ["release-notes-missing", "rollback-notes-missing"]
    );
}

/// A branch that changed the deployment, behind a `main` that moved on
/// with its own release notes, store change and guide.
fn behind_a_main_that_moved() -> Repo {
    let r = Repo::new();
    r.edit("deploy/app.yaml", "replicas: 1", "replicas: 2");
    r.commit("scale out on the branch");
    r.git(&["checkout", "-q", "main"]);
    r.edit("CHANGELOG.md", "## 0.1.0", "## 0.1.1\n- Later.\n\n## 0.1.0");
    r.edit("docs/rollback.md", "Apply", "Then apply");
    clean_store_change(&r);
    r.commit("main moves on");
    r.git(&["checkout", "-q", "feature"]);
    r
}

#[test]
fn base_rev_is_the_merge_base_so_a_branch_behind_main_reports_its_own_changes_only() {
    let r = behind_a_main_that_moved();
    let merge_base = r.git(&["merge-base", "main", "HEAD"]).trim().to_string();
    let head = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    // What `git diff main...HEAD` and the pull request show: one file.
    assert_eq!(
        r.git(&["diff", "--name-only", "main...HEAD"]),
        "deploy/app.yaml\n"
    );
    let (code, v) = r.json(&["--base", "main"]);
    assert_eq!(code, 1);
    assert_eq!(v["range"]["spec"], "main...HEAD");
    assert_eq!(v["range"]["form"], "merge-base");
    assert_eq!(v["range"]["changed"], 1, "{v:#}");
    assert_eq!(v["range"]["base_commit"], merge_base.as_str());
    assert_eq!(v["range"]["head_commit"], head.as_str());
    // main's release and rollback notes are not this branch's.
    assert_eq!(
        r.codes(&["--base", "main"]).1,
        ["release-notes-missing", "rollback-notes-missing"]
    );
    // The same as the three-dot range, and as the default (main is the
    // default branch); the first line says which range was used.
    for args in [&["--base", "main"][..], &["main...HEAD"], &["main..."], &[]] {
        let out = r
            .align(args)
            .args(["--color", "never"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text.lines().next().unwrap_or_default();
        let expected = format!(
            "Documentation Alignment Checklist: main...HEAD{}: the merge-base {} to HEAD {}, 1 changed file",
            if args.is_empty() {
                " (main is the default branch)"
            } else {
                ""
            },
            &merge_base[..7],
            &head[..7]
        );
        assert_eq!(first, expected, "{args:?}");
    }
    // lint --base takes the same rule, and says so first.
    let out = r.orch_lint(&["--base", "main"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().next(),
        Some(
            format!(
                "History (ledger-rewritten, id-collision) checked over main...HEAD (the merge-base {})",
                &merge_base[..7]
            )
            .as_str()
        ),
        "{text}"
    );
}

#[test]
fn the_two_dot_range_compares_the_two_trees_directly() {
    let r = behind_a_main_that_moved();
    // `git diff main..HEAD`: main's own changes show up, reversed.
    let (code, v) = r.json(&["main..HEAD"]);
    assert_eq!(v["range"]["spec"], "main..HEAD");
    assert_eq!(v["range"]["form"], "two-dot");
    assert_eq!(v["range"]["changed"], 5, "{v:#}");
    let main = r.git(&["rev-parse", "main"]).trim().to_string();
    assert_eq!(v["range"]["base_commit"], main.as_str());
    assert!(v["range"]["base"].as_str().unwrap().starts_with("main "));
    // Main's notes differ from the branch's, so they count as changed here
    // and the deployment change passes: the reason the default is `...`.
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(r.json(&["main...HEAD"]).0, 1);
    // `..HEAD` alone and an empty head side mean HEAD, as in git.
    assert_eq!(r.json(&["main.."]).1["range"]["changed"], 5);
    // One revision is not a range: the help gives both forms.
    let out = r.align(&["main"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`main...HEAD`") && stderr.contains("`main..HEAD`"),
        "{stderr}"
    );
    // A range and --base (or --staged) together are refused.
    r.align(&["main..HEAD", "--base", "main"]).assert().code(2);
    r.align(&["main..HEAD", "--staged"]).assert().code(2);
}

#[test]
fn unrelated_histories_have_no_merge_base_and_the_help_names_the_two_dot_form() {
    let r = Repo::new();
    r.git(&["checkout", "-q", "--orphan", "other"]);
    r.commit("a root of its own");
    let out = r.align(&["--base", "main"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no common ancestor"), "{stderr}");
    assert!(stderr.contains("`main..HEAD`"), "{stderr}");
    assert_eq!(r.json(&["main..HEAD"]).1["range"]["form"], "two-dot");
}

#[test]
fn a_shallow_clone_without_the_merge_base_is_exit_2_with_the_fix() {
    let r = Repo::new();
    r.edit("deploy/app.yaml", "replicas: 1", "replicas: 2");
    r.commit("scale out");
    r.git(&["checkout", "-q", "main"]);
    r.edit("CHANGELOG.md", "# Changelog", "# Changes");
    r.commit("main moves on");
    let clone = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", r.path().display());
    git(
        clone.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            "--branch",
            "feature",
            &url,
            "c",
        ],
    );
    let dir = clone.path().join("c");
    let out = orch()
        .current_dir(&dir)
        .env_remove("PRE_COMMIT_FROM_REF")
        .env_remove("PRE_COMMIT_TO_REF")
        .arg("align-docs")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shallow"), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
    // An explicit base outside the fetched history says the same.
    let base = r.git(&["rev-parse", "main~1"]).trim().to_string();
    let run = |args: &[&str]| {
        orch()
            .current_dir(&dir)
            .env_remove("PRE_COMMIT_FROM_REF")
            .env_remove("PRE_COMMIT_TO_REF")
            .arg("align-docs")
            .args(args)
            .output()
            .expect("run")
    };
    for args in [
        &["--base", base.as_str()][..],
        // Both tips are in the clone, their merge-base is not.
        &["--base", "origin/main"],
        &["origin/main...HEAD"],
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("shallow"), "{args:?}: {stderr}");
        assert!(stderr.contains("fetch-depth: 0"), "{args:?}: {stderr}");
    }
    // The two-dot form needs no merge-base: both tips are enough.
    let out = run(&["origin/main..HEAD", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // lint --base holds the same guard.
    let out = orch()
        .current_dir(&dir)
        .args(["lint", "--base", "origin/main"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
}

#[test]
fn outside_a_repository_and_bad_revisions_are_exit_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&repo_path("testdata/align/base"), tmp.path());
    let out = orch()
        .current_dir(tmp.path())
        .arg("align-docs")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let r = Repo::new();
    let out = r.align(&["--base", "no-such-rev"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-rev"));
    r.align(&["--staged", "--head", "HEAD"]).assert().code(2);
}

#[test]
fn every_format_carries_the_checklist() {
    let r = Repo::new();
    r.edit("src/core/store.rs", "path.to_string()", "path.to_owned()");
    r.edit("docs/guide.md", "Add the crate", "Add the `store` crate");
    r.commit("drift");

    let out = r.align(&["--format", "markdown"]).output().expect("run");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("- [x] Governing docs constraints respected and traceable\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "- [ ] Product and implementation docs reflect implemented behaviour — 1 error\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("    ```diff\n    --- docs/guide.md (snippet)\n"),
        "{md}"
    );

    let out = r.align(&["--format", "github"]).output().expect("run");
    let gh = String::from_utf8_lossy(&out.stdout);
    assert!(
        gh.contains(
            "[ ] Product and implementation docs reflect implemented behaviour (1 error)\n"
        ),
        "{gh}"
    );
    assert!(gh.contains("::error file=docs/guide.md,line=8,"), "{gh}");

    let out = r.align(&["--format", "sarif"]).output().expect("run");
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 11);
    let result = &run["results"][0];
    assert_eq!(
        rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "docs-snippet-drift"
    );
    assert_eq!(run["properties"]["checklist"][1]["status"], "fail");

    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    assert_eq!(v["checklist"][1]["diagnostics"], serde_json::json!([0]));
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn the_human_report_of_a_failing_range() {
    let r = Repo::new();
    r.edit("src/core/store.rs", "path.to_string()", "path.to_owned()");
    r.edit("README.md", "`src/core/store.rs`", "`src/core/stor.rs`");
    r.edit("deploy/app.yaml", "replicas: 1", "replicas: 2");
    r.edit(
        "CHANGELOG.md",
        "## 0.1.0",
        "## 0.1.1\n- Two replicas.\n\n## 0.1.0",
    );
    r.commit("a change with gaps");
    let out = r.align(&["--color", "never"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    insta::with_settings!({filters => vec![(r"\b[0-9a-f]{7}\b", "[id]")]}, {
        insta::assert_snapshot!("align_human", text);
    });
}

#[test]
fn orch_rules_explains_checklist_codes() {
    let out = orch()
        .args(["rules", "docs-snippet-drift"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ANCHOR: NAME"), "{text}");
}

#[test]
fn orch_ignore_comments_silence_product_doc_findings() {
    let r = Repo::new();
    r.write(
        "docs/scopes.md",
        "# Scopes\n\n<!-- orch-ignore docs-broken-path -->\nA bare folder such as `src/ui` means `src/ui/**`.\n\nBut `src/gone.rs` is reported.\n",
    );
    r.commit("a doc with examples");
    let (code, v) = r.json(&[]);
    assert_eq!(code, 1);
    let d = finding(&v, "docs-broken-path");
    assert_eq!(
        (d["file"].as_str(), d["line"].as_i64()),
        (Some("docs/scopes.md"), Some(6))
    );
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 1, "{v:#}");
    r.edit(
        "docs/scopes.md",
        "# Scopes\n",
        "<!-- orch-ignore-file docs-broken-path -->\n# Scopes\n",
    );
    r.commit("silence the file");
    assert_eq!(r.codes(&[]), (0, vec![]));
}
