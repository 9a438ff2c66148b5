//! Snippet blocks: fenced code whose info string ties it to a source
//! region (`file=PATH` with `lines=A-B` or `region=NAME`, the region
//! delimited by mdBook's `ANCHOR: NAME` / `ANCHOR_END: NAME` lines), the
//! region's expected text, the drift diff, and `--fix`.

use std::path::Path;

use similar::TextDiff;

use crate::error::Result;
use crate::source::{Span, Spanned, Text};

use super::docs::{Fence, scan};

/// Which part of the source a snippet shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// 1-based, inclusive; `to: None` runs to the end of the file.
    Lines {
        from: usize,
        to: Option<usize>,
    },
    Region(String),
}

impl Selector {
    pub fn describe(&self) -> String {
        match self {
            Selector::Lines { from, to: Some(to) } => format!("lines {from}-{to}"),
            Selector::Lines { from, to: None } => format!("lines {from}-"),
            Selector::Region(name) => format!("region `{name}`"),
        }
    }
}

/// A snippet block's reference to its source.
#[derive(Clone, Debug)]
pub struct SnippetRef {
    /// The path as written, with the span of the value.
    pub file: Spanned<Text>,
    pub selector: Selector,
    /// The span of the `lines=`/`region=` value.
    pub selector_span: Span,
}

/// A drifted snippet, as `--fix` needs it.
#[derive(Clone, Debug)]
pub struct Drift {
    /// The product doc, repository-relative.
    pub doc: String,
    /// The source path as resolved.
    pub source: String,
    pub selector: Selector,
    /// The region's lines, as the block should hold them.
    pub expected: Vec<String>,
    /// The block's lines as the checked side (head or index) holds them:
    /// `--fix` refuses to overwrite a work-tree block that differs.
    pub block: Vec<String>,
}

/// Tokens of an info string: `key=value` pairs (value optionally quoted)
/// with the span of each value; words without `=` are skipped.
fn pairs(info: &str, base: usize) -> Vec<(String, Spanned<Text>)> {
    let bytes = info.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let sep = |b: u8| b.is_ascii_whitespace() || matches!(b, b',' | b'{' | b'}');
    while i < bytes.len() {
        while i < bytes.len() && sep(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !sep(bytes[i]) && bytes[i] != b'=' {
            i += 1;
        }
        let key = &info[start..i];
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            let (vs, ve);
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                i += 1;
                vs = i;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
                ve = i;
                i = (i + 1).min(bytes.len());
            } else {
                vs = i;
                while i < bytes.len() && !sep(bytes[i]) {
                    i += 1;
                }
                ve = i;
            }
            out.push((
                key.to_ascii_lowercase(),
                Spanned::new(info[vs..ve].into(), Span::new(base + vs, base + ve)),
            ));
        } else if i == start {
            i += 1;
        }
    }
    out
}

/// The snippet reference of a fenced block: `None` when its info string
/// does not tie it to a source (no `file=`, or neither `lines=` nor
/// `region=`); `Err` with the span and reason when the selector is malformed.
pub fn snippet_ref(fence: &Fence) -> Option<Result<SnippetRef, (Span, String)>> {
    let pairs = pairs(&fence.info, fence.info_span.start);
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let file = get("file")?;
    if let Some(region) = get("region") {
        let name = region.value.trim();
        if name.is_empty() {
            return Some(Err((region.span, "`region=` names no region".into())));
        }
        return Some(Ok(SnippetRef {
            file: file.clone(),
            selector: Selector::Region(name.to_string()),
            selector_span: region.span,
        }));
    }
    let lines = get("lines")?;
    let bad = || {
        Some(Err((
            lines.span,
            format!(
                "`lines={}` is not a line range; write `lines=A-B` (1-based, inclusive)",
                lines.value
            ),
        )))
    };
    let v = lines.value.trim();
    let (a, b) = v.split_once('-').unwrap_or((v, v));
    let Ok(from) = a.trim().parse::<usize>() else {
        return bad();
    };
    let to = if b.trim().is_empty() {
        None
    } else {
        match b.trim().parse::<usize>() {
            Ok(to) => Some(to),
            Err(_) => return bad(),
        }
    };
    if from == 0 || to.is_some_and(|t| t < from) {
        return bad();
    }
    Some(Ok(SnippetRef {
        file: file.clone(),
        selector: Selector::Lines { from, to },
        selector_span: lines.span,
    }))
}

