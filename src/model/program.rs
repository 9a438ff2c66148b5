//! A whole program: every document under the orchestrator folder, the
//! config, and the task index derived from them (the plan's backlog joined
//! with tickets, cards and ledger rows).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, ConfigError};
use crate::parse::markdown::Cell;
use crate::source::{FileId, SourceFile, Span, Spanned, Text};

use super::document::Document;
use super::status::{Kind, Outcome, TaskStatus};
use super::views::{LedgerView, PlanView};

pub use super::scope::effective_scope;

/// The owner skill of root-cause tasks: the seed's re-planning rule for a
/// `fail` ("reopen root-cause analysis with `debug-troubleshooter`").
pub const ROOT_CAUSE_SKILL: &str = "debug-troubleshooter";

/// Is this a root-cause task (owned by [`ROOT_CAUSE_SKILL`])?
pub fn is_root_cause(task: &Task) -> bool {
    task.skill
        .as_ref()
        .is_some_and(|s| s.value.trim() == ROOT_CAUSE_SKILL)
}

/// Documents larger than this are not parsed (`file-invalid`); the plan
/// has its own limit, [`MAX_PLAN_BYTES`].
pub const MAX_DOCUMENT_BYTES: u64 = 4 * 1024 * 1024;

/// The limit for the plan, [`PLAN_FILE`]: its backlog holds a row for every
/// task (about 285 bytes a task with the phase tree), so a program of
/// 20,000 tasks has a plan of about 5.4 MiB. 16 MiB holds about 58,000.
pub const MAX_PLAN_BYTES: u64 = 16 * 1024 * 1024;

/// The plan's file name, at the top of the orchestrator folder: the one
/// document allowed [`MAX_PLAN_BYTES`].
pub const PLAN_FILE: &str = "plan.md";

/// The size limit of the document at `rel`, its path inside the
/// orchestrator folder (`/` separators): known from the path alone, so a
/// file's size is checked before any of it is read.
pub fn document_limit(rel: &str) -> u64 {
    if rel == PLAN_FILE {
        MAX_PLAN_BYTES
    } else {
        MAX_DOCUMENT_BYTES
    }
}

/// Why a document of `len` bytes is not read, for a limit of `max`.
pub fn over_limit(len: u64, max: u64) -> String {
    let what = if max == MAX_PLAN_BYTES {
        "the plan"
    } else {
        "a document"
    };
    format!(
        "is {len} bytes, over the {} MiB limit for {what}",
        max >> 20
    )
}

/// A file that could not be read as a document, and why.
#[derive(Clone, Debug)]
pub struct Unreadable {
    pub file: FileId,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Program {
    /// The work tree's top; display paths are relative to it.
    pub root: PathBuf,
    /// The orchestrator folder.
    pub dir: PathBuf,
    pub files: Vec<SourceFile>,
    pub docs: Vec<Document>,
    pub unreadable: Vec<Unreadable>,
    pub config: Config,
    pub config_file: Option<FileId>,
    pub config_error: Option<ConfigError>,
    /// What the config holds that parses but cannot work (a placeholder the
    /// agent's command or prompt do not fill): `config-invalid`.
    pub config_problems: Vec<ConfigError>,
}

/// An input file: its display path, its location on disk and its bytes (or
/// why it has none).
pub struct Input {
    pub path: String,
    pub abs_path: PathBuf,
    pub bytes: Result<Vec<u8>, String>,
}

/// Reads documents that are not files of the work tree (the blobs of the git
/// index or of a commit) on the threads that parse them.
pub trait Fetch: Sync {
    /// A reader for one thread, from a key and a size limit to the bytes or
    /// why there are none (worded to follow the file's path: "cannot be
    /// read: ..."). A file over the limit is not read.
    fn reader(&self) -> Box<dyn FnMut(usize, u64) -> Result<Vec<u8>, String> + '_>;
}

/// The blobs of the git index or of a commit, read through the git module
/// with the document size limit: a larger blob is sized from its object
/// header and never inflated.
impl Fetch for crate::git::Blobs {
    fn reader(&self) -> Box<dyn FnMut(usize, u64) -> Result<Vec<u8>, String> + '_> {
        let mut read = crate::git::Blobs::reader(self);
        Box::new(move |key, max| {
            read(key, max).map_err(|e| match e {
                crate::git::BlobError::TooBig(len) => over_limit(len, max),
                crate::git::BlobError::Failed(why) => why,
            })
        })
    }
}

