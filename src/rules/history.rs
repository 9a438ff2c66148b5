//! Rules that compare the program with another revision (`orch lint --base
//! REV`): `ledger-rewritten` and `id-collision`. Both are silent without
//! `--base`. The revision's documents are read through the git module by
//! [`Base::load`]; the checks themselves are pure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::model::program::LedgerRow;
use crate::model::{Index, Program};

use super::{Context, rule};

/// The program at the base revision and at the merge-base of HEAD and it.
pub struct Base {
    /// The revision as the user wrote it.
    pub rev: String,
    /// `main...HEAD (the merge-base 1a2b3c4)`, for the output's first line.
    pub range: String,
    pub at_rev: Program,
    pub at_merge_base: Program,
}

impl Base {
    /// Read the orchestrator folder at `rev` and at the merge-base of HEAD
    /// and `rev`. No repository, a bad revision or a shallow clone that
    /// lacks the merge-base is an error (exit 2) with the fix.
    pub fn load(root: &Path, dir: &Path, rev: &str) -> Result<Base> {
        let git = |e: crate::git::GitError| Error::usage(e.to_string());
        let repo = Repo::discover(dir).map_err(git)?.ok_or_else(|| {
            Error::with_help(
                format!(
                    "--base needs a git repository, and {} is in none",
                    dir.display()
                ),
                "run orch lint --base inside a clone, or drop --base",
            )
        })?;
        let prefix = crate::transition::relative_to(repo.workdir(), dir).ok_or_else(|| {
            Error::usage(format!(
                "{} is outside the repository at {}",
                dir.display(),
                repo.workdir().display()
            ))
        })?;
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        // The same rule as align-docs: REV...HEAD, against the merge-base.
        let range = repo
            .range(rev, "HEAD", crate::git::Form::MergeBase)
            .map_err(git)?;
        let merge_base = range.base.to_string();
        let read = |r: &str| -> Result<Program> {
            let blobs = repo.blobs_at(r, &prefix).map_err(git)?;
            let program = Program::from_listing(
                root,
                dir,
                &prefix,
                blobs.files.iter().map(|(p, _)| p.as_str()),
                &|p| (format!("{p} (base)"), dir.join(&p[prefix.len()..])),
                &blobs,
            );
            blobs.check().map_err(git)?;
            Ok(program)
        };
        Ok(Base {
            rev: rev.to_string(),
            range: format!(
                "{}...HEAD (the merge-base {})",
                crate::git::shown(rev),
                &merge_base[..7]
            ),
            at_rev: read(rev)?,
            at_merge_base: read(&merge_base)?,
        })
    }
}

/// A ledger row as comparable text: its cells trimmed, in template order.
fn row_key(row: &LedgerRow) -> String {
    let text = |c: &Option<crate::source::Spanned<crate::source::Text>>| {
        c.as_ref()
            .map_or(String::new(), |c| crate::util::one_line(&c.value))
    };
    [
        row.task.value.trim().to_string(),
        text(&row.skill),
        text(&row.evidence),
        text(&row.result_text),
        text(&row.next),
    ]
    .join(" | ")
}

rule!(
    LedgerRewritten,
    "ledger-rewritten",
    Error,
    "with `--base`: a ledger row present at the base revision was changed or removed",
    r#"## What it does
With `orch lint --base REV`, compares the Evidence Ledger with the one at
REV. Every row that REV has (and that was already there at the merge-base
of HEAD and REV, so rows REV added and this branch has not merged yet do
not count) must still be here, word for word. A row changed in place is
reported on the row; a row removed is reported on the ledger table.

## Why it matters
The ledger is append-only evidence: the history of what was tried, what
passed and what failed. Editing or deleting a row rewrites that history
and hides a failure from the reviewers and from `orch replan`. A new
result is a new row.

## Example
At `main` the ledger holds
```text
| P1-CORE-02 | development-implementer | 1 failed: downgrade drops a column | fail | root cause |
```
and this branch changed `fail` to `pass` in that row. Restore the row and
record the new result instead:
`orch record P1-CORE-02 --result pass --evidence "21 passed"`.
"#,
    check_ledger_rewritten
);

