//! End-to-end timing of `orch lint` on a large generated program, against a
//! `cat` of the same files as the floor (reading the bytes and starting a
//! process), plus the bundled ~30-document example for scale.
//!
//! Plain `fn main`, std only (tempfile and serde_json from Cargo.toml). The
//! binary under test is the one cargo built for this bench
//! (`CARGO_BIN_EXE_orch`, a release build under `cargo bench`).
//!
//! ```text
//! cargo bench --bench lint                              # 2,000 tasks
//! cargo bench --bench lint -- --tasks 4000 --keep /tmp/orch-bench
//! cargo bench --bench lint -- --scaling 500,1000,2000,4000
//! cargo bench --bench lint -- --large 20000   # only issue 23's figures
//! cargo bench --bench lint -- --monorepo 40000,200000,1000000   # issue 23, target 2
//! ```
//!
//! `--keep DIR` writes the generated program to DIR (the orchestrator
//! folder itself: `orch lint --dir DIR`) and leaves it there for profiling.
//! `--scaling N,...` also times lint on programs of those sizes.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use common::{CardScope, Layout, THINGS, plan_tasks, program_files, write_program};

const ORCH: &str = env!("CARGO_BIN_EXE_orch");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.orchestrator.example");
const WARMUP: usize = 2;
const RUNS: usize = 11;
/// A marker file that lets `--keep DIR` replace a program it wrote before,
/// and nothing else.
const MARKER: &str = ".orch-bench-generated";

// ---------------------------------------------------------------- arguments

struct Args {
    tasks: usize,
    files: usize,
    changed: usize,
    group_cards: usize,
    keep: Option<PathBuf>,
    scaling: Vec<usize>,
    large: Option<usize>,
    monorepo: Vec<usize>,
    cache: Option<PathBuf>,
}

/// A positive number, for `--tasks` and the like.
fn positive(name: &str, v: &str) -> Result<usize, String> {
    v.parse()
        .ok()
        .filter(|&n: &usize| n > 0)
        .ok_or_else(|| format!("{name}: `{v}` is not a positive number"))
}

