//! `orch lsp` driven by a real LSP client: the pytest-lsp suite in
//! `tests/lsp/` (pygls), run against the binary under test. Skipped with a
//! note where pytest-lsp is not installed; `.ci/run` installs it.

use crate::util::{external, python_has, repo_path};

#[test]
fn the_language_server_answers_a_real_client() {
    if !external("pytest-lsp", python_has("pytest_lsp")) {
        return;
    }
    let out = std::process::Command::new("python3")
        .args([
            "-m",
            "pytest",
            "-q",
            "--no-header",
            "-p",
            "no:cacheprovider",
        ])
        .arg(repo_path("tests/lsp"))
        .env("ORCH", env!("CARGO_BIN_EXE_orch"))
        .env_remove("NO_COLOR")
        .output()
        .expect("run python3 -m pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the pytest-lsp suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A suite that collected nothing would pass too: count what ran.
    assert!(
        stdout.contains(" passed") && !stdout.contains("skipped"),
        "{stdout}"
    );
}

// ---------------------------------------------------------------- trace

/// `ORCH_LSP_TRACE=1` logs each edit's phases to stderr (docs/editors.md,
/// Troubleshooting), one `orch lsp: <phase> <ms> ms` line each; without it
/// the server writes nothing to stderr.
#[test]
fn orch_lsp_trace_logs_each_edits_phases_to_stderr() {
    use lsp_server::{Message, Notification, Request, RequestId};
    use serde_json::{Value, json};
    use std::io::BufReader;
    use std::process::{Command, Stdio};

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(".orchestrator");
    crate::util::copy_tree(&repo_path(".orchestrator.example"), &dir);
    let card = dir.join("cards/P2-UI-01.md");
    let uri = format!("file://{}", card.display());
    let text = std::fs::read_to_string(&card).expect("read card");
    let session = |trace: Option<&str>| -> String {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orch"));
        cmd.args(["lsp", "--dir"])
            .arg(&dir)
            .env_remove("ORCH_LSP_TRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(v) = trace {
            cmd.env("ORCH_LSP_TRACE", v);
        }
        let mut child = cmd.spawn().expect("start orch lsp");
        let mut to = child.stdin.take().expect("stdin");
        let mut from = BufReader::new(child.stdout.take().expect("stdout"));
        let mut send = |m: Message| m.write(&mut to).expect("write");
        let request = |id: i32, method: &str, params: Value| -> Message {
            Request::new(RequestId::from(id), method.to_string(), params).into()
        };
        let note = |method: &str, params: Value| -> Message {
            Notification::new(method.to_string(), params).into()
        };
        send(request(1, "initialize", json!({ "capabilities": {} })));
        send(note("initialized", json!({})));
        send(note(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "markdown", "version": 1, "text": text } }),
        ));
        send(note(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": 2 },
                "contentChanges": [{ "text": text.replace("- Goal:", "- Gxal:") }],
            }),
        ));
        // The edit's findings are published before the shutdown answer.
        send(request(2, "shutdown", Value::Null));
        loop {
            match Message::read(&mut from).expect("read") {
                Some(Message::Response(r)) if r.id == RequestId::from(2) => break,
                Some(_) => {}
                None => panic!("the server hung up"),
            }
        }
        send(note("exit", Value::Null));
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    };
    let traced = session(Some("1"));
    for phase in [
        "change: set_text",
        "relint: index",
        "relint: document rules",
        "relint: program rules",
        "relint:   rule scope-overlap",
        "publish: relint",
        "publish: send",
    ] {
        assert!(
            traced.contains(&format!("orch lsp: {phase} ")),
            "no `{phase}` in:\n{traced}"
        );
    }
    // Each line a phase and its time, or how many documents a publication
    // sent.
    for line in traced.lines() {
        let line = line
            .strip_prefix("orch lsp: ")
            .unwrap_or_else(|| panic!("not a trace line: {line:?}"));
        let number = match line.strip_suffix(" ms") {
            Some(timed) => timed.rsplit_once(' ').map(|(_, ms)| ms),
            None => line
                .strip_prefix("publish: ")
                .and_then(|l| l.strip_suffix(" documents")),
        };
        assert!(
            number.is_some_and(|n| n.parse::<f64>().is_ok()),
            "not a trace line: {line:?}"
        );
    }
    assert_eq!(session(None), "");
    assert_eq!(session(Some("")), "");
}

// ---------------------------------------------------------------- fuzz

/// Random edit sequences through the server's own message loop, in
/// process (`orch::lsp::serve` on an in-memory connection): edits that
/// split UTF-8 sequences, surrogate pairs and CRLF pairs, positions past
/// line ends and past the last line, whole-document replacements, closes
/// and reopens, files changed on disk, and every request at random
/// positions. The server must never panic (no internal-error response, no
/// error log), answer every request, and end with the findings a full
/// `orch lint` of the same texts reports, in every file, with the buffers'
/// last versions. `ORCH_FUZZ_CASES=N` runs more cases.
mod fuzz {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::time::Duration;

