//! One parsed document: its front matter, its body, and the facts its kind
//! owns (DESIGN 2), every fact with the span of its source text.

use crate::parse::frontmatter::{self, Split};
use crate::parse::markdown::{self, Block, BlockKind, Body, Item, Table};
use crate::parse::yaml::{self, Node, Value, YamlError};
use arcstr::ArcStr;

use crate::source::{FileId, Span, Spanned, Text};

use super::status::Kind;
use super::templates;

/// What was found where front matter should be.
#[derive(Clone, Debug)]
pub enum Front {
    /// The file does not start with `---`.
    Missing,
    /// `---` opens front matter that never closes; the span is the opener.
    Unclosed(Span),
    /// The YAML does not parse.
    Invalid(YamlError),
    /// The YAML parses but is not a mapping.
    NotAMap(Span),
    Map(FrontMatter),
}

#[derive(Clone, Debug, Default)]
pub struct FrontMatter {
    /// Key, value, in file order.
    pub entries: Vec<(Spanned<Text>, Node)>,
    /// The YAML text between the delimiters.
    pub span: Span,
    /// Keys that are not strings (`1: x`, `[a]: b`).
    pub odd_keys: Vec<Span>,
}

impl FrontMatter {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| v)
    }

    pub fn key(&self, key: &str) -> Option<&Spanned<Text>> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(k, _)| k)
    }

    /// A scalar value as text with its span. Strings, numbers and booleans
    /// are scalars; a list or mapping is not.
    pub fn scalar(&self, key: &str) -> Option<Spanned<Text>> {
        let node = self.get(key)?;
        node.value.as_scalar().map(|s| Spanned::new(s, node.span))
    }
}

#[derive(Clone, Debug)]
pub struct Document {
    pub file: FileId,
    pub front: Front,
    pub body: Body,
    /// `kind:` as written, with its span, when it is a scalar.
    pub kind_text: Option<Spanned<Text>>,
    pub kind: Option<Kind>,
    /// Where the body starts in the file.
    pub body_start: usize,
    /// What the rules read of this document alone, kept with it.
    pub memo: Memo,
}

/// What the rules derive from one document alone, computed on first use
/// and kept with the document. A document is parsed again whenever its text
/// changes, so nothing here outlives the text it was read from; the
/// language server keeps the documents an edit did not touch, and with
/// them what was read of them, so an edit re-reads only its own document.
/// A document moved to another file id ([`Document::moved_to`]) starts
/// afresh (what is kept names the file).
///
/// Each is boxed: a document holds one or two of them, and every document
/// of a large program carries the empty slots.
#[derive(Clone, Debug, Default)]
pub struct Memo {
    /// A card's scope ([`super::scope::CardScope::of_task`]).
    pub(crate) scope: std::sync::OnceLock<Box<super::scope::CardScope>>,
    /// The skill a ticket's `Owner Skill` or a card's `Skill` names, by
    /// the kind it was read as.
    pub(crate) skill: [std::sync::OnceLock<Option<Box<Spanned<Text>>>>; 2],
    /// A ticket's Expected Artifacts: each entry, and the code spans of
    /// the item and its sub-items.
    pub(crate) artifact_entries: std::sync::OnceLock<Box<[Spanned<Text>]>>,
    pub(crate) artifact_spans: std::sync::OnceLock<Box<[Spanned<Text>]>>,
}

impl Document {
    /// The document in `text`; its texts own their bytes.
    pub fn parse(file: FileId, text: &str) -> Document {
        Document::parse_in(file, text, None)
    }

    /// The document in `text`; its texts share `text` where they are
    /// exactly as written ([`Text`]), which a program keeps whole anyway.
    pub fn parse_shared(file: FileId, text: &ArcStr) -> Document {
        Document::parse_in(file, text, Some(text))
    }

    fn parse_in(file: FileId, text: &str, shared: Option<&ArcStr>) -> Document {
        let (front, body_start) = match frontmatter::split(text) {
            Split::Missing { body_start } => (Front::Missing, body_start),
            Split::Unclosed { open } => (Front::Unclosed(open), text.len()),
            Split::Found {
                yaml, body_start, ..
            } => (parse_front(text, yaml, shared), body_start),
        };
        let body = if body_start < text.len() {
            match shared {
                Some(file) => markdown::parse_shared(file, body_start),
                None => markdown::parse(&text[body_start..], body_start),
            }
        } else {
            Body::default()
        };
        let kind_text = match &front {
            Front::Map(fm) => fm.scalar("kind"),
            _ => None,
        };
        let kind = kind_text.as_ref().and_then(|k| Kind::parse(k.value.trim()));
        Document {
            file,
            front,
            body,
            kind_text,
            kind,
            body_start,
            memo: Memo::default(),
        }
    }

