//! The Markdown body as the facts the templates name: headings, `- Label:
//! value` items with their sublists, tables, fenced code and HTML comments.
//!
//! comrak builds the tree; positions come from its block-level source
//! positions (reliable), converted to byte offsets in the file. Finer spans
//! (a value after its label, a table cell, an inline code span) are found by
//! scanning the block's own source text, which is exact where inline source
//! positions are not.

use comrak::nodes::{AstNode, NodeValue};
use comrak::{Arena, Options};

use arcstr::ArcStr;

use crate::source::{Span, Spanned, Text};

#[derive(Clone, Debug, Default)]
pub struct Body {
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub span: Span,
    pub kind: BlockKind,
}

#[derive(Clone, Debug)]
pub enum BlockKind {
    Heading {
        level: u8,
        text: Spanned<Text>,
    },
    List(Vec<Item>),
    /// Boxed: a table is rare and large, a block is neither.
    Table(Box<Table>),
    /// An HTML block's literal text (suppression comments live here).
    Html(String),
    Code {
        info: String,
        literal: String,
    },
    Other,
}

/// A list item. `label` is set when the item reads `Label: value`.
#[derive(Clone, Debug)]
pub struct Item {
    pub span: Span,
    pub label: Option<Spanned<Text>>,
    /// The text after the label (or the whole text without one), with the
    /// span of that text; an empty value's span is empty, just after the colon.
    pub value: Spanned<Text>,
    /// Inline code spans in the value, each spanning the code's content.
    pub code: Box<[Spanned<Text>]>,
    pub children: Box<[Item]>,
}

impl Item {
    /// The item's value is empty: no text after the label and no sublist.
    pub fn is_empty(&self) -> bool {
        self.value.value.trim().is_empty() && self.children.is_empty()
    }

    /// The child item with this label (case-insensitive).
    pub fn child(&self, label: &str) -> Option<&Item> {
        find_item(&self.children, label)
    }

    /// The value as a list of entries: the code spans when there are any,
    /// otherwise the value split on commas.
    pub fn entries(&self) -> Vec<Spanned<Text>> {
        if !self.code.is_empty() {
            return self.code.to_vec();
        }
        split_commas(&self.value)
    }
}

/// Split text on commas, trimming each piece and keeping its span.
pub fn split_commas(value: &Spanned<Text>) -> Vec<Spanned<Text>> {
    let mut out = Vec::new();
    let mut start = 0;
    let text = &value.value;
    for piece in text.split(',') {
        let lead = piece.len() - piece.trim_start().len();
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            let at = start + lead;
            let s = value.span.start + at;
            out.push(Spanned::new(
                text.slice(at..at + trimmed.len()),
                Span::new(s, s + trimmed.len()),
            ));
        }
        start += piece.len() + 1;
    }
    out
}

/// The first item in `items` with this label (case-insensitive, trimmed).
pub fn find_item<'a>(items: &'a [Item], label: &str) -> Option<&'a Item> {
    items.iter().find(|i| {
        i.label
            .as_ref()
            .is_some_and(|l| l.value.trim().eq_ignore_ascii_case(label))
    })
}

#[derive(Clone, Debug)]
pub struct Table {
    pub span: Span,
    pub header: Row,
    pub rows: Vec<Row>,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub span: Span,
    pub cells: Box<[Cell]>,
    /// Cells as written in the source line (GFM drops cells past the
    /// header's count, so this can be larger than `cells.len()`).
    pub raw_cells: usize,
}

#[derive(Clone, Debug)]
pub struct Cell {
    /// The cell's text as rendered (escapes resolved, code spans' content).
    pub text: Text,
    /// The trimmed cell content in the file (the whole cell when empty).
    pub span: Span,
    pub code: Box<[Spanned<Text>]>,
}

impl Cell {
    /// The cell as a list of entries: code spans when there are any,
    /// otherwise the text split on commas.
    pub fn entries(&self) -> Vec<Spanned<Text>> {
        if !self.code.is_empty() {
            return self.code.to_vec();
        }
        split_commas(&Spanned::new(self.text.clone(), self.span))
    }
}

/// Parse the body `text`, which starts at byte `base` of its file. Its
/// texts own their bytes.
pub fn parse(text: &str, base: usize) -> Body {
    parse_in(text, base, None)
}

