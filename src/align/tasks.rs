//! The checks that join the range's changes with the program: governing
//! docs, coupled docs, expected artifacts, test evidence, untracked
//! changes, release and rollback notes, unverified items.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::git::Change;
use crate::model::scope::CardScope;
use crate::model::templates::{self, is_none_marker, is_placeholder};
use crate::model::views::FieldsView;
use crate::model::{Document, TaskStatus};
use crate::parse::markdown::Item;
use crate::scope::{Pattern, Scope, match_files};
use crate::source::{Span, Spanned, Text};

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
fn entries(item: &Item) -> Vec<Spanned<Text>> {
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
fn artifact_path(entry: &Spanned<Text>, from_code: bool) -> Option<&str> {
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

/// Words that name a test run, matched whole and in any case: generic
/// words and test runners' names.
const TEST_WORDS: &[&str] = &[
    "test", "tests", "tested", "testing", "spec", "specs", "check", "checks", "checked", "pytest",
    "unittest", "nextest", "jest", "vitest", "mocha", "rspec", "ctest", "tox", "nox", "junit",
    "xunit", "phpunit", "minitest",
];

/// Is the token an orch log or run file, or any `.log` path? Such a path
/// says where output went, not which test ran.
fn is_log_path(token: &str) -> bool {
    token.ends_with(".log")
        || token.starts_with("logs/")
        || token.starts_with("runs/")
        || token.contains("/logs/")
        || token.contains("/runs/")
        || token.contains(".orchestrator/")
}

/// Does the token look like a task ID (`P1-TEST-01`, `AC-7`): capitals,
/// digits and dashes, with at least one of each?
fn is_id_shaped(token: &str) -> bool {
    token.contains('-')
        && token.chars().any(|c| c.is_ascii_digit())
        && token
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_'))
}

/// Does ledger evidence name a test? One of the card's Tests/checks
/// commands, or a test word (see [`TEST_WORDS`]) outside the task IDs
/// (`ids`, and anything shaped like one) and log paths: `P1-TEST-01 done,
/// see logs/P1-TEST-01.log` names none.
fn names_tests(evidence: &str, commands: &[Spanned<Text>], ids: &[&str]) -> bool {
    if commands.iter().any(|c| {
        let c = c.value.trim().trim_matches('`').trim();
        !c.is_empty() && evidence.contains(c)
    }) {
        return true;
    }
    let mut text = evidence.to_string();
    for id in ids {
        if !id.is_empty() {
            text = text.replace(id, " ");
        }
    }
    text.split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric() && !matches!(c, '/' | '.')))
        .map(|t| t.trim_end_matches('.'))
        .filter(|t| !is_log_path(t) && !is_id_shaped(t))
        .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()))
        .any(|w| TEST_WORDS.contains(&w.to_lowercase().as_str()))
}

/// Files each task's dispatch runs changed, from the run files the head
/// holds (`runs/*.json` in the orchestrator folder): what its event stream
/// reported, and what changed in the work tree or was committed while it
/// ran. A run file that is not one orch wrote is skipped (it is untrusted
/// input: bounded in size by [`super::Snapshot::text`], only read as JSON).
fn run_changes(cx: &Cx<'_>) -> HashMap<String, Vec<(String, String)>> {
    use crate::dispatch::harvest::{RunFile, touched_by};
    let prefix = format!("{}runs/", cx.dir);
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for path in cx.snap.paths() {
        let Some(name) = path.strip_prefix(&prefix) else {
            continue;
        };
        if name.contains('/') || !name.ends_with(".json") {
            continue;
        }
        let Ok(Some(text)) = cx.snap.text(path) else {
            continue;
        };
        let Ok(run) = serde_json::from_str::<RunFile>(&text) else {
            continue;
        };
        for facts in &run.tasks {
            let entry = out.entry(facts.task.clone()).or_default();
            entry.extend(
                touched_by(facts, &cx.program.root)
                    .into_iter()
                    .map(|p| (p, run.run.clone())),
            );
        }
    }
    out
}

