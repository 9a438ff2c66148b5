//! YAML front matter into an ordered tree of values with byte spans.
//!
//! serde-saphyr parses (pure Rust, budgets against alias bombs and deep
//! nesting, duplicate keys rejected) and its `Spanned` wrapper gives the
//! byte range of every key and value. We deserialize into a small generic
//! tree rather than one struct per kind, so that an unknown key, a wrong
//! type or a bad status becomes a diagnostic on its own span instead of
//! failing the whole document.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned as YSpanned;

use arcstr::ArcStr;

use crate::source::{Span, Text};

/// A YAML value with the span of its source text (file offsets).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Numbers are kept as written-back text: front matter uses them only as
    /// IDs or labels.
    Number(Text),
    String(Text),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The value as text when it is a scalar (strings, numbers, booleans).
    pub fn as_scalar(&self) -> Option<Text> {
        match self {
            Value::String(s) | Value::Number(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string().into()),
            _ => None,
        }
    }
}

/// A YAML error at a file offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
}

/// Parse the YAML text found at `base` in its file. Empty text is an empty
/// mapping.
pub fn parse(yaml: &str, base: usize) -> Result<Node, YamlError> {
    parse_in(yaml, base, None)
}

/// [`parse`] of `span` of `file`, its texts sharing `file` where they are
/// exactly as written ([`Text`]).
pub fn parse_shared(file: &ArcStr, span: Span) -> Result<Node, YamlError> {
    parse_in(&file[span.range()], span.start, Some(file))
}

fn parse_in(yaml: &str, base: usize, file: Option<&ArcStr>) -> Result<Node, YamlError> {
    if yaml.trim().is_empty()
        || yaml
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Node {
            value: Value::Map(Vec::new()),
            span: Span::new(base, base + yaml.len()),
        });
    }
    let options = serde_saphyr::options! {
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<YSpanned<Raw>>(yaml, options) {
        Ok(raw) => Ok(convert(raw, base, yaml, file)),
        Err(e) => {
            let span = e
                .location()
                .map(|l| location_span(yaml, &l))
                .unwrap_or_else(|| Span::empty(0));
            Err(YamlError {
                message: first_line(&e.to_string()),
                span: clamp_to(span, yaml.len()).shift(base),
            })
        }
    }
}

/// The byte span of an error location: its byte range when the parser
/// knows it, else the 1-based line and column (in characters) it reports.
fn location_span(yaml: &str, l: &serde_saphyr::Location) -> Span {
    let s = l.span();
    if let (Some(o), Some(n)) = (s.byte_offset(), s.byte_len()) {
        return Span::new(o as usize, (o + n) as usize);
    }
    let (line, column) = (l.line() as usize, l.column() as usize);
    if line == 0 {
        return Span::empty(0);
    }
    let line_start: usize = yaml
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let rest = yaml.get(line_start..).unwrap_or("");
    let col = rest
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(rest.len(), |(i, _)| i);
    let at = line_start + col;
    // Underline the character at the error, or nothing at the end of a line.
    let len = rest[col..]
        .chars()
        .next()
        .filter(|c| *c != '\n' && *c != '\r')
        .map_or(0, char::len_utf8);
    Span::new(at, at + len)
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("invalid YAML").trim();
    // serde-saphyr may end with " at line L, column C"; the diagnostic shows where.
    if let Some(i) = line.rfind(" at line ") {
        let tail = &line[i + " at line ".len()..];
        let is_position = tail
            .split(", column ")
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if i > 0 && is_position {
            return line[..i].to_string();
        }
    }
    line.to_string()
}

fn clamp_to(span: Span, len: usize) -> Span {
    Span::new(span.start.min(len), span.end.min(len))
}

