//! Witnesses built from the patterns' component structure, without a
//! product search (issue 23). Most scopes are sequences of components that
//! are literal names, simple globs (`*`, `?`, ASCII classes) or `**`, after
//! expanding braces. Two such patterns share a path exactly when their
//! component sequences can be aligned, and the cheapest common path is a
//! small dynamic programme over (component of one, component of the other),
//! with a byte-level one inside a component when two globs meet. Costs and
//! the readable order are the product search's (`byte_rank`), so the path
//! built is a cheapest one, the first in readable order among them.
//!
//! Nothing here decides anything on its own: the caller matches the built
//! path against both scopes' real automata (allowed sides accept it, no
//! prohibited side does, and it is a valid path) and runs the product search
//! whenever construction or that check fails. A pair reported disjoint has
//! always been decided by the search.

use super::overlap::{LEADING_DOT_PENALTY, byte_rank};
use super::prefixes_compatible;
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::sync::OnceLock;

/// A set of bytes, one bit each.
type ByteSet = [u64; 4];

fn has(set: &ByteSet, b: u8) -> bool {
    set.get(usize::from(b >> 6))
        .is_some_and(|w| (w >> (b & 63)) & 1 == 1)
}

fn add(set: &mut ByteSet, b: u8) {
    if let Some(w) = set.get_mut(usize::from(b >> 6)) {
        *w |= 1 << (b & 63);
    }
}

/// One token of a component glob, at byte level (globset's regexes are
/// byte regexes: `?` is one byte other than `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Byte(u8),
    Set(ByteSet),
    Star,
}

/// A component glob (no `/`, no `**`): its tokens, and the cheapest valid
/// component it matches (`None`: none).
#[derive(Debug, Clone)]
struct Glob {
    toks: Vec<Tok>,
    /// Every token is a byte: the component is this literal name.
    literal: bool,
    cheapest: Option<Cand>,
}

#[derive(Debug, Clone)]
enum Comp {
    Glob(Glob),
    /// `**` (not last): zero or more components.
    Any,
}

/// A pattern the constructor understands: one component sequence per
/// alternative of its braces. A trailing `**` (one or more components) is
/// stored as `*` then `**`.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    alts: Vec<Vec<Comp>>,
}

/// Most alternatives a pattern's braces may expand to.
const MAX_ALTERNATIVES: usize = 16;

impl Shape {
    /// The shape of a normalised pattern, or `None` when it is outside the
    /// family (nested braces, non-ASCII or unusual classes, more than
    /// [`MAX_ALTERNATIVES`] alternatives).
    pub(super) fn of(normalized: &str) -> Option<Shape> {
        let alts = expand(normalized)?
            .iter()
            .map(|alt| components(alt))
            .collect::<Option<Vec<_>>>()?;
        (!alts.is_empty()).then_some(Shape { alts })
    }
}

/// The brace-free alternatives of `pattern`: `{x,y}` groups expanded
/// textually (no nesting; a class may hold `,` or `{`).
fn expand(pattern: &str) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let mut class = String::from('[');
                let mut first = true;
                loop {
                    let d = chars.next()?;
                    class.push(d);
                    if d == ']' && !first {
                        break;
                    }
                    first = matches!(d, '!' | '^') && class.len() == 2;
                }
                for o in &mut out {
                    o.push_str(&class);
                }
            }
            '{' => {
                let mut group = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        '{' | '[' => return None,
                        d => group.push(d),
                    }
                }
                let parts: Vec<&str> = group.split(',').collect();
                if parts.iter().any(|p| p.is_empty())
                    || out.len().saturating_mul(parts.len()) > MAX_ALTERNATIVES
                {
                    return None;
                }
                out = out
                    .iter()
                    .flat_map(|o| parts.iter().map(move |p| format!("{o}{p}")))
                    .collect();
            }
            '}' => return None,
            c => {
                for o in &mut out {
                    o.push(c);
                }
            }
        }
    }
    Some(out)
}

