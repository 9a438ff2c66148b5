//! Small helpers shared by rules and commands.

/// The candidate closest to `word` by edit distance, if it is close enough
/// to be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (levenshtein(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c.len(), c))
        .map(|(_, c)| c)
}

/// Edit distance between two strings, in characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// An ID follows `[A-Za-z0-9][A-Za-z0-9._-]*` and never contains `..`.
pub fn is_valid_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !id.contains("..")
}

/// A " (did you mean `x`?)" suffix, or nothing.
pub fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// `text` cut to at most `max` characters, then `…`.
pub fn clip_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

/// `text` cut to at most `max` bytes on a character boundary, then `…`.
pub fn clip_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Every run of whitespace (newlines too) as one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Is `c` a character that must not reach a terminal or a CI log raw: a C0
/// control other than tab and line feed (a carriage return is kept only
/// before a line feed, see [`escape_controls`]), DEL, a C1 control (`ESC [`
/// has a one-character form, U+009B), or a bidirectional override or
/// isolate, which reorders what a reader sees.
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character ([`is_unsafe_char`], and a carriage
/// return not followed by a line feed) written as a Rust-style escape
/// (`\u{1b}`), so an escape sequence from a document, a log or a commit
/// message is shown, never obeyed.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    let needs = text
        .char_indices()
        .any(|(i, c)| (is_unsafe_char(c) && c != '\r') || (c == '\r' && lone_cr(i)));
    if !needs {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.char_indices() {
        if (is_unsafe_char(c) && c != '\r') || (c == '\r' && lone_cr(i)) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A writer that escapes unsafe characters ([`escape_controls`]) in what
/// passes through it, for output meant for a person (human formats). A
/// character split across two writes is held until it is whole.
pub struct EscapeWriter<W: std::io::Write> {
    inner: W,
    /// An incomplete UTF-8 sequence, or a carriage return waiting to see
    /// whether a line feed follows.
    held: Vec<u8>,
}

impl<W: std::io::Write> EscapeWriter<W> {
    pub fn new(inner: W) -> EscapeWriter<W> {
        EscapeWriter {
            inner,
            held: Vec::new(),
        }
    }

    /// Write out what is held (at the end of the output).
    fn release(&mut self) -> std::io::Result<()> {
        let held = std::mem::take(&mut self.held);
        if held.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&held);
        let text = if text == "\r" {
            "\\u{d}".into()
        } else {
            escape_controls(&text).into_owned()
        };
        self.inner.write_all(text.as_bytes())
    }
}

impl<W: std::io::Write> std::io::Write for EscapeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Most output holds nothing to escape: no control byte, and no lead
        // byte of a C1 control (0xC2) or a bidi override (0xE2).
        let plain = |b: &u8| {
            (*b >= 0x20 || *b == b'\n' || *b == b'\t') && !matches!(*b, 0x7f | 0xc2 | 0xe2)
        };
        if self.held.is_empty() && buf.iter().all(plain) {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(buf);
        // Hold back a trailing CR and an incomplete UTF-8 sequence.
        let mut end = data.len();
        let tail_start = data.len().saturating_sub(3);
        for i in (tail_start..data.len()).rev() {
            let b = data[i];
            if b & 0xC0 == 0x80 {
                continue;
            }
            let need = match b {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            if i + need > data.len() {
                end = i;
            }
            break;
        }
        if end > 0 && end == data.len() && data[end - 1] == b'\r' {
            end -= 1;
        }
        let (now, later) = data.split_at(end);
        let text = String::from_utf8_lossy(now);
        self.inner.write_all(escape_controls(&text).as_bytes())?;
        self.held = later.to_vec();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for EscapeWriter<W> {
    fn drop(&mut self) {
        let _ = self.release();
        let _ = self.inner.flush();
    }
}

/// `work(state, i)` for every `i` in `0..n`, on up to `threads` threads (the
/// calling one among them), the results in order of `i`. Workers take `batch`
/// consecutive jobs at a time, in turn, so uneven jobs still keep every
/// thread busy; each worker first makes its own `state` with `init` (a
/// reader that cannot cross threads, say). A panic in a job is re-raised.
pub fn par_map<S, T: Send>(
    n: usize,
    threads: usize,
    batch: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> T + Sync,
) -> Vec<T> {
    let chunks = par_chunks(n, threads, batch, init, work);
    if chunks.len() == 1 {
        return chunks.into_iter().next().unwrap_or_default();
    }
    let mut all = Vec::with_capacity(n);
    for chunk in chunks {
        all.extend(chunk);
    }
    all
}

/// [`par_map`]'s results as they were made: consecutive runs of results, in
/// order of `i`, each run allocated to its exact size. A caller that moves
/// the results on (into two tables, say) frees each run as it goes, so the
/// results are never held twice over (40,000 parsed documents are about
/// 22 MB each time they are copied whole).
pub fn par_chunks<S, T: Send>(
    n: usize,
    threads: usize,
    batch: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> T + Sync,
) -> Vec<Vec<T>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if threads < 2 {
        let mut state = init();
        return vec![(0..n).map(|i| work(&mut state, i)).collect()];
    }
    let batch = batch.max(1);
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut state = init();
        let mut done: Vec<(usize, Vec<T>)> = Vec::new();
        loop {
            let start = next.fetch_add(batch, Ordering::Relaxed);
            if start >= n {
                return done;
            }
            let end = (start + batch).min(n);
            done.push((start, (start..end).map(|i| work(&mut state, i)).collect()));
        }
    };
    let mut all: Vec<(usize, Vec<T>)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(worker)).collect();
        let mut all = worker();
        for helper in helpers {
            all.extend(
                helper
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
        all
    });
    // Every run was taken exactly once: sorting by start restores the order.
    all.sort_unstable_by_key(|&(start, _)| start);
    all.into_iter().map(|(_, run)| run).collect()
}

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix time.
pub fn utc_minute(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00");
        assert_eq!(utc_minute(1_700_000_000), "2023-11-14 22:13");
    }

    #[test]
    fn nearest_finds_typos_only() {
        assert_eq!(nearest("stauts", ["status", "kind", "id"]), Some("status"));
        assert_eq!(nearest("zzzzzz", ["status", "kind"]), None);
    }

    #[test]
    fn clipping() {
        assert_eq!(clip_chars("ééé", 2), "éé…");
        assert_eq!(clip_chars("ab", 2), "ab");
        assert_eq!(clip_bytes("ééé", 3), "é…");
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }

    #[test]
    fn id_syntax() {
        for ok in ["P1-UI-01", "P1-UI-01.2", "a", "T_1"] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", "-x", "a/b", "a..b", "..", "a b", "P1-UI-٠١", ".x"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("plain\ttext\r\n"), "plain\ttext\r\n");
        assert_eq!(
            escape_controls("a\x1b[31mred\x07\rb\u{9b}c\u{202e}d"),
            "a\\u{1b}[31mred\\u{7}\\u{d}b\\u{9b}c\\u{202e}d"
        );
        let mut out = Vec::new();
        {
            let mut w = EscapeWriter::new(&mut out);
            use std::io::Write;
            // A C1 control split over two writes, a CR before a LF split too.
            w.write_all(b"x\xc2").unwrap();
            w.write_all(b"\x9by\r").unwrap();
            w.write_all(b"\nz\x1b").unwrap();
            w.write_all("é\r".as_bytes()).unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x\\u{9b}y\r\nz\\u{1b}é\\u{d}"
        );
    }

    #[test]
    fn par_map_keeps_order_and_runs_each_job_once() {
        let runs = std::sync::atomic::AtomicUsize::new(0);
        for threads in [1, 2, 3] {
            let got = par_map(
                100,
                threads,
                7,
                || 0usize,
                |seen, i| {
                    *seen += 1;
                    runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    i * 2
                },
            );
            assert_eq!(got, (0..100).map(|i| i * 2).collect::<Vec<_>>());
        }
        assert_eq!(runs.into_inner(), 300);
        assert!(par_map(0, 2, 4, || (), |(), i| i).is_empty());
    }

    #[test]
    fn par_chunks_are_consecutive_exact_runs() {
        for threads in [1, 2, 3] {
            let runs = par_chunks(100, threads, 7, || (), |(), i| i);
            for run in &runs {
                assert_eq!(run.capacity(), run.len(), "{threads} threads");
            }
            let flat: Vec<usize> = runs.into_iter().flatten().collect();
            assert_eq!(flat, (0..100).collect::<Vec<_>>(), "{threads} threads");
        }
        assert!(par_chunks(0, 2, 4, || (), |(), i| i).is_empty());
    }
}
