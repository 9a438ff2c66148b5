//! `orch mcp` against the command line on the 2,000-task program: a `next`
//! tool call on a warm server (one process, the program held in memory)
//! against `orch next --format json` as a fresh process, both measured in
//! the same rounds; then a call after one ticket changed (one document read
//! again), and the sizes an agent pays for: the tool list and `orch prime`.
//!
//! Plain `fn main`, std only (tempfile and serde_json from Cargo.toml). The
//! binary under test is the one cargo built for this bench
//! (`CARGO_BIN_EXE_orch`, a release build under `cargo bench`).
//!
//! ```text
//! cargo bench --bench mcp                  # 2,000 tasks
//! cargo bench --bench mcp -- --tasks 500
//! ```
//!
//! Token counts use OpenAI's o200k_base tokenizer when `python3 -c 'import
//! bpe_openai'` works (`pip install bpe-openai`, which ships the
//! vocabulary); otherwise bytes / 4 is shown, marked `~`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use common::{CardScope, Layout, program_files, write_program};
use serde_json::{Value, json};

const ORCH: &str = env!("CARGO_BIN_EXE_orch");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.orchestrator.example");
const WARMUP: usize = 3;
const RUNS: usize = 21;
/// The goal: a warm `next` call at most this fraction of the process.
const GOAL: f64 = 0.25;

const LAYOUT: Layout = Layout {
    dir_prefix: "mod",
    crate_prefix: "mod",
    bench: "mcp",
    timed: "MCP server times",
};

