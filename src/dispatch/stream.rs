//! An agent's stdout read as JSON lines in bounded memory, and handed to
//! its adapter. Lines are split as the bytes arrive; inside a line, every
//! string value longer than [`MAX_STRING`] is clipped on the fly (the rest
//! of the string is skipped up to its closing quote), so a 2 MiB
//! `file_change` diff or command output costs [`MAX_STRING`] bytes and the
//! event around it is still read. A line whose structure alone (keys,
//! numbers, many short strings) exceeds [`MAX_LINE`] is counted, not kept.

use serde_json::Value;

use super::adapters::Adapter;
use super::event::{Event, MAX_TEXT, Observed};

/// Longest string value kept whole; longer ones are clipped to it.
pub const MAX_STRING: usize = MAX_TEXT;
/// Most bytes kept of one line once its long strings are clipped.
pub const MAX_LINE: usize = 4 << 20;

/// Where the line splitter is inside a JSON text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Lex {
    #[default]
    Outside,
    /// In a string: bytes kept so far, and an escape in progress (`1`
    /// after a backslash, `2..=5` for the hex digits of `\u` still due).
    Inside { len: usize, escape: u8 },
    /// In a string past [`MAX_STRING`]: skipping to the closing quote.
    Skipping { escape: bool },
}

/// Splits a byte stream into lines, clipping long strings as it goes.
#[derive(Default)]
pub struct Lines {
    current: Vec<u8>,
    lex: Lex,
    /// Where the last `\u` escape started, when it is a high surrogate
    /// that ends the kept bytes (clipping must not split the pair).
    high_surrogate: Option<usize>,
    clipped: bool,
    overflow: bool,
}

/// One line, ready to parse.
pub enum Line<'a> {
    Text {
        bytes: &'a [u8],
        clipped: bool,
    },
    /// More than [`MAX_LINE`] bytes even with its strings clipped.
    TooLong,
}

impl Lines {
    /// Feed bytes; `each` gets every complete line.
    pub fn feed(&mut self, mut chunk: &[u8], each: &mut dyn FnMut(Line<'_>)) {
        while let Some(nl) = chunk.iter().position(|&b| b == b'\n') {
            self.push(&chunk[..nl]);
            self.flush(each);
            chunk = &chunk[nl + 1..];
        }
        self.push(chunk);
    }

    /// The stream ended: a last line without a newline.
    pub fn finish(&mut self, each: &mut dyn FnMut(Line<'_>)) {
        if !self.current.is_empty() || self.overflow {
            self.flush(each);
        }
    }

    fn flush(&mut self, each: &mut dyn FnMut(Line<'_>)) {
        if self.overflow {
            each(Line::TooLong);
        } else {
            let line = self.current.strip_suffix(b"\r").unwrap_or(&self.current);
            each(Line::Text {
                bytes: line,
                clipped: self.clipped,
            });
        }
        self.current.clear();
        if self.current.capacity() > MAX_STRING * 4 {
            self.current.shrink_to(MAX_STRING);
        }
        self.lex = Lex::Outside;
        self.high_surrogate = None;
        self.clipped = false;
        self.overflow = false;
    }

    fn keep(&mut self, b: u8) {
        if self.overflow {
            return;
        }
        if self.current.len() >= MAX_LINE {
            self.overflow = true;
            self.current = Vec::new();
            return;
        }
        self.current.push(b);
    }

    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match self.lex {
                Lex::Outside => {
                    if b == b'"' {
                        self.lex = Lex::Inside { len: 0, escape: 0 };
                        self.high_surrogate = None;
                    }
                    self.keep(b);
                }
                Lex::Skipping { escape: true } => self.lex = Lex::Skipping { escape: false },
                Lex::Skipping { escape: false } => match b {
                    b'\\' => self.lex = Lex::Skipping { escape: true },
                    b'"' => {
                        self.keep(b);
                        self.lex = Lex::Outside;
                    }
                    _ => {}
                },
                Lex::Inside { len, escape } => {
                    if escape == 0 && b == b'"' {
                        self.keep(b);
                        self.lex = Lex::Outside;
                        continue;
                    }
                    // Clip only where a character starts, and never inside
                    // an escape or between the halves of a surrogate pair.
                    let starts_char = escape == 0 && (b & 0xC0) != 0x80;
                    if len >= MAX_STRING && starts_char {
                        if let Some(at) = self.high_surrogate.take()
                            && at + 6 == self.current.len()
                        {
                            self.current.truncate(at);
                        }
                        self.clipped = true;
                        self.lex = Lex::Skipping { escape: b == b'\\' };
                        continue;
                    }
                    let escape = match escape {
                        0 if b == b'\\' => 1,
                        0 => {
                            self.high_surrogate = None;
                            0
                        }
                        1 if b == b'u' => {
                            self.high_surrogate = Some(self.current.len() - 1);
                            5
                        }
                        1 => {
                            self.high_surrogate = None;
                            0
                        }
                        n => {
                            let n = n - 1;
                            if n == 1 {
                                // The escape is complete: is it a high surrogate?
                                let start = self.high_surrogate.unwrap_or(0);
                                let mut hex = self.current[start + 2..].to_vec();
                                hex.push(b);
                                let high = std::str::from_utf8(&hex)
                                    .ok()
                                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                                    .is_some_and(|v| (0xD800..0xDC00).contains(&v));
                                if !high {
                                    self.high_surrogate = None;
                                }
                                0
                            } else {
                                n
                            }
                        }
                    };
                    self.keep(b);
                    self.lex = Lex::Inside {
                        len: len + 1,
                        escape,
                    };
                }
            }
        }
    }
}

/// An adapter fed from a byte stream: lines parsed, events produced and
/// folded into what was observed.
pub struct Stream {
    lines: Lines,
    adapter: Box<dyn Adapter>,
    pub observed: Observed,
    pending: Vec<Event>,
}

impl Stream {
    pub fn new(adapter: Box<dyn Adapter>) -> Stream {
        Stream {
            lines: Lines::default(),
            adapter,
            observed: Observed::default(),
            pending: Vec::new(),
        }
    }