/// Parse the body of `file`, which starts at byte `base`. Its texts share
/// `file` where they are exactly as written there ([`Text`]).
pub fn parse_shared(file: &ArcStr, base: usize) -> Body {
    parse_in(&file[base..], base, Some(file))
}

fn parse_in(text: &str, base: usize, file: Option<&ArcStr>) -> Body {
    let arena = Arena::new();
    let mut options = Options::default();
    options.extension.table = true;
    let root = comrak::parse_document(&arena, text, &options);
    let lines = LineIndex::new(text);
    let cx = Cx {
        text,
        base,
        lines,
        file,
    };
    let blocks = exact(root.children().map(|n| cx.block(n)).collect());
    Body { blocks }
}

/// `v` without spare capacity. A large program holds hundreds of thousands
/// of these small vectors (blocks, list items, rows) for the whole run, and
/// growth by doubling leaves up to half of each unused: on 20,000 tasks that
/// was about 25 MiB of lint's peak memory.
fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    if v.capacity() > v.len() {
        v.shrink_to_fit();
    }
    v
}

impl Body {
    /// Patch the body in place after an edit of its file: `text` is the
    /// file's new text, in which `new` (a byte range) replaced what was at
    /// `new.start..old_end` before. Only an edit inside one row of a table
    /// whose line starts with `|`, and that stays on that line, is patched:
    /// that row alone is parsed again (under its table's header and
    /// delimiter lines, as the full parse reads it), and everything after
    /// it is moved. Returns false, the body untouched, for any other edit:
    /// the caller parses the file again. A row that holds a `[` is parsed
    /// again in full too (a link reference can be defined anywhere in the
    /// file).
    pub fn patch_row(&mut self, text: &str, old_end: usize, new: Span) -> bool {
        let at = new.start;
        let Some(b) = self
            .blocks
            .iter()
            .position(|b| b.span.start <= at && old_end <= b.span.end)
        else {
            return false;
        };
        let BlockKind::Table(table) = &self.blocks[b].kind else {
            return false;
        };
        let Some(r) = table
            .rows
            .iter()
            .position(|r| r.span.start <= at && old_end <= r.span.end)
        else {
            return false;
        };
        let row_start = table.rows[r].span.start;
        let bytes = text.as_bytes();
        if bytes[new.start..new.end]
            .iter()
            .any(|&c| c == b'\n' || c == b'\r')
        {
            return false;
        }
        let line_end = text[row_start..]
            .find('\n')
            .map_or(text.len(), |i| row_start + i);
        let line = &text[row_start..line_end];
        if !line.starts_with('|') || line.contains('[') {
            return false;
        }
        // The header and delimiter lines, as they are in the file.
        let head_start = table.span.start;
        let Some(head_end) = text[head_start..row_start]
            .match_indices('\n')
            .nth(1)
            .map(|(i, _)| head_start + i + 1)
        else {
            return false;
        };
        let head = &text[head_start..head_end];
        let mini = format!("{head}{line}\n");
        let Some(base) = row_start.checked_sub(head.len()) else {
            return false;
        };
        let mut parsed = parse(&mini, base);
        let row = match parsed.blocks.as_mut_slice() {
            [
                Block {
                    kind: BlockKind::Table(t),
                    ..
                },
            ] if t.rows.len() == 1 && t.header.cells.len() == table.header.cells.len() => {
                t.rows.pop()
            }
            _ => None,
        };
        let Some(row) = row else { return false };
        let delta = new.end as isize - old_end as isize;
        let BlockKind::Table(table) = &mut self.blocks[b].kind else {
            return false;
        };
        table.rows[r] = row;
        for row in &mut table.rows[r + 1..] {
            shift_row(row, delta);
        }
        table.span = grow(table.span, delta);
        self.blocks[b].span = grow(self.blocks[b].span, delta);
        for block in &mut self.blocks[b + 1..] {
            shift_block(block, delta);
        }
        true
    }
}

fn moved(at: usize, by: isize) -> usize {
    at.saturating_add_signed(by)
}

fn shift(span: Span, by: isize) -> Span {
    Span::new(moved(span.start, by), moved(span.end, by))
}

