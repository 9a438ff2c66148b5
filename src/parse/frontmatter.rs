//! Splitting a document into its YAML front matter and its Markdown body.
//!
//! Front matter is the text between a first line `---` and the next line
//! that is `---` (or `...`). A UTF-8 BOM before it and CRLF line ends are
//! accepted. The split works on byte offsets into the original text, so
//! spans found in either part map back to the file exactly.

use crate::source::Span;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Split {
    /// The file does not start with a `---` line.
    Missing { body_start: usize },
    /// The opening `---` has no closing line; `open` is the opening line.
    Unclosed { open: Span },
    Found {
        /// The YAML text between the delimiters.
        yaml: Span,
        /// The closing delimiter line, without its line end.
        close: Span,
        /// Where the Markdown body starts.
        body_start: usize,
    },
}

/// Split `text` into front matter and body.
pub fn split(text: &str) -> Split {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut lines = Lines { text, pos: start };
    let Some(first) = lines.next() else {
        return Split::Missing { body_start: start };
    };
    if text[first.content.start..first.content.end].trim_end() != "---" {
        return Split::Missing { body_start: start };
    }
    let yaml_start = first.next;
    for line in lines {
        let content = text[line.content.start..line.content.end].trim_end();
        if content == "---" || content == "..." {
            return Split::Found {
                yaml: Span::new(yaml_start, line.content.start),
                close: line.content,
                body_start: line.next,
            };
        }
    }
    Split::Unclosed {
        open: first.content,
    }
}

struct Line {
    /// The line without `\n` or `\r\n`.
    content: Span,
    /// Start of the next line.
    next: usize,
}

struct Lines<'a> {
    text: &'a str,
    pos: usize,
}

impl Iterator for Lines<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        if self.pos >= self.text.len() {
            return None;
        }
        let rest = &self.text.as_bytes()[self.pos..];
        let (end, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (self.pos + i, self.pos + i + 1),
            None => (self.text.len(), self.text.len()),
        };
        let content_end = if end > self.pos && self.text.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        let line = Line {
            content: Span::new(self.pos, content_end),
            next,
        };
        self.pos = next;
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_front_matter_with_crlf_and_bom() {
        let text = "\u{feff}---\r\nkind: plan\r\n---\r\n# Body\r\n";
        let Split::Found {
            yaml, body_start, ..
        } = split(text)
        else {
            panic!("front matter not found");
        };
        assert_eq!(&text[yaml.start..yaml.end], "kind: plan\r\n");
        assert_eq!(&text[body_start..], "# Body\r\n");
    }

    #[test]
    fn empty_front_matter_and_no_body() {
        let text = "---\n---";
        assert_eq!(
            split(text),
            Split::Found {
                yaml: Span::new(4, 4),
                close: Span::new(4, 7),
                body_start: 7
            }
        );
    }

    #[test]
    fn missing_and_unclosed() {
        assert_eq!(split(""), Split::Missing { body_start: 0 });
        assert_eq!(split("# hi\n---\n"), Split::Missing { body_start: 0 });
        assert_eq!(
            split("---\nkind: plan\n"),
            Split::Unclosed {
                open: Span::new(0, 3)
            }
        );
    }
}
