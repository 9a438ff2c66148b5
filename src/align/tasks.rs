//! The checks that join the range's changes with the program: governing
//! docs, coupled docs, expected artifacts, test evidence, untracked
//! changes, release and rollback notes, unverified items.

use crate::diagnostic::Diagnostic;
use crate::git::Change;
use crate::model::scope::CardScope;
use crate::model::templates::{self, is_none_marker, is_placeholder};
use crate::model::views::FieldsView;
use crate::model::{Document, TaskStatus};
use crate::parse::markdown::Item;
use crate::scope::{Pattern, Scope, match_files};
use crate::source::{Span, Spanned};

use super::paths::{is_external, join, parent};
use super::{Cx, list, patterns};

/// A task's card with its parsed scope.
pub(crate) struct Card<'p> {
    task: usize,
    doc: &'p Document,
    scope: Scope,
    /// Allowed globs as written, parallel to `scope.allowed` where they parsed.
    allowed: Vec<(Pattern, Span)>,
}

/// Every card with its parsed scope, parsed once per check.
fn cards<'c, 'p>(cx: &'c Cx<'p>) -> &'c [Card<'p>] {
    cx.cards.get_or_init(|| parse_cards(cx))
}

fn parse_cards<'p>(cx: &Cx<'p>) -> Vec<Card<'p>> {
    let mut out = Vec::new();
    for (ti, task) in cx.index.tasks.iter().enumerate() {
        let Some(ci) = task.card else { continue };
        let doc = &cx.program.docs[ci];
        let read = CardScope::of(doc, &cx.program.file(doc.file).text);
        let allowed: Vec<(Pattern, Span)> = read
            .allowed
            .iter()
            .filter_map(|g| g.pattern.as_ref().ok().map(|p| (p.clone(), g.text.span)))
            .collect();
        out.push(Card {
            task: ti,
            doc,
            scope: read.lenient(),
            allowed,
        });
    }
    out
}

/// The card's title ID (or its front matter) as the place to blame.
fn card_anchor(card: &Document) -> Span {
    FieldsView::of(card, templates::CARD_HEADING)
        .heading_id
        .map(|h| h.span)
        .or_else(|| card.id().map(|i| i.span))
        .unwrap_or_else(|| card.anchor())
}

