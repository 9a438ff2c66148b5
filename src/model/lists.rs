//! Lists people write in a field or a cell, read completely: the globs of a
//! card's `Files/paths` and `Prohibited areas`, the paths of a ticket's
//! `Expected Artifacts`, and the task IDs of a backlog row's Dependencies.
//!
//! People write these lists many ways: in code spans or not, separated by
//! commas, semicolons, `and` or spaces, one per sub-item, with a remark in
//! between. Each reader returns every entry with the span of its text, and
//! every piece of text it could not read as an entry (a remark such as
//! `except the tests` or `(after review)`), so that nothing is silently
//! dropped: the rules report what was not read.
//!
//! Entries are read from the source text, not from the rendered Markdown:
//! `src/**/x.rs` written without a code span would otherwise lose its `**`
//! to emphasis.

use crate::parse::markdown::{Cell, Item};
use crate::source::{Span, Spanned, Text};

use super::templates::{is_none_marker, is_placeholder};

/// What a list-valued field holds.
#[derive(Clone, Debug, Default)]
pub struct Listed {
    /// The entries, in the order written, each with its span.
    pub entries: Vec<Spanned<Text>>,
    /// Text that is not an entry (a remark), with its span.
    pub prose: Vec<Spanned<Text>>,
    /// The field says "nothing" (`none`, `-`, `n/a`).
    pub none: bool,
    /// The field is empty, or only a placeholder (`<...>`, TBD):
    /// `field-empty` reports it.
    pub empty: bool,
}

/// A piece of a value's source text: an inline code span's content, or a
/// run of plain text between separators.
#[derive(Clone, Debug)]
struct Piece {
    text: Text,
    span: Span,
    code: bool,
}

/// Does this character separate list entries in plain text?
fn entry_separator(c: char) -> bool {
    c == ',' || c == ';'
}

/// Where the code spans of `region` lie, delimiters included, in file
/// offsets, sorted.
fn code_regions<'c>(
    text: &str,
    code: &'c [Spanned<Text>],
    region: Span,
) -> Vec<(Span, &'c Spanned<Text>)> {
    let bytes = text.as_bytes();
    let mut out: Vec<(Span, &Spanned<Text>)> = code
        .iter()
        .filter(|c| c.span.start >= region.start && c.span.end <= region.end)
        .map(|c| {
            let mut s = c.span.start;
            let mut e = c.span.end;
            // A padded code span (`` ` a ` ``) keeps one space inside.
            if s > region.start && bytes.get(s - 1) == Some(&b' ') {
                s -= 1;
            }
            if bytes.get(e) == Some(&b' ') && bytes.get(e + 1) == Some(&b'`') {
                e += 1;
            }
            while s > region.start && bytes.get(s - 1) == Some(&b'`') {
                s -= 1;
            }
            while e < region.end && bytes.get(e) == Some(&b'`') {
                e += 1;
            }
            (Span::new(s, e), c)
        })
        .collect();
    out.sort_by_key(|(s, _)| s.start);
    out
}

/// Split `region` of `text` into code pieces and plain pieces, each plain
/// piece a stretch between entry separators (`,` `;`) or code spans.
fn pieces(text: &str, code: &[Spanned<Text>], region: Span) -> Vec<Piece> {
    let region = Span::new(region.start.min(text.len()), region.end.min(text.len()));
    let codes = code_regions(text, code, region);
    let mut out = Vec::new();
    let plain = |from: usize, to: usize, out: &mut Vec<Piece>| {
        let mut start = from;
        let raw = &text[from..to];
        for (i, c) in raw.char_indices().chain(std::iter::once((raw.len(), ','))) {
            if !entry_separator(c) {
                continue;
            }
            let piece = &text[start..from + i];
            let lead = piece.len() - piece.trim_start().len();
            let trimmed = piece.trim();
            if !trimmed.is_empty() {
                let s = start + lead;
                out.push(Piece {
                    text: trimmed.into(),
                    span: Span::new(s, s + trimmed.len()),
                    code: false,
                });
            }
            start = from + i + 1;
        }
    };
    let mut at = region.start;
    for (span, content) in codes {
        if span.start < at {
            continue;
        }
        plain(at, span.start, &mut out);
        out.push(Piece {
            text: content.value.clone(),
            span: content.span,
            code: true,
        });
        at = span.end;
    }
    plain(at, region.end, &mut out);
    out
}

/// Remove Markdown backslash escapes (`src/\*\*` -> `src/**`).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && n.is_ascii_punctuation()
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// Could this word, written without a code span, be a path or a glob?
fn path_like(word: &str) -> bool {
    !word.contains(['(', ')', '`', '"', '\''])
        && (word.contains(['/', '*', '?', '['])
            || word.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty()
                    && !ext.is_empty()
                    && ext.bytes().all(|b| b.is_ascii_alphanumeric())
            }))
}