    /// The document after its file's text went from `old` to `new`: the
    /// edited table row alone parsed again when the edit lies inside one
    /// ([`Body::patch_row`]: a cell of the plan's backlog), else the whole
    /// text (sharing `new`). Either way, what [`Document::parse`] makes of
    /// `new`. A patched document's other texts still share the text they
    /// were parsed from (equal where they are; at most one older text per
    /// document stays alive, until its next full parse).
    pub fn edited(mut self, old: &str, new: &ArcStr) -> Document {
        let file = self.file;
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let room = a.len().min(b.len()) - prefix;
        let suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take(room)
            .take_while(|(x, y)| x == y)
            .count();
        let (old_end, new_end) = (a.len() - suffix, b.len() - suffix);
        if prefix < self.body_start
            || !new.is_char_boundary(prefix)
            || !new.is_char_boundary(new_end)
            || !self
                .body
                .patch_row(new, old_end, Span::new(prefix, new_end))
        {
            return Document::parse_shared(file, new);
        }
        self.memo = Memo::default();
        debug_assert_eq!(
            format!("{self:?}"),
            format!("{:?}", Document::parse(file, new)),
            "a patched row differs from a full parse"
        );
        self
    }

    /// The document as the file `id`: what it kept is dropped when the id
    /// changes.
    pub fn moved_to(&mut self, id: FileId) {
        if self.file != id {
            self.file = id;
            self.memo = Memo::default();
        }
    }

    pub fn front(&self) -> Option<&FrontMatter> {
        match &self.front {
            Front::Map(fm) => Some(fm),
            _ => None,
        }
    }

    /// The front matter's `id`, as text.
    pub fn id(&self) -> Option<Spanned<Text>> {
        self.front()?.scalar("id")
    }

    /// The span to blame for a document-level fact (missing section): the
    /// front matter when there is one, else the start of the file.
    pub fn anchor(&self) -> Span {
        match &self.front {
            Front::Map(fm) => fm.span,
            _ => Span::empty(0),
        }
    }

    /// Sections: each heading with the blocks up to the next heading.
    pub fn sections(&self) -> Vec<Section<'_>> {
        let blocks = &self.body.blocks;
        let mut out = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            if let BlockKind::Heading { level, text } = &b.kind {
                let end = blocks[i + 1..]
                    .iter()
                    .position(|b| matches!(b.kind, BlockKind::Heading { .. }))
                    .map_or(blocks.len(), |p| i + 1 + p);
                out.push(Section {
                    level: *level,
                    heading: text,
                    span: b.span,
                    blocks: &blocks[i + 1..end],
                });
            }
        }
        out
    }

    /// The first section whose heading matches `pred`.
    pub fn section(&self, pred: impl Fn(&str) -> bool) -> Option<Section<'_>> {
        self.sections()
            .into_iter()
            .find(|s| pred(s.heading.value.as_str()))
    }

    /// The section titled `<prefix>: <ID>` (e.g. `Dispatch Ticket: P1-UI-01`),
    /// with the ID and its span.
    pub fn titled(&self, prefix: &str) -> Option<(Section<'_>, Option<Spanned<Text>>)> {
        let section = self.section(|h| heading_prefix(h, prefix).is_some())?;
        let id = heading_prefix(&section.heading.value, prefix);
        let id = id.and_then(|id| {
            let raw_start = section.heading.span.start;
            // The ID is the heading's tail; find it in the heading's own text.
            let heading_len = section.heading.span.len();
            let off = section.heading.value.rfind(&id)?;
            let start = raw_start + off;
            (off + id.len() <= heading_len || heading_len == 0).then(|| {
                Spanned::new(
                    section.heading.value.slice(off..off + id.len()),
                    Span::new(start, start + id.len()),
                )
            })
        });
        Some((section, id))
    }
}

/// `Prefix: rest` (prefix matched case-insensitively) → the trimmed rest.
pub fn heading_prefix<'h>(heading: &'h str, prefix: &str) -> Option<&'h str> {
    let (head, rest) = heading.split_once(':')?;
    head.trim()
        .eq_ignore_ascii_case(prefix)
        .then(|| rest.trim())
}

