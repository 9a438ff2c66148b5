//! Product docs at head: relative links and their anchors (GitHub's heading
//! slugs), code-span paths, and snippet blocks tied to a source region.

use std::collections::HashMap;

use comrak::nodes::{AstNode, NodeValue};
use comrak::{Arena, Options};

use crate::diagnostic::Diagnostic;
use crate::git::GitError;
use crate::parse::markdown::code_spans;
use crate::source::{Span, Spanned, Text};

use super::paths::{code_path, is_external, join, parent, percent_decode};
use super::snippets::{self, Drift, Selector};
use super::{Cx, patterns};

/// A fenced code block.
#[derive(Clone, Debug)]
pub struct Fence {
    pub info: String,
    /// The info string in the opening fence line.
    pub info_span: Span,
    pub literal: String,
    /// The content lines, from the start of the first to the start of the
    /// closing fence (empty, at the closing fence, when there are none).
    pub content: Span,
    /// What precedes each content line (a list item's indentation).
    pub prefix: String,
}

/// A link or image destination.
#[derive(Clone, Debug)]
pub struct Link {
    pub url: String,
    /// The destination as written (the whole block when it cannot be found).
    pub span: Span,
}

/// What a product doc says that can be checked.
#[derive(Debug, Default)]
pub struct Scanned {
    pub links: Vec<Link>,
    pub codes: Vec<Spanned<Text>>,
    /// Heading slugs (GitHub's) and `id`/`name` attributes.
    pub anchors: Vec<String>,
    pub fences: Vec<Fence>,
    /// `<!-- orch-ignore CODE -->` (the next block's span) and
    /// `<!-- orch-ignore-file CODE -->` (`None`: the whole file).
    pub ignores: Vec<(Option<Span>, Vec<String>)>,
}

/// The codes an `orch-ignore` comment names, and whether it is file-wide.
fn ignore_comment(html: &str) -> Option<(bool, Vec<String>)> {
    let inner = html
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let (file, rest) = match inner.strip_prefix("orch-ignore-file") {
        Some(rest) => (true, rest),
        None => (false, inner.strip_prefix("orch-ignore")?),
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let codes = rest
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    Some((file, codes))
}

struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl Lines<'_> {
    /// Byte offset of a 1-based line (the text's end past the last line).
    fn start(&self, line: usize) -> usize {
        line.checked_sub(1)
            .and_then(|l| self.starts.get(l))
            .copied()
            .unwrap_or(self.text.len())
    }

    fn offset(&self, line: usize, column: usize) -> usize {
        let o = (self.start(line) + column.saturating_sub(1)).min(self.text.len());
        let mut o = o;
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    /// The span of a node's source, end exclusive.
    fn span(&self, node: &AstNode<'_>) -> Span {
        let pos = node.data().sourcepos;
        let start = self.offset(pos.start.line, pos.start.column);
        let mut end = self.offset(pos.end.line, pos.end.column + 1);
        while end < self.text.len() && !self.text.is_char_boundary(end) {
            end += 1;
        }
        Span::new(start, end.max(start))
    }

    /// The line's text without its line end.
    fn line(&self, line: usize) -> &str {
        let s = self.start(line);
        let e = self.start(line + 1);
        self.text[s..e.max(s)].trim_end_matches(['\n', '\r'])
    }
}

/// Parse a Markdown document and collect what [`product_docs`] checks.
pub fn scan(text: &str) -> Scanned {
    let arena = Arena::new();
    let mut options = Options::default();
    options.extension.table = true;
    let root = comrak::parse_document(&arena, text, &options);
    let lines = Lines {
        text,
        starts: std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter_map(|(i, b)| (b == b'\n').then_some(i + 1)),
            )
            .collect(),
    };
    let mut out = Scanned::default();
    let blocks: Vec<_> = root.children().collect();
    for (i, block) in blocks.iter().enumerate() {
        let NodeValue::HtmlBlock(h) = &block.data().value else {
            continue;
        };
        let Some((file, codes)) = ignore_comment(&h.literal) else {
            continue;
        };
        let target = if file {
            None
        } else {
            match blocks.get(i + 1) {
                Some(next) => Some(lines.span(next)),
                None => continue,
            }
        };
        out.ignores.push((target, codes));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for node in root.descendants() {
        let value = node.data().value.clone();
        match value {
            NodeValue::Heading(_) => {
                let base = slug(&crate::parse::markdown::inline_text(node));
                let n = seen.entry(base.clone()).or_insert(0);
                out.anchors.push(if *n == 0 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                });
                *n += 1;
                leaf(node, &lines, &mut out);
            }
            NodeValue::Paragraph | NodeValue::TableRow(_) => leaf(node, &lines, &mut out),
            NodeValue::CodeBlock(c) if c.fenced => {
                out.fences.push(fence(node, &c, &lines));
            }
            NodeValue::HtmlBlock(h) => html_ids(&h.literal, &mut out.anchors),
            NodeValue::HtmlInline(h) => html_ids(&h, &mut out.anchors),
            _ => {}
        }
    }
    out
}