/// The words of a plain piece, each with its span, `and` dropped.
fn words(piece: &Piece) -> Vec<Spanned<Text>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for word in piece.text.split_whitespace() {
        let at = piece.text[offset..]
            .find(word)
            .map_or(offset, |i| offset + i);
        offset = at + word.len();
        if word.eq_ignore_ascii_case("and") {
            continue;
        }
        let s = piece.span.start + at;
        out.push(Spanned::new(
            piece.text.slice(at..at + word.len()),
            Span::new(s, s + word.len()),
        ));
    }
    out
}

/// Punctuation alone (a full stop after the last entry, a colon).
fn only_punctuation(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '.' | ':' | '…' | '*' | '_'))
}

/// Read one value region (an item's own text) as paths.
fn read_paths_in(text: &str, code: &[Spanned<Text>], region: Span, out: &mut Listed) {
    for piece in pieces(text, code, region) {
        if piece.code {
            // One code span may still list several: `a/**, b/**`.
            let value = Spanned::new(piece.text.clone(), piece.span);
            for entry in split_listed(&value) {
                out.entries.push(entry);
            }
            continue;
        }
        if only_punctuation(&piece.text) {
            continue;
        }
        let ws = words(&piece);
        if ws.is_empty() {
            continue;
        }
        let single = ws.len() == 1 && !piece.text.contains(char::is_whitespace);
        if single && !ws[0].value.contains(['(', ')']) || ws.iter().all(|w| path_like(&w.value)) {
            for w in ws {
                let value = w.value.trim_end_matches(['.', ':']).to_string();
                if value.is_empty() {
                    continue;
                }
                let span = Span::new(w.span.start, w.span.start + value.len());
                out.entries
                    .push(Spanned::new(unescape(&value).into(), span));
            }
        } else {
            out.prose.push(Spanned::new(piece.text.clone(), piece.span));
        }
    }
}

/// A code span's content split on `, ` and `; ` (a comma without a space
/// is a glob's `{a,b}`).
fn split_listed(value: &Spanned<Text>) -> Vec<Spanned<Text>> {
    let text = &value.value;
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i <= bytes.len() {
        let end = i == bytes.len();
        let sep = !end
            && matches!(bytes[i], b',' | b';')
            && bytes.get(i + 1).is_some_and(|b| b.is_ascii_whitespace());
        if end || sep {
            let piece = &text[start..i];
            let lead = piece.len() - piece.trim_start().len();
            let t = piece.trim();
            if !t.is_empty() {
                let s = value.span.start + start + lead;
                out.push(Spanned::new(
                    text.slice(start + lead..start + lead + t.len()),
                    Span::new(s, s + t.len()),
                ));
            }
            start = i + 1;
        }
        i += 1;
    }
    out
}

/// Read a list-of-paths field (`Files/paths`, `Prohibited areas`,
/// `Expected Artifacts`): code spans, plain comma-separated paths, and
/// sub-items (one or more paths each). `text` is the whole file.
pub fn read_paths(item: &Item, text: &str) -> Listed {
    let mut out = Listed::default();
    let own = item.value.value.trim();
    if item.children.is_empty() {
        if item.code.is_empty() && is_none_marker(own) {
            out.none = true;
            return out;
        }
        if item.code.is_empty() && is_placeholder(own) {
            out.empty = true;
            return out;
        }
    }
    if !(item.code.is_empty() && (is_placeholder(own) || is_none_marker(own))) {
        read_paths_in(text, &item.code, item.value.span, &mut out);
    }
    for child in &item.children {
        read_child(child, text, &mut out);
    }
    if item
        .children
        .iter()
        .all(|c| c.code.is_empty() && c.label.is_none() && is_none_marker(&c.value.value))
        && !item.children.is_empty()
        && out.entries.is_empty()
        && out.prose.is_empty()
    {
        out.none = true;
    }
    out
}

/// One sub-item of a list of paths: its own text (a label is a remark, not
/// a path), then its sub-items.
fn read_child(child: &Item, text: &str, out: &mut Listed) {
    if let Some(label) = &child.label {
        // `- tests: `tests/**`` - the label says something orch cannot read.
        let end = child.value.span.start.max(label.span.end);
        let colon = text[label.span.end.min(text.len())..end.min(text.len())]
            .find(':')
            .map_or(label.span.end, |i| label.span.end + i + 1);
        out.prose.push(Spanned::new(
            format!("{}:", label.value.trim()).into(),
            Span::new(label.span.start, colon),
        ));
    }
    let own = child.value.value.trim();
    if !(child.code.is_empty() && (own.is_empty() || is_none_marker(own))) {
        read_paths_in(text, &child.code, child.value.span, out);
    }
    for grandchild in &child.children {
        read_child(grandchild, text, out);
    }
}

