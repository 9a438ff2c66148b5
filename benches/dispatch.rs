//! Dispatch overhead: `orch dispatch` running 64 no-op agents at `--jobs 8`
//! (checks, the in_progress commit, process groups, logs, work-tree
//! snapshots, harvest and the report) next to `xargs -P 8` running the same
//! commands, in one run. Each `orch` run gets a fresh git repository, built
//! outside the timing.
//!
//! Plain `fn main`, std only (tempfile from Cargo.toml). The binary under
//! test is the one cargo built for this bench (`CARGO_BIN_EXE_orch`).
//!
//! ```text
//! cargo bench --bench dispatch                 # 64 agents, jobs 8, 5 runs
//! cargo bench --bench dispatch -- --agents 128 --jobs 16 --runs 3
//! ```

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const ORCH: &str = env!("CARGO_BIN_EXE_orch");

struct Args {
    agents: usize,
    jobs: usize,
    runs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        agents: 64,
        jobs: 8,
        runs: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            let v = it.next().ok_or_else(|| format!("{name} needs a value"))?;
            v.parse()
                .ok()
                .filter(|&n: &usize| n > 0)
                .ok_or_else(|| format!("{name}: `{v}` is not a positive number"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--agents" => args.agents = number("--agents")?,
            "--jobs" => args.jobs = number("--jobs")?,
            "--runs" => args.runs = number("--runs")?,
            "-h" | "--help" => {
                println!(
                    "usage: cargo bench --bench dispatch -- [--agents N] [--jobs N] [--runs N]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

fn id(i: usize) -> String {
    format!("P1-T-{i:03}")
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A repository with `n` ready tasks on disjoint scopes and a no-op agent.
fn program(root: &Path, n: usize) -> Result<(), String> {
    let o = root.join(".orchestrator");
    let w = |p: &Path, text: &str| fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()));
    for sub in ["tickets", "cards", "agents"] {
        fs::create_dir_all(o.join(sub)).map_err(|e| e.to_string())?;
    }
    let agent = root.join("noop.sh");
    w(&agent, "#!/bin/sh\nexit 0\n")?;
    run(Command::new("chmod").arg("+x").arg(&agent))?;
    let mut rows = String::new();
    for i in 0..n {
        let id = id(i);
        let _ = writeln!(
            rows,
            "| {id} | Task {i} | development-implementer | - | {id} passes |"
        );
        w(
            &o.join(format!("tickets/{id}.md")),
            &format!(
                "---\nkind: ticket\nid: {id}\nstatus: todo\n---\n\n## Dispatch Ticket: {id}\n- Objective: Task {i}\n- Owner Skill: development-implementer\n- Inputs: none\n- Commands/Checks: `true`\n- Expected Artifacts: `work/{id}/x`\n- Risks: none\n- Exit Criteria: {id} passes\n"
            ),
        )?;
        w(
            &o.join(format!("cards/{id}.md")),
            &format!(
                "---\nkind: card\nid: {id}\n---\n\n## Codex Execution Card: {id}\n- Skill: development-implementer\n- Goal: Task {i}\n- Allowed Scope:\n  - Files/paths: `work/{id}/**`\n  - Prohibited areas: none\n- Commands to run: `true`\n- Tests/checks to run: `true`\n- Evidence to capture: none\n- Completion criteria: {id} passes\n"
            ),
        )?;
    }
    w(
        &o.join("plan.md"),
        &format!(
            "---\nkind: plan\nid: bench\ntitle: Bench\nstatus: active\n---\n\n# Program Goal\n- Goal: Time dispatch.\n- Scope: No-op agents.\n- Non-goals: none\n\n# Phase Tree\n## Phase P1: Only\n- Outcome: Agents run.\n- Workstreams:\n  - UI: none\n  - Core: none\n  - Infrastructure: none\n  - Test: none\n  - Docs: none\n\n## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n{rows}"
        ),
    )?;
    w(
        &o.join("ledger.md"),
        "---\nkind: ledger\nplan: bench\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n",
    )?;
    w(
        &o.join("config.yaml"),
        "agent:\n  isolate: none\n  command: [\"./noop.sh\", \"{task}\", \"{prompt}\"]\n  adapter: generic\n",
    )?;
    w(&root.join(".gitignore"), ".orchestrator/logs/\n")?;
    let git = |args: &[&str]| {
        run(Command::new("git")
            .current_dir(root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", root)
            .args(args))
    };
    git(&["init", "-q", "-b", "main"])?;
    git(&["config", "user.name", "Bench"])?;
    git(&["config", "user.email", "bench@example.com"])?;
    git(&["config", "commit.gpgsign", "false"])?;
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", "init"])
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let ids: Vec<String> = (0..args.agents).map(id).collect();
    let mut orch_times = Vec::new();
    let mut xargs_times = Vec::new();
    for _ in 0..args.runs {
        let tmp = match tempfile::tempdir() {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let root = tmp.path();
        if let Err(e) = program(root, args.agents) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        // xargs: the same argv per agent, 8 at once, output discarded.
        let lines: String = ids
            .iter()
            .map(|i| format!("./noop.sh {i} prompt\n"))
            .collect();
        let start = Instant::now();
        let xargs = Command::new("xargs")
            .current_dir(root)
            .args(["-P", &args.jobs.to_string(), "-L", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                if let Some(mut stdin) = c.stdin.take() {
                    stdin.write_all(lines.as_bytes())?;
                }
                c.wait()
            });
        let took = start.elapsed();
        if !xargs.is_ok_and(|s| s.success()) {
            eprintln!("error: xargs failed");
            return ExitCode::from(2);
        }
        xargs_times.push(took);
        let start = Instant::now();
        let out = Command::new(ORCH)
            .current_dir(root)
            .env("HOME", root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["dispatch", "--quiet", "--jobs", &args.jobs.to_string()])
            .args(&ids)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        let took = start.elapsed();
        match out {
            Ok(o) if o.status.success() => orch_times.push(took),
            Ok(o) => {
                eprintln!(
                    "error: orch dispatch: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let (o, x) = (median(orch_times), median(xargs_times));
    println!(
        "dispatch overhead, {} no-op agents at --jobs {} (median of {} runs):",
        args.agents, args.jobs, args.runs
    );
    println!(
        "  xargs -P {:<3}      {:>8.1} ms",
        args.jobs,
        x.as_secs_f64() * 1e3
    );
    println!("  orch dispatch      {:>8.1} ms", o.as_secs_f64() * 1e3);
    println!(
        "  overhead           {:>8.1} ms ({:.2} ms per agent)",
        (o.as_secs_f64() - x.as_secs_f64()) * 1e3,
        (o.as_secs_f64() - x.as_secs_f64()) * 1e3 / args.agents as f64
    );
    ExitCode::SUCCESS
}