/// A list of positive numbers, `500,1000`.
fn list(name: &str, v: &str) -> Result<Vec<usize>, String> {
    v.split(',')
        .map(|s| s.trim().parse().ok().filter(|&n: &usize| n > 0))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| format!("{name}: `{v}` is not a list like 500,1000"))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        tasks: 2000,
        files: 40_000,
        changed: 4_000,
        group_cards: 400,
        keep: None,
        scaling: Vec::new(),
        large: None,
        monorepo: Vec::new(),
        cache: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            // cargo passes `--bench` to every bench binary.
            "--bench" => {}
            "--tasks" => args.tasks = positive("--tasks", &value("--tasks")?)?,
            "--files" => args.files = positive("--files", &value("--files")?)?,
            "--changed" => args.changed = positive("--changed", &value("--changed")?)?,
            "--group-cards" => {
                args.group_cards = positive("--group-cards", &value("--group-cards")?)?;
            }
            "--keep" => args.keep = Some(PathBuf::from(value("--keep")?)),
            "--large" => args.large = Some(positive("--large", &value("--large")?)?),
            "--scaling" => args.scaling = list("--scaling", &value("--scaling")?)?,
            "--monorepo" => args.monorepo = list("--monorepo", &value("--monorepo")?)?,
            "--cache" => args.cache = Some(PathBuf::from(value("--cache")?)),
            "-h" | "--help" => {
                println!(
                    "usage: cargo bench --bench lint -- [--tasks N] [--files F] [--changed C] [--group-cards G] [--keep DIR] [--scaling N,N,...] [--large N] [--monorepo F,F,... [--cache DIR]]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

// ---------------------------------------------------------------- generator

/// Modules `mod1/` .. `mod<n>/`, crates `mod1` .. `mod<n>`.
const LAYOUT: Layout = Layout {
    dir_prefix: "mod",
    crate_prefix: "mod",
    bench: "lint",
    timed: "Lint and dispatch times",
};

/// The files of a program of `n` tasks, cards in groups of `group_size`:
/// (path relative to the orchestrator folder, content), config first. Each
/// card's scope is its own module; each ticket expects the module's
/// `lib.rs` and a source and a test file named after the task's thing.
fn program(n: usize, group_size: usize) -> Vec<(String, String)> {
    common::program(
        &LAYOUT,
        n,
        &|i, m| CardScope::module(i, m, group_size),
        &|t, m| {
            let file = t.thing.replace(' ', "_");
            vec![
                format!("mod{m}/src/lib.rs"),
                format!("mod{m}/src/{file}.rs"),
                format!("mod{m}/tests/{file}.rs"),
            ]
        },
    )
}

/// Write a program of `n` tasks into `dir` (the orchestrator folder).
fn generate(dir: &Path, n: usize) -> std::io::Result<()> {
    write_program(dir, &program(n, 4))
}

/// Prepare `--keep DIR`: empty, missing, or a program this bench wrote.
fn prepare_keep(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        let empty = fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .next()
            .is_none();
        if !empty {
            if !dir.join(MARKER).exists() {
                return Err(format!(
                    "--keep {}: the folder is not empty and was not written by this bench; pick another",
                    dir.display()
                ));
            }
            fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    fs::write(dir.join(MARKER), "written by benches/lint.rs\n")
        .map_err(|e| format!("{}: {e}", dir.display()))
}

// ---------------------------------------------------------------- repositories

/// Product docs at the top of every generated repository: their code spans
/// resolve, so `align-docs` has something to check and nothing to report.
const README: &str = "# Synthetic product\n\nGenerated by `benches/lint.rs`. Each module has its entry point in `mod1/src/lib.rs` style files; the guide is in `docs/guide.md`.\n";
const GUIDE: &str =
    "# Guide\n\nStart with `mod1/src/lib.rs`, then read the [README](../README.md).\n";
const CHANGELOG: &str = "# Changelog\n\n## Unreleased\n- Synthetic changes for the benchmark.\n";
const BASE_PART: &str = "pub fn part() -> u32 {\n    0\n}\n";
const LIB: &str = "//! A generated module.\npub fn answer() -> u32 {\n    42\n}\n";

/// What a generated repository holds.
struct RepoSpec<'a> {
    /// Source files outside the program (`mod<m>/...`).
    files: usize,
    /// Source files the head commit changes (the base commit has them too).
    changed: usize,
    /// The program under `.orchestrator/`, committed in both commits.
    program: &'a [(String, String)],
    /// Tasks of that program: done tasks' Expected Artifacts are created.
    tasks: usize,
}

/// The facts about a built repository the measurements need.
struct BuiltRepo {
    dir: PathBuf,
    files: usize,
    changed: usize,
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|e| format!("git {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn inline(stream: &mut Vec<u8>, path: &str, data: &[u8]) {
    stream.extend_from_slice(format!("M 100644 inline {path}\ndata {}\n", data.len()).as_bytes());
    stream.extend_from_slice(data);
    stream.push(b'\n');
}

/// A git repository at `dir` with two commits made by one `git fast-import`
/// stream: `base` (every file) and `main` = HEAD (`changed` source files
/// rewritten). The index is HEAD's tree (`git read-tree`, no checkout); the
/// work tree holds only the program and the product docs, which is all
/// `orch` reads from it.
fn build_repo(dir: &Path, spec: &RepoSpec<'_>) -> Result<BuiltRepo, String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    git(dir, &["init", "-q", "-b", "main"])?;
    let tasks = plan_tasks(&LAYOUT, spec.tasks);
    let modules = spec.tasks.max(2000);
    let per = (spec.files / modules).max(8);
    let mut paths: Vec<String> = Vec::with_capacity(spec.files);
    for m in 1..=modules {
        let thing = tasks
            .get(m - 1)
            .map_or(THINGS[m % THINGS.len()], |t| t.thing)
            .replace(' ', "_");
        let extra = usize::from(m <= spec.files % modules);
        paths.push(format!("mod{m}/src/lib.rs"));
        paths.push(format!("mod{m}/src/{thing}.rs"));
        paths.push(format!("mod{m}/tests/{thing}.rs"));
        for j in 1..=per + extra - 3 {
            paths.push(format!("mod{m}/src/part{j:02}.rs"));
        }
        if paths.len() >= spec.files {
            break;
        }
    }
    paths.truncate(spec.files);
    // The head commit changes `part01..part05` of the first modules (the
    // done tasks', whose ledger rows record tests), then more if asked.
    let mut changed: Vec<&str> = paths
        .iter()
        .filter(|p| {
            p.rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with("part0") && f.as_bytes()[5] <= b'5')
        })
        .map(String::as_str)
        .take(spec.changed)
        .collect();
    if changed.len() < spec.changed {
        changed = paths
            .iter()
            .map(String::as_str)
            .take(spec.changed)
            .collect();
    }

    let mut s: Vec<u8> = Vec::with_capacity(spec.files * 48 + (8 << 20));
    for (mark, data) in [(1, BASE_PART), (2, LIB)] {
        s.extend_from_slice(
            format!("blob\nmark :{mark}\ndata {}\n{data}\n", data.len()).as_bytes(),
        );
    }
    s.extend_from_slice(
        b"commit refs/heads/main\nmark :10\ncommitter Orch Bench <bench@example.com> 1700000000 +0000\ndata 5\nbase\n",
    );
    for p in &paths {
        let mark = if p.ends_with("/lib.rs") { 2 } else { 1 };
        s.extend_from_slice(format!("M 100644 :{mark} {p}\n").as_bytes());
    }
    inline(&mut s, "README.md", README.as_bytes());
    inline(&mut s, "CHANGELOG.md", CHANGELOG.as_bytes());
    inline(&mut s, "docs/guide.md", GUIDE.as_bytes());
    for (path, text) in spec.program {
        inline(&mut s, &format!(".orchestrator/{path}"), text.as_bytes());
    }
    s.extend_from_slice(b"\nreset refs/heads/base\nfrom :10\n\n");
    if !changed.is_empty() {
        s.extend_from_slice(
            b"commit refs/heads/main\nmark :11\ncommitter Orch Bench <bench@example.com> 1700000100 +0000\ndata 5\nhead\nfrom :10\n",
        );
        for (k, p) in changed.iter().enumerate() {
            let text =
                format!("// changed on the branch ({p})\npub fn part() -> u32 {{\n    {k}\n}}\n");
            inline(&mut s, p, text.as_bytes());
        }
        s.push(b'\n');
    }
    let mut child = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git fast-import: {e}"))?;
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(&s)
            .map_err(|e| format!("git fast-import: {e}"))?;
    }
    let status = child.wait().map_err(|e| format!("git fast-import: {e}"))?;
    if !status.success() {
        return Err(format!("git fast-import: {status}"));
    }
    git(dir, &["read-tree", "main"])?;
    write_program(&dir.join(".orchestrator"), spec.program)
        .and_then(|()| fs::create_dir_all(dir.join("docs")))
        .and_then(|()| fs::write(dir.join("README.md"), README))
        .and_then(|()| fs::write(dir.join("CHANGELOG.md"), CHANGELOG))
        .and_then(|()| fs::write(dir.join("docs/guide.md"), GUIDE))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(BuiltRepo {
        dir: dir.to_path_buf(),
        files: paths.len(),
        changed: changed.len(),
    })
}

/// Stage an edit of one ticket, in the work tree and the index alike (what a
/// pre-commit hook sees): the last todo task's.
fn stage_one_edit(repo: &Path, program: &[(String, String)]) -> Result<String, String> {
    let tickets = || {
        program
            .iter()
            .rev()
            .filter(|(p, _)| p.starts_with("tickets/"))
    };
    let (path, text) = tickets()
        .find(|(_, t)| t.contains("\nstatus: todo\n"))
        .or_else(|| tickets().next())
        .ok_or("no ticket to edit")?;
    let rel = format!(".orchestrator/{path}");
    let edited = format!("{text}\nReviewed again before dispatch; nothing changed in scope.\n");
    fs::write(repo.join(&rel), edited).map_err(|e| format!("{rel}: {e}"))?;
    git(repo, &["add", "--", &rel])?;
    Ok(rel)
}

// ---------------------------------------------------------------- measuring

fn total_bytes(dir: &Path, files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|f| fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    min: Duration,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One timed run of a fresh process, stdout and stderr to /dev/null. Exit
/// code 2 or a signal aborts the bench.
fn time_once(what: &str, make: &dyn Fn() -> Command) -> Duration {
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
    took
}

fn stats(mut times: Vec<Duration>) -> Stats {
    times.sort();
    Stats {
        median: times[times.len() / 2],
        min: times[0],
    }
}

/// WARMUP warm-up runs, then RUNS timed runs of a fresh command each.
fn measure(what: &str, make: &dyn Fn() -> Command) -> Stats {
    measure_set(what, &[make])[0]
}

/// Several commands measured together: WARMUP rounds, then RUNS timed
/// rounds, each round running every command once in turn, so that load from
/// other work on the machine falls on a figure and its baseline alike.
fn measure_set(what: &str, makers: &[&dyn Fn() -> Command]) -> Vec<Stats> {
    let mut times = vec![Vec::with_capacity(RUNS); makers.len()];
    for round in 0..WARMUP + RUNS {
        for (i, make) in makers.iter().enumerate() {
            let took = time_once(&format!("{what} (command {i})"), *make);
            if round >= WARMUP {
                times[i].push(took);
            }
        }
    }
    times.into_iter().map(stats).collect()
}

/// A generous bound under Linux's ARG_MAX (2 MiB with the default stack).
const ARGS_BUDGET: usize = 1 << 20;

/// `cat FILES > /dev/null` in `dir`; `xargs cat` through `sh -c` when the
/// argument list would be too long. Returns the command maker and whether
/// xargs was used.
fn cat_command(dir: &Path, files: &[PathBuf], list: &Path) -> (Box<dyn Fn() -> Command>, bool) {
    let arg_bytes: usize = files.iter().map(|f| f.as_os_str().len() + 1).sum();
    let dir = dir.to_path_buf();
    if arg_bytes < ARGS_BUDGET {
        let files = files.to_vec();
        (
            Box::new(move || {
                let mut c = Command::new("cat");
                c.current_dir(&dir).args(&files);
                c
            }),
            false,
        )
    } else {
        let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
        fs::write(list, text).expect("write the file list for xargs");
        let list = list.to_path_buf();
        (
            Box::new(move || {
                let mut c = Command::new("sh");
                c.current_dir(&dir)
                    .arg("-c")
                    .arg("xargs cat < \"$1\"")
                    .arg("sh")
                    .arg(&list);
                c
            }),
            true,
        )
    }
}

fn lint_command(dir: &Path) -> Command {
    let mut c = Command::new(ORCH);
    c.arg("lint").arg("--dir").arg(dir).arg("--quiet");
    c
}

/// Lint once with the JSON format; fail loudly unless it exits 0. Returns
/// (errors, warnings, files) from the summary.
fn check_clean(dir: &Path, extra: &[&str]) -> (u64, u64, u64) {
    let out = Command::new(ORCH)
        .args(["lint", "--color", "never", "--format", "json", "--dir"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("run orch lint");
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();
    let summary = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v["summary"][k].as_u64())
            .unwrap_or(0)
    };
    if !out.status.success() {
        let human = Command::new(ORCH)
            .args(["lint", "--color", "never", "--dir"])
            .arg(dir)
            .args(extra)
            .output()
            .expect("run orch lint");
        let text = String::from_utf8_lossy(&human.stdout);
        eprintln!(
            "\nFAIL: the generated program at {} does not lint clean ({}; {} errors, {} warnings). First diagnostics:\n",
            dir.display(),
            out.status,
            summary("errors"),
            summary("warnings")
        );
        for line in text.lines().take(60) {
            eprintln!("{line}");
        }
        eprintln!("{}", String::from_utf8_lossy(&human.stderr));
        std::process::exit(1);
    }
    let warnings = summary("warnings");
    if warnings > 0 {
        println!("note: the generated program lints with {warnings} warning(s):");
        if let Some(ds) = parsed.as_ref().and_then(|v| v["diagnostics"].as_array()) {
            for d in ds.iter().take(5) {
                println!("  {} {}: {}", d["file"], d["code"], d["message"]);
            }
        }
    }
    (summary("errors"), warnings, summary("files"))
}

/// Peak resident set of `orch lint --quiet` in KiB, via `/usr/bin/time -f %M`
/// (max of 3 runs).
fn peak_rss_kib(dir: &Path) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    (0..3)
        .filter_map(|_| {
            let out = Command::new(time)
                .args(["-f", "%M", ORCH, "lint", "--quiet", "--dir"])
                .arg(dir)
                .stdout(Stdio::null())
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())?
                .trim()
                .parse()
                .ok()
        })
        .max()
}

