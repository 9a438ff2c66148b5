//! One program as the editor sees it: the documents on disk with the open
//! buffers laid over them, and its diagnostics kept current edit by edit.
//!
//! An edit re-parses only the document it changed. The findings of the
//! [`Reach::Document`] rules are kept per document and recomputed only for
//! documents whose text changed; the [`Reach::Program`] rules run again
//! over the whole program (the cards not edited keep their parsed scopes
//! in a [`ScopeCache`], the tracked files are read once), and the result goes
//! through the same [`rules::finish`] as `orch lint`, so the server and the
//! command report the same findings for the same text.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::model::program::{Input, display_path, is_document, read_text};
use crate::model::{Document, Index, Program};
use crate::rules::{self, Context, Reach, ScopeCache};
use crate::source::{FileId, SourceFile};

use super::trace;
use std::time::Instant;

/// What a file is to a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Config,
    Document,
}

pub struct World {
    pub root: PathBuf,
    pub dir: PathBuf,
    pub program: Program,
    /// The task index of the last [`World::relint`].
    pub index: Index,
    /// The latest findings, by file.
    pub found: HashMap<PathBuf, Vec<Diagnostic>>,
    /// The repository's tracked files, read on first need.
    tracked: Option<Vec<String>>,
    by_path: HashMap<PathBuf, FileId>,
    /// `Program::docs` index of each file that parsed as a document.
    doc_at: HashMap<FileId, usize>,
    /// The document rules' findings for each document not edited since.
    doc_found: HashMap<PathBuf, Vec<Diagnostic>>,
    scopes: ScopeCache,
    /// Edited since the last relint.
    stale: bool,
}

impl World {
    /// The program under `dir` as it is on disk (an unreadable folder is an
    /// empty program: the editor still gets answers for what it opens).
    pub fn load(root: &Path, dir: &Path) -> World {
        let program = Program::load(root, dir).unwrap_or_else(|_| Program {
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            ..Program::default()
        });
        let mut world = World {
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            program,
            index: Index::default(),
            found: HashMap::new(),
            tracked: None,
            by_path: HashMap::new(),
            doc_at: HashMap::new(),
            doc_found: HashMap::new(),
            scopes: ScopeCache::default(),
            stale: true,
        };
        world.reindex();
        world
    }

