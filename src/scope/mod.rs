//! Scopes: the glob dialect of a card's allowed and prohibited paths, and the
//! questions the linter asks about them (DESIGN section 5). A [`Pattern`] is a
//! gitignore-like glob over repository-relative `/`-separated paths (`*` and
//! `?` never cross `/`, `**` does, `{a,b}` and `[...]` work, a bare directory
//! such as `src/ui` means `src/ui/**`); a [`Scope`] is "in some allowed
//! pattern and in no prohibited one". [`overlap`] decides exactly, on the
//! automata, whether two scopes can ever share a path (existing or not) and
//! returns the shortest readable witness; [`is_empty`] decides whether a scope
//! prohibits everything it allows; [`match_files`] sorts a concrete file list
//! into scopes quickly. Nothing here panics on any input string: malformed or
//! escaping patterns are [`PatternError`]s and automata that outgrow the
//! [`Budget`] give [`Overlap::TooComplex`].

mod construct;
mod overlap;

use std::fmt;

use std::sync::OnceLock;

use globset::{Candidate, GlobBuilder, GlobSetBuilder};
use regex_automata::meta;

pub(crate) use overlap::parallelism;
pub use overlap::{CompiledScope, PairReport, overlap_compiled, pairwise_overlaps};
#[doc(hidden)]
pub use overlap::{overlap_reference, pairwise_overlaps_reference};