/// Has the task run: a status past `todo`, a ledger row, or a dispatch run?
fn ran(task: &crate::model::Task, runs: &HashMap<String, Vec<(String, String)>>) -> bool {
    matches!(
        task.status,
        TaskStatus::InProgress | TaskStatus::Done | TaskStatus::Partial | TaskStatus::Failed
    ) || !task.rows.is_empty()
        || runs.contains_key(&task.id)
}

/// Which changed files (indices into `files`) each task is charged with:
/// those its dispatch runs changed, and, once it has run, those its card's
/// scope holds. A `todo` task that never ran is charged with nothing; nor is
/// a cancelled or split one (its work went elsewhere).
pub(crate) struct Charges {
    /// Per task (parallel to `cx.index.tasks`): (file index, the run that
    /// changed it, if a run file says so).
    pub by_task: Vec<Vec<(usize, Option<String>)>>,
    /// Per file: the tasks whose card's scope holds it but that were not
    /// charged (never ran, cancelled, split).
    pub idle: Vec<Vec<usize>>,
}

pub(crate) fn charges(cx: &Cx<'_>, files: &[&str]) -> Charges {
    let cards = cards(cx);
    let held = matches(cards, files);
    let runs = run_changes(cx);
    let mut by_task: Vec<Vec<(usize, Option<String>)>> = vec![Vec::new(); cx.index.tasks.len()];
    let mut idle: Vec<Vec<usize>> = vec![Vec::new(); files.len()];
    let position: HashMap<&str, usize> = files.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    for (ti, task) in cx.index.tasks.iter().enumerate() {
        if matches!(task.status, TaskStatus::Cancelled | TaskStatus::Split) {
            continue;
        }
        for (path, run) in runs.get(&task.id).into_iter().flatten() {
            if let Some(&fi) = position.get(path.as_str())
                && !by_task[ti].iter().any(|(f, _)| *f == fi)
            {
                by_task[ti].push((fi, Some(run.clone())));
            }
        }
    }
    for (card, held) in cards.iter().zip(&held) {
        let task = &cx.index.tasks[card.task];
        let charged =
            !matches!(task.status, TaskStatus::Cancelled | TaskStatus::Split) && ran(task, &runs);
        for &fi in held {
            if !charged {
                idle[fi].push(card.task);
            } else if !by_task[card.task].iter().any(|(f, _)| *f == fi) {
                by_task[card.task].push((fi, None));
            }
        }
    }
    for list in &mut by_task {
        list.sort();
    }
    Charges { by_task, idle }
}

/// The help for a task charged with changes whose evidence names no test:
/// run the tests and record what they showed, whatever it is. Never a
/// `--result pass` for work no one checked.
fn record_help(task: &crate::model::Task, commands: &[Spanned<Text>]) -> String {
    let tests = if commands.is_empty() {
        "its Tests/checks".to_string()
    } else {
        let names: Vec<&str> = commands.iter().map(|c| c.value.trim()).collect();
        list(&names, 3)
    };
    let first = commands.first().map_or("<test>".to_string(), |c| {
        c.value.trim().trim_matches('`').to_string()
    });
    let id = &task.id;
    let record = format!(
        "`orch record {id} --result <pass|partial|fail> --evidence \"{first}: <what it printed>\"`"
    );
    match task.status {
        TaskStatus::InProgress => {
            format!("run {tests}, then record the result they gave: {record}")
        }
        TaskStatus::Done => format!(
            "`{id}` is done, but no row names a test: run {tests} and append a ledger row naming them and what they showed; if they fail, the task is not done: plan a task to fix it"
        ),
        TaskStatus::Partial | TaskStatus::Failed => format!(
            "run {tests}; resume the task (`orch start {id}`) and record the result they gave: {record}"
        ),
        _ => format!(
            "start the task (`orch start {id}`), run {tests}, then record the result they gave: {record}"
        ),
    }
}