/// The components of a brace-free pattern, `**` as globset reads it: a
/// whole-component `**` is any number of components (at least one when it
/// ends the pattern), `**` inside a component is `*`.
fn components(pattern: &str) -> Option<Vec<Comp>> {
    let parts: Vec<&str> = pattern.split('/').collect();
    let mut comps = Vec::new();
    for part in &parts {
        if part.is_empty() {
            return None;
        }
        if *part == "**" {
            if !matches!(comps.last(), Some(Comp::Any)) {
                comps.push(Comp::Any);
            }
        } else {
            comps.push(Comp::Glob(glob(part)?));
        }
    }
    if matches!(comps.last(), Some(Comp::Any)) {
        comps.pop();
        comps.push(Comp::Glob(glob("*")?));
        comps.push(Comp::Any);
    }
    Some(comps)
}

fn glob(text: &str) -> Option<Glob> {
    let mut toks = Vec::new();
    let mut bytes = text.bytes().peekable();
    while let Some(b) = bytes.next() {
        match b {
            b'*' => {
                if toks.last() != Some(&Tok::Star) {
                    toks.push(Tok::Star);
                }
            }
            b'?' => toks.push(Tok::Set(any_byte())),
            b'[' => {
                let negated = matches!(bytes.peek(), Some(b'!' | b'^'));
                if negated {
                    bytes.next();
                }
                let mut set: ByteSet = [0; 4];
                let mut first = true;
                loop {
                    let c = bytes.next()?;
                    if c == b']' && !first {
                        break;
                    }
                    first = false;
                    // Plain ASCII names and ranges only.
                    if !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b',')) {
                        return None;
                    }
                    if bytes.peek() == Some(&b'-') {
                        bytes.next();
                        let end = bytes.next()?;
                        if !end.is_ascii_alphanumeric() || end < c {
                            return None;
                        }
                        for x in c..=end {
                            add(&mut set, x);
                        }
                    } else {
                        add(&mut set, c);
                    }
                }
                if negated {
                    let all = any_byte();
                    for (s, a) in set.iter_mut().zip(all) {
                        *s = !*s & a;
                    }
                }
                toks.push(Tok::Set(set));
            }
            b'{' | b'}' | b'\\' | b'/' => return None,
            b => toks.push(Tok::Byte(b)),
        }
    }
    let literal = toks.iter().all(|t| matches!(t, Tok::Byte(_)));
    let mut g = Glob {
        toks,
        literal,
        cheapest: None,
    };
    g.cheapest = if literal {
        let bytes: Vec<u8> = g
            .toks
            .iter()
            .filter_map(|t| match t {
                Tok::Byte(b) => Some(*b),
                _ => None,
            })
            .collect();
        Cand::component(bytes)
    } else {
        meet_tokens(&g.toks, &[Tok::Star])
    };
    Some(g)
}

/// `?`: any byte but `/`.
fn any_byte() -> ByteSet {
    let mut set = [u64::MAX; 4];
    if let Some(w) = set.get_mut(0) {
        *w &= !(1 << b'/');
    }
    set
}

/// A path or component under construction, with the product search's cost.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cand {
    cost: u32,
    bytes: Vec<u8>,
}

/// The product search's readable order of each byte (`u32::MAX`: never
/// emitted).
fn order() -> &'static [u32; 256] {
    static ORDER: OnceLock<[u32; 256]> = OnceLock::new();
    ORDER.get_or_init(|| std::array::from_fn(|b| byte_rank(b as u8).map_or(u32::MAX, |r| r.1)))
}

/// The bytes a witness may hold, best first.
fn ranked() -> &'static [u8] {
    static RANKED: OnceLock<Vec<u8>> = OnceLock::new();
    RANKED.get_or_init(|| {
        let mut bytes: Vec<u8> = (0..=255u8).filter(|&b| byte_rank(b).is_some()).collect();
        bytes.sort_by_key(|&b| byte_rank(b));
        bytes
    })
}

