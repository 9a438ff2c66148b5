//! Repository-relative path helpers: resolving a link against its
//! document's folder, telling a path from other code, suggestions.

use crate::util::{levenshtein, nearest};

/// The folder of a repository-relative file path (`docs` for
/// `docs/a.md`, empty for `README.md`).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// Join `rel` onto the folder `base` and normalise `.` and `..`; `None`
/// when it climbs above the repository's top.
pub fn join(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|s| !s.is_empty()).collect()
    };
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Decode `%XX` escapes (invalid ones are kept as written).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// A URL with a scheme (`https:`, `mailto:`) or protocol-relative (`//`).
pub fn is_external(url: &str) -> bool {
    if url.starts_with("//") {
        return true;
    }
    let Some(colon) = url.find(':') else {
        return false;
    };
    let scheme = &url[..colon];
    !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// The path an inline code span names, if it looks like one: no spaces or
/// glob or shell characters, at least one `/`, not a URL. A trailing
/// `:LINE` or `:LINE:COL` is dropped. Whether it names a repository path is
/// decided by the caller (its first component must exist).
pub fn code_path(code: &str) -> Option<&str> {
    let code = code.trim();
    if code.is_empty()
        || code.contains("://")
        || code.starts_with(['-', '~', '$', '/', '@', '.'])
            && !(code.starts_with("./") || code.starts_with("../"))
    {
        return None;
    }
    let mut path = code;
    // `src/a.rs:12` or `src/a.rs:12:5`.
    while let Some((head, tail)) = path.rsplit_once(':') {
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            path = head;
        } else {
            break;
        }
    }
    let bad = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '*' | '?'
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '<'
                    | '>'
                    | '|'
                    | '$'
                    | '='
                    | ':'
                    | ';'
                    | ','
                    | '\''
                    | '"'
                    | '('
                    | ')'
                    | '!'
                    | '\\'
                    | '`'
                    | '&'
                    | '#'
                    | '%'
                    | '^'
                    | '+'
            )
    };
    if !path.contains('/') || path.contains(bad) || path.contains("//") {
        return None;
    }
    Some(path)
}

/// A close existing path for a missing one: a file of the same name
/// elsewhere, or a sibling whose name is a near miss.
pub fn nearest_path<'p>(paths: &'p [String], missing: &str) -> Option<&'p str> {
    let missing = missing.trim_end_matches('/');
    let name = missing.rsplit('/').next().unwrap_or(missing);
    let dir = parent(missing);
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let start = paths.partition_point(|p| p.as_str() < prefix.as_str());
    let siblings = paths[start..]
        .iter()
        .take_while(|p| p.starts_with(&prefix))
        .filter(|p| !p[prefix.len()..].contains('/'))
        .map(|p| p.as_str());
    if let Some(s) = nearest(missing, siblings) {
        return Some(s);
    }
    // The same file name in another folder: it probably moved.
    let same_name: Vec<&str> = paths
        .iter()
        .filter(|p| p.rsplit('/').next() == Some(name))
        .map(String::as_str)
        .collect();
    same_name
        .into_iter()
        .min_by_key(|p| (levenshtein(p, missing), p.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_climbs() {
        assert_eq!(join("docs", "a.md").as_deref(), Some("docs/a.md"));
        assert_eq!(join("docs", "../src/x.rs").as_deref(), Some("src/x.rs"));
        assert_eq!(join("docs", "/src/x.rs").as_deref(), Some("src/x.rs"));
        assert_eq!(join("", "../x"), None);
        assert_eq!(join("", "./a/./b"), Some("a/b".into()));
    }

    #[test]
    fn code_paths() {
        assert_eq!(code_path("src/a.rs"), Some("src/a.rs"));
        assert_eq!(code_path("src/a.rs:12:4"), Some("src/a.rs"));
        assert_eq!(code_path("../a/b"), Some("../a/b"));
        for not in [
            "cargo test",
            "src/**",
            "a.rs",
            "https://x.y/z",
            "--base",
            "tickets/<ID>.md",
            "a=b/c",
            "/etc/hosts",
            "x::y/z",
        ] {
            assert_eq!(code_path(not), None, "{not}");
        }
    }

    #[test]
    fn externals_and_decoding() {
        assert!(is_external("https://example.com"));
        assert!(is_external("mailto:a@b"));
        assert!(!is_external("docs/a.md"));
        assert!(!is_external("#anchor"));
        assert_eq!(percent_decode("a%20b%zz"), "a b%zz");
    }

    #[test]
    fn suggestions() {
        let paths: Vec<String> = ["docs/guide.md", "docs/intro.md", "src/lib.rs", "x/guide.md"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(nearest_path(&paths, "docs/gide.md"), Some("docs/guide.md"));
        assert_eq!(nearest_path(&paths, "old/lib.rs"), Some("src/lib.rs"));
        assert_eq!(nearest_path(&paths, "zzz/qqq.md"), None);
    }
}