fn program(n: usize) -> Vec<(String, String)> {
    common::program(
        &LAYOUT,
        n,
        &|i, m| CardScope::module(i, m, 4),
        &common::lib_and_source,
    )
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .map_err(|e| format!("git {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// A server over pipes, with our own line-based JSON-RPC client.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    id: u64,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Result<Server, String> {
        let mut child = Command::new(ORCH)
            .arg("mcp")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("orch mcp: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut s = Server {
            child,
            stdin,
            stdout,
            id: 0,
        };
        s.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}),
        )?;
        s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(s)
    }

    fn send(&mut self, v: &Value) -> Result<(), String> {
        writeln!(self.stdin, "{v}").map_err(|e| e.to_string())?;
        self.stdin.flush().map_err(|e| e.to_string())
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.id += 1;
        let id = self.id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        let mut line = String::new();
        loop {
            line.clear();
            if self
                .stdout
                .read_line(&mut line)
                .map_err(|e| e.to_string())?
                == 0
            {
                return Err("the server closed its stdout".into());
            }
            let v: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
            if v["id"] == json!(id) {
                return match v.get("error") {
                    Some(e) => Err(format!("{method}: {e}")),
                    None => Ok(v["result"].clone()),
                };
            }
        }
    }

    /// A tool call's structured answer; a tool error is an error.
    fn call(&mut self, tool: &str, args: Value) -> Result<Value, String> {
        let r = self.request("tools/call", json!({"name": tool, "arguments": args}))?;
        if r["isError"] == true {
            return Err(format!("{tool}: {}", r["structuredContent"]));
        }
        Ok(r["structuredContent"].clone())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli_next(dir: &Path) -> Result<Value, String> {
    let out = Command::new(ORCH)
        .args(["next", "--format", "json"])
        .current_dir(dir)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&out.stdout).map_err(|e| format!("orch next: {e}"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Token counts of several texts: o200k_base when bpe_openai imports, else
/// bytes / 4 (marked `~`).
fn tokens(texts: &[&str]) -> Vec<String> {
    let script = "import sys, json, bpe_openai\ne = bpe_openai.get_encoding('o200k_base')\nprint(json.dumps([len(e.encode(t)) for t in json.load(sys.stdin)]))";
    let exact = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()
        .and_then(|mut child| {
            let input = serde_json::to_string(texts).ok()?;
            child.stdin.take()?.write_all(input.as_bytes()).ok()?;
            let out = child.wait_with_output().ok()?;
            serde_json::from_slice::<Vec<u64>>(&out.stdout).ok()
        });
    match exact {
        Some(counts) => counts.iter().map(|n| n.to_string()).collect(),
        None => texts.iter().map(|t| format!("~{}", t.len() / 4)).collect(),
    }
}

fn prime(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(ORCH)
        .arg("prime")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "orch prime {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn run() -> Result<(), String> {
    let mut tasks = 2000;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => {}
            "--tasks" => {
                tasks = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .ok_or("--tasks needs a positive number")?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = tmp.path();
    write_program(&dir.join(".orchestrator"), &program(tasks)).map_err(|e| e.to_string())?;
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "program"])?;

    let mut server = Server::start(dir, &[])?;
    let started = Instant::now();
    let first = server.call("next", json!({}))?;
    let cold = started.elapsed();
    let want = cli_next(dir)?;
    if first != want {
        return Err("the tool's answer differs from `orch next --format json`".into());
    }
    let ready = first["ready"].as_array().map_or(0, Vec::len);

    let (mut warm, mut process) = (Vec::new(), Vec::new());
    for round in 0..WARMUP + RUNS {
        let t = Instant::now();
        server.call("next", json!({}))?;
        let w = t.elapsed();
        let t = Instant::now();
        cli_next(dir)?;
        let p = t.elapsed();
        if round >= WARMUP {
            warm.push(w);
            process.push(p);
        }
    }
    let (warm, process) = (median(warm), median(process));
    let ratio = warm.as_secs_f64() / process.as_secs_f64();

    // One ticket changed between calls: that document is read again.
    let ticket = dir.join(".orchestrator/tickets");
    let first_ticket = std::fs::read_dir(&ticket)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .min()
        .ok_or("no ticket")?;
    let text = std::fs::read_to_string(&first_ticket).map_err(|e| e.to_string())?;
    let mut edited = Vec::new();
    for round in 0..WARMUP + RUNS {
        std::fs::write(&first_ticket, format!("{text}\n<!-- edit {round} -->\n"))
            .map_err(|e| e.to_string())?;
        let t = Instant::now();
        server.call("next", json!({}))?;
        if round >= WARMUP {
            edited.push(t.elapsed());
        }
    }
    let edited = median(edited);

    let tools_core = serde_json::to_string(&server.request("tools/list", json!({}))?["tools"])
        .map_err(|e| e.to_string())?;
    let mut all = Server::start(dir, &["--tools", "all"])?;
    let tools_all = serde_json::to_string(&all.request("tools/list", json!({}))?["tools"])
        .map_err(|e| e.to_string())?;

    let example = Path::new(EXAMPLE);
    let lead_big = prime(dir, &[])?;
    let lead_example = prime(example.parent().ok_or("example")?, &["--dir", EXAMPLE])?;
    let task_example = prime(
        example.parent().ok_or("example")?,
        &["--dir", EXAMPLE, "P2-CORE-01"],
    )?;
    let status: Value = server.call("status", json!({}))?;
    let running = status["tasks"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["status"] == "in_progress"))
        .and_then(|t| t["id"].as_str())
        .ok_or("no task in progress")?
        .to_string();
    let task_big = prime(dir, &[&running])?;

    let texts = [
        tools_core.as_str(),
        tools_all.as_str(),
        lead_example.as_str(),
        task_example.as_str(),
        lead_big.as_str(),
        task_big.as_str(),
    ];
    let counts = tokens(&texts);

    let files = program_files(&dir.join(".orchestrator")).len();
    println!("# orch mcp on a {tasks}-task program ({files} files, {ready} tasks ready)");
    println!();
    println!("| figure | median of {RUNS} | baseline | baseline median | ratio | goal |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| `next` tool call, warm server | {} | `orch next --format json` (process) | {} | {ratio:.3}x | <= {GOAL}x |",
        ms(warm),
        ms(process)
    );
    println!(
        "| `next` after one ticket changed | {} | same | {} | {:.3}x | |",
        ms(edited),
        ms(process),
        edited.as_secs_f64() / process.as_secs_f64()
    );
    println!(
        "| first call (cold: reads and lints the program) | {} | | | | |",
        ms(cold)
    );
    println!();
    println!("| text an agent reads | bytes | tokens (o200k_base) |");
    println!("|---|---|---|");
    let names = [
        "`tools/list`, core tools".to_string(),
        "`tools/list`, `--tools all`".to_string(),
        "`orch prime`, the example program".to_string(),
        "`orch prime P2-CORE-01`, the example program".to_string(),
        format!("`orch prime`, {tasks} tasks"),
        format!("`orch prime {running}`, {tasks} tasks"),
    ];
    for ((name, text), count) in names.iter().zip(texts).zip(&counts) {
        println!("| {name} | {} | {count} |", text.len());
    }
    if ratio > GOAL {
        return Err(format!(
            "the warm call took {ratio:.3}x the process: over the {GOAL}x goal"
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}
