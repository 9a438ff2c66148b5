//! `orch align-docs`: the Documentation Alignment Checklist (DESIGN 6),
//! checked over a git range.
//!
//! The caller gives the head side (a revision's tree or the index, see
//! [`snapshot`]) and the changed paths; [`check`] reads the program, the
//! config and the product docs from the head side (never the work tree) and
//! runs one check per checklist line. Diagnostics may point into any file of
//! the repository (a README, a changed source file): those files are added to
//! the program's file table so every emitter can show them. [`snippets::fix`]
//! rewrites drifted snippet blocks in the work tree; [`report`] prints the
//! checklist in every format.

pub mod codes;
mod docs;
mod paths;
pub mod report;
pub mod snapshot;
pub mod snippets;
mod tasks;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Severity};
use crate::git::{Change, GitError};
use crate::model::{Index, Program};
use crate::scope::Pattern;
use crate::source::{FileId, SourceFile, Span};

pub use codes::{CODES, LINES};
pub use snapshot::{Side, Snapshot};

/// What `align-docs` compares: the range as given, a display name for each
/// side, and the changes between them.
#[derive(Clone, Debug)]
pub struct Range {
    /// The range as git writes it: `main...HEAD` (against the merge-base),
    /// `v1.2..HEAD` (the two trees), `HEAD..index` (`--staged`).
    pub spec: String,
    /// Where the range came from when it was not typed: `main is the
    /// default branch`, `PRE_COMMIT_FROM_REF...PRE_COMMIT_TO_REF`.
    pub origin: Option<String>,
    pub form: RangeForm,
    /// The base side: `the merge-base 1a2b3c4`, `v1.2 1a2b3c4`.
    pub base: String,
    /// The head side: `HEAD 5d6e7f8`, `the index`.
    pub head: String,
    /// Full commit ids (the head's is `None` for the index).
    pub base_commit: Option<String>,
    pub head_commit: Option<String>,
    pub changes: Vec<Change>,
}

/// How the base side of a [`Range`] was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeForm {
    /// `A...B`: the merge-base of A and B.
    MergeBase,
    /// `A..B`: A itself.
    TwoDot,
    /// `--staged`: HEAD against the index.
    Index,
}

impl RangeForm {
    pub fn as_str(self) -> &'static str {
        match self {
            RangeForm::MergeBase => "merge-base",
            RangeForm::TwoDot => "two-dot",
            RangeForm::Index => "index",
        }
    }
}

/// The finished check: the program (with every file a diagnostic points
/// into), the diagnostics sorted by checklist line, and the range.
pub struct Checked {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
    pub range: Range,
    /// Drifted snippets found, for `--fix`.
    pub drift: Vec<snippets::Drift>,
    /// Checklist lines (indices into [`LINES`]) that could not be checked,
    /// and why: the head has no program to account for the changes.
    pub unchecked: Vec<(usize, String)>,
}

/// Everything a check may look at.
pub(crate) struct Cx<'a> {
    pub snap: &'a Snapshot<'a>,
    pub program: &'a Program,
    pub index: Index,
    /// The orchestrator folder, repository-relative, with a trailing `/`.
    pub dir: String,
    /// Every path the range touched (both sides of a rename), sorted.
    pub touched: Vec<String>,
    /// Renames in the range: old path -> new path.
    pub renamed: HashMap<String, String>,
    /// The range's changes.
    pub changes: &'a [Change],
    /// The head holds a program (a plan or a ledger): without one, the
    /// checklist lines about tasks are not checked.
    pub has_program: bool,
    extra: RefCell<Vec<SourceFile>>,
    extra_ids: RefCell<HashMap<String, FileId>>,
    /// Every card with its parsed scope, built on first use.
    cards: std::cell::OnceCell<Vec<tasks::Card<'a>>>,
}

impl<'a> Cx<'a> {
    /// A file of the repository as a diagnostic target: an orchestrator
    /// document already in the program, else its head text (empty when it
    /// is absent, binary or not UTF-8) added to the file table.
    pub fn file(&self, path: &str) -> FileId {
        if let Some(i) = self.program.files.iter().position(|f| f.path == path) {
            return FileId(i as u32);
        }
        if let Some(id) = self.extra_ids.borrow().get(path) {
            return *id;
        }
        let text: Arc<str> = self
            .snap
            .text(path)
            .ok()
            .flatten()
            .unwrap_or_else(|| Arc::from(""));
        let id = FileId((self.program.files.len() + self.extra.borrow().len()) as u32);
        self.extra.borrow_mut().push(SourceFile::new(
            path.to_string(),
            self.program.root.join(path),
            text,
        ));
        self.extra_ids.borrow_mut().insert(path.to_string(), id);
        id
    }

    /// The config file and the span of `needle` in it, searched after the
    /// first occurrence of `after` (a key name); `None` without a config or
    /// when the text is not there (a default value).
    pub fn config_span(&self, after: &str, needle: &str) -> Option<(FileId, Span)> {
        let id = self.program.config_file?;
        let text = &self.program.file(id).text;
        let from = text.find(after).unwrap_or(0);
        let at = text[from..].find(needle)? + from;
        Some((id, Span::new(at, at + needle.len())))
    }