/// `ANCHOR: name` (or `ANCHOR_END: name`) on this line, with `name` whole.
fn marker(line: &str, kind: &str, name: Option<&str>) -> bool {
    let mut rest = line;
    while let Some(i) = rest.find(kind) {
        let after = rest[i + kind.len()..].trim_start();
        let word_len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        let word = &after[..word_len];
        let preceded_ok = !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if preceded_ok && !word.is_empty() && name.is_none_or(|n| n == word) {
            return true;
        }
        rest = &rest[i + kind.len()..];
    }
    false
}

/// The lines of `source` the selector picks (anchor lines dropped), or why
/// it picks nothing.
pub fn select(source: &str, selector: &Selector) -> Result<Vec<String>, String> {
    let lines: Vec<&str> = source
        .strip_suffix('\n')
        .unwrap_or(source)
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let picked: Vec<&str> = match selector {
        Selector::Lines { from, to } => {
            let n = if source.is_empty() { 0 } else { lines.len() };
            let to_n = to.unwrap_or(n);
            if *from > n || to_n > n {
                return Err(format!("the file has {n} lines"));
            }
            lines[from - 1..to_n].to_vec()
        }
        Selector::Region(name) => {
            let Some(start) = lines.iter().position(|l| marker(l, "ANCHOR:", Some(name))) else {
                return Err(format!("no `ANCHOR: {name}` line"));
            };
            let Some(len) = lines[start + 1..]
                .iter()
                .position(|l| marker(l, "ANCHOR_END:", Some(name)))
            else {
                return Err(format!(
                    "`ANCHOR: {name}` (line {}) has no `ANCHOR_END: {name}`",
                    start + 1
                ));
            };
            lines[start + 1..start + 1 + len]
                .iter()
                .copied()
                .filter(|l| !marker(l, "ANCHOR:", None) && !marker(l, "ANCHOR_END:", None))
                .collect()
        }
    };
    Ok(normalize(&dedent(&picked)))
}

/// Remove the indentation common to every non-blank line.
fn dedent(lines: &[&str]) -> Vec<String> {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                l[indent..].to_string()
            }
        })
        .collect()
}

/// Trailing spaces and trailing blank lines dropped: what is compared.
pub fn normalize(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = lines.iter().map(|l| l.trim_end().to_string()).collect();
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    while out.first().is_some_and(String::is_empty) {
        out.remove(0);
    }
    out
}

/// The block's own lines, normalised.
pub fn block_lines(literal: &str) -> Vec<String> {
    let lines: Vec<String> = literal
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    normalize(&lines)
}

/// A unified diff from the block to the region.
pub fn diff(doc: &str, block: &[String], source: &str, expected: &[String]) -> String {
    let old = join_lines(block);
    let new = join_lines(expected);
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{doc} (snippet)"), &format!("{source} (source)"))
        .to_string()
}