/// A document to read through a [`Fetch`].
struct Fetched {
    path: String,
    abs_path: PathBuf,
    key: usize,
    /// Its [`document_limit`].
    max: u64,
}

/// The files a load reads, as [`Program::list`] found them: the documents
/// (not read yet) and `config.yaml` (read).
pub struct Listing {
    root: PathBuf,
    dir: PathBuf,
    inputs: Vec<Pending>,
    config: Option<Input>,
    config_path: Option<PathBuf>,
}

impl Listing {
    /// The documents a reload may keep from the program before it (regular
    /// files, not links), in load order.
    pub fn documents(&self) -> impl Iterator<Item = &Path> {
        self.inputs.iter().filter_map(|p| match p {
            Pending::Disk {
                abs_path,
                symlink: false,
                ..
            } => Some(abs_path.as_path()),
            _ => None,
        })
    }

    /// Every listed file, documents and `config.yaml`, in load order.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.config_path
            .as_deref()
            .into_iter()
            .chain(self.inputs.iter().filter_map(|p| match p {
                Pending::Read(i) => Some(i.abs_path.as_path()),
                Pending::Disk { abs_path, .. } => Some(abs_path.as_path()),
                Pending::Fetch(_) | Pending::Parsed(_) => None,
            }))
    }
}

impl Program {
    /// Load every `*.md` under `dir` and its `config.yaml`.
    pub fn load(root: &Path, dir: &Path) -> std::io::Result<Program> {
        Ok(Program::read(Program::list(root, dir)?))
    }

    /// Read and parse every listed file.
    pub fn read(listing: Listing) -> Program {
        let Listing {
            root,
            dir,
            inputs,
            config,
            ..
        } = listing;
        Program::build(&root, &dir, inputs, config, None)
    }

    /// [`Program::read`], keeping the documents of `previous` that `keep`
    /// names (by location) as they were parsed: moved, not read and parsed
    /// again. A long-lived reader (the MCP server) re-reads only what
    /// changed.
    pub fn reload(listing: Listing, previous: Program, keep: &dyn Fn(&Path) -> bool) -> Program {
        let Program {
            files,
            docs,
            unreadable,
            config_file,
            ..
        } = previous;
        let mut parsed: Vec<Option<Result<Document, String>>> =
            (0..files.len()).map(|_| None).collect();
        for doc in docs {
            let at = doc.file.0 as usize;
            parsed[at] = Some(Ok(doc));
        }
        for u in unreadable {
            parsed[u.file.0 as usize] = Some(Err(u.reason));
        }
        let mut old: HashMap<PathBuf, (SourceFile, Result<Document, String>)> = files
            .into_iter()
            .zip(parsed)
            .enumerate()
            .filter(|(i, _)| config_file != Some(FileId(*i as u32)))
            .filter_map(|(_, (file, parsed))| Some((file.abs_path.clone(), (file, parsed?))))
            .collect();
        let Listing {
            root,
            dir,
            inputs,
            config,
            ..
        } = listing;
        let inputs = inputs
            .into_iter()
            .map(|p| match p {
                Pending::Disk {
                    ref abs_path,
                    symlink: false,
                    ..
                } if keep(abs_path) => match old.remove(abs_path) {
                    Some(kept) => Pending::Parsed(Box::new(kept)),
                    None => p,
                },
                p => p,
            })
            .collect();
        Program::build(&root, &dir, inputs, config, None)
    }