fn parse_front(text: &str, yaml_span: Span, shared: Option<&ArcStr>) -> Front {
    let parsed = match shared {
        Some(file) => yaml::parse_shared(file, yaml_span),
        None => yaml::parse(&text[yaml_span.range()], yaml_span.start),
    };
    match parsed {
        Err(e) => Front::Invalid(e),
        Ok(Node {
            value: Value::Map(entries),
            ..
        }) => {
            let mut fm = FrontMatter {
                span: yaml_span,
                entries: Vec::with_capacity(entries.len()),
                ..FrontMatter::default()
            };
            for (k, v) in entries {
                match k.value {
                    Value::String(s) => fm.entries.push((Spanned::new(s, k.span), v)),
                    _ => fm.odd_keys.push(k.span),
                }
            }
            Front::Map(fm)
        }
        Ok(node) => Front::NotAMap(node.span),
    }
}

/// A heading and the blocks under it (up to the next heading of any level).
#[derive(Clone, Copy, Debug)]
pub struct Section<'d> {
    pub level: u8,
    pub heading: &'d Spanned<Text>,
    /// The heading line.
    pub span: Span,
    pub blocks: &'d [Block],
}

impl<'d> Section<'d> {
    /// The top-level list items of the section, all lists joined.
    pub fn items(&self) -> impl Iterator<Item = &'d Item> {
        self.blocks.iter().flat_map(|b| match &b.kind {
            BlockKind::List(items) => items.as_slice(),
            _ => &[],
        })
    }

    pub fn item(&self, label: &str) -> Option<&'d Item> {
        self.items().find(|i| {
            i.label
                .as_ref()
                .is_some_and(|l| l.value.trim().eq_ignore_ascii_case(label))
        })
    }

    pub fn table(&self) -> Option<&'d Table> {
        self.blocks.iter().find_map(|b| match &b.kind {
            BlockKind::Table(t) => Some(&**t),
            _ => None,
        })
    }
}

/// A table's columns found by header name.
#[derive(Clone, Debug)]
pub struct Columns {
    /// For each expected column, its index in the table.
    pub index: Vec<Option<usize>>,
}

impl Columns {
    pub fn find(table: &Table, expected: &[&str]) -> Columns {
        let index = expected
            .iter()
            .map(|name| {
                table
                    .header
                    .cells
                    .iter()
                    .position(|c| templates::same_label(&c.text, name))
            })
            .collect();
        Columns { index }
    }

