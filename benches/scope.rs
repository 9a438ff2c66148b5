//! Timing of scopes, each case next to a baseline measured the same way in
//! the same run (2 warm-ups, then the median of 9 runs; ratio = case median
//! / baseline median).
//!
//! In process (`orch::scope`): pairwise overlap of 500 disjoint scopes that
//! literal prefixes keep apart, of 500 disjoint scopes they cannot, and of
//! the older mixed and wide sets; `match_files` of 200 scopes over 100,000
//! paths against a plain `starts_with` loop over 200 prefixes.
//!
//! Through the real binary (`CARGO_BIN_EXE_orch`, a release build under
//! `cargo bench`): `orch lint --quiet` on a 500-task program whose 500 cards
//! are all in group G1 (against `cat` of the same files), and on a 200-card
//! program inside a git repository with a 100,000-file index (against
//! `git ls-files` in the same repository).
//!
//! Plain `fn main`, std only (tempfile and serde_json from Cargo.toml):
//!
//! ```text
//! cargo bench --bench scope
//! cargo bench --bench scope -- --overlapping 1000   # only the issue-23 case
//! ```

mod common;

use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use common::{CardScope, Layout, program, program_files, write_program};
use orch::scope::{
    Budget, Pattern, Scope, match_files, pairwise_overlaps, pairwise_overlaps_reference,
};

const ORCH: &str = env!("CARGO_BIN_EXE_orch");
const WARMUP: usize = 2;
const RUNS: usize = 9;

// ---------------------------------------------------------------- timing

#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    min: Duration,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn stats(mut times: Vec<Duration>) -> Stats {
    times.sort();
    Stats {
        median: times[times.len() / 2],
        min: times[0],
    }
}

/// 2 warm-up calls, then 9 timed calls of `f` in this process.
fn time_in_process(f: &mut dyn FnMut()) -> Stats {
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..WARMUP + RUNS {
        let start = Instant::now();
        f();
        let took = start.elapsed();
        if run >= WARMUP {
            times.push(took);
        }
    }
    stats(times)
}

/// 2 warm-up runs, then 9 timed runs of a fresh command each; stdout and
/// stderr to /dev/null. An exit code other than 0 or 1 aborts the bench.
fn measure(what: &str, make: &dyn Fn() -> Command) -> Stats {
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..WARMUP + RUNS {
        let mut cmd = make();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let start = Instant::now();
        let status = cmd
            .status()
            .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
        let took = start.elapsed();
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "{what}: exited with {status}"
        );
        if run >= WARMUP {
            times.push(took);
        }
    }
    stats(times)
}

struct Row {
    case: String,
    stats: Stats,
    baseline: String,
    base: Stats,
}

fn print_table(rows: &[Row]) {
    println!("| case | median ms | min ms | baseline | baseline ms | ratio |");
    println!("|---|---:|---:|---|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.2} | {:.2} | {} | {:.2} | {:.2} |",
            r.case,
            ms(r.stats.median),
            ms(r.stats.min),
            r.baseline,
            ms(r.base.median),
            r.stats.median.as_secs_f64() / r.base.median.as_secs_f64()
        );
    }
}

// ---------------------------------------------------------------- in process

fn scope(allowed: &[String], prohibited: &[String]) -> Option<Scope> {
    let parse = |v: &[String]| {
        v.iter()
            .map(|s| Pattern::parse(s).ok())
            .collect::<Option<Vec<_>>>()
    };
    Some(Scope::new(parse(allowed)?, parse(prohibited)?))
}

/// The literal prefixes of each scope's allowed patterns.
fn prefixes(scopes: &[Scope]) -> Vec<Vec<String>> {
    scopes
        .iter()
        .map(|s| {
            s.allowed
                .iter()
                .map(|p| p.literal_prefix().to_string())
                .collect()
        })
        .collect()
}