fn convert(raw: YSpanned<Raw>, base: usize, yaml: &str, file: Option<&ArcStr>) -> Node {
    let s = raw.referenced.span();
    let span = match (s.byte_offset(), s.byte_len()) {
        (Some(o), Some(l)) => Span::new(o as usize, (o + l) as usize),
        _ => Span::empty(0),
    };
    let span = clamp_to(span, yaml.len());
    // A scalar written as it reads shares the file; a folded or escaped
    // one is a copy.
    let text = |s: String, span: Span| Text::found_in(file, span.shift(base), &s);
    let value = match raw.value {
        Raw::Null => Value::Null,
        Raw::Bool(b) => Value::Bool(b),
        Raw::Number(n) => Value::Number(text(n, span)),
        Raw::String(s) => Value::String(text(s, span)),
        Raw::Seq(items) => Value::Seq(
            items
                .into_iter()
                .map(|i| convert(i, base, yaml, file))
                .collect(),
        ),
        Raw::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k, base, yaml, file), convert(v, base, yaml, file)))
                .collect(),
        ),
    };
    // A mapping's own span may cover only its first key; widen it to its
    // entries so that "missing key" diagnostics can point at the whole map.
    let span = match &value {
        Value::Map(entries) => entries
            .iter()
            .fold(span, |acc, (k, v)| acc.cover(k.span.shift(0)).cover(v.span)),
        _ => span,
    };
    Node {
        value,
        span: span.shift(base),
    }
}

/// The serde-facing mirror of [`Value`], spans still relative to the YAML.
enum Raw {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Seq(Vec<YSpanned<Raw>>),
    Map(Vec<(YSpanned<Raw>, YSpanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Number(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Number(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Raw, E> {
        Ok(Raw::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Number(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::String(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Raw, E> {
        Err(E::custom("binary values are not supported"))
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<YSpanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<YSpanned<Raw>>()? {
            let value = map.next_value::<YSpanned<Raw>>()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(src: &str, n: &Node) -> String {
        src[n.span.start..n.span.end].to_string()
    }

    #[test]
    fn keys_and_values_have_exact_spans() {
        let src = "kind: ticket\nid: \"P1-UI-01\"\nstatus: done # ok\ntasks: [a, b]\n";
        let node = parse(src, 0).expect("parses");
        let Value::Map(entries) = &node.value else {
            panic!("not a map")
        };
        let got: Vec<(String, String)> = entries
            .iter()
            .map(|(k, v)| (text(src, k), text(src, v)))
            .collect();
        assert_eq!(got[0], ("kind".into(), "ticket".into()));
        assert_eq!(got[1], ("id".into(), "\"P1-UI-01\"".into()));
        assert_eq!(got[2], ("status".into(), "done".into()));
        let Value::Seq(items) = &entries[3].1.value else {
            panic!("not a seq")
        };
        assert_eq!(text(src, &items[1]), "b");
    }

    #[test]
    fn errors_point_into_the_yaml() {
        let src = "kind: plan\nid: [unclosed\n";
        let err = parse(src, 100).expect_err("fails");
        assert!(err.span.start >= 100 && err.span.end <= 100 + src.len());
        assert!(!err.message.is_empty());
    }

    #[test]
    fn syntax_errors_point_at_their_line() {
        let src = "kind: card\nid: P2-CORE-01: sandbox\n";
        let err = parse(src, 4).expect_err("fails");
        let line = src[..err.span.start - 4].matches('\n').count() + 1;
        assert_eq!(line, 2, "{err:?}");
        let src = "kind: card\nid: a\ntitle: \"unclosed\n";
        let err = parse(src, 0).expect_err("fails");
        assert!(err.span.start >= 17, "{err:?}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("id: a\nid: b\n", 0).expect_err("duplicate");
        assert!(
            err.message.to_lowercase().contains("duplicate"),
            "{}",
            err.message
        );
    }

    #[test]
    fn empty_and_comment_only_are_empty_maps() {
        assert_eq!(parse("", 5).map(|n| n.value), Ok(Value::Map(vec![])));
        assert_eq!(parse("# c\n", 5).map(|n| n.value), Ok(Value::Map(vec![])));
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut src = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            src.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(parse(&src, 0).is_err());
    }
}
