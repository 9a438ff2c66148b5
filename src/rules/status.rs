//! Status rules: statuses and results use the allowed words, agree with the
//! ledger, and respect dependencies.

use crate::diagnostic::Diagnostic;
use crate::model::program::At;
use crate::model::{Outcome, PlanStatus, TaskStatus};
use crate::util::{did_you_mean, nearest};

use super::{Context, rule};

rule!(
    StatusInvalid,
    "status-invalid",
    Error,
    "a status or result outside the allowed values",
    r#"## What it does
Reports a ticket `status` other than todo, in_progress, done, partial,
failed, blocked, split or cancelled; a plan `status` other than draft,
active, done or abandoned; and a ledger Result other than pass, partial or
fail (any case, a code span allowed).

## Why it matters
Readiness, dispatch and re-planning all read the status. An unknown one
(`finished`, `wip`) is treated as nothing, so the task looks `todo`.

## Example
```yaml
status: in-progress     <- `in_progress`
```
"#,
    check_status_invalid
);

fn check_status_invalid(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for doc in &cx.program.docs {
        let Some(fm) = doc.front() else { continue };
        let Some(status) = fm.scalar("status") else {
            continue;
        };
        let v = status.value.trim();
        if v.is_empty() {
            continue; // field-empty
        }
        let (ok, all, words): (bool, String, Vec<&str>) = match doc.kind {
            Some(crate::model::Kind::Ticket) => (
                TaskStatus::parse(v).is_some(),
                TaskStatus::spellings(),
                TaskStatus::ALL.iter().map(|s| s.as_str()).collect(),
            ),
            Some(crate::model::Kind::Plan) => (
                PlanStatus::parse(v).is_some(),
                PlanStatus::spellings(),
                PlanStatus::ALL.iter().map(|s| s.as_str()).collect(),
            ),
            _ => continue,
        };
        if !ok {
            let near = nearest(v, words);
            let found =
                Diagnostic::new("", doc.file, status.span, format!("`{v}` is not a status"))
                    .help(format!("use one of {all}{}", did_you_mean(near)));
            out.push(super::rename(cx.program, found, status.span, v, near));
        }
    }
    for row in &cx.index.ledger {
        let Some(text) = &row.result_text else {
            continue;
        };
        if row.result.is_none() && !text.value.trim().is_empty() {
            let words = Outcome::ALL.iter().map(|o| o.as_str());
            let near = nearest(&text.value.trim().to_lowercase(), words);
            let found = Diagnostic::new(
                "",
                row.file,
                text.span,
                format!("`{}` is not a result", text.value.trim()),
            )
            .help(format!(
                "write `pass`, `partial` or `fail`{}",
                did_you_mean(near)
            ));
            out.push(super::rename(
                cx.program,
                found,
                text.span,
                text.value.trim(),
                near,
            ));
        }
    }
}

rule!(
    StatusLedgerMismatch,
    "status-ledger-mismatch",
    Error,
    "a status that the ledger's latest row does not support",
    r#"## What it does
Compares each task's status with its latest ledger row: `done` needs a
`pass` row, `partial` and `split` a `partial` row, `failed` a `fail` row;
a task whose latest row is `pass` must be `done`.

## Why it matters
The ledger is the evidence; the status is the claim. A `done` with no
`pass` row is a claim without evidence, and a `pass` row on a task still
`in_progress` means the result was never applied.

## Example
```yaml
status: done        <- but the ledger has no `pass` row for this task
```
`orch record <ID> --result pass --evidence "<what shows it>"` writes both
at once, from `in_progress`.
"#,
    check_status_ledger_mismatch
);

fn check_status_ledger_mismatch(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for task in cx.index.tasks.iter().filter(|t| t.status_known) {
        let last = task
            .rows
            .iter()
            .rev()
            .map(|&i| &cx.index.ledger[i])
            .find(|r| r.result.is_some());
        let last_result = last.and_then(|r| r.result);
        let needed = match task.status {
            TaskStatus::Done => Some(Outcome::Pass),
            TaskStatus::Partial | TaskStatus::Split => Some(Outcome::Partial),
            TaskStatus::Failed => Some(Outcome::Fail),
            _ => None,
        };
        let status_at = task.status_at.unwrap_or(task.at);
        match (needed, last_result, last) {
            (Some(need), got, _) if got != Some(need) => {
                let message = match got {
                    None => format!(
                        "`{}` is `{}` but the ledger has no row for it",
                        task.id, task.status
                    ),
                    Some(g) => format!(
                        "`{}` is `{}` but its latest ledger row is `{g}`",
                        task.id, task.status
                    ),
                };
                let mut d = Diagnostic::new("", status_at.file, status_at.span, message).help(format!(
                    "set `status: in_progress`, then record the `{need}` result, which appends the row and sets `{}` in one commit (`orch record {} --result {need} --evidence \"<what shows it>\"`); or set the status the ledger supports",
                    task.status, task.id
                ));
                if let (Some(row), Some(text)) = (last, last.and_then(|r| r.result_text.as_ref())) {
                    d = d.related(row.file, text.span, "the latest ledger row");
                }
                out.push(d);
            }
            (None, Some(Outcome::Pass), Some(row)) => {
                let span = row.result_text.as_ref().map_or(row.row, |t| t.span);
                let mut d = Diagnostic::new(
                    "",
                    row.file,
                    span,
                    format!("a `pass` row for `{}`, which is `{}`", task.id, task.status),
                )
                .help(format!(
                    "set `{}` to `done` in its ticket, or record the result it really had",
                    task.id
                ));
                if let Some(At { file, span }) = task.status_at {
                    d = d.related(file, span, "the task's status");
                }
                out.push(d);
            }
            _ => {}
        }
    }
}

rule!(
    StatusDepNotDone,
    "status-dep-not-done",
    Error,
    "a task is `in_progress` or `done` while a dependency is not satisfied",
    r#"## What it does
Reports a task that is `in_progress` or `done` while one of its
dependencies is not satisfied (`done`, or `split` with every child `done`).

## Why it matters
Work started on an unfinished foundation is usually redone. The playbook
unlocks a dependent only after its dependency passed.

## Example
`P2-UI-01` is `in_progress` and depends on `P1-CORE-01`, still `todo`:
finish `P1-CORE-01` first, or set `P2-UI-01` back to `todo`.
"#,
    check_status_dep_not_done
);

fn check_status_dep_not_done(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for task in &cx.index.tasks {
        if !task.status_known || !matches!(task.status, TaskStatus::InProgress | TaskStatus::Done) {
            continue;
        }
        let Some(at) = task.status_at else { continue };
        for dep in cx.index.waiting_on(task) {
            let Some(d) = cx.index.task(dep.value.trim()).filter(|d| d.status_known) else {
                continue;
            };
            let plan_file = task.at.file;
            out.push(
                Diagnostic::new(
                    "",
                    at.file,
                    at.span,
                    format!(
                        "`{}` is `{}` but its dependency `{}` is `{}`",
                        task.id, task.status, d.id, d.status
                    ),
                )
                .help(format!(
                    "finish `{}` first, or set `{}` back to `todo`",
                    d.id, task.id
                ))
                .related(plan_file, dep.span, "the dependency")
                .related(
                    d.status_at.map_or(d.at.file, |a| a.file),
                    d.status_at.map_or(d.at.span, |a| a.span),
                    format!("`{}` is `{}`", d.id, d.status),
                ),
            );
        }
    }
}
