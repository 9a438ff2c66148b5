//! Isolation on a large repository (issue 17), in one run, each figure next
//! to its git baseline on the same commit:
//!
//! 1. Per-task isolation overhead: `orch dispatch T --isolate worktree`
//!    minus `orch dispatch T --isolate none` (the same no-op agent, the
//!    same checks and commits: the difference is the branch, the linked
//!    worktree and the seal), against `git worktree add --detach` of the
//!    same commit. Goal: at most 1.5x.
//! 2. `orch integrate --keep` of 64 done tasks' disjoint branches (one
//!    process: every merge checked, one commit per task with its ledger
//!    row, HEAD and the work tree advanced), against 64 runs of `git
//!    merge-tree --write-tree main orch/<ID>`. Goal: at most 1x.
//!
//! The repository has `--files` files (default 40,000) in 400 folders,
//! written with `git fast-import` and checked out outside the timing.
//! Plain `fn main`, std only (tempfile from Cargo.toml); medians of
//! `--rounds` rounds (default 1: a round checks out the 40,000 files six
//! times). The binary is the one cargo built for
//! this bench (`CARGO_BIN_EXE_orch`), or `--orch PATH`.
//!
//! ```text
//! cargo bench --bench isolate
//! cargo bench --bench isolate -- --files 40000 --rounds 3 --orch target/debug/orch
//! ```

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