impl Cand {
    /// A literal component as a candidate (`None` if not a valid name).
    fn component(bytes: Vec<u8>) -> Option<Cand> {
        if bytes.is_empty() || bytes == b"." || bytes == b".." {
            return None;
        }
        let mut cost = 0u32;
        for &b in &bytes {
            cost = cost.saturating_add(byte_rank(b)?.0);
        }
        if bytes.first() == Some(&b'.') {
            cost = cost.saturating_add(LEADING_DOT_PENALTY);
        }
        Some(Cand { cost, bytes })
    }

    /// Cheaper first, then first in the readable order.
    fn cmp(&self, other: &Cand) -> Ordering {
        let order = order();
        self.cost.cmp(&other.cost).then_with(|| {
            let rank = |b: &u8| order.get(usize::from(*b)).copied().unwrap_or(u32::MAX);
            self.bytes
                .iter()
                .map(rank)
                .cmp(other.bytes.iter().map(rank))
        })
    }
}

/// Keeps the better of `slot` and `cand`.
fn relax(slot: &mut Option<Cand>, cand: Cand) {
    if slot.as_ref().is_none_or(|s| cand.cmp(s) == Ordering::Less) {
        *slot = Some(cand);
    }
}

/// Does the literal `name` match the component glob `toks`? (A bit per
/// token position, one pass over `name`.)
fn glob_matches(toks: &[Tok], name: &[u8]) -> bool {
    if toks.len() >= 64 {
        return glob_matches_long(toks, name);
    }
    let n = toks.len();
    let stars: u64 = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == Tok::Star)
        .fold(0, |m, (i, _)| m | 1 << i);
    // A star may match nothing: from it, the next position is reachable.
    let close = |mut set: u64| loop {
        let more = set | (set & stars) << 1;
        if more == set {
            return set;
        }
        set = more;
    };
    let mut cur = close(1);
    for &b in name {
        let mut next = 0u64;
        let mut bits = cur;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            match toks.get(i) {
                Some(Tok::Star) if b != b'/' => next |= 1 << i,
                Some(Tok::Byte(c)) if *c == b => next |= 1 << (i + 1),
                Some(Tok::Set(s)) if has(s, b) => next |= 1 << (i + 1),
                _ => {}
            }
        }
        cur = close(next);
        if cur == 0 {
            return false;
        }
    }
    (cur >> n) & 1 == 1
}

/// [`glob_matches`] for globs of 64 tokens or more.
fn glob_matches_long(toks: &[Tok], name: &[u8]) -> bool {
    let n = toks.len();
    let mut cur = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    let close = |set: &mut Vec<bool>| {
        for i in 0..n {
            if set[i] && toks[i] == Tok::Star {
                set[i + 1] = true;
            }
        }
    };
    cur[0] = true;
    close(&mut cur);
    for &b in name {
        next.iter_mut().for_each(|x| *x = false);
        for i in 0..n {
            if !cur[i] {
                continue;
            }
            match &toks[i] {
                Tok::Star => next[i] |= b != b'/',
                Tok::Byte(c) => next[i + 1] |= *c == b,
                Tok::Set(s) => next[i + 1] |= has(s, b),
            }
        }
        close(&mut next);
        std::mem::swap(&mut cur, &mut next);
    }
    cur[n]
}

/// The cheapest valid component both globs match (the first in readable
/// order among the cheapest); borrowed from a glob's cheapest component in
/// the common cases.
fn meet<'g>(g: &'g Glob, h: &'g Glob) -> Option<Cow<'g, Cand>> {
    if g.literal && h.literal {
        return (g.toks == h.toks).then_some(Cow::Borrowed(g.cheapest.as_ref()?));
    }
    if g.literal {
        let c = g.cheapest.as_ref()?;
        return glob_matches(&h.toks, &c.bytes).then_some(Cow::Borrowed(c));
    }
    if h.literal {
        let c = h.cheapest.as_ref()?;
        return glob_matches(&g.toks, &c.bytes).then_some(Cow::Borrowed(c));
    }
    if g.toks == h.toks || h.toks == [Tok::Star] {
        return g.cheapest.as_ref().map(Cow::Borrowed);
    }
    if g.toks == [Tok::Star] {
        return h.cheapest.as_ref().map(Cow::Borrowed);
    }
    meet_tokens(&g.toks, &h.toks).map(Cow::Owned)
}

