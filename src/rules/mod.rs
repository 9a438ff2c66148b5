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

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>);
}

/// Declare a rule: a unit struct, its metadata and the function that checks.
macro_rules! rule {
    ($name:ident, $code:literal, $severity:ident, $summary:literal, $docs:expr, $check:path) => {
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
    &history::LedgerRewritten,
    &history::IdCollision,
    &suppression::SuppressionUnused,
];

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
    /// Cards' scopes, parsed once for every scope rule.
    cards: std::sync::OnceLock<Vec<scopes::CardScope>>,
    /// The repository's files, read on first use.
    tracked: std::sync::OnceLock<Vec<String>>,
}

impl<'p> Context<'p> {
    pub fn new(program: &'p Program) -> Context<'p> {
        Context {
            program,
            index: Index::build(program),
            skills: program.config.skills.iter().map(String::as_str).collect(),
            base: None,
            cards: std::sync::OnceLock::new(),
            tracked: std::sync::OnceLock::new(),
        }
    }

    /// The files of the work tree, sorted: the git index's when the program
    /// is in a repository (`git ls-files`), else a walk of the work tree.
    pub fn tracked_files(&self) -> &[String] {
        self.tracked
            .get_or_init(|| tracked_files(&self.program.root))
    }

    /// Every card's scope, parsed on first use.
    pub(crate) fn cards(&self) -> &[scopes::CardScope] {
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

fn tracked_files(root: &std::path::Path) -> Vec<String> {
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
        cx.tracked = std::sync::OnceLock::from(files);
    }
    let mut found = Vec::new();
    for (rule, out) in RULES.iter().zip(run_rules(&cx)) {
        let meta = rule.meta();
        for mut d in out {
            d.code = meta.code;
            d.severity = meta.severity;
            found.push(d);
        }
    }
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

/// Each rule's findings, in registry order. The rules are independent
/// reads of one [`Context`], so they run on every core: workers take jobs
/// in turn, the first job parsing the cards' globs (which every scope rule
/// needs, the largest single piece of work) while the others start on the
/// rules that do not need them. The result does not depend on the
/// interleaving.
fn run_rules(cx: &Context<'_>) -> Vec<Vec<Diagnostic>> {
    let threads = if cx.program.docs.len() < 64 {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    // Job 0 warms the card scopes; job i + 1 is RULES[i].
    let mut found = crate::util::par_map(
        RULES.len() + 1,
        threads.min(RULES.len()),
        1,
        || (),
        |(), job| {
            let mut out = Vec::new();
            match job {
                0 => {
                    cx.cards();
                }
                _ => RULES[job - 1].check(cx, &mut out),
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