    /// List every `*.md` under `dir` (outside `logs/` and `runs/`) and read
    /// its `config.yaml`.
    pub fn list(root: &Path, dir: &Path) -> std::io::Result<Listing> {
        let mut inputs = Vec::new();
        let mut config = None;
        let mut config_path = None;
        let walker = walkdir::WalkDir::new(dir)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() != 1 || !matches!(e.file_name().to_str(), Some("logs" | "runs"))
            });
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| dir.to_path_buf());
                    if e.depth() == 0 {
                        return Err(std::io::Error::other(e.to_string()));
                    }
                    inputs.push(Pending::Read(Input {
                        path: display_path(root, &path),
                        abs_path: path,
                        bytes: Err(e.to_string()),
                    }));
                    continue;
                }
            };
            let path = entry.path();
            let name = entry.file_name().to_string_lossy();
            if entry.depth() == 1 && name == "config.yaml" {
                config = Some(read_input(root, path, &entry));
                config_path = Some(path.to_path_buf());
                continue;
            }
            if !name.ends_with(".md") || entry.depth() == 0 {
                continue;
            }
            if entry.file_type().is_dir() {
                continue;
            }
            if !entry.path_is_symlink() && !entry.file_type().is_file() {
                // Opening a FIFO would block until someone writes to it.
                inputs.push(Pending::Read(Input {
                    path: display_path(root, path),
                    abs_path: path.to_path_buf(),
                    bytes: Err(NOT_REGULAR.to_string()),
                }));
                continue;
            }
            inputs.push(Pending::Disk {
                path: display_path(root, path),
                abs_path: path.to_path_buf(),
                symlink: entry.path_is_symlink(),
                max: if entry.depth() == 1 && name == PLAN_FILE {
                    MAX_PLAN_BYTES
                } else {
                    MAX_DOCUMENT_BYTES
                },
            });
        }
        Ok(Listing {
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            inputs,
            config,
            config_path,
        })
    }

    /// [`Program::load`], refusing a folder with no document at all (the
    /// commands need a program; `orch init` makes one).
    pub fn load_documents(root: &Path, dir: &Path) -> crate::error::Result<Program> {
        let program = Program::load(root, dir).map_err(|e| crate::error::Error::io(dir, e))?;
        if program.docs.is_empty() && program.unreadable.is_empty() {
            return Err(crate::error::Error::with_help(
                format!("{} holds no documents", dir.display()),
                "run `orch init` to scaffold a plan and a ledger",
            ));
        }
        Ok(program)
    }

    /// Build a program from files already in memory (tests, staged blobs).
    pub fn from_inputs(
        root: &Path,
        dir: &Path,
        inputs: Vec<Input>,
        config: Option<Input>,
    ) -> Program {
        let inputs = inputs.into_iter().map(Pending::Read).collect();
        Program::build(root, dir, inputs, config, None)
    }

    /// A program from repository files listed under `prefix` (a git tree's
    /// or index's), read through `fetch` by their position in the listing:
    /// `config.yaml`, read here, and the documents ([`is_document`]), read
    /// on the threads that parse them. `name` gives a file's display path
    /// and location.
    pub fn from_listing<'a>(
        root: &Path,
        dir: &Path,
        prefix: &str,
        paths: impl IntoIterator<Item = &'a str>,
        name: &dyn Fn(&str) -> (String, PathBuf),
        fetch: &dyn Fetch,
    ) -> Program {
        let mut docs = Vec::new();
        let mut config = None;
        for (key, path) in paths.into_iter().enumerate() {
            let Some(rel) = path.strip_prefix(prefix) else {
                continue;
            };
            let (path, abs_path) = name(path);
            if rel == "config.yaml" {
                config = Some(Input {
                    path,
                    abs_path,
                    bytes: fetch.reader()(key, MAX_DOCUMENT_BYTES)
                        .and_then(|b| within(b, MAX_DOCUMENT_BYTES)),
                });
            } else if is_document(rel) {
                docs.push(Fetched {
                    path,
                    abs_path,
                    key,
                    max: document_limit(rel),
                });
            }
        }
        let inputs = docs.into_iter().map(Pending::Fetch).collect();
        Program::build(root, dir, inputs, config, Some(fetch))
    }

    fn build(
        root: &Path,
        dir: &Path,
        inputs: Vec<Pending>,
        config: Option<Input>,
        fetch: Option<&dyn Fetch>,
    ) -> Program {
        let mut program = Program {
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            ..Program::default()
        };
        if let Some(input) = config {
            let id = FileId(program.files.len() as u32);
            match decode(input.bytes) {
                Ok(text) => {
                    match config::parse(&text) {
                        Ok(c) => {
                            program.config_problems = c.problems(&text);
                            program.config = c;
                        }
                        Err(e) => program.config_error = Some(e),
                    }
                    program
                        .files
                        .push(SourceFile::new(input.path, input.abs_path, text));
                }
                Err(reason) => {
                    program
                        .files
                        .push(SourceFile::new(input.path, input.abs_path, ""));
                    program.unreadable.push(Unreadable { file: id, reason });
                }
            }
            program.config_file = Some(id);
        }
        let first = program.files.len();
        program.files.reserve(inputs.len());
        program.docs.reserve(inputs.len());
        // Run by run: each run is freed once moved into the tables.
        for run in parse_all(inputs, first, fetch) {
            for (file, parsed) in run {
                let id = FileId(program.files.len() as u32);
                match parsed {
                    Ok(doc) => program.docs.push(doc),
                    Err(reason) => program.unreadable.push(Unreadable { file: id, reason }),
                }
                program.files.push(file);
            }
        }
        program
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Documents of one kind, in path order.
    pub fn docs_of(&self, kind: Kind) -> impl Iterator<Item = &Document> {
        self.docs.iter().filter(move |d| d.kind == Some(kind))
    }

    /// The Master Plan: `plan.md` when it is one, else the first plan.
    pub fn plan(&self) -> Option<&Document> {
        self.main_doc(Kind::Plan, "plan.md")
    }

    /// The Evidence Ledger: `ledger.md` when it is one, else the first.
    pub fn ledger(&self) -> Option<&Document> {
        self.main_doc(Kind::Ledger, "ledger.md")
    }

    fn main_doc(&self, kind: Kind, name: &str) -> Option<&Document> {
        let conventional = self.dir.join(name);
        self.docs_of(kind)
            .find(|d| self.file(d.file).abs_path == conventional)
            .or_else(|| self.docs_of(kind).next())
    }

    /// The file name a document of this kind and ID should have.
    pub fn expected_path(kind: Kind, id: &str) -> Option<String> {
        match kind {
            Kind::Ticket => Some(format!("tickets/{id}.md")),
            Kind::Card => Some(format!("cards/{id}.md")),
            Kind::Sheet => Some(format!("sheets/{id}.md")),
            _ => None,
        }
    }
}

