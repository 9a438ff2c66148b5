//! The hostile-input corpus: every folder of `testdata/hostile/` is copied
//! into a temporary folder, finished by the directives of its `expect.txt`
//! (big inputs, symlinks and FIFOs are made here, not committed), and linted
//! by the real binary. Each case must end within the time bound, exit as
//! `expect.txt` says (1 with at least one diagnostic, naming every `code`;
//! or 2 with a message on stderr), never panic, and write nothing; `orch
//! status`, `next`, `graph`, `sheet` and `board --out -` must exit 0, 1 or
//! 2 without a panic.
//!
//! `expect.txt`, one `key = value` a line (`#` starts a comment):
//!
//! - `exit = 1|2` (required)
//! - `code = CODE`: a code the lint must report (repeatable)
//! - `absent = CODE`: a code the lint must not report (repeatable)
//! - `dir = PATH`: pass `--dir PATH` (relative to the case)
//! - `repeat = FILE | MARKER | COUNT | "UNIT"`: replace every `MARKER` in
//!   `FILE` by `UNIT` (a JSON string) repeated `COUNT` times, with `{i}`,
//!   `{prev}` and `{next}` replaced by the 0-based repetition number, the one
//!   before (`start` for the first) and the one after (the first for the
//!   last), zero-padded to five digits
//! - `symlink = LINK | TARGET`, `fifo = PATH`, `mkdir = PATH`
//! - `rename = FROM | TO`: `TO` may hold `\xNN` bytes and `\n`
//! - `deep = DIR | DEPTH | FILE`: move `FILE` `DEPTH` folders below `DIR`
//! - `known_bug = WHY`: the case still fails; the test checks that it does
//!   (so the list shrinks when the bug is fixed) with a shorter bound.
//!
//! Every human output (stdout and stderr) must be free of raw control
//! characters: escape sequences are shown escaped, never obeyed.

#![cfg(unix)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::util::{copy_tree, orch, repo_path};

/// A run longer than this is a hang.
const BOUND: Duration = Duration::from_secs(10);
/// Known bugs are only checked to still fail; a hang shows within this.
const KNOWN_BUG_BOUND: Duration = Duration::from_secs(3);

/// Views run on every case besides `lint`.
const VIEWS: &[&[&str]] = &[
    &["status"],
    &["next"],
    &["graph"],
    &["sheet"],
    &["board", "--out", "-"],
];

#[derive(Debug, Default)]
struct Case {
    name: String,
    src: PathBuf,
    exit: Option<i32>,
    codes: Vec<String>,
    absent: Vec<String>,
    dir: Option<String>,
    known_bug: Option<String>,
    steps: Vec<Step>,
}

#[derive(Debug)]
enum Step {
    Repeat {
        file: String,
        marker: String,
        count: usize,
        unit: String,
    },
    Symlink(String, String),
    Fifo(String),
    Mkdir(String),
    Rename(String, Vec<u8>),
    Deep {
        dir: String,
        depth: usize,
        file: String,
    },
}

fn parts<const N: usize>(value: &str, key: &str, case: &str) -> [String; N] {
    let v: Vec<String> = value.splitn(N, " | ").map(str::to_string).collect();
    v.try_into()
        .unwrap_or_else(|_| panic!("{case}: `{key}` needs {N} parts separated by ` | `"))
}

/// `\xNN` and `\n` escapes to bytes.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("\\xNN"));
            i += 4;
        } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'n') {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn parse_case(src: &Path) -> Case {
    let name = src.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(src.join("expect.txt"))
        .unwrap_or_else(|e| panic!("{name}: read expect.txt: {e}"));
    let mut case = Case {
        name: name.clone(),
        src: src.to_path_buf(),
        ..Case::default()
    };
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("{name}: not `key = value`: {line:?}"));
        let value = value.trim_end();
        match key {
            "exit" => case.exit = Some(value.parse().expect("exit code")),
            "code" => case.codes.push(value.to_string()),
            "absent" => case.absent.push(value.to_string()),
            "dir" => case.dir = Some(value.to_string()),
            "known_bug" => case.known_bug = Some(value.to_string()),
            "repeat" => {
                let [file, marker, count, unit] = parts::<4>(value, key, &name);
                case.steps.push(Step::Repeat {
                    file,
                    marker,
                    count: count.parse().expect("repeat count"),
                    unit: serde_json::from_str(&unit).unwrap_or_else(|e| {
                        panic!("{name}: repeat unit is not a JSON string: {e}")
                    }),
                });
            }
            "symlink" => {
                let [link, target] = parts::<2>(value, key, &name);
                case.steps.push(Step::Symlink(link, target));
            }
            "fifo" => case.steps.push(Step::Fifo(value.to_string())),
            "mkdir" => case.steps.push(Step::Mkdir(value.to_string())),
            "rename" => {
                let [from, to] = parts::<2>(value, key, &name);
                case.steps.push(Step::Rename(from, unescape(&to)));
            }
            "deep" => {
                let [dir, depth, file] = parts::<3>(value, key, &name);
                case.steps.push(Step::Deep {
                    dir,
                    depth: depth.parse().expect("depth"),
                    file,
                });
            }
            _ => panic!("{name}: unknown key `{key}` in expect.txt"),
        }
    }
    assert!(
        matches!(case.exit, Some(1 | 2)),
        "{name}: expect.txt needs `exit = 1` or `exit = 2`"
    );
    case
}

