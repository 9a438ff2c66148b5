//! `orch lsp` on the 2,000-task program: how long after a one-character
//! edit the server publishes the edited document's diagnostics, against a
//! full `orch lint` process on the same program, measured in the same run.
//!
//! The server is the real binary (`CARGO_BIN_EXE_orch lsp --dir DIR`, a
//! release build under `cargo bench`) on pipes; the client here frames
//! messages with `lsp-server`. Each timed edit changes one character and
//! changes the findings, so the server has something to say: a ticket's
//! `status: done` to `xone` and back (`status-invalid`), a card's `- Goal:`
//! label to `- Gxal:` and back (`field-missing`), and one character of a
//! Branch ID in the plan and back (the task's ticket, card, ledger rows and
//! dependents change: `task-unknown`, `dep-unknown`). The time runs from
//! writing the `didChange` to reading the `publishDiagnostics` of the edited
//! document with the edit's version.
//!
//! Rounds interleave the two: each round runs one `orch lint` process, then
//! a batch of edits, so load from other work on the machine falls on both.
//!
//! ```text
//! cargo bench --bench lsp                       # 2,000 tasks, 15 rounds of 24 edits
//! cargo bench --bench lsp -- --tasks 4000 --rounds 5
//! ```

mod common;

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{CardScope, Layout};
use lsp_server::{Message, Notification, Request, RequestId};
use serde_json::{Value, json};

const ORCH: &str = env!("CARGO_BIN_EXE_orch");

const LAYOUT: Layout = Layout {
    dir_prefix: "mod",
    crate_prefix: "mod",
    bench: "lsp",
    timed: "Editor latency",
};