/// Code spans and link destinations of a block holding inlines.
fn leaf<'a>(node: &'a AstNode<'a>, lines: &Lines<'_>, out: &mut Scanned) {
    let span = lines.span(node);
    let raw = &lines.text[span.start..span.end];
    out.codes.extend(code_spans(raw, span.start));
    let mut cursor = 0;
    for n in node.descendants() {
        let url = match &n.data().value {
            NodeValue::Link(l) | NodeValue::Image(l) => l.url.clone(),
            _ => continue,
        };
        let decoded = percent_decode(&url);
        let found = [url.as_str(), decoded.as_str()]
            .into_iter()
            .filter(|c| !c.is_empty())
            .find_map(|c| raw[cursor..].find(c).map(|i| (cursor + i, c.len())));
        let link_span = match found {
            Some((i, len)) => {
                cursor = i + len;
                Span::new(span.start + i, span.start + i + len)
            }
            // A reference link: its definition holds the destination.
            None => match lines.text.find(&format!("]: {url}")) {
                Some(i) => Span::new(i + 3, i + 3 + url.len()),
                None => span,
            },
        };
        out.links.push(Link {
            url,
            span: link_span,
        });
    }
}

fn fence<'a>(node: &'a AstNode<'a>, c: &comrak::nodes::NodeCodeBlock, lines: &Lines<'_>) -> Fence {
    let pos = node.data().sourcepos;
    let open = pos.start.line;
    let open_start = lines.start(open);
    let open_line = lines.line(open);
    let info = c.info.trim();
    let fence_char = char::from(c.fence_char);
    let fence_at = open_line.find(fence_char).unwrap_or(0);
    let info_span = match open_line[fence_at..].find(info) {
        Some(i) if !info.is_empty() => {
            let s = open_start + fence_at + i;
            Span::new(s, s + info.len())
        }
        _ => Span::new(open_start, open_start + open_line.len()),
    };
    let last_content = if c.closed {
        pos.end.line.saturating_sub(1)
    } else {
        pos.end.line
    };
    let start = lines.start(open + 1);
    let end = if c.closed {
        lines.start(pos.end.line)
    } else {
        lines.start(pos.end.line + 1)
    };
    let content = if last_content > open {
        Span::new(start.min(end), end)
    } else {
        Span::empty(end.min(lines.text.len()))
    };
    // The prefix before each content line: from the first non-blank line,
    // else the opening line's indentation.
    let literal_first = c.literal.lines().find(|l| !l.trim().is_empty());
    let raw_first = (open + 1..=last_content)
        .map(|l| lines.line(l))
        .find(|l| !l.trim().is_empty());
    let prefix = match (raw_first, literal_first) {
        (Some(raw), Some(lit)) if raw.ends_with(lit) => raw[..raw.len() - lit.len()].to_string(),
        _ => open_line[..fence_at]
            .chars()
            .map(|ch| if ch == '>' { '>' } else { ' ' })
            .collect(),
    };
    Fence {
        info: c.info.clone(),
        info_span,
        literal: c.literal.clone(),
        content,
        prefix,
    }
}

