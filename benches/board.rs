//! End-to-end timing of `orch board` on the generated 2,000-task program,
//! against `orch status --format json` on the same program in the same run
//! (target: the board within 3x of the status), plus the bundled example
//! for scale.
//!
//! Plain `fn main`, std only (tempfile from Cargo.toml). The binary under
//! test is the one cargo built for this bench (`CARGO_BIN_EXE_orch`, a
//! release build under `cargo bench`). The program sits in a git
//! repository with one commit, as a real one would, so the board's read of
//! the history is timed too.
//!
//! ```text
//! cargo bench --bench board                        # 2,000 tasks
//! cargo bench --bench board -- --tasks 200 --keep /tmp/orch-board
//! ```
//!
//! `--keep DIR` leaves the repository (and its board, at
//! `DIR/.orchestrator/board/index.html`) in DIR, for a look in a browser.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use common::{CardScope, Layout};

const ORCH: &str = env!("CARGO_BIN_EXE_orch");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.orchestrator.example");
const WARMUP: usize = 2;
const RUNS: usize = 11;
const TARGET: f64 = 3.0;

const LAYOUT: Layout = Layout {
    dir_prefix: "mod",
    crate_prefix: "mod",
    bench: "board",
    timed: "Board times",
};

struct Args {
    tasks: usize,
    keep: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        tasks: 2000,
        keep: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bench" => {}
            "--tasks" => {
                args.tasks = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .ok_or("--tasks needs a positive number")?;
            }
            "--keep" => args.keep = Some(PathBuf::from(it.next().ok_or("--keep needs a folder")?)),
            "-h" | "--help" => {
                println!("usage: cargo bench --bench board -- [--tasks N] [--keep DIR]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// A repository holding a program of `n` tasks, committed.
fn build(dir: &Path, n: usize) -> Result<(), String> {
    let files = common::program(&LAYOUT, n, &|i, m| CardScope::module(i, m, 4), &|_, m| {
        vec![format!("mod{m}/src/lib.rs")]
    });
    common::write_program(&dir.join(".orchestrator"), &files)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "program"])
}

fn time_once(cmd: &mut Command) -> Duration {
    let started = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run orch");
    let took = started.elapsed();
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "{cmd:?} exited with {status}"
    );
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Medians of `status --format json` and `board`, run in turn each round.
fn measure(dir: &Path, out: &Path) -> (Duration, Duration) {
    let status = || {
        let mut c = Command::new(ORCH);
        c.args(["status", "--format", "json", "--dir"]).arg(dir);
        c
    };
    let board = || {
        let mut c = Command::new(ORCH);
        c.args(["board", "--quiet", "--dir"])
            .arg(dir)
            .arg("--out")
            .arg(out);
        c
    };
    let (mut s, mut b) = (Vec::new(), Vec::new());
    for round in 0..WARMUP + RUNS {
        let ts = time_once(&mut status());
        let tb = time_once(&mut board());
        if round >= WARMUP {
            s.push(ts);
            b.push(tb);
        }
    }
    (median(s), median(b))
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let scratch = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let repo = match &args.keep {
        Some(dir) => {
            if dir.exists()
                && std::fs::read_dir(dir)
                    .map_err(|e| e.to_string())?
                    .next()
                    .is_some()
            {
                return Err(format!(
                    "--keep {}: pick an empty or new folder",
                    dir.display()
                ));
            }
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            std::path::absolute(dir).map_err(|e| e.to_string())?
        }
        None => scratch.path().join("repo"),
    };
    std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
    let started = Instant::now();
    build(&repo, args.tasks)?;
    let dir = repo.join(".orchestrator");
    println!(
        "binary: {ORCH}\ngenerated {} tasks ({} documents) in {:.0} ms at {}",
        args.tasks,
        common::program_files(&dir).len(),
        ms(started.elapsed()),
        repo.display()
    );
    let page = dir.join("board").join("index.html");
    let check = Command::new(ORCH)
        .args(["board", "--dir"])
        .arg(&dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !check.status.success() {
        return Err(format!(
            "orch board failed: {}",
            String::from_utf8_lossy(&check.stderr)
        ));
    }
    let html = std::fs::read_to_string(&page).map_err(|e| e.to_string())?;
    let layout = html
        .split("<p class=\"sub\">")
        .filter_map(|p| p.split_once(" edge crossings").map(|(a, _)| a.to_string()))
        .next()
        .unwrap_or_default();
    println!("board: {} KiB, {layout} edge crossings", html.len() / 1024);
    println!(
        "\n{WARMUP} warm-up + {RUNS} timed rounds; each round runs the status, then the board\n"
    );
    println!(
        "| program | `orch status --format json` (median) | `orch board` (median) | ratio | target |"
    );
    println!("|---|---:|---:|---:|---:|");
    let out = scratch.path().join("board.html");
    let (s, b) = measure(&dir, &out);
    let ratio = b.as_secs_f64() / s.as_secs_f64();
    println!(
        "| {} tasks | {:.1} ms | {:.1} ms | **{ratio:.2}** | ≤ {TARGET} {} |",
        args.tasks,
        ms(s),
        ms(b),
        if ratio <= TARGET {
            "(met)"
        } else {
            "(NOT met)"
        }
    );
    let (s, b) = measure(Path::new(EXAMPLE), &out);
    println!(
        "| bundled example (20 tasks), for scale | {:.1} ms | {:.1} ms | {:.2} | - |",
        ms(s),
        ms(b),
        b.as_secs_f64() / s.as_secs_f64()
    );
    if let Some(keep) = &args.keep {
        println!("\nkept {}; the board is {}", keep.display(), page.display());
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