fn cases() -> Vec<Case> {
    let dir = repo_path("testdata/hostile");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .expect("read testdata/hostile")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .map(|p| parse_case(&p))
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// Build the case's folder under `root`: the committed files, then its steps.
fn materialize(case: &Case, root: &Path) {
    copy_tree(&case.src, root);
    for step in &case.steps {
        match step {
            Step::Repeat {
                file,
                marker,
                count,
                unit,
            } => {
                let path = root.join(file);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: read {file}: {e}", case.name));
                assert!(
                    text.contains(marker.as_str()),
                    "{}: no {marker} in {file}",
                    case.name
                );
                let mut fill = String::with_capacity(unit.len() * count);
                for i in 0..*count {
                    if unit.contains('{') {
                        let prev = match i {
                            0 => "start".to_string(),
                            _ => format!("{:05}", i - 1),
                        };
                        fill.push_str(
                            &unit
                                .replace("{i}", &format!("{i:05}"))
                                .replace("{prev}", &prev)
                                .replace("{next}", &format!("{:05}", (i + 1) % count)),
                        );
                    } else {
                        fill.push_str(unit);
                    }
                }
                std::fs::write(&path, text.replace(marker.as_str(), &fill)).expect("write");
            }
            Step::Symlink(link, target) => {
                let link = root.join(link);
                std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
                std::os::unix::fs::symlink(target, &link).expect("symlink");
            }
            Step::Fifo(path) => {
                let status = std::process::Command::new("mkfifo")
                    .arg(root.join(path))
                    .status()
                    .expect("run mkfifo");
                assert!(status.success(), "{}: mkfifo {path} failed", case.name);
            }
            Step::Mkdir(path) => std::fs::create_dir_all(root.join(path)).expect("mkdir"),
            Step::Rename(from, to) => {
                let to = root.join(OsString::from_vec(to.clone()));
                std::fs::rename(root.join(from), to).expect("rename");
            }
            Step::Deep { dir, depth, file } => {
                // Paths beyond PATH_MAX cannot be named, so build the chain
                // bottom-up: wrap the folder in a new one, `depth` times.
                let mut inner = root.join(".deep-0");
                std::fs::create_dir(&inner).expect("mkdir");
                let name = Path::new(file).file_name().expect("file name");
                std::fs::rename(root.join(file), inner.join(name)).expect("move file");
                for level in 1..*depth {
                    let outer = root.join(format!(".deep-{level}"));
                    std::fs::create_dir(&outer).expect("mkdir");
                    std::fs::rename(&inner, outer.join("d")).expect("nest");
                    inner = outer;
                }
                std::fs::rename(&inner, root.join(dir).join("d")).expect("place");
            }
        }
    }
}

/// Every entry under `root` (links not followed) with its type, size and
/// modification time, or the error reading it.
fn snapshot(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        match entry {
            Ok(e) => {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap_or(e.path())
                    .to_path_buf();
                match e.metadata() {
                    Ok(md) => {
                        let mtime = md
                            .modified()
                            .ok()
                            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
                        out.push(format!(
                            "{} {:?} {} {:?}",
                            rel.display(),
                            md.file_type(),
                            if md.is_dir() { 0 } else { md.len() },
                            mtime
                        ));
                    }
                    Err(err) => out.push(format!("{} error {err}", rel.display())),
                }
            }
            Err(err) => out.push(format!("error {err}")),
        }
    }
    out
}

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
    timed_out: bool,
}

fn run(case: &Case, root: &Path, args: &[&str], bound: Duration) -> Run {
    let mut cmd = orch();
    cmd.current_dir(root).arg("--root").arg(root);
    if let Some(dir) = &case.dir {
        cmd.arg("--dir").arg(root.join(dir));
    }
    cmd.args(args).timeout(bound);
    let started = Instant::now();
    let output = cmd.output().expect("spawn orch");
    let elapsed = started.elapsed();
    Run {
        code: output.status.code(),
        timed_out: output.status.code().is_none() && elapsed >= bound,
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
    }
}