/// Why a scope pattern was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The pattern leaves the repository or cannot name a repository path:
    /// absolute, a drive, a backslash, a `..` component, or empty.
    Escapes(String),
    /// globset could not compile the pattern; its message.
    Invalid(String),
    /// The pattern's automaton is larger than [`Budget::default`] allows.
    TooComplex,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Escapes(reason) => {
                write!(
                    f,
                    "pattern does not name a path inside the repository: {reason}"
                )
            }
            PatternError::Invalid(message) => write!(f, "invalid glob: {message}"),
            PatternError::TooComplex => write!(
                f,
                "glob is too complex to analyse (its automaton exceeds the size budget)"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

/// The longest glob `orch` accepts, in bytes: longer ones are reported as
/// too complex rather than compiled (globset's matcher compilation has no
/// size limit of its own).
pub const MAX_PATTERN_BYTES: usize = 1024;

/// One glob of a scope, normalised. Parsing is cheap; the matcher is built
/// on first use, without a full DFA (a lazy DFA is enough for matching a few
/// paths; the overlap check builds its own automata).
/// Cloning is cheap: a card's patterns are shared by its scope, and the
/// lazily built matcher with them.
#[derive(Debug, Clone)]
pub struct Pattern(std::sync::Arc<PatternInner>);

/// A large program holds tens of thousands of patterns for the whole run, so
/// the texts a pattern derives (as written, normalised, its literal prefix)
/// are ranges of one string, and the regex is derived when first asked for.
#[derive(Debug)]
struct PatternInner {
    /// The texts below, each once: `raw`, `normalized` and `prefix` are
    /// ranges of it, and may be the same range.
    text: Box<str>,
    raw: Range,
    normalized: Range,
    /// Every matching path starts with this text.
    prefix: Range,
    /// A string test for the common shapes (`dir/**`, a bare path), so most
    /// matching never builds a regex.
    fast: Option<Fast>,
    matcher: OnceLock<Option<meta::Regex>>,
    regex: OnceLock<Box<str>>,
    /// What every matching path's last components look like, when simple.
    tail: Option<Tail>,
}

/// A range of [`PatternInner::text`].
#[derive(Debug, Clone, Copy)]
struct Range {
    start: u32,
    end: u32,
}

impl PatternInner {
    fn get(&self, r: Range) -> &str {
        &self.text[r.start as usize..r.end as usize]
    }

    fn tail_text(&self) -> &str {
        let normalized = self.get(self.normalized);
        self.tail.map_or("", |t| &normalized[t.start as usize..])
    }
}

/// The components after a pattern's last `**` (all of them when it has
/// none), which every match's last components match one for one. Kept only
/// when each is simple enough to compare (`*` and `?` wildcards, no classes
/// or alternatives). It prunes pairs literal prefixes cannot:
/// `**/m1/*.rs` and `**/m2/*.rs` end in different directories.
#[derive(Debug, Clone, Copy)]
struct Tail {
    /// Where the components start in the normalised pattern.
    start: u32,
    /// The pattern has no `**`: a match has exactly these components.
    exact: bool,
}

impl Tail {
    fn of(normalized: &str) -> Option<Tail> {
        if normalized.contains(['{', '}', '[', ']']) {
            return None;
        }
        if normalized.split('/').any(|c| c.contains("**") && c != "**") {
            return None;
        }
        // After the last `**` component; none when it is the last one.
        let start = if normalized == "**" || normalized.ends_with("/**") {
            normalized.len()
        } else {
            normalized.rfind("**/").map_or(0, |i| i + 3)
        };
        Some(Tail {
            start: start as u32,
            exact: !normalized.split('/').any(|c| c == "**"),
        })
    }

    /// The components of `text` (a tail's), last first.
    fn components(text: &str) -> impl Iterator<Item = &str> {
        text.rsplit('/').filter(move |_| !text.is_empty())
    }

    /// Could some path end as both describe (`a` and `b` their texts)?
    /// `false` is certain.
    fn compatible(&self, a: &str, other: &Tail, b: &str) -> bool {
        if self.exact && other.exact && Tail::components(a).count() != Tail::components(b).count() {
            return false;
        }
        Tail::components(a)
            .zip(Tail::components(b))
            .all(|(x, y)| components_compatible(x, y))
    }
}

/// Could one path component match both `x` and `y`, whose only wildcards are
/// `*` and `?`? Two literals must be equal; otherwise the literal text before
/// the first wildcard and after the last must agree.
fn components_compatible(x: &str, y: &str) -> bool {
    let wild = |c: char| c == '*' || c == '?';
    if !x.contains(wild) && !y.contains(wild) {
        return x == y;
    }
    let (hx, hy) = (literal_head(x), literal_head(y));
    let (tx, ty) = (literal_tail(x), literal_tail(y));
    prefixes_compatible(hx, hy) && (tx.ends_with(ty) || ty.ends_with(tx))
}

/// The text before a component's first wildcard (all of it without one).
fn literal_head(c: &str) -> &str {
    &c[..c.find(['*', '?']).unwrap_or(c.len())]
}

/// The text after a component's last wildcard (all of it without one).
fn literal_tail(c: &str) -> &str {
    &c[c.rfind(['*', '?']).map_or(0, |i| i + 1)..]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fast {
    /// `dir/**`: every path starting with `dir/` (the literal prefix).
    Under,
    /// A bare path (the literal prefix): the path itself, or anything
    /// under it.
    PathOrUnder,
}

/// The characters that make a pattern a glob rather than a literal path.
const META: &[char] = &['*', '?', '[', '{'];

impl Pattern {
    /// Parses and normalises `raw`: strips a leading `./`, drops `.` and empty
    /// components, turns a bare directory into `<dir>/**`, and compiles it with
    /// `literal_separator(true)`.
    pub fn parse(raw: &str) -> Result<Pattern, PatternError> {
        let (normalized, literal) = normalize(raw)?;
        if normalized.len() > MAX_PATTERN_BYTES {
            return Err(PatternError::TooComplex);
        }
        // Built to check it; the regex is derived again when asked for.
        GlobBuilder::new(&normalized)
            .literal_separator(true)
            .build()
            .map_err(|e| PatternError::Invalid(e.kind().to_string()))?;
        // A bare path matches itself and what is under it: its whole text is
        // a prefix of every match. Otherwise, the literal directories.
        let fast = match &literal {
            Some(_) => Some(Fast::PathOrUnder),
            None => normalized
                .strip_suffix("/**")
                .filter(|dir| !dir.contains(META))
                .map(|_| Fast::Under),
        };
        let tail = Tail::of(&normalized);
        // One string: the raw text; the normalised one unless the same; a
        // bare path's literal unless it is the raw text (it usually is;
        // otherwise the literal prefix is a prefix of the normalised text).
        let mut text = String::with_capacity(raw.len() + normalized.len());
        let mut put = |s: &str| {
            let start = text.len() as u32;
            text.push_str(s);
            Range {
                start,
                end: text.len() as u32,
            }
        };
        let raw_at = put(raw);
        let normalized_at = if normalized == raw {
            raw_at
        } else {
            put(&normalized)
        };
        let prefix_at = match &literal {
            Some(l) if *l == raw => raw_at,
            Some(l) => put(l),
            None => Range {
                start: normalized_at.start,
                end: normalized_at.start + literal_prefix_len(&normalized) as u32,
            },
        };
        Ok(Pattern(std::sync::Arc::new(PatternInner {
            text: text.into_boxed_str(),
            raw: raw_at,
            normalized: normalized_at,
            prefix: prefix_at,
            fast,
            matcher: OnceLock::new(),
            regex: OnceLock::new(),
            tail,
        })))
    }

    /// The pattern as written.
    pub fn raw(&self) -> &str {
        self.0.get(self.0.raw)
    }

    /// The pattern as compiled (`src/ui` becomes `src/ui/**`).
    pub fn normalized(&self) -> &str {
        self.0.get(self.0.normalized)
    }

    /// The regex globset derived from the normalised pattern (`(?-u)^...$`).
    pub fn regex(&self) -> &str {
        self.0.regex.get_or_init(|| {
            GlobBuilder::new(self.normalized())
                .literal_separator(true)
                .build()
                .map_or_else(|_| "[^\\s\\S]".into(), |g| g.regex().into())
        })
    }

    /// Does the repository-relative path `path` match?
    pub fn is_match(&self, path: &str) -> bool {
        match self.0.fast {
            Some(Fast::Under) => return path.starts_with(self.literal_prefix()),
            Some(Fast::PathOrUnder) => {
                return path
                    .strip_prefix(self.literal_prefix())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            }
            None => {}
        }
        let matcher = self.0.matcher.get_or_init(|| {
            // As globset builds it, minus the full DFA.
            meta::Regex::builder()
                .configure(
                    meta::Config::new()
                        .utf8_empty(false)
                        .nfa_size_limit(Some(10 * (1 << 20)))
                        .hybrid_cache_capacity(10 * (1 << 20))
                        .dfa(false),
                )
                .syntax(
                    regex_automata::util::syntax::Config::new()
                        .utf8(false)
                        .dot_matches_new_line(true),
                )
                .build(self.regex())
                .ok()
        });
        matcher
            .as_ref()
            .is_some_and(|m| m.is_match(path.as_bytes()))
    }

    /// Longest literal directory prefix (e.g. "src/ui/" for "src/ui/**/*.rs"),
    /// used to prune pairs cheaply. Every path the pattern matches starts with
    /// it; it is empty, ends with `/`, or is a bare path itself.
    pub fn literal_prefix(&self) -> &str {
        self.0.get(self.0.prefix)
    }

    /// Could some path match both patterns, judged by their literal
    /// prefixes and their last components? `false` is certain.
    pub fn may_intersect(&self, other: &Pattern) -> bool {
        prefixes_compatible(self.literal_prefix(), other.literal_prefix())
            && match (&self.0.tail, &other.0.tail) {
                (Some(a), Some(b)) => a.compatible(self.0.tail_text(), b, other.0.tail_text()),
                _ => true,
            }
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw() && self.normalized() == other.normalized()
    }
}

impl Eq for Pattern {}

/// The pattern to compile, and for a bare path (no glob syntax) its text.
fn normalize(raw: &str) -> Result<(String, Option<String>), PatternError> {
    let escapes = |reason: &str| Err(PatternError::Escapes(reason.to_string()));
    if raw.is_empty() {
        return escapes("the pattern is empty");
    }
    if raw.contains('\\') {
        return escapes("backslashes are not path separators here; use `/`");
    }
    if raw.starts_with('/') {
        return escapes("absolute paths are not allowed; write it relative to the repository root");
    }
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return escapes("drive letters are not allowed; write it relative to the repository root");
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            ".." => return escapes("`..` components leave the repository"),
            "" | "." => {}
            _ => parts.push(part),
        }
    }
    let trailing_slash = raw.ends_with('/') || raw.ends_with("/.") || raw == ".";
    if parts.is_empty() {
        // `.` or `./` names the repository root: everything.
        return Ok(("**".to_string(), None));
    }
    let joined = parts.join("/");
    let has_meta = joined.contains(META);
    if trailing_slash && !joined.ends_with("**") {
        // `src/ui/`: a directory, everything under it.
        Ok((format!("{joined}/**"), None))
    } else if !has_meta {
        // `src/ui` or `src/main.rs`: the path itself (a file) and everything
        // under it (a directory), so a bare directory needs no `/**` and a
        // file without an extension (`Makefile`) still matches itself.
        let (parent, name) = match joined.rsplit_once('/') {
            Some((parent, name)) => (format!("{parent}/"), name),
            None => (String::new(), joined.as_str()),
        };
        let name = name.replace(',', "[,]");
        Ok((
            format!("{parent}{{{name},{name}/**}}"),
            Some(joined.clone()),
        ))
    } else {
        Ok((joined, None))
    }
}