/// GitHub's heading slug: lowercase, every character that is not a letter,
/// mark, number, `_`, `-` or space dropped, spaces to `-`.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' ') || is_mark(*c))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Combining marks (the common blocks), which GitHub keeps in slugs.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x1AB0..=0x1AFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// `id="x"` and `name="x"` attributes in HTML.
fn html_ids(html: &str, out: &mut Vec<String>) {
    for attr in ["id=", "name="] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            let before_ok = rest[..i].ends_with(char::is_whitespace);
            rest = &rest[i + attr.len()..];
            let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let Some(end) = rest[1..].find(q) else { break };
            if before_ok {
                out.push(rest[1..1 + end].to_string());
            }
            rest = &rest[1 + end..];
        }
    }
}

fn is_markdown(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

/// A snippet's `file=` value as a repository path: relative to the
/// repository's top, or to the doc's folder when it starts with `./` or `../`.
pub fn resolve_file(doc: &str, file: &str) -> Option<String> {
    if file.starts_with("./") || file.starts_with("../") {
        join(parent(doc), file)
    } else {
        join("", file)
    }
}

/// The second checklist line's link, path and snippet checks over every
/// product doc at head. Returns the drifted snippets for `--fix`.
pub fn product_docs(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) -> Result<Vec<Drift>, GitError> {
    let globs = patterns(&cx.program.config.align.product_docs);
    let docs: Vec<&String> = cx
        .snap
        .paths()
        .iter()
        .filter(|p| is_markdown(p) && !cx.in_dir(p) && globs.iter().any(|g| g.is_match(p)))
        .collect();
    let mut anchors: HashMap<String, Vec<String>> = HashMap::new();
    let mut drift = Vec::new();
    for doc in docs {
        let Some(text) = cx.snap.text(doc)? else {
            continue;
        };
        let scanned = scan(&text);
        let doc_anchors: Vec<String> = scanned.anchors.iter().map(|a| a.to_lowercase()).collect();
        anchors.insert(doc.clone(), doc_anchors);
        let ignored = |code: &str, at: usize| {
            scanned.ignores.iter().any(|(target, codes)| {
                codes.iter().any(|c| c == code)
                    && target.is_none_or(|t| t.start <= at && at < t.end)
            })
        };
        let mut found = Vec::new();
        links(cx, doc, &text, &scanned, &mut anchors, &mut found)?;
        code_paths(cx, doc, &scanned, &mut found);
        for fence in &scanned.fences {
            if let Some(d) = snippet(cx, doc, &text, fence, &mut found)?
                && !ignored("docs-snippet-drift", fence.content.start)
            {
                drift.push(d);
            }
        }
        found.retain(|d| !ignored(d.code, d.span.start));
        out.extend(found);
    }
    Ok(drift)
}

fn broken(cx: &Cx<'_>, doc: &str, span: Span, message: String, help: String) -> Diagnostic {
    Diagnostic::new("docs-broken-path", cx.file(doc), span, message).help(help)
}

fn links(
    cx: &Cx<'_>,
    doc: &str,
    text: &str,
    scanned: &Scanned,
    anchors: &mut HashMap<String, Vec<String>>,
    out: &mut Vec<Diagnostic>,
) -> Result<(), GitError> {
    for link in &scanned.links {
        let url = link.url.trim();
        if url.is_empty() || is_external(url) {
            continue;
        }
        let (path_part, fragment) = match url.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (url, None),
        };
        let path_part = path_part.split('?').next().unwrap_or("");
        let decoded = percent_decode(path_part);
        let target = if decoded.is_empty() {
            Some(doc.to_string())
        } else {
            join(parent(doc), &decoded)
        };
        let Some(target) = target else {
            out.push(broken(
                cx,
                doc,
                link.span,
                format!("link `{url}` climbs above the repository's top"),
                "link to a file inside the repository, or use a full URL".into(),
            ));
            continue;
        };
        if !target.is_empty() && !cx.snap.exists(&target) {
            let help = cx
                .suggest(&target)
                .unwrap_or_else(|| "fix the path, or remove the link".into());
            out.push(
                broken(
                    cx,
                    doc,
                    link.span,
                    format!("link target `{target}` does not exist at head"),
                    help,
                )
                .label("no such file or folder"),
            );
            continue;
        }
        let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
            continue;
        };
        if !is_markdown(&target) || !cx.snap.is_file(&target) {
            continue; // `#L10` on code, or a folder: not checked
        }
        if !anchors.contains_key(&target) {
            let found = match cx.snap.text(&target)? {
                Some(t) => scan(&t).anchors.iter().map(|a| a.to_lowercase()).collect(),
                None => Vec::new(),
            };
            anchors.insert(target.clone(), found);
        }
        let known = &anchors[&target];
        let wanted = percent_decode(fragment).to_lowercase();
        if known.contains(&wanted) {
            continue;
        }
        let frag_span = text[link.span.start..link.span.end]
            .find('#')
            .map_or(link.span, |i| Span::new(link.span.start + i, link.span.end));
        let close = crate::util::nearest(&wanted, known.iter().map(String::as_str)).or_else(|| {
            known
                .iter()
                .find(|a| a.starts_with(&wanted) || wanted.starts_with(a.as_str()))
                .map(String::as_str)
        });
        let help = match close {
            Some(s) => format!("did you mean `#{s}`? (anchors are GitHub heading slugs)"),
            None => format!(
                "link to a heading of `{target}` by its slug: lowercase, punctuation dropped, spaces as `-`"
            ),
        };
        out.push(
            broken(
                cx,
                doc,
                frag_span,
                format!("`#{fragment}` names no heading in `{target}`"),
                help,
            )
            .label("no such anchor"),
        );
    }
    Ok(())
}

