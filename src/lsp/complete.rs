//! Completion from what the cursor is in: front-matter keys and values
//! (kinds, statuses, task IDs, groups), template field labels at the start
//! of a list item, task IDs in Dependencies and Task ID cells, skills in
//! Owner Skill cells and fields, results in Result cells, rule codes in
//! `orch-ignore` comments, and paths from the git index in scope and
//! artifact fields.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, CompletionTextEdit,
    TextEdit,
};

use crate::model::templates::{self, front_keys, same_label};
use crate::model::{Document, Kind, Outcome, PlanStatus, TaskStatus};
use crate::parse::frontmatter::{self, Split};
use crate::parse::markdown::BlockKind;
use crate::source::Span;

use super::navigate::is_id_byte;
use super::world::World;
use super::{At, Cx};

/// At most this many paths are offered at once.
const MAX_PATHS: usize = 500;

/// What the cursor is in, and the span of the word it completes.
struct Site<'t> {
    text: &'t str,
    offset: usize,
    /// The line up to the cursor.
    before: &'t str,
    line_start: usize,
}

impl Site<'_> {
    /// The span of the partial word before the cursor, words made of the
    /// bytes `keep` accepts.
    fn word(&self, keep: impl Fn(u8) -> bool) -> Span {
        let b = self.text.as_bytes();
        let mut start = self.offset;
        while start > self.line_start && keep(b[start - 1]) {
            start -= 1;
        }
        Span::new(start, self.offset)
    }
}

struct Items<'a> {
    at: &'a At<'a>,
    replace: Span,
    items: Vec<CompletionItem>,
}

impl Items<'_> {
    fn push(
        &mut self,
        label: &str,
        kind: CompletionItemKind,
        detail: Option<String>,
        insert: &str,
    ) {
        self.items.push(CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail,
            filter_text: Some(label.to_string()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                self.at.lines.range(self.replace),
                insert.to_string(),
            ))),
            ..CompletionItem::default()
        });
    }

    fn words<'w>(&mut self, words: impl IntoIterator<Item = &'w str>, kind: CompletionItemKind) {
        for w in words {
            self.push(w, kind, None, w);
        }
    }

    /// Task IDs, each with its objective; `skip` left out.
    fn tasks(&mut self, world: &World, skip: &[&str]) {
        for task in &world.index.tasks {
            if skip.contains(&task.id.as_str()) {
                continue;
            }
            let detail = task.objective.as_ref().map(|o| {
                format!(
                    "{} · {}",
                    task.status,
                    crate::util::one_line(o.value.trim())
                )
            });
            self.push(&task.id, CompletionItemKind::REFERENCE, detail, &task.id);
        }
    }

    fn skills(&mut self, world: &World) {
        let skills: Vec<String> = world.program.config.skills.clone();
        self.words(
            skills.iter().map(String::as_str),
            CompletionItemKind::ENUM_MEMBER,
        );
    }
}

pub(super) fn completion(cx: &Cx<'_>, p: CompletionParams) -> Option<CompletionResponse> {
    let at = cx.at(&p.text_document_position.text_document.uri)?;
    let text: &str = &at.world.program.file(at.file).text;
    let offset = at.lines.offset(p.text_document_position.position);
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let site = Site {
        text,
        offset,
        before: &text[line_start..offset],
        line_start,
    };
    let mut items = Items {
        at: &at,
        replace: Span::empty(offset),
        items: Vec::new(),
    };
    if let Some(rest) = site.before.trim_start().strip_prefix("<!--") {
        let rest = rest.trim_start();
        if rest.starts_with("orch-ignore") && rest.contains(char::is_whitespace) {
            items.replace = site.word(|b| b.is_ascii_lowercase() || b == b'-');
            let codes: Vec<&str> = crate::rules::RULES.iter().map(|r| r.meta().code).collect();
            items.words(codes, CompletionItemKind::CONSTANT);
        }
        return Some(CompletionResponse::Array(items.items));
    }
    let doc = at.world.doc(at.file);
    match frontmatter::split(text) {
        Split::Found { yaml, .. } if yaml.start <= offset && offset <= yaml.end => {
            front_matter(&mut items, &site, at.world, doc);
        }
        Split::Unclosed { .. } if doc.is_none_or(|d| d.body_start >= offset) => {
            front_matter(&mut items, &site, at.world, doc);
        }
        _ => {
            if let Some(doc) = doc {
                body(&mut items, &site, at.world, doc);
            }
        }
    }
    Some(CompletionResponse::Array(items.items))
}