/// Length of the literal text before the first glob metacharacter, cut back
/// to just after the last `/` in it.
fn literal_prefix_len(normalized: &str) -> usize {
    let literal_end = normalized.find(META).unwrap_or(normalized.len());
    normalized
        .get(..literal_end)
        .and_then(|lit| lit.rfind('/'))
        .map_or(0, |slash| slash + 1)
}

/// Can a path start with both `p` and `q`? (One is a prefix of the other.)
pub(crate) fn prefixes_compatible(p: &str, q: &str) -> bool {
    p.starts_with(q) || q.starts_with(p)
}

/// A card's scope: allowed globs minus prohibited areas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// A path is in the scope only if some allowed pattern matches it.
    pub allowed: Vec<Pattern>,
    /// ... and no prohibited pattern matches it.
    pub prohibited: Vec<Pattern>,
}

impl Scope {
    /// A scope from its allowed and prohibited patterns.
    pub fn new(allowed: Vec<Pattern>, prohibited: Vec<Pattern>) -> Scope {
        Scope {
            allowed,
            prohibited,
        }
    }

    /// Effective scope: in some allowed pattern and in no prohibited pattern.
    pub fn is_match(&self, path: &str) -> bool {
        self.allowed.iter().any(|p| p.is_match(path))
            && !self.prohibited.iter().any(|p| p.is_match(path))
    }
}

/// Limits that keep automata work bounded on hostile or huge patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most states one DFA (one pattern, or one side of a scope) may have.
    pub max_dfa_states: usize,
    /// Most states the product search of [`overlap`] / [`is_empty`] may visit.
    pub max_product_states: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_dfa_states: 10_000,
            max_product_states: 1_000_000,
        }
    }
}

/// Result of [`overlap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlap {
    /// No path can be in both effective scopes.
    Disjoint,
    /// The shortest, most readable path in both effective scopes.
    Witness(String),
    /// The automata outgrew the [`Budget`]; the answer is unknown.
    TooComplex,
}

/// Can some path be in both effective scopes? Exact, decided on the automata.
///
/// Witnesses are valid repository paths: no leading, trailing or doubled `/`,
/// no `.` or `..` component, no control characters or backslashes, valid
/// UTF-8. Pairs whose allowed patterns have incompatible literal prefixes are
/// answered [`Overlap::Disjoint`] without building any automaton.
pub fn overlap(a: &Scope, b: &Scope, budget: &Budget) -> Overlap {
    overlap::overlap_scopes(a, b, budget)
}

/// Is the effective scope empty (every allowed path is prohibited)?
/// `Some(false)`/`Some(true)`, `None` if too complex.
pub fn is_empty(s: &Scope, budget: &Budget) -> Option<bool> {
    overlap::is_empty_scope(s, budget)
}

/// Could the two scopes overlap at all, judged by their allowed patterns'
/// literal prefixes and last components ([`Pattern::may_intersect`])? A
/// `false` is certain (no overlap); a `true` needs [`overlap`] to decide.
pub fn may_overlap(a: &Scope, b: &Scope) -> bool {
    a.allowed
        .iter()
        .any(|pa| b.allowed.iter().any(|pb| pa.may_intersect(pb)))
}

/// Concrete matching: for each scope, the indices (into `files`) of the files
/// in it, ascending.
///
/// Patterns are bucketed by literal prefix and files sorted once, so each
/// bucket only looks at the contiguous run of files under its prefix. A
/// bucket's patterns run together as one multi-pattern DFA, a single pass
/// over each path whatever the number of patterns; a bucket whose DFA would
/// be too large falls back to a `globset::GlobSet` with a reused `Candidate`.
pub fn match_files(scopes: &[Scope], files: &[&str]) -> Vec<Vec<usize>> {
    // (scope index, prohibited?) of each pattern, bucketed by literal prefix.
    let mut buckets: std::collections::BTreeMap<&str, Vec<(&Pattern, usize, bool)>> =
        std::collections::BTreeMap::new();
    for (si, scope) in scopes.iter().enumerate() {
        for (prohibited, list) in [(false, &scope.allowed), (true, &scope.prohibited)] {
            for p in list {
                buckets
                    .entry(p.literal_prefix())
                    .or_default()
                    .push((p, si, prohibited));
            }
        }
    }
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_unstable_by(|&x, &y| files[x].cmp(files[y]));
    let mut allowed_hits: Vec<Vec<usize>> = vec![Vec::new(); scopes.len()];
    let mut prohibited_hits: Vec<Vec<usize>> = vec![Vec::new(); scopes.len()];
    let mut hits: Vec<usize> = Vec::new();
    for (prefix, entries) in &buckets {
        let lo = order.partition_point(|&i| files[i] < *prefix);
        let run = order.get(lo..).unwrap_or(&[]);
        let run = &run[..run.partition_point(|&i| files[i].starts_with(prefix))];
        if run.is_empty() {
            continue;
        }
        let patterns: Vec<&Pattern> = entries.iter().map(|e| e.0).collect();
        let matcher = BucketMatcher::new(&patterns);
        for &fi in run {
            matcher.matches_into(files[fi], &mut hits);
            for &h in &hits {
                if let Some(&(_, si, prohibited)) = entries.get(h) {
                    let target = if prohibited {
                        &mut prohibited_hits[si]
                    } else {
                        &mut allowed_hits[si]
                    };
                    target.push(fi);
                }
            }
        }
    }
    allowed_hits
        .into_iter()
        .zip(prohibited_hits)
        .map(|(mut allowed, mut prohibited)| {
            allowed.sort_unstable();
            allowed.dedup();
            if prohibited.is_empty() {
                return allowed;
            }
            prohibited.sort_unstable();
            allowed.retain(|f| prohibited.binary_search(f).is_err());
            allowed
        })
        .collect()
}

/// Path-pattern pairs above which [`any_match`] builds one automaton for a
/// bucket of patterns rather than matching them one by one.
const SHARE_ABOVE: usize = 200_000;

