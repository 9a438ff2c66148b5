//! `orch sheet`: parallel groups with no scope overlap, and the sheets it
//! writes, run for real with a stand-in agent.

use crate::util::{copy_tree, orch, repo_path};

fn groups(args: &[&str]) -> serde_json::Value {
    let out = orch()
        .current_dir(repo_path(""))
        .args([
            "sheet",
            "--dir",
            "testdata/sheet/.orchestrator",
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .expect("run orch sheet");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn ids(v: &serde_json::Value) -> Vec<Vec<String>> {
    v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            g["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .map(|t| t.as_str().unwrap_or("").to_string())
                .collect()
        })
        .collect()
}

#[test]
fn ready_tasks_group_without_overlap_and_a_running_overlap_holds_back() {
    let v = groups(&[]);
    // P1-CORE-01 (`src/**/*.rs`) overlaps P1-UI-01 (`src/ui/**`): another group.
    assert_eq!(
        ids(&v),
        [vec!["P1-UI-01", "P1-DOCS-01"], vec!["P1-CORE-01"]]
    );
    // New groups are numbered after the in-progress card's G1.
    assert_eq!(v["groups"][0]["group"], "G2");
    assert_eq!(v["groups"][1]["group"], "G3");
    // P1-CORE-03 can touch a path P1-CORE-02, in progress, can.
    let held = v["held"].as_array().expect("held");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["task"], "P1-CORE-03");
    assert!(
        held[0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("P1-CORE-02")
    );
}

#[test]
fn jobs_caps_a_group_and_dependencies_come_first() {
    assert_eq!(
        ids(&groups(&["--jobs", "1"])),
        [vec!["P1-UI-01"], vec!["P1-CORE-01"], vec!["P1-DOCS-01"]]
    );
    // Named out of order; the dependency still comes first.
    assert_eq!(
        ids(&groups(&["P1-TEST-01", "P1-UI-01"])),
        [vec!["P1-UI-01"], vec!["P1-TEST-01"]]
    );
}

#[test]
fn grouping_is_deterministic() {
    assert_eq!(groups(&[]), groups(&[]));
}

#[test]
fn unknown_or_unready_tasks_are_refused() {
    for args in [
        &["P9-NOPE-01"][..],
        &["P1-CORE-02"][..],
        &["--jobs", "0"][..],
    ] {
        orch()
            .current_dir(repo_path(""))
            .args(["sheet", "--dir", "testdata/sheet/.orchestrator"])
            .args(args)
            .assert()
            .code(2);
    }
}

/// The sheet's script: its `bash` code block, whatever its fence.
pub fn bash_block(sheet: &str) -> &str {
    let open = sheet.find("bash\n").expect("a bash block");
    let fence_start = sheet[..open].rfind('\n').map_or(0, |i| i + 1);
    let fence = &sheet[fence_start..open];
    assert!(
        fence.len() >= 3 && fence.chars().all(|c| c == '`'),
        "{fence}"
    );
    let body = &sheet[open + "bash\n".len()..];
    let close = body.find(&format!("\n{fence}\n")).expect("a closing fence");
    &body[..close]
}

#[test]
fn written_sheets_lint_clean_and_their_script_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&repo_path("testdata/sheet"), tmp.path());
    copy_tree(
        &repo_path("testdata/agents"),
        &tmp.path().join("testdata/agents"),
    );
    orch()
        .current_dir(tmp.path())
        .args(["sheet", "--write"])
        .assert()
        .success();
    let dir = tmp.path().join(".orchestrator");
    let card = std::fs::read_to_string(dir.join("cards/P1-UI-01.md")).expect("card");
    assert!(card.contains("\ngroup: G2\n"), "{card}");
    let card = std::fs::read_to_string(dir.join("cards/P1-CORE-02.md")).expect("card");
    assert!(
        card.contains("\ngroup: G1\n"),
        "the running task's card is untouched: {card}"
    );
    orch()
        .current_dir(tmp.path())
        .args(["lint"])
        .assert()
        .success();
    // Writing twice gives the same files.
    let sheet = std::fs::read_to_string(dir.join("sheets/G2.md")).expect("sheet");
    orch()
        .current_dir(tmp.path())
        .args(["sheet", "--write"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.join("sheets/G2.md")).expect("sheet"),
        sheet
    );

    let script = bash_block(&sheet);
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(tmp.path())
        .output()
        .expect("run the sheet");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "P1-UI-01=0 P1-DOCS-01=0"
    );
    let log = std::fs::read_to_string(dir.join("logs/P1-UI-01.log")).expect("log");
    assert!(log.contains("agent: task=P1-UI-01"), "{log}");
    assert!(
        log.contains(
            "agent: prompt=Use $development-implementer to execute P1-UI-01: Build the sync panel."
        ),
        "the prompt is one argument, unexpanded: {log}"
    );
}