    use lsp_server::{Connection, Message, Notification, Request, RequestId};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::{Value, json};

    use crate::util::{copy_tree, repo_path};

    const PIECES: &[&str] = &[
        "a",
        "é",
        "𝄞",
        "\r",
        "\n",
        "\r\n",
        "|",
        "`",
        "---\n",
        "- ",
        ": ",
        "P1-UI-01",
        "P1-",
        " ",
        "<!-- orch-ignore dep-unknown -->\n",
        "status: done\n",
        "kind: tiket\n",
        "| P9-X-01 | x | qa-test-engineer | P1-UI-01 | y |\n",
        "\u{feff}",
        "\t",
        "**",
        "[",
        "- Files/paths: `web/**`\n",
        "## Codex Execution Card: P1-UI-01\n",
    ];
    const DOCS: &[&str] = &[
        "plan.md",
        "ledger.md",
        "config.yaml",
        "tickets/P1-UI-01.md",
        "cards/P1-UI-01.md",
        "cards/P2-UI-01.md",
        "sheets/G2.md",
    ];
    const REQUESTS: &[&str] = &[
        "textDocument/completion",
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/references",
        "textDocument/documentSymbol",
        "textDocument/codeAction",
    ];

    #[derive(Clone, Debug)]
    enum Op {
        /// Edits in one notification: (line, column, line, column, text).
        Change(usize, Vec<(u32, u32, u32, u32, String)>),
        Replace(usize, String),
        Ask(usize, usize, u32, u32),
        Close(usize),
        Open(usize),
        /// The file changes on disk (the client reports it).
        Disk(usize, String),
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..4).prop_map(|p| p.concat())
    }

    fn op() -> impl Strategy<Value = Op> {
        let doc = 0..DOCS.len();
        let pos = || (0u32..60, 0u32..40);
        prop_oneof![
            6 => (doc.clone(), prop::collection::vec((pos(), pos(), text()), 1..3)).prop_map(|(d, e)| {
                Op::Change(d, e.into_iter().map(|((a, b), (c, e), t)| (a, b, c, e, t)).collect())
            }),
            1 => (doc.clone(), text()).prop_map(|(d, t)| Op::Replace(d, t)),
            3 => (doc.clone(), 0..REQUESTS.len(), pos()).prop_map(|(d, r, (l, c))| Op::Ask(d, r, l, c)),
            1 => doc.clone().prop_map(Op::Close),
            1 => doc.clone().prop_map(Op::Open),
            1 => (doc, text()).prop_map(|(d, t)| Op::Disk(d, t)),
        ]
    }

    // The oracle's positions, written apart from the server's: lines end at
    // `\n`, `\r\n` or a lone `\r`; a column counts UTF-16 units (or bytes),
    // past the line's end means its end, inside a character its start.
    fn lines(text: &str) -> Vec<(usize, usize)> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let (mut start, mut i) = (0, 0);
        while i < b.len() {
            match b[i] {
                b'\r' if b.get(i + 1) == Some(&b'\n') => {
                    out.push((start, i));
                    i += 2;
                    start = i;
                }
                b'\n' | b'\r' => {
                    out.push((start, i));
                    i += 1;
                    start = i;
                }
                _ => i += 1,
            }
        }
        out.push((start, b.len()));
        out
    }

    fn width(c: char, utf8: bool) -> u32 {
        if utf8 {
            c.len_utf8() as u32
        } else {
            c.len_utf16() as u32
        }
    }

    fn offset(text: &str, line: u32, col: u32, utf8: bool) -> usize {
        let ls = lines(text);
        let Some(&(start, end)) = ls.get(line as usize) else {
            return text.len();
        };
        let mut units = 0;
        for (i, c) in text[start..end].char_indices() {
            if units + width(c, utf8) > col {
                return start + i;
            }
            units += width(c, utf8);
        }
        end
    }

    fn position(text: &str, offset: usize, utf8: bool) -> (u32, u32) {
        for (n, &(start, end)) in lines(text).iter().enumerate().rev() {
            if start <= offset {
                let at = offset.min(end);
                let col = text[start..at].chars().map(|c| width(c, utf8)).sum();
                return (n as u32, col);
            }
        }
        (0, 0)
    }

    struct Client {
        conn: Connection,
        next: i32,
        /// The last publication for each URI: (version, diagnostics).
        published: HashMap<String, (Option<i64>, Vec<Value>)>,
    }

    impl Client {
        fn take(&mut self, msg: Message) -> Option<lsp_server::Response> {
            match msg {
                Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => {
                    let uri = n.params["uri"].as_str().expect("uri").to_string();
                    let version = n.params["version"].as_i64();
                    let found = n.params["diagnostics"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    self.published.insert(uri, (version, found));
                    None
                }
                Message::Notification(n) => {
                    assert!(
                        n.method != "window/logMessage" || n.params["type"] != 1,
                        "{n:?}"
                    );
                    None
                }
                Message::Request(_) => None,
                Message::Response(r) => Some(r),
            }
        }

        fn request(&mut self, method: &str, params: Value) -> Value {
            self.next += 1;
            let id = RequestId::from(self.next);
            let req = Request::new(id.clone(), method.to_string(), params);
            self.conn.sender.send(req.into()).expect("send");
            loop {
                let msg = self
                    .conn
                    .receiver
                    .recv_timeout(Duration::from_secs(60))
                    .expect("the server answers within a minute");
                if let Some(r) = self.take(msg) {
                    assert_eq!(r.id, id);
                    let v = serde_json::to_value(&r).expect("json");
                    assert!(v.get("error").is_none(), "{method}: {v}");
                    return v.get("result").cloned().unwrap_or(Value::Null);
                }
            }
        }

        fn notify(&self, method: &str, params: Value) {
            let n = Notification::new(method.to_string(), params);
            self.conn.sender.send(n.into()).expect("send");
        }
    }

    struct Doc {
        path: PathBuf,
        uri: String,
        text: String,
        version: i32,
        open: bool,
    }

    fn run_case(ops: &[Op], utf8: bool) -> Result<(), TestCaseError> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("work");
        let dir = root.join(".orchestrator");
        copy_tree(&repo_path(".orchestrator.example"), &dir);
        // One document with CRLF line ends.
        let crlf = dir.join("cards/P2-UI-01.md");
        let t = std::fs::read_to_string(&crlf)
            .expect("read")
            .replace('\n', "\r\n");
        std::fs::write(&crlf, t).expect("write");
        let (server, client) = Connection::memory();
        let start = orch::lsp::Start {
            root: root.clone(),
            dir: dir.clone(),
        };
        let thread = std::thread::spawn(move || orch::lsp::serve(&server, Some(start)));
        let mut c = Client {
            conn: client,
            next: 0,
            published: HashMap::new(),
        };
        let encodings = if utf8 {
            json!(["utf-8", "utf-16"])
        } else {
            json!(["utf-16"])
        };
        let init = c.request(
            "initialize",
            json!({
                "capabilities": { "general": { "positionEncodings": encodings } },
                "rootUri": orch::lsp::uri::from_path(&root).as_str(),
            }),
        );
        let want = if utf8 { "utf-8" } else { "utf-16" };
        prop_assert_eq!(
            init["capabilities"]["positionEncoding"].as_str(),
            Some(want)
        );
        c.notify("initialized", json!({}));
        let mut docs: Vec<Doc> = DOCS
            .iter()
            .map(|rel| {
                let path = dir.join(rel);
                Doc {
                    uri: orch::lsp::uri::from_path(&path).as_str().to_string(),
                    text: std::fs::read_to_string(&path).expect("read"),
                    path,
                    version: 0,
                    open: false,
                }
            })
            .collect();
        let open =
            |c: &Client, d: &mut Doc| {
                d.version += 1;
                d.open = true;
                c.notify("textDocument/didOpen", json!({ "textDocument": {
                "uri": d.uri, "languageId": "markdown", "version": d.version, "text": d.text,
            }}));
            };
        for d in docs.iter_mut().take(4) {
            open(&c, d);
        }
        for op in ops {
            match op.clone() {
                Op::Change(i, edits) => {
                    let d = &mut docs[i];
                    if !d.open {
                        continue;
                    }
                    let mut changes = Vec::new();
                    for (l1, c1, l2, c2, t) in edits {
                        let (a, b) = (offset(&d.text, l1, c1, utf8), offset(&d.text, l2, c2, utf8));
                        let (a, b) = (a.min(b), a.max(b));
                        d.text.replace_range(a..b, &t);
                        changes.push(json!({
                            "range": { "start": { "line": l1, "character": c1 },
                                       "end": { "line": l2, "character": c2 } },
                            "text": t,
                        }));
                    }
                    d.version += 1;
                    c.notify(
                        "textDocument/didChange",
                        json!({
                            "textDocument": { "uri": d.uri, "version": d.version },
                            "contentChanges": changes,
                        }),
                    );
                }
                Op::Replace(i, t) => {
                    let d = &mut docs[i];
                    if !d.open {
                        continue;
                    }
                    d.text = t.clone();
                    d.version += 1;
                    c.notify(
                        "textDocument/didChange",
                        json!({
                            "textDocument": { "uri": d.uri, "version": d.version },
                            "contentChanges": [{ "text": t }],
                        }),
                    );
                }
                Op::Ask(i, r, line, ch) => {
                    let d = &docs[i];
                    let at = json!({ "line": line, "character": ch });
                    let doc = json!({ "uri": d.uri });
                    let params = match REQUESTS[r] {
                        "textDocument/references" => json!({
                            "textDocument": doc, "position": at,
                            "context": { "includeDeclaration": line % 2 == 0 },
                        }),
                        "textDocument/codeAction" => json!({
                            "textDocument": doc,
                            "range": { "start": at, "end": { "line": line + 3, "character": 0 } },
                            "context": { "diagnostics": [] },
                        }),
                        "textDocument/documentSymbol" => json!({ "textDocument": doc }),
                        _ => json!({ "textDocument": doc, "position": at }),
                    };
                    c.request(REQUESTS[r], params);
                }
                Op::Close(i) => {
                    let d = &mut docs[i];
                    if d.open {
                        d.open = false;
                        d.text = std::fs::read_to_string(&d.path).expect("read");
                        c.notify(
                            "textDocument/didClose",
                            json!({ "textDocument": { "uri": d.uri } }),
                        );
                    }
                }
                Op::Open(i) => {
                    if !docs[i].open {
                        open(&c, &mut docs[i]);
                    }
                }
                Op::Disk(i, t) => {
                    let d = &mut docs[i];
                    std::fs::write(&d.path, &t).expect("write");
                    if !d.open {
                        d.text = t;
                    }
                    c.notify(
                        "workspace/didChangeWatchedFiles",
                        json!({
                            "changes": [{ "uri": d.uri, "type": 2 }],
                        }),
                    );
                }
            }
        }
        // A request answers after every publication its edits caused.
        c.request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": docs[0].uri } }),
        );
        // The oracle: `orch lint` of the same texts (the disk, with the open
        // buffers written over it).
        let check = tempfile::tempdir().expect("tempdir");
        let root2 = check.path().join("work");
        copy_tree(&root, &root2);
        for d in &docs {
            let rel = d.path.strip_prefix(&root).expect("inside");
            std::fs::write(root2.join(rel), &d.text).expect("write");
        }
        let program =
            orch::model::Program::load(&root2, &root2.join(".orchestrator")).expect("load");
        let mut want: HashMap<String, Vec<String>> = HashMap::new();
        for diag in orch::rules::lint(&program) {
            let file = program.file(diag.file);
            let text = &file.text;
            let (l1, c1) = position(text, diag.span.start, utf8);
            let (l2, c2) = position(text, diag.span.end, utf8);
            let message = match &diag.help {
                Some(h) => format!("{}\nhelp: {h}", diag.message),
                None => diag.message.clone(),
            };
            want.entry(file.path.clone())
                .or_default()
                .push(format!("{} {l1}:{c1}-{l2}:{c2} {message}", diag.code));
        }
        for (uri, (version, found)) in &c.published {
            let rel = uri
                .strip_prefix(&orch::lsp::uri::from_path(&root).as_str().to_string())
                .map(|r| r.trim_start_matches('/').to_string())
                .unwrap_or_default();
            let rel = percent_decode(&rel);
            let mut got: Vec<String> = found
                .iter()
                .map(|d| {
                    let r = &d["range"];
                    format!(
                        "{} {}:{}-{}:{} {}",
                        d["code"].as_str().unwrap_or_default(),
                        r["start"]["line"],
                        r["start"]["character"],
                        r["end"]["line"],
                        r["end"]["character"],
                        d["message"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            let mut expected = want.remove(&rel).unwrap_or_default();
            got.sort();
            expected.sort();
            prop_assert_eq!(&got, &expected, "{}", rel);
            if let Some(d) = docs.iter().find(|d| &d.uri == uri && d.open) {
                prop_assert_eq!(*version, Some(i64::from(d.version)), "{}", rel);
            }
        }
        // Files never published must have no findings either.
        prop_assert!(want.is_empty(), "not published: {:?}", want);
        c.request("shutdown", Value::Null);
        c.notify("exit", Value::Null);
        let served = thread.join();
        prop_assert!(matches!(served, Ok(Ok(()))), "{:?}", served.map(|_| ()));
        Ok(())
    }

    fn percent_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && let Some(Ok(v)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
            {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    use proptest::test_runner::TestCaseError;

    #[test]
    fn random_edits_never_panic_and_end_where_a_full_lint_does() {
        let cases = std::env::var("ORCH_FUZZ_CASES")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(24);
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (prop::collection::vec(op(), 1..30), any::<bool>());
        runner
            .run(&strategy, |(ops, utf8)| run_case(&ops, utf8))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
