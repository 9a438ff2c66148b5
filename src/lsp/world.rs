//! One program as the editor sees it: the documents on disk with the open
//! buffers laid over them, and its diagnostics kept current edit by edit.
//!
//! An edit re-parses only the document it changed. The findings of the
//! [`Reach::Document`] rules are kept per document and recomputed only for
//! documents whose text changed; the [`Reach::Program`] rules run again
//! over the whole program, on one thread, but what they read of each
//! document alone (a card's scope, a ticket's artifacts, a skill) is kept
//! with the document ([`crate::model::document::Memo`]) and so read again
//! only for the document edited; the tracked files are read once. The
//! result goes through the same [`rules::finish`] as `orch lint`, so the
//! server and the command report the same findings for the same text.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::model::program::{Input, display_path, document_limit, is_document, read_text};
use crate::model::{Document, Index, Program};
use crate::rules::{self, Context, Reach};
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
    /// The document rules' findings for each document not edited since,
    /// by file id.
    doc_found: Vec<Option<Vec<Diagnostic>>>,
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
            doc_found: Vec::new(),
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

    /// The size limit of the document at `path` ([`document_limit`]).
    fn limit(&self, path: &Path) -> u64 {
        let rel = path.strip_prefix(&self.dir).ok().and_then(Path::to_str);
        document_limit(rel.unwrap_or(""))
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
        let Some(id) = self.file_id(path) else {
            return self.rebuild(path, Some(Ok(text)));
        };
        self.forget(id);
        let old = self.program.file(id);
        if *old.text == *text && !self.program.unreadable.iter().any(|u| u.file == id) {
            return;
        }
        let old_text = old.text.clone();
        let file = SourceFile::new(old.path.clone(), old.abs_path.clone(), text.as_str());
        self.program.files[id.0 as usize] = file;
        let was_unreadable = self.program.unreadable.iter().any(|u| u.file == id);
        self.program.unreadable.retain(|u| u.file != id);
        match role {
            Role::Config => match crate::config::parse(&text) {
                Ok(c) => {
                    self.program.config_problems = c.problems(&text);
                    self.program.config = c;
                    self.program.config_error = None;
                }
                Err(e) => {
                    self.program.config = crate::config::Config::default();
                    self.program.config_problems = Vec::new();
                    self.program.config_error = Some(e);
                }
            },
            Role::Document => {
                match self.doc_at.get(&id) {
                    Some(&i) => {
                        // The document as it was, patched where it can be.
                        let was =
                            std::mem::replace(&mut self.program.docs[i], Document::parse(id, ""));
                        let new = self.program.file(id).text.clone();
                        self.program.docs[i] = was.edited(&old_text, &new);
                    }
                    None => {
                        let doc = Document::parse_shared(id, &self.program.file(id).text);
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
            _ => match read_text(path, self.limit(path)) {
                Ok(text) => self.set_text(path, text),
                Err(reason) => {
                    self.stale = true;
                    self.rebuild(path, Some(Err(reason)));
                }
            },
        }
    }

    /// `path` is gone.
    pub fn remove(&mut self, path: &Path) {
        if self.file_id(path).is_some() {
            self.stale = true;
            self.rebuild(path, None);
        }
    }

    /// The document rules' findings about `id` are out of date.
    fn forget(&mut self, id: FileId) {
        if let Some(slot) = self.doc_found.get_mut(id.0 as usize) {
            *slot = None;
        }
    }

    /// Rebuild the program with one file added, replaced or removed: file
    /// ids follow path order, as [`Program::load`] numbers them. Every
    /// document is parsed again; rare (a file created or deleted).
    fn rebuild(&mut self, path: &Path, change: Option<Result<String, String>>) {
        let program = std::mem::take(&mut self.program);
        // The document rules' findings are kept by path across the
        // renumbering; those of `path` and of files gone are dropped.
        let mut kept: HashMap<PathBuf, Vec<Diagnostic>> = HashMap::new();
        for (i, found) in std::mem::take(&mut self.doc_found).into_iter().enumerate() {
            if let (Some(found), Some(f)) = (found, program.files.get(i))
                && f.abs_path != path
            {
                kept.insert(f.abs_path.clone(), found);
            }
        }
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
        for (i, f) in self.program.files.iter().enumerate() {
            if let Some(mut found) = kept.remove(&f.abs_path) {
                for d in &mut found {
                    restamp(d, FileId(i as u32));
                }
                if self.doc_found.len() <= i {
                    self.doc_found.resize_with(i + 1, || None);
                }
                self.doc_found[i] = Some(found);
            }
        }
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
        self.doc_found.resize_with(program.files.len(), || None);
        let doc_found = &mut self.doc_found;
        let dirty: Vec<usize> = program
            .docs
            .iter()
            .enumerate()
            .filter(|(_, d)| doc_found[d.file.0 as usize].is_none())
            .map(|(i, _)| i)
            .collect();
        let tracked = self.tracked.as_deref().unwrap_or_default();
        let t = trace("relint: dirty", t);
        let mut cx = Context::new(program).with_tracked(Cow::Borrowed(tracked));
        let t = trace("relint: index", t);
        // An edit's work is small: threads would cost more than they save
        // (the first run, every document dirty, takes every core).
        cx.serial = dirty.len() < 64;
        cx.focus = Some(&dirty);
        let fresh = rules::check(&cx, |r| r.reach() == Reach::Document);
        let t = trace("relint: document rules", t);
        cx.focus = None;
        let mut all = rules::check(&cx, |r| r.reach() == Reach::Program);
        trace("relint: program rules", t);
        if super::tracing() {
            // Each program rule alone, with the cards read.
            let mut one = Context::new(program).with_tracked(Cow::Borrowed(tracked));
            one.serial = true;
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
            doc_found[program.docs[i].file.0 as usize] = Some(Vec::new());
        }
        for d in fresh {
            if let Some(Some(v)) = doc_found.get_mut(d.file.0 as usize) {
                v.push(d);
            }
        }
        for found in doc_found.iter().flatten() {
            all.extend(found.iter().cloned());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read_dir") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("type").is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }

    /// What `orch lint` reports for the files on disk, by file.
    fn lint_on_disk(root: &Path, dir: &Path) -> HashMap<PathBuf, Vec<Diagnostic>> {
        let program = Program::load(root, dir).expect("load");
        let mut found: HashMap<PathBuf, Vec<Diagnostic>> = HashMap::new();
        for d in rules::lint(&program) {
            found
                .entry(program.file(d.file).abs_path.clone())
                .or_default()
                .push(d);
        }
        found
    }

    fn has(world: &World, dir: &Path, file: &str, code: &str) -> bool {
        world
            .found
            .get(&dir.join(file))
            .is_some_and(|v| v.iter().any(|d| d.code == code))
    }

    /// Edits whose findings land in other documents: what a document keeps
    /// of what the rules read of it ([`crate::model::document::Memo`]) must
    /// never hide them. After each edit the server's findings are, file by
    /// file, what a full lint of the same texts reports.
    #[test]
    fn edits_that_reach_other_documents_end_where_a_full_lint_does() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("work");
        let dir = root.join(".orchestrator");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join(".orchestrator.example");
        copy_tree(&example, &dir);
        let mut world = World::load(&root, &dir);
        world.relint();
        assert_eq!(world.found, lint_on_disk(&root, &dir));
        // (file, text, replacement, then: (file, code, found or not)).
        type Then = (&'static str, &'static str, bool);
        let edits: &[(&str, &str, &str, Then)] = &[
            // The card's scope loses its ticket's artifacts ...
            (
                "cards/P2-UI-01.md",
                "`web/src/ui/sync/**`, ",
                "",
                ("tickets/P2-UI-01.md", "artifact-out-of-scope", true),
            ),
            // ... and gets them back.
            (
                "cards/P2-UI-01.md",
                "- Files/paths: ",
                "- Files/paths: `web/src/ui/sync/**`, ",
                ("tickets/P2-UI-01.md", "artifact-out-of-scope", false),
            ),
            // The ticket's artifacts leave the card's scope.
            (
                "tickets/P2-UI-01.md",
                "- Expected Artifacts: ",
                "- Expected Artifacts: `docs/offline.md`, ",
                ("tickets/P2-UI-01.md", "artifact-out-of-scope", true),
            ),
            // A glob that matches no file and no artifact ...
            (
                "cards/P2-UI-01.md",
                "`tests/ui/sync/**`",
                "`tests/ui/sync/**`, `newdir/**`",
                ("cards/P2-UI-01.md", "scope-unmatched", true),
            ),
            // ... until another task's ticket names an artifact there.
            (
                "tickets/P1-CORE-01.md",
                "- Expected Artifacts: ",
                "- Expected Artifacts: `newdir/a.rs`, ",
                ("cards/P2-UI-01.md", "scope-unmatched", false),
            ),
            // Skills against the plan's row.
            (
                "tickets/P2-UI-01.md",
                "- Owner Skill: development-implementer",
                "- Owner Skill: qa-test-engineer",
                ("tickets/P2-UI-01.md", "skill-mismatch", true),
            ),
            (
                "cards/P2-UI-01.md",
                "- Skill: development-implementer",
                "- Skill: technical-writer",
                ("cards/P2-UI-01.md", "skill-mismatch", true),
            ),
            // The plan's row changes its skill: the ticket now agrees.
            (
                "plan.md",
                "pending-changes panel | development-implementer |",
                "pending-changes panel | qa-test-engineer |",
                ("tickets/P2-UI-01.md", "skill-mismatch", false),
            ),
            // The card moves group.
            (
                "cards/P2-UI-01.md",
                "group: G2",
                "group: G1",
                ("cards/P2-UI-01.md", "skill-mismatch", true),
            ),
            // A config placeholder orch does not fill.
            (
                "config.yaml",
                "  jobs: 3\n",
                "  jobs: 3\n  prompt: \"do {tsk}\"\n",
                ("config.yaml", "config-invalid", true),
            ),
            (
                "config.yaml",
                "  prompt: \"do {tsk}\"\n",
                "",
                ("config.yaml", "config-invalid", false),
            ),
            // The plan renames the task: its ticket and card name none.
            (
                "plan.md",
                "| P2-UI-01 |",
                "| P2-UI-09 |",
                ("cards/P2-UI-01.md", "task-unknown", true),
            ),
            (
                "plan.md",
                "| P2-UI-09 |",
                "| P2-UI-01 |",
                ("cards/P2-UI-01.md", "task-unknown", false),
            ),
        ];
        for (file, from, to, (then_file, code, present)) in edits {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(text.contains(from), "{file} holds no {from:?}");
            let text = text.replacen(from, to, 1);
            std::fs::write(&path, &text).expect("write");
            world.set_text(&path, text);
            world.relint();
            let edit = format!("{file}: {from:?} -> {to:?}");
            assert_eq!(world.found, lint_on_disk(&root, &dir), "after {edit}");
            assert_eq!(
                has(&world, &dir, then_file, code),
                *present,
                "after {edit}: {code} in {then_file}"
            );
        }
    }
}
