//! Identity rules: IDs follow the syntax, are unique, agree between front
//! matter, heading and file name, and name tasks and phases that exist.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::model::templates;
use crate::model::views::{FieldsView, PlanView};
use crate::model::{Document, Kind};
use crate::source::{FileId, Span, Spanned, Text};
use crate::util::{did_you_mean, is_valid_id, nearest};

use super::{Context, rule};

rule!(
    IdInvalid,
    "id-invalid",
    Error,
    "an ID breaks the ID syntax",
    r#"## What it does
Reports an ID that does not match `[A-Za-z0-9][A-Za-z0-9._-]*` or contains
`..`: in the backlog's Branch ID column, a ticket's or card's `id`, a
dependency, a ledger row's Task ID, or a sheet's `group` and `tasks`.

## Why it matters
An ID becomes a file name (`tickets/<ID>.md`), a log name and a git commit
trailer. The syntax guarantees it is always a safe file name: no `/`, no
`..`, no spaces.

In a Dependencies cell, IDs are separated by commas, semicolons, `and` or
spaces, so an entry that breaks the syntax is usually a separator orch
does not read (`P1-UI-01/P1-UI-02`).

## Example
```markdown
| P1 UI 01 | ... |                     <- write `P1-UI-01`
| P1-UI-03 | ... | P1-UI-01/P1-UI-02 | <- write `P1-UI-01, P1-UI-02`
```
"#,
    check_id_invalid
);

const ID_SYNTAX: &str = "IDs are letters, digits, `.`, `_` and `-`, starting with a letter or digit, never `..` (e.g. `P1-UI-01`)";

fn bad_id(out: &mut Vec<Diagnostic>, file: FileId, id: &Spanned<Text>, what: &str) {
    if !id.value.is_empty() && !is_valid_id(id.value.trim()) {
        out.push(
            Diagnostic::new(
                "",
                file,
                id.span,
                format!("`{}` is not a valid {what}", id.value.trim()),
            )
            .help(ID_SYNTAX),
        );
    }
}

/// The help for an entry of a Dependencies cell that is not an ID: which
/// separators work.
pub const DEP_SEPARATORS: &str = "separate the task IDs with commas, semicolons, `and` or spaces (`P1-UI-01, P1-UI-02`), in code spans or not; `-` or `none` means none";

fn check_id_invalid(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let program = cx.program;
    if let Some(plan) = program.plan()
        && let Some(backlog) = PlanView::of(plan).backlog
    {
        for row in &backlog.table.rows {
            if let Some(cell) = backlog.cell(row, 0) {
                bad_id(
                    out,
                    plan.file,
                    &Spanned::new(cell.text.trim_matches('`').into(), cell.span),
                    "task ID",
                );
            }
            if let Some(cell) = backlog.cell(row, 3) {
                let text = &program.file(plan.file).text;
                let deps =
                    crate::model::lists::read_deps(cell, text, &|d| cx.index.task(d).is_some());
                for dep in deps.ids {
                    if !is_valid_id(dep.value.trim()) {
                        out.push(
                            Diagnostic::new(
                                "",
                                plan.file,
                                dep.span,
                                format!("`{}` is not a valid task ID", dep.value.trim()),
                            )
                            .help(format!("{DEP_SEPARATORS}; {ID_SYNTAX}")),
                        );
                    }
                }
            }
        }
    }
    for doc in &program.docs {
        match doc.kind {
            Some(Kind::Ticket | Kind::Card | Kind::Plan) => {
                if let Some(id) = doc.id() {
                    bad_id(out, doc.file, &id, "ID");
                }
            }
            Some(Kind::Sheet) => {
                if let Some(fm) = doc.front() {
                    if let Some(g) = fm.scalar("group") {
                        bad_id(out, doc.file, &g, "group name");
                    }
                    for t in sheet_tasks(doc) {
                        bad_id(out, doc.file, &t, "task ID");
                    }
                }
            }
            _ => {}
        }
        if doc.kind == Some(Kind::Card)
            && let Some(g) = doc.front().and_then(|fm| fm.scalar("group"))
        {
            bad_id(out, doc.file, &g, "group name");
        }
    }
    for row in &cx.index.ledger {
        bad_id(out, row.file, &row.task, "task ID");
    }
}