fn code_paths(cx: &Cx<'_>, doc: &str, scanned: &Scanned, out: &mut Vec<Diagnostic>) {
    let dir = parent(doc);
    let ignored = [format!("{}logs/", cx.dir), format!("{}runs/", cx.dir)];
    for code in &scanned.codes {
        let Some(path) = code_path(&code.value) else {
            continue;
        };
        let trimmed = path.trim_end_matches('/');
        let target = if path.starts_with("./") || path.starts_with("../") {
            join(dir, trimmed)
        } else {
            let first = trimmed.split('/').next().unwrap_or("");
            if cx.snap.exists(first) {
                join("", trimmed)
            } else if !dir.is_empty() && cx.snap.exists(&format!("{dir}/{first}")) {
                join(dir, trimmed)
            } else {
                None // not a path of this repository
            }
        };
        let Some(target) = target else { continue };
        if target.is_empty()
            || cx.snap.exists(&target)
            || ignored.iter().any(|i| target.starts_with(i.as_str()))
        {
            continue;
        }
        let help = cx
            .suggest(&target)
            .unwrap_or_else(|| "fix the path, or write it as prose if it is not one".into());
        out.push(
            broken(
                cx,
                doc,
                code.span,
                format!("`{path}` does not exist at head"),
                help,
            )
            .label("no such file or folder"),
        );
    }
}

