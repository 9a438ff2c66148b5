//! `orch lsp`: the lint engine as a language server, over stdio, for
//! `.orchestrator/**/*.md` and `config.yaml`.
//!
//! Built on `lsp-server` and `lsp-types` from the rust-analyzer project: a
//! synchronous scaffold (crossbeam channels, no async runtime) that does the
//! protocol's framing and handshake while this module owns the loop. The
//! loop handles every message waiting, then runs the rules once and
//! publishes what changed: a burst of keystrokes costs one lint. Each
//! program the editor touches is a [`World`]: the files on disk with the
//! open buffers over them, re-parsed one document at a time.
//!
//! Features: diagnostics from every rule (cross-document ones included),
//! completion, hover, go to definition, find references, document symbols
//! and quick fixes; positions in the encoding the client offers (UTF-8 when
//! it can, else UTF-16), see [`text`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{notification as note, request as req};
use serde_json::json;

mod actions;
mod complete;
mod navigate;
pub mod text;
pub mod uri;
pub mod world;

use text::{Encoding, Lines};
use world::World;

/// Whether `ORCH_LSP_TRACE` is set: each edit's phases are timed and
/// logged to stderr (`orch lsp: <phase> <ms>`), for finding where an edit's
/// time goes.
pub(crate) fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("ORCH_LSP_TRACE").is_some_and(|v| !v.is_empty()))
}

/// Log how long a phase took since `since`, when [`tracing`]; returns now.
pub(crate) fn trace(phase: &str, since: std::time::Instant) -> std::time::Instant {
    let now = std::time::Instant::now();
    if tracing() {
        eprintln!(
            "orch lsp: {phase} {:.2} ms",
            (now - since).as_secs_f64() * 1e3
        );
    }
    now
}

/// Where the program is when the command line names it (`--dir`,
/// `--root`); otherwise the server finds programs from the workspace
/// folders and from the documents opened.
#[derive(Clone, Debug)]
pub struct Start {
    pub root: PathBuf,
    pub dir: PathBuf,
}

/// Serve on stdin and stdout until the client says `exit`.
pub fn run_stdio(start: Option<Start>) -> Result<(), String> {
    let (conn, io) = Connection::stdio();
    serve(&conn, start)?;
    drop(conn);
    io.join().map_err(|e| format!("the connection failed: {e}"))
}

/// The server on a connection: the handshake, then the message loop until
/// `exit` (or the client hangs up).
pub fn serve(conn: &Connection, start: Option<Start>) -> Result<(), String> {
    let (id, params) = conn
        .initialize_start()
        .map_err(|e| format!("the client did not initialize: {e}"))?;
    let params: lsp_types::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let encoding = negotiate(&params);
    let result = json!({
        "capabilities": capabilities(encoding),
        "serverInfo": { "name": "orch", "version": env!("CARGO_PKG_VERSION") },
    });
    conn.initialize_finish(id, result)
        .map_err(|e| format!("the client did not finish initializing: {e}"))?;
    let mut server = Server::new(conn, encoding, &params, start);
    server.start();
    loop {
        let Ok(msg) = conn.receiver.recv() else {
            return Ok(());
        };
        if server.handle(msg) {
            return Ok(());
        }
        while let Ok(msg) = conn.receiver.try_recv() {
            if server.handle(msg) {
                return Ok(());
            }
        }
        server.publish();
    }
}

