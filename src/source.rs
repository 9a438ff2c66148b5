//! Source files and byte spans: the text every diagnostic points into.
//!
//! A [`Span`] is a half-open byte range into one [`SourceFile`]. Spans are
//! produced by the parsers and may be computed from positions that another
//! library reported, so every consumer goes through [`SourceFile::clamp`],
//! which keeps a span inside the text and on character boundaries.

use arcstr::ArcStr;
use std::path::{Path, PathBuf};

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

    pub const fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
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

impl Spanned<Text> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// Text read from a document: a string that is, where it can be, a slice
/// of the file's own text rather than a copy of it.
///
/// A large program holds about a million of these (labels, values, code
/// spans, table cells), nearly all exactly as written in their file, which
/// is kept whole anyway for diagnostics: sharing it instead of copying each
/// piece saved a fifth of lint's peak memory on 20,000 tasks. Text that
/// differs from the file (escapes resolved, code spans on several lines)
/// owns its bytes. Either way it reads as a `str`: equality, order, hashing,
/// `Debug` and `Display` are those of the string, never of where it lives.
#[derive(Clone, Default)]
pub struct Text(arcstr::Substr);

impl Text {
    /// `span` of `src`, shared. A span outside `src` or off its character
    /// boundaries (never made by the parsers) gives the text it clamps to.
    pub fn shared(src: &ArcStr, span: Span) -> Text {
        let span = SourceFile::clamp_in(src, span);
        if span.is_empty() {
            return Text::default();
        }
        if span.end > u32::MAX as usize {
            return Text::new(&src[span.range()]);
        }
        Text(src.substr(span.range()))
    }

    /// Text owning a copy of `s`. (Documents are bounded far below 4 GiB;
    /// a longer string keeps its first 4 GiB.)
    pub fn new(s: &str) -> Text {
        if s.is_empty() {
            return Text::default();
        }
        let mut end = s.len().min(u32::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Text(arcstr::Substr::full(ArcStr::from(&s[..end])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part of this text at `range` (byte offsets into it, clamped to
    /// it), sharing what this text shares.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Text {
        let span = SourceFile::clamp_in(self, Span::new(range.start, range.end));
        if span.is_empty() {
            return Text::default();
        }
        Text(self.0.substr(span.range()))
    }

    /// `rendered` as read from `region` of `file`: a slice of the file where
    /// it is written inside that region (a value as written, a value that
    /// is one code span, a scalar in quotes), else a copy. Without a file,
    /// a copy. What the parsers keep of every text they read.
    pub fn found_in(file: Option<&ArcStr>, region: Span, rendered: &str) -> Text {
        let raw = file.and_then(|f| f.get(region.range())).unwrap_or("");
        match (file, raw.find(rendered)) {
            (Some(file), Some(at)) if !rendered.is_empty() => {
                let start = region.start + at;
                Text::shared(file, Span::new(start, start + rendered.len()))
            }
            _ => Text::new(rendered),
        }
    }

    /// Is this text a slice of `src` (rather than a copy)?
    pub fn is_slice_of(&self, src: &ArcStr) -> bool {
        ArcStr::ptr_eq(self.0.parent(), src)
    }

    /// `part`, a piece of this text (`text.trim()`, a split), sharing what
    /// this text shares; a `part` from elsewhere is copied.
    pub fn part(&self, part: &str) -> Text {
        match self.0.try_substr_from(part) {
            Some(s) if !s.is_empty() => Text(s),
            _ => Text::new(part),
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::new(&s)
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::new(s)
    }
}

impl From<std::borrow::Cow<'_, str>> for Text {
    fn from(s: std::borrow::Cow<'_, str>) -> Text {
        Text::new(&s)
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.as_str().to_string()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
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
    pub text: ArcStr,
    /// Built on first use: most files never have a line number asked for.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: String, abs_path: PathBuf, text: impl Into<ArcStr>) -> SourceFile {
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
        SourceFile::clamp_in(&self.text, span)
    }

    fn clamp_in(text: &str, span: Span) -> Span {
        let len = text.len();
        let mut start = span.start.min(len);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.end.clamp(start, len);
        while !text.is_char_boundary(end) {
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
    fn a_text_reads_as_its_string_wherever_it_lives() {
        let src = ArcStr::from("- Goal: ship `a.rs` é");
        let shared = Text::shared(&src, Span::new(8, 12));
        let owned = Text::new("ship");
        assert!(shared.is_slice_of(&src));
        assert!(!owned.is_slice_of(&src));
        assert_eq!(shared, owned);
        assert_eq!(shared, "ship");
        assert_eq!(format!("{shared:?} {shared}"), format!("{:?} ship", "ship"));
        let hash = |t: &Text| {
            use std::hash::{BuildHasher, RandomState};
            let state = RandomState::new();
            (state.hash_one(t), state.hash_one("ship"))
        };
        let (a, b) = hash(&shared);
        assert_eq!(
            a, b,
            "a text hashes as its str (HashMap<Text, _> looks up by &str)"
        );
        assert!(Text::new("A") < Text::shared(&src, Span::new(2, 6)));
        // Pieces of a shared text share too; a piece from elsewhere is copied.
        let goal = Text::shared(&src, Span::new(2, 26));
        assert_eq!(goal.slice(6..10), "ship");
        assert!(goal.slice(6..10).is_slice_of(&src));
        assert!(goal.part(goal.trim_end_matches(" é")).is_slice_of(&src));
        assert!(!goal.part("ship").is_slice_of(&src));
        assert_eq!(goal.part("ship"), "ship");
        // Read from a region: shared where written inside it, else copied.
        let code = Text::found_in(Some(&src), Span::new(13, 19), "a.rs");
        assert!(code.is_slice_of(&src) && code == "a.rs");
        assert!(!Text::found_in(Some(&src), Span::new(13, 19), "b.rs").is_slice_of(&src));
        assert!(!Text::found_in(None, Span::new(13, 19), "a.rs").is_slice_of(&src));
        assert_eq!(
            Text::found_in(Some(&src), Span::new(90, 99), "a.rs"),
            "a.rs"
        );
        // Empty texts, and spans outside the text or off its character
        // boundaries, clamp; nothing panics.
        assert_eq!(Text::shared(&src, Span::new(3, 3)), "");
        assert_eq!(Text::shared(&src, Span::new(20, 99)), "é");
        assert_eq!(Text::shared(&src, Span::new(21, 22)), "é");
        assert_eq!(goal.slice(30..40), "");
        assert_eq!(Text::default(), Text::new(""));
        // As small as a pointer and a range, with room for `None`.
        assert_eq!(std::mem::size_of::<Option<Text>>(), 16);
    }

    #[test]
    fn clamp_keeps_spans_inside_and_on_boundaries() {
        let f = SourceFile::new("a.md".into(), "a.md".into(), "é");
        assert_eq!(f.clamp(Span::new(1, 1)), Span::new(0, 2));
        assert_eq!(f.clamp(Span::new(0, 1)), Span::new(0, 2));
        assert_eq!(f.clamp(Span::new(9, 12)), Span::new(2, 2));
    }
}
