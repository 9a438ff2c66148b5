//! `orch align-docs`: the Documentation Alignment Checklist over a range.

use std::io::Write;

use crate::align::{self, Range, RangeForm, Side, Snapshot, report::Extras, snapshot};
use crate::error::{Error, Outcome, Result};
use crate::git::{Form, GitError, Repo, shown};
use crate::model::program::display_path;
use crate::report::{Format, HumanOptions};

use super::{Global, Workspace};

#[derive(Debug, clap::Args)]
pub struct AlignArgs {
    /// The range as `git diff` takes it: `A...B` checks B against the
    /// merge-base of A and B (a pull request's "Files changed"), `A..B`
    /// against A itself; an empty side is HEAD
    #[arg(value_name = "RANGE", conflicts_with_all = ["base", "head", "staged"])]
    pub range: Option<String>,
    /// Check the head against the merge-base of REV and the head, as `git
    /// diff REV...HEAD` does (default: the default branch;
    /// `PRE_COMMIT_FROM_REF` when set)
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
    /// report the rest; commit (or stage) them, since the check reads HEAD
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

/// `RANGE` split as git does: `(base, head, form)`, an empty side is HEAD.
fn parse_range(spec: &str) -> Result<(String, String, Form)> {
    let (base, head, form) = if let Some((a, b)) = spec.split_once("...") {
        (a, b, Form::MergeBase)
    } else if let Some((a, b)) = spec.split_once("..") {
        (a, b, Form::TwoDot)
    } else {
        return Err(Error::with_help(
            format!("`{spec}` is not a range"),
            format!(
                "write `{spec}...HEAD` (against the merge-base, what a pull request shows) or `{spec}..HEAD` (the two trees directly), or pass --base {spec}"
            ),
        ));
    };
    let side = |s: &str| {
        if s.is_empty() {
            "HEAD".to_string()
        } else {
            s.to_string()
        }
    };
    Ok((side(base), side(head), form))
}

/// `main 1a2b3c4`, or `1a2b3c4` when the revision is that commit's id.
fn side_name(rev: &str, id: &str) -> String {
    let short = &id[..id.len().min(7)];
    if short.starts_with(rev) || rev.starts_with(short) {
        short.to_string()
    } else {
        format!("{rev} {short}")
    }
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

/// The head side and the range, from the arguments and the environment;
/// its changes are left for [`Diff::changes`].
fn range(args: &AlignArgs, repo: &Repo) -> Result<(Side, Range, Diff)> {
    // pre-commit sets both for `--from-ref/--to-ref` (pre-push, manual
    // runs); they then win over `--staged`, which the hook always passes.
    let typed = args.range.is_some() || args.base.is_some() || args.head.is_some();
    let pre_commit = match (env("PRE_COMMIT_FROM_REF"), env("PRE_COMMIT_TO_REF")) {
        (Some(from), Some(to)) if !typed => Some((from, to)),
        _ => None,
    };
    if args.staged && pre_commit.is_none() {
        let head = repo.resolve("HEAD").ok();
        return Ok((
            Side::Index,
            Range {
                spec: "HEAD..index".into(),
                origin: None,
                form: RangeForm::Index,
                base: head.map_or_else(
                    || "HEAD".to_string(),
                    |id| side_name("HEAD", &id.to_string()),
                ),
                head: "the index".into(),
                base_commit: head.map(|id| id.to_string()),
                head_commit: None,
                changes: Vec::new(),
            },
            Diff::Staged,
        ));
    }
    let (base, head, form, origin) = if let Some(spec) = &args.range {
        let (base, head, form) = parse_range(spec)?;
        (base, head, form, None)
    } else if let Some((from, to)) = pre_commit {
        (
            from,
            to,
            Form::MergeBase,
            Some("PRE_COMMIT_FROM_REF...PRE_COMMIT_TO_REF".to_string()),
        )
    } else {
        let head = args.head.clone().unwrap_or_else(|| "HEAD".into());
        match &args.base {
            Some(base) => (base.clone(), head, Form::MergeBase, None),
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
                let origin = format!("{default} is the default branch");
                (default, head, Form::MergeBase, Some(origin))
            }
        }
    };
    let resolved = match repo.range(&base, &head, form) {
        // pre-commit itself compares unrelated histories tree to tree.
        Err(GitError::NoMergeBase { .. })
            if origin
                .as_deref()
                .is_some_and(|o| o.starts_with("PRE_COMMIT")) =>
        {
            repo.range(&base, &head, Form::TwoDot)?
        }
        other => other?,
    };
    let (base_id, head_id) = (resolved.base.to_string(), resolved.head.to_string());
    let (b, h) = (shown(&base), shown(&head));
    let (spec, base_name) = match resolved.form {
        Form::MergeBase => (
            format!("{b}...{h}"),
            format!("the merge-base {}", &base_id[..7]),
        ),
        Form::TwoDot => (format!("{b}..{h}"), side_name(b, &base_id)),
    };
    Ok((
        Side::Rev(head_id.clone()),
        Range {
            spec,
            origin,
            form: match resolved.form {
                Form::MergeBase => RangeForm::MergeBase,
                Form::TwoDot => RangeForm::TwoDot,
            },
            base: base_name,
            head: side_name(h, &head_id),
            base_commit: Some(base_id.clone()),
            head_commit: Some(head_id.clone()),
            changes: Vec::new(),
        },
        Diff::Trees(base_id, head_id),
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
    let (side, mut range, diff) = range(args, &repo)?;
    let staged = matches!(side, Side::Index);
    if args.fix
        && let Side::Rev(head) = &side
        && repo.resolve("HEAD").ok().map(|id| id.to_string()).as_ref() != Some(head)
    {
        return Err(Error::with_help(
            format!(
                "--fix rewrites the work tree, which holds HEAD, not the head of {}",
                range.spec
            ),
            "run --fix on a range whose head is HEAD, or check out the revision first",
        ));
    }
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
    let mut fix_note = None;
    if args.fix && !checked.drift.is_empty() {
        let fixed = align::snippets::fix(&root, &checked.drift)?;
        for (doc, line, selector, source) in &fixed {
            let line = format!(
                "{doc}:{line}: snippet now matches {} of `{source}`",
                selector.describe()
            );
            fixed_lines.push(crate::util::escape_controls(&line).into_owned());
        }
        // The check reads HEAD (or the index), not the work tree: say what
        // to commit, and fail until it is.
        let mut docs: Vec<&str> = fixed.iter().map(|(d, ..)| d.as_str()).collect();
        docs.sort();
        docs.dedup();
        let paths: Vec<String> = docs.iter().map(|d| crate::agent::shell_quote(d)).collect();
        let (it, them) = if fixed.len() == 1 {
            ("snippet", "it")
        } else {
            ("snippets", "them")
        };
        let (verb, command, reads) = if staged {
            ("stage", "git add", "the index")
        } else {
            ("commit", "git commit", "HEAD")
        };
        fix_note = Some(crate::util::escape_controls(&format!(
            "{} {it} fixed in the work tree: {verb} {them} (`{command} {}`) and run align-docs again; it reads {reads}, not the work tree",
            fixed.len(),
            paths.join(" ")
        )).into_owned());
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
        fix_note: fix_note.as_deref(),
        deny_warnings: args.deny_warnings,
    };
    align::report::emit(g.format, &checked, &extras, &human, out)?;
    // A line fails on an error, or with --deny-warnings on a warning or when
    // it could not be checked.
    let lines = align::report::lines(&checked.diagnostics, &checked.unchecked, args.deny_warnings);
    // Fixed in the work tree is not fixed at the head side yet.
    let outcome = if lines.iter().all(|l| l.pass) && fix_note.is_none() {
        Outcome::Clean
    } else {
        Outcome::Findings
    };
    super::release(checked);
    Ok(outcome)
}