fn front_matter(items: &mut Items<'_>, site: &Site<'_>, world: &World, doc: Option<&Document>) {
    let kind = doc.and_then(|d| d.kind);
    let line = site.before;
    if let Some((key, _)) = line.split_once(':') {
        let key = key.trim();
        items.replace = site.word(is_id_byte);
        match (key, kind) {
            ("kind", _) => items.words(
                Kind::ALL.iter().map(|k| k.as_str()),
                CompletionItemKind::ENUM_MEMBER,
            ),
            ("status", Some(Kind::Plan)) => items.words(
                PlanStatus::ALL.iter().map(|s| s.as_str()),
                CompletionItemKind::ENUM_MEMBER,
            ),
            ("status", _) => items.words(
                TaskStatus::ALL.iter().map(|s| s.as_str()),
                CompletionItemKind::ENUM_MEMBER,
            ),
            ("id", Some(k @ (Kind::Ticket | Kind::Card))) => {
                // Tasks still without a document of this kind first.
                let has = |t: &crate::model::Task| match k {
                    Kind::Ticket => t.ticket.is_some(),
                    _ => t.card.is_some(),
                };
                let taken: Vec<&str> = world
                    .index
                    .tasks
                    .iter()
                    .filter(|t| has(t))
                    .map(|t| t.id.as_str())
                    .collect();
                items.tasks(world, &taken);
                for t in world.index.tasks.iter().filter(|t| has(t)) {
                    items.push(
                        &t.id,
                        CompletionItemKind::REFERENCE,
                        Some(format!("has a {k} already")),
                        &t.id,
                    );
                }
            }
            ("group", _) => {
                let mut groups: Vec<&str> = world
                    .index
                    .tasks
                    .iter()
                    .filter_map(|t| t.group.as_ref().map(|g| g.value.trim()))
                    .collect();
                groups.sort_unstable();
                groups.dedup();
                items.words(groups, CompletionItemKind::ENUM_MEMBER);
            }
            ("plan", Some(Kind::Ledger)) => {
                if let Some(id) = world.program.plan().and_then(|p| p.id()) {
                    items.words([id.value.trim()], CompletionItemKind::REFERENCE);
                }
            }
            _ => {}
        }
        return;
    }
    if line.trim_start().starts_with('-') && kind == Some(Kind::Sheet) {
        items.replace = site.word(is_id_byte);
        items.tasks(world, &[]);
        return;
    }
    // A key at the start of a line: those the kind defines and the
    // document lacks.
    items.replace = site.word(|b| b.is_ascii_alphanumeric() || b == b'_');
    let Some(kind) = kind else {
        items.push("kind", CompletionItemKind::PROPERTY, None, "kind: ");
        return;
    };
    let present = |k: &str| {
        doc.and_then(|d| d.front())
            .is_some_and(|fm| fm.get(k).is_some())
    };
    for (key, required) in front_keys(kind) {
        if !present(key) {
            let detail = if *required { "required" } else { "optional" };
            items.push(
                key,
                CompletionItemKind::PROPERTY,
                Some(detail.into()),
                &format!("{key}: "),
            );
        }
    }
}

/// The labels a list item may take here: the section's template fields,
/// or the subfields of the item above when the line is indented.
fn labels_for(doc: &Document, heading: &str, indented: bool) -> &'static [&'static str] {
    use crate::model::document::heading_prefix;
    match doc.kind {
        Some(Kind::Ticket) if heading_prefix(heading, templates::TICKET_HEADING).is_some() => {
            templates::TICKET_FIELDS
        }
        Some(Kind::Card) if heading_prefix(heading, templates::CARD_HEADING).is_some() => {
            if indented {
                templates::SCOPE_FIELDS
            } else {
                templates::CARD_FIELDS
            }
        }
        Some(Kind::Plan) if same_label(heading, templates::GOAL_HEADING) => templates::GOAL_FIELDS,
        Some(Kind::Plan) if heading_prefix(heading, "Phase").is_some() => {
            if indented {
                templates::WORKSTREAMS
            } else {
                templates::PHASE_FIELDS
            }
        }
        _ => &[],
    }
}