/// A document to parse: already in memory, or still on disk (read by the
/// worker that parses it, so reading is spread over the cores too).
enum Pending {
    Read(Input),
    Disk {
        path: String,
        abs_path: PathBuf,
        symlink: bool,
        /// Its [`document_limit`].
        max: u64,
    },
    Fetch(Fetched),
    /// Parsed by an earlier load ([`Program::reload`]).
    Parsed(Box<Parsed>),
}

/// Is this file, by its path inside the orchestrator folder, a document?
/// Markdown outside the run logs and reports (`logs/`, `runs/`).
pub fn is_document(rel: &str) -> bool {
    rel.ends_with(".md") && !matches!(rel.split('/').next(), Some("logs" | "runs"))
}

/// The bytes of a file read whole (a blob), or why they are not a document
/// within `max`.
fn within(bytes: Vec<u8>, max: u64) -> Result<Vec<u8>, String> {
    if bytes.len() as u64 > max {
        return Err(over_limit(bytes.len() as u64, max));
    }
    Ok(bytes)
}

type Reader<'f> = Box<dyn FnMut(usize, u64) -> Result<Vec<u8>, String> + 'f>;

impl Pending {
    /// Read the input; a fetched one with this thread's reader.
    fn read(self, reader: &mut Option<Reader<'_>>) -> Input {
        match self {
            Pending::Read(input) => input,
            Pending::Disk {
                path,
                abs_path,
                symlink,
                max,
            } => {
                let bytes = read_file(&abs_path, symlink, max);
                Input {
                    path,
                    abs_path,
                    bytes,
                }
            }
            // Handled by `parse_all` without reading; from its text, were
            // it ever read.
            Pending::Parsed(parsed) => Input {
                bytes: Ok(parsed.0.text.as_bytes().to_vec()),
                path: parsed.0.path,
                abs_path: parsed.0.abs_path,
            },
            Pending::Fetch(Fetched {
                path,
                abs_path,
                key,
                max,
            }) => Input {
                path,
                abs_path,
                bytes: match reader {
                    Some(read) => read(key, max).and_then(|b| within(b, max)),
                    None => Err("cannot be read: no reader was given".to_string()),
                },
            },
        }
    }
}