struct Args {
    files: usize,
    branches: usize,
    rounds: usize,
    orch: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        files: 40_000,
        branches: 64,
        rounds: 1,
        orch: env!("CARGO_BIN_EXE_orch").to_string(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, v: String| -> Result<usize, String> {
            v.parse()
                .ok()
                .filter(|&n: &usize| n > 0)
                .ok_or_else(|| format!("{name}: `{v}` is not a positive number"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--files" => args.files = number("--files", value("--files")?)?,
            "--branches" => args.branches = number("--branches", value("--branches")?)?,
            "--rounds" => args.rounds = number("--rounds", value("--rounds")?)?,
            "--orch" => {
                let path = value("--orch")?;
                args.orch = std::fs::canonicalize(&path)
                    .map_err(|e| format!("--orch {path}: {e}"))?
                    .to_string_lossy()
                    .into_owned();
            }
            "-h" | "--help" => {
                println!(
                    "usage: cargo bench --bench isolate -- [--files N] [--branches N] [--rounds N] [--orch PATH]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

fn id(i: usize) -> String {
    format!("T{i:03}")
}

fn git(root: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", root);
    c
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn timed(cmd: &mut Command) -> Result<Duration, String> {
    let start = Instant::now();
    run(cmd)?;
    Ok(start.elapsed())
}

/// `n` tasks on disjoint scopes `work/<ID>/**`, each `status`, a no-op
/// agent; the ledger has a pass row for every done task.
fn program(root: &Path, n: usize, status: &str) -> Result<(), String> {
    let o = root.join(".orchestrator");
    let w = |p: &Path, text: &str| fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()));
    for sub in ["tickets", "cards"] {
        fs::create_dir_all(o.join(sub)).map_err(|e| e.to_string())?;
    }
    let mut rows = String::new();
    let mut ledger = String::new();
    for i in 0..n {
        let id = id(i);
        let _ = writeln!(
            rows,
            "| {id} | Task {i} | development-implementer | - | {id} passes |"
        );
        if status == "done" {
            let _ = writeln!(
                ledger,
                "| {id} | development-implementer | run R1 | pass | - |"
            );
        }
        w(
            &o.join(format!("tickets/{id}.md")),
            &format!(
                "---\nkind: ticket\nid: {id}\nstatus: {status}\n---\n\n## Dispatch Ticket: {id}\n- Objective: Task {i}\n- Owner Skill: development-implementer\n- Inputs: none\n- Commands/Checks: `true`\n- Expected Artifacts: `work/{id}/x`\n- Risks: none\n- Exit Criteria: {id} passes\n"
            ),
        )?;
        w(
            &o.join(format!("cards/{id}.md")),
            &format!(
                "---\nkind: card\nid: {id}\n---\n\n## Codex Execution Card: {id}\n- Skill: development-implementer\n- Goal: Task {i}\n- Allowed Scope:\n  - Files/paths: `work/{id}/**`\n  - Prohibited areas: none\n- Commands to run: `true`\n- Tests/checks to run: none\n- Evidence to capture: none\n- Completion criteria: {id} passes\n"
            ),
        )?;
    }
    w(
        &o.join("plan.md"),
        &format!(
            "---\nkind: plan\nid: bench\ntitle: Bench\nstatus: active\n---\n\n# Program Goal\n- Goal: Time isolation.\n- Scope: No-op agents.\n- Non-goals: none\n\n# Phase Tree\n## Phase P1: Only\n- Outcome: Agents run.\n- Workstreams:\n  - UI: none\n  - Core: none\n  - Infrastructure: none\n  - Test: none\n  - Docs: none\n\n## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n{rows}"
        ),
    )?;
    w(
        &o.join("ledger.md"),
        &format!(
            "---\nkind: ledger\nplan: bench\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n{ledger}\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n"
        ),
    )?;
    w(
        &o.join("config.yaml"),
        "agent:\n  command: [\"true\", \"{task}\"]\n  adapter: generic\n",
    )?;
    w(
        &root.join(".gitignore"),
        ".orchestrator/logs/\n.orchestrator/runs/\n",
    )
}

/// A repository of `files` generated files plus the program, committed on
/// main (fast-import) and checked out.
fn repository(root: &Path, files: usize, tasks: usize, status: &str) -> Result<(), String> {
    run(git(root).args(["init", "-q", "-b", "main"]))?;
    for (k, v) in [
        ("user.name", "Bench"),
        ("user.email", "bench@example.com"),
        ("commit.gpgsign", "false"),
    ] {
        run(git(root).args(["config", k, v]))?;
    }
    let mut stream = Vec::new();
    let _ = write!(
        stream,
        "commit refs/heads/main\ncommitter Bench <bench@example.com> 1700000000 +0000\ndata 5\nfiles\n"
    );
    for i in 0..files {
        let body = format!("file {i}\nsome text to make it a few lines long\nend\n");
        let _ = write!(
            stream,
            "M 100644 inline src/d{:03}/f{i:05}.txt\ndata {}\n{body}",
            i % 400,
            body.len()
        );
    }
    stream.push(b'\n');
    let mut child = git(root)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&stream)
        .map_err(|e| e.to_string())?;
    if !child.wait().map_err(|e| e.to_string())?.success() {
        return Err("git fast-import failed".into());
    }
    run(git(root).args(["reset", "-q", "--hard", "main"]))?;
    program(root, tasks, status)?;
    run(git(root).args(["add", "-A"]))?;
    run(git(root).args(["commit", "-q", "-m", "program"]))?;
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// Figure 1: the per-task overhead of isolation against `git worktree add`.
fn overhead(args: &Args, root: &Path) -> Result<(Duration, Duration, Duration), String> {
    repository(root, args.files, 1, "todo")?;
    let start = run(git(root).args(["rev-parse", "HEAD"]))?;
    let orch = |mode: &str| -> Result<Duration, String> {
        let d = timed(
            Command::new(&args.orch)
                .current_dir(root)
                .env("HOME", root)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .args(["dispatch", "T000", "--quiet", "--isolate", mode]),
        )?;
        // Back to the start, outside the timing.
        run(git(root).args(["reset", "-q", "--hard", &start]))?;
        run(Command::new(&args.orch)
            .current_dir(root)
            .env("HOME", root)
            .args(["clean", "--force", "--quiet"]))?;
        Ok(d)
    };
    let wt = root.join("../bench-wt");
    let (mut iso, mut none, mut add) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        iso.push(orch("worktree")?);
        none.push(orch("none")?);
        add.push(timed(git(root).args([
            "worktree",
            "add",
            "-q",
            "--detach",
            wt.to_str().ok_or("path")?,
            &start,
        ]))?);
        run(git(root).args(["worktree", "remove", "--force", wt.to_str().ok_or("path")?]))?;
    }
    Ok((median(iso), median(none), median(add)))
}

/// Figure 2: integrating `branches` disjoint branches against as many runs
/// of `git merge-tree --write-tree`.
fn integration(args: &Args, root: &Path) -> Result<(Duration, Duration), String> {
    let n = args.branches;
    repository(root, args.files, n, "done")?;
    let base = run(git(root).args(["rev-parse", "HEAD"]))?;
    // One branch per task as an isolated run leaves it: the agent's change
    // inside its scope, sealed with the trailers.
    let mut stream = String::new();
    for i in 0..n {
        let id = id(i);
        let body = format!("work of {id}\n");
        let msg = format!(
            "orch({id}): seal run R1\n\nOrch-Task: {id}\nOrch-Run: R1\nOrch-Base: {base}\n"
        );
        let _ = write!(
            stream,
            "commit refs/heads/orch/{id}\ncommitter Bench <bench@example.com> 1700000100 +0000\ndata {}\n{msg}from {base}\nM 100644 inline work/{id}/x.txt\ndata {}\n{body}\n",
            msg.len(),
            body.len()
        );
    }
    let mut child = git(root)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(stream.as_bytes())
        .map_err(|e| e.to_string())?;
    if !child.wait().map_err(|e| e.to_string())?.success() {
        return Err("git fast-import failed".into());
    }
    // Main moves on after the dispatch.
    fs::write(root.join("src/d000/f00000.txt"), "changed on main\n").map_err(|e| e.to_string())?;
    run(git(root).args(["commit", "-q", "-am", "main moved"]))?;
    let moved = run(git(root).args(["rev-parse", "HEAD"]))?;
    let (mut orch, mut merge) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        let d = timed(
            Command::new(&args.orch)
                .current_dir(root)
                .env("HOME", root)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .args(["integrate", "--keep", "--quiet"]),
        )?;
        let count = run(git(root).args(["rev-list", "--count", &format!("{moved}..HEAD")]))?;
        if count != n.to_string() {
            return Err(format!("orch integrate made {count} commits, not {n}"));
        }
        orch.push(d);
        run(git(root).args(["reset", "-q", "--hard", &moved]))?;
        let start = Instant::now();
        for i in 0..n {
            run(git(root).args([
                "merge-tree",
                "--write-tree",
                "main",
                &format!("orch/{}", id(i)),
            ]))?;
        }
        merge.push(start.elapsed());
    }
    Ok((median(orch), median(merge)))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = (|| -> Result<(), String> {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let one = tmp.path().join("overhead");
        fs::create_dir_all(&one).map_err(|e| e.to_string())?;
        let (iso, none, add) = overhead(&args, &one)?;
        let extra = iso.saturating_sub(none);
        println!(
            "isolation overhead per task ({} files): dispatch worktree {} - none {} = {}; git worktree add {}; ratio {:.2}x (goal <= 1.5x)",
            args.files,
            ms(iso),
            ms(none),
            ms(extra),
            ms(add),
            extra.as_secs_f64() / add.as_secs_f64()
        );
        let two = tmp.path().join("integrate");
        fs::create_dir_all(&two).map_err(|e| e.to_string())?;
        let (orch, merge) = integration(&args, &two)?;
        println!(
            "integrate {} disjoint branches ({} files): orch integrate {}; {} x git merge-tree --write-tree {}; ratio {:.2}x (goal <= 1x)",
            args.branches,
            args.files,
            ms(orch),
            args.branches,
            ms(merge),
            orch.as_secs_f64() / merge.as_secs_f64()
        );
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