/// The naive pair loop: every pair, `starts_with` both ways on every
/// pair of literal prefixes. Returns how many pairs a prefix cannot part.
fn naive_pairs(prefixes: &[Vec<String>]) -> usize {
    let mut kept = 0;
    for (i, a) in prefixes.iter().enumerate() {
        for b in &prefixes[i + 1..] {
            if a.iter().any(|p| {
                b.iter()
                    .any(|q| p.starts_with(q.as_str()) || q.starts_with(p.as_str()))
            }) {
                kept += 1;
            }
        }
    }
    kept
}

fn in_process(rows: &mut Vec<Row>) {
    let budget = Budget::default();

    // 1. 500 disjoint cards that literal prefixes keep apart.
    let scopes: Vec<Scope> = (0..500)
        .filter_map(|i| scope(&[format!("pkg/m{i}/**")], &[format!("pkg/m{i}/gen/**")]))
        .collect();
    let pairs = scopes.len() * (scopes.len() - 1) / 2;
    let report = pairwise_overlaps(&scopes, &budget);
    println!(
        "pairwise, {} prefix-disjoint scopes: {pairs} pairs, {} product searches, {} overlaps",
        scopes.len(),
        report.searched,
        report.overlaps.len(),
    );
    assert!(report.overlaps.is_empty());
    let pruned = time_in_process(&mut || {
        black_box(pairwise_overlaps(black_box(&scopes), &budget));
    });
    let pre = prefixes(&scopes);
    let naive500 = time_in_process(&mut || {
        black_box(naive_pairs(black_box(&pre)));
    });
    let naive_label = |n: usize| {
        format!(
            "naive pair loop: literal-prefix `starts_with` on all {} pairs",
            n * (n - 1) / 2
        )
    };
    rows.push(Row {
        case: "`pairwise_overlaps`, 500 disjoint scopes, prefixes prune every pair".into(),
        stats: pruned,
        baseline: naive_label(500),
        base: naive500,
    });

    // 2. 500 disjoint cards that prefixes cannot keep apart: every pair is a
    // product search. `**/m{i}/*.rs` needs the file's own folder to be m{i}.
    let unpruned: Vec<Scope> = (0..500)
        .filter_map(|i| scope(&[format!("**/m{i}/*.rs")], &[format!("**/m{i}/gen_*.rs")]))
        .collect();
    let started = Instant::now();
    let report = pairwise_overlaps(&unpruned, &budget);
    println!(
        "pairwise, {} disjoint scopes without usable prefixes: {} product searches, {} overlaps, {:?} (first run)",
        unpruned.len(),
        report.searched,
        report.overlaps.len(),
        started.elapsed()
    );
    assert!(report.overlaps.is_empty());
    let stats = time_in_process(&mut || {
        black_box(pairwise_overlaps(black_box(&unpruned), &budget));
    });
    rows.push(Row {
        case: "`pairwise_overlaps`, 500 disjoint scopes `**/m{i}/*.rs`, no prefix help".into(),
        stats,
        baseline: "the prefix-pruned 500 above".into(),
        base: pruned,
    });

    // 3. The 500 prunable cards plus wide ones that literal prefixes cannot prune.
    let mut mixed = scopes.clone();
    mixed.extend((0..20).filter_map(|i| scope(&[format!("pkg/*/gen/v{i}/**/*.rs")], &[])));
    let report = pairwise_overlaps(&mixed, &budget);
    println!(
        "pairwise, 500 cards + 20 wide globs: {} product searches, {} overlaps",
        report.searched,
        report.overlaps.len(),
    );
    let stats = time_in_process(&mut || {
        black_box(pairwise_overlaps(black_box(&mixed), &budget));
    });
    rows.push(Row {
        case: "`pairwise_overlaps`, the 500 + 20 wide globs `pkg/*/gen/v{i}/**/*.rs`".into(),
        stats,
        baseline: "the prefix-pruned 500 above".into(),
        base: pruned,
    });

    // 4. No prefixes at all and overlapping: every pair needs a product search.
    let wide: Vec<Scope> = (0..100)
        .filter_map(|i| scope(&[format!("**/m{i}/**/*.rs")], &["**/gen/**".to_string()]))
        .collect();
    let report = pairwise_overlaps(&wide, &budget);
    println!(
        "pairwise, 100 unprunable scopes: {} product searches, {} overlaps",
        report.searched,
        report.overlaps.len(),
    );
    let stats = time_in_process(&mut || {
        black_box(pairwise_overlaps(black_box(&wide), &budget));
    });
    let pre = prefixes(&wide);
    let base = time_in_process(&mut || {
        black_box(naive_pairs(black_box(&pre)));
    });
    rows.push(Row {
        case: "`pairwise_overlaps`, 100 overlapping scopes `**/m{i}/**/*.rs`, no prefix help"
            .into(),
        stats,
        baseline: naive_label(100),
        base,
    });

    // 5. match_files: 200 scopes over 100,000 paths.
    let files: Vec<String> = (0..100_000)
        .map(|n| {
            let m = n % 500;
            let kind = match n % 10 {
                0 => "gen",
                1 => "docs",
                _ => "src",
            };
            let ext = if kind == "docs" { "md" } else { "rs" };
            format!("pkg/m{m}/{kind}/d{}/f{n}.{ext}", (n / 500) % 20)
        })
        .collect();
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    let many: Vec<Scope> = (0..200)
        .filter_map(|i| match i % 4 {
            0 => scope(&[format!("pkg/m{i}")], &[format!("pkg/m{i}/gen")]),
            1 => scope(&[format!("pkg/m{i}/src/**/*.rs")], &[]),
            2 => scope(
                &[
                    format!("pkg/m{i}/docs/*/*.md"),
                    format!("pkg/m{}/src", i + 1),
                ],
                &[format!("pkg/m{}/src/d1?/**", i + 1)],
            ),
            _ => scope(
                &[format!("**/d{}/*.rs", i % 20)],
                &["pkg/m1*/**".to_string()],
            ),
        })
        .collect();
    let matched = match_files(&many, &refs);
    let total: usize = matched.iter().map(Vec::len).sum();
    println!(
        "match_files, {} scopes x {} paths: {total} memberships",
        many.len(),
        refs.len()
    );
    let stats = time_in_process(&mut || {
        black_box(match_files(black_box(&many), black_box(&refs)));
    });
    // The baseline: what a naive prefix check costs, one `starts_with` per
    // path and prefix, 20 million in all.
    let dirs: Vec<String> = (0..200).map(|i| format!("pkg/m{i}/")).collect();
    let mut hits = 0usize;
    let base = time_in_process(&mut || {
        let mut n = 0usize;
        for path in black_box(&refs) {
            for dir in black_box(&dirs) {
                if path.starts_with(dir.as_str()) {
                    n += 1;
                }
            }
        }
        hits = black_box(n);
    });
    println!("naive prefix loop: {hits} paths under one of 200 module prefixes");
    rows.push(Row {
        case: "`match_files`, 200 scopes x 100,000 paths".into(),
        stats,
        baseline: "plain loop: 100,000 paths x 200 prefixes `starts_with`".into(),
        base,
    });
}