/// A sheet's `tasks:` entries.
pub fn sheet_tasks(doc: &Document) -> Vec<Spanned<Text>> {
    use crate::parse::yaml::Value;
    match doc.front().and_then(|fm| fm.get("tasks")) {
        Some(node) => match &node.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| i.value.as_scalar().map(|s| Spanned::new(s, i.span)))
                .collect(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

rule!(
    IdDuplicate,
    "id-duplicate",
    Error,
    "two backlog rows, tickets or cards with one ID",
    r#"## What it does
Reports an ID used by two backlog rows, two tickets or two cards.

## Why it matters
Status, scope and evidence are joined by ID. With two tickets for one task,
`orch` would read one status and ignore the other.

## Example
Two rows `| P1-UI-01 | ... |` in the Branch Backlog: give the second its
own ID (`P1-UI-02`).
"#,
    check_id_duplicate
);

fn check_id_duplicate(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let program = cx.program;
    if let Some(plan) = program.plan()
        && let Some(backlog) = PlanView::of(plan).backlog
    {
        let mut seen: HashMap<String, Span> = HashMap::new();
        for row in &backlog.table.rows {
            let Some(cell) = backlog.cell(row, 0) else {
                continue;
            };
            let id = cell.text.trim().trim_matches('`').to_string();
            if id.is_empty() {
                continue;
            }
            if let Some(first) = seen.get(&id) {
                out.push(
                    Diagnostic::new(
                        "",
                        plan.file,
                        cell.span,
                        format!("the backlog lists `{id}` twice"),
                    )
                    .help("give each backlog row its own ID")
                    .related(plan.file, *first, "first listed here"),
                );
            } else {
                seen.insert(id, cell.span);
            }
        }
    }
    for kind in [Kind::Ticket, Kind::Card] {
        let mut seen: HashMap<String, (FileId, Span)> = HashMap::new();
        for doc in program.docs_of(kind) {
            let Some(id) = doc.id() else { continue };
            let key = id.value.trim().to_string();
            if let Some(&(file, span)) = seen.get(&key) {
                out.push(
                    Diagnostic::new(
                        "",
                        doc.file,
                        id.span,
                        format!("a second {kind} for `{key}`"),
                    )
                    .help(format!(
                        "keep one {kind} per task: merge or delete this one"
                    ))
                    .related(
                        file,
                        span,
                        format!("the first {kind} for `{key}`"),
                    ),
                );
            } else {
                seen.insert(key, (doc.file, id.span));
            }
        }
    }
}

rule!(
    IdMismatch,
    "id-mismatch",
    Error,
    "front matter id, heading ID and file name disagree",
    r#"## What it does
Reports a ticket or card whose front-matter `id`, heading ID (`## Dispatch
Ticket: <ID>`) and file name (`tickets/<ID>.md`, `cards/<ID>.md`) disagree,
and a sheet whose `group` differs from its file name (`sheets/<G>.md`).

## Why it matters
People find a task's documents by file name, `orch` by front matter, agents
read the heading. When they disagree, an agent can work one task's brief
while its result is recorded on another.

## Example
`tickets/P1-UI-02.md` with `id: P1-UI-01`: rename the file, or fix the id.
`orch lint --fix` renames files when the id and the heading agree.
"#,
    check_id_mismatch,
    Document
);

/// Where a document of this kind and ID belongs, relative to the folder.
pub fn expected_name(kind: Kind, id: &str) -> Option<String> {
    crate::model::Program::expected_path(kind, id)
}

fn check_id_mismatch(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let program = cx.program;
    for doc in cx.documents() {
        let Some(kind) = doc.kind else { continue };
        let key = match kind {
            Kind::Ticket | Kind::Card => "id",
            Kind::Sheet => "group",
            _ => continue,
        };
        let Some(id) = doc.front().and_then(|fm| fm.scalar(key)) else {
            continue;
        };
        let idv = id.value.trim();
        if idv.is_empty() || !is_valid_id(idv) {
            continue;
        }
        let file = program.file(doc.file);
        let stem = std::path::Path::new(&file.path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if stem != idv {
            let want = expected_name(kind, idv).unwrap_or_default();
            out.push(
                Diagnostic::new(
                    "",
                    doc.file,
                    id.span,
                    format!("`{key}: {idv}` but the file is named `{stem}.md`"),
                )
                .help(format!(
                    "rename the file to `{want}` (`orch lint --fix` does it), or fix `{key}`"
                )),
            );
        } else if let Some(parent) = std::path::Path::new(&file.path)
            .parent()
            .and_then(|p| p.file_name())
        {
            let want_dir = match kind {
                Kind::Ticket => "tickets",
                Kind::Card => "cards",
                _ => "sheets",
            };
            if parent.to_string_lossy() != want_dir {
                out.push(
                    Diagnostic::new(
                        "",
                        doc.file,
                        doc.kind_text.as_ref().map_or(id.span, |k| k.span),
                        format!("a {kind} belongs in `{want_dir}/`"),
                    )
                    .help(format!(
                        "move the file to `{}`",
                        expected_name(kind, idv).unwrap_or_default()
                    )),
                );
            }
        }
        if matches!(kind, Kind::Ticket | Kind::Card) {
            let heading = if kind == Kind::Ticket {
                templates::TICKET_HEADING
            } else {
                templates::CARD_HEADING
            };
            let view = FieldsView::of(doc, heading);
            if let Some(h) = view.heading_id
                && h.value != idv
            {
                out.push(
                    Diagnostic::new(
                        "",
                        doc.file,
                        h.span,
                        format!("the heading names `{}` but `id` is `{idv}`", h.value),
                    )
                    .help(format!("write the heading as `## {heading}: {idv}`"))
                    .related(doc.file, id.span, "the front matter's id"),
                );
            }
        }
    }
}

rule!(
    TaskUnknown,
    "task-unknown",
    Error,
    "a ticket, card, ledger row or sheet names an ID the plan lacks",
    r#"## What it does
Reports a ticket, card, ledger row or sheet task that names an ID which is
not a row of the plan's Branch Backlog.

## Why it matters
The backlog is the task list. A ticket for a task the plan lacks is work no
one planned; a ledger row for one is evidence that counts for nothing.

A task whose row was deleted (its ticket or card still named by its own
file) is not a typo: the help says to keep the row and cancel the task
with `orch cancel <ID> --reason "<why>"`, which keeps its documents and
ledger rows consistent.

## Example
A ledger row `| P1-UI-1 | ... |` when the backlog says `P1-UI-01`.
"#,
    check_task_unknown
);

fn check_task_unknown(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let program = cx.program;
    let Some(plan) = program.plan() else { return };
    if PlanView::of(plan).backlog.is_none() {
        return;
    }
    let ids = || cx.index.tasks.iter().map(|t| t.id.as_str());
    // Tasks whose documents are named by their own ID (`tickets/X.md` with
    // `id: X`): their backlog row was deleted, not mistyped. With the
    // ticket's status, when it has one.
    let mut dropped: HashMap<String, Option<String>> = HashMap::new();
    for doc in program
        .docs_of(Kind::Ticket)
        .chain(program.docs_of(Kind::Card))
    {
        let Some(id) = doc.id() else { continue };
        let id = id.value.trim();
        let stem = std::path::Path::new(&program.file(doc.file).path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if stem == id && is_valid_id(id) {
            let status = doc
                .front()
                .and_then(|fm| fm.scalar("status"))
                .map(|s| s.value.to_string());
            let entry = dropped.entry(id.to_string()).or_default();
            if entry.is_none() {
                *entry = status;
            }
        }
    }
    let mut unknown = |file: FileId, id: &Spanned<Text>, what: &str| {
        let v = id.value.trim();
        if v.is_empty() || !is_valid_id(v) || cx.index.task(v).is_some() {
            return;
        }
        let near = nearest(v, ids());
        let dropped_on_purpose = dropped.get(v);
        let help = match dropped_on_purpose {
            Some(Some(status)) if status.trim() == "done" => format!(
                "`{v}` is done: put its row back in the plan's Branch Backlog (a done task stays in the plan, with its ledger rows)"
            ),
            Some(_) => format!(
                "if `{v}` was dropped on purpose, put its backlog row back and cancel the task: `orch cancel {v} --reason \"<why>\"` (from todo or failed), which keeps its ticket, card and ledger rows consistent; if the row was lost, put it back"
            ),
            None => format!(
                "add `{v}` to the plan's backlog, or fix the ID{}",
                did_you_mean(near)
            ),
        };
        let found = Diagnostic::new(
            "",
            file,
            id.span,
            format!("{what} names `{v}`, which is not in the Branch Backlog"),
        )
        .help(help);
        // A task dropped on purpose is not a typo: no rename to offer.
        let near = if dropped_on_purpose.is_some() {
            None
        } else {
            near
        };
        out.push(super::rename(program, found, id.span, v, near));
    };
    for doc in &program.docs {
        match doc.kind {
            Some(kind @ (Kind::Ticket | Kind::Card)) => {
                if let Some(id) = doc.id() {
                    unknown(doc.file, &id, &format!("this {kind}"));
                }
            }
            Some(Kind::Sheet) => {
                for t in sheet_tasks(doc) {
                    unknown(doc.file, &t, "this sheet");
                }
            }
            _ => {}
        }
    }
    for row in &cx.index.ledger {
        unknown(row.file, &row.task, "this ledger row");
    }
}

rule!(
    PhaseUnknown,
    "phase-unknown",
    Error,
    "an ID's `P<n>` names a phase the Phase Tree lacks",
    r#"## What it does
Reports a backlog ID of the form `P<n>-...` whose phase `P<n>` has no
`## Phase P<n>: <name>` heading in the Phase Tree, and a heading that
starts like a phase but is not written as one (`## Phase 1: Load`,
`## Phase P2 - Sandbox`): once, at the heading, with the rename, rather
than once per backlog row of that phase.

## Why it matters
Phases order the work and group it in `orch graph`. A task in a phase that
does not exist has no outcome it serves.

## Example
`P4-UI-01` in a plan whose Phase Tree stops at `## Phase P3: Rollout`;
`## Phase 2 - Run plugins safely`, which reads `## Phase P2: Run plugins
safely`.
"#,
    check_phase_unknown
);

fn check_phase_unknown(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(plan) = cx.program.plan() else {
        return;
    };
    let view = PlanView::of(plan);
    // A heading meant as a phase: one finding at the heading, none per row.
    for odd in &view.odd_phases {
        let rows = odd.id.as_deref().map_or(0, |id| {
            cx.index
                .tasks
                .iter()
                .filter(|t| phase_of(&t.id) == Some(id))
                .count()
        });
        let rows = match (rows, odd.id.as_deref()) {
            (0, _) | (_, None) => String::new(),
            (1, Some(id)) => format!(", so the backlog's 1 task in {id} has no phase"),
            (n, Some(id)) => format!(", so the backlog's {n} tasks in {id} have no phase"),
        };
        out.push(
            Diagnostic::new(
                "",
                plan.file,
                odd.section.heading.span,
                format!(
                    "`{}` is not read as a phase: a phase heading is `Phase P<n>: <name>`{rows}",
                    odd.section.heading.value.trim()
                ),
            )
            .label("not a phase heading")
            .help(format!("rename it to `{}`", odd.fixed())),
        );
    }
    if cx.index.phases.is_empty() && view.odd_phases.is_empty() {
        return; // section-missing reports the empty Phase Tree
    }
    for task in &cx.index.tasks {
        let Some(phase) = phase_of(&task.id) else {
            continue;
        };
        if cx.index.phases.iter().any(|p| p.value == phase)
            || view
                .odd_phases
                .iter()
                .any(|o| o.id.as_deref() == Some(phase))
        {
            continue;
        }
        let span = Span::new(task.at.span.start, task.at.span.start + phase.len());
        let known = cx
            .index
            .phases
            .iter()
            .map(|p| p.value.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        out.push(
            Diagnostic::new("", plan.file, span, format!("`{}` is in phase {phase}, which the Phase Tree lacks", task.id))
                .help(format!("add `## Phase {phase}: <name>` to the Phase Tree, or move the task to one of {known}")),
        );
    }
}

/// `P1` from `P1-UI-01`.
pub fn phase_of(id: &str) -> Option<&str> {
    let head = id.split('-').next()?;
    (head.len() >= 2
        && head.starts_with('P')
        && head[1..].bytes().all(|b| b.is_ascii_digit())
        && head.len() < id.len())
    .then_some(head)
}