/// A span that holds the edit: its end moves.
fn grow(span: Span, by: isize) -> Span {
    Span::new(span.start, moved(span.end, by))
}

fn shift_spanned(s: &mut Spanned<Text>, by: isize) {
    s.span = shift(s.span, by);
}

fn shift_row(row: &mut Row, by: isize) {
    row.span = shift(row.span, by);
    for cell in &mut row.cells {
        cell.span = shift(cell.span, by);
        cell.code.iter_mut().for_each(|c| shift_spanned(c, by));
    }
}

fn shift_item(item: &mut Item, by: isize) {
    item.span = shift(item.span, by);
    if let Some(l) = &mut item.label {
        shift_spanned(l, by);
    }
    shift_spanned(&mut item.value, by);
    item.code.iter_mut().for_each(|c| shift_spanned(c, by));
    item.children.iter_mut().for_each(|c| shift_item(c, by));
}

fn shift_block(block: &mut Block, by: isize) {
    block.span = shift(block.span, by);
    match &mut block.kind {
        BlockKind::Heading { text, .. } => shift_spanned(text, by),
        BlockKind::List(items) => items.iter_mut().for_each(|i| shift_item(i, by)),
        BlockKind::Table(t) => {
            t.span = shift(t.span, by);
            shift_row(&mut t.header, by);
            t.rows.iter_mut().for_each(|r| shift_row(r, by));
        }
        BlockKind::Html(_) | BlockKind::Code { .. } | BlockKind::Other => {}
    }
}

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex {
            starts: crate::source::line_starts(text),
        }
    }

    /// Byte offset of a 1-based (line, column), clamped into the text.
    fn offset(&self, text: &str, line: usize, column: usize) -> usize {
        let Some(start) = line
            .checked_sub(1)
            .and_then(|l| self.starts.get(l))
            .copied()
        else {
            return text.len();
        };
        (start + column.saturating_sub(1)).min(text.len())
    }
}

struct Cx<'t> {
    text: &'t str,
    base: usize,
    lines: LineIndex,
    /// The whole file, when texts share it.
    file: Option<&'t ArcStr>,
}