    /// Is the path under the orchestrator folder?
    pub fn in_dir(&self, path: &str) -> bool {
        path.starts_with(&self.dir)
    }

    /// A help line for a path that does not exist at head: its new name when
    /// the range renamed it, else a close sibling or a file of the same name.
    pub fn suggest(&self, path: &str) -> Option<String> {
        if let Some(to) = self.renamed.get(path) {
            return Some(format!("`{path}` was renamed to `{to}` in this range"));
        }
        paths::nearest_path(self.snap.paths(), path).map(|p| format!("did you mean `{p}`?"))
    }
}

/// Parse globs, skipping the ones that do not compile (lint reports them).
pub(crate) fn patterns<'s>(globs: impl IntoIterator<Item = &'s String>) -> Vec<Pattern> {
    globs
        .into_iter()
        .filter_map(|g| Pattern::parse(g.trim()).ok())
        .collect()
}

/// Run every check on the program the head side holds (see
/// [`snapshot::program`]); `dir` is the orchestrator folder,
/// repository-relative.
pub fn check(
    snap: &Snapshot<'_>,
    program: Program,
    dir: &str,
    range: Range,
) -> Result<Checked, GitError> {
    let index = Index::build(&program);
    let unchecked = if program.plan().is_some() || program.ledger().is_some() {
        Vec::new()
    } else {
        let dir = dir.trim_end_matches('/');
        let none = format!("the head has no program (no `{dir}/plan.md` or `{dir}/ledger.md`)");
        vec![
            (2, format!("{none}, so no task accounts for the changes")),
            (
                4,
                format!("{none}, so there is no ledger of unverified items"),
            ),
        ]
    };
    let mut touched: Vec<String> = Vec::new();
    let mut renamed = HashMap::new();
    for c in &range.changes {
        match c {
            Change::Renamed { from, to } => {
                touched.push(from.clone());
                touched.push(to.clone());
                renamed.insert(from.clone(), to.clone());
            }
            other => touched.push(other.path().to_string()),
        }
    }
    touched.sort();
    touched.dedup();
    let (out, drift, extra) = {
        let cx = Cx {
            snap,
            program: &program,
            index,
            dir: format!("{}/", dir.trim_end_matches('/')),
            touched,
            renamed,
            changes: &range.changes,
            has_program: program.plan().is_some() || program.ledger().is_some(),
            extra: RefCell::new(Vec::new()),
            extra_ids: RefCell::new(HashMap::new()),
            cards: std::cell::OnceCell::new(),
        };
        let mut out = Vec::new();
        tasks::governing(&cx, &mut out);
        let drift = docs::product_docs(&cx, &mut out)?;
        tasks::coupled(&cx, &mut out);
        tasks::artifacts(&cx, &mut out);
        tasks::tests_recorded(&cx, &mut out);
        tasks::untracked(&cx, &mut out);
        tasks::deployment(&cx, &mut out);
        tasks::unverified(&cx, &mut out);
        (out, drift, cx.extra.into_inner())
    };
    let mut program = program;
    program.files.extend(extra);
    let diagnostics = finish(&program, out);
    Ok(Checked {
        program,
        diagnostics,
        range,
        drift,
        unchecked,
    })
}

/// Severities from the registry (or the config's `rules:`), spans clamped,
/// sorted by checklist line, file and position, repeats dropped.
fn finish(program: &Program, mut found: Vec<Diagnostic>) -> Vec<Diagnostic> {
    use crate::config::Level;
    found.retain_mut(|d| {
        let Some(code) = codes::find(d.code) else {
            return true;
        };
        d.severity = match program.config.level(d.code) {
            Some(Level::Off) => return false,
            Some(Level::Error) => Severity::Error,
            Some(Level::Warning) => Severity::Warning,
            None => code.severity,
        };
        true
    });
    for d in &mut found {
        d.span = program.file(d.file).clamp(d.span);
        for r in &mut d.related {
            r.span = program.file(r.file).clamp(r.span);
        }
    }
    let line = |d: &Diagnostic| codes::find(d.code).map_or(usize::MAX, |c| c.line);
    found.sort_by(|a, b| {
        (
            line(a),
            &program.file(a.file).path,
            a.span.start,
            a.code,
            &a.message,
        )
            .cmp(&(
                line(b),
                &program.file(b.file).path,
                b.span.start,
                b.code,
                &b.message,
            ))
    });
    found.dedup_by(|a, b| {
        a.file == b.file && a.span == b.span && a.code == b.code && a.message == b.message
    });
    found
}

/// "`a`, `b` and 3 more".
pub(crate) fn list(paths: &[&str], max: usize) -> String {
    let shown: Vec<String> = paths.iter().take(max).map(|p| format!("`{p}`")).collect();
    let mut s = shown.join(", ");
    if paths.len() > max {
        s.push_str(&format!(" and {} more", paths.len() - max));
    }
    s
}