/// UTF-8 when the client offers it (no conversion at all), else UTF-16,
/// which every client must support.
fn negotiate(params: &lsp_types::InitializeParams) -> Encoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(kinds) if kinds.contains(&lsp_types::PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

fn capabilities(encoding: Encoding) -> lsp_types::ServerCapabilities {
    use lsp_types::*;
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some([",", "`", "/", ":", " ", "-"].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

/// An open buffer: the URI the client names it by, and its version.
struct Open {
    uri: lsp_types::Uri,
    version: i32,
}

struct Server<'c> {
    conn: &'c Connection,
    encoding: Encoding,
    /// A program named on the command line: the only one served.
    fixed: bool,
    worlds: Vec<World>,
    open: HashMap<PathBuf, Open>,
    /// Buffers changed since the last publish: published again even when
    /// their findings did not change, with the new version.
    edited: HashSet<PathBuf>,
    /// Whether the client may be asked to watch files.
    watch: bool,
    shutdown: bool,
    roots: Vec<PathBuf>,
}

impl<'c> Server<'c> {
    fn new(
        conn: &'c Connection,
        encoding: Encoding,
        params: &lsp_types::InitializeParams,
        start: Option<Start>,
    ) -> Server<'c> {
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| uri::to_path(&f.uri))
            .collect();
        #[allow(deprecated)] // older clients send only the root URI
        if roots.is_empty()
            && let Some(root) = params.root_uri.as_ref().and_then(uri::to_path)
        {
            roots.push(root);
        }
        let watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        let fixed = start.is_some();
        let worlds = start
            .map(|s| vec![World::load(&s.root, &s.dir)])
            .unwrap_or_default();
        Server {
            conn,
            encoding,
            fixed,
            worlds,
            open: HashMap::new(),
            edited: HashSet::new(),
            watch,
            shutdown: false,
            roots,
        }
    }

    /// Find the programs of the workspace folders, ask the client to watch
    /// their files, and publish their findings.
    fn start(&mut self) {
        if !self.fixed {
            for root in self.roots.clone() {
                if let Some(found) = discover_above(&root) {
                    self.world_at(found);
                }
            }
        }
        if self.watch {
            let params = lsp_types::RegistrationParams {
                registrations: vec![lsp_types::Registration {
                    id: "orch-watch".to_string(),
                    method: note::DidChangeWatchedFiles::METHOD.to_string(),
                    register_options: Some(json!({
                        "watchers": [
                            { "globPattern": "**/.orchestrator/**" },
                            { "globPattern": "**/.git/index" },
                        ]
                    })),
                }],
            };
            self.send(
                Request::new(
                    RequestId::from("orch-watch".to_string()),
                    req::RegisterCapability::METHOD.to_string(),
                    params,
                )
                .into(),
            );
        }
        self.publish();
    }

    fn send(&self, msg: Message) {
        // The client hung up: the loop ends at the next receive.
        let _ = self.conn.sender.send(msg);
    }

    /// The world serving this program folder, loaded on first use.
    fn world_at(&mut self, start: Start) -> usize {
        if let Some(i) = self.worlds.iter().position(|w| w.dir == start.dir) {
            return i;
        }
        self.worlds.push(World::load(&start.root, &start.dir));
        self.worlds.len() - 1
    }

    /// The world holding `path` (finding its program on first sight unless
    /// the command line fixed one).
    fn world_of(&mut self, path: &Path) -> Option<usize> {
        if let Some(i) = self.worlds.iter().position(|w| w.role(path).is_some()) {
            return Some(i);
        }
        if self.fixed {
            return None;
        }
        let start = discover(path)?;
        let i = self.world_at(start);
        self.worlds[i].role(path).map(|_| i)
    }

    /// Handle one message; true when the server must stop.
    fn handle(&mut self, msg: Message) -> bool {
        let (method, id) = match &msg {
            Message::Request(r) => (r.method.clone(), Some(r.id.clone())),
            Message::Notification(n) => (n.method.clone(), None),
            Message::Response(_) => return false,
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match msg {
            Message::Request(r) => {
                self.request(r);
                false
            }
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => false,
        }));
        match outcome {
            Ok(stop) => stop,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let message = format!("orch lsp: internal error handling {method}: {what}");
                self.send(
                    Notification::new(
                        note::LogMessage::METHOD.to_string(),
                        lsp_types::LogMessageParams {
                            typ: lsp_types::MessageType::ERROR,
                            message: message.clone(),
                        },
                    )
                    .into(),
                );
                if let Some(id) = id {
                    self.send(
                        Response::new_err(id, ErrorCode::InternalError as i32, message).into(),
                    );
                }
                false
            }
        }
    }

    fn notification(&mut self, n: Notification) -> bool {
        fn params<P: serde::de::DeserializeOwned>(n: Notification) -> Option<P> {
            serde_json::from_value(n.params).ok()
        }
        let method = n.method.clone();
        match method.as_str() {
            note::Exit::METHOD => return true,
            note::DidOpenTextDocument::METHOD => {
                if let Some(p) = params::<lsp_types::DidOpenTextDocumentParams>(n) {
                    self.did_open(p);
                }
            }
            note::DidChangeTextDocument::METHOD => {
                if let Some(p) = params::<lsp_types::DidChangeTextDocumentParams>(n) {
                    self.did_change(p);
                }
            }
            note::DidCloseTextDocument::METHOD => {
                if let Some(p) = params::<lsp_types::DidCloseTextDocumentParams>(n)
                    && let Some(path) = uri::to_path(&p.text_document.uri)
                    && self.open.remove(&path).is_some()
                    && let Some(w) = self.world_of(&path)
                {
                    // The file on disk is the program's again.
                    self.worlds[w].reload(&path);
                }
            }
            note::DidChangeWatchedFiles::METHOD => {
                if let Some(p) = params::<lsp_types::DidChangeWatchedFilesParams>(n) {
                    self.files_changed(p);
                }
            }
            _ => {}
        }
        false
    }

    fn did_open(&mut self, p: lsp_types::DidOpenTextDocumentParams) {
        let Some(path) = uri::to_path(&p.text_document.uri) else {
            return;
        };
        let Some(w) = self.world_of(&path) else {
            return;
        };
        self.open.insert(
            path.clone(),
            Open {
                uri: p.text_document.uri,
                version: p.text_document.version,
            },
        );
        self.worlds[w].set_text(&path, p.text_document.text);
        self.edited.insert(path);
    }

    fn did_change(&mut self, p: lsp_types::DidChangeTextDocumentParams) {
        let Some(path) = uri::to_path(&p.text_document.uri) else {
            return;
        };
        let Some(open) = self.open.get_mut(&path) else {
            return;
        };
        open.version = p.text_document.version;
        let Some(w) = self.worlds.iter().position(|w| w.role(&path).is_some()) else {
            return;
        };
        let world = &mut self.worlds[w];
        let Some(id) = world.file_id(&path) else {
            return;
        };
        let t = std::time::Instant::now();
        let mut text = world.program.file(id).text.to_string();
        for change in p.content_changes {
            text::apply(&mut text, change, self.encoding);
        }
        let t = trace("change: apply", t);
        world.set_text(&path, text);
        trace("change: set_text", t);
        self.edited.insert(path);
    }

    fn files_changed(&mut self, p: lsp_types::DidChangeWatchedFilesParams) {
        for change in p.changes {
            let Some(path) = uri::to_path(&change.uri) else {
                continue;
            };
            if path.ends_with(".git/index") {
                for w in &mut self.worlds {
                    w.tracked_changed();
                }
                continue;
            }
            if self.open.contains_key(&path) {
                continue; // the buffer is what the user sees
            }
            if let Some(w) = self.worlds.iter().position(|w| w.role(&path).is_some()) {
                self.worlds[w].reload(&path);
            }
        }
    }

    fn request(&mut self, r: Request) {
        if self.shutdown {
            self.send(
                Response::new_err(
                    r.id,
                    ErrorCode::InvalidRequest as i32,
                    "the server is shutting down".to_string(),
                )
                .into(),
            );
            return;
        }
        // Answer from the current text and findings.
        self.publish();
        let id = r.id.clone();
        let result = match r.method.as_str() {
            req::Shutdown::METHOD => {
                self.shutdown = true;
                Ok(serde_json::Value::Null)
            }
            req::Completion::METHOD => self.with_params(r, complete::completion),
            req::HoverRequest::METHOD => self.with_params(r, navigate::hover),
            req::GotoDefinition::METHOD => self.with_params(r, navigate::definition),
            req::References::METHOD => self.with_params(r, navigate::references),
            req::DocumentSymbolRequest::METHOD => self.with_params(r, navigate::symbols),
            req::CodeActionRequest::METHOD => self.with_params(r, actions::code_actions),
            other => Err((
                ErrorCode::MethodNotFound,
                format!("`orch lsp` does not answer {other}"),
            )),
        };
        let response = match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(response.into());
    }

    /// Decode the request's parameters and answer with `f`.
    fn with_params<P, R>(
        &mut self,
        r: Request,
        f: impl FnOnce(&Cx<'_>, P) -> R,
    ) -> Result<serde_json::Value, (ErrorCode, String)>
    where
        P: serde::de::DeserializeOwned,
        R: serde::Serialize,
    {
        let params: P = serde_json::from_value(r.params)
            .map_err(|e| (ErrorCode::InvalidParams, format!("{}: {e}", r.method)))?;
        let cx = Cx {
            worlds: &self.worlds,
            encoding: self.encoding,
            open: &self.open,
        };
        serde_json::to_value(f(&cx, params)).map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }

    /// Run the rules where something changed and publish the findings of
    /// every file whose findings changed, and of every buffer edited.
    fn publish(&mut self) {
        let mut out = Vec::new();
        for w in 0..self.worlds.len() {
            let t = std::time::Instant::now();
            let changed = self.worlds[w].relint();
            let t = trace("publish: relint", t);
            let world = &self.worlds[w];
            let mut paths: Vec<PathBuf> = changed;
            for p in &self.edited {
                if world.role(p).is_some() && !paths.contains(p) {
                    paths.push(p.clone());
                }
            }
            let cx = Cx {
                worlds: &self.worlds,
                encoding: self.encoding,
                open: &self.open,
            };
            let n = paths.len();
            for path in paths {
                out.push(cx.publication(world, &path));
            }
            if tracing() {
                eprintln!("orch lsp: publish: {n} documents");
            }
            trace("publish: convert", t);
        }
        self.edited.clear();
        let t = std::time::Instant::now();
        for params in out {
            self.send(
                Notification::new(note::PublishDiagnostics::METHOD.to_string(), params).into(),
            );
        }
        trace("publish: send", t);
    }
}

