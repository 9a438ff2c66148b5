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
    use std::sync::atomic::{AtomicUsize, Ordering};
    if threads < 2 {
        let mut state = init();
        return (0..n).map(|i| work(&mut state, i)).collect();
    }
    let batch = batch.max(1);
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut state = init();
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(batch, Ordering::Relaxed);
            if start >= n {
                return done;
            }
            for i in start..(start + batch).min(n) {
                done.push((i, work(&mut state, i)));
            }
        }
    };
    let mut all: Vec<(usize, T)> = std::thread::scope(|scope| {
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
    // Every index was taken exactly once: sorting restores the order.
    all.sort_unstable_by_key(|&(i, _)| i);
    all.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
