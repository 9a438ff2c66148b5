//! Fault injection against the handwritten program: each line of
//! `testdata/handwritten/FAULTS.md` breaks the clean program in one place and
//! names the code and line `orch lint` must report.

use std::path::Path;

use crate::util::{copy_tree, orch, repo_path};

/// One line of FAULTS.md.
#[derive(Debug)]
struct Fault {
    code: String,
    file: String,
    original: String,
    replacement: String,
    line: u64,
    source: String,
}

/// Parse `CODE | FILE | s~ORIGINAL~REPLACEMENT~ @ LINE`, splitting on the
/// first two ` | ` only.
fn parse_fault(raw: &str) -> Fault {
    let mut parts = raw.splitn(3, " | ");
    let code = parts.next().expect("code").trim().to_string();
    let file = parts.next().expect("file").trim().to_string();
    let rest = parts.next().expect("substitution");
    let (subst, line) = rest
        .rsplit_once(" @ ")
        .unwrap_or_else(|| panic!("no ` @ LINE` in {raw:?}"));
    let line: u64 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("bad line in {raw:?}"));
    let body = subst
        .trim()
        .strip_prefix("s~")
        .and_then(|s| s.strip_suffix('~'))
        .unwrap_or_else(|| panic!("substitution is not s~A~B~ in {raw:?}"));
    let (original, replacement) = body
        .split_once('~')
        .unwrap_or_else(|| panic!("substitution has no middle `~` in {raw:?}"));
    Fault {
        code,
        file,
        original: original.replace("\\n", "\n"),
        replacement: replacement.replace("\\n", "\n"),
        line,
        source: raw.to_string(),
    }
}

fn faults() -> Vec<Fault> {
    let text = std::fs::read_to_string(repo_path("testdata/handwritten/FAULTS.md"))
        .expect("read FAULTS.md");
    let (_, list) = text
        .split_once("\n---\n")
        .expect("FAULTS.md has a `---` rule before the list");
    list.lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_fault)
        .collect()
}

/// Apply one fault to the copy under `root`; an error names what went wrong.
fn inject(root: &Path, fault: &Fault) -> Result<(), String> {
    let path = root.join(&fault.file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", fault.file))?;
    let crlf = text.contains("\r\n");
    let (original, replacement) = if crlf {
        (
            fault.original.replace('\n', "\r\n"),
            fault.replacement.replace('\n', "\r\n"),
        )
    } else {
        (fault.original.clone(), fault.replacement.clone())
    };
    let count = text.matches(&original).count();
    if count != 1 {
        return Err(format!(
            "ORIGINAL occurs {count} times in {} (want exactly 1)",
            fault.file
        ));
    }
    let changed = text.replacen(&original, &replacement, 1);
    std::fs::write(&path, changed).map_err(|e| format!("write {}: {e}", fault.file))
}

/// Run one fault; `Err` describes every mismatch.
fn check(fault: &Fault) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    copy_tree(&repo_path("testdata/handwritten"), tmp.path());
    inject(tmp.path(), fault)?;
    let out = orch()
        .arg("lint")
        .arg("--dir")
        .arg(tmp.path().join(".orchestrator"))
        .args(["--format", "json"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .map_err(|e| format!("run orch: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if stderr.contains("panicked") {
        problems.push(format!("orch panicked: {stderr}"));
    }
    if out.status.code() != Some(1) {
        problems.push(format!("exit code {:?}, want 1", out.status.code()));
    }
    let json: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("stdout is not JSON ({e}): {stderr}"));
            return Err(problems.join("; "));
        }
    };
    let diags = json["diagnostics"].as_array().cloned().unwrap_or_default();
    let same_code: Vec<&serde_json::Value> = diags
        .iter()
        .filter(|d| d["code"] == fault.code.as_str())
        .collect();
    let hit = same_code.iter().any(|d| {
        d["file"].as_str().is_some_and(|f| f.ends_with(&fault.file))
            && d["line"].as_u64() == Some(fault.line)
    });
    if !hit {
        let seen: Vec<String> = diags
            .iter()
            .map(|d| format!("{} {}:{}", d["code"], d["file"], d["line"]))
            .collect();
        problems.push(format!(
            "no `{}` at {}:{}; got [{}]",
            fault.code,
            fault.file,
            fault.line,
            seen.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn handwritten_program_lints_clean() {
    let out = orch()
        .arg("lint")
        .arg("--dir")
        .arg(repo_path("testdata/handwritten/.orchestrator"))
        .args(["--format", "json"])
        .output()
        .expect("run orch");
    assert_eq!(
        out.status.code(),
        Some(0),
        "the pristine handwritten program must lint clean:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn faults_file_lists_fifteen_faults() {
    assert_eq!(faults().len(), 15);
}

fn run_all(select: impl Fn(&Fault) -> bool) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut ran = 0;
    for fault in faults().into_iter().filter(|f| select(f)) {
        ran += 1;
        if let Err(why) = check(&fault) {
            failures.push(format!("{}\n    {why}", fault.source));
        }
    }
    (ran, failures)
}

#[test]
fn every_fault_is_reported_at_its_line() {
    let (ran, failures) = run_all(|_| true);
    assert_eq!(ran, 15);
    assert!(
        failures.is_empty(),
        "{} of {ran} faults failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// DESIGN 4: `frontmatter-invalid` has its span at the YAML error, here an
/// unclosed quote on line 4.
#[test]
fn frontmatter_invalid_points_at_an_unclosed_quote() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&repo_path("testdata/handwritten"), tmp.path());
    let card = tmp.path().join(".orchestrator/cards/P2-CORE-01.md");
    std::fs::write(
        &card,
        "---\nkind: card\nid: P2-CORE-01\nnote: \"unclosed\n---\n\nbody\n",
    )
    .expect("write");
    let out = orch()
        .arg("lint")
        .arg("--dir")
        .arg(tmp.path().join(".orchestrator"))
        .args(["--format", "json"])
        .output()
        .expect("run orch");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let d = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "frontmatter-invalid")
        .cloned()
        .expect("a frontmatter-invalid diagnostic");
    assert!(
        d["line"].as_u64() >= Some(4),
        "the YAML error is on line 4 or later, orch says {d}"
    );
}
