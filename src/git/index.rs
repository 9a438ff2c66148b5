//! Keeping the index's on-disk version when orch rewrites it. gix writes
//! version 2, or 3 when an entry has extended flags, which is what git does
//! for those two; but an index git wrote as version 4 (`index.version = 4`,
//! `feature.manyFiles`) must stay version 4: every path prefix-compressed
//! against the one before it (git's `varint`), entries unpadded. The extensions are copied, except the end-of-index entry
//! (`EOIE`), an optional table of byte offsets that no longer hold; the
//! trailing checksum is computed again.

use gix::index::Version;

/// `bytes`, an index as gix wrote it, in version 4 when `want` is 4.
pub(super) fn keep_version(
    bytes: Vec<u8>,
    want: Version,
    hash: gix::hash::Kind,
) -> Result<Vec<u8>, String> {
    let written = version_of(&bytes)?;
    let want_n = number(want);
    if want_n != 4 || written == 4 {
        return Ok(bytes);
    }
    let hash_len = hash.len_in_bytes();
    let count = u32::from_be_bytes(field(&bytes, 8)?) as usize;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(b"DIRC");
    out.extend_from_slice(&4u32.to_be_bytes());
    out.extend_from_slice(&(count as u32).to_be_bytes());
    // Stat (40 bytes), the object id, the 16-bit flags.
    let fixed = 40 + hash_len + 2;
    let mut at = 12;
    let mut previous: &[u8] = &[];
    for _ in 0..count {
        let start = at;
        let flags = u16::from_be_bytes(field(&bytes, start + fixed - 2)?);
        let head = fixed + if flags & 0x4000 != 0 { 2 } else { 0 };
        let path_start = start + head;
        let path_len = bytes
            .get(path_start..)
            .and_then(|rest| rest.iter().position(|&b| b == 0))
            .ok_or("an index entry's path is not terminated")?;
        let path = &bytes[path_start..path_start + path_len];
        out.extend_from_slice(&bytes[start..path_start]);
        let common = previous
            .iter()
            .zip(path)
            .take_while(|(a, b)| a == b)
            .count();
        varint((previous.len() - common) as u64, &mut out);
        out.extend_from_slice(&path[common..]);
        out.push(0);
        previous = path;
        // Versions 2 and 3 pad every entry to a multiple of 8 bytes; 4
        // does not.
        let padded = (head + path_len + 1).div_ceil(8) * 8;
        at = start + padded;
    }
    // Extensions up to the checksum.
    let end = bytes
        .len()
        .checked_sub(hash_len)
        .filter(|&e| e >= at)
        .ok_or("the index ends inside its entries")?;
    while at < end {
        let size = u32::from_be_bytes(field(&bytes, at + 4)?) as usize;
        let next = at + 8 + size;
        if next > end {
            return Err("an index extension runs past the end".into());
        }
        if &bytes[at..at + 4] != b"EOIE" {
            out.extend_from_slice(&bytes[at..next]);
        }
        at = next;
    }
    let mut hasher = gix::hash::hasher(hash);
    hasher.update(&out);
    let sum = hasher.try_finalize().map_err(|e| e.to_string())?;
    out.extend_from_slice(sum.as_bytes());
    Ok(out)
}

fn number(v: Version) -> u32 {
    match v {
        Version::V2 => 2,
        Version::V3 => 3,
        Version::V4 => 4,
    }
}

fn version_of(bytes: &[u8]) -> Result<u32, String> {
    if bytes.get(..4) != Some(b"DIRC") {
        return Err("not an index".into());
    }
    Ok(u32::from_be_bytes(field(bytes, 4)?))
}

fn field<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N], String> {
    bytes
        .get(at..at + N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "the index is cut short".to_string())
}

/// git's `encode_varint` (varint.c): 7 bits a byte, most significant
/// first, each continuation byte one less than its plain value.
fn varint(mut value: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 16];
    let mut pos = buf.len() - 1;
    buf[pos] = (value & 127) as u8;
    loop {
        value >>= 7;
        if value == 0 {
            break;
        }
        value -= 1;
        pos -= 1;
        buf[pos] = 128 | (value & 127) as u8;
    }
    out.extend_from_slice(&buf[pos..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_as_git_writes_them() {
        let enc = |v| {
            let mut out = Vec::new();
            varint(v, &mut out);
            out
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(127), [127]);
        assert_eq!(enc(128), [128, 0]);
        assert_eq!(enc(16511), [255, 127]);
        assert_eq!(enc(16512), [128, 128, 0]);
    }
}
