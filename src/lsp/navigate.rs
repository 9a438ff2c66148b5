//! Reading a program through a task ID: hover (status, objective,
//! dependencies, scope, last ledger row), go to definition (the plan row,
//! ticket and card), find references (every mention in every document),
//! and document symbols (the template's sections, fields and rows).

use lsp_types::{
    DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, Location, MarkupContent, MarkupKind,
    ReferenceParams, SymbolKind,
};

use crate::model::scope::{CardScope, Glob};
use crate::model::{Front, Task};
use crate::parse::markdown::{BlockKind, Item};
use crate::source::{FileId, Span};

use super::world::World;
use super::{At, Cx};

/// A byte of an ID (`[A-Za-z0-9._-]`).
pub(super) fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// The run of ID bytes around `offset` (touching it on either side).
pub(super) fn word_at(text: &str, offset: usize) -> Span {
    let b = text.as_bytes();
    let offset = offset.min(b.len());
    let mut start = offset;
    while start > 0 && is_id_byte(b[start - 1]) {
        start -= 1;
    }
    let mut end = offset;
    while end < b.len() && is_id_byte(b[end]) {
        end += 1;
    }
    Span::new(start, end)
}

/// The task whose ID is at `offset`, with the ID's span. A word that ends a
/// sentence (`P1-UI-01.`) is the task without the dot.
pub(super) fn task_at<'w>(world: &'w World, text: &str, offset: usize) -> Option<(&'w Task, Span)> {
    let span = word_at(text, offset);
    let mut word = &text[span.start..span.end];
    loop {
        if let Some(task) = world.index.task(word) {
            return Some((task, Span::new(span.start, span.start + word.len())));
        }
        word = word.strip_suffix(['.', '-', '_'])?;
    }
}

fn at_position<'c>(
    cx: &Cx<'c>,
    doc: &lsp_types::TextDocumentPositionParams,
) -> Option<(At<'c>, usize)> {
    let at = cx.at(&doc.text_document.uri)?;
    let offset = at.lines.offset(doc.position);
    Some((at, offset))
}

pub(super) fn hover(cx: &Cx<'_>, p: HoverParams) -> Option<Hover> {
    let (at, offset) = at_position(cx, &p.text_document_position_params)?;
    let text = &at.world.program.file(at.file).text;
    if let Some((task, span)) = task_at(at.world, text, offset) {
        return Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: describe(at.world, task),
            }),
            range: Some(at.lines.range(span)),
        });
    }
    // A rule code (in a suppression comment, a config `rules:` key).
    let span = word_at(text, offset);
    let rule = crate::rules::find(&text[span.start..span.end])?;
    let meta = rule.meta();
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!(
                "**{}** ({}): {}\n\n{}",
                meta.code,
                meta.severity.as_str(),
                meta.summary,
                meta.docs
            ),
        }),
        range: Some(at.lines.range(span)),
    })
}

