//! Positions as LSP counts them. A position is a line and a column; lines
//! end at `\n`, `\r\n` or a lone `\r` (as [`crate::source::line_starts`]
//! counts them), and the column counts UTF-16 code units unless the client
//! and server agreed on UTF-8 bytes or UTF-32 characters. Every conversion
//! is total: a position past the end of its line lands at the line's end,
//! past the last line at the end of the text, inside a character (half of a
//! surrogate pair, the middle of a UTF-8 sequence) at that character's
//! start, so no edit a client sends can split a character.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

use crate::source::Span;

/// How a position's column counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    /// The units of one character.
    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf32 => 1,
        }
    }

    pub fn kind(self) -> lsp_types::PositionEncodingKind {
        match self {
            Encoding::Utf8 => lsp_types::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp_types::PositionEncodingKind::UTF16,
            Encoding::Utf32 => lsp_types::PositionEncodingKind::UTF32,
        }
    }
}

/// A text with its line starts, for converting offsets and positions.
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
    encoding: Encoding,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str, encoding: Encoding) -> Lines<'t> {
        Lines {
            text,
            starts: crate::source::line_starts(text),
            encoding,
        }
    }

    /// Where line `i`'s text ends (before its line break).
    fn content_end(&self, i: usize) -> usize {
        let Some(&next) = self.starts.get(i + 1) else {
            // The last line has no break.
            return self.text.len();
        };
        let bytes = self.text.as_bytes();
        if bytes[next - 1] == b'\n' && next >= 2 + self.starts[i] && bytes[next - 2] == b'\r' {
            next - 2
        } else {
            next - 1
        }
    }

    /// The byte offset of a position.
    pub fn offset(&self, pos: Position) -> usize {
        let line = pos.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return self.text.len();
        };
        let end = self.content_end(line);
        let want = pos.character as usize;
        let mut units = 0;
        for (i, c) in self.text[start..end].char_indices() {
            let w = self.encoding.width(c);
            if units + w > want {
                return start + i;
            }
            units += w;
        }
        end
    }

    /// The position of a byte offset (clamped into the text, onto a
    /// character boundary and before its line's break).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let offset = offset.min(self.content_end(line)).max(start);
        let character: usize = self.text[start..offset]
            .chars()
            .map(|c| self.encoding.width(c))
            .sum();
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    pub fn span(&self, range: Range) -> Span {
        let (a, b) = (self.offset(range.start), self.offset(range.end));
        Span::new(a.min(b), a.max(b))
    }
}

/// Apply a client's content change to the text: a range replaced, or the
/// whole text when the change has no range.
pub fn apply(text: &mut String, change: TextDocumentContentChangeEvent, encoding: Encoding) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let span = Lines::new(text, encoding).span(range);
            text.replace_range(span.start..span.end, &change.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn utf16_counts_surrogate_pairs_as_two() {
        // `é` is 2 bytes, 1 UTF-16 unit; `𝄞` 4 bytes, 2 units.
        let text = "aé𝄞b\r\nx";
        let l = Lines::new(text, Encoding::Utf16);
        assert_eq!(l.offset(pos(0, 0)), 0);
        assert_eq!(l.offset(pos(0, 2)), 3);
        assert_eq!(l.offset(pos(0, 4)), 7);
        assert_eq!(l.offset(pos(0, 5)), 8);
        // Inside the surrogate pair: the character's start.
        assert_eq!(l.offset(pos(0, 3)), 3);
        // Past the line's end: before `\r\n`.
        assert_eq!(l.offset(pos(0, 99)), 8);
        assert_eq!(l.offset(pos(1, 1)), 11);
        assert_eq!(l.offset(pos(7, 0)), text.len());
        assert_eq!(l.position(7), pos(0, 4));
        assert_eq!(l.position(8), pos(0, 5));
        // Between `\r` and `\n`: the line's end.
        assert_eq!(l.position(9), pos(0, 5));
        assert_eq!(l.position(10), pos(1, 0));
        // Inside `é`: its start.
        assert_eq!(l.position(2), pos(0, 1));
    }

    #[test]
    fn utf8_and_utf32_columns() {
        let text = "aé𝄞b";
        let l8 = Lines::new(text, Encoding::Utf8);
        assert_eq!(l8.offset(pos(0, 3)), 3);
        assert_eq!(l8.offset(pos(0, 5)), 3);
        assert_eq!(l8.position(7), pos(0, 7));
        let l32 = Lines::new(text, Encoding::Utf32);
        assert_eq!(l32.offset(pos(0, 3)), 7);
        assert_eq!(l32.position(7), pos(0, 3));
    }

    #[test]
    fn a_lone_cr_ends_a_line() {
        let l = Lines::new("a\rb", Encoding::Utf16);
        assert_eq!(l.position(2), pos(1, 0));
        assert_eq!(l.offset(pos(0, 5)), 1);
        assert_eq!(l.offset(pos(1, 1)), 3);
    }

    #[test]
    fn changes_apply_in_place() {
        let mut text = "id: P1-UI-01\r\nstatus: todo\r\n".to_string();
        let change = |r: Option<Range>, t: &str| TextDocumentContentChangeEvent {
            range: r,
            range_length: None,
            text: t.to_string(),
        };
        apply(
            &mut text,
            change(Some(Range::new(pos(1, 8), pos(1, 12))), "doné"),
            Encoding::Utf16,
        );
        assert_eq!(text, "id: P1-UI-01\r\nstatus: doné\r\n");
        apply(
            &mut text,
            change(Some(Range::new(pos(1, 12), pos(1, 11))), ""),
            Encoding::Utf16,
        );
        assert_eq!(text, "id: P1-UI-01\r\nstatus: don\r\n");
        apply(&mut text, change(None, "x"), Encoding::Utf16);
        assert_eq!(text, "x");
    }
}