fn snippet(
    cx: &Cx<'_>,
    doc: &str,
    text: &str,
    fence: &Fence,
    out: &mut Vec<Diagnostic>,
) -> Result<Option<Drift>, GitError> {
    let r = match snippets::snippet_ref(fence) {
        None => return Ok(None),
        Some(Err((span, message))) => {
            out.push(broken(
                cx,
                doc,
                span,
                message,
                "tie the block to `lines=A-B` or `region=NAME` of its `file=`".into(),
            ));
            return Ok(None);
        }
        Some(Ok(r)) => r,
    };
    let file = r.file.value.trim();
    let Some(source) = resolve_file(doc, file) else {
        out.push(broken(
            cx,
            doc,
            r.file.span,
            format!("snippet source `{file}` climbs above the repository's top"),
            "name a file inside the repository".into(),
        ));
        return Ok(None);
    };
    let Some(source_text) = cx.snap.text(&source)? else {
        let (message, help) = if cx.snap.is_file(&source) {
            (
                format!("snippet source `{source}` is not UTF-8 text"),
                "tie snippets to text files only".to_string(),
            )
        } else {
            (
                format!("snippet source `{source}` does not exist at head"),
                cx.suggest(&source)
                    .unwrap_or_else(|| "fix `file=`, or remove the snippet".into()),
            )
        };
        out.push(broken(cx, doc, r.file.span, message, help).label("no such file"));
        return Ok(None);
    };
    let expected = match snippets::select(&source_text, &r.selector) {
        Ok(lines) => lines,
        Err(reason) => {
            let help = match &r.selector {
                Selector::Region(name) => format!(
                    "mark the region in `{source}` with `ANCHOR: {name}` and `ANCHOR_END: {name}` comment lines"
                ),
                Selector::Lines { .. } => format!("name lines that exist in `{source}`"),
            };
            out.push(broken(
                cx,
                doc,
                r.selector_span,
                format!(
                    "snippet {} of `{source}` does not resolve: {reason}",
                    r.selector.describe()
                ),
                help,
            ));
            return Ok(None);
        }
    };
    let block = snippets::block_lines(&fence.literal);
    if block == expected {
        return Ok(None);
    }
    let diff = snippets::diff(doc, &block, &source, &expected);
    let mut span = fence.content;
    while span.end > span.start && matches!(text.as_bytes()[span.end - 1], b'\n' | b'\r') {
        span.end -= 1;
    }
    out.push(
        Diagnostic::new(
            "docs-snippet-drift",
            cx.file(doc),
            span,
            format!(
                "snippet differs from {} of `{source}`\n{}",
                r.selector.describe(),
                diff.trim_end()
            ),
        )
        .label("differs from the source")
        .help(format!(
            "run `orch align-docs --fix` to copy the {} of `{source}` into the block",
            r.selector.describe()
        ))
        .related(
            cx.file(doc),
            r.selector_span,
            format!("tied to {} here", r.selector.describe()),
        ),
    );
    Ok(Some(Drift {
        doc: doc.to_string(),
        source,
        selector: r.selector,
        expected,
        block,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_slugs() {
        assert_eq!(slug("Hello, World!"), "hello-world");
        assert_eq!(slug("`orch lint` --fix"), "orch-lint---fix");
        assert_eq!(slug("Über uns"), "über-uns");
        assert_eq!(slug("a_b (c)"), "a_b-c");
    }

    #[test]
    fn scan_finds_links_codes_anchors_and_fences() {
        let text = "# Intro\n\nSee [guide](docs/guide.md#set-up) and `src/lib.rs`.\n\n# Intro\n\n<a id=\"top\"></a>\n\n- item\n\n  ```rust file=src/lib.rs region=x\n  let a = 1;\n  ```\n\n[ref]: docs/other.md\n\nUse [r][ref].\n";
        let s = scan(text);
        assert_eq!(s.anchors, ["intro", "intro-1", "top"]);
        assert_eq!(s.links.len(), 2);
        assert_eq!(
            &text[s.links[0].span.start..s.links[0].span.end],
            "docs/guide.md#set-up"
        );
        assert_eq!(
            &text[s.links[1].span.start..s.links[1].span.end],
            "docs/other.md"
        );
        assert_eq!(s.codes[0].value, "src/lib.rs");
        let f = &s.fences[0];
        assert_eq!(
            &text[f.info_span.start..f.info_span.end],
            "rust file=src/lib.rs region=x"
        );
        assert_eq!(&text[f.content.start..f.content.end], "  let a = 1;\n");
        assert_eq!(f.prefix, "  ");
    }
}
