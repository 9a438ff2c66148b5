//! The rule engine: the [`Rule`] trait, the one registry [`RULES`], and
//! [`lint`], which runs every rule, applies the config's severities and the
//! documents' suppression comments, and sorts the result.
//!
//! Rules are pure functions from a [`Context`] to diagnostics. One file per
//! rule family; each rule carries its docs (what, why, example), printed by
//! `orch rules CODE`.

use std::collections::HashSet;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Index, Program};

mod cross;
mod deps;
pub mod history;
pub mod ids;

mod ledger;
mod scopes;
mod skills;
mod status;
mod structure;
pub mod suppression;

/// What a rule is: its code, default severity, one-line summary and docs.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// Markdown: `## What it does`, `## Why it matters`, `## Example`.
    pub docs: &'static str,
}

/// What a rule reads, which decides what must run again after an edit
/// (the language server re-checks one document at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Each document on its own: the findings about a document depend on
    /// its text and path alone, and the rule visits only
    /// [`Context::documents`].
    Document,
    /// The whole program (the default, always correct).
    Program,
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>);
    fn reach(&self) -> Reach {
        Reach::Program
    }
}

/// Declare a rule: a unit struct, its metadata and the function that checks,
/// then `Document` for a rule of [`Reach::Document`].
macro_rules! rule {
    ($name:ident, $code:literal, $severity:ident, $summary:literal, $docs:expr, $check:path, Document) => {
        $crate::rules::rule!(
            $name,
            $code,
            $severity,
            $summary,
            $docs,
            $check,
            reach = Document
        );
    };
    ($name:ident, $code:literal, $severity:ident, $summary:literal, $docs:expr, $check:path) => {
        $crate::rules::rule!(
            $name,
            $code,
            $severity,
            $summary,
            $docs,
            $check,
            reach = Program
        );
    };
    ($name:ident, $code:literal, $severity:ident, $summary:literal, $docs:expr, $check:path, reach = $reach:ident) => {
        pub struct $name;

        impl $crate::rules::Rule for $name {
            fn meta(&self) -> &'static $crate::rules::RuleMeta {
                static META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                    code: $code,
                    severity: $crate::diagnostic::Severity::$severity,
                    summary: $summary,
                    docs: $docs,
                };
                &META
            }

            fn check(
                &self,
                cx: &$crate::rules::Context<'_>,
                out: &mut Vec<$crate::diagnostic::Diagnostic>,
            ) {
                $check(cx, out)
            }

            fn reach(&self) -> $crate::rules::Reach {
                $crate::rules::Reach::$reach
            }
        }
    };
}
pub(crate) use rule;

/// Every rule, in the order `orch rules` lists them.
pub static RULES: &[&dyn Rule] = &[
    &structure::FileInvalid,
    &structure::ConfigInvalid,
    &structure::FrontmatterMissing,
    &structure::FrontmatterInvalid,
    &structure::KindUnknown,
    &structure::DocumentMissing,
    &structure::DocumentDuplicate,
    &structure::FieldMissing,
    &structure::FieldEmpty,
    &structure::FieldUnknown,
    &structure::SectionMissing,
    &structure::TableMalformed,
    &ids::IdInvalid,
    &ids::IdDuplicate,
    &ids::IdMismatch,
    &ids::TaskUnknown,
    &ids::PhaseUnknown,
    &deps::DepUnknown,
    &deps::DepUnreadable,
    &deps::DepCycle,
    &skills::SkillUnknown,
    &skills::SkillMismatch,
    &status::StatusInvalid,
    &status::StatusLedgerMismatch,
    &status::StatusDepNotDone,
    &ledger::UnverifiedIncomplete,
    &scopes::GlobInvalid,
    &scopes::ScopeUnreadable,
    &scopes::ScopeEmpty,
    &scopes::ScopeEscapes,
    &scopes::ScopeOverlap,
    &scopes::ScopeSelfConflict,
    &scopes::ScopeUnmatched,
    &scopes::CardMissing,
    &cross::ArtifactOutOfScope,
    &cross::GroupDependency,
    &cross::SheetMismatch,
    &cross::SheetStale,
    &history::LedgerRewritten,
    &history::IdCollision,
    &suppression::SuppressionUnused,
];