/// What a Dependencies cell holds.
#[derive(Clone, Debug, Default)]
pub struct Deps {
    /// Every ID-shaped entry: task IDs, and entries that look like IDs but
    /// name no task (`dep-unknown`) or break the syntax (`id-invalid`).
    pub ids: Vec<Spanned<Text>>,
    /// Text that is not an ID (`(after review)`, `once Dana signs off`).
    pub prose: Vec<Spanned<Text>>,
}

/// Read a Dependencies cell: IDs in code spans or not, separated by commas,
/// semicolons, `and` or spaces; `-`, `—`, `none` or an empty cell mean none.
/// A word is an ID when it names a task (`is_task`) or holds a digit (an ID
/// that names no task is then `dep-unknown`, not a remark); other words, and
/// anything in parentheses, are prose. `text` is the whole file.
pub fn read_deps(cell: &Cell, text: &str, is_task: &dyn Fn(&str) -> bool) -> Deps {
    let mut out = Deps::default();
    if cell.code.is_empty() && (cell.text.trim().is_empty() || is_none_marker(&cell.text)) {
        return out;
    }
    // Words and parenthesised groups, in order: (text, span, is_code).
    let mut tokens: Vec<(String, Span, bool)> = Vec::new();
    for piece in pieces(text, &cell.code, cell.span) {
        if piece.code {
            let mut at = 0;
            for w in piece.text.split([',', ';', ' ', '\t']) {
                let s = piece.span.start + at;
                at += w.len() + 1;
                if w.is_empty() || w.eq_ignore_ascii_case("and") {
                    continue;
                }
                tokens.push((w.to_string(), Span::new(s, s + w.len()), true));
            }
            continue;
        }
        // Parenthesised groups are one token each, whatever they hold.
        let raw = &piece.text;
        let mut i = 0;
        let bytes = raw.as_bytes();
        while i < bytes.len() {
            if bytes[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            if bytes[i] == b'(' {
                let mut depth = 0;
                while i < bytes.len() {
                    match bytes[i] {
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            } else {
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
            let word = &raw[start..i];
            if word.eq_ignore_ascii_case("and") {
                continue;
            }
            let s = piece.span.start + start;
            tokens.push((word.to_string(), Span::new(s, s + word.len()), false));
        }
    }
    let mut run: Option<Span> = None;
    let flush = |run: &mut Option<Span>, out: &mut Deps| {
        if let Some(span) = run.take() {
            out.prose
                .push(Spanned::new(text[span.start..span.end].into(), span));
        }
    };
    for (word, span, code) in tokens {
        if !code && is_none_marker(&word) {
            continue;
        }
        let id = if is_task(&word) {
            Some(word.clone())
        } else if let Some(stripped) = word.strip_suffix(['.', ':'])
            && is_task(stripped)
        {
            Some(stripped.to_string())
        } else if code || (word.bytes().any(|b| b.is_ascii_digit()) && !word.starts_with('(')) {
            Some(word.clone())
        } else {
            None
        };
        match id {
            Some(id) => {
                flush(&mut run, &mut out);
                let span = Span::new(span.start, span.start + id.len());
                out.ids.push(Spanned::new(id.into(), span));
            }
            None => run = Some(run.map_or(span, |r| r.cover(span))),
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::markdown::{BlockKind, parse};

    fn first_item(src: &str) -> Item {
        let body = parse(src, 0);
        for b in body.blocks {
            if let BlockKind::List(items) = b.kind {
                return items.into_iter().next().expect("an item");
            }
        }
        panic!("no list in {src:?}")
    }

    fn paths(src: &str) -> (Vec<String>, Vec<String>, bool) {
        let item = first_item(src);
        let l = read_paths(&item, src);
        for e in &l.entries {
            // Every span points at the text it came from (escapes aside).
            assert_eq!(
                unescape(&src[e.span.start..e.span.end]),
                e.value.as_str(),
                "span of {e:?}"
            );
        }
        for p in &l.prose {
            assert_eq!(&src[p.span.start..p.span.end], p.value, "span of {p:?}");
        }
        (
            l.entries.into_iter().map(|e| e.value.into()).collect(),
            l.prose.into_iter().map(|e| e.value.into()).collect(),
            l.none,
        )
    }

    #[test]
    fn code_spans_and_plain_paths() {
        let (e, p, _) = paths("- Files/paths: `src/ui/**`, `tests/ui/**`\n");
        assert_eq!(e, ["src/ui/**", "tests/ui/**"]);
        assert!(p.is_empty());
        let (e, p, _) = paths("- Files/paths: src/ui/**, tests/ui.rs; docs\n");
        assert_eq!(e, ["src/ui/**", "tests/ui.rs", "docs"]);
        assert!(p.is_empty());
        let (e, _, _) = paths("- Files/paths: `src/a/**` and `src/b.rs`.\n");
        assert_eq!(e, ["src/a/**", "src/b.rs"]);
        let (e, _, _) = paths("- Files/paths: `src/a/**, src/{b,c}.rs`\n");
        assert_eq!(e, ["src/a/**", "src/{b,c}.rs"]);
        let (e, _, _) = paths("- Files/paths: src/\\*\\*/x.rs\n");
        assert_eq!(e, ["src/**/x.rs"]);
    }

    #[test]
    fn prose_is_kept_with_its_span() {
        let (e, p, _) = paths("- Prohibited areas: `src/core/**` except the tests\n");
        assert_eq!(e, ["src/core/**"]);
        assert_eq!(p, ["except the tests"]);
        let (e, p, _) = paths("- Files/paths: the CLI module, `tests/**`\n");
        assert_eq!(e, ["tests/**"]);
        assert_eq!(p, ["the CLI module"]);
        let (_, p, _) = paths("- Files/paths: `src/a` (the CLI)\n");
        assert_eq!(p, ["(the CLI)"]);
    }

    #[test]
    fn nested_lists_are_read() {
        let src = "- Files/paths:\n  - `src/cli/**`\n  - src/config.rs\n  - `tests/cli/**` (new)\n  - tests: `tests/x/**`\n";
        let (e, p, none) = paths(src);
        assert_eq!(
            e,
            ["src/cli/**", "src/config.rs", "tests/cli/**", "tests/x/**"]
        );
        assert_eq!(p, ["(new)", "tests:"]);
        assert!(!none);
    }

    #[test]
    fn none_and_placeholders() {
        assert!(paths("- Prohibited areas: none\n").2);
        assert!(paths("- Prohibited areas:\n  - none\n").2);
        let item = first_item("- Files/paths: <globs>\n");
        assert!(read_paths(&item, "- Files/paths: <globs>\n").empty);
    }

    fn deps(cell: &str, tasks: &[&str]) -> (Vec<String>, Vec<String>) {
        let src = format!("| A | Dependencies |\n|---|---|\n| x | {cell} |\n");
        let body = parse(&src, 0);
        let BlockKind::Table(t) = &body.blocks[0].kind else {
            panic!("table")
        };
        let d = read_deps(&t.rows[0].cells[1], &src, &|id| tasks.contains(&id));
        for e in d.ids.iter().chain(&d.prose) {
            assert_eq!(&src[e.span.start..e.span.end], e.value, "span of {e:?}");
        }
        (
            d.ids.into_iter().map(|e| e.value.into()).collect(),
            d.prose.into_iter().map(|e| e.value.into()).collect(),
        )
    }

    #[test]
    fn dependencies_every_separator() {
        let t = ["P1-A-01", "P1-A-02", "P1-A-03", "setup"];
        for cell in [
            "P1-A-01, P1-A-02, P1-A-03",
            "P1-A-01; P1-A-02; P1-A-03",
            "P1-A-01 and P1-A-02 and P1-A-03",
            "P1-A-01 P1-A-02 P1-A-03",
            "`P1-A-01`, `P1-A-02` and `P1-A-03`",
            "`P1-A-01` `P1-A-02`, P1-A-03.",
        ] {
            assert_eq!(
                deps(cell, &t),
                (
                    vec!["P1-A-01".into(), "P1-A-02".into(), "P1-A-03".into()],
                    vec![]
                ),
                "{cell}"
            );
        }
        assert_eq!(deps("-", &t), (vec![], vec![]));
        assert_eq!(deps("none", &t), (vec![], vec![]));
        assert_eq!(deps("setup", &t), (vec!["setup".into()], vec![]));
    }

    #[test]
    fn dependency_prose_is_reported_not_dropped() {
        let t = ["P1-A-01", "P1-A-02"];
        assert_eq!(
            deps("P1-A-01 (after review)", &t),
            (vec!["P1-A-01".into()], vec!["(after review)".into()])
        );
        assert_eq!(
            deps("P1-A-01 once Dana signs off", &t),
            (vec!["P1-A-01".into()], vec!["once Dana signs off".into()])
        );
        // ID-shaped words that name no task stay IDs (dep-unknown says so).
        assert_eq!(deps("P1-A-07", &t), (vec!["P1-A-07".into()], vec![]));
        assert_eq!(
            deps("P1-A-01/P1-A-02", &t),
            (vec!["P1-A-01/P1-A-02".into()], vec![])
        );
    }
}