impl Cx<'_> {
    /// The node's span relative to the body text (not yet shifted by base).
    fn local_span<'a>(&self, node: &'a AstNode<'a>) -> Span {
        let pos = node.data().sourcepos;
        let start = self
            .lines
            .offset(self.text, pos.start.line, pos.start.column);
        let end = self
            .lines
            .offset(self.text, pos.end.line, pos.end.column + 1);
        let mut span = Span::new(start, end);
        // Keep spans on character boundaries of the body text.
        while span.start > 0 && !self.text.is_char_boundary(span.start) {
            span.start -= 1;
        }
        while span.end < self.text.len() && !self.text.is_char_boundary(span.end) {
            span.end += 1;
        }
        span.end = span.end.max(span.start);
        span
    }

    fn file_span(&self, local: Span) -> Span {
        local.shift(self.base)
    }

    /// `rendered` as read from `local` ([`Text::found_in`]).
    fn text_at(&self, rendered: &str, local: Span) -> Text {
        Text::found_in(self.file, self.file_span(local), rendered)
    }

    /// The code spans of `raw`, which starts at `start` in the body text.
    fn code_spans(&self, raw: &str, start: usize) -> Vec<Spanned<Text>> {
        code_ranges(raw)
            .into_iter()
            .map(|r| self.code_at(Span::new(start + r.start, start + r.end)))
            .collect()
    }

    /// The code span whose content is at `local`, spanned in the file.
    fn code_at(&self, local: Span) -> Spanned<Text> {
        let text = code_text(&self.text[local.range()]);
        Spanned::new(self.text_at(&text, local), self.file_span(local))
    }

    fn block<'a>(&self, node: &'a AstNode<'a>) -> Block {
        let local = self.local_span(node);
        let span = self.file_span(local);
        let value = node.data().value.clone();
        let kind = match value {
            NodeValue::Heading(h) => BlockKind::Heading {
                level: h.level,
                text: self.heading_text(node, local),
            },
            NodeValue::List(_) => BlockKind::List(self.items(node)),
            NodeValue::Table(_) => BlockKind::Table(Box::new(self.table(node, local))),
            NodeValue::HtmlBlock(h) => BlockKind::Html(h.literal),
            NodeValue::CodeBlock(c) => BlockKind::Code {
                info: c.info,
                literal: c.literal,
            },
            _ => BlockKind::Other,
        };
        Block { span, kind }
    }

    fn heading_text<'a>(&self, node: &'a AstNode<'a>, local: Span) -> Spanned<Text> {
        let text = inline_text(node);
        // Raw ATX heading: `## Title ##`; find the title inside the raw line.
        let raw = &self.text[local.start..local.end];
        let first_line = raw.lines().next().unwrap_or("");
        let after_hashes = first_line.trim_start().trim_start_matches('#');
        let lead = first_line.len() - after_hashes.trim_start().len();
        let content = after_hashes.trim();
        let content = content.trim_end_matches('#').trim_end();
        let start = local.start + lead.min(raw.len());
        let span = Span::new(start, (start + content.len()).min(local.end));
        Spanned::new(self.text_at(text.trim(), span), self.file_span(span))
    }

    fn items<'a>(&self, list: &'a AstNode<'a>) -> Vec<Item> {
        exact(
            list.children()
                .filter(|n| matches!(n.data().value, NodeValue::Item(_)))
                .map(|n| self.item(n))
                .collect(),
        )
    }

    fn item<'a>(&self, node: &'a AstNode<'a>) -> Item {
        let span = self.file_span(self.local_span(node));
        let mut children = Vec::new();
        let mut paragraphs = Vec::new();
        for child in node.children() {
            match &child.data().value {
                NodeValue::List(_) if children.is_empty() => children = self.items(child),
                NodeValue::List(_) => children.extend(self.items(child)),
                NodeValue::Paragraph => paragraphs.push(child),
                _ => {}
            }
        }
        let Some(first) = paragraphs.first() else {
            return Item {
                span,
                label: None,
                value: Spanned::new(Text::default(), Span::empty(span.end)),
                code: Box::default(),
                children: children.into_boxed_slice(),
            };
        };
        let text: String = paragraphs
            .iter()
            .map(|p| inline_text(p))
            .collect::<Vec<_>>()
            .join(" ");
        let first_local = self.local_span(first);
        let last_local = paragraphs
            .last()
            .map(|p| self.local_span(p))
            .unwrap_or(first_local);
        let raw_span = Span::new(first_local.start, last_local.end.max(first_local.start));
        let raw = &self.text[raw_span.start..raw_span.end];
        let code_local: Vec<Span> = code_ranges(raw)
            .into_iter()
            .map(|r| Span::new(raw_span.start + r.start, raw_span.start + r.end))
            .collect();

        let (label, value) = match split_label(&text) {
            Some((label, value)) => {
                // Find the colon in the raw text, outside code spans.
                let colon = raw_colon(raw, &code_local, raw_span.start);
                let (label_span, value_start) = match colon {
                    Some(c) => {
                        let label_raw = &self.text[raw_span.start..c];
                        let lead = label_raw.len() - label_raw.trim_start().len();
                        let label_span = Span::new(
                            raw_span.start + lead,
                            raw_span.start + label_raw.trim_end().len(),
                        );
                        let mut v = c + 1;
                        let bytes = self.text.as_bytes();
                        while v < raw_span.end && matches!(bytes[v], b' ' | b'\t' | b'*' | b'_') {
                            v += 1;
                        }
                        (label_span, v)
                    }
                    None => (raw_span, raw_span.end),
                };
                let value_raw = &self.text[value_start.min(raw_span.end)..raw_span.end];
                let value_end = value_start.min(raw_span.end) + value_raw.trim_end().len();
                let value_span = Span::new(value_start.min(raw_span.end), value_end);
                (
                    Some(Spanned::new(
                        self.text_at(label, label_span),
                        self.file_span(label_span),
                    )),
                    Spanned::new(self.text_at(value, value_span), self.file_span(value_span)),
                )
            }
            None => (
                None,
                Spanned::new(
                    self.text_at(text.trim(), raw_span),
                    self.file_span(raw_span),
                ),
            ),
        };
        let value_start_local = value.span.start - self.base;
        let code = code_local
            .into_iter()
            .filter(|c| c.start >= value_start_local)
            .map(|c| self.code_at(c))
            .collect::<Box<[_]>>();
        Item {
            span,
            label,
            value,
            code,
            children: children.into_boxed_slice(),
        }
    }

    fn table<'a>(&self, node: &'a AstNode<'a>, local: Span) -> Table {
        let mut rows: Vec<Row> = Vec::new();
        let mut header = None;
        for row in node.children() {
            let is_header = matches!(row.data().value, NodeValue::TableRow(true));
            let row_local = self.local_span(row);
            let line_end = self.text[row_local.start..]
                .find('\n')
                .map_or(self.text.len(), |i| row_local.start + i);
            let raw_start = row_local.start;
            let raw = self.text[raw_start..line_end].trim_end_matches('\r');
            let raw_cells = split_row(raw, raw_start);
            let texts: Vec<String> = row.children().map(|c| inline_text(c)).collect();
            let cells = texts
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let span = raw_cells
                        .get(i)
                        .copied()
                        .unwrap_or(Span::new(raw_start, raw_start + raw.len()));
                    let code = self
                        .code_spans(&self.text[span.range()], span.start)
                        .into_boxed_slice();
                    Cell {
                        text: self.text_at(text.trim(), span),
                        span: self.file_span(span),
                        code,
                    }
                })
                .collect();
            let r = Row {
                span: self.file_span(Span::new(raw_start, raw_start + raw.len())),
                cells,
                raw_cells: raw_cells.len(),
            };
            if is_header && header.is_none() {
                header = Some(r);
            } else {
                rows.push(r);
            }
        }
        let header = header.unwrap_or(Row {
            span: self.file_span(local),
            cells: Box::default(),
            raw_cells: 0,
        });
        Table {
            span: self.file_span(local),
            header,
            rows: exact(rows),
        }
    }
}