/// For each card, the indices into `files` its scope holds.
fn matches(cards: &[Card<'_>], files: &[&str]) -> Vec<Vec<usize>> {
    let scopes: Vec<Scope> = cards.iter().map(|c| c.scope.clone()).collect();
    match_files(&scopes, files)
}

/// Does the document's body cite `doc` (its repository path, or the same
/// path relative to the document's folder)?
fn cites(cx: &Cx<'_>, document: &Document, doc: &str) -> bool {
    let file = cx.program.file(document.file);
    let body = &file.text[document.body_start.min(file.text.len())..];
    if body.contains(doc) {
        return true;
    }
    let depth = parent(&file.path)
        .split('/')
        .filter(|s| !s.is_empty())
        .count();
    let relative = format!("{}{doc}", "../".repeat(depth));
    body.contains(&relative)
}

fn trim_path(p: &str) -> &str {
    p.trim().trim_start_matches("./")
}

/// Governing docs: named ones exist; governed changes are traced by a card
/// (or its ticket) that cites the doc.
pub fn governing(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    let config = &cx.program.config.align;
    for g in &config.governing {
        let doc = trim_path(&g.doc);
        if !cx.snap.is_file(doc)
            && let Some((file, span)) = cx.config_span("governing", g.doc.trim())
        {
            out.push(
                Diagnostic::new(
                    "governing-missing",
                    file,
                    span,
                    format!("governing doc `{doc}` does not exist at head"),
                )
                .label("no such file")
                .help(cx.suggest(doc).unwrap_or_else(|| {
                    "restore the doc, or update `align.governing` to its new path".into()
                })),
            );
        }
    }
    // The plan may name governing docs too: `- Governing docs: `a.md`, ...`.
    if let Some(plan) = cx.program.plan() {
        for section in plan.sections() {
            for item in section.items() {
                let label = item.label.as_ref().map(|l| l.value.to_ascii_lowercase());
                if !matches!(
                    label.as_deref(),
                    Some("governing docs" | "governing documents" | "governing")
                ) {
                    continue;
                }
                for entry in entries(item) {
                    let doc = trim_path(&entry.value);
                    if doc.is_empty() || doc.contains(char::is_whitespace) || cx.snap.is_file(doc) {
                        continue;
                    }
                    out.push(
                        Diagnostic::new(
                            "governing-missing",
                            plan.file,
                            entry.span,
                            format!("governing doc `{doc}` does not exist at head"),
                        )
                        .label("no such file")
                        .help(cx.suggest(doc).unwrap_or_else(|| {
                            "restore the doc, or correct the plan's Governing docs".into()
                        })),
                    );
                }
            }
        }
    }
    if config.governing.is_empty() {
        return;
    }
    let cards = cards(cx);
    for g in &config.governing {
        let doc = trim_path(&g.doc);
        let globs = patterns(&g.paths);
        let governed: Vec<&str> = cx
            .touched
            .iter()
            .map(String::as_str)
            .filter(|p| *p != doc && !cx.in_dir(p) && globs.iter().any(|g| g.is_match(p)))
            .collect();
        if governed.is_empty() {
            continue;
        }
        let held = matches(cards, &governed);
        let cited: Vec<bool> = cards
            .iter()
            .map(|c| {
                let task = &cx.index.tasks[c.task];
                cites(cx, c.doc, doc)
                    || task
                        .ticket
                        .is_some_and(|t| cites(cx, &cx.program.docs[t], doc))
            })
            .collect();
        let config_at = cx.config_span("governing", g.doc.trim());
        let mut uncovered = Vec::new();
        let mut uncited: Vec<Vec<&str>> = vec![Vec::new(); cards.len()];
        for (fi, path) in governed.iter().enumerate() {
            let covering: Vec<usize> = (0..cards.len())
                .filter(|&c| held[c].contains(&fi))
                .collect();
            if covering.iter().any(|&c| cited[c]) {
                continue;
            }
            if covering.is_empty() {
                uncovered.push(*path);
            }
            for c in covering {
                uncited[c].push(path);
            }
        }
        for (ci, paths) in uncited.iter().enumerate() {
            if paths.is_empty() {
                continue;
            }
            let card = &cards[ci];
            let id = &cx.index.tasks[card.task].id;
            let span = card
                .allowed
                .iter()
                .find(|(p, _)| paths.iter().any(|f| p.is_match(f)))
                .map_or_else(|| card_anchor(card.doc), |(_, s)| *s);
            let mut d = Diagnostic::new(
                "governing-untraced",
                card.doc.file,
                span,
                format!(
                    "card `{id}` covers {} changed, which `{doc}` governs, but neither the card nor its ticket cites `{doc}`",
                    list(paths, 3)
                ),
            )
            .label("covers governed paths")
            .help(format!(
                "check the change against `{doc}`, then cite it in the card (e.g. `- Goal: ... per `{doc}``) or in the ticket's Inputs"
            ));
            if let Some((f, s)) = config_at {
                d = d.related(f, s, "the governing doc");
            }
            out.push(d);
        }
        if let Some(first) = uncovered.first() {
            let mut d = Diagnostic::new(
                "governing-untraced",
                cx.file(first),
                Span::empty(0),
                format!(
                    "{} changed, which `{doc}` governs, but no card's scope holds it",
                    list(&uncovered, 3)
                ),
            )
            .help(format!(
                "add the path to the Files/paths of a card that cites `{doc}`"
            ));
            if let Some((f, s)) = config_at {
                d = d.related(f, s, "the governing doc");
            }
            out.push(d);
        }
    }
}

/// A field's entries: its code spans (or comma-separated words) and its
/// sublist's.
fn entries(item: &Item) -> Vec<Spanned<String>> {
    let mut out = Vec::new();
    if !(item.code.is_empty() && is_none_marker(&item.value.value)) {
        out.extend(item.entries());
    }
    for child in &item.children {
        out.extend(entries(child));
    }
    out
}

/// Coupled code changed without its docs.
pub fn coupled(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    for couple in &cx.program.config.align.couple {
        let code = patterns(&couple.code);
        let docs = patterns(&couple.docs);
        let hit = |globs: &[Pattern], p: &str| globs.iter().any(|g| g.is_match(p));
        let changed: Vec<&str> = cx
            .touched
            .iter()
            .map(String::as_str)
            .filter(|p| !cx.in_dir(p) && hit(&code, p) && !hit(&docs, p))
            .collect();
        if changed.is_empty() || cx.touched.iter().any(|p| hit(&docs, p)) {
            continue;
        }
        let names: Vec<&str> = couple.docs.iter().map(|d| d.trim()).collect();
        let mut d = Diagnostic::new(
            "docs-not-updated",
            cx.file(changed[0]),
            Span::empty(0),
            format!(
                "{} changed, but none of its docs ({}) did",
                list(&changed, 3),
                list(&names, 3)
            ),
        )
        .help(format!(
            "update {} to describe the change (the docs are coupled to this code in `align.couple`)",
            list(&names, 3)
        ));
        if let Some(first) = names.first()
            && let Some((f, s)) = cx.config_span("couple", first)
        {
            d = d.related(f, s, "coupled docs");
        }
        out.push(d);
    }
}

/// A path-like entry of Expected Artifacts: code spans without spaces, or
/// words that look like file names.
fn artifact_path(entry: &Spanned<String>, from_code: bool) -> Option<&str> {
    let v = trim_path(&entry.value);
    if v.is_empty()
        || is_placeholder(v)
        || is_none_marker(v)
        || v.contains(char::is_whitespace)
        || is_external(v)
        || v.starts_with('/')
        || (!from_code && !v.contains(['/', '.']))
    {
        return None;
    }
    Some(v)
}

/// Every `done` task's Expected Artifacts exist at head.
pub fn artifacts(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    for task in &cx.index.tasks {
        if task.status != TaskStatus::Done {
            continue;
        }
        let docs = [
            (task.ticket, templates::TICKET_HEADING),
            (task.card, templates::CARD_HEADING),
        ];
        for (doc, heading) in docs {
            let Some(doc) = doc.map(|i| &cx.program.docs[i]) else {
                continue;
            };
            let Some(item) = FieldsView::of(doc, heading).field("Expected Artifacts") else {
                continue;
            };
            let from_code = !item.code.is_empty();
            for entry in entries(item) {
                let Some(path) = artifact_path(&entry, from_code) else {
                    continue;
                };
                let exists = if path.contains(['*', '?', '[', '{']) {
                    Pattern::parse(path)
                        .map(|p| cx.snap.paths().iter().any(|f| p.is_match(f)))
                        .unwrap_or(true)
                } else {
                    join("", path).is_some_and(|p| cx.snap.exists(&p))
                };
                if exists {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        "artifact-missing",
                        doc.file,
                        entry.span,
                        format!(
                            "`{}` is done, but its expected artifact `{path}` does not exist at head",
                            task.id
                        ),
                    )
                    .label("not at head")
                    .help(cx.suggest(path).unwrap_or_else(|| {
                        "commit the artifact, or correct the Expected Artifacts field".into()
                    })),
                );
            }
        }
    }
}