    pub fn missing<'e>(&self, expected: &[&'e str]) -> Vec<&'e str> {
        expected
            .iter()
            .zip(&self.index)
            .filter(|(_, i)| i.is_none())
            .map(|(n, _)| *n)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::markdown::Item;
    use proptest::prelude::*;

    const PLAN: &str = "---\nkind: plan\nid: PLAN\n---\n\n## Goal\nShip it.\n\n## Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n| P1-A-01 | Write `a.rs` | development-implementer | - | Tests pass |\n| P1-A-02 | Esc \\| pipe | qa-test-engineer | P1-A-01 | *Done* |\r\n| P1-A-03 | Last | technical-writer | P1-A-01, P1-A-02 | ok |\n\n- Note: after the table\n  - Sub: `x`\n\n## Tail\n| a | b |\n|:-|-:|\n| 1 | 2 |";

    /// The plan after an edit: a few characters replaced anywhere, often
    /// inside a backlog row.
    fn edit() -> impl Strategy<Value = String> {
        let piece = prop::collection::vec(
            prop::sample::select(vec![
                "|", "`", "\\", " ", "[", "]", "*", "<", "x", "P", "-", "é", "\r", "\n", "#", ":",
                "  ", "``", "1.",
            ]),
            0..4,
        )
        .prop_map(|v| v.concat());
        (0..PLAN.len(), 0..4usize, piece).prop_map(|(at, len, with)| {
            let mut at = at;
            while !PLAN.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + len).min(PLAN.len());
            while !PLAN.is_char_boundary(end) {
                end += 1;
            }
            format!("{}{with}{}", &PLAN[..at], &PLAN[end..])
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// An edited document is what a full parse of its new text makes,
        /// whether a row was patched or the text parsed again.
        #[test]
        fn an_edited_document_is_a_parsed_one(new in edit()) {
            let doc = Document::parse(FileId(3), PLAN).edited(PLAN, &ArcStr::from(new.as_str()));
            prop_assert_eq!(
                format!("{doc:?}"),
                format!("{:?}", Document::parse(FileId(3), &new))
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// A document whose texts share its file reads exactly as one whose
        /// texts are copies, whatever the text.
        #[test]
        fn a_shared_parse_reads_as_an_owned_one(new in edit()) {
            prop_assert_eq!(
                format!("{:?}", Document::parse_shared(FileId(3), &ArcStr::from(new.as_str()))),
                format!("{:?}", Document::parse(FileId(3), &new))
            );
        }
    }

    /// Every document under `testdata/` and the bundled example reads the
    /// same shared and copied.
    #[test]
    fn the_fixtures_read_the_same_shared() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for dir in ["testdata", ".orchestrator.example"] {
            for entry in walkdir::WalkDir::new(root.join(dir)) {
                let entry = entry.unwrap();
                if entry.path().extension().is_none_or(|e| e != "md") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(entry.path()) else {
                    continue;
                };
                assert_eq!(
                    format!(
                        "{:?}",
                        Document::parse_shared(FileId(0), &ArcStr::from(text.as_str()))
                    ),
                    format!("{:?}", Document::parse(FileId(0), &text)),
                    "{}",
                    entry.path().display()
                );
                seen += 1;
            }
        }
        assert!(seen > 100, "only {seen} documents");
    }

    /// What a card, a ticket and a plan row say as written is a slice of
    /// the file, not a copy: labels, plain values, a value that is one
    /// code span, code spans, cells, front matter keys and plain scalars.
    /// Only text that reads differently from the file (a value with several
    /// code spans loses their backticks) is copied.
    #[test]
    fn texts_as_written_share_the_file() {
        let text = ArcStr::from(
            "---\nkind: card\nid: P1-A-01\n---\n\n## Codex Execution Card: P1-A-01\n- Skill: development-implementer\n- Allowed Scope:\n  - Files/paths: `src/a/**`\n- Commands to run: `cargo test`, `cargo fmt`\n\n| Branch ID | Objective |\n|---|---|\n| `P1-A-01` | Write it |\n",
        );
        let doc = Document::parse_shared(FileId(0), &text);
        let fm = doc.front().unwrap();
        assert!(fm.entries.iter().all(|(k, _)| k.value.is_slice_of(&text)));
        let Some(Value::String(id)) = fm.get("id").map(|n| &n.value) else {
            panic!("no id");
        };
        assert!(id.is_slice_of(&text));
        assert!(doc.kind_text.as_ref().unwrap().value.is_slice_of(&text));
        let items: Vec<&Item> = doc
            .body
            .blocks
            .iter()
            .filter_map(|b| match &b.kind {
                BlockKind::List(items) => Some(items),
                _ => None,
            })
            .flatten()
            .flat_map(|i| std::iter::once(i).chain(i.children.iter()))
            .collect();
        assert_eq!(items.len(), 4);
        for item in &items {
            assert!(item.label.as_ref().unwrap().value.is_slice_of(&text));
            assert!(item.code.iter().all(|c| c.value.is_slice_of(&text)));
        }
        assert!(items[0].value.value.is_slice_of(&text), "a plain value");
        assert_eq!(items[2].value.value, "src/a/**");
        assert!(items[2].value.value.is_slice_of(&text), "one code span");
        assert_eq!(items[3].value.value, "cargo test, cargo fmt");
        assert!(
            !items[3].value.value.is_slice_of(&text),
            "reads differently"
        );
        let table = doc.body.blocks.iter().find_map(|b| match &b.kind {
            BlockKind::Table(t) => Some(t),
            _ => None,
        });
        let row = &table.unwrap().rows[0];
        assert_eq!(row.cells[0].text, "P1-A-01");
        assert!(row.cells.iter().all(|c| c.text.is_slice_of(&text)));
        // Parsed without a file to share, every text is a copy.
        let owned = Document::parse(FileId(0), &text);
        assert!(!owned.front().unwrap().entries[0].0.value.is_slice_of(&text));
    }

    /// One-character edits inside backlog cells take the patch, and end
    /// where a full parse does.
    #[test]
    fn a_cell_edit_patches_its_row() {
        let doc = Document::parse(FileId(1), PLAN);
        let mut patched = 0;
        for (i, c) in PLAN.char_indices() {
            let line_start = PLAN[..i].rfind('\n').map_or(0, |n| n + 1);
            if !PLAN[line_start..].starts_with("| P1-") || c == '\n' {
                continue;
            }
            for with in ["X", "|", "`", "", "ab", "| ", "  ", "\\", "\\|"] {
                let new = format!("{}{with}{}", &PLAN[..i], &PLAN[i + c.len_utf8()..]);
                let (p, s) = (i, PLAN.len() - i - c.len_utf8());
                let mut body = doc.body.clone();
                if body.patch_row(&new, PLAN.len() - s, Span::new(p, new.len() - s)) {
                    patched += 1;
                }
                let edited = doc.clone().edited(PLAN, &ArcStr::from(new.as_str()));
                assert_eq!(
                    format!("{edited:?}"),
                    format!("{:?}", Document::parse(FileId(1), &new)),
                    "{i} {with:?}"
                );
            }
        }
        assert!(patched > 500, "only {patched} edits patched");
    }
}