/// `Label: value` when the text before the first colon looks like a label.
fn split_label(text: &str) -> Option<(&str, &str)> {
    let (label, value) = text.split_once(':')?;
    let label = label.trim();
    if label.is_empty() || label.len() > 60 || label.contains('`') {
        return None;
    }
    Some((label, value.trim()))
}

/// The offset of the first colon in `raw` that is outside every code span.
fn raw_colon(raw: &str, code: &[Span], base: usize) -> Option<usize> {
    raw.char_indices()
        .map(|(i, c)| (base + i, c))
        .find(|&(i, c)| {
            c == ':'
                && !code
                    .iter()
                    .any(|s| s.start.saturating_sub(1) <= i && i <= s.end)
        })
        .map(|(i, _)| i)
}

/// The text of an inline subtree: text and code literals, breaks as spaces.
pub fn inline_text<'a>(node: &'a AstNode<'a>) -> String {
    let mut out = String::new();
    for n in node.descendants() {
        match &n.data().value {
            NodeValue::Text(t) => out.push_str(t),
            NodeValue::Code(c) => out.push_str(&c.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => out.push(' '),
            _ => {}
        }
    }
    out
}

/// Inline code spans in `raw` (CommonMark backtick strings), each with the
/// span of its content, offsets shifted by `base`.
pub fn code_spans(raw: &str, base: usize) -> Vec<Spanned<Text>> {
    code_ranges(raw)
        .into_iter()
        .map(|r| {
            let span = Span::new(base + r.start, base + r.end);
            Spanned::new(Text::from(code_text(&raw[r])), span)
        })
        .collect()
}

/// A code span's content as it reads: line endings are spaces.
fn code_text(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains(['\n', '\r']) {
        raw.replace(['\n', '\r'], " ").into()
    } else {
        raw.into()
    }
}