/// For each of `patterns`, does at least one of the sorted `paths` match it?
///
/// Work is shared across patterns, so a million paths cost about one pass
/// however many patterns ask: a pattern with a string test (`dir/**`, a bare
/// path) is answered by a binary search; the others are bucketed by literal
/// prefix, and each bucket runs its patterns together (one multi-pattern
/// automaton, as in [`match_files`]) over the run of paths under its prefix,
/// stopping once every pattern of the bucket has matched. Patterns without a
/// prefix share one pass over all the paths.
pub fn any_match<S: AsRef<str>>(patterns: &[&Pattern], paths: &[S]) -> Vec<bool> {
    any_match_sharing_above(patterns, paths, SHARE_ABOVE)
}

/// [`any_match`], sharing an automaton above `share_above` pairs.
fn any_match_sharing_above<S: AsRef<str>>(
    patterns: &[&Pattern],
    paths: &[S],
    share_above: usize,
) -> Vec<bool> {
    let mut found = vec![false; patterns.len()];
    let mut buckets: std::collections::BTreeMap<&str, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, p) in patterns.iter().enumerate() {
        if p.0.fast.is_some() {
            let prefix = p.literal_prefix();
            let start = paths.partition_point(|x| x.as_ref() < prefix);
            found[i] = paths[start..]
                .iter()
                .take_while(|x| x.as_ref().starts_with(prefix))
                .any(|x| p.is_match(x.as_ref()));
        } else {
            buckets.entry(p.literal_prefix()).or_default().push(i);
        }
    }
    let mut hits = Vec::new();
    for (prefix, members) in &buckets {
        let start = paths.partition_point(|x| x.as_ref() < *prefix);
        let run = &paths[start..];
        let run = &run[..run.partition_point(|x| x.as_ref().starts_with(prefix))];
        let bucket: Vec<&Pattern> = members.iter().map(|&i| patterns[i]).collect();
        // One automaton for the bucket only where it pays: many paths to
        // match. Small runs (and patterns whose automaton would be too
        // large, as hostile globs make) go pattern by pattern, each with its
        // own lazy matcher, as before.
        let shared = bucket.len() > 1 && run.len().saturating_mul(bucket.len()) > share_above;
        let matcher = match shared.then(|| overlap::SetMatcher::new(&bucket)).flatten() {
            Some(m) => BucketMatcher::Dfa(Box::new(m)),
            None => BucketMatcher::Each(bucket.iter().map(|&p| p.clone()).collect()),
        };
        let mut left = members.len();
        for path in run {
            matcher.matches_into(path.as_ref(), &mut hits);
            for &h in &hits {
                if let Some(&i) = members.get(h)
                    && !found[i]
                {
                    found[i] = true;
                    left -= 1;
                }
            }
            if left == 0 {
                break;
            }
        }
    }
    found
}

/// Matches one path against a bucket of patterns at once.
enum BucketMatcher {
    Dfa(Box<overlap::SetMatcher>),
    Set(globset::GlobSet),
    /// Pattern by pattern: when every pattern has a string test (`dir/**`,
    /// a bare path), which is cheaper than building an automaton for a
    /// bucket or two of them, or when neither automaton could be built (not
    /// expected).
    Each(Vec<Pattern>),
}