    /// Whether `path` is this program's config or one of its documents.
    pub fn role(&self, path: &Path) -> Option<Role> {
        let rel = path.strip_prefix(&self.dir).ok()?;
        let rel = rel.to_str()?;
        if rel == "config.yaml" {
            Some(Role::Config)
        } else if is_document(rel) {
            Some(Role::Document)
        } else {
            None
        }
    }

    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// The file at `path`, if the program holds it.
    pub fn file_id(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    /// The parsed document of a file.
    pub fn doc(&self, id: FileId) -> Option<&Document> {
        self.doc_at.get(&id).map(|&i| &self.program.docs[i])
    }

    /// Forget the tracked files (the git index changed); read again when a
    /// rule needs them.
    pub fn tracked_changed(&mut self) {
        self.tracked = None;
        self.stale = true;
    }

    /// The tracked files as last read (by [`World::relint`]).
    pub fn tracked_files(&self) -> &[String] {
        self.tracked.as_deref().unwrap_or_default()
    }

    fn tracked(&mut self) -> &[String] {
        let root = &self.root;
        self.tracked
            .get_or_insert_with(|| rules::tracked_files(root))
    }

    fn reindex(&mut self) {
        self.by_path = self
            .program
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.abs_path.clone(), FileId(i as u32)))
            .collect();
        self.doc_at = self
            .program
            .docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.file, i))
            .collect();
    }

    /// The text of `path` is now `text` (an open buffer, or the file on
    /// disk). Re-parses that file alone unless the program gains a file.
    pub fn set_text(&mut self, path: &Path, text: String) {
        let Some(role) = self.role(path) else { return };
        self.stale = true;
        self.doc_found.remove(path);
        let Some(id) = self.file_id(path) else {
            return self.rebuild(path, Some(Ok(text)));
        };
        let old = self.program.file(id);
        if *old.text == *text && !self.program.unreadable.iter().any(|u| u.file == id) {
            return;
        }
        let file = SourceFile::new(old.path.clone(), old.abs_path.clone(), text.as_str());
        self.program.files[id.0 as usize] = file;
        let was_unreadable = self.program.unreadable.iter().any(|u| u.file == id);
        self.program.unreadable.retain(|u| u.file != id);
        match role {
            Role::Config => match crate::config::parse(&text) {
                Ok(c) => {
                    self.program.config = c;
                    self.program.config_error = None;
                }
                Err(e) => {
                    self.program.config = crate::config::Config::default();
                    self.program.config_error = Some(e);
                }
            },
            Role::Document => {
                let doc = Document::parse(id, &text);
                match self.doc_at.get(&id) {
                    Some(&i) => self.program.docs[i] = doc,
                    None => {
                        debug_assert!(was_unreadable);
                        // Documents stay in file order: find its place.
                        let at = self.program.docs.partition_point(|d| d.file < id);
                        self.program.docs.insert(at, doc);
                        self.reindex();
                    }
                }
            }
        }
    }

    /// Read `path` from disk again (a change the editor does not hold).
    pub fn reload(&mut self, path: &Path) {
        if self.role(path).is_none() {
            return;
        }
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.remove(path),
            _ => match read_text(path) {
                Ok(text) => self.set_text(path, text),
                Err(reason) => {
                    self.stale = true;
                    self.doc_found.remove(path);
                    self.rebuild(path, Some(Err(reason)));
                }
            },
        }
    }

    /// `path` is gone.
    pub fn remove(&mut self, path: &Path) {
        if self.file_id(path).is_some() {
            self.stale = true;
            self.doc_found.remove(path);
            self.rebuild(path, None);
        }
    }

    /// Rebuild the program with one file added, replaced or removed: file
    /// ids follow path order, as [`Program::load`] numbers them. Every
    /// document is parsed again; rare (a file created or deleted).
    fn rebuild(&mut self, path: &Path, change: Option<Result<String, String>>) {
        let program = std::mem::take(&mut self.program);
        let unreadable: HashMap<FileId, String> = program
            .unreadable
            .iter()
            .map(|u| (u.file, u.reason.clone()))
            .collect();
        let mut texts: BTreeMap<PathBuf, Result<String, String>> = BTreeMap::new();
        for (i, f) in program.files.iter().enumerate() {
            let text = match unreadable.get(&FileId(i as u32)) {
                Some(reason) => Err(reason.clone()),
                None => Ok(f.text.to_string()),
            };
            texts.insert(f.abs_path.clone(), text);
        }
        match change {
            Some(text) => texts.insert(path.to_path_buf(), text),
            None => texts.remove(path),
        };
        let config_path = self.dir.join("config.yaml");
        let input = |abs: PathBuf, text: Result<String, String>| Input {
            path: display_path(&self.root, &abs),
            abs_path: abs,
            bytes: text.map(String::into_bytes),
        };
        let config = texts
            .remove(&config_path)
            .map(|t| input(config_path.clone(), t));
        let inputs = texts.into_iter().map(|(p, t)| input(p, t)).collect();
        self.program = Program::from_inputs(&self.root, &self.dir, inputs, config);
        self.reindex();
        // The document rules' findings are kept by path; those of files
        // gone are dropped.
        let by_path = &self.by_path;
        self.doc_found.retain(|p, _| by_path.contains_key(p));
    }

    /// Run the rules again if anything changed since the last run. Returns
    /// the files whose findings changed.
    pub fn relint(&mut self) -> Vec<PathBuf> {
        if !self.stale {
            return Vec::new();
        }
        self.stale = false;
        let t = Instant::now();
        self.tracked();
        let t = trace("relint: tracked", t);
        let program = &self.program;
        let dirty: Vec<usize> = program
            .docs
            .iter()
            .enumerate()
            .filter(|(_, d)| !self.doc_found.contains_key(&program.file(d.file).abs_path))
            .map(|(i, _)| i)
            .collect();
        let tracked = self.tracked.as_deref().unwrap_or_default();
        let t = trace("relint: dirty", t);
        let mut cx = Context::new(program).with_tracked(Cow::Borrowed(tracked));
        let t = trace("relint: index", t);
        cx.scopes = Some(&self.scopes);
        cx.focus = Some(&dirty);
        let fresh = rules::check(&cx, |r| r.reach() == Reach::Document);
        let t = trace("relint: document rules", t);
        cx.focus = None;
        let mut all = rules::check(&cx, |r| r.reach() == Reach::Program);
        trace("relint: program rules", t);
        if super::tracing() {
            // Each program rule alone, on one thread, with the cards read.
            let mut one = Context::new(program).with_tracked(Cow::Borrowed(tracked));
            one.scopes = Some(&self.scopes);
            let c = Instant::now();
            let _ = rules::check(&one, |r| r.meta().code == "glob-invalid");
            trace("relint:   (cards + glob-invalid)", c);
            for r in rules::RULES.iter().filter(|r| r.reach() == Reach::Program) {
                let c = Instant::now();
                let _ = rules::check(&one, |x| x.meta().code == r.meta().code);
                trace(&format!("relint:   rule {}", r.meta().code), c);
            }
        }
        let t = Instant::now();
        let index = std::mem::take(&mut cx.index);
        drop(cx);
        for &i in &dirty {
            let path = &program.file(program.docs[i].file).abs_path;
            self.doc_found.insert(path.clone(), Vec::new());
        }
        for d in fresh {
            let path = &program.file(d.file).abs_path;
            if let Some(v) = self.doc_found.get_mut(path) {
                v.push(d);
            }
        }
        for doc in &program.docs {
            let Some(kept) = self.doc_found.get(&program.file(doc.file).abs_path) else {
                continue;
            };
            all.extend(kept.iter().cloned().map(|mut d| {
                restamp(&mut d, doc.file);
                d
            }));
        }
        let t = trace("relint: kept", t);
        let n = all.len();
        let finished = rules::finish(program, all);
        let t = trace(&format!("relint: finish ({n} findings)"), t);
        let mut found: HashMap<PathBuf, Vec<Diagnostic>> = HashMap::new();
        for d in finished {
            found
                .entry(program.file(d.file).abs_path.clone())
                .or_default()
                .push(d);
        }
        let mut changed: Vec<PathBuf> = found
            .iter()
            .filter(|(p, v)| self.found.get(*p) != Some(v))
            .map(|(p, _)| p.clone())
            .collect();
        changed.extend(
            self.found
                .keys()
                .filter(|p| !found.contains_key(*p))
                .cloned(),
        );
        self.found = found;
        self.index = index;
        trace("relint: group and diff", t);
        changed
    }
}

/// A kept finding moved to its document's current file id.
fn restamp(d: &mut Diagnostic, file: FileId) {
    d.file = file;
    for r in &mut d.related {
        r.file = file;
    }
    for f in &mut d.fixes {
        for e in &mut f.edits {
            e.file = file;
        }
    }
}
