//! Cross-document checks a lead expects: a ticket's Expected Artifacts
//! inside its card's scope, a group whose tasks can run side by side (no
//! dependency chain inside it), and sheets that agree with the cards'
//! `group:` (none left stale by a regrouping).

use std::collections::{BTreeMap, HashSet};

use crate::diagnostic::Diagnostic;
use crate::model::program::{Index, Task};
use crate::model::views::FieldsView;
use crate::model::{Document, Kind, TaskStatus, templates};
use crate::source::{FileId, Span, Spanned, Text};

use super::ids::sheet_tasks;
use super::scopes::sample_path;
use super::{Context, rule};

/// Done, cancelled or split: nothing runs it again.
fn finished(task: &Task) -> bool {
    matches!(
        task.status,
        TaskStatus::Done | TaskStatus::Cancelled | TaskStatus::Split
    )
}

/// The card's `group:` value, trimmed, with where it is written.
fn group_of<'i>(cx: &Context<'_>, task: &'i Task) -> Option<(&'i str, FileId, Span)> {
    let g = task.group.as_ref()?;
    let name = g.value.trim();
    if name.is_empty() {
        return None;
    }
    let file = cx.program.docs[task.card?].file;
    Some((name, file, g.span))
}

rule!(
    ArtifactOutOfScope,
    "artifact-out-of-scope",
    Warning,
    "a ticket's Expected Artifacts lie outside its card's allowed scope",
    r#"## What it does
Reports a path (or glob) in a ticket's `Expected Artifacts` that the task's
card does not let the agent change: under none of its `Files/paths`, or in
its `Prohibited areas`. Finished tasks (done, cancelled, split) are left
alone; prose entries (no code span, or text with spaces) are not paths.

## Why it matters
The agent is asked to produce the artifact and judged on its scope: doing
the job is a scope violation, and the run is judged partial at best. A
warning, not an error: a glob artifact is checked on a sample path, and an
artifact another step writes is legitimate.

## Example
```markdown
tickets/P1-CORE-01.md: - Expected Artifacts: `src/parser.rs`, `docs/parser.md`
cards/P1-CORE-01.md:     - Files/paths: `src/parser.rs`
```
Add `docs/parser.md` to the card's Files/paths, or drop it from the
ticket's Expected Artifacts if another task writes it.
"#,
    check_artifact_out_of_scope
);

/// A ticket's artifacts: the code spans of `Expected Artifacts` and of its
/// sub-items (a nested list), each a path or glob with no spaces. Kept with
/// the document: read once per text.
fn artifacts(doc: &Document) -> &[Spanned<Text>] {
    doc.memo
        .artifact_spans
        .get_or_init(|| read_artifacts(doc).into_boxed_slice())
}

fn read_artifacts(doc: &Document) -> Vec<Spanned<Text>> {
    let view = FieldsView::of(doc, templates::TICKET_HEADING);
    let Some(item) = view.field("Expected Artifacts") else {
        return Vec::new();
    };
    let mut out: Vec<Spanned<Text>> = item.code.to_vec();
    let mut stack: Vec<&crate::parse::markdown::Item> = item.children.iter().collect();
    while let Some(i) = stack.pop() {
        out.extend(i.code.iter().cloned());
        stack.extend(i.children.iter());
    }
    out.retain(|a| {
        let v = a.value.trim();
        !v.is_empty() && !v.contains(char::is_whitespace) && !v.contains("://") && v != "none"
    });
    out.sort_by_key(|a| a.span.start);
    out
}

fn check_artifact_out_of_scope(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // The cards' scopes as every scope rule reads them (once per run, and
    // from the language server's cache for cards not edited), by task.
    let cards = cx.cards();
    for (i, task) in cx.index.tasks.iter().enumerate() {
        if finished(task) {
            continue;
        }
        let Some(ti) = task.ticket else { continue };
        let Ok(at) = cards.binary_search_by_key(&i, |c| c.task) else {
            continue;
        };
        let card = cards[at].read();
        // A scope that does not read is scope-unreadable's or scope-empty's.
        let Ok(scope) = card.effective(&task.id) else {
            continue;
        };
        let ticket = &cx.program.docs[ti];
        let card_path = &cx.program.file(card.file).path;
        let card_at = card.allowed.first().map_or(Span::empty(0), |g| g.text.span);
        for a in artifacts(ticket) {
            let raw = a.value.trim();
            let path = raw.trim_start_matches("./");
            // A folder (`docs/`) or a glob: a path it holds.
            let probe = if path.ends_with('/') {
                format!("{path}orch-sample")
            } else if path.contains(['*', '?', '[', '{']) {
                sample_path(path)
            } else {
                path.to_string()
            };
            if scope.is_match(&probe) {
                continue;
            }
            let prohibited = card
                .prohibited
                .iter()
                .find(|g| g.pattern.as_ref().is_ok_and(|p| p.is_match(&probe)));
            let (why, related) = match prohibited {
                Some(g) => (
                    format!("in its Prohibited areas (`{}`)", g.text.value.trim()),
                    g.text.span,
                ),
                None => ("under none of its Files/paths".to_string(), card_at),
            };
            out.push(
                Diagnostic::new(
                    "",
                    ticket.file,
                    a.span,
                    format!(
                        "`{raw}` is an expected artifact of `{}`, but its card does not let the agent change it: {why}",
                        task.id
                    ),
                )
                .help(format!(
                    "add `{path}` to the Files/paths of `{card_path}` (and out of its Prohibited areas), or drop it from the Expected Artifacts if another task writes it"
                ))
                .related(card.file, related, format!("`{}`'s allowed scope", task.id)),
            );
        }
    }
}