type Parsed = (SourceFile, Result<Document, String>);

/// Read, decode and parse every input, in order, on all cores: reading and
/// parsing dominate lint time on large programs, and each document is
/// independent.
fn parse_all(inputs: Vec<Pending>, first: usize, fetch: Option<&dyn Fetch>) -> Vec<Vec<Parsed>> {
    let n = inputs.len();
    let threads = if n < 64 {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    };
    // Batches of neighbours: blobs next to each other in path order are
    // often deltas of each other, and one thread reading them in turn finds
    // each chain it needs just decoded.
    let batch = (n / (threads * 8)).max(16);
    let slots: Vec<std::sync::Mutex<Option<Pending>>> = inputs
        .into_iter()
        .map(|p| std::sync::Mutex::new(Some(p)))
        .collect();
    crate::util::par_chunks(
        n,
        threads,
        batch,
        || fetch.map(Fetch::reader),
        |reader, i| {
            let pending = slots[i]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
                .expect("par_map runs each job once");
            let id = FileId((first + i) as u32);
            if let Pending::Parsed(parsed) = pending {
                let (file, doc) = *parsed;
                return (
                    file,
                    doc.map(|mut d| {
                        d.moved_to(id);
                        d
                    }),
                );
            }
            let input = pending.read(reader);
            match decode(input.bytes) {
                Ok(text) => {
                    let text: arcstr::ArcStr = text.into();
                    let doc = Document::parse_shared(id, &text);
                    (SourceFile::new(input.path, input.abs_path, text), Ok(doc))
                }
                Err(reason) => (SourceFile::new(input.path, input.abs_path, ""), Err(reason)),
            }
        },
    )
}

const NOT_REGULAR: &str =
    "is not a regular file (a FIFO, socket or device); orch reads only regular files";

fn read_input(root: &Path, path: &Path, entry: &walkdir::DirEntry) -> Input {
    Input {
        path: display_path(root, path),
        abs_path: path.to_path_buf(),
        bytes: if !entry.path_is_symlink() && !entry.file_type().is_file() {
            // Opening a FIFO would block until someone writes to it.
            Err(NOT_REGULAR.to_string())
        } else {
            read_file(path, entry.path_is_symlink(), MAX_DOCUMENT_BYTES)
        },
    }
}

/// A document's bytes, or why there are none. One `open` and one `fstat`
/// (the size check and the buffer's size), then the read.
fn read_file(path: &Path, symlink: bool, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if symlink {
        return Err("is a symbolic link; orch reads only regular files".to_string());
    }
    // The walk does not follow links and this entry is none, so the file
    // opened is the entry itself.
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let len = match file.metadata() {
        Ok(md) => md.len(),
        // Worded as walkdir's error was when it took the metadata.
        Err(e) => {
            return Err(format!(
                "cannot be read: IO error for operation on {}: {e}",
                path.display()
            ));
        }
    };
    if len > max {
        return Err(over_limit(len, max));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // A file that grew since `fstat` is still read no further than the
    // limit allows.
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    within(bytes, max)
}

/// One document's text read from disk as [`Program::load`] reads it: a
/// regular file (a symbolic link is not followed), within the size limit
/// `max` (its [`document_limit`]), UTF-8 without NUL bytes; or why it is
/// not one.
pub fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot be read: {e}"))?;
    let symlink = meta.file_type().is_symlink();
    if !symlink && !meta.is_file() {
        return Err(NOT_REGULAR.to_string());
    }
    decode(read_file(path, symlink, max))
}

/// Bytes to text: UTF-8 without NUL bytes.
fn decode(bytes: Result<Vec<u8>, String>) -> Result<String, String> {
    let bytes = bytes?;
    if let Some(i) = bytes.iter().position(|&b| b == 0) {
        return Err(format!("is binary (a NUL byte at offset {i})"));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// `path` relative to `root`, with `/` separators.
pub fn display_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    s.join("/")
}

/// Where a fact was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub file: FileId,
    pub span: Span,
}