struct Args {
    tasks: usize,
    rounds: usize,
    edits: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        tasks: 2000,
        rounds: 15,
        edits: 24,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{name} takes a positive number"))
        };
        match a.as_str() {
            "--tasks" => args.tasks = num("--tasks")?,
            "--rounds" => args.rounds = num("--rounds")?,
            "--edits" => args.edits = num("--edits")?,
            "--bench" => {}
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

/// The program of the lint bench: cards in groups of 4, each scope its own
/// module, each ticket expecting files in it.
fn program(n: usize) -> Vec<(String, String)> {
    common::program(
        &LAYOUT,
        n,
        &|i, m| CardScope::module(i, m, 4),
        &common::lib_and_source,
    )
}

/// The server on pipes: messages written to its stdin, read from its
/// stdout on a thread.
struct Server {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    from: mpsc::Receiver<Message>,
    next: i32,
}

impl Server {
    fn start(dir: &Path) -> Result<Server, String> {
        let mut child = Command::new(ORCH)
            .args(["lsp", "--dir"])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {ORCH} lsp: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (to, from) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Ok(Some(msg)) = Message::read(&mut r) {
                if to.send(msg).is_err() {
                    break;
                }
            }
        });
        Ok(Server {
            child,
            stdin,
            from,
            next: 0,
        })
    }

    fn send(&mut self, msg: Message) -> Result<(), String> {
        msg.write(&mut self.stdin)
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("write to the server: {e}"))
    }

    fn recv(&self) -> Result<Message, String> {
        self.from
            .recv_timeout(Duration::from_secs(120))
            .map_err(|e| format!("no message from the server: {e}"))
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next += 1;
        let id = RequestId::from(self.next);
        self.send(Request::new(id.clone(), method.to_string(), params).into())?;
        loop {
            if let Message::Response(r) = self.recv()?
                && r.id == id
            {
                let v = serde_json::to_value(&r).map_err(|e| e.to_string())?;
                return Ok(v.get("result").cloned().unwrap_or(Value::Null));
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) -> Result<(), String> {
        self.send(Notification::new(method.to_string(), params).into())
    }

    /// Wait for the publication of `uri` at `version`: its findings.
    fn published(&self, uri: &str, version: i32) -> Result<Vec<Value>, String> {
        loop {
            if let Message::Notification(n) = self.recv()?
                && n.method == "textDocument/publishDiagnostics"
                && n.params["uri"] == uri
                && n.params["version"] == version
            {
                return Ok(n.params["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default());
            }
        }
    }
}

/// An open document and the one character the bench toggles in it.
struct Site {
    uri: String,
    kind: &'static str,
    /// Line and column (ASCII text: UTF-16 units are bytes).
    line: usize,
    col: usize,
    original: char,
    other: char,
    /// The code the edit brings.
    code: &'static str,
    version: i32,
    edited: bool,
}

fn locate(text: &str, needle: &str, delta: usize) -> Option<(usize, usize)> {
    let at = text.find(needle)? + delta;
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    Some((line, col))
}

fn uri_of(path: &Path) -> String {
    // The paths here are plain ASCII temp paths.
    format!("file://{}", path.display())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = tmp.path().join("work").join(".orchestrator");
    let files = program(args.tasks);
    common::write_program(&dir, &files).map_err(|e| e.to_string())?;
    // The program must lint clean, so every finding comes from an edit.
    let lint = || {
        let mut c = Command::new(ORCH);
        c.args(["lint", "--quiet", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let status = lint().status().map_err(|e| e.to_string())?;
    if !status.success() {
        let out = Command::new(ORCH)
            .args(["lint", "--dir"])
            .arg(&dir)
            .output()
            .map_err(|e| e.to_string())?;
        return Err(format!(
            "the generated program does not lint clean:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }

    let started = Instant::now();
    let mut server = Server::start(&dir)?;
    server.request(
        "initialize",
        json!({ "capabilities": {}, "rootUri": uri_of(dir.parent().ok_or("no parent")?) }),
    )?;
    server.notify("initialized", json!({}))?;
    let plan_uri = uri_of(&dir.join("plan.md"));
    server.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": plan_uri } }),
    )?;
    let startup = started.elapsed();

    // Sites: tickets and cards spread over the program, and plan rows.
    let ids: Vec<String> = files
        .iter()
        .filter_map(|(p, _)| p.strip_prefix("tickets/")?.strip_suffix(".md"))
        .map(str::to_string)
        .collect();
    let text_of = |rel: &str| -> Result<String, String> {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| format!("{rel}: {e}"))
    };
    let mut sites: Vec<Site> = Vec::new();
    let mut opened: Vec<PathBuf> = Vec::new();
    let pick: Vec<&String> = ids.iter().step_by((ids.len() / 8).max(1)).take(8).collect();
    let plan = text_of("plan.md")?;
    for id in &pick {
        let ticket = format!("tickets/{id}.md");
        let text = text_of(&ticket)?;
        if let Some((line, col)) = locate(&text, "status: ", "status: ".len()) {
            let at = text.find("status: ").unwrap_or(0) + "status: ".len();
            sites.push(Site {
                uri: uri_of(&dir.join(&ticket)),
                kind: "ticket `status:`",
                line,
                col,
                original: text[at..].chars().next().unwrap_or('t'),
                other: 'x',
                code: "status-invalid",
                version: 0,
                edited: false,
            });
            opened.push(dir.join(&ticket));
        }
        let card = format!("cards/{id}.md");
        let text = text_of(&card)?;
        if let Some((line, col)) = locate(&text, "- Goal:", 3) {
            sites.push(Site {
                uri: uri_of(&dir.join(&card)),
                kind: "card label",
                line,
                col,
                original: 'o',
                other: 'x',
                code: "field-missing",
                version: 0,
                edited: false,
            });
            opened.push(dir.join(&card));
        }
        if let Some((line, col)) = locate(&plan, &format!("\n| {id} |"), 3) {
            sites.push(Site {
                uri: plan_uri.clone(),
                kind: "plan Branch ID",
                line,
                col,
                original: id.chars().next().unwrap_or('P'),
                other: 'X',
                code: "task-unknown",
                version: 0,
                edited: false,
            });
        }
    }
    opened.push(dir.join("plan.md"));
    // Open each document once; plan sites share the plan's version.
    let mut versions: std::collections::HashMap<String, i32> = std::collections::HashMap::new();
    for path in &opened {
        let uri = uri_of(path);
        if versions.contains_key(&uri) {
            continue;
        }
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        server.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "markdown", "version": 1, "text": text } }),
        )?;
        versions.insert(uri, 1);
    }
    server.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": plan_uri } }),
    )?;

    let mut edits: Vec<(&'static str, Duration)> = Vec::new();
    let mut lints: Vec<Duration> = Vec::new();
    let mut n = 0usize;
    for round in 0..args.rounds + 1 {
        let t = Instant::now();
        let status = lint().status().map_err(|e| e.to_string())?;
        let took = t.elapsed();
        if !status.success() {
            return Err("orch lint failed on the program".into());
        }
        // Each site is edited, then restored, in turn: every edit is one
        // character and changes the findings.
        for _ in 0..args.edits {
            let count = sites.len();
            let s = &mut sites[(n / 2) % count];
            n += 1;
            let version = versions.get_mut(&s.uri).ok_or("unopened")?;
            *version += 1;
            s.version = *version;
            let new = if s.edited { s.original } else { s.other };
            s.edited = !s.edited;
            let params = json!({
                "textDocument": { "uri": s.uri, "version": s.version },
                "contentChanges": [{
                    "range": { "start": { "line": s.line, "character": s.col },
                               "end": { "line": s.line, "character": s.col + 1 } },
                    "text": new.to_string(),
                }],
            });
            let t = Instant::now();
            server.notify("textDocument/didChange", params)?;
            let found = server.published(&s.uri, s.version)?;
            let took = t.elapsed();
            let has = found.iter().any(|d| d["code"] == s.code);
            if s.edited && !has && s.kind != "plan Branch ID" {
                return Err(format!(
                    "the edit at {}:{}:{} did not bring {}: {found:?}",
                    s.uri, s.line, s.col, s.code
                ));
            }
            if !s.edited && !found.is_empty() {
                return Err(format!("restoring {} left {found:?}", s.uri));
            }
            if round > 0 {
                edits.push((s.kind, took));
            }
        }
        if round > 0 {
            lints.push(took);
        }
    }
    server.request("shutdown", Value::Null)?;
    server.notify("exit", Value::Null)?;
    let _ = server.child.wait();

    lints.sort();
    let lint_p50 = percentile(&lints, 0.5);
    let docs = common::program_files(&dir).len();
    println!(
        "orch lsp, {} tasks ({docs} files): server start to first answer {:.1} ms",
        args.tasks,
        ms(startup)
    );
    println!(
        "{} rounds: one `orch lint` process, then {} one-character edits, each waiting for the edited document's diagnostics\n",
        args.rounds, args.edits
    );
    println!("| edit | samples | p50 ms | p95 ms | `orch lint` p50 ms | p50 ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut kinds: Vec<&str> = edits.iter().map(|(k, _)| *k).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let row = |name: &str, mut v: Vec<Duration>| {
        v.sort();
        let p50 = percentile(&v, 0.5);
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.1} | **{:.3}** |",
            v.len(),
            ms(p50),
            ms(percentile(&v, 0.95)),
            ms(lint_p50),
            p50.as_secs_f64() / lint_p50.as_secs_f64()
        );
    };
    for k in &kinds {
        row(
            k,
            edits
                .iter()
                .filter(|(x, _)| x == k)
                .map(|(_, d)| *d)
                .collect(),
        );
    }
    row("all edits", edits.iter().map(|(_, d)| *d).collect());
    println!(
        "\n`orch lint` process: p50 {:.1} ms, p95 {:.1} ms over {} runs; goal: edit p50 <= 0.1x",
        ms(lint_p50),
        ms(percentile(&lints, 0.95)),
        lints.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench lsp: {e}");
            ExitCode::FAILURE
        }
    }
}