rule!(
    GroupDependency,
    "group-dependency",
    Warning,
    "a group holds a task and a task it depends on",
    r#"## What it does
Reports a card whose `group:` is also the group of a task it depends on,
directly or through other tasks, while that dependency is not done. Done,
cancelled and split tasks are left alone.

## Why it matters
A group is what runs side by side: `orch dispatch G1` starts every task of
G1 at once, and refuses the whole group when one of them waits on another.
A hand-set group that holds a dependency chain can never be dispatched as
a group. A warning, not an error: its tasks can still be dispatched one by
one, and dispatch refuses a program with lint errors.

## Example
```markdown
cards/P1-CORE-01.md: group: G1
cards/P1-CORE-02.md: group: G1     # P1-CORE-02 depends on P1-CORE-01
```
Move `P1-CORE-02` to a later group (`group: G2`), or let `orch sheet
--write` group the ready tasks.
"#,
    check_group_dependency
);

/// The dependency graph as `group-dependency` walks it, by position in
/// `Index::tasks`, each lookup made once per run rather than at each step
/// of each task's walk (a walk can cover every task before it).
struct Walk<'i> {
    tasks: &'i [Task],
    /// Each task's dependencies that are tasks.
    deps: Vec<Vec<usize>>,
    satisfied: Vec<bool>,
    groups: Vec<Option<&'i str>>,
    /// The walk that last reached each task (its start), and from where.
    seen: Vec<usize>,
    from: Vec<usize>,
    queue: Vec<usize>,
}

impl<'i> Walk<'i> {
    fn new(cx: &Context<'_>, index: &'i Index) -> Walk<'i> {
        let tasks = &index.tasks;
        Walk {
            tasks,
            deps: tasks
                .iter()
                .map(|t| {
                    t.deps
                        .iter()
                        .filter_map(|d| index.position(d.value.trim()))
                        .collect()
                })
                .collect(),
            satisfied: tasks.iter().map(|t| index.satisfied(&t.id)).collect(),
            groups: tasks
                .iter()
                .map(|t| group_of(cx, t).map(|(g, _, _)| g))
                .collect(),
            seen: vec![usize::MAX; tasks.len()],
            from: vec![0; tasks.len()],
            queue: Vec::new(),
        }
    }

    /// The first unsatisfied task in `group` that task `start` depends on,
    /// directly or through other tasks, with the chain between (`start`
    /// first).
    fn ancestor_in_group(&mut self, start: usize, group: &str) -> Option<Vec<&'i Task>> {
        // Breadth first, so the nearest such dependency is named.
        self.seen[start] = start;
        self.queue.clear();
        self.queue.push(start);
        let mut head = 0;
        while let Some(&last) = self.queue.get(head) {
            head += 1;
            for k in 0..self.deps[last].len() {
                let dep = self.deps[last][k];
                if self.seen[dep] == start {
                    continue;
                }
                self.seen[dep] = start;
                if self.satisfied[dep] {
                    continue;
                }
                self.from[dep] = last;
                if self.groups[dep] == Some(group) {
                    let mut chain = vec![&self.tasks[dep]];
                    let mut at = dep;
                    while at != start {
                        at = self.from[at];
                        chain.push(&self.tasks[at]);
                    }
                    chain.reverse();
                    return Some(chain);
                }
                self.queue.push(dep);
            }
        }
        None
    }
}