fn check_ledger_rewritten(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(base) = cx.base else { return };
    let program = cx.program;
    let at_rev = Index::build(&base.at_rev);
    let at_mb = Index::build(&base.at_merge_base);
    // Rows at the merge-base, as a multiset: only those count.
    let mut in_mb: BTreeMap<String, usize> = BTreeMap::new();
    for r in &at_mb.ledger {
        *in_mb.entry(row_key(r)).or_default() += 1;
    }
    let base_rows: Vec<(&LedgerRow, String)> = at_rev
        .ledger
        .iter()
        .map(|r| (r, row_key(r)))
        .filter(|(_, k)| match in_mb.get_mut(k) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .collect();
    let current: Vec<(&LedgerRow, String)> =
        cx.index.ledger.iter().map(|r| (r, row_key(r))).collect();
    let mut used = vec![false; current.len()];
    let mut missing = Vec::new();
    for (row, key) in &base_rows {
        match current
            .iter()
            .enumerate()
            .position(|(i, (_, k))| !used[i] && k == key)
        {
            Some(i) => used[i] = true,
            None => missing.push((*row, key)),
        }
    }
    // A missing row whose task has an unmatched row at the same rank among
    // that task's rows was changed in place; otherwise it was removed.
    let rank = |rows: &[&LedgerRow], row: &LedgerRow| {
        rows.iter()
            .filter(|r| r.task.value == row.task.value && r.row.start < row.row.start)
            .count()
    };
    let base_all: Vec<&LedgerRow> = at_rev.ledger.iter().collect();
    let current_all: Vec<&LedgerRow> = cx.index.ledger.iter().collect();
    let table_span = program.ledger().and_then(|doc| {
        crate::model::views::LedgerView::of(doc)
            .rows
            .map(|t| (doc.file, t.table.header.span))
    });
    for (row, key) in missing {
        let k = rank(&base_all, row);
        let changed = current.iter().enumerate().find(|(i, (r, _))| {
            !used[*i] && r.task.value == row.task.value && rank(&current_all, r) == k
        });
        let was = crate::util::clip_chars(key, 200);
        let help = format!(
            "the ledger is append-only: restore the row as it is at {}; a corrected result is a new row, which `orch record {} --result <pass|partial|fail> --evidence \"<what shows it>\"` appends while the task is in progress",
            base.rev, row.task.value
        );
        match changed {
            Some((i, (r, _))) => {
                used[i] = true;
                out.push(
                    Diagnostic::new(
                        "",
                        r.file,
                        r.row,
                        format!(
                            "this `{}` row was changed; at {} it reads `{was}`",
                            row.task.value, base.rev
                        ),
                    )
                    .help(help),
                );
            }
            None => {
                let Some((file, span)) = table_span else {
                    continue;
                };
                out.push(
                    Diagnostic::new(
                        "",
                        file,
                        span,
                        format!(
                            "a `{}` row present at {} was removed: `{was}`",
                            row.task.value, base.rev
                        ),
                    )
                    .help(help),
                );
            }
        }
    }
}

rule!(
    IdCollision,
    "id-collision",
    Error,
    "with `--base`: an ID added on this branch and on the base since the merge-base",
    r#"## What it does
With `orch lint --base REV`, finds the Branch IDs that this branch added to
the backlog since the merge-base of HEAD and REV, and that REV added too,
for a different task (a row that differs). Identical rows added on both
sides (a cherry-pick) are not a collision.

## Why it matters
Two branches that each add `P2-CORE-04` merge into a plan with two tasks
of one ID: tickets, cards, ledger rows and commits then name either task.
git merges the two rows without a conflict when they sit in different
places, so nothing else catches it before the merge.

## Example
On `main`, `P2-CORE-04` became "Compact the queue"; on this branch
`P2-CORE-04` is "Retry pushes with jitter". Rename this branch's task to
a free ID (say `P2-CORE-05`), with its ticket and card, before merging.
"#,
    check_id_collision
);

fn check_id_collision(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(base) = cx.base else { return };
    let at_rev = Index::build(&base.at_rev);
    let at_mb = Index::build(&base.at_merge_base);
    let row_of = |t: &crate::model::Task| {
        [
            t.objective
                .as_ref()
                .map(|o| crate::util::one_line(&o.value)),
            t.skill.as_ref().map(|o| crate::util::one_line(&o.value)),
            Some(
                t.deps
                    .iter()
                    .map(|d| d.value.trim().to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            t.done_criteria
                .as_ref()
                .map(|o| crate::util::one_line(&o.value)),
        ]
    };
    let all: BTreeSet<&str> = cx
        .index
        .tasks
        .iter()
        .chain(at_rev.tasks.iter())
        .map(|t| t.id.as_str())
        .collect();
    for t in &cx.index.tasks {
        if at_mb.task(&t.id).is_some() {
            continue;
        }
        let Some(theirs) = at_rev.task(&t.id) else {
            continue;
        };
        if row_of(t) == row_of(theirs) {
            continue;
        }
        let free = free_id(&t.id, &all);
        let objective = theirs
            .objective
            .as_ref()
            .map(|o| crate::util::clip_chars(&crate::util::one_line(&o.value), 80))
            .unwrap_or_default();
        out.push(
            Diagnostic::new(
                "",
                t.at.file,
                t.at.span,
                format!(
                    "`{}` was also added on {} since the merge-base, for another task (\"{objective}\")",
                    t.id, base.rev
                ),
            )
            .help(format!(
                "rename this branch's task, with its ticket and card, to a free ID{}",
                free.map(|f| format!(" such as `{f}`")).unwrap_or_default()
            )),
        );
    }
}

/// The next free ID with the same prefix and a higher number.
fn free_id(id: &str, taken: &BTreeSet<&str>) -> Option<String> {
    let (prefix, num) = id.rsplit_once('-')?;
    let width = num.len();
    let n: u64 = num.parse().ok()?;
    (n + 1..n + 1000)
        .map(|k| format!("{prefix}-{k:0width$}"))
        .find(|c| !taken.contains(c.as_str()))
}