struct Row {
    case: String,
    docs: usize,
    bytes: u64,
    stats: Stats,
    baseline: Option<Stats>,
}

fn print_table(rows: &[Row]) {
    println!("| case | docs | KiB | median ms | min ms | ratio to cat (median) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let ratio = r.baseline.map_or("1.00 (baseline)".to_string(), |b| {
            format!(
                "{:.2}",
                r.stats.median.as_secs_f64() / b.median.as_secs_f64()
            )
        });
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {ratio} |",
            r.case,
            r.docs,
            r.bytes / 1024,
            ms(r.stats.median),
            ms(r.stats.min)
        );
    }
}

/// Lint and cat rows for the program in `dir`.
fn measure_program(label: &str, dir: &Path, scratch: &Path) -> (Row, Row, bool) {
    let files = program_files(dir);
    let docs = files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "md"))
        .count();
    let bytes = total_bytes(dir, &files);
    let lint = measure(&format!("orch lint ({label})"), &|| lint_command(dir));
    let (cat, used_xargs) = cat_command(dir, &files, &scratch.join(format!("{label}.files")));
    let cat = measure(&format!("cat ({label})"), &*cat);
    let cat_case = if used_xargs {
        format!("cat, {label} (xargs)")
    } else {
        format!("cat, {label}")
    };
    (
        Row {
            case: format!("orch lint --quiet, {label}"),
            docs,
            bytes,
            stats: lint,
            baseline: Some(cat),
        },
        Row {
            case: cat_case,
            docs,
            bytes,
            stats: cat,
            baseline: None,
        },
        used_xargs,
    )
}