/// Tasks charged with changes (see [`charges`]) have Tests/checks and test
/// evidence.
pub fn tests_recorded(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    if !cx.has_program {
        return;
    }
    let files: Vec<&str> = cx
        .touched
        .iter()
        .map(String::as_str)
        .filter(|p| !cx.in_dir(p))
        .collect();
    if files.is_empty() {
        return;
    }
    let charges = charges(cx, &files);
    let ids: Vec<&str> = cx.index.tasks.iter().map(|t| t.id.as_str()).collect();
    for (ti, charged) in charges.by_task.iter().enumerate() {
        if charged.is_empty() {
            continue;
        }
        let task = &cx.index.tasks[ti];
        let changed: Vec<&str> = charged.iter().map(|(i, _)| files[*i]).collect();
        let mut runs: Vec<&str> = charged.iter().filter_map(|(_, r)| r.as_deref()).collect();
        runs.sort();
        runs.dedup();
        let how = match runs.as_slice() {
            [] => format!("in the scope of `{}` ({})", task.id, task.status),
            [run] => format!("by `{}` ({}) in dispatch run {run}", task.id, task.status),
            _ => format!(
                "by `{}` ({}) in dispatch runs {}",
                task.id,
                task.status,
                list(&runs, 3)
            ),
        };
        let card = task.card.map(|c| &cx.program.docs[c]);
        let view = card.map(|c| FieldsView::of(c, templates::CARD_HEADING));
        let field = view.as_ref().and_then(|v| v.field("Tests/checks to run"));
        let commands = field.map(entries).unwrap_or_default();
        let empty = field.is_none_or(|f| {
            f.children.is_empty()
                && (is_placeholder(&f.value.value) || is_none_marker(&f.value.value))
        });
        if let Some(card) = card
            && empty
        {
            let span = field.map_or_else(|| card_anchor(card), |f| f.value.span);
            out.push(
                Diagnostic::new(
                    "tests-not-recorded",
                    card.file,
                    span,
                    format!(
                        "{} changed {how}, but its card names no Tests/checks to run",
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
                .is_some_and(|e| names_tests(&e.value, &commands, &ids))
        });
        if recorded {
            continue;
        }
        let help = record_help(task, &commands);
        match rows.last() {
            Some(row) => {
                let span = row.evidence.as_ref().map_or(row.row, |e| e.span);
                out.push(
                    Diagnostic::new(
                        "tests-not-recorded",
                        row.file,
                        span,
                        format!(
                            "{} changed {how}, but no ledger evidence of `{}` names a test",
                            list(&changed, 3),
                            task.id
                        ),
                    )
                    .label("no test named")
                    .help(help),
                );
            }
            None => {
                let (file, span) = match card {
                    Some(card) => (card.file, card_anchor(card)),
                    None => (task.at.file, task.at.span),
                };
                out.push(
                    Diagnostic::new(
                        "tests-not-recorded",
                        file,
                        span,
                        format!(
                            "{} changed {how}, but the ledger has no row for `{}`",
                            list(&changed, 3),
                            task.id
                        ),
                    )
                    .label("no evidence recorded")
                    .help(help),
                );
            }
        }
    }
}

/// Changed implementation no task accounts for: in no card's scope, or
/// only in the scope of tasks that never ran (or were cancelled or split).
pub fn untracked(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    if !cx.has_program {
        return;
    }
    let config = &cx.program.config.align;
    let docs = patterns(&config.product_docs);
    let mut notes: Vec<Pattern> = patterns(&config.release_notes);
    notes.extend(patterns(&config.rollback_notes));
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
    let charges = charges(cx, &files);
    let mut covered = vec![false; files.len()];
    for list in &charges.by_task {
        for (i, _) in list {
            covered[*i] = true;
        }
    }
    for (fi, (path, covered)) in files.iter().zip(covered).enumerate() {
        if covered {
            continue;
        }
        let idle: Vec<&crate::model::Task> = charges.idle[fi]
            .iter()
            .map(|&t| &cx.index.tasks[t])
            .collect();
        let (message, help) = match idle.first() {
            None => (
                format!("`{path}` changed, but no task's scope holds it"),
                "add it to the Files/paths of the card of the task that changed it, or plan a task for it".to_string(),
            ),
            Some(first) => {
                let named: Vec<String> = idle
                    .iter()
                    .map(|t| {
                        let what = if t.status == TaskStatus::Todo {
                            "todo and never ran".to_string()
                        } else {
                            t.status.to_string()
                        };
                        format!("`{}` ({what})", t.id)
                    })
                    .collect();
                (
                    format!(
                        "`{path}` changed, but no task that ran holds it: only {} has it in scope",
                        named.join(", ")
                    ),
                    format!(
                        "work on a task only once it is started (`orch start {}`), so its tests are recorded; or add the path to the card of the task that changed it",
                        first.id
                    ),
                )
            }
        };
        out.push(
            Diagnostic::new("change-untracked", cx.file(path), Span::empty(0), message).help(help),
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
            &config.release_notes,
        ),
        (
            "rollback-notes-missing",
            "rollback_notes",
            "rollback notes",
            &config.rollback_notes,
        ),
    ];
    for (code, key, what, files) in notes {
        let globs: Vec<Pattern> = files
            .iter()
            .filter_map(|f| Pattern::parse(trim_path(f)).ok())
            .collect();
        let Some(first) = files.first() else { continue };
        if globs.is_empty()
            || cx
                .touched
                .iter()
                .any(|p| globs.iter().any(|g| g.is_match(p)))
        {
            continue;
        }
        let name = first.trim();
        let names: Vec<&str> = files.iter().map(|f| f.trim()).collect();
        let shown = if names.len() == 1 {
            format!("`{name}`")
        } else {
            format!("({})", list(&names, 3))
        };
        let target = if names.len() == 1 {
            format!("`{name}`")
        } else {
            format!("one of {}", list(&names, 3))
        };
        let mut d = Diagnostic::new(
            code,
            cx.file(changed[0]),
            Span::empty(0),
            format!(
                "deployment paths changed ({}), but the {what} {shown} did not",
                list(&changed, 3)
            ),
        )
        .help(if code == "release-notes-missing" {
            format!("add a note to {target} saying what changes for a deployment")
        } else {
            format!("add to {target} how to roll this deployment change back")
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
    fn evidence_names_a_test_not_an_id_or_a_log_path() {
        let ids = ["P1-TEST-01", "P2-CHECK-02"];
        let none: Vec<Spanned<Text>> = Vec::new();
        let named = |e: &str| names_tests(e, &none, &ids);
        for yes in [
            "`cargo test` 12 passed",
            "server-side dry-run check passed",
            "pytest -q: 14 passed",
            "Tests: 3 passed (jest)",
            "`go test ./...` ok",
        ] {
            assert!(named(yes), "{yes}");
        }
        for no in [
            "P1-TEST-01 done",
            "see logs/P1-TEST-01.log",
            "log `.orchestrator/logs/P2-CHECK-02.log`",
            "orch dispatch run 20260101T000000Z-P1-TEST-01: exit 0",
            "P9-TEST-07 finished",
            "the latest build is fine",
            "12 passed",
            "reviewed by hand",
        ] {
            assert!(!named(no), "{no}");
        }
        let commands = vec![Spanned::new("`just ci`".into(), Span::empty(0))];
        assert!(names_tests("just ci: ok", &commands, &ids));
    }

    #[test]
    fn ids_match_whole() {
        assert!(names_id("P1-UI-01: Safari", "P1-UI-01"));
        assert!(names_id("see P1-UI-01.", "P1-UI-01"));
        assert!(!names_id("P1-UI-01.2 only", "P1-UI-01"));
        assert!(!names_id("P1-UI-011", "P1-UI-01"));
    }
}