/// Offer renaming `wrong`, written inside `span` of the diagnostic's file,
/// to `right` (a did-you-mean as a fix), when there is a `right`.
pub(crate) fn rename(
    program: &Program,
    d: Diagnostic,
    span: crate::source::Span,
    wrong: &str,
    right: Option<&str>,
) -> Diagnostic {
    let Some(right) = right else { return d };
    let file = program.file(d.file);
    let span = file.clamp(span);
    let at = file.text[span.start..span.end]
        .find(wrong)
        .filter(|_| !wrong.is_empty())
        .map_or(span, |i| {
            crate::source::Span::new(span.start + i, span.start + i + wrong.len())
        });
    d.fix(format!("Rename to `{right}`"), at, right)
}

/// Every code orch can emit: the lint rules' and the align-docs
/// checklist's (`crate::align::CODES`). Config `rules:` takes any of them.
pub fn all_codes() -> impl Iterator<Item = &'static str> {
    RULES
        .iter()
        .map(|r| r.meta().code)
        .chain(crate::align::CODES.iter().map(|c| c.code))
}

/// Is `code` a code orch can emit (a lint rule's or align-docs')?
pub fn is_code(code: &str) -> bool {
    all_codes().any(|c| c == code)
}

/// The rule with this code.
pub fn find(code: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().code == code)
}

/// Everything a rule may look at.
pub struct Context<'p> {
    pub program: &'p Program,
    pub index: Index,
    pub skills: HashSet<&'p str>,
    /// The program at `--base REV`, for the history rules.
    pub base: Option<&'p history::Base>,
    /// The documents the [`Reach::Document`] rules visit (indexes into
    /// `Program::docs`); all of them when `None`.
    pub focus: Option<&'p [usize]>,
    /// Run the rules on this thread only (the language server's edits,
    /// whose work is too small to share out).
    pub serial: bool,
    /// Cards' scopes, parsed once for every scope rule.
    cards: std::sync::OnceLock<Vec<scopes::CardScope<'p>>>,
    /// The repository's files, read on first use.
    tracked: std::sync::OnceLock<std::borrow::Cow<'p, [String]>>,
}