/// One row of the Evidence Ledger.
#[derive(Clone, Debug)]
pub struct LedgerRow {
    pub file: FileId,
    pub row: Span,
    pub task: Spanned<Text>,
    pub skill: Option<Spanned<Text>>,
    pub evidence: Option<Spanned<Text>>,
    pub result_text: Option<Spanned<Text>>,
    pub result: Option<Outcome>,
    pub next: Option<Spanned<Text>>,
}

/// One row of Unverified Items.
#[derive(Clone, Debug)]
pub struct UnverifiedRow {
    pub file: FileId,
    pub row: Span,
    pub item: Spanned<Text>,
    pub risk: Spanned<Text>,
    pub owner: Spanned<Text>,
}

/// A task: a backlog row joined with its ticket, card and ledger rows.
#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    /// The Branch ID cell.
    pub at: At,
    pub objective: Option<Spanned<Text>>,
    pub skill: Option<Spanned<Text>>,
    pub deps: Vec<Spanned<Text>>,
    /// Text in the Dependencies cell that is not an ID (`(after review)`):
    /// `dep-unreadable` reports it.
    pub dep_prose: Vec<Spanned<Text>>,
    pub done_criteria: Option<Spanned<Text>>,
    /// Index into `Program::docs`.
    pub ticket: Option<usize>,
    pub card: Option<usize>,
    pub status: TaskStatus,
    /// False when the ticket's status is not a known word: `status` is then
    /// a guess (`todo`) and status rules leave the task alone.
    pub status_known: bool,
    /// Where the status is written (the ticket's `status:` value).
    pub status_at: Option<At>,
    pub group: Option<Spanned<Text>>,
    /// Indexes into `Index::ledger`, in table order.
    pub rows: Vec<usize>,
}

impl Task {
    /// One of the task's backlog cells (`objective`, `done_criteria`) as
    /// the lead wrote it: code spans and escapes kept, trimmed; `None`
    /// when absent or empty. What `orch new` and `orch split` copy.
    pub fn cell_markdown(&self, program: &Program, cell: &Option<Spanned<Text>>) -> Option<String> {
        let cell = cell.as_ref()?;
        let text = program.file(self.at.file).slice(cell.span).trim();
        // A span that does not hold the cell's text (an empty cell spans
        // the whole cell) falls back to the rendered text.
        let text = if text.is_empty() || cell.value.trim().is_empty() {
            cell.value.trim()
        } else {
            text
        };
        (!text.is_empty()).then(|| text.to_string())
    }
}

/// The program's tasks and ledger, derived once per run.
#[derive(Debug, Default)]
pub struct Index {
    pub tasks: Vec<Task>,
    by_id: HashMap<String, usize>,
    pub ledger: Vec<LedgerRow>,
    pub unverified: Vec<UnverifiedRow>,
    /// Phase IDs (`P1`) declared in the Phase Tree.
    pub phases: Vec<Spanned<Text>>,
}

fn cell_text(cell: Option<&Cell>) -> Option<Spanned<Text>> {
    cell.map(|c| Spanned::new(c.text.clone(), c.span))
}