/// The sheets under `.orchestrator/sheets/`, by name.
fn sheet_names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("sheets"))
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn lint_codes(root: &std::path::Path) -> Vec<String> {
    let out = orch()
        .current_dir(root)
        .args(["lint", "--format", "json"])
        .output()
        .expect("run orch lint");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().expect("code").to_string())
        .collect()
}

#[test]
fn writing_again_keeps_the_names_and_a_regrouping_leaves_no_stale_sheet() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&repo_path("testdata/sheet"), tmp.path());
    let dir = tmp.path().join(".orchestrator");
    let write = |args: &[&str]| -> String {
        let out = orch()
            .current_dir(tmp.path())
            .args([&["sheet", "--write"][..], args].concat())
            .output()
            .expect("run orch sheet");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    write(&[]);
    assert_eq!(sheet_names(&dir), ["G2.md", "G3.md"]);
    let first: Vec<String> = ["sheets/G2.md", "sheets/G3.md", "cards/P1-UI-01.md"]
        .iter()
        .map(|p| std::fs::read_to_string(dir.join(p)).expect("read"))
        .collect();
    // The same ready tasks again: the same names, the same bytes.
    let said = write(&[]);
    assert!(!said.contains("removed"), "{said}");
    assert_eq!(sheet_names(&dir), ["G2.md", "G3.md"]);
    let again: Vec<String> = ["sheets/G2.md", "sheets/G3.md", "cards/P1-UI-01.md"]
        .iter()
        .map(|p| std::fs::read_to_string(dir.join(p)).expect("read"))
        .collect();
    assert_eq!(first, again);
    assert!(lint_codes(tmp.path()).is_empty());

    // Regrouped one task a group: G2..G4, and nothing stale.
    write(&["--jobs", "1"]);
    assert_eq!(sheet_names(&dir), ["G2.md", "G3.md", "G4.md"]);
    assert!(lint_codes(tmp.path()).is_empty());
    // Back to two a group: G4 is removed, and said so.
    let said = write(&["--jobs", "2"]);
    assert!(
        said.contains("removed .orchestrator/sheets/G4.md: its tasks were regrouped"),
        "{said}"
    );
    assert_eq!(sheet_names(&dir), ["G2.md", "G3.md"]);
    assert!(lint_codes(tmp.path()).is_empty());

    // Regrouped by hand: the sheets disagree with the cards, and lint says so.
    let card = dir.join("cards/P1-DOCS-01.md");
    let text = std::fs::read_to_string(&card).expect("card");
    std::fs::write(&card, text.replace("\ngroup: G2\n", "\ngroup: G3\n")).expect("write");
    let codes = lint_codes(tmp.path());
    assert!(codes.contains(&"sheet-mismatch".to_string()), "{codes:?}");
    let card = dir.join("cards/P1-UI-01.md");
    let text = std::fs::read_to_string(&card).expect("card");
    std::fs::write(&card, text.replace("\ngroup: G2\n", "\ngroup: G3\n")).expect("write");
    let codes = lint_codes(tmp.path());
    assert!(codes.contains(&"sheet-stale".to_string()), "{codes:?}");
}