/// Problems with one run that every command shares: a hang, a panic, an
/// exit code outside 0..=2, an exit 2 without a message.
fn common(what: &str, r: &Run, problems: &mut Vec<String>) {
    if r.timed_out {
        problems.push(format!("`{what}` did not finish within {:?}", r.elapsed));
        return;
    }
    if r.stderr.contains("panicked") {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains("panicked"))
            .unwrap_or("");
        problems.push(format!("`{what}` panicked: {line}"));
    }
    match r.code {
        Some(0..=2) => {}
        other => problems.push(format!("`{what}` exited with {other:?}")),
    }
    if r.code == Some(2) && r.stderr.trim().is_empty() {
        problems.push(format!("`{what}` exited 2 with nothing on stderr"));
    }
    // Escape sequences in documents, file names and run files are shown
    // escaped, never passed to the terminal (JSON escapes its own).
    let mut shown = r.stderr.as_bytes().to_vec();
    if !what.contains("json") {
        shown.extend_from_slice(&r.stdout);
    }
    let raw = crate::untrusted::raw_controls(&shown);
    if !raw.is_empty() {
        problems.push(format!(
            "`{what}` printed raw control characters: {:?}",
            &raw[..raw.len().min(5)]
        ));
    }
}

/// What is wrong with `orch lint --format json` against the expectation.
fn check_lint(case: &Case, r: &Run, problems: &mut Vec<String>) {
    let what = "lint --format json";
    common(what, r, problems);
    if r.timed_out {
        return;
    }
    let want = case.exit.expect("exit");
    if r.code != Some(want) {
        problems.push(format!(
            "`{what}` exited {:?}, expected {want}; stderr: {}",
            r.code,
            r.stderr.trim()
        ));
        return;
    }
    if want == 1 {
        let json: serde_json::Value = match serde_json::from_slice(&r.stdout) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("`{what}` printed no JSON: {e}"));
                return;
            }
        };
        let codes: Vec<&str> = json["diagnostics"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d["code"].as_str()).collect())
            .unwrap_or_default();
        if codes.is_empty() {
            problems.push(format!("`{what}` exited 1 with no diagnostic"));
        }
        for code in &case.codes {
            if !codes.contains(&code.as_str()) {
                let mut seen = codes.clone();
                seen.sort_unstable();
                seen.dedup();
                problems.push(format!(
                    "`{what}` did not report {code} (reported {seen:?})"
                ));
            }
        }
        for code in &case.absent {
            if codes.contains(&code.as_str()) {
                problems.push(format!("`{what}` reported {code}, which it must not"));
            }
        }
    }
}

/// Run one case; its problems, and the slowest command's time. A known bug
/// runs under the shorter bound and stops at its first problem.
fn check_case(case: &Case) -> (Vec<String>, Duration) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join(&case.name);
    std::fs::create_dir_all(&root).expect("mkdir");
    materialize(case, &root);
    let before = snapshot(&root);
    let known = case.known_bug.is_some();
    let bound = if known { KNOWN_BUG_BOUND } else { BOUND };
    let mut problems = Vec::new();
    let mut slowest = Duration::ZERO;

    let r = run(case, &root, &["lint", "--format", "json"], bound);
    slowest = slowest.max(r.elapsed);
    check_lint(case, &r, &mut problems);
    if known && !problems.is_empty() {
        return (problems, slowest);
    }

    let r = run(case, &root, &["lint"], bound);
    slowest = slowest.max(r.elapsed);
    common("lint", &r, &mut problems);
    if !r.timed_out && r.code != case.exit {
        problems.push(format!(
            "`lint` exited {:?}, expected {:?}",
            r.code, case.exit
        ));
    }
    for args in VIEWS {
        if known && !problems.is_empty() {
            return (problems, slowest);
        }
        let r = run(case, &root, args, bound);
        slowest = slowest.max(r.elapsed);
        common(&args.join(" "), &r, &mut problems);
    }

    let after = snapshot(&root);
    if before != after {
        let gone: Vec<_> = before.iter().filter(|l| !after.contains(l)).collect();
        let new: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
        problems.push(format!(
            "the case folder changed: before {gone:?}, after {new:?}"
        ));
    }
    (problems, slowest)
}

#[test]
fn hostile_corpus() {
    let cases = cases();
    assert!(cases.len() >= 45, "only {} hostile cases", cases.len());
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let (problems, slowest) = check_case(case);
                    results.lock().unwrap().push((i, problems, slowest));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _, _)| *i);

    let mut failures = Vec::new();
    for (i, problems, slowest) in &results {
        let case = &cases[*i];
        match &case.known_bug {
            None if problems.is_empty() => {
                eprintln!("ok    {:<36} slowest command {slowest:.2?}", case.name);
            }
            None => failures.push(format!("{}:\n  {}", case.name, problems.join("\n  "))),
            Some(bug) if problems.is_empty() => failures.push(format!(
                "{}: passes now, but expect.txt says `known_bug = {bug}`: remove that line",
                case.name
            )),
            Some(_) => eprintln!(
                "known {:<36} still fails: {}",
                case.name,
                problems.join("; ")
            ),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