/// The byte-level programme behind [`meet`]: states (token of `g`, token of
/// `h`, how the component starts: empty, `.`, `..`, other), visited in an
/// order every move respects (each consumes a token of one side or both,
/// except a byte under two stars, which only moves to "other").
fn meet_tokens(g: &[Tok], h: &[Tok]) -> Option<Cand> {
    let (n, m) = (g.len(), h.len());
    let at = |x: usize, y: usize, f: usize| (x * (m + 1) + y) * 4 + f;
    let mut best: Vec<Option<Cand>> = vec![None; (n + 1) * (m + 1) * 4];
    best[at(0, 0, 0)] = Some(Cand {
        cost: 0,
        bytes: Vec::new(),
    });
    let set_of = |t: &Tok| -> ByteSet {
        match t {
            Tok::Byte(b) => {
                let mut s = [0; 4];
                add(&mut s, *b);
                s
            }
            Tok::Set(s) => *s,
            Tok::Star => any_byte(),
        }
    };
    for x in 0..=n {
        for y in 0..=m {
            for f in 0..4 {
                let Some(cur) = best[at(x, y, f)].clone() else {
                    continue;
                };
                let (tg, th) = (g.get(x), h.get(y));
                if tg == Some(&Tok::Star) {
                    relax(&mut best[at(x + 1, y, f)], cur.clone());
                }
                if th == Some(&Tok::Star) {
                    relax(&mut best[at(x, y + 1, f)], cur.clone());
                }
                // (bytes allowed, next x, next y)
                let step = match (tg, th) {
                    // Both stars take a byte only to make the component
                    // valid (`*` alone is `a`, not empty or `.`).
                    (Some(Tok::Star), Some(Tok::Star)) if f < 3 => (any_byte(), x, y),
                    (Some(Tok::Star), Some(Tok::Star)) | (None, _) | (_, None) => continue,
                    (Some(Tok::Star), Some(t)) => (set_of(t), x, y + 1),
                    (Some(t), Some(Tok::Star)) => (set_of(t), x + 1, y),
                    (Some(s), Some(t)) => {
                        let (a, b) = (set_of(s), set_of(t));
                        let mut both = [0; 4];
                        for ((o, a), b) in both.iter_mut().zip(a).zip(b) {
                            *o = a & b;
                        }
                        (both, x + 1, y + 1)
                    }
                };
                let (set, nx, ny) = step;
                // The best byte other than `.`, and `.`: they lead to
                // different states.
                let plain = ranked()
                    .iter()
                    .copied()
                    .find(|&b| b != b'.' && b != b'/' && has(&set, b));
                let dot = has(&set, b'.')
                    .then_some(b'.')
                    .filter(|_| (nx, ny) != (x, y));
                for b in [plain, dot].into_iter().flatten() {
                    let Some((cost, _)) = byte_rank(b) else {
                        continue;
                    };
                    let (nf, extra) = match (f, b) {
                        (0, b'.') => (1, LEADING_DOT_PENALTY),
                        (1, b'.') => (2, 0),
                        _ => (3, 0),
                    };
                    let mut bytes = cur.bytes.clone();
                    bytes.push(b);
                    relax(
                        &mut best[at(nx, ny, nf)],
                        Cand {
                            cost: cur.cost.saturating_add(cost + extra),
                            bytes,
                        },
                    );
                }
            }
        }
    }
    best[at(n, m, 3)].take()
}

