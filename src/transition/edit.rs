//! Text edits that keep everything the user wrote: a value replaced by its
//! byte range, a table row inserted after a line, never a re-rendering.

use crate::error::{Error, Result};
use crate::source::Span;

/// Non-overlapping replacements on one text, applied together.
#[derive(Clone, Debug, Default)]
pub struct Edits {
    edits: Vec<(Span, String)>,
}

impl Edits {
    pub fn new() -> Edits {
        Edits::default()
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Replace the text of `span`.
    pub fn replace(&mut self, span: Span, with: impl Into<String>) {
        self.edits.push((span, with.into()));
    }

    /// Insert text at a byte offset. Insertions at one offset keep the order
    /// they were made in.
    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.edits.push((Span::empty(at), text.into()));
    }

    /// The edited text. Overlapping edits or spans off the text are a bug in
    /// the caller and refused rather than guessed at.
    pub fn apply(&self, text: &str) -> Result<String> {
        let mut edits: Vec<(usize, &(Span, String))> = self.edits.iter().enumerate().collect();
        edits.sort_by_key(|(i, (span, _))| (span.start, span.end, *i));
        let mut out = String::with_capacity(text.len() + 256);
        let mut at = 0;
        for (_, (span, with)) in edits {
            let ok = span.start >= at
                && span.end <= text.len()
                && text.is_char_boundary(span.start)
                && text.is_char_boundary(span.end);
            if !ok {
                return Err(Error::usage(format!(
                    "internal error: overlapping or out-of-range edit at bytes {}..{}",
                    span.start, span.end
                )));
            }
            out.push_str(&text[at..span.start]);
            out.push_str(with);
            at = span.end;
        }
        out.push_str(&text[at..]);
        Ok(out)
    }
}

/// The file's line ending: CRLF when it uses one, else LF.
pub fn eol(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// Where to insert a new line after the line holding byte `pos`: the offset
/// after that line's end, and whether a line ending must come first (the
/// file ends without one).
pub fn after_line(text: &str, pos: usize) -> (usize, bool) {
    let pos = pos.min(text.len());
    match text[pos..].find('\n') {
        Some(i) => (pos + i + 1, false),
        None => (text.len(), true),
    }
}

/// A table row inserted after the line holding `pos`, in the file's line
/// ending.
pub fn insert_line_after(edits: &mut Edits, text: &str, pos: usize, line: &str) {
    let eol = eol(text);
    let (at, lead) = after_line(text, pos);
    if lead {
        edits.insert(at, format!("{eol}{line}"));
    } else {
        edits.insert(at, format!("{line}{eol}"));
    }
}

/// One cell's text: on one line, `|` escaped, trimmed; an empty cell is `-`
/// only where the caller wants it.
pub fn cell(text: &str) -> String {
    let one_line: String = text
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = String::with_capacity(one_line.len());
    let mut prev_backslash = false;
    for c in one_line.chars() {
        if c == '|' && !prev_backslash {
            out.push('\\');
        }
        prev_backslash = c == '\\' && !prev_backslash;
        out.push(c);
    }
    out
}

/// `| a | b | c |`.
pub fn row(cells: &[String]) -> String {
    let mut out = String::from("|");
    for c in cells {
        if c.is_empty() {
            out.push_str(" |");
        } else {
            out.push(' ');
            out.push_str(c);
            out.push_str(" |");
        }
    }
    out
}

/// Replace a YAML scalar's text at `span` by `value`, keeping its quotes.
/// `expected` is the value as parsed; a span whose text does not hold it is
/// refused rather than written blindly.
pub fn set_scalar(
    edits: &mut Edits,
    text: &str,
    span: Span,
    expected: &str,
    value: &str,
) -> Result<()> {
    let raw = text.get(span.start..span.end).unwrap_or("");
    let quoted = raw.len() >= 2
        && ((raw.starts_with('"') && raw.ends_with('"'))
            || (raw.starts_with('\'') && raw.ends_with('\'')));
    let inner = if quoted { &raw[1..raw.len() - 1] } else { raw };
    if inner.trim() != expected.trim() {
        return Err(Error::usage(format!(
            "cannot edit the value `{expected}` in place: the file's text there is `{raw}`; edit it by hand"
        )));
    }
    let start = span.start + if quoted { 1 } else { 0 };
    let lead = inner.len() - inner.trim_start().len();
    let trail = inner.len() - inner.trim_end().len();
    edits.replace(
        Span::new(start + lead, start + inner.len() - trail),
        value.to_string(),
    );
    Ok(())
}

/// Add `id` to a Dependencies cell: replaces a none marker or empty cell,
/// else appends `, id` after the cell's text.
pub fn add_dependency(edits: &mut Edits, text: &str, span: Span, cell_text: &str, id: &str) {
    let raw = text.get(span.start..span.end).unwrap_or("");
    if cell_text.trim().is_empty() || crate::model::templates::is_none_marker(cell_text) {
        if raw.trim().is_empty() {
            edits.replace(span, format!(" {id} "));
        } else {
            edits.replace(span, id.to_string());
        }
    } else {
        edits.insert(span.end, format!(", {id}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_and_refuse_overlaps() {
        let mut e = Edits::new();
        e.insert(5, "X");
        e.replace(Span::new(0, 1), "A");
        e.insert(5, "Y");
        assert_eq!(e.apply("abcdefg").unwrap(), "AbcdeXYfg");
        let mut bad = Edits::new();
        bad.replace(Span::new(0, 3), "");
        bad.replace(Span::new(2, 4), "");
        assert!(bad.apply("abcdef").is_err());
    }

    #[test]
    fn cells_escape_pipes_and_join_lines() {
        assert_eq!(cell(" a | b\nc "), "a \\| b c");
        assert_eq!(cell("a \\| b"), "a \\| b");
        assert_eq!(row(&["a".into(), String::new()]), "| a | |");
    }

    #[test]
    fn lines_are_inserted_with_the_files_ending() {
        let text = "| a |\r\n| b |";
        let mut e = Edits::new();
        insert_line_after(&mut e, text, 0, "| x |");
        assert_eq!(e.apply(text).unwrap(), "| a |\r\n| x |\r\n| b |");
        let mut e = Edits::new();
        insert_line_after(&mut e, text, 8, "| y |");
        assert_eq!(e.apply(text).unwrap(), "| a |\r\n| b |\r\n| y |");
    }

    #[test]
    fn scalars_keep_quotes() {
        let text = "status: \"todo\" # note\n";
        let mut e = Edits::new();
        set_scalar(&mut e, text, Span::new(8, 14), "todo", "in_progress").unwrap();
        assert_eq!(e.apply(text).unwrap(), "status: \"in_progress\" # note\n");
        let mut e = Edits::new();
        assert!(set_scalar(&mut e, text, Span::new(0, 6), "todo", "x").is_err());
    }

    #[test]
    fn dependencies_replace_none_or_append() {
        let text = "| - | A |";
        let mut e = Edits::new();
        add_dependency(&mut e, text, Span::new(2, 3), "-", "X");
        assert_eq!(e.apply(text).unwrap(), "| X | A |");
        let mut e = Edits::new();
        add_dependency(&mut e, text, Span::new(6, 7), "A", "X");
        assert_eq!(e.apply(text).unwrap(), "| - | A, X |");
    }
}