fn body(items: &mut Items<'_>, site: &Site<'_>, world: &World, doc: &Document) {
    let offset = site.offset;
    let line = site.before;
    let trimmed = line.trim_start();
    // A table cell: its column's header names what it holds.
    if trimmed.starts_with('|') {
        let Some(table) = doc.body.blocks.iter().find_map(|b| match &b.kind {
            BlockKind::Table(t) if t.span.start <= offset && offset <= t.span.end => Some(t),
            _ => None,
        }) else {
            return;
        };
        let column = cells_before(trimmed);
        let Some(header) = table.header.cells.get(column) else {
            return;
        };
        let name = header.text.trim();
        items.replace = site.word(is_id_byte);
        if same_label(name, "Dependencies") || same_label(name, "Task ID") {
            let row_id = table
                .rows
                .iter()
                .find(|r| r.span.start <= offset && offset <= r.span.end)
                .and_then(|r| r.cells.first())
                .map(|c| c.text.trim().trim_matches('`').to_string());
            let skip: Vec<&str> = if same_label(name, "Dependencies") {
                row_id.iter().map(String::as_str).collect()
            } else {
                Vec::new()
            };
            items.tasks(world, &skip);
        } else if same_label(name, "Owner Skill") {
            items.skills(world);
        } else if same_label(name, "Result") {
            items.words(
                Outcome::ALL.iter().map(|o| o.as_str()),
                CompletionItemKind::ENUM_MEMBER,
            );
        }
        return;
    }
    let Some(rest) = trimmed
        .strip_prefix("- ")
        .or_else(|| trimmed.strip_prefix("* "))
        .or_else(|| trimmed.strip_prefix("+ "))
    else {
        return;
    };
    match rest.split_once(':') {
        None => {
            // A label being written: the fields of the nearest heading above.
            let heading = doc
                .sections()
                .into_iter()
                .rfind(|s| s.span.start <= offset)
                .map(|s| s.heading.value.clone())
                .unwrap_or_default();
            let indented = line.len() > trimmed.len();
            let labels = labels_for(doc, &heading, indented);
            items.replace = Span::new(offset - rest.len(), offset);
            let section = doc.section(|h| h == heading);
            for label in labels {
                let present = section.is_some_and(|s| {
                    s.item(label).is_some() || s.items().any(|i| i.child(label).is_some())
                });
                if !present {
                    items.push(
                        label,
                        CompletionItemKind::FIELD,
                        None,
                        &format!("{label}: "),
                    );
                }
            }
        }
        Some((label, _)) => {
            let label = label.trim();
            if same_label(label, "Owner Skill") || same_label(label, "Skill") {
                items.replace = site.word(is_id_byte);
                items.skills(world);
            } else if ["Files/paths", "Prohibited areas", "Expected Artifacts"]
                .iter()
                .any(|l| same_label(label, l))
            {
                items.replace =
                    site.word(|b| !matches!(b, b'`' | b',' | b' ' | b'\t' | b'|' | b':'));
                let typed = &site.text[items.replace.start..offset];
                paths(items, world.tracked_files(), typed);
            } else if same_label(label, "Dependencies") || same_label(label, "Inputs") {
                items.replace = site.word(is_id_byte);
                items.tasks(world, &[]);
            }
        }
    }
}

/// The cell index the cursor is in: unescaped `|` before it, less the
/// leading one.
fn cells_before(line: &str) -> usize {
    let b = line.as_bytes();
    let pipes = (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count();
    pipes.saturating_sub(1)
}

/// The next path component under what was typed: folders (ending in `/`)
/// and files from the tracked files, at most [`MAX_PATHS`].
fn paths(items: &mut Items<'_>, tracked: &[String], typed: &str) {
    let typed = typed.trim_start_matches("./");
    let dir_len = typed.rfind('/').map_or(0, |i| i + 1);
    let start = tracked.partition_point(|p| p.as_str() < typed);
    let mut last = "";
    for path in tracked[start..].iter().take_while(|p| p.starts_with(typed)) {
        let rest = &path[dir_len..];
        let next = match rest.find('/') {
            Some(i) => &path[..dir_len + i + 1],
            None => path.as_str(),
        };
        if next == last {
            continue;
        }
        last = next;
        let kind = if next.ends_with('/') {
            CompletionItemKind::FOLDER
        } else {
            CompletionItemKind::FILE
        };
        items.push(next, kind, None, next);
        if items.items.len() >= MAX_PATHS {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cells_before;

    #[test]
    fn cells_count_unescaped_pipes() {
        assert_eq!(cells_before("| P1 | a \\| b | "), 2);
        assert_eq!(cells_before("| P1"), 0);
        assert_eq!(cells_before(""), 0);
    }
}