/// Longest path the constructor builds: a longer one leaves the pair to
/// the product search.
const MAX_PATH: usize = 256;

/// The path built does not fit in [`MAX_PATH`] bytes.
struct TooLong;

/// One state's best path so far; its bytes are the state's slot of the
/// arena.
#[derive(Debug, Clone, Copy)]
struct Best {
    cost: u32,
    len: usize,
}

/// Reused tables of [`align`], one per thread.
#[derive(Default)]
struct Scratch {
    best: Vec<Option<Best>>,
    arena: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Offers state `to` the path of state `from`, followed by `/` and `comp`
/// (or by nothing when `comp` is `None`), and keeps it if it is cheaper, or
/// as cheap and first in readable order.
fn offer(
    best: &mut [Option<Best>],
    arena: &mut [u8],
    from: usize,
    to: usize,
    comp: Option<&Cand>,
) -> Result<(), TooLong> {
    let Some(Some(f)) = best.get(from).copied() else {
        return Ok(());
    };
    let slash = comp.is_some() && f.len > 0;
    let (add_cost, add) = comp.map_or((0, &[][..]), |c| (c.cost, c.bytes.as_slice()));
    let cost = f.cost + u32::from(slash) + add_cost;
    let len = f.len + usize::from(slash) + add.len();
    if len > MAX_PATH {
        return Err(TooLong);
    }
    let src = from * MAX_PATH;
    let dst = to * MAX_PATH;
    if let Some(Some(t)) = best.get(to).copied() {
        let order = match cost.cmp(&t.cost) {
            Ordering::Equal => {
                let rank = |b: &u8| order().get(usize::from(*b)).copied().unwrap_or(u32::MAX);
                let sep: &[u8] = if slash { b"/" } else { b"" };
                arena[src..src + f.len]
                    .iter()
                    .chain(sep)
                    .chain(add)
                    .map(rank)
                    .cmp(arena[dst..dst + t.len].iter().map(rank))
            }
            other => other,
        };
        if order != Ordering::Less {
            return Ok(());
        }
    }
    arena.copy_within(src..src + f.len, dst);
    let mut at = dst + f.len;
    if slash {
        arena[at] = b'/';
        at += 1;
    }
    arena[at..at + add.len()].copy_from_slice(add);
    best[to] = Some(Best { cost, len });
    Ok(())
}

/// The cheapest path both component sequences match (the first in readable
/// order among the cheapest), offered to `out`. States are (component of
/// `a`, component of `b`); every move consumes a component of one side or
/// both, so row-major order visits each state after all that lead to it.
fn align(a: &[Comp], b: &[Comp], out: &mut Option<Cand>) -> Result<(), TooLong> {
    let (n, m) = (a.len(), b.len());
    let at = |i: usize, j: usize| i * (m + 1) + j;
    let states = (n + 1) * (m + 1);
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let Scratch { best, arena } = &mut *scratch;
        best.clear();
        best.resize(states, None);
        if arena.len() < states * MAX_PATH {
            arena.resize(states * MAX_PATH, 0);
        }
        best[0] = Some(Best { cost: 0, len: 0 });
        for i in 0..=n {
            for j in 0..=m {
                let s = at(i, j);
                if best[s].is_none() {
                    continue;
                }
                let (ca, cb) = (a.get(i), b.get(j));
                if matches!(ca, Some(Comp::Any)) {
                    offer(best, arena, s, at(i + 1, j), None)?;
                }
                if matches!(cb, Some(Comp::Any)) {
                    offer(best, arena, s, at(i, j + 1), None)?;
                }
                match (ca, cb) {
                    (Some(Comp::Glob(g)), Some(Comp::Glob(h))) => {
                        if let Some(c) = meet(g, h) {
                            offer(best, arena, s, at(i + 1, j + 1), Some(&c))?;
                        }
                    }
                    (Some(Comp::Glob(g)), Some(Comp::Any)) => {
                        if let Some(c) = &g.cheapest {
                            offer(best, arena, s, at(i + 1, j), Some(c))?;
                        }
                    }
                    (Some(Comp::Any), Some(Comp::Glob(h))) => {
                        if let Some(c) = &h.cheapest {
                            offer(best, arena, s, at(i, j + 1), Some(c))?;
                        }
                    }
                    _ => {}
                }
            }
        }
        let end = at(n, m);
        if let Some(Some(f)) = best.get(end).copied()
            && f.len > 0
        {
            let path = &arena[end * MAX_PATH..end * MAX_PATH + f.len];
            let better = out.as_ref().is_none_or(|o| {
                let rank = |b: &u8| order().get(usize::from(*b)).copied().unwrap_or(u32::MAX);
                f.cost
                    .cmp(&o.cost)
                    .then_with(|| path.iter().map(rank).cmp(o.bytes.iter().map(rank)))
                    == Ordering::Less
            });
            if better {
                *out = Some(Cand {
                    cost: f.cost,
                    bytes: path.to_vec(),
                });
            }
        }
        Ok(())
    })
}