/// Where the content of each inline code span of `raw` is.
fn code_ranges(raw: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => {
                let open = i;
                while i < bytes.len() && bytes[i] == b'`' {
                    i += 1;
                }
                let n = i - open;
                // Find a closing run of exactly n backticks.
                let mut j = i;
                let mut close = None;
                while j < bytes.len() {
                    if bytes[j] == b'`' {
                        let s = j;
                        while j < bytes.len() && bytes[j] == b'`' {
                            j += 1;
                        }
                        if j - s == n {
                            close = Some(s);
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                // An unmatched run is literal text.
                if let Some(c) = close {
                    let mut s = i;
                    let mut e = c;
                    let inner = &raw[s..e];
                    if inner.len() >= 2
                        && inner.starts_with(' ')
                        && inner.ends_with(' ')
                        && !inner.trim().is_empty()
                    {
                        s += 1;
                        e -= 1;
                    }
                    out.push(s..e);
                    i = c + n;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Split a raw table row on unescaped pipes; each cell's trimmed span.
fn split_row(raw: &str, base: usize) -> Vec<Span> {
    let bytes = raw.as_bytes();
    let mut bounds = Vec::new();
    let mut i = 0;
    let mut cell_start = 0;
    let trimmed_start = raw.len() - raw.trim_start().len();
    let leading_pipe = bytes.get(trimmed_start) == Some(&b'|');
    if leading_pipe {
        cell_start = trimmed_start + 1;
        i = cell_start;
    }
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'|' => {
                bounds.push((cell_start, i));
                cell_start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if !raw[cell_start.min(raw.len())..].trim().is_empty() {
        bounds.push((cell_start, raw.len()));
    }
    bounds
        .into_iter()
        .map(|(s, e)| {
            let s = s.min(raw.len());
            let e = e.min(raw.len()).max(s);
            let cell = &raw[s..e];
            let lead = cell.len() - cell.trim_start().len();
            let t = cell.trim();
            if t.is_empty() {
                Span::new(base + s, base + e)
            } else {
                Span::new(base + s + lead, base + s + lead + t.len())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(src: &str, s: Span) -> &str {
        &src[s.start..s.end]
    }

    #[test]
    fn items_have_labels_values_code_and_children() {
        let src = "## Codex Execution Card: P1-UI-01\n- Skill: development-implementer\n- Allowed Scope:\n  - Files/paths: `src/ui/**`, `tests/ui/**`\n  - Prohibited areas: `src/core/**`\n- Goal:\n";
        let body = parse(src, 10);
        let shifted = format!("{}{}", " ".repeat(10), src);
        let BlockKind::Heading { text, .. } = &body.blocks[0].kind else {
            panic!("heading")
        };
        assert_eq!(slice(&shifted, text.span), "Codex Execution Card: P1-UI-01");
        let BlockKind::List(items) = &body.blocks[1].kind else {
            panic!("list")
        };
        assert_eq!(
            items[0].label.as_ref().map(|l| l.value.as_str()),
            Some("Skill")
        );
        assert_eq!(
            slice(&shifted, items[0].value.span),
            "development-implementer"
        );
        let scope = &items[1];
        assert!(scope.value.value.is_empty());
        let files = scope.child("files/paths").expect("files");
        let globs: Vec<&str> = files.code.iter().map(|c| slice(&shifted, c.span)).collect();
        assert_eq!(globs, ["src/ui/**", "tests/ui/**"]);
        assert!(items[2].is_empty());
    }

    #[test]
    fn table_cells_have_exact_spans() {
        let src =
            "| Branch ID | Objective | Deps |\n|---|---|---|\n| P1-UI-01 | Build `ui` \\| x |  |\n";
        let body = parse(src, 0);
        let BlockKind::Table(t) = &body.blocks[0].kind else {
            panic!("table")
        };
        assert_eq!(t.header.cells.len(), 3);
        let row = &t.rows[0];
        assert_eq!(slice(src, row.cells[0].span), "P1-UI-01");
        assert_eq!(row.cells[1].text, "Build ui | x");
        assert_eq!(slice(src, row.cells[1].code[0].span), "ui");
        assert_eq!(row.cells[2].text, "");
    }

    #[test]
    fn crlf_bodies_keep_spans() {
        let src = "# Evidence Ledger\r\n\r\n- Goal: ship it\r\n";
        let body = parse(src, 0);
        let BlockKind::List(items) = &body.blocks[1].kind else {
            panic!("list")
        };
        assert_eq!(slice(src, items[0].value.span), "ship it");
    }

    #[test]
    fn code_spans_follow_commonmark() {
        let spans = code_spans("a ``b`c`` d `e` `unclosed", 0);
        let texts: Vec<&str> = spans.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(texts, ["b`c", "e"]);
    }
}
