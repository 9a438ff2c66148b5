//! `orch align-docs`: the Documentation Alignment Checklist over a range.

use std::io::Write;

use crate::align::{self, Range, Side, Snapshot, report::Extras, snapshot};
use crate::error::{Error, Outcome, Result};
use crate::git::{GitError, Repo};
use crate::model::program::display_path;
use crate::report::{Format, HumanOptions};

use super::{Global, Workspace};

#[derive(Debug, clap::Args)]
pub struct AlignArgs {
    /// The base revision (default: the merge-base of the head and the
    /// default branch; `PRE_COMMIT_FROM_REF` when set)
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The head revision (default: HEAD; `PRE_COMMIT_TO_REF` when set)
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    pub head: Option<String>,
    /// Check the index against HEAD (for a pre-commit hook; when
    /// `PRE_COMMIT_FROM_REF` and `PRE_COMMIT_TO_REF` are both set, their
    /// range is checked instead)
    #[arg(long, conflicts_with = "base")]
    pub staged: bool,
    /// Rewrite drifted snippet blocks in the work tree (nothing else), then
    /// report the rest
    #[arg(long)]
    pub fix: bool,
    /// Exit 1 on warnings too
    #[arg(long)]
    pub deny_warnings: bool,
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn shallow_help(repo: &Repo, rev: &str, err: GitError) -> Error {
    if repo.is_shallow() {
        Error::with_help(
            format!("this is a shallow clone and `{rev}` is not in its history"),
            "fetch the full history: `git fetch --unshallow`, or `fetch-depth: 0` with actions/checkout",
        )
    } else {
        err.into()
    }
}

/// `main (1a2b3c4)`.
fn named(repo: &Repo, rev: &str) -> Result<String> {
    let short = repo.short_id(rev).map_err(|e| shallow_help(repo, rev, e))?;
    Ok(if short.starts_with(rev) {
        short
    } else {
        format!("{rev} ({short})")
    })
}

/// What the range compares, to diff once the program is being parsed.
enum Diff {
    /// HEAD against the index.
    Staged,
    /// Two commits' trees.
    Trees(String, String),
}

impl Diff {
    fn changes(&self, repo: &Repo) -> Result<Vec<crate::git::Change>> {
        Ok(match self {
            Diff::Staged => repo.staged_changes()?,
            Diff::Trees(base, head) => repo.changes(base, head)?,
        })
    }
}

/// The head side and the range, from the flags and the environment; its
/// changes are left for [`Diff::changes`].
fn range(args: &AlignArgs, repo: &Repo) -> Result<(Side, Range, Diff)> {
    // pre-commit sets both for `--from-ref/--to-ref` (pre-push, manual
    // runs); they then win over `--staged`, which the hook always passes.
    let pre_commit = args.base.is_none()
        && args.head.is_none()
        && env("PRE_COMMIT_FROM_REF").is_some()
        && env("PRE_COMMIT_TO_REF").is_some();
    if args.staged && !pre_commit {
        let head_name = repo
            .short_id("HEAD")
            .map_or_else(|_| "HEAD".to_string(), |s| format!("HEAD ({s})"));
        return Ok((
            Side::Index,
            Range {
                base: head_name,
                head: "the index".into(),
                changes: Vec::new(),
            },
            Diff::Staged,
        ));
    }
    let from_env = args.base.is_none() && args.head.is_none();
    let head = args
        .head
        .clone()
        .or_else(|| from_env.then(|| env("PRE_COMMIT_TO_REF")).flatten())
        .unwrap_or_else(|| "HEAD".into());
    let head_id = repo
        .resolve(&head)
        .map_err(|e| shallow_help(repo, &head, e))?;
    let base = match args
        .base
        .clone()
        .or_else(|| from_env.then(|| env("PRE_COMMIT_FROM_REF")).flatten())
    {
        Some(base) => base,
        None => {
            let default = match repo.default_branch() {
                Ok(b) => b,
                Err(e) if repo.is_shallow() => {
                    return Err(Error::with_help(
                        format!(
                            "this is a shallow clone and the default branch is not in it ({e})"
                        ),
                        "fetch the full history (`fetch-depth: 0` with actions/checkout, or `git fetch --unshallow`), or pass --base",
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            let id = repo.merge_base(&head, &default)?;
            let label = format!("merge-base of {head} and {default}");
            let hex = id.to_string();
            let short = &hex[..hex.len().min(7)];
            return Ok((
                Side::Rev(head_id.to_string()),
                Range {
                    base: format!("{label} ({short})"),
                    head: named(repo, &head)?,
                    changes: Vec::new(),
                },
                Diff::Trees(hex, head_id.to_string()),
            ));
        }
    };
    let base_id = repo
        .resolve(&base)
        .map_err(|e| shallow_help(repo, &base, e))?;
    Ok((
        Side::Rev(head_id.to_string()),
        Range {
            base: named(repo, &base)?,
            head: named(repo, &head)?,
            changes: Vec::new(),
        },
        Diff::Trees(base_id.to_string(), head_id.to_string()),
    ))
}

pub fn run(args: &AlignArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if matches!(g.format, Format::Mermaid | Format::Dot) {
        return Err(Error::usage(
            "mermaid and dot are `orch graph` formats; align-docs prints human, json, github, sarif or markdown",
        ));
    }
    let ws = Workspace::find(g)?;
    let Some(repo) = Repo::discover(&ws.root)? else {
        return Err(Error::with_help(
            format!("{} is not in a git repository", ws.root.display()),
            "align-docs checks a git range: run it inside a clone",
        ));
    };
    let root = repo.workdir().to_path_buf();
    if !ws.dir.starts_with(&root) {
        return Err(Error::with_help(
            format!(
                "the orchestrator folder {} is outside the work tree {}",
                ws.dir.display(),
                root.display()
            ),
            "pass a --dir inside the repository",
        ));
    }
    let dir = display_path(&root, &ws.dir);
    if args.fix && args.head.as_deref().is_some_and(|h| h != "HEAD") {
        return Err(Error::with_help(
            "--fix rewrites the work tree, which holds HEAD, not the --head revision",
            "run --fix without --head (or with --head HEAD), or check out the revision first",
        ));
    }
    let (side, mut range, diff) = range(args, &repo)?;
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    let blobs = snapshot::program_blobs(&repo, &side, &prefix)?;
    // The program is read and parsed on other threads while this one diffs
    // the range and lists the head's files (gix's handles stay on theirs).
    let (program, changes, snap) = std::thread::scope(|s| {
        let parsing = s.spawn(|| snapshot::program(&blobs, &prefix, &root, &ws.dir));
        let changes = diff.changes(&repo);
        let snap = Snapshot::new(&repo, side);
        let program = parsing
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (program, changes, snap)
    });
    let program = program?;
    range.changes = changes?;
    let snap = snap?;
    let mut checked = align::check(&snap, program, &dir, range)?;
    let mut fixed_lines = Vec::new();
    if args.fix && !checked.drift.is_empty() {
        let fixed = align::snippets::fix(&root, &checked.drift)?;
        for (doc, line, selector, source) in &fixed {
            let line = format!(
                "{doc}:{line}: snippet now matches {} of `{source}` (in the work tree; commit or stage it)",
                selector.describe()
            );
            fixed_lines.push(crate::util::escape_controls(&line).into_owned());
        }
        // What was fixed is no longer left to do.
        let fixed_at: Vec<(&str, usize)> =
            fixed.iter().map(|(d, l, ..)| (d.as_str(), *l)).collect();
        let program = &checked.program;
        checked.diagnostics.retain(|d| {
            if d.code != "docs-snippet-drift" {
                return true;
            }
            let file = program.file(d.file);
            let (line, _) = file.line_col(d.span.start);
            !fixed_at.contains(&(file.path.as_str(), line))
        });
    }
    let human = HumanOptions {
        color: g.color(),
        quiet: g.quiet,
        ..HumanOptions::default()
    };
    let extras = Extras {
        fixed: &fixed_lines,
        deny_warnings: args.deny_warnings,
    };
    align::report::emit(g.format, &checked, &extras, &human, out)?;
    let outcome = super::lint::outcome(&checked.diagnostics, args.deny_warnings);
    super::release(checked);
    Ok(outcome)
}