    /// Read a chunk of stdout; `on` sees each event after it is folded in.
    pub fn feed(&mut self, chunk: &[u8], on: &mut dyn FnMut(&Observed, &Event)) {
        self.read(Some(chunk));
        self.drain(on);
    }

    /// The stream ended.
    pub fn finish(&mut self, on: &mut dyn FnMut(&Observed, &Event)) {
        self.read(None);
        self.drain(on);
    }

    /// Parse the lines a chunk completes (`None`: the end of the stream).
    fn read(&mut self, chunk: Option<&[u8]>) {
        let Stream {
            lines,
            adapter,
            observed,
            pending,
        } = self;
        let mut each = |line: Line<'_>| read(line, adapter.as_mut(), observed, pending);
        match chunk {
            Some(c) => lines.feed(c, &mut each),
            None => {
                lines.finish(&mut each);
                adapter.finish(pending);
            }
        }
    }

    fn drain(&mut self, on: &mut dyn FnMut(&Observed, &Event)) {
        for e in std::mem::take(&mut self.pending) {
            self.observed.apply(&e);
            on(&self.observed, &e);
        }
    }
}

fn read(line: Line<'_>, adapter: &mut dyn Adapter, observed: &mut Observed, out: &mut Vec<Event>) {
    match line {
        Line::TooLong => observed.malformed += 1,
        Line::Text { bytes, clipped } => {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            match serde_json::from_slice::<Value>(bytes) {
                Ok(v @ Value::Object(_)) => {
                    observed.events += 1;
                    if clipped {
                        observed.clipped += 1;
                    }
                    adapter.event(&v, out);
                }
                _ => observed.malformed += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], piece: usize) -> Vec<(String, bool)> {
        let mut l = Lines::default();
        let mut out = Vec::new();
        let mut each = |line: Line<'_>| match line {
            Line::Text { bytes, clipped } => {
                out.push((String::from_utf8_lossy(bytes).into_owned(), clipped))
            }
            Line::TooLong => out.push(("<too long>".into(), true)),
        };
        for p in input.chunks(piece) {
            l.feed(p, &mut each);
        }
        l.finish(&mut each);
        out
    }

    #[test]
    fn short_lines_pass_untouched_in_any_pieces() {
        let text = b"{\"a\":\"x\\\"y\\u00e9\"}\r\nnot json\n{\"b\":1}";
        for piece in [1, 3, 7, 100] {
            let got = lines(text, piece);
            assert_eq!(got[0], ("{\"a\":\"x\\\"y\\u00e9\"}".into(), false));
            assert_eq!(got[1].0, "not json");
            assert_eq!(got[2].0, "{\"b\":1}");
        }
    }

    #[test]
    fn long_strings_are_clipped_to_valid_json() {
        // Multibyte characters, escapes and a surrogate pair straddle the cap.
        for pad in 0..8 {
            let mut s = "a".repeat(MAX_STRING - 4 - pad);
            s.push_str("é\\n\\ud83d\\ude00\\\"");
            s.push_str(&"é".repeat(MAX_STRING));
            let line = format!("{{\"type\":\"x\",\"diff\":\"{s}\",\"path\":\"p\"}}\n");
            let got = lines(line.as_bytes(), 4096);
            assert!(got[0].1, "clipped");
            let v: Value = serde_json::from_str(&got[0].0).expect("valid JSON after clipping");
            assert_eq!(v["path"], "p");
            assert!(
                v["diff"]
                    .as_str()
                    .is_some_and(|d| d.len() <= MAX_STRING * 2)
            );
        }
    }

    #[test]
    fn a_line_of_pure_structure_past_the_limit_is_too_long() {
        let mut line = String::from("[");
        while line.len() <= MAX_LINE {
            line.push_str("1,");
        }
        line.push_str("1]\n{\"ok\":true}\n");
        let got = lines(line.as_bytes(), 65536);
        assert_eq!(got[0].0, "<too long>");
        assert_eq!(got[1].0, "{\"ok\":true}");
    }
}