/// Does ledger evidence name tests?
fn names_tests(evidence: &str, commands: &[Spanned<String>]) -> bool {
    let lower = evidence.to_lowercase();
    ["test", "spec", "check"].iter().any(|w| lower.contains(w))
        || commands
            .iter()
            .any(|c| !c.value.trim().is_empty() && evidence.contains(c.value.trim()))
}

/// Tasks whose scope holds changes have Tests/checks and test evidence.
pub fn tests_recorded(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    let files: Vec<&str> = cx
        .touched
        .iter()
        .map(String::as_str)
        .filter(|p| !cx.in_dir(p))
        .collect();
    if files.is_empty() {
        return;
    }
    let cards = cards(cx);
    let held = matches(cards, &files);
    for (card, held) in cards.iter().zip(&held) {
        let task = &cx.index.tasks[card.task];
        if held.is_empty() || task.status == TaskStatus::Cancelled {
            continue;
        }
        let changed: Vec<&str> = held.iter().map(|&i| files[i]).collect();
        let view = FieldsView::of(card.doc, templates::CARD_HEADING);
        let field = view.field("Tests/checks to run");
        let commands = field.map(entries).unwrap_or_default();
        let empty = field.is_none_or(|f| {
            f.children.is_empty()
                && (is_placeholder(&f.value.value) || is_none_marker(&f.value.value))
        });
        if empty {
            let span = field.map_or_else(|| card_anchor(card.doc), |f| f.value.span);
            out.push(
                Diagnostic::new(
                    "tests-not-recorded",
                    card.doc.file,
                    span,
                    format!(
                        "`{}`'s scope holds {} changed, but its card names no Tests/checks to run",
                        task.id,
                        list(&changed, 3)
                    ),
                )
                .label("no tests named")
                .help("name the tests that check this change, e.g. `- Tests/checks to run: `cargo test -p core sync``"),
            );
        }
        let rows: Vec<_> = task.rows.iter().map(|&i| &cx.index.ledger[i]).collect();
        let recorded = rows.iter().any(|r| {
            r.evidence
                .as_ref()
                .is_some_and(|e| names_tests(&e.value, &commands))
        });
        if recorded {
            continue;
        }
        let help = format!(
            "run the card's tests, then record them: `orch record {} --result pass --evidence \"<test command> passed\"`",
            task.id
        );
        match rows.last() {
            Some(row) => {
                let span = row.evidence.as_ref().map_or(row.row, |e| e.span);
                out.push(
                    Diagnostic::new(
                        "tests-not-recorded",
                        row.file,
                        span,
                        format!(
                            "`{}`'s scope holds {} changed, but its ledger evidence names no test",
                            task.id,
                            list(&changed, 3)
                        ),
                    )
                    .label("no test named")
                    .help(help),
                );
            }
            None => {
                out.push(
                    Diagnostic::new(
                        "tests-not-recorded",
                        card.doc.file,
                        card_anchor(card.doc),
                        format!(
                            "`{}`'s scope holds {} changed, but the ledger has no row for it",
                            task.id,
                            list(&changed, 3)
                        ),
                    )
                    .label("no evidence recorded")
                    .help(help),
                );
            }
        }
    }
}