impl<'p> Context<'p> {
    pub fn new(program: &'p Program) -> Context<'p> {
        Context {
            program,
            index: Index::build(program),
            skills: program.config.skills.iter().map(String::as_str).collect(),
            base: None,
            focus: None,
            serial: false,
            cards: std::sync::OnceLock::new(),
            tracked: std::sync::OnceLock::new(),
        }
    }

    /// Use these tracked files rather than reading them.
    pub fn with_tracked(self, files: std::borrow::Cow<'p, [String]>) -> Context<'p> {
        Context {
            tracked: std::sync::OnceLock::from(files),
            ..self
        }
    }

    /// The documents a [`Reach::Document`] rule checks: every document, or
    /// the [`Context::focus`].
    pub fn documents(&self) -> Box<dyn Iterator<Item = &'p crate::model::Document> + 'p> {
        let docs = &self.program.docs;
        match self.focus {
            None => Box::new(docs.iter()),
            Some(focus) => Box::new(focus.iter().filter_map(|&i| docs.get(i))),
        }
    }

    /// The files of the work tree, sorted: the git index's when the program
    /// is in a repository (`git ls-files`), else a walk of the work tree.
    pub fn tracked_files(&self) -> &[String] {
        self.tracked
            .get_or_init(|| tracked_files(&self.program.root).into())
    }

    /// Every card's scope, parsed on first use.
    pub(crate) fn cards(&self) -> &[scopes::CardScope<'p>] {
        self.cards.get_or_init(|| scopes::card_scopes(self))
    }
}

/// At most this many files are walked outside git.
const MAX_WALKED_FILES: usize = 200_000;

/// The tracked files of the git repository holding `root`, when there is
/// one and its index reads: what [`Context::tracked_files`] would find, for
/// a caller that reads it ahead (on another thread while the documents
/// parse) and hands it to [`lint_prefetched`].
pub fn tracked_in_git(root: &std::path::Path) -> Option<Vec<String>> {
    crate::git::Repo::discover(root)
        .ok()
        .flatten()?
        .tracked_files()
        .ok()
}

/// The tracked files of the work tree at `root`: the git index's, else a walk
/// (what [`Context::tracked_files`] reads).
pub fn tracked_files(root: &std::path::Path) -> Vec<String> {
    if let Some(files) = tracked_in_git(root) {
        return files;
    }
    let skip = |e: &walkdir::DirEntry| {
        e.depth() > 0
            && e.file_type().is_dir()
            && matches!(
                e.file_name().to_str(),
                Some(".git" | "target" | "node_modules")
            )
    };
    let mut files: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| !skip(e))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .take(MAX_WALKED_FILES)
        .map(|e| crate::model::program::display_path(root, e.path()))
        .collect();
    files.sort();
    files
}

/// Lint a program: every rule, config severities, suppressions; sorted by
/// file, position and code.
pub fn lint(program: &Program) -> Vec<Diagnostic> {
    lint_with_base(program, None)
}

/// [`lint`], with the program at `--base REV` for the history rules.
pub fn lint_with_base<'p>(
    program: &'p Program,
    base: Option<&'p history::Base>,
) -> Vec<Diagnostic> {
    lint_prefetched(program, base, None)
}

/// [`lint_with_base`], with the program's tracked files already read (from
/// the same git index [`Context::tracked_files`] would read).
pub fn lint_prefetched<'p>(
    program: &'p Program,
    base: Option<&'p history::Base>,
    tracked: Option<Vec<String>>,
) -> Vec<Diagnostic> {
    let mut cx = Context::new(program);
    cx.base = base;
    if let Some(files) = tracked {
        cx = cx.with_tracked(files.into());
    }
    let found = check(&cx, |_| true);
    finish(program, found)
}

/// The raw findings of the rules `select` picks, in registry order, each
/// with its rule's code and default severity: what [`finish`] takes.
pub fn check(cx: &Context<'_>, select: impl Fn(&dyn Rule) -> bool) -> Vec<Diagnostic> {
    let rules: Vec<&dyn Rule> = RULES.iter().copied().filter(|r| select(*r)).collect();
    let mut found = Vec::new();
    for (rule, out) in rules.iter().zip(run_rules(cx, &rules)) {
        let meta = rule.meta();
        for mut d in out {
            d.code = meta.code;
            d.severity = meta.severity;
            found.push(d);
        }
    }
    found
}

/// Raw findings to the report: suppression comments, config severities,
/// spans clamped to their files, sorted by file, position and code, and
/// duplicates dropped.
pub fn finish(program: &Program, found: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut kept = suppression::apply(program, found);
    kept.retain_mut(|d| match program.config.level(d.code) {
        Some(crate::config::Level::Off) => false,
        Some(crate::config::Level::Error) => {
            d.severity = Severity::Error;
            true
        }
        Some(crate::config::Level::Warning) => {
            d.severity = Severity::Warning;
            true
        }
        None => true,
    });
    for d in &mut kept {
        let file = program.file(d.file);
        d.span = file.clamp(d.span);
        for r in &mut d.related {
            r.span = program.file(r.file).clamp(r.span);
        }
    }
    kept.sort_by(|a, b| {
        (&program.file(a.file).path, a.span.start, a.code, &a.message).cmp(&(
            &program.file(b.file).path,
            b.span.start,
            b.code,
            &b.message,
        ))
    });
    kept.dedup_by(|a, b| {
        a.file == b.file && a.span == b.span && a.code == b.code && a.message == b.message
    });
    kept
}