fn check_group_dependency(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut walk = Walk::new(cx, &cx.index);
    for (i, task) in cx.index.tasks.iter().enumerate() {
        if finished(task) {
            continue;
        }
        let Some((group, file, span)) = group_of(cx, task) else {
            continue;
        };
        let Some(chain) = walk.ancestor_in_group(i, group) else {
            continue;
        };
        let dep = chain[chain.len() - 1];
        let through: Vec<String> = chain[1..chain.len() - 1]
            .iter()
            .map(|t| format!("`{}`", t.id))
            .collect();
        let how = if through.is_empty() {
            String::new()
        } else {
            format!(" (through {})", through.join(", "))
        };
        let mut d = Diagnostic::new(
            "",
            file,
            span,
            format!(
                "`{}` depends on `{}`{how}, which is in the same group {group} and not done: `orch dispatch {group}` refuses the group",
                task.id, dep.id
            ),
        )
        .help(format!(
            "move `{}` to a later group than `{}` (its card's `group:`), or let `orch sheet --write` regroup the ready tasks",
            task.id, dep.id
        ));
        if let Some((_, dfile, dspan)) = group_of(cx, dep) {
            d = d.related(dfile, dspan, format!("`{}` is in {group} too", dep.id));
        }
        out.push(d);
    }
}

/// Each sheet with its group and listed tasks.
struct Sheet<'d> {
    doc: &'d Document,
    group: Spanned<Text>,
    tasks: Vec<Spanned<Text>>,
    /// The `tasks:` value's span.
    list: Span,
}

fn sheets<'p>(cx: &Context<'p>) -> Vec<Sheet<'p>> {
    cx.program
        .docs_of(Kind::Sheet)
        .filter_map(|doc| {
            let fm = doc.front()?;
            let group = fm.scalar("group")?;
            if group.value.trim().is_empty() {
                return None;
            }
            let list = fm.get("tasks").map_or(group.span, |n| n.span);
            Some(Sheet {
                doc,
                group,
                tasks: sheet_tasks(doc),
                list,
            })
        })
        .collect()
}

/// The tasks whose card says `group: G`, by group.
fn card_groups<'i>(cx: &Context<'_>, index: &'i Index) -> BTreeMap<String, Vec<&'i Task>> {
    let mut by: BTreeMap<String, Vec<&Task>> = BTreeMap::new();
    for t in &index.tasks {
        if let Some((g, _, _)) = group_of(cx, t) {
            by.entry(g.to_string()).or_default().push(t);
        }
    }
    by
}

/// A sheet is stale when no card is in its group any more and every task
/// it lists is in another group now (a regrouping moved them all).
fn is_stale(cx: &Context<'_>, sheet: &Sheet<'_>, members: Option<&Vec<&Task>>) -> bool {
    if members.is_some_and(|m| !m.is_empty()) {
        return false;
    }
    let known: Vec<&Task> = sheet
        .tasks
        .iter()
        .filter_map(|t| cx.index.task(t.value.trim()))
        .collect();
    !known.is_empty()
        && known
            .iter()
            .all(|t| group_of(cx, t).is_some_and(|(g, _, _)| g != sheet.group.value.trim()))
}

rule!(
    SheetMismatch,
    "sheet-mismatch",
    Error,
    "a sheet's task list disagrees with the cards' `group:`",
    r#"## What it does
Reports a sheet (`sheets/G1.md`) that lists a task whose card is in another
group, and a card in the sheet's group that the sheet does not list. A
sheet whose tasks' cards carry no `group:` at all is a hand-written group
and is left alone; a sheet every task of which moved away is
`sheet-stale`.

## Why it matters
`orch dispatch G1` runs the cards with `group: G1`; the sheet's script runs
the tasks it lists. When they disagree, the two ways of running the group
run different tasks side by side, and the no-overlap check of one does not
hold for the other.

## Example
```markdown
sheets/G1.md:        tasks: [P1-CORE-01, P1-CORE-02]
cards/P1-CORE-02.md: group: G2
```
Run `orch sheet --write` again to rewrite the sheets from the cards, or set
the card's `group:` to the sheet's group.
"#,
    check_sheet_mismatch
);