/// Changed implementation no card's scope holds.
pub fn untracked(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    let config = &cx.program.config.align;
    let docs = patterns(&config.product_docs);
    let mut notes: Vec<Pattern> = patterns(std::iter::once(&config.release_notes));
    notes.extend(patterns(config.rollback_notes.iter()));
    let governing: Vec<&str> = config.governing.iter().map(|g| trim_path(&g.doc)).collect();
    let files: Vec<&str> = cx
        .changes
        .iter()
        .map(Change::path)
        .filter(|p| {
            !cx.in_dir(p)
                && !governing.contains(p)
                && !notes.iter().any(|n| n.is_match(p))
                && !docs.iter().any(|d| d.is_match(p))
        })
        .collect();
    if files.is_empty() {
        return;
    }
    let cards = cards(cx);
    let held = matches(cards, &files);
    let mut covered = vec![false; files.len()];
    for h in &held {
        for &i in h {
            covered[i] = true;
        }
    }
    for (path, covered) in files.iter().zip(covered) {
        if covered {
            continue;
        }
        out.push(
            Diagnostic::new(
                "change-untracked",
                cx.file(path),
                Span::empty(0),
                format!("`{path}` changed, but no task's scope holds it"),
            )
            .help("add it to the Files/paths of the card of the task that changed it, or plan a task for it"),
        );
    }
}

