//! Source files and byte spans: the text every diagnostic points into.
//!
//! A [`Span`] is a half-open byte range into one [`SourceFile`]. Spans are
//! produced by the parsers and may be computed from positions that another
//! library reported, so every consumer goes through [`SourceFile::clamp`],
//! which keeps a span inside the text and on character boundaries.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A half-open byte range `[start, end)` into a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Span {
        if end < start {
            Span { start, end: start }
        } else {
            Span { start, end }
        }
    }

    pub const fn empty(at: usize) -> Span {
        Span { start: at, end: at }
    }

    pub const fn len(self) -> usize {
        self.end - self.start
    }

    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// This span moved right by `by` bytes.
    pub const fn shift(self, by: usize) -> Span {
        Span {
            start: self.start + by,
            end: self.end + by,
        }
    }

    pub const fn contains(self, offset: usize) -> bool {
        self.start <= offset && offset < self.end
    }
}

/// A value together with the span of the text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub const fn new(value: T, span: Span) -> Spanned<T> {
        Spanned { value, span }
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// Index of a file in a [`crate::model::Program`]'s file table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// One file's text, its display path and a line index.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the work tree's top, with `/` separators.
    pub path: String,
    /// Where the file is on disk.
    pub abs_path: PathBuf,
    pub text: Arc<str>,
    /// Built on first use: most files never have a line number asked for.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: String, abs_path: PathBuf, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            path,
            abs_path,
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    pub fn abs_path(&self) -> &Path {
        &self.abs_path
    }

    /// Byte offset at which 1-based `line` starts, if the line exists.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts().get(line.checked_sub(1)?).copied()
    }

    pub fn line_count(&self) -> usize {
        self.starts().len()
    }

    /// The span forced inside the text and onto character boundaries.
    pub fn clamp(&self, span: Span) -> Span {
        let len = self.text.len();
        let mut start = span.start.min(len);
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.end.clamp(start, len);
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        Span { start, end }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(Span::empty(offset)).start;
        let starts = self.starts();
        let line = match starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = starts[line];
        let column = self.text[start..offset].chars().count() + 1;
        (line + 1, column)
    }

    /// The text of a span (clamped).
    pub fn slice(&self, span: Span) -> &str {
        let span = self.clamp(span);
        &self.text[span.start..span.end]
    }
}

/// Where each line starts. A line ends at `\n`, `\r\n` or a lone `\r`, as
/// comrak and miette count them, so every part of orch agrees on line
/// numbers.
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let f = SourceFile::new("a.md".into(), "a.md".into(), "ab\ncé d\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(7), (2, 4));
        assert_eq!(f.line_col(100), (3, 1));
    }

    #[test]
    fn a_lone_cr_ends_a_line() {
        assert_eq!(line_starts("a\rb\r\nc\nd"), [0, 2, 5, 7]);
        let f = SourceFile::new("a.md".into(), "a.md".into(), "a\rb");
        assert_eq!(f.line_col(2), (2, 1));
    }

    #[test]
    fn clamp_keeps_spans_inside_and_on_boundaries() {
        let f = SourceFile::new("a.md".into(), "a.md".into(), "é");
        assert_eq!(f.clamp(Span::new(1, 1)), Span::new(0, 2));
        assert_eq!(f.clamp(Span::new(0, 1)), Span::new(0, 2));
        assert_eq!(f.clamp(Span::new(9, 12)), Span::new(2, 2));
    }
}