fn join_lines(lines: &[String]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// Rewrite the drifted snippets of the work tree's copies of their docs:
/// only the bytes of each block's content change, each file is replaced
/// atomically. Returns what was fixed, as `(doc, line, selector, source)`.
///
/// A doc is read and written only as a regular file in real folders of the
/// work tree (a link is never followed, so no outside file's bytes are
/// copied in), and a block whose work-tree text differs from the checked
/// side's (an uncommitted edit) is never overwritten: either refuses the
/// whole fix before anything is written.
pub fn fix(root: &Path, drift: &[Drift]) -> Result<Vec<(String, usize, Selector, String)>> {
    let mut docs: Vec<&str> = drift.iter().map(|d| d.doc.as_str()).collect();
    docs.sort();
    docs.dedup();
    let mut fixed = Vec::new();
    let mut writes = Vec::new();
    for doc in docs {
        let path = root.join(doc);
        let text = match crate::fsx::read_inside(
            root,
            &path,
            crate::model::program::MAX_DOCUMENT_BYTES,
        ) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => continue,
            },
            Err(r) if r.is_not_found() => continue,
            Err(r) => {
                return Err(crate::error::Error::with_help(
                    format!("cannot fix {doc}: it {r}"),
                    "--fix rewrites only regular files in real folders of the work tree; fix the block by hand",
                ));
            }
        };
        let scanned = scan(&text);
        let mut edits: Vec<(Span, String, usize, Selector, String)> = Vec::new();
        for fence in &scanned.fences {
            let Some(Ok(r)) = snippet_ref(fence) else {
                continue;
            };
            let Some(d) = drift.iter().find(|d| {
                d.doc == doc
                    && d.selector == r.selector
                    && super::docs::resolve_file(doc, r.file.value.trim()).as_deref()
                        == Some(d.source.as_str())
            }) else {
                continue;
            };
            let here = block_lines(&fence.literal);
            if here == d.expected {
                continue;
            }
            if here != d.block {
                let line = text[..fence.content.start].matches('\n').count() + 1;
                return Err(crate::error::Error::with_help(
                    format!(
                        "{doc}:{line}: the snippet block has edits that are not in the version checked; --fix would overwrite them, so nothing was fixed"
                    ),
                    "commit or stage the edit (or undo it), then run `orch align-docs --fix` again",
                ));
            }
            let newline = if text[fence.content.start..fence.content.end].contains("\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            let mut body = String::new();
            for line in &d.expected {
                if line.is_empty() {
                    body.push_str(fence.prefix.trim_end());
                } else {
                    body.push_str(&fence.prefix);
                    body.push_str(line);
                }
                body.push_str(newline);
            }
            let line = text[..fence.content.start].matches('\n').count() + 1;
            edits.push((
                fence.content,
                body,
                line,
                d.selector.clone(),
                d.source.clone(),
            ));
        }
        if edits.is_empty() {
            continue;
        }
        let mut new = text.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0.start));
        for (span, body, ..) in &edits {
            new.replace_range(span.start..span.end, body);
        }
        crate::transition::check_size(doc, new.len(), crate::model::program::MAX_DOCUMENT_BYTES)?;
        writes.push((path, new));
        edits.reverse();
        for (_, _, line, selector, source) in edits {
            fixed.push((doc.to_string(), line, selector, source));
        }
    }
    for (path, new) in writes {
        crate::fsx::write_inside(root, &path, new.as_bytes(), true)?;
    }
    Ok(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_drop_nested_anchors_and_dedent() {
        let src = "fn a() {\n    // ANCHOR: body\n    let x = 1;\n    // ANCHOR: inner\n    let y = 2;\n    // ANCHOR_END: inner\n    // ANCHOR_END: body\n}\n";
        assert_eq!(
            select(src, &Selector::Region("body".into())).unwrap(),
            ["let x = 1;", "let y = 2;"]
        );
        assert!(
            select(src, &Selector::Region("bod".into()))
                .unwrap_err()
                .contains("no `ANCHOR: bod`")
        );
        assert_eq!(
            select(
                src,
                &Selector::Lines {
                    from: 1,
                    to: Some(1)
                }
            )
            .unwrap(),
            ["fn a() {"]
        );
        assert!(
            select(
                src,
                &Selector::Lines {
                    from: 7,
                    to: Some(9)
                }
            )
            .is_err()
        );
    }

    #[test]
    fn info_pairs_have_value_spans() {
        let info = "rust file=\"src/a b.rs\",region=setup";
        let p = pairs(info, 10);
        assert_eq!(p[0].0, "file");
        assert_eq!(p[0].1.value, "src/a b.rs");
        assert_eq!(p[0].1.span, Span::new(21, 31));
        assert_eq!(p[1].1.value, "setup");
        assert_eq!(&info[p[1].1.span.start - 10..p[1].1.span.end - 10], "setup");
    }

    #[test]
    fn markers_match_whole_names() {
        assert!(marker("// ANCHOR: a-b", "ANCHOR:", Some("a-b")));
        assert!(!marker("// ANCHOR: a-bc", "ANCHOR:", Some("a-b")));
        assert!(!marker("// ANCHOR_END: a", "ANCHOR:", None));
        assert!(marker("# ANCHOR_END:x", "ANCHOR_END:", Some("x")));
    }
}