// ---------------------------------------------------------------- generator

/// Modules `pkg/m1/` .. `pkg/m<n>/`, crates `m1` .. `m<n>`.
const LAYOUT: Layout = Layout {
    dir_prefix: "pkg/m",
    crate_prefix: "m",
    bench: "scope",
    timed: "Scope times",
};

/// Write a program of `n` tasks into `dir` (the orchestrator folder); task
/// `i` (module `m = i + 1`) gets `card(i, m)` and `artifacts(m)`.
fn generate(
    dir: &Path,
    n: usize,
    card: &dyn Fn(usize, usize) -> CardScope,
    artifacts: &dyn Fn(usize) -> Vec<String>,
) -> std::io::Result<()> {
    write_program(dir, &program(&LAYOUT, n, card, &|_, m| artifacts(m)))
}

// ---------------------------------------------------------------- processes

/// Git with no system or global configuration.
fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

fn run_git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = git(repo)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("git {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `orch lint --dir DIR --quiet`, with the same git environment as `git`.
fn lint_command(dir: &Path) -> Command {
    let mut c = Command::new(ORCH);
    c.arg("lint")
        .arg("--dir")
        .arg(dir)
        .arg("--quiet")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

/// Lint once with the JSON format: the exit code and (code, severity) of
/// every diagnostic.
fn lint_json(dir: &Path) -> (Option<i32>, Vec<(String, String, String)>) {
    let out = lint_command(dir)
        .args(["--color", "never", "--format", "json"])
        .output()
        .expect("run orch lint");
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "orch lint --format json: no JSON ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let diags = parsed["diagnostics"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
                    (
                        s("code"),
                        s("severity"),
                        format!("{}: {}", s("file"), s("message")),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (out.status.code(), diags)
}

fn show(diags: &[(String, String, String)], n: usize) {
    for (code, sev, msg) in diags.iter().take(n) {
        println!("  {sev} {code} {msg}");
    }
}

/// (a) 500 tasks, all 500 cards in G1, disjoint by prefix.
fn one_group(scratch: &Path, rows: &mut Vec<Row>) -> Result<(), String> {
    let dir = scratch.join("one-group").join(".orchestrator");
    generate(
        &dir,
        500,
        &|_, m| CardScope {
            group: "G1".into(),
            allowed: vec![format!("pkg/m{m}/**")],
            prohibited: vec![format!("pkg/m{m}/gen/**")],
        },
        &|m| {
            vec![
                format!("pkg/m{m}/src/lib.rs"),
                format!("pkg/m{m}/tests/it.rs"),
            ]
        },
    )
    .map_err(|e| format!("generate: {e}"))?;
    let (code, diags) = lint_json(&dir);
    if code != Some(0) {
        println!(
            "FAIL: the 500-card G1 program at {} does not lint clean (exit {code:?}):",
            dir.display()
        );
        show(&diags, 20);
        return Err("(a) must exit 0".into());
    }
    println!(
        "(a) 500 tasks, 500 cards in G1: orch lint exits 0, {} warning(s)",
        diags.len()
    );
    show(&diags, 5);
    let files = program_files(&dir);
    let lint = measure("orch lint (a)", &|| lint_command(&dir));
    let cat = measure("cat (a)", &|| {
        let mut c = Command::new("cat");
        c.current_dir(&dir).args(&files);
        c
    });
    rows.push(Row {
        case: format!(
            "`orch lint --quiet`, 500 tasks, 500 cards in G1 ({} files)",
            files.len()
        ),
        stats: lint,
        baseline: "`cat` of the same files".into(),
        base: cat,
    });
    Ok(())
}

const MODULES: usize = 500;
const FILES_PER_MODULE: usize = 200;

/// The 100,000 indexed paths: per module, 1 in 10 under `gen/`, 1 in 10 a
/// `.md` under `docs/`, the rest `src/f{j}.rs`.
fn indexed_path(i: usize, j: usize) -> String {
    match j % 10 {
        0 => format!("pkg/m{i}/gen/f{j}.rs"),
        1 => format!("pkg/m{i}/docs/f{j}.md"),
        _ => format!("pkg/m{i}/src/f{j}.rs"),
    }
}

/// Card `k` of the git case (module `m = k + 1`), groups of 4. In every
/// fifth group the second card takes the first card's module: 10 pairs
/// that overlap and share 160 tracked files each.
fn git_card(k: usize, m: usize) -> CardScope {
    let group = k / 4 + 1;
    // The module the card works in.
    let w = if k % 4 == 1 && group % 5 == 1 {
        m - 1
    } else {
        m
    };
    let allowed = match k % 4 {
        0 => vec![format!("pkg/m{w}/**")],
        1 => vec![format!("pkg/m{w}/src/**/*.rs")],
        2 => vec![
            format!("pkg/m{w}/docs/*.md"),
            format!("pkg/m{w}/src/f1*.rs"),
        ],
        _ => vec![format!("*/m{w}/docs/*.md"), format!("pkg/m{w}/src/f9?.rs")],
    };
    let prohibited = vec![format!("pkg/m{w}/gen/**")];
    CardScope {
        group: format!("G{group}"),
        allowed,
        prohibited,
    }
}

const GIT_OVERLAPS: usize = 10;

/// (b) a git repository with a 100,000-file index and 200 cards.
fn git_repo(scratch: &Path, rows: &mut Vec<Row>) -> Result<(), String> {
    let repo = scratch.join("repo");
    fs::create_dir_all(&repo).map_err(|e| format!("{}: {e}", repo.display()))?;
    let started = Instant::now();
    run_git(&repo, &["init", "-q"])?;
    run_git(&repo, &["config", "user.name", "orch bench"])?;
    run_git(&repo, &["config", "user.email", "bench@example.invalid"])?;
    let mut child = git(&repo)
        .args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git hash-object: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"pub fn f() {}\n")
        .map_err(|e| format!("git hash-object: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("git hash-object: {e}"))?;
    let sha = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || sha.len() < 40 {
        return Err(format!("git hash-object: {} `{sha}`", out.status));
    }
    let mut info = String::with_capacity(MODULES * FILES_PER_MODULE * 80);
    for i in 0..MODULES {
        for j in 0..FILES_PER_MODULE {
            let _ = writeln!(info, "100644 {sha}\t{}", indexed_path(i, j));
        }
    }
    let mut child = git(&repo)
        .args(["update-index", "--index-info"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git update-index: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(info.as_bytes())
        .map_err(|e| format!("git update-index: {e}"))?;
    let status = child.wait().map_err(|e| format!("git update-index: {e}"))?;
    if !status.success() {
        return Err(format!("git update-index --index-info: {status}"));
    }
    let tracked = run_git(&repo, &["ls-files"])?.lines().count();
    assert_eq!(tracked, MODULES * FILES_PER_MODULE, "git ls-files count");
    let dir = repo.join(".orchestrator");
    generate(&dir, 200, &git_card, &|m| {
        vec![format!("pkg/m{m}/src/f2.rs")]
    })
    .map_err(|e| format!("generate: {e}"))?;
    println!(
        "(b) git repository: {tracked} indexed files, 200 cards in 50 groups, built in {:.0} ms",
        ms(started.elapsed())
    );
    let (code, diags) = lint_json(&dir);
    let overlaps = diags
        .iter()
        .filter(|(c, s, _)| c == "scope-overlap" && s == "error")
        .count();
    let others: Vec<_> = diags
        .iter()
        .filter(|(c, _, _)| c != "scope-overlap")
        .cloned()
        .collect();
    println!(
        "(b) orch lint exits {code:?}: {overlaps} scope-overlap error(s) (the {GIT_OVERLAPS} planted pairs), {} other diagnostic(s)",
        others.len()
    );
    show(&others, 10);
    if overlaps != GIT_OVERLAPS || !matches!(code, Some(0 | 1)) {
        show(&diags, 20);
        return Err(format!(
            "(b) expected {GIT_OVERLAPS} scope-overlap errors, got {overlaps}"
        ));
    }
    let lint = measure("orch lint (b)", &|| lint_command(&dir));
    let ls = measure("git ls-files (b)", &|| {
        let mut c = git(&repo);
        c.arg("ls-files");
        c
    });
    rows.push(Row {
        case: format!("`orch lint --quiet`, 200 cards, git index of {tracked} files"),
        stats: lint,
        baseline: "`git ls-files` in the same repository".into(),
        base: ls,
    });
    Ok(())
}

/// Issue 23, target 3: `cards` scopes in one group, `**/m{i}/**/*.rs` minus
/// `**/gen/**`. Every pair overlaps (`m1/m2/a.rs`), and literal prefixes and
/// last components cannot tell, so every pair is a product search with a
/// witness to find. Timed once at full size (half a million searches);
/// the same-run baseline is the search before issue 23, one full Dijkstra
/// search per pair on one thread ([`pairwise_overlaps_reference`]), on the
/// first 100 scopes' 4,950 pairs, scaled to the full number of pairs. The
/// two must answer alike on those 4,950 pairs, witness for witness (here
/// every witness is built from the patterns' components, and costs are
/// uniform, so even ties are broken alike).
fn many_overlapping(rows: &mut Vec<Row>, cards: usize) {
    let budget = Budget::default();
    let scopes: Vec<Scope> = (0..cards)
        .filter_map(|i| scope(&[format!("**/m{i}/**/*.rs")], &["**/gen/**".to_string()]))
        .collect();
    let sub = &scopes[..100.min(scopes.len())];
    let sub_pairs = sub.len() * (sub.len() - 1) / 2;
    let pairs = scopes.len() * (scopes.len() - 1) / 2;
    let new_sub = pairwise_overlaps(sub, &budget);
    let old_sub = pairwise_overlaps_reference(sub, &budget);
    assert_eq!(new_sub, old_sub, "the two searches disagree");
    assert_eq!(new_sub.overlaps.len(), sub_pairs, "every pair overlaps");
    let few = |f: &mut dyn FnMut()| {
        f();
        let mut times: Vec<Duration> = (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        times.sort();
        Stats {
            median: times[1],
            min: times[0],
        }
    };
    let old = few(&mut || {
        black_box(pairwise_overlaps_reference(black_box(sub), &budget));
    });
    let new = few(&mut || {
        black_box(pairwise_overlaps(black_box(sub), &budget));
    });
    let scale = |s: Stats| Stats {
        median: s.median.mul_f64(pairs as f64 / sub_pairs as f64),
        min: s.min.mul_f64(pairs as f64 / sub_pairs as f64),
    };
    let started = Instant::now();
    let report = black_box(pairwise_overlaps(black_box(&scopes), &budget));
    let full = started.elapsed();
    assert_eq!(report.searched, pairs);
    assert_eq!(report.overlaps.len(), pairs);
    println!(
        "issue 23: {cards} overlapping scopes, {pairs} pairs, {} past literal pruning, {} overlaps, {:.0} ms (one run); per pair {:.1} us, the full search {:.1} us on the first {} scopes",
        report.searched,
        report.overlaps.len(),
        ms(full),
        full.as_secs_f64() * 1e6 / pairs as f64,
        old.median.as_secs_f64() * 1e6 / sub_pairs as f64,
        sub.len(),
    );
    rows.push(Row {
        case: format!(
            "`pairwise_overlaps`, {} overlapping scopes `**/m{{i}}/**/*.rs` on {} pairs (constructed witnesses)",
            sub.len(),
            sub_pairs
        ),
        stats: new,
        baseline: "the full search, one thread, the same pairs".into(),
        base: old,
    });
    rows.push(Row {
        case: format!(
            "`pairwise_overlaps`, {cards} overlapping scopes `**/m{{i}}/**/*.rs`, {pairs} pairs (one run)"
        ),
        stats: Stats {
            median: full,
            min: full,
        },
        baseline: format!("the full search on the {sub_pairs} pairs above, x {pairs}/{sub_pairs}"),
        base: scale(old),
    });
}

fn run() -> Result<(), String> {
    println!("binary: {ORCH}");
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let mut rows = Vec::new();
    // `--overlapping N`: only the issue-23 case, at N cards (1,000 by default).
    if let Some(cards) = arg("--overlapping") {
        many_overlapping(&mut rows, cards);
        print_table(&rows);
        return Ok(());
    }
    let scratch = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    in_process(&mut rows);
    many_overlapping(&mut rows, 1000);
    one_group(scratch.path(), &mut rows)?;
    git_repo(scratch.path(), &mut rows)?;
    println!(
        "\n{WARMUP} warm-up + {RUNS} timed runs each; ratio = case median / baseline median\n"
    );
    print_table(&rows);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