/// Small program for the pre-commit figure: 6 tasks, 14 documents and the
/// config.
const SMALL_TASKS: usize = 6;

/// One line of the targets table.
struct Figure {
    what: String,
    value: String,
    baseline: String,
    ratio: f64,
    target: f64,
}

fn print_figures(figures: &[Figure]) {
    println!("| figure | measured (median) | baseline, same run (median) | ratio | target | met |");
    println!("|---|---:|---|---:|---:|---|");
    for f in figures {
        println!(
            "| {} | {} | {} | **{:.2}** | ≤ {} | {} |",
            f.what,
            f.value,
            f.baseline,
            f.ratio,
            f.target,
            if f.ratio <= f.target { "yes" } else { "NO" }
        );
    }
}

fn ratio(a: Stats, b: Duration) -> f64 {
    a.median.as_secs_f64() / b.as_secs_f64()
}

fn cmd_in(dir: &Path, program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir).args(args);
    c
}

/// Issue 23, targets 1 and 4, alone (`--large N`): programs of N tasks in
/// plain folders outside git. `orch lint` of the usual program against
/// `cat` of its files; peak memory of that lint and of the 2,000-task one;
/// `orch sheet` over a program whose N tasks are all ready against
/// `orch lint` of that same program.
fn large(n: usize, scratch: &Path) -> Result<(), String> {
    println!("binary: {ORCH}");
    let started = Instant::now();
    let dir = scratch.join(format!("large{n}")).join(".orchestrator");
    generate(&dir, n).map_err(|e| format!("generate: {e}"))?;
    let ready_dir = scratch.join(format!("ready{n}")).join(".orchestrator");
    let ready =
        common::program_all_ready(&LAYOUT, n, &|i, m| CardScope::module(i, m, 4), &|_, m| {
            vec![format!("mod{m}/src/lib.rs")]
        });
    write_program(&ready_dir, &ready).map_err(|e| format!("generate: {e}"))?;
    let small_dir = scratch.join("small2000").join(".orchestrator");
    generate(&small_dir, 2000).map_err(|e| format!("generate: {e}"))?;
    println!(
        "generated in {:.0} ms: {} ({n} tasks), {} ({n} ready tasks), {} (2,000 tasks)",
        ms(started.elapsed()),
        dir.display(),
        ready_dir.display(),
        small_dir.display()
    );
    for d in [&dir, &ready_dir, &small_dir] {
        let (_, warnings, files) = check_clean(d, &[]);
        println!(
            "orch lint {}: exit 0, 0 errors, {warnings} warnings, {files} files",
            d.display()
        );
    }
    let sheet = || {
        let mut c = Command::new(ORCH);
        c.arg("sheet").arg("--dir").arg(&ready_dir);
        c
    };
    let out = sheet().output().map_err(|e| format!("orch sheet: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "orch sheet on the ready program: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let listed = String::from_utf8_lossy(&out.stdout).lines().count();
    println!("orch sheet {}: exit 0, {listed} lines", ready_dir.display());

    println!(
        "\n{WARMUP} warm-up + {RUNS} timed rounds; each round runs a figure and its baselines in turn\n"
    );
    let files = program_files(&dir);
    let kib = total_bytes(&dir, &files) / 1024;
    let (cat, xargs) = cat_command(&dir, &files, &scratch.join("large.files"));
    let lint = || lint_command(&dir);
    let s = measure_set("lint, large program", &[&*cat, &lint]);
    let (cat_s, lint_s) = (s[0], s[1]);
    let mut figures = vec![Figure {
        what: format!(
            "`orch lint`, {n} tasks ({} files, {kib} KiB), a plain folder",
            files.len()
        ),
        value: format!("{:.1} ms", ms(lint_s.median)),
        baseline: format!(
            "`cat` of the same files{}: {:.1} ms",
            if xargs { " (xargs)" } else { "" },
            ms(cat_s.median)
        ),
        ratio: ratio(lint_s, cat_s.median),
        target: 2.0,
    }];
    let ready_lint = || lint_command(&ready_dir);
    let s = measure_set("sheet, ready program", &[&ready_lint, &sheet]);
    let (ready_lint_s, sheet_s) = (s[0], s[1]);
    figures.push(Figure {
        what: format!("`orch sheet`, {n} ready tasks"),
        value: format!("{:.1} ms", ms(sheet_s.median)),
        baseline: format!(
            "`orch lint` of the same program: {:.1} ms",
            ms(ready_lint_s.median)
        ),
        ratio: ratio(sheet_s, ready_lint_s.median),
        target: 2.0,
    });
    for (d, tasks, cap_mib) in [(&dir, n, 256u64), (&small_dir, 2000, 64)] {
        match peak_rss_kib(d) {
            Some(kib) => figures.push(Figure {
                what: format!("peak memory of `orch lint`, {tasks} tasks, a plain folder"),
                value: format!("{kib} KiB ({:.1} MiB)", kib as f64 / 1024.0),
                baseline: format!("{cap_mib} MiB (`/usr/bin/time -f %M`, max of 3 runs)"),
                ratio: kib as f64 / (cap_mib * 1024) as f64,
                target: 1.0,
            }),
            None => println!(
                "peak memory: skipped, /usr/bin/time is not installed (apt-get install -y time)"
            ),
        }
    }
    print_figures(&figures);
    println!(
        "\nmin ms: lint {:.1}, cat {:.1}, sheet {:.1}, lint of the ready program {:.1}",
        ms(lint_s.min),
        ms(cat_s.min),
        ms(sheet_s.min),
        ms(ready_lint_s.min)
    );
    Ok(())
}

// ---------------------------------------------------------------- monorepo

/// What a cached monorepo was built from: a folder whose marker holds
/// another text is rebuilt.
fn monorepo_spec(files: usize, cards: usize) -> String {
    format!(
        "benches/lint.rs monorepo v1: {files} files, {SMALL_TASKS} tasks staged, {cards} cards in group/\n"
    )
}

/// The 200-card program of the monorepo bench: cards in groups of 4 whose
/// scopes are their modules. Every fourth card's glob has no literal prefix
/// (`{mod7,lib7}/src/**`), so only a scan of the index can tell whether it
/// matches; one card in 40 has a typo in it (`source/` for `src/`) and
/// matches nothing, which `scope-unmatched` must scan the whole index to
/// say.
fn group_program(cards: usize) -> Vec<(String, String)> {
    common::program(
        &LAYOUT,
        cards,
        &|i, m| CardScope {
            group: format!("G{}", i / 4 + 1),
            allowed: vec![match i % 40 {
                39 => format!("{{mod{m},lib{m}}}/source/**"),
                _ if i % 4 == 3 => format!("{{mod{m},lib{m}}}/src/**"),
                _ => format!("mod{m}/**"),
            }],
            prohibited: vec![format!("mod{m}/gen/**")],
        },
        &common::lib_and_source,
    )
}

/// The cache folder: `--cache DIR`, else `target/bench-cache` of this
/// package (or of `CARGO_TARGET_DIR`).
fn cache_root(cache: Option<&Path>) -> PathBuf {
    match cache {
        Some(dir) => dir.to_path_buf(),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
            .join("bench-cache"),
    }
}

/// The monorepo of `files` files under `root`, built once and reused while
/// its marker says it was built from the same spec: a repository whose
/// index holds the files (one `git fast-import` commit, `git read-tree`,
/// no checkout), the 6-task program committed under `.orchestrator/` with
/// one ticket edit staged, and the group program in `group/.orchestrator`
/// (untracked). Returns the repository and whether it was built now.
fn cached_monorepo(root: &Path, files: usize, cards: usize) -> Result<(PathBuf, bool), String> {
    let dir = root.join(format!("monorepo-{files}"));
    let marker = dir.join(".git").join("orch-bench-spec");
    let spec = monorepo_spec(files, cards);
    if fs::read_to_string(&marker).is_ok_and(|m| m == spec) {
        return Ok((dir, false));
    }
    if dir.exists() {
        // Only a folder this bench made: a repository with the marker.
        if !marker.exists() {
            return Err(format!(
                "{}: exists and was not built by this bench; remove it or pass --cache DIR",
                dir.display()
            ));
        }
        fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let small = program(SMALL_TASKS, 4);
    build_repo(
        &dir,
        &RepoSpec {
            files,
            changed: 0,
            program: &small,
            tasks: SMALL_TASKS,
        },
    )?;
    stage_one_edit(&dir, &small)?;
    let group = dir.join("group").join(".orchestrator");
    write_program(&group, &group_program(cards))
        .map_err(|e| format!("{}: {e}", group.display()))?;
    fs::write(&marker, spec).map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok((dir, true))
}

/// git and orch alike without the machine's or the user's git config.
fn isolated(mut c: Command) -> Command {
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

/// Issue 23, target 2 (`--monorepo F,...`): repositories of F files. In
/// each, `orch lint --staged` of a 15-file program against `git diff
/// --cached --name-only`, and `orch lint` of a 200-card program (whose
/// `scope-unmatched` matches every card's globs against the index) against
/// `git ls-files`; peak memory of both.
fn monorepo(sizes: &[usize], cards: usize, cache: Option<&Path>) -> Result<(), String> {
    println!("binary: {ORCH}");
    let root = cache_root(cache);
    fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut rows = Vec::new();
    for &files in sizes {
        let started = Instant::now();
        let (dir, built) = cached_monorepo(&root, files, cards)?;
        let index_kib = fs::metadata(dir.join(".git/index")).map_or(0, |m| m.len() / 1024);
        println!(
            "{} {} ({files} files, index {index_kib} KiB) in {:.0} ms",
            if built { "built" } else { "reused" },
            dir.display(),
            ms(started.elapsed())
        );
        let small_dir = dir.join(".orchestrator");
        let group_dir = dir.join("group").join(".orchestrator");
        let (_, warnings, n) = check_clean(&small_dir, &["--staged"]);
        println!(
            "orch lint --staged {}: exit 0, {warnings} warnings, {n} files",
            small_dir.display()
        );
        let (_, warnings, n) = check_clean(&group_dir, &[]);
        println!(
            "orch lint {}: exit 0, {warnings} warnings, {n} files",
            group_dir.display()
        );
        let cached = || isolated(cmd_in(&dir, "git", &["diff", "--cached", "--name-only"]));
        let staged = || {
            let mut c = lint_command(&small_dir);
            c.arg("--staged");
            isolated(c)
        };
        let s = measure_set("monorepo --staged", &[&cached, &staged]);
        let (cached_s, staged_s) = (s[0], s[1]);
        let ls = || isolated(cmd_in(&dir, "git", &["ls-files"]));
        let group = || isolated(lint_command(&group_dir));
        let s = measure_set("monorepo scope-unmatched", &[&ls, &group]);
        let (ls_s, group_s) = (s[0], s[1]);
        let peak = |args: &[&str], d: &Path| -> Option<u64> {
            let out = Command::new("/usr/bin/time")
                .args(["-f", "%M", ORCH, "lint", "--quiet", "--dir"])
                .arg(d)
                .args(args)
                .stdout(Stdio::null())
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()?
                .trim()
                .parse()
                .ok()
        };
        let rss_staged = peak(&["--staged"], &small_dir);
        let rss_group = peak(&[], &group_dir);
        rows.push((
            files, index_kib, cached_s, staged_s, ls_s, group_s, rss_staged, rss_group,
        ));
    }
    println!(
        "\n{WARMUP} warm-up + {RUNS} timed rounds; each round runs a figure and its baseline in turn\n"
    );
    println!(
        "| files | index KiB | `git diff --cached --name-only` ms | `orch lint --staged` (15 files) ms | ratio (≤ 3) | `git ls-files` ms | `orch lint`, {cards} cards ms | ratio (≤ 3) | peak KiB, --staged / {cards} cards |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (files, kib, cached, staged, ls, group, r1, r2) in rows {
        println!(
            "| {files} | {kib} | {:.1} | {:.1} (min {:.1}) | **{:.2}** | {:.1} | {:.1} (min {:.1}) | **{:.2}** | {} / {} |",
            ms(cached.median),
            ms(staged.median),
            ms(staged.min),
            ratio(staged, cached.median),
            ms(ls.median),
            ms(group.median),
            ms(group.min),
            ratio(group, ls.median),
            r1.map_or("-".into(), |k| k.to_string()),
            r2.map_or("-".into(), |k| k.to_string()),
        );
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let scratch = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    if let Some(n) = args.large {
        // `--keep DIR` keeps the generated programs, for profiling.
        let work = match &args.keep {
            Some(dir) => {
                prepare_keep(dir)?;
                std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?
            }
            None => scratch.path().to_path_buf(),
        };
        return large(n, &work);
    }
    if !args.monorepo.is_empty() {
        return monorepo(
            &args.monorepo,
            args.group_cards.min(200),
            args.cache.as_deref(),
        );
    }
    let work = match &args.keep {
        Some(dir) => {
            prepare_keep(dir)?;
            std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?
        }
        None => scratch.path().to_path_buf(),
    };
    println!("binary: {ORCH}");
    println!(
        "{} cores (available_parallelism); {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        git(&work, &["--version"])?.trim()
    );

    // 1. Inputs: the large program in a repository of F files whose branch
    //    changes C of them, a small program in another such repository, and
    //    one group of many cards.
    let started = Instant::now();
    let big_program = program(args.tasks, 4);
    let big = build_repo(
        &work.join("big"),
        &RepoSpec {
            files: args.files,
            changed: args.changed,
            program: &big_program,
            tasks: args.tasks,
        },
    )?;
    let edited = stage_one_edit(&big.dir, &big_program)?;
    let small_program = program(SMALL_TASKS, 4);
    let small = build_repo(
        &work.join("small"),
        &RepoSpec {
            files: args.files,
            changed: 0,
            program: &small_program,
            tasks: SMALL_TASKS,
        },
    )?;
    stage_one_edit(&small.dir, &small_program)?;
    // In the large repository's work tree, untracked: its scopes are the
    // first modules'.
    let group_dir = big.dir.join("group").join(".orchestrator");
    write_program(&group_dir, &program(args.group_cards, args.group_cards))
        .map_err(|e| format!("{}: {e}", group_dir.display()))?;
    println!(
        "generated in {:.0} ms: {}/ ({} source files, {} changed on the branch, {} tasks, staged edit of {edited}), {}/ ({} source files, {SMALL_TASKS} tasks), {} ({} cards in one group)",
        ms(started.elapsed()),
        big.dir.display(),
        big.files,
        big.changed,
        args.tasks,
        small.dir.display(),
        small.files,
        group_dir.display(),
        args.group_cards,
    );

    let big_dir = big.dir.join(".orchestrator");
    let small_dir = small.dir.join(".orchestrator");
    for (dir, extra) in [
        (&big_dir, &[][..]),
        (&big_dir, &["--staged"][..]),
        (&small_dir, &["--staged"][..]),
        (&group_dir, &[][..]),
    ] {
        let (_, warnings, files) = check_clean(dir, extra);
        println!(
            "orch lint {}{}: exit 0, 0 errors, {warnings} warnings, {files} files",
            dir.display(),
            if extra.is_empty() { "" } else { " --staged" }
        );
    }
    let example = PathBuf::from(EXAMPLE);
    let (ex_errors, _, _) = check_clean(&example, &[]);
    assert_eq!(ex_errors, 0);
    let align_args = [
        "align-docs",
        "--base",
        "base",
        "--head",
        "main",
        "--quiet",
        "--dir",
        ".orchestrator",
    ];
    let align = Command::new(ORCH)
        .current_dir(&big.dir)
        .args([
            "align-docs",
            "--base",
            "base",
            "--head",
            "main",
            "--color",
            "never",
            "--dir",
            ".orchestrator",
        ])
        .output()
        .map_err(|e| format!("orch align-docs: {e}"))?;
    let text = String::from_utf8_lossy(&align.stdout);
    if !align.status.success() {
        eprintln!(
            "\nFAIL: align-docs on the generated range: {}",
            align.status
        );
        for line in text.lines().take(40) {
            eprintln!("{line}");
        }
        eprintln!("{}", String::from_utf8_lossy(&align.stderr));
        std::process::exit(1);
    }
    let changed_listed = git(&big.dir, &["diff", "--name-only", "base", "main"])?
        .lines()
        .count();
    println!("orch align-docs base..main: exit 0 ({changed_listed} changed files)");

    // 2. Timing.
    println!(
        "\n{WARMUP} warm-up + {RUNS} timed rounds; each round runs a figure and its baselines in turn\n"
    );
    let mut figures = Vec::new();
    let rel_files = program_files(&big_dir);
    let docs = rel_files.len();
    let kib = total_bytes(&big_dir, &rel_files) / 1024;
    let (cat_big, _) = cat_command(&big_dir, &rel_files, &scratch.path().join("big.files"));
    let lint = || lint_command(&big_dir);
    let staged = || {
        let mut c = lint_command(&big_dir);
        c.arg("--staged");
        c
    };
    let s = measure_set("lint, large program", &[&*cat_big, &lint, &staged]);
    let (cat_s, lint_s, staged_s) = (s[0], s[1], s[2]);
    figures.push(Figure {
        what: format!(
            "`orch lint`, {} tasks ({docs} files, {kib} KiB), {} files in the repository",
            args.tasks, big.files
        ),
        value: format!("{:.1} ms", ms(lint_s.median)),
        baseline: format!("`cat` of the same files: {:.1} ms", ms(cat_s.median)),
        ratio: ratio(lint_s, cat_s.median),
        target: 3.0,
    });
    figures.push(Figure {
        what: "`orch lint --staged`, the same program".into(),
        value: format!("{:.1} ms", ms(staged_s.median)),
        baseline: format!("`orch lint` on the work tree: {:.1} ms", ms(lint_s.median)),
        ratio: ratio(staged_s, lint_s.median),
        target: 1.5,
    });

    let mut align_files: Vec<PathBuf> = rel_files
        .iter()
        .map(|f| Path::new(".orchestrator").join(f))
        .collect();
    align_files.extend(["README.md", "CHANGELOG.md", "docs/guide.md"].map(PathBuf::from));
    let (cat_docs, _) = cat_command(&big.dir, &align_files, &scratch.path().join("align.files"));
    let diff = || cmd_in(&big.dir, "git", &["diff", "--name-only", "base", "main"]);
    let align_cmd = || cmd_in(&big.dir, ORCH, &align_args);
    let s = measure_set("align-docs", &[&diff, &*cat_docs, &align_cmd]);
    let (diff_s, cat_docs_s, align_s) = (s[0], s[1], s[2]);
    figures.push(Figure {
        what: format!(
            "`orch align-docs --base base --head main`, {} changed files",
            big.changed
        ),
        value: format!("{:.1} ms", ms(align_s.median)),
        baseline: format!(
            "`git diff --name-only base main` {:.1} ms + `cat` of the {} documents {:.1} ms",
            ms(diff_s.median),
            align_files.len(),
            ms(cat_docs_s.median)
        ),
        ratio: ratio(align_s, diff_s.median + cat_docs_s.median),
        target: 3.0,
    });

    let cached = || cmd_in(&small.dir, "git", &["diff", "--cached", "--name-only"]);
    let small_staged = || {
        let mut c = lint_command(&small_dir);
        c.arg("--staged");
        c
    };
    let s = measure_set("small program", &[&cached, &small_staged]);
    let (cached_s, small_s) = (s[0], s[1]);
    figures.push(Figure {
        what: format!(
            "`orch lint --staged`, {SMALL_TASKS} tasks ({} files), {} files in the repository",
            program_files(&small_dir).len(),
            small.files
        ),
        value: format!("{:.1} ms", ms(small_s.median)),
        baseline: format!(
            "`git diff --cached --name-only`: {:.1} ms",
            ms(cached_s.median)
        ),
        ratio: ratio(small_s, cached_s.median),
        target: 3.0,
    });

    let group_files = program_files(&group_dir);
    let (cat_group, _) = cat_command(
        &group_dir,
        &group_files,
        &scratch.path().join("group.files"),
    );
    let group_lint = || lint_command(&group_dir);
    let s = measure_set("one group", &[&*cat_group, &group_lint]);
    let (cat_group_s, group_s) = (s[0], s[1]);
    figures.push(Figure {
        what: format!(
            "`orch lint`, {} cards in one group ({} files)",
            args.group_cards,
            group_files.len()
        ),
        value: format!("{:.1} ms", ms(group_s.median)),
        baseline: format!("`cat` of the same files: {:.1} ms", ms(cat_group_s.median)),
        ratio: ratio(group_s, cat_group_s.median),
        target: 10.0,
    });

    match peak_rss_kib(&big_dir) {
        Some(kib) => figures.push(Figure {
            what: format!("peak memory of `orch lint`, {} tasks", args.tasks),
            value: format!("{kib} KiB"),
            baseline: "64 MiB (`/usr/bin/time -f %M`, max of 3 runs)".into(),
            ratio: kib as f64 / 65536.0,
            target: 1.0,
        }),
        None => println!(
            "peak memory: skipped, /usr/bin/time is not installed (apt-get install -y time)"
        ),
    }
    print_figures(&figures);

    let (lint_ex, cat_ex, _) = measure_program("bundled example", &example, scratch.path());
    println!("\nfor scale, outside the targets:\n");
    print_table(&[lint_ex, cat_ex]);
    println!(
        "\nmin ms of each figure: lint {:.1}, --staged {:.1}, align-docs {:.1}, small --staged {:.1}, one group {:.1}",
        ms(lint_s.min),
        ms(staged_s.min),
        ms(align_s.min),
        ms(small_s.min),
        ms(group_s.min)
    );

    // 3. Scaling, on request: programs in a plain folder (no git).
    if !args.scaling.is_empty() {
        println!("\nscaling, programs outside git ({WARMUP} warm-up + {RUNS} timed runs each)\n");
        println!(
            "| tasks | docs | KiB | lint median ms | lint min ms | cat median ms | ratio | us per task |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for &n in &args.scaling {
            let dir = scratch
                .path()
                .join(format!("scale{n}"))
                .join(".orchestrator");
            generate(&dir, n).map_err(|e| format!("generate: {e}"))?;
            check_clean(&dir, &[]);
            let (lint, cat, _) = measure_program(&format!("{n}"), &dir, scratch.path());
            println!(
                "| {n} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
                lint.docs,
                lint.bytes / 1024,
                ms(lint.stats.median),
                ms(lint.stats.min),
                ms(cat.stats.median),
                lint.stats.median.as_secs_f64() / cat.stats.median.as_secs_f64(),
                lint.stats.median.as_secs_f64() * 1e6 / n as f64
            );
        }
    }
    if let Some(dir) = &args.keep {
        println!(
            "\nkept the repositories in {}: orch lint --dir {}/big/.orchestrator, cd {}/big && orch align-docs --base base --head main",
            dir.display(),
            dir.display(),
            dir.display()
        );
    }
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