fn check_sheet_mismatch(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let by_group = card_groups(cx, &cx.index);
    for sheet in sheets(cx) {
        let name = sheet.group.value.trim();
        let members = by_group.get(name);
        if is_stale(cx, &sheet, members) {
            continue;
        }
        let path = &cx.program.file(sheet.doc.file).path;
        for listed in &sheet.tasks {
            let Some(task) = cx.index.task(listed.value.trim()) else {
                continue; // task-unknown
            };
            let Some((g, gfile, gspan)) = group_of(cx, task) else {
                // No group on the card: the sheet alone says where it runs,
                // unless other cards are in this group.
                if members.is_some_and(|m| !m.is_empty()) {
                    out.push(
                        Diagnostic::new(
                            "",
                            sheet.doc.file,
                            listed.span,
                            format!(
                                "`{}` is listed in group {name}, but its card has no `group:`; `orch dispatch {name}` runs the cards with `group: {name}` and leaves it out",
                                task.id
                            ),
                        )
                        .help(format!(
                            "set `group: {name}` in `{}`'s card, or drop it from the sheet (`orch sheet --write` rewrites the sheets)",
                            task.id
                        )),
                    );
                }
                continue;
            };
            if g == name {
                continue;
            }
            out.push(
                Diagnostic::new(
                    "",
                    sheet.doc.file,
                    listed.span,
                    format!(
                        "`{}` is listed in group {name}, but its card says `group: {g}`",
                        task.id
                    ),
                )
                .help(format!(
                    "run `orch sheet --write` again to rewrite the sheets from the cards, or set `group: {name}` in `{}`'s card",
                    task.id
                ))
                .related(gfile, gspan, format!("`{}`'s group", task.id)),
            );
        }
        let listed: HashSet<&str> = sheet.tasks.iter().map(|t| t.value.trim()).collect();
        for task in members.into_iter().flatten() {
            if listed.contains(task.id.as_str()) {
                continue;
            }
            let Some((_, gfile, gspan)) = group_of(cx, task) else {
                continue;
            };
            out.push(
                Diagnostic::new(
                    "",
                    sheet.doc.file,
                    sheet.list,
                    format!(
                        "`{}`'s card says `group: {name}`, but `{path}` does not list it",
                        task.id
                    ),
                )
                .help(format!(
                    "add `{}` to the sheet's `tasks:` (`orch sheet --write` rewrites the sheets), or move its card to another group",
                    task.id
                ))
                .related(gfile, gspan, format!("`{}`'s group", task.id)),
            );
        }
    }
}

rule!(
    SheetStale,
    "sheet-stale",
    Warning,
    "a sheet's group holds no card any more: its tasks were regrouped",
    r#"## What it does
Reports a sheet (`sheets/G1.md`) whose group no card carries any more,
every task it lists being in another group now: what is left when the
cards were regrouped by hand, or by an `orch sheet --write` of an older
orch (which now removes the sheets it regroups).

## Why it matters
The sheet's script still runs its tasks side by side, though their cards
now run elsewhere, possibly at the same time as the new group.

## Example
```markdown
sheets/G1.md:        tasks: [P1-CORE-01]
cards/P1-CORE-01.md: group: G3
```
Delete `sheets/G1.md`.
"#,
    check_sheet_stale
);

fn check_sheet_stale(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let by_group = card_groups(cx, &cx.index);
    for sheet in sheets(cx) {
        let name = sheet.group.value.trim();
        if !is_stale(cx, &sheet, by_group.get(name)) {
            continue;
        }
        let mut now: Vec<String> = sheet
            .tasks
            .iter()
            .filter_map(|t| cx.index.task(t.value.trim()))
            .filter_map(|t| group_of(cx, t).map(|(g, _, _)| format!("`{}` in {g}", t.id)))
            .collect();
        now.dedup();
        let path = &cx.program.file(sheet.doc.file).path;
        out.push(
            Diagnostic::new(
                "",
                sheet.doc.file,
                sheet.group.span,
                format!(
                    "no card is in group {name} any more ({}): `{path}` is stale",
                    now.join(", ")
                ),
            )
            .help(format!(
                "delete `{path}`; `orch sheet --write` writes the sheets of the groups the cards now hold"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Program;
    use crate::model::program::Input;

    /// The nearest task of the group is named, with the tasks between.
    #[test]
    fn a_group_dependency_names_the_tasks_it_goes_through() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/rules/group-dependency/fail");
        let program = Program::load(&dir, &dir).expect("fixture");
        // P1-DOCS-01 -> P1-CORE-02 -> P1-CORE-01, all in G1: move the middle
        // one out, and the last one back to `todo`.
        let inputs = program
            .files
            .iter()
            .map(|f| Input {
                path: f.path.clone(),
                abs_path: f.abs_path.clone(),
                bytes: Ok(if f.path.ends_with("cards/P1-CORE-02.md") {
                    f.text.replace("group: G1", "group: G2").into_bytes()
                } else if f.path.ends_with("tickets/P1-CORE-01.md") {
                    f.text.replace("status: done", "status: todo").into_bytes()
                } else {
                    f.text.as_bytes().to_vec()
                }),
            })
            .collect();
        let program = Program::from_inputs(&dir, &dir, inputs, None);
        let found: Vec<String> = crate::rules::lint(&program)
            .into_iter()
            .filter(|d| d.code == "group-dependency")
            .map(|d| d.message)
            .collect();
        assert_eq!(
            found,
            [
                "`P1-DOCS-01` depends on `P1-CORE-01` (through `P1-CORE-02`), which is in the same group G1 and not done: `orch dispatch G1` refuses the group"
            ]
        );
    }
}
