//! `file:` URIs to paths and back. Clients send percent-encoded URIs
//! (`file:///home/me/a%20b/plan.md`); any other scheme names no file.

use std::path::{Path, PathBuf};

use lsp_types::Uri;

/// The path a `file:` URI names, if it is one (an empty or `localhost`
/// authority, an absolute path).
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let bytes = decode(rest)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        let s = String::from_utf8(bytes).ok()?;
        // `/C:/x` on Windows.
        Some(PathBuf::from(s.strip_prefix('/').unwrap_or(&s)))
    }
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The `file:` URI of an absolute path.
pub fn from_path(path: &Path) -> Uri {
    let mut s = String::from("file://");
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = {
        let p = path.to_string_lossy().replace('\\', "/");
        let p = if p.starts_with('/') {
            p
        } else {
            format!("/{p}")
        };
        p.into_bytes()
    };
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s.parse()
        .expect("a percent-encoded file URI is a valid URI")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_spaces_and_non_ascii() {
        let p = Path::new("/tmp/a b/é#1/plan.md");
        let uri = from_path(p);
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%A9%231/plan.md");
        assert_eq!(to_path(&uri).as_deref(), Some(p));
        let vscode: Uri = "file:///tmp/a%20b/plan.md".parse().unwrap();
        assert_eq!(to_path(&vscode), Some(PathBuf::from("/tmp/a b/plan.md")));
        let other: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(to_path(&other), None);
        let bad: Uri = "file:///a%zz".parse().unwrap_or_else(|_| from_path(p));
        let _ = to_path(&bad);
    }
}
