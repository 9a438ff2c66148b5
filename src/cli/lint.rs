//! `orch lint`: check every document and the cross-document rules.

use std::io::Write;
use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::{Error, Outcome, Result};
use crate::model::views::FieldsView;
use crate::model::{Kind, Program, templates};
use crate::report::{self, HumanOptions, Report};
use crate::rules;
use crate::util::is_valid_id;

use super::{Global, Workspace};

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Report only on these files (every document is still read)
    pub paths: Vec<PathBuf>,
    /// Repair what is safe to repair (file names that disagree with their
    /// id), then report the rest
    #[arg(long)]
    pub fix: bool,
    /// Exit 1 on warnings too
    #[arg(long)]
    pub deny_warnings: bool,
    /// Lint the staged content (the git index), not the work tree: what the
    /// next commit will hold. The pre-commit hook runs this.
    #[arg(long, conflicts_with = "fix")]
    pub staged: bool,
    /// Also compare with this revision: ledger rows it has must be unchanged
    /// (`ledger-rewritten`), IDs added on both sides collide (`id-collision`)
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
}

pub fn run(args: &LintArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if matches!(g.format, report::Format::Mermaid | report::Format::Dot) {
        return Err(Error::usage(
            "mermaid and dot are `orch graph` formats; lint prints human, json, github, sarif or markdown",
        ));
    }
    let ws = Workspace::find(g)?;
    // The scope rules need the repository's tracked files: read them from
    // the index `--staged` reads anyway, or on another thread while the
    // documents are read and parsed.
    let (mut program, tracked) = if args.staged {
        let (program, tracked) = ws.load_staged_and_tracked()?;
        (program, Some(tracked))
    } else {
        std::thread::scope(|s| {
            let prefetch = s.spawn(|| rules::tracked_in_git(&ws.root));
            let program = ws.load();
            let tracked = prefetch
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            program.map(|p| (p, tracked))
        })?
    };
    if args.fix {
        let fixed = fix(&program)?;
        for line in &fixed {
            eprintln!("fixed: {line}");
        }
        if !fixed.is_empty() {
            program = ws.load()?;
        }
    }
    let base = match &args.base {
        Some(rev) => Some(rules::history::Base::load(&ws.root, &ws.dir, rev)?),
        None => None,
    };
    if let Some(base) = &base
        && g.format == report::Format::Human
        && !g.quiet
    {
        writeln!(
            out,
            "History (ledger-rewritten, id-collision) checked over {}\n",
            base.range
        )
        .map_err(Error::Output)?;
    }
    let mut diagnostics = rules::lint_prefetched(&program, base.as_ref(), tracked);
    crate::query::only_paths(&program, &mut diagnostics, &args.paths)?;
    emit(g, &program, &diagnostics, out)?;
    let outcome = outcome(&diagnostics, args.deny_warnings);
    super::release(program);
    Ok(outcome)
}

pub fn outcome(diagnostics: &[Diagnostic], deny_warnings: bool) -> Outcome {
    let failing = diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error || deny_warnings);
    if failing {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}

pub fn emit(
    g: &Global,
    program: &Program,
    diagnostics: &[Diagnostic],
    out: &mut dyn Write,
) -> Result<()> {
    let report = Report {
        program,
        diagnostics,
        files: program.files.len(),
    };
    let human = HumanOptions {
        color: g.color(),
        quiet: g.quiet,
        ..HumanOptions::default()
    };
    report::emit(g.format, &report, &human, out)?;
    Ok(())
}

/// The safe fixes: rename a ticket, card or sheet whose file name disagrees
/// with its id when the heading agrees with the id. Returns what was done.
fn fix(program: &Program) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for doc in &program.docs {
        let (Some(kind), Some(fm)) = (doc.kind, doc.front()) else {
            continue;
        };
        let key = if kind == Kind::Sheet { "group" } else { "id" };
        let Some(id) = fm.scalar(key) else { continue };
        let id = id.value.trim();
        let Some(expected) = Program::expected_path(kind, id) else {
            continue;
        };
        if !is_valid_id(id) {
            continue;
        }
        let heading = match kind {
            Kind::Ticket => Some(templates::TICKET_HEADING),
            Kind::Card => Some(templates::CARD_HEADING),
            _ => None,
        };
        if let Some(h) = heading
            && let Some(hid) = FieldsView::of(doc, h).heading_id
            && hid.value != id
        {
            continue; // two of three disagree: a human's call
        }
        let file = program.file(doc.file);
        let target = program.dir.join(&expected);
        // Anything at the target, a dangling link too, stays as it is.
        if file.abs_path == target || std::fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        // Into a real folder inside the repository, never through a link.
        if let Some(parent) = target.parent() {
            crate::fsx::ensure_dir(crate::fsx::base_for(&program.root, &program.dir), parent)?;
        }
        std::fs::rename(&file.abs_path, &target).map_err(|e| Error::io(&file.abs_path, e))?;
        done.push(format!(
            "renamed {} to {}",
            file.path,
            crate::model::program::display_path(&program.root, &target)
        ));
    }
    Ok(done)
}