/// Each rule's findings, in the order given. The rules are independent
/// reads of one [`Context`], so they run on every core: workers take jobs
/// in turn, the first job parsing the cards' globs (which every scope rule
/// needs, the largest single piece of work) while the others start on the
/// rules that do not need them. The result does not depend on the
/// interleaving.
fn run_rules(cx: &Context<'_>, rules: &[&dyn Rule]) -> Vec<Vec<Diagnostic>> {
    let work = cx.focus.map_or(cx.program.docs.len(), |f| {
        if rules.iter().all(|r| r.reach() == Reach::Document) {
            f.len()
        } else {
            cx.program.docs.len()
        }
    });
    let threads = if work < 64 || cx.serial {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    // Job 0 warms the card scopes; job i + 1 is rules[i].
    let mut found = crate::util::par_map(
        rules.len() + 1,
        threads.min(rules.len()).max(1),
        1,
        || (),
        |(), job| {
            let mut out = Vec::new();
            match job {
                0 => {
                    if threads > 1 {
                        cx.cards();
                    }
                }
                _ => rules[job - 1].check(cx, &mut out),
            }
            out
        },
    );
    found.remove(0);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut seen = HashSet::new();
        for rule in RULES {
            let m = rule.meta();
            assert!(seen.insert(m.code), "duplicate code {}", m.code);
            assert!(
                m.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{} is not kebab-case",
                m.code
            );
            for heading in ["## What it does", "## Why it matters", "## Example"] {
                assert!(m.docs.contains(heading), "{} docs lack {heading}", m.code);
            }
            assert!(!m.summary.is_empty());
        }
    }

    /// Every program the tests ship: the example and each rule's fixtures.
    fn fixture_programs() -> Vec<std::path::PathBuf> {
        let top = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![top.join(".orchestrator.example")];
        for rule in std::fs::read_dir(top.join("testdata/rules")).expect("testdata/rules") {
            let rule = rule.expect("entry").path();
            for case in ["pass", "fail"] {
                if rule.join(case).is_dir() {
                    dirs.push(rule.join(case));
                }
            }
        }
        dirs
    }

    /// A [`Reach::Document`] rule run on one document at a time finds, in
    /// total, what it finds on all of them at once, each finding (and its
    /// related places) in the document it was run on: what the language
    /// server relies on to re-check only the document that changed.
    #[test]
    fn document_rules_see_one_document_at_a_time() {
        let key = |d: &Diagnostic| (d.file, d.span, d.code, d.message.clone());
        let of_documents = |r: &dyn Rule| r.reach() == Reach::Document;
        for dir in fixture_programs() {
            let root = dir.parent().expect("parent");
            let program = Program::load(root, &dir).expect("load fixture");
            let mut whole = check(&Context::new(&program), of_documents);
            let mut parts = Vec::new();
            for (i, doc) in program.docs.iter().enumerate() {
                let focus = [i];
                let mut cx = Context::new(&program);
                cx.focus = Some(&focus);
                for d in check(&cx, of_documents) {
                    assert_eq!(d.file, doc.file, "{}: {d:?}", dir.display());
                    assert!(d.related.iter().all(|r| r.file == doc.file), "{d:?}");
                    parts.push(d);
                }
            }
            whole.sort_by_key(key);
            parts.sort_by_key(key);
            assert_eq!(whole, parts, "{}", dir.display());
        }
    }
}

#[cfg(test)]
mod readme {
    #[test]
    fn the_readme_lists_every_rule() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("README.md");
        for rule in super::RULES {
            let code = rule.meta().code;
            assert!(
                readme.contains(&format!("| `{code}` |")),
                "README.md does not list `{code}`"
            );
        }
    }
}