/// What a request reads: the programs, the encoding, the open buffers.
pub(crate) struct Cx<'s> {
    worlds: &'s [World],
    encoding: Encoding,
    open: &'s HashMap<PathBuf, Open>,
}

/// One file of one world, ready for a request.
pub(crate) struct At<'s> {
    pub world: &'s World,
    pub file: crate::source::FileId,
    pub lines: Lines<'s>,
}

impl<'s> Cx<'s> {
    /// The URI to name a file by: the client's own for an open buffer.
    fn uri(&self, path: &Path) -> lsp_types::Uri {
        match self.open.get(path) {
            Some(o) => o.uri.clone(),
            None => uri::from_path(path),
        }
    }

    /// The world and file a URI names.
    fn at(&self, uri: &lsp_types::Uri) -> Option<At<'s>> {
        let path = uri::to_path(uri)?;
        let world = self.worlds.iter().find(|w| w.role(&path).is_some())?;
        let file = world.file_id(&path)?;
        Some(At {
            world,
            file,
            lines: Lines::new(&world.program.file(file).text, self.encoding),
        })
    }

    fn lines(&self, world: &'s World, file: crate::source::FileId) -> Lines<'s> {
        Lines::new(&world.program.file(file).text, self.encoding)
    }

    fn location(
        &self,
        world: &'s World,
        file: crate::source::FileId,
        span: crate::source::Span,
    ) -> lsp_types::Location {
        let f = world.program.file(file);
        lsp_types::Location::new(self.uri(&f.abs_path), self.lines(world, file).range(span))
    }

    /// The findings of one file, as LSP diagnostics.
    fn publication(&self, world: &World, path: &Path) -> lsp_types::PublishDiagnosticsParams {
        let found = world.found.get(path).map(Vec::as_slice).unwrap_or_default();
        let mut lines = HashMap::new();
        let diagnostics = found
            .iter()
            .map(|d| self.convert(world, d, &mut lines))
            .collect();
        lsp_types::PublishDiagnosticsParams {
            uri: self.uri(path),
            diagnostics,
            version: self.open.get(path).map(|o| o.version),
        }
    }

    /// One finding as an LSP diagnostic.
    fn publication_of(
        &self,
        world: &World,
        d: &crate::diagnostic::Diagnostic,
    ) -> lsp_types::Diagnostic {
        self.convert(world, d, &mut HashMap::new())
    }

    fn convert<'w>(
        &self,
        world: &'w World,
        d: &crate::diagnostic::Diagnostic,
        lines: &mut HashMap<crate::source::FileId, Lines<'w>>,
    ) -> lsp_types::Diagnostic {
        let mut range_of = |file: crate::source::FileId, span: crate::source::Span| {
            lines
                .entry(file)
                .or_insert_with(|| Lines::new(&world.program.file(file).text, self.encoding))
                .range(span)
        };
        let range = range_of(d.file, d.span);
        let related: Vec<_> = d
            .related
            .iter()
            .map(|r| lsp_types::DiagnosticRelatedInformation {
                location: lsp_types::Location::new(
                    self.uri(&world.program.file(r.file).abs_path),
                    range_of(r.file, r.span),
                ),
                message: r.message.clone(),
            })
            .collect();
        lsp_types::Diagnostic {
            range,
            severity: Some(match d.severity {
                crate::diagnostic::Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
                crate::diagnostic::Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
            }),
            code: Some(lsp_types::NumberOrString::String(d.code.to_string())),
            source: Some("orch".to_string()),
            message: message(d),
            related_information: (!related.is_empty()).then_some(related),
            ..lsp_types::Diagnostic::default()
        }
    }
}

/// A finding's text for an editor: the message, then its help.
fn message(d: &crate::diagnostic::Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    }
}

/// The program a path lies in: the nearest folder above it named
/// `.orchestrator`, in the work tree at the top of its git repository (or
/// the folder holding it).
fn discover(path: &Path) -> Option<Start> {
    let dir = path
        .ancestors()
        .skip(1)
        .find(|p| p.file_name().is_some_and(|n| n == ".orchestrator"))?;
    let holder = dir.parent()?;
    let root = holder
        .ancestors()
        .find(|p| p.join(".git").exists())
        .unwrap_or(holder);
    Some(Start {
        root: root.to_path_buf(),
        dir: dir.to_path_buf(),
    })
}

/// The program of a workspace folder inside it: `.orchestrator` in the
/// folder or one above.
fn discover_above(root: &Path) -> Option<Start> {
    let holder = root
        .ancestors()
        .find(|p| p.join(".orchestrator").is_dir())?;
    discover(&holder.join(".orchestrator").join("plan.md"))
}