/// Deployment changes come with release and rollback notes.
pub fn deployment(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    let config = &cx.program.config.align;
    let deploy = patterns(&config.deployment_paths);
    if deploy.is_empty() {
        return;
    }
    let changed: Vec<&str> = cx
        .touched
        .iter()
        .map(String::as_str)
        .filter(|p| !cx.in_dir(p) && deploy.iter().any(|g| g.is_match(p)))
        .collect();
    if changed.is_empty() {
        return;
    }
    let notes = [
        (
            "release-notes-missing",
            "release_notes",
            "release notes",
            Some(&config.release_notes),
        ),
        (
            "rollback-notes-missing",
            "rollback_notes",
            "rollback notes",
            config.rollback_notes.as_ref(),
        ),
    ];
    for (code, key, what, file) in notes {
        let Some(file) = file else { continue };
        let name = file.trim();
        let Ok(pattern) = Pattern::parse(trim_path(name)) else {
            continue;
        };
        if cx.touched.iter().any(|p| pattern.is_match(p)) {
            continue;
        }
        let mut d = Diagnostic::new(
            code,
            cx.file(changed[0]),
            Span::empty(0),
            format!(
                "deployment paths changed ({}), but the {what} `{name}` did not",
                list(&changed, 3)
            ),
        )
        .help(if code == "release-notes-missing" {
            format!("add a note to `{name}` saying what changes for a deployment")
        } else {
            format!("add to `{name}` how to roll this deployment change back")
        });
        if let Some((f, s)) = cx.config_span(key, name) {
            d = d.related(f, s, what);
        }
        out.push(d);
    }
}

/// `id` appears in `text` as a whole ID (not as the prefix of a child).
fn names_id(text: &str, id: &str) -> bool {
    let mut from = 0;
    while let Some(i) = text[from..].find(id) {
        let s = from + i;
        let e = s + id.len();
        let before = text[..s].chars().next_back();
        let mut after = text[e..].chars();
        let a = after.next();
        let ok_before =
            before.is_none_or(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')));
        let ok_after = match a {
            None => true,
            Some('.') => !after.next().is_some_and(|c| c.is_ascii_digit()),
            Some(c) => !(c.is_alphanumeric() || matches!(c, '-' | '_')),
        };
        if ok_before && ok_after {
            return true;
        }
        from = e;
    }
    false
}

/// Unverified items have risk and owner; partial tasks are listed.
pub fn unverified(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    for row in &cx.index.unverified {
        for (cell, name) in [
            (&row.item, "item"),
            (&row.risk, "risk"),
            (&row.owner, "owner"),
        ] {
            if !is_placeholder(&cell.value) {
                continue;
            }
            let what = if row.item.value.trim().is_empty() {
                "an unverified item".to_string()
            } else {
                format!("the unverified item `{}`", row.item.value.trim())
            };
            out.push(
                Diagnostic::new("unverified-incomplete", row.file, cell.span, format!("{what} has no {name}"))
                    .help(match name {
                        "risk" => "say what could go wrong and how bad it is (e.g. `high: data loss on reconnect`)",
                        "owner" => "name who will verify it: a person or a skill",
                        _ => "describe what was not verified",
                    }),
            );
        }
    }
    for task in &cx.index.tasks {
        if task.status != TaskStatus::Partial
            || cx
                .index
                .unverified
                .iter()
                .any(|r| names_id(&r.item.value, &task.id))
        {
            continue;
        }
        let at = task.status_at.unwrap_or(task.at);
        out.push(
            Diagnostic::new(
                "unverified-incomplete",
                at.file,
                at.span,
                format!("`{}` is partial, but no unverified item names it", task.id),
            )
            .label("partial")
            .help(format!(
                "add a row to the ledger's `## Unverified Items`: `| {}: <what is not verified> | <risk> | <owner> |`",
                task.id
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_whole() {
        assert!(names_id("P1-UI-01: Safari", "P1-UI-01"));
        assert!(names_id("see P1-UI-01.", "P1-UI-01"));
        assert!(!names_id("P1-UI-01.2 only", "P1-UI-01"));
        assert!(!names_id("P1-UI-011", "P1-UI-01"));
    }
}