/// The allowed patterns of one scope, as the constructor sees them: each
/// one's literal prefix and shape.
pub(super) type Side<'a> = &'a [(String, Option<Shape>)];

/// The cheapest path that some allowed pattern of `a` and some of `b` both
/// match, if the constructor understands every pair of them that literal
/// prefixes do not keep apart. It is a cheapest common path of the two
/// allowed sides, and the first in readable order among them; `None` when
/// some pair is outside the family, or no pair has a common path.
pub(super) fn cheapest_common(a: Side<'_>, b: Side<'_>) -> Option<Vec<u8>> {
    let mut best: Option<Cand> = None;
    for (pa, sa) in a {
        for (pb, sb) in b {
            if !prefixes_compatible(pa, pb) {
                continue;
            }
            let (sa, sb) = (sa.as_ref()?, sb.as_ref()?);
            for x in &sa.alts {
                for y in &sb.alts {
                    align(x, y, &mut best).ok()?;
                }
            }
        }
    }
    best.map(|c| c.bytes)
}

/// The product search's cost of `path` (`None`: not a valid path), so that
/// tests can compare a built witness with the search's.
#[cfg(test)]
pub(super) fn path_cost(path: &str) -> Option<u32> {
    let mut cost = 0u32;
    for (k, c) in path.split('/').enumerate() {
        cost += Cand::component(c.as_bytes().to_vec())?.cost + u32::from(k > 0);
    }
    Some(cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common(a: &str, b: &str) -> Option<String> {
        let side = |p: &str| vec![(String::new(), Shape::of(p))];
        cheapest_common(&side(a), &side(b)).map(|w| String::from_utf8(w).unwrap_or_default())
    }

    #[test]
    fn builds_the_cheapest_common_path() {
        assert_eq!(
            common("**/m1/**/*.rs", "**/m2/**/*.rs").as_deref(),
            Some("m1/m2/a.rs")
        );
        assert_eq!(
            common("src/ui/**", "src/**/*.rs").as_deref(),
            Some("src/ui/a.rs")
        );
        assert_eq!(
            common("docs/*.md", "docs/**/api.md").as_deref(),
            Some("docs/api.md")
        );
        assert_eq!(
            common("*.{rs,toml}", "Cargo.*").as_deref(),
            Some("Cargo.rs")
        );
        assert_eq!(common("**", "**").as_deref(), Some("a"));
        assert_eq!(
            common(".github/**", "**/*.yml").as_deref(),
            Some(".github/a.yml")
        );
        assert_eq!(common("a/[!a-z]", "a/?").as_deref(), Some("a/0"));
        assert_eq!(common("*/x.rs", "**/y.rs"), None);
        assert_eq!(common("x/*", "x/[.]"), None);
        assert!(Shape::of("src/{a,{b,c}}").is_none());
    }
}