impl Index {
    pub fn build(program: &Program) -> Index {
        let mut index = Index::default();
        if let Some(plan) = program.plan() {
            let view = PlanView::of(plan);
            index.phases = view.phases.iter().map(|p| p.id.clone()).collect();
            if let Some(backlog) = &view.backlog {
                // The IDs first: a Dependencies cell is read knowing every
                // task, so a word that names one is an ID, not a remark.
                let mut rows = Vec::new();
                let mut ids = std::collections::HashSet::new();
                for row in &backlog.table.rows {
                    let Some(id_cell) = backlog.cell(row, 0) else {
                        continue;
                    };
                    let id = id_cell.text.trim().trim_matches('`').to_string();
                    // An ID outside the syntax (`id-invalid`) is not a task:
                    // IDs become file names, so no command may see it.
                    if !crate::util::is_valid_id(&id) || !ids.insert(id.clone()) {
                        continue;
                    }
                    rows.push((id, id_cell, row));
                }
                let text = &program.file(plan.file).text;
                index.tasks.reserve_exact(rows.len());
                index.by_id.reserve(rows.len());
                for (id, id_cell, row) in rows {
                    let read = backlog
                        .cell(row, 3)
                        .map(|c| super::lists::read_deps(c, text, &|d| ids.contains(d)))
                        .unwrap_or_default();
                    index.by_id.insert(id.clone(), index.tasks.len());
                    index.tasks.push(Task {
                        id,
                        at: At {
                            file: plan.file,
                            span: id_cell.span,
                        },
                        objective: cell_text(backlog.cell(row, 1)),
                        skill: cell_text(backlog.cell(row, 2)),
                        deps: read.ids,
                        dep_prose: read.prose,
                        done_criteria: cell_text(backlog.cell(row, 4)),
                        ticket: None,
                        card: None,
                        status: TaskStatus::Todo,
                        status_known: true,
                        status_at: None,
                        group: None,
                        rows: Vec::new(),
                    });
                }
            }
        }
        for (di, doc) in program.docs.iter().enumerate() {
            let Some(kind) = doc.kind else { continue };
            let Some(id) = doc.id() else { continue };
            let Some(&ti) = index.by_id.get(id.value.trim()) else {
                continue;
            };
            let task = &mut index.tasks[ti];
            match kind {
                Kind::Ticket if task.ticket.is_none() => {
                    task.ticket = Some(di);
                    if let Some(fm) = doc.front()
                        && let Some(s) = fm.scalar("status")
                    {
                        match TaskStatus::parse(s.value.trim()) {
                            Some(status) => task.status = status,
                            None => task.status_known = false,
                        }
                        task.status_at = Some(At {
                            file: doc.file,
                            span: s.span,
                        });
                    } else if doc.front().is_some_and(|fm| fm.get("status").is_some()) {
                        // A `status:` that is a list or a map: unknown.
                        task.status_known = false;
                    }
                }
                Kind::Card if task.card.is_none() => {
                    task.card = Some(di);
                    task.group = doc.front().and_then(|fm| fm.scalar("group"));
                }
                _ => {}
            }
        }
        // A ticket that is there but does not parse (unreadable, or its front
        // matter broken) holds a status orch cannot read: the task's status
        // is unknown, never a `todo` that could be called ready.
        let attached: std::collections::HashSet<FileId> = index
            .tasks
            .iter()
            .filter_map(|t| t.ticket.map(|d| program.docs[d].file))
            .collect();
        let tickets = program.dir.join("tickets");
        // Each file's parsed document, if any (one pass, not a search per
        // file: 4,000 files make that 16 million comparisons).
        let mut parsed_of: Vec<Option<&Document>> = vec![None; program.files.len()];
        for d in program.docs.iter().rev() {
            if let Some(slot) = parsed_of.get_mut(d.file.0 as usize) {
                *slot = Some(d);
            }
        }
        for (i, f) in program.files.iter().enumerate() {
            let id = FileId(i as u32);
            if attached.contains(&id) || Some(id) == program.config_file {
                continue;
            }
            let parsed = parsed_of[i];
            if parsed.is_some_and(|d| d.kind.is_some() && d.kind != Some(Kind::Ticket)) {
                continue;
            }
            let Some(stem) = f
                .abs_path
                .strip_prefix(&tickets)
                .ok()
                .and_then(|r| r.to_str())
                .and_then(|r| r.strip_suffix(".md"))
            else {
                continue;
            };
            if let Some(&ti) = index.by_id.get(stem)
                && index.tasks[ti].ticket.is_none()
            {
                index.tasks[ti].status_known = false;
            }
        }
        if let Some(ledger) = program.ledger() {
            let view = LedgerView::of(ledger);
            if let Some(rows) = &view.rows {
                for row in &rows.table.rows {
                    let Some(task) = cell_text(rows.cell(row, 0)) else {
                        continue;
                    };
                    let task = Spanned::new(
                        task.value.part(task.value.trim_matches('`').trim()),
                        task.span,
                    );
                    let result_text = cell_text(rows.cell(row, 3));
                    let result = result_text
                        .as_ref()
                        .and_then(|r| Outcome::parse_cell(&r.value));
                    let i = index.ledger.len();
                    if let Some(&ti) = index.by_id.get(task.value.as_str()) {
                        index.tasks[ti].rows.push(i);
                    }
                    index.ledger.push(LedgerRow {
                        file: ledger.file,
                        row: row.span,
                        task,
                        skill: cell_text(rows.cell(row, 1)),
                        evidence: cell_text(rows.cell(row, 2)),
                        result_text,
                        result,
                        next: cell_text(rows.cell(row, 4)),
                    });
                }
            }
            if let Some(table) = &view.unverified {
                for row in &table.table.rows {
                    let get = |col| {
                        cell_text(table.cell(row, col)).unwrap_or_else(|| {
                            Spanned::new(Text::default(), Span::empty(row.span.end))
                        })
                    };
                    index.unverified.push(UnverifiedRow {
                        file: ledger.file,
                        row: row.span,
                        item: get(0),
                        risk: get(1),
                        owner: get(2),
                    });
                }
            }
        }
        index
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.by_id.get(id).map(|&i| &self.tasks[i])
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The task's latest ledger row.
    pub fn last_row(&self, task: &Task) -> Option<&LedgerRow> {
        task.rows.last().map(|&i| &self.ledger[i])
    }

    /// Children of a split task: `<ID>.1`, `<ID>.2`, ...
    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks.iter().filter(move |t| {
            t.id.strip_prefix(id)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    }

    /// A dependency is satisfied when it is done, or split with every child
    /// done.
    pub fn satisfied(&self, id: &str) -> bool {
        match self.task(id) {
            Some(t) if t.status == TaskStatus::Done => true,
            Some(t) if t.status == TaskStatus::Split => {
                let mut children = self.children(id).peekable();
                children.peek().is_some() && children.all(|c| c.status == TaskStatus::Done)
            }
            _ => false,
        }
    }

    /// The unsatisfied dependencies of a task.
    pub fn waiting_on<'a>(&'a self, task: &'a Task) -> Vec<&'a Spanned<Text>> {
        task.deps
            .iter()
            .filter(|d| !self.satisfied(&d.value))
            .collect()
    }

    /// Ready: `todo` (as its ticket says: a ticket that does not parse
    /// leaves the status unknown) with every dependency satisfied.
    pub fn is_ready(&self, task: &Task) -> bool {
        task.status == TaskStatus::Todo && task.status_known && self.waiting_on(task).is_empty()
    }

    /// The position in `ledger` of the task's latest row with a result,
    /// and that result.
    pub fn latest_result(&self, task: &Task) -> Option<(usize, Outcome)> {
        task.rows
            .iter()
            .rev()
            .find_map(|&i| self.ledger[i].result.map(|r| (i, r)))
    }

    /// A failed task whose root cause was found, to dispatch again: its
    /// latest result is `fail`, a root-cause task it depends on (owner
    /// skill `debug-troubleshooter`) passed after that, and every
    /// dependency is satisfied. Returns that root-cause task. `orch next`
    /// offers the task as a retry, and `orch dispatch` takes it.
    pub fn retry_after(&self, task: &Task) -> Option<&Task> {
        if task.status != TaskStatus::Failed || !task.status_known {
            return None;
        }
        let (fail_row, Outcome::Fail) = self.latest_result(task)? else {
            return None;
        };
        if !self.waiting_on(task).is_empty() {
            return None;
        }
        task.deps
            .iter()
            .filter_map(|d| self.task(d.value.trim()))
            .filter(|d| is_root_cause(d))
            .find(|d| {
                d.status == TaskStatus::Done
                    && self
                        .latest_result(d)
                        .is_some_and(|(i, r)| r == Outcome::Pass && i > fail_row)
            })
    }

    /// Ready, or a failed task whose root cause passed: what `orch next`
    /// lists and `orch dispatch` takes.
    pub fn is_dispatchable(&self, task: &Task) -> bool {
        self.is_ready(task) || self.retry_after(task).is_some()
    }
}