impl BucketMatcher {
    fn new(patterns: &[&Pattern]) -> BucketMatcher {
        if patterns.iter().all(|p| p.0.fast.is_some()) {
            return BucketMatcher::Each(patterns.iter().map(|&p| p.clone()).collect());
        }
        if let Some(m) = overlap::SetMatcher::new(patterns) {
            return BucketMatcher::Dfa(Box::new(m));
        }
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            if let Ok(g) = GlobBuilder::new(p.normalized())
                .literal_separator(true)
                .build()
            {
                builder.add(g);
            } else {
                return BucketMatcher::Each(patterns.iter().map(|&p| p.clone()).collect());
            }
        }
        match builder.build() {
            Ok(set) => BucketMatcher::Set(set),
            Err(_) => BucketMatcher::Each(patterns.iter().map(|&p| p.clone()).collect()),
        }
    }

    /// Clears `out`, then fills it with the indices of the matching patterns.
    fn matches_into(&self, path: &str, out: &mut Vec<usize>) {
        match self {
            BucketMatcher::Dfa(m) => m.matches_into(path.as_bytes(), out),
            BucketMatcher::Set(set) => set.matches_candidate_into(&Candidate::new(path), out),
            BucketMatcher::Each(ps) => {
                out.clear();
                out.extend((0..ps.len()).filter(|&i| ps[i].is_match(path)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    fn pat(s: &str) -> Pattern {
        match Pattern::parse(s) {
            Ok(p) => p,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn scope(allowed: &[&str], prohibited: &[&str]) -> Scope {
        Scope::new(
            allowed.iter().map(|s| pat(s)).collect(),
            prohibited.iter().map(|s| pat(s)).collect(),
        )
    }

    fn check(a: &Scope, b: &Scope) -> Overlap {
        let r = overlap(a, b, &Budget::default());
        if let Overlap::Witness(w) = &r {
            assert!(a.is_match(w), "witness {w:?} not in {a:?}");
            assert!(b.is_match(w), "witness {w:?} not in {b:?}");
        }
        // Symmetric, and the prebuilt path agrees.
        let back = overlap(b, a, &Budget::default());
        assert_eq!(
            matches!(r, Overlap::Disjoint),
            matches!(back, Overlap::Disjoint)
        );
        let budget = Budget::default();
        if let (Some(ca), Some(cb)) = (
            CompiledScope::new(a, &budget),
            CompiledScope::new(b, &budget),
        ) {
            assert_eq!(overlap_compiled(&ca, &cb, &budget), r);
        }
        r
    }

    fn disjoint(a: &[&str], ap: &[&str], b: &[&str], bp: &[&str]) {
        let r = check(&scope(a, ap), &scope(b, bp));
        assert_eq!(r, Overlap::Disjoint, "{a:?}-{ap:?} vs {b:?}-{bp:?}");
    }

    fn witness(a: &[&str], b: &[&str]) -> String {
        match check(&scope(a, &[]), &scope(b, &[])) {
            Overlap::Witness(w) => w,
            other => panic!("{a:?} vs {b:?}: {other:?}"),
        }
    }

    #[test]
    fn any_match_agrees_with_each_pattern_alone() {
        let mut paths: Vec<String> = Vec::new();
        for m in 1..=12 {
            for (dir, ext) in [("src", "rs"), ("docs", "md"), ("gen", "rs")] {
                for f in 1..=3 {
                    paths.push(format!("pkg/m{m}/{dir}/f{f}.{ext}"));
                }
            }
        }
        paths.push("README.md".to_string());
        paths.sort();
        let raws = [
            "pkg/m1/**",
            "pkg/m13/**",
            "*/m3/docs/*.md",
            "*/m3/docs/*.rs",
            "{pkg,lib}/m2/src/**",
            "{pkg,lib}/m2/source/**",
            "**/gen/*.rs",
            "**/gen/*.md",
            "pkg/m1/src/f1.rs",
            "pkg/m1/src/f9.rs",
            "pkg/*/docs/f2.md",
            "pkg/m1[0-2]/src/*.rs",
            "pkg/m1[3-9]/src/*.rs",
            "README.md",
            "**",
            "x/**",
        ];
        let patterns: Vec<Pattern> = raws.iter().map(|r| pat(r)).collect();
        let refs: Vec<&Pattern> = patterns.iter().collect();
        let want: Vec<bool> = patterns
            .iter()
            .map(|p| paths.iter().any(|x| p.is_match(x)))
            .collect();
        assert_eq!(any_match(&refs, &paths), want);
        // With one automaton per bucket, as on a large index.
        assert_eq!(any_match_sharing_above(&refs, &paths, 0), want);
        assert!(want.contains(&true) && want.contains(&false));
        // The same patterns asked one at a time, and against no paths.
        for (p, w) in refs.iter().zip(&want) {
            assert_eq!(any_match(&[*p], &paths), vec![*w], "{}", p.raw());
        }
        let none: [&str; 0] = [];
        assert_eq!(any_match(&refs, &none), vec![false; refs.len()]);
    }

    #[test]
    fn normalization() {
        let cases = [
            ("src/ui", "src/{ui,ui/**}"),
            ("src/ui/", "src/ui/**"),
            ("./src/ui", "src/{ui,ui/**}"),
            ("docs", "{docs,docs/**}"),
            ("src/main.rs", "src/{main.rs,main.rs/**}"),
            ("README.md", "{README.md,README.md/**}"),
            ("./README.md", "{README.md,README.md/**}"),
            ("src//ui/./x.rs", "src/ui/{x.rs,x.rs/**}"),
            ("Makefile", "{Makefile,Makefile/**}"),
            ("a,b", "{a[,]b,a[,]b/**}"),
            ("src/*/", "src/*/**"),
            ("src/ui/**", "src/ui/**"),
            ("src/*.rs", "src/*.rs"),
            (".", "**"),
            ("./", "**"),
            (".github/workflows", ".github/{workflows,workflows/**}"),
        ];
        for (raw, want) in cases {
            let p = pat(raw);
            assert_eq!(p.normalized(), want, "{raw}");
            assert_eq!(p.raw(), raw);
        }
        assert!(pat("src/ui").is_match("src/ui/button.rs"));
        assert!(!pat("src/ui").is_match("src/uikit/a.rs"));
        assert!(!pat("src/ui/**").is_match("src/ui"));
        assert!(pat("src/main.rs").is_match("src/main.rs"));
        assert!(pat("Makefile").is_match("Makefile"));
        assert!(pat("src/ui").is_match("src/ui"));
        assert!(!pat("src/*.rs").is_match("src/a/b.rs"));
        assert!(pat("src/**/*.rs").is_match("src/a/b/c.rs"));
        assert!(pat("src/**/*.rs").is_match("src/c.rs"));
    }

    #[test]
    fn literal_prefixes() {
        let cases = [
            ("src/ui/**/*.rs", "src/ui/"),
            ("src/ui", "src/ui"),
            ("src/main.rs", "src/main.rs"),
            ("README.md", "README.md"),
            ("*.rs", ""),
            ("**/x", ""),
            ("src/a*/b", "src/"),
            ("src/{a,b}/c", "src/"),
            ("src/[ab]/c", "src/"),
            ("src/x?/c", "src/"),
        ];
        for (raw, want) in cases {
            assert_eq!(pat(raw).literal_prefix(), want, "{raw}");
        }
    }

    #[test]
    fn escapes_and_invalid() {
        for raw in [
            "/etc/x", "../x", "a/../b", "a/..", "C:/x", "c:x", "a\\b", "\\x", "",
        ] {
            match Pattern::parse(raw) {
                Err(PatternError::Escapes(reason)) => {
                    assert!(!reason.is_empty());
                    assert!(
                        PatternError::Escapes(reason)
                            .to_string()
                            .contains("repository")
                    );
                }
                other => panic!("{raw:?}: {other:?}"),
            }
        }
        for raw in ["src/[", "{a", "a/{b,c"] {
            match Pattern::parse(raw) {
                Err(e @ PatternError::Invalid(_)) => assert!(!e.to_string().is_empty()),
                other => panic!("{raw:?}: {other:?}"),
            }
        }
        // `..` inside a name is not a component.
        assert_eq!(pat("a..b/c.rs").normalized(), "a..b/{c.rs,c.rs/**}");
    }

    #[test]
    fn no_false_positives() {
        disjoint(&["web/ui/**"], &[], &["web/uikit/**"], &[]);
        disjoint(&["src/*.rs"], &[], &["src/api/*.rs"], &[]);
        disjoint(&["*.rs"], &[], &["*.md"], &[]);
        disjoint(&["src/[a-m]*/**"], &[], &["src/ui/**"], &[]);
        disjoint(&["src/ui"], &[], &["src/core/**"], &[]);
        disjoint(&["src/**"], &["src/core/**"], &["src/core/**"], &[]);
        disjoint(&["src/{a,b}/**"], &[], &["src/c/**"], &[]);
        disjoint(&["src/ui"], &[], &["src/uikit"], &[]);
        disjoint(&["**/*.rs"], &[], &["**/*.md"], &["docs/**"]);
        disjoint(&["**"], &["**/*.rs"], &["src/**/*.rs"], &[]);
        disjoint(&["src/*/x.rs"], &[], &["src/**/y.rs"], &[]);
        // Only the invalid paths `x/.` and `x/..` would do.
        disjoint(&["x/*"], &[], &["x/[.]", "x/[.][.]"], &[]);
    }

    #[test]
    fn true_overlaps_with_witnesses() {
        assert_eq!(witness(&["src/ui/**"], &["src/**/*.rs"]), "src/ui/a.rs");
        assert_eq!(witness(&["docs/*.md"], &["docs/**/api.md"]), "docs/api.md");
        assert_eq!(
            witness(&["src/ui"], &["src/ui/button.rs"]),
            "src/ui/button.rs"
        );
        assert_eq!(witness(&["*.{rs,toml}"], &["Cargo.*"]), "Cargo.rs");
        // A file that exists nowhere still counts.
        assert_eq!(
            witness(&["gen/**/*.proto"], &["gen/v2/**"]),
            "gen/v2/a.proto"
        );
        assert_eq!(witness(&["**"], &["**"]), "a");
        assert_eq!(witness(&["src/ui/**"], &["src/ui/**"]), "src/ui/a");
        // A hidden file when nothing else will do.
        assert_eq!(witness(&[".github/**"], &["**/*.yml"]), ".github/a.yml");
        assert_eq!(witness(&["*"], &[".env"]), ".env");
        // Non-ASCII names are real paths too.
        assert_eq!(witness(&["docs/*.md"], &["docs/é*"]), "docs/é.md");
        assert_eq!(witness(&["a/[!a-z]"], &["a/?"]), "a/0");
        let w = witness(&["src/**", "lib/**"], &["**/mod.rs"]);
        assert!(w == "lib/mod.rs" || w == "src/mod.rs", "{w}");
    }

    #[test]
    fn prohibited_areas() {
        let a = scope(&["src/**"], &["src/core/**", "src/gen/**"]);
        let b = scope(&["src/**/*.rs"], &["src/ui/**"]);
        match check(&a, &b) {
            Overlap::Witness(w) => assert_eq!(w, "src/a.rs"),
            other => panic!("{other:?}"),
        }
        let c = scope(&["src/core/**", "src/gen/x.rs"], &[]);
        disjoint(
            &["src/**"],
            &["src/core/**", "src/gen/**"],
            &["src/core/**", "src/gen/x.rs"],
            &[],
        );
        assert!(!a.is_match("src/core/x.rs"));
        assert!(c.is_match("src/gen/x.rs"));
    }

    #[test]
    fn emptiness() {
        let b = Budget::default();
        assert_eq!(is_empty(&scope(&["src/**"], &[]), &b), Some(false));
        assert_eq!(
            is_empty(&scope(&["src/core/**"], &["src/**"]), &b),
            Some(true)
        );
        assert_eq!(
            is_empty(&scope(&["src/*.rs"], &["**/*.rs"]), &b),
            Some(true)
        );
        assert_eq!(
            is_empty(&scope(&["src/*.rs"], &["src/[a-m]*"]), &b),
            Some(false)
        );
        assert_eq!(is_empty(&scope(&[], &[]), &b), Some(true));
        assert_eq!(
            is_empty(
                &scope(&["src/a.rs", "src/b.rs"], &["src/?.rs", "src/?.rs/**"]),
                &b
            ),
            Some(true)
        );
    }

    #[test]
    fn pathological_patterns_stay_bounded() {
        let alternatives: Vec<String> = (0..3000).map(|i| format!("f{i}x{}", i * 7919)).collect();
        let braces = format!("src/{{{}}}/**", alternatives.join(","));
        let chain = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let other_chain = "*b*a*b*a*b*a*b*a*b*a*b*a*b*a*c";
        let started = Instant::now();
        let brace_pattern = Pattern::parse(&braces);
        match &brace_pattern {
            Ok(p) => {
                let s = Scope::new(vec![p.clone()], vec![]);
                let r = check(&s, &scope(&["src/f17x*/**"], &[]));
                assert!(
                    matches!(r, Overlap::Witness(_) | Overlap::TooComplex),
                    "{r:?}"
                );
            }
            Err(e) => assert_eq!(*e, PatternError::TooComplex),
        }
        let r = check(&scope(&[chain], &[]), &scope(&[other_chain], &[]));
        assert!(
            matches!(r, Overlap::Disjoint | Overlap::TooComplex),
            "{r:?}"
        );
        let r = check(&scope(&[chain], &[]), &scope(&["*b"], &[other_chain]));
        assert!(
            matches!(r, Overlap::Witness(_) | Overlap::TooComplex),
            "{r:?}"
        );
        // A tiny budget turns real work into TooComplex, never a hang.
        let tiny = Budget {
            max_dfa_states: 4,
            max_product_states: 10,
        };
        let r = overlap(&scope(&[chain], &[]), &scope(&["**/*b"], &[]), &tiny);
        assert_eq!(r, Overlap::TooComplex);
        let tiny = Budget {
            max_dfa_states: 10_000,
            max_product_states: 10,
        };
        // The product search runs out of states; a witness built from the
        // patterns' components needs none, and both scopes' automata confirm it.
        let r = overlap(&scope(&[chain], &[]), &scope(&["**/*b"], &[]), &tiny);
        assert_eq!(r, Overlap::Witness("aaaaaaaaaaaaaab".to_string()));
        // With that witness prohibited, only the search could decide.
        let r = overlap(&scope(&[chain], &[]), &scope(&["**/*b"], &["**/a*"]), &tiny);
        assert_eq!(r, Overlap::TooComplex);
        assert_eq!(is_empty(&scope(&[chain], &[]), &tiny), None);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn pairwise_report() {
        let scopes: Vec<Scope> = (0..20)
            .map(|i| {
                let dir = format!("pkg/m{i}/");
                scope(&[dir.as_str()], &[format!("{dir}gen/").as_str()])
            })
            .chain([scope(&["pkg/*/gen/*.rs"], &[])])
            .collect();
        let report = pairwise_overlaps(&scopes, &Budget::default());
        // Only the pairs with the last, prefix-wide scope are searched; all
        // of them are disjoint because each module prohibits its gen/.
        assert_eq!(report.searched, 20);
        assert!(report.overlaps.is_empty(), "{:?}", report.overlaps);
        let mut scopes = scopes;
        scopes.push(scope(&["pkg/m3/src"], &[]));
        let report = pairwise_overlaps(&scopes, &Budget::default());
        assert_eq!(
            report.overlaps,
            vec![(3, 21, Overlap::Witness("pkg/m3/src".to_string()))]
        );
    }

    #[test]
    fn match_files_synthetic() {
        let mut files: Vec<String> = Vec::new();
        for m in 0..10 {
            for f in 0..10 {
                files.push(format!("pkg/m{m}/src/f{f}.rs"));
                files.push(format!("pkg/m{m}/gen/g{f}.rs"));
                files.push(format!("pkg/m{m}/README.md"));
            }
        }
        files.push("README.md".to_string());
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        let scopes = vec![
            scope(&["pkg/m1"], &["pkg/m1/gen"]),
            scope(&["**/*.md"], &[]),
            scope(&["pkg/*/gen/*.rs"], &["pkg/m[0-4]/**"]),
            scope(&["nothing/**"], &[]),
            scope(&["pkg/m2/src/f3.rs", "README.md"], &[]),
            scope(&[], &[]),
        ];
        let got = match_files(&scopes, &refs);
        assert_eq!(got.len(), scopes.len());
        for (si, s) in scopes.iter().enumerate() {
            let want: Vec<usize> = (0..refs.len()).filter(|&i| s.is_match(refs[i])).collect();
            assert_eq!(got[si], want, "scope {si}");
        }
        assert_eq!(got[0].len(), 20);
        assert_eq!(got[4].len(), 2);
        assert!(got[3].is_empty() && got[5].is_empty());
        assert!(match_files(&[], &refs).is_empty());
    }

    #[test]
    fn many_overlapping_scopes_as_the_full_search() {
        // The shape of the 1,000-card benchmark, and a few like it: every
        // pair overlaps, and each witness is the full search's.
        let mut scopes: Vec<Scope> = (0..24)
            .map(|i| scope(&[format!("**/m{i}/**/*.rs").as_str()], &["**/gen/**"]))
            .collect();
        scopes.push(scope(&["src/**/m1*/*.rs", "**/.cfg/*"], &[]));
        scopes.push(scope(&["**/é/**"], &["**/*.rs"]));
        scopes.push(scope(&["**/m[0-3]/**"], &["**/gen/**", "**/m2/**"]));
        let budget = Budget::default();
        let report = pairwise_overlaps(&scopes, &budget);
        assert_eq!(report, pairwise_overlaps_reference(&scopes, &budget));
        assert!(
            report.overlaps.len() > 24 * 23 / 2,
            "{}",
            report.overlaps.len()
        );
        assert!(
            report
                .overlaps
                .contains(&(1, 2, Overlap::Witness("m1/m2/a.rs".to_string())))
        );
    }

    #[test]
    fn last_components_prune_what_prefixes_cannot() {
        let apart = [
            ("**/m1/*.rs", "**/m2/*.rs"),
            ("**/*.md", "**/*.rs"),
            ("src/*.rs", "src/*/*.rs"),
            ("a/**/x?.rs", "b*/**/y*.rs"),
        ];
        for (a, b) in apart {
            assert!(!pat(a).may_intersect(&pat(b)), "{a} {b}");
            assert!(!pat(b).may_intersect(&pat(a)), "{b} {a}");
        }
        let maybe = [
            ("**/m1/*.rs", "**/*.rs"),
            ("**/m1/*.rs", "**/m1/gen_*.rs"),
            ("src/*.rs", "src/**"),
            ("**/m[12]/*.rs", "**/m2/*.rs"),
            ("src/ui", "src/ui/x.rs"),
            ("**/a*b", "**/ab"),
        ];
        for (a, b) in maybe {
            assert!(pat(a).may_intersect(&pat(b)), "{a} {b}");
            assert!(pat(b).may_intersect(&pat(a)), "{b} {a}");
        }
    }

    // ---- property test against brute force --------------------------------

    fn component() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "a", "b", "ab", "*", "?", "**", "[ab]", "{a,b}", "a*", "*b",
        ])
        .prop_map(str::to_string)
    }

    fn glob() -> impl Strategy<Value = String> {
        prop::collection::vec(component(), 1..=3).prop_map(|parts| parts.join("/"))
    }

    fn scope_strategy() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
        (
            prop::collection::vec(glob(), 1..=2),
            prop::collection::vec(glob(), 0..=1),
        )
    }

    fn universe() -> Vec<String> {
        let mut names = Vec::new();
        for len in 1..=3 {
            let mut cur = vec![String::new()];
            for _ in 0..len {
                cur = cur
                    .iter()
                    .flat_map(|p| ["a", "b", "c"].map(|c| format!("{p}{c}")))
                    .collect();
            }
            names.extend(cur);
        }
        paths_of(&names)
    }

    /// Every path of one to three components, each one of `names`.
    fn paths_of(names: &[String]) -> Vec<String> {
        let mut paths = names.to_vec();
        let mut layer = names.to_vec();
        for _ in 1..3 {
            layer = layer
                .iter()
                .flat_map(|p| names.iter().map(move |n| format!("{p}/{n}")))
                .collect();
            paths.extend(layer.iter().cloned());
        }
        paths
    }

    fn build(spec: &(Vec<String>, Vec<String>)) -> Option<Scope> {
        let parse = |v: &Vec<String>| {
            v.iter()
                .map(|s| Pattern::parse(s).ok())
                .collect::<Option<Vec<_>>>()
        };
        Some(Scope::new(parse(&spec.0)?, parse(&spec.1)?))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn arbitrary_strings_never_panic(
            raw in prop_oneof![".{0,30}", "[a-c*?{}\\[\\]!,/. é:^$()|+\\\\-]{0,16}"],
        ) {
            if let Ok(p) = Pattern::parse(&raw) {
                prop_assert!(!p.normalized().is_empty());
                prop_assert!(!p.normalized().starts_with('/'));
                prop_assert!(p.is_match(p.literal_prefix()) || p.literal_prefix().is_empty() || p.literal_prefix().ends_with('/'));
                let s = Scope::new(vec![p], vec![]);
                let everything = scope(&["**"], &[]);
                match overlap(&s, &everything, &Budget::default()) {
                    Overlap::Witness(w) => {
                        prop_assert!(s.is_match(&w), "{w:?}");
                        prop_assert_eq!(is_empty(&s, &Budget::default()), Some(false));
                    }
                    Overlap::Disjoint => prop_assert_eq!(is_empty(&s, &Budget::default()), Some(true)),
                    Overlap::TooComplex => {}
                }
                let _ = match_files(&[s], &["a", "a/b", raw.as_str()]);
            }
        }

        #[test]
        fn pairwise_agrees_with_brute_force(specs in prop::collection::vec(scope_strategy(), 2..=6)) {
            thread_local! { static UNIVERSE: Vec<String> = universe(); }
            let scopes: Vec<Scope> = specs.iter().filter_map(build).collect();
            let budget = Budget::default();
            let report = pairwise_overlaps(&scopes, &budget);
            // Exactly the findings of the full search, pair by pair...
            prop_assert_eq!(&report, &pairwise_overlaps_reference(&scopes, &budget));
            // ... and exactly the pairs that share a path of the universe
            // (every overlapping pair shares one that short).
            for i in 0..scopes.len() {
                for j in i + 1..scopes.len() {
                    let found = report.overlaps.iter().find(|o| (o.0, o.1) == (i, j)).map(|o| &o.2);
                    let common = UNIVERSE.with(|u| u.iter().find(|p| scopes[i].is_match(p) && scopes[j].is_match(p)).cloned());
                    match found {
                        Some(Overlap::Witness(w)) => {
                            prop_assert!(scopes[i].is_match(w) && scopes[j].is_match(w), "{w}");
                        }
                        Some(other) => prop_assert!(false, "{i} {j}: {other:?}"),
                        None => prop_assert!(common.is_none(), "{i} {j} missed {common:?}"),
                    }
                }
            }
        }

        #[test]
        fn overlap_agrees_with_brute_force(a in scope_strategy(), b in scope_strategy()) {
            thread_local! { static UNIVERSE: Vec<String> = universe(); }
            let (Some(sa), Some(sb)) = (build(&a), build(&b)) else {
                return Err(TestCaseError::reject("unparsable"));
            };
            let budget = Budget::default();
            let result = overlap(&sa, &sb, &budget);
            let common = UNIVERSE.with(|u| u.iter().find(|p| sa.is_match(p) && sb.is_match(p)).cloned());
            if !may_overlap(&sa, &sb) {
                prop_assert!(common.is_none(), "pruned, yet both hold {common:?}");
            }
            for pa in &sa.allowed {
                for pb in &sb.allowed {
                    if !pa.may_intersect(pb) {
                        let both = UNIVERSE.with(|u| u.iter().find(|p| pa.is_match(p) && pb.is_match(p)).cloned());
                        prop_assert!(both.is_none(), "{pa:?} and {pb:?} both match {both:?}");
                    }
                }
            }
            // The two-pass search answers exactly as the full one did.
            prop_assert_eq!(&result, &overlap_reference(&sa, &sb, &budget));
            match &result {
                Overlap::Witness(w) => {
                    prop_assert!(sa.is_match(w), "{w} not in {a:?}");
                    prop_assert!(sb.is_match(w), "{w} not in {b:?}");
                }
                Overlap::Disjoint => prop_assert!(common.is_none(), "missed {common:?}"),
                Overlap::TooComplex => prop_assert!(false, "too complex: {a:?} {b:?}"),
            }
            if common.is_some() {
                prop_assert!(matches!(result, Overlap::Witness(_)));
            }
            let some_in_a = UNIVERSE.with(|u| u.iter().any(|p| sa.is_match(p)));
            let empty = is_empty(&sa, &budget);
            if some_in_a {
                prop_assert_eq!(empty, Some(false));
            }
            prop_assert!(empty.is_some());
        }
    }

    // ---- witnesses built without a product search (issue 23) --------------

    /// Globs of the family the constructor understands, in the shape of the
    /// 1,000-card benchmark (`**/m{i}/**/*.rs`) and around it: `**`, simple
    /// globs, classes, braces, hidden and non-ASCII names.
    fn family_glob() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "**", "**", "*", "m1", "m2", "gen", "*.rs", "a.rs", "m?", "[mn]1", ".cfg", "é",
                "m1*", "{m1,gen}", "[!m]*",
            ]),
            1..=4,
        )
        .prop_map(|parts| parts.join("/"))
    }

    fn family_scope() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
        (
            prop::collection::vec(family_glob(), 1..=2),
            prop::collection::vec(
                prop::sample::select(vec![
                    "**/gen/**",
                    "**/*.md",
                    "m1/**",
                    "**/.cfg/**",
                    "**/a.rs",
                    "**/m2/*",
                ])
                .prop_map(str::to_string),
                0..=1,
            ),
        )
    }

    /// Every path of up to three components over the family's names.
    fn family_universe() -> Vec<String> {
        let names = ["m1", "m2", "n1", "gen", "a", "a.rs", ".cfg", "é"];
        paths_of(&names.map(String::from))
    }

    /// `got` decides as the full search's `want` did; a witness is in both
    /// scopes and as cheap as the search's. (Equally cheap witnesses may
    /// differ: `.cfg` and `é` both cost 6, the first is first in readable
    /// order, the search reaches the second first.)
    fn agrees(got: &Overlap, want: &Overlap, a: &Scope, b: &Scope) -> Result<(), TestCaseError> {
        match (got, want) {
            (Overlap::Witness(w), Overlap::Witness(r)) => {
                prop_assert!(a.is_match(w) && b.is_match(w), "{w}");
                prop_assert_eq!(
                    construct::path_cost(w),
                    construct::path_cost(r),
                    "{} {}",
                    w,
                    r
                );
            }
            // Built where the search ran out of states: still confirmed.
            (Overlap::Witness(w), Overlap::TooComplex) => {
                prop_assert!(a.is_match(w) && b.is_match(w), "{w}");
            }
            _ => prop_assert_eq!(got, want),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn constructed_witnesses_agree_with_the_search(a in family_scope(), b in family_scope()) {
            thread_local! { static UNIVERSE: Vec<String> = family_universe(); }
            let (Some(sa), Some(sb)) = (build(&a), build(&b)) else {
                return Err(TestCaseError::reject("unparsable"));
            };
            let budget = Budget::default();
            let got = overlap(&sa, &sb, &budget);
            agrees(&got, &overlap_reference(&sa, &sb, &budget), &sa, &sb)?;
            let common = UNIVERSE.with(|u| u.iter().find(|p| sa.is_match(p) && sb.is_match(p)).cloned());
            match &got {
                Overlap::Disjoint => prop_assert!(common.is_none(), "missed {common:?}"),
                Overlap::Witness(_) => {}
                Overlap::TooComplex => prop_assert!(false, "too complex: {a:?} {b:?}"),
            }
            if common.is_some() {
                prop_assert!(matches!(got, Overlap::Witness(_)));
            }
        }

        #[test]
        fn pairwise_constructed_as_the_full_search(specs in prop::collection::vec(family_scope(), 2..=8)) {
            let scopes: Vec<Scope> = specs.iter().filter_map(build).collect();
            let budget = Budget::default();
            let got = pairwise_overlaps(&scopes, &budget);
            let want = pairwise_overlaps_reference(&scopes, &budget);
            prop_assert_eq!(got.searched, want.searched);
            let pairs = |r: &PairReport| r.overlaps.iter().map(|o| (o.0, o.1)).collect::<Vec<_>>();
            prop_assert_eq!(pairs(&got), pairs(&want));
            for (g, w) in got.overlaps.iter().zip(&want.overlaps) {
                agrees(&g.2, &w.2, &scopes[g.0], &scopes[g.1])?;
            }
        }
    }
}