/// A task in a few lines of Markdown.
pub(super) fn describe(world: &World, task: &Task) -> String {
    let index = &world.index;
    let status = if !task.status_known {
        "unknown status".to_string()
    } else if index.is_ready(task) {
        format!("`{}`, ready", task.status)
    } else {
        format!("`{}`", task.status)
    };
    let mut out = format!("**{}** · {status}", task.id);
    let line = |out: &mut String, label: &str, value: &str| {
        out.push_str(&format!(
            "\n\n{label}: {}",
            crate::util::one_line(value.trim())
        ));
    };
    if let Some(o) = &task.objective {
        line(&mut out, "Objective", &o.value);
    }
    if let Some(s) = &task.skill {
        line(&mut out, "Owner skill", &s.value);
    }
    let deps: Vec<String> = task
        .deps
        .iter()
        .map(|d| match index.task(d.value.trim()) {
            Some(t) => format!("`{}` ({})", t.id, t.status),
            None => format!("`{}` (not in the plan)", d.value.trim()),
        })
        .collect();
    line(
        &mut out,
        "Dependencies",
        &if deps.is_empty() {
            "none".to_string()
        } else {
            deps.join(", ")
        },
    );
    match CardScope::read(&world.program, task) {
        Some(scope) => {
            let list = |globs: &[Glob]| {
                globs
                    .iter()
                    .map(|g| format!("`{}`", g.text.value.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut s = list(&scope.allowed);
            if !scope.prohibited.is_empty() {
                s.push_str(&format!(", except {}", list(&scope.prohibited)));
            }
            line(&mut out, "Scope", if s.is_empty() { "empty" } else { &s });
        }
        None => line(&mut out, "Scope", "no card"),
    }
    if let Some(g) = &task.group {
        line(&mut out, "Group", &g.value);
    }
    match index.last_row(task) {
        Some(row) => {
            let cell = |c: &Option<crate::source::Spanned<crate::source::Text>>| {
                c.as_ref().map_or("", |c| c.value.trim()).to_string()
            };
            line(
                &mut out,
                "Last ledger row",
                &format!(
                    "{} · {} · next: {}",
                    cell(&row.result_text),
                    cell(&row.evidence),
                    cell(&row.next)
                ),
            );
        }
        None => line(&mut out, "Last ledger row", "none"),
    }
    out
}

/// Where a task is defined: its plan row, its ticket's and card's `id`.
fn definitions(cx: &Cx<'_>, world: &World, task: &Task) -> Vec<Location> {
    let mut out = vec![cx.location(world, task.at.file, task.at.span)];
    for di in [task.ticket, task.card].into_iter().flatten() {
        let doc = &world.program.docs[di];
        let span = doc.id().map_or(Span::empty(0), |i| i.span);
        out.push(cx.location(world, doc.file, span));
    }
    out
}

pub(super) fn definition(cx: &Cx<'_>, p: GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
    let (at, offset) = at_position(cx, &p.text_document_position_params)?;
    let text = &at.world.program.file(at.file).text;
    let (task, _) = task_at(at.world, text, offset)?;
    Some(GotoDefinitionResponse::Array(definitions(
        cx, at.world, task,
    )))
}

/// Every mention of `id` as a whole word in the program's documents.
fn mentions(world: &World, id: &str) -> Vec<(FileId, Span)> {
    let mut out = Vec::new();
    for doc in &world.program.docs {
        let text = &world.program.file(doc.file).text;
        let b = text.as_bytes();
        for (i, _) in text.match_indices(id) {
            let end = i + id.len();
            let before = i > 0 && is_id_byte(b[i - 1]);
            // `P1-UI-01.` ends a sentence; `P1-UI-01.1` is another task.
            let punctuation = |c: u8| matches!(c, b'.' | b'-' | b'_');
            let continues = |c: u8| c.is_ascii_alphanumeric();
            let after = b.get(end).is_some_and(|&c| {
                continues(c) || (punctuation(c) && b.get(end + 1).is_some_and(|&n| continues(n)))
            });
            if !before && !after {
                out.push((doc.file, Span::new(i, end)));
            }
        }
    }
    out
}

pub(super) fn references(cx: &Cx<'_>, p: ReferenceParams) -> Option<Vec<Location>> {
    let (at, offset) = at_position(cx, &p.text_document_position)?;
    let text = &at.world.program.file(at.file).text;
    let (task, _) = task_at(at.world, text, offset)?;
    let found = mentions(at.world, &task.id)
        .into_iter()
        .filter(|&(file, span)| {
            p.context.include_declaration || !(file == task.at.file && span == task.at.span)
        })
        .map(|(file, span)| cx.location(at.world, file, span))
        .collect();
    Some(found)
}

#[allow(deprecated)] // `deprecated` is a required field of the type
fn symbol(
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    range: lsp_types::Range,
    selection: lsp_types::Range,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name: if name.trim().is_empty() {
            "(empty)".to_string()
        } else {
            name
        },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children: (!children.is_empty()).then_some(children),
    }
}

fn item_symbols<'a>(at: &At<'_>, items: impl Iterator<Item = &'a Item>) -> Vec<DocumentSymbol> {
    items
        .filter_map(|item| {
            let label = item.label.as_ref()?;
            let value = crate::util::one_line(item.value.value.trim());
            Some(symbol(
                label.value.trim().to_string(),
                (!value.is_empty()).then_some(value),
                SymbolKind::FIELD,
                at.lines.range(item.span),
                at.lines.range(label.span),
                item_symbols(at, item.children.iter()),
            ))
        })
        .collect()
}

/// The outline: the front matter's keys, then the headings nested by
/// level, each holding its labelled fields and its table's rows.
pub(super) fn symbols(cx: &Cx<'_>, p: DocumentSymbolParams) -> Option<DocumentSymbolResponse> {
    let at = cx.at(&p.text_document.uri)?;
    let doc = at.world.doc(at.file)?;
    let mut top = Vec::new();
    if let Front::Map(fm) = &doc.front {
        let keys = fm
            .entries
            .iter()
            .map(|(k, v)| {
                let range = at.lines.range(k.span.cover(v.span));
                symbol(
                    k.value.to_string(),
                    v.value.as_scalar().map(String::from),
                    SymbolKind::PROPERTY,
                    range,
                    at.lines.range(k.span),
                    Vec::new(),
                )
            })
            .collect();
        top.push(symbol(
            "front matter".to_string(),
            doc.kind_text.as_ref().map(|k| k.value.to_string()),
            SymbolKind::NAMESPACE,
            at.lines.range(fm.span),
            at.lines.range(fm.span),
            keys,
        ));
    }
    // Headings nest by level: a stack of open sections.
    let text_len = at.world.program.file(at.file).text.len();
    let sections = doc.sections();
    let mut stack: Vec<(u8, DocumentSymbol)> = Vec::new();
    let close =
        |stack: &mut Vec<(u8, DocumentSymbol)>, top: &mut Vec<DocumentSymbol>, level: u8| {
            while stack.last().is_some_and(|(l, _)| *l >= level) {
                let (_, s) = stack.pop().expect("checked non-empty");
                match stack.last_mut() {
                    Some((_, parent)) => parent.children.get_or_insert_with(Vec::new).push(s),
                    None => top.push(s),
                }
            }
        };
    for (i, section) in sections.iter().enumerate() {
        close(&mut stack, &mut top, section.level);
        // A section runs to the next heading of its level or above.
        let end = sections[i + 1..]
            .iter()
            .find(|s| s.level <= section.level)
            .map_or(text_len, |s| s.span.start);
        let mut children = item_symbols(&at, section.items());
        for block in section.blocks {
            if let BlockKind::Table(table) = &block.kind {
                for row in &table.rows {
                    let Some(first) = row.cells.first() else {
                        continue;
                    };
                    let detail = row
                        .cells
                        .get(1)
                        .map(|c| crate::util::one_line(c.text.trim()));
                    children.push(symbol(
                        first.text.trim().trim_matches('`').to_string(),
                        detail,
                        SymbolKind::KEY,
                        at.lines.range(row.span),
                        at.lines.range(first.span),
                        Vec::new(),
                    ));
                }
            }
        }
        let range = at.lines.range(Span::new(section.span.start, end));
        stack.push((
            section.level,
            symbol(
                section.heading.value.to_string(),
                None,
                SymbolKind::STRING,
                range,
                at.lines.range(section.span),
                children,
            ),
        ));
    }
    close(&mut stack, &mut top, 0);
    Some(DocumentSymbolResponse::Nested(top))
}
