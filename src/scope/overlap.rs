//! The automata behind [`super::overlap`] and [`super::is_empty`]: each side
//! of a scope (its allowed globs, its prohibited globs) becomes one anchored
//! dense byte DFA built from globset's own regexes, and a cheapest-first
//! search over the product of those DFAs with a small "valid path" automaton
//! finds the shortest readable path in the intersection, or proves there is
//! none. Regular languages are closed under intersection and complement, so
//! the answer is exact for globset's semantics restricted to valid paths.

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::StateID;
use regex_automata::util::{start, syntax};
use regex_automata::{Anchored, MatchKind};

use super::construct::{Shape, cheapest_common};
use super::{Budget, Overlap, Pattern, Scope, prefixes_compatible};

/// Bytes of transition table one DFA state may take, used to turn
/// [`Budget::max_dfa_states`] into regex-automata's byte limits.
const BYTES_PER_STATE: usize = 64 * 4;

/// The DFA of one side of a scope, with per-state facts the search needs.
#[derive(Debug, Clone)]
struct Auto {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
    /// For each state index: does the input end in a match here?
    eoi_match: Vec<bool>,
    /// For each state index: does every continuation (including none) match?
    universal: Vec<bool>,
    /// For each state index: the fewest bytes that lead to a match
    /// (`u32::MAX` when none does: the state is dead). Every byte of a witness costs at least
    /// 1, so the largest of these over a pair's allowed sides is a lower
    /// bound on what a witness from there still costs: computed once per
    /// scope, it prunes the product search of every pair the scope is in.
    dist: Vec<u32>,
}

struct TooComplex;

impl Auto {
    fn index(&self, id: StateID) -> usize {
        id.as_usize() >> self.dfa.stride2()
    }

    fn flag(v: &[bool], i: usize) -> bool {
        v.get(i).copied().unwrap_or(false)
    }

    fn build(regexes: &[&str], budget: &Budget) -> Result<Auto, BuildFailure> {
        let dfa = dfa_builder(budget.max_dfa_states)
            .build_many(regexes)
            .map_err(|e| {
                if e.is_size_limit_exceeded() {
                    BuildFailure::TooComplex
                } else {
                    BuildFailure::Invalid
                }
            })?;
        let start = dfa
            .start_state(&start::Config::new().anchored(Anchored::Yes))
            .map_err(|_| BuildFailure::Invalid)?;
        Auto::analyse(dfa, start, budget.max_dfa_states)
            .map_err(|TooComplex| BuildFailure::TooComplex)
    }

    /// Enumerates the reachable states and computes `eoi_match`, `universal` and
    /// `universal` by backward closure over the reversed transition graph.
    fn analyse(
        dfa: dense::DFA<Vec<u32>>,
        start: StateID,
        max_states: usize,
    ) -> Result<Auto, TooComplex> {
        let stride2 = dfa.stride2();
        let idx = |id: StateID| id.as_usize() >> stride2;
        let reps = class_representatives(dfa.byte_classes());
        let mut seen: HashSet<usize> = HashSet::new();
        let mut order: Vec<StateID> = Vec::new();
        let mut queue = VecDeque::new();
        seen.insert(idx(start));
        order.push(start);
        queue.push_back(start);
        let mut edges: Vec<(usize, usize)> = Vec::new();
        while let Some(s) = queue.pop_front() {
            for &b in &reps {
                let t = dfa.next_state(s, b);
                edges.push((idx(s), idx(t)));
                if seen.insert(idx(t)) {
                    if order.len() >= max_states {
                        return Err(TooComplex);
                    }
                    order.push(t);
                    queue.push_back(t);
                }
            }
        }
        let n = order.iter().map(|&s| idx(s)).max().unwrap_or(0) + 1;
        let mut eoi_match = vec![false; n];
        for &s in &order {
            eoi_match[idx(s)] = dfa.is_match_state(dfa.next_eoi_state(s));
        }
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(s, t) in &edges {
            preds[t].push(s);
        }
        let closure = |seeds: Vec<usize>| {
            let mut mark = vec![false; n];
            let mut stack = seeds;
            for &s in &stack {
                mark[s] = true;
            }
            while let Some(t) = stack.pop() {
                for &s in &preds[t] {
                    if !mark[s] {
                        mark[s] = true;
                        stack.push(s);
                    }
                }
            }
            mark
        };
        let indices: Vec<usize> = order.iter().map(|&s| idx(s)).collect();
        let not_universal = closure(indices.iter().copied().filter(|&i| !eoi_match[i]).collect());
        let mut universal = vec![false; n];
        for &i in &indices {
            universal[i] = !not_universal[i];
        }
        // Breadth-first over the reversed transitions from the matching states.
        let mut dist = vec![u32::MAX; n];
        let mut queue: VecDeque<usize> = VecDeque::new();
        for &i in &indices {
            if eoi_match[i] {
                dist[i] = 0;
                queue.push_back(i);
            }
        }
        while let Some(t) = queue.pop_front() {
            let d = dist[t].saturating_add(1);
            for &s in &preds[t] {
                if dist[s] == u32::MAX {
                    dist[s] = d;
                    queue.push_back(s);
                }
            }
        }
        Ok(Auto {
            dfa,
            start,
            eoi_match,
            universal,
            dist,
        })
    }
}

enum BuildFailure {
    TooComplex,
    /// Not expected for a regex globset produced; treated as too complex.
    Invalid,
}

/// One byte per equivalence class of `classes`, the first in byte order.
fn class_representatives(classes: &regex_automata::util::alphabet::ByteClasses) -> Vec<u8> {
    let mut seen = [false; 256];
    let mut reps = Vec::new();
    for b in 0..=255u8 {
        let c = usize::from(classes.get(b));
        if let Some(flag) = seen.get_mut(c)
            && !*flag
        {
            *flag = true;
            reps.push(b);
        }
    }
    reps
}

/// Most DFA states [`SetMatcher`] may build for one bucket of patterns.
const SET_MATCHER_STATES: usize = 20_000;

/// Many patterns as one anchored multi-pattern DFA: one pass over a path
/// tells which of them match it.
#[derive(Debug, Clone)]
pub(super) struct SetMatcher {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
}

impl SetMatcher {
    /// `None` when the DFA would exceed its size limit.
    pub(super) fn new(patterns: &[&Pattern]) -> Option<SetMatcher> {
        let regexes: Vec<&str> = patterns.iter().map(|p| p.regex()).collect();
        let dfa = dfa_builder(SET_MATCHER_STATES).build_many(&regexes).ok()?;
        let start = dfa
            .start_state(&start::Config::new().anchored(Anchored::Yes))
            .ok()?;
        Some(SetMatcher { dfa, start })
    }

    /// Clears `out`, then fills it with the indices of the patterns that
    /// match the whole of `path`.
    pub(super) fn matches_into(&self, path: &[u8], out: &mut Vec<usize>) {
        out.clear();
        let mut s = self.start;
        for &b in path {
            s = self.dfa.next_state(s, b);
            if self.dfa.is_dead_state(s) {
                return;
            }
        }
        let end = self.dfa.next_eoi_state(s);
        if self.dfa.is_match_state(end) {
            for i in 0..self.dfa.match_len(end) {
                out.push(self.dfa.match_pattern(end, i).as_usize());
            }
        }
    }
}

/// The DFA builder every automaton here uses: anchored, all matches, and
/// globset's regex syntax (bytes, `.` matches `\n`), with byte limits
/// derived from `max_states`.
fn dfa_builder(max_states: usize) -> dense::Builder {
    let bytes = max_states.saturating_mul(BYTES_PER_STATE);
    let mut builder = dense::Builder::new();
    builder
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                .match_kind(MatchKind::All)
                .dfa_size_limit(Some(bytes))
                .determinize_size_limit(Some(bytes)),
        )
        .syntax(
            syntax::Config::new()
                .unicode(false)
                .utf8(false)
                .dot_matches_new_line(true),
        )
        .thompson(thompson::Config::new().nfa_size_limit(Some(bytes)));
    builder
}

/// Checks that one pattern's regex compiles to a DFA within the default budget.
fn build_side(patterns: &[&Pattern], budget: &Budget) -> Result<Option<Auto>, TooComplex> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let regexes: Vec<&str> = patterns.iter().map(|p| p.regex()).collect();
    match Auto::build(&regexes, budget) {
        Ok(a) => Ok(Some(a)),
        Err(_) => Err(TooComplex),
    }
}

/// A scope's two DFAs, built once and reusable across many [`overlap_compiled`]
/// calls (the lint compares every pair of cards).
#[derive(Debug, Clone)]
pub struct CompiledScope {
    allowed: Option<Auto>,
    prohibited: Option<Auto>,
    /// Each allowed pattern's literal prefix and shape (see [`cheapest_common`]).
    patterns: Vec<(String, Option<Shape>)>,
}

impl CompiledScope {
    /// Builds the DFAs of `scope`; `None` when they exceed `budget`.
    pub fn new(scope: &Scope, budget: &Budget) -> Option<CompiledScope> {
        let allowed: Vec<&Pattern> = scope.allowed.iter().collect();
        let prohibited: Vec<&Pattern> = scope.prohibited.iter().collect();
        Some(CompiledScope {
            allowed: build_side(&allowed, budget).ok()?,
            prohibited: build_side(&prohibited, budget).ok()?,
            patterns: shapes(&scope.allowed.iter().collect::<Vec<_>>()),
        })
    }

    /// Literal-prefix pre-check, as [`super::may_overlap`].
    pub fn may_overlap(&self, other: &CompiledScope) -> bool {
        self.patterns.iter().any(|(p, _)| {
            other
                .patterns
                .iter()
                .any(|(q, _)| prefixes_compatible(p, q))
        })
    }
}

/// Each pattern's literal prefix and shape, for [`cheapest_common`].
fn shapes(patterns: &[&Pattern]) -> Vec<(String, Option<Shape>)> {
    patterns
        .iter()
        .map(|p| (p.literal_prefix().to_string(), Shape::of(p.normalized())))
        .collect()
}

/// Decides a pair from a path built out of the allowed patterns' component
/// structure ([`cheapest_common`]), when one can be built and the real
/// automata confirm it: a valid path every allowed side accepts and no
/// prohibited side does. `None` leaves the pair to the product search, the
/// only way a pair is ever found disjoint.
///
/// The path built is a cheapest common path of the two allowed sides, so
/// once no prohibited side takes it, it is a cheapest witness: it has the
/// search's cost, and only a tie may be broken differently (it is the first
/// of the cheapest in readable order, where the search takes the first it
/// reaches).
fn constructed(
    a: &[(String, Option<Shape>)],
    b: &[(String, Option<Shape>)],
    comps: &[(&Auto, Role)],
) -> Option<Overlap> {
    let path = cheapest_common(a, b)?;
    if !accepted(comps, &path) {
        return None;
    }
    String::from_utf8(path).ok().map(Overlap::Witness)
}

/// Is `path` a valid path that every allowed component accepts and no
/// prohibited one does?
fn accepted(comps: &[(&Auto, Role)], path: &[u8]) -> bool {
    let shapes = shape_tables();
    let mut shape = 0u8;
    for &b in path {
        shape = shapes.next(shape, b);
        if shape == REJECT {
            return false;
        }
    }
    shape_accepts(shape)
        && comps.iter().all(|(a, role)| {
            let mut s = a.start;
            for &b in path {
                s = a.dfa.next_state(s, b);
            }
            let m = a.dfa.is_match_state(a.dfa.next_eoi_state(s));
            m == (*role == Role::Allowed)
        })
}

/// [`super::overlap`] on prebuilt automata.
pub fn overlap_compiled(a: &CompiledScope, b: &CompiledScope, budget: &Budget) -> Overlap {
    overlap_compiled_with(a, b, budget, FAST)
}

type Searcher = fn(&[(&Auto, Role)], &Budget) -> Search;

/// How a pair is decided: a constructed witness first (`construct`), then
/// the product search `search`.
#[derive(Clone, Copy)]
struct Method {
    construct: bool,
    search: Searcher,
}

/// Today's: a constructed witness when one is confirmed, else the two-pass search.
const FAST: Method = Method {
    construct: true,
    search,
};

/// As before issue 23: the full Dijkstra search on every pair.
const REFERENCE: Method = Method {
    construct: false,
    search: search_reference,
};

fn overlap_compiled_with(
    a: &CompiledScope,
    b: &CompiledScope,
    budget: &Budget,
    method: Method,
) -> Overlap {
    let (Some(aa), Some(ba)) = (&a.allowed, &b.allowed) else {
        return Overlap::Disjoint;
    };
    if !a.may_overlap(b) {
        return Overlap::Disjoint;
    }
    let mut comps = vec![(aa, Role::Allowed), (ba, Role::Allowed)];
    for p in [&a.prohibited, &b.prohibited].into_iter().flatten() {
        comps.push((p, Role::Prohibited));
    }
    if method.construct
        && let Some(found) = constructed(&a.patterns, &b.patterns, &comps)
    {
        return found;
    }
    (method.search)(&comps, budget).into()
}

/// The patterns of `mine` whose literal prefix is compatible with some
/// pattern of `theirs`.
fn keep<'a>(mine: &'a [Pattern], theirs: &[Pattern]) -> Vec<&'a Pattern> {
    mine.iter()
        .filter(|p| {
            theirs
                .iter()
                .any(|q| prefixes_compatible(p.literal_prefix(), q.literal_prefix()))
        })
        .collect()
}

pub(super) fn overlap_scopes(a: &Scope, b: &Scope, budget: &Budget) -> Overlap {
    overlap_scopes_with(a, b, budget, FAST)
}

/// [`super::overlap`] as it answered before [`search`] took two passes: the
/// reference the tests hold the faster search to.
#[doc(hidden)]
pub fn overlap_reference(a: &Scope, b: &Scope, budget: &Budget) -> Overlap {
    overlap_scopes_with(a, b, budget, REFERENCE)
}

fn overlap_scopes_with(a: &Scope, b: &Scope, budget: &Budget, method: Method) -> Overlap {
    // Keep only the allowed patterns that can meet the other side, and the
    // prohibited ones that can meet what is left: the rest cannot matter.
    let a_allowed = keep(&a.allowed, &b.allowed);
    let b_allowed = keep(&b.allowed, &a.allowed);
    if a_allowed.is_empty() || b_allowed.is_empty() {
        return Overlap::Disjoint;
    }
    let relevant = |p: &&Pattern| {
        a_allowed
            .iter()
            .any(|q| prefixes_compatible(p.literal_prefix(), q.literal_prefix()))
    };
    let a_prohibited: Vec<&Pattern> = a.prohibited.iter().filter(relevant).collect();
    let b_prohibited: Vec<&Pattern> = b.prohibited.iter().filter(relevant).collect();
    let sides = (|| {
        Ok::<_, TooComplex>((
            build_side(&a_allowed, budget)?,
            build_side(&b_allowed, budget)?,
            build_side(&a_prohibited, budget)?,
            build_side(&b_prohibited, budget)?,
        ))
    })();
    let Ok((Some(aa), Some(ba), ap, bp)) = sides else {
        return Overlap::TooComplex;
    };
    let mut comps = vec![(&aa, Role::Allowed), (&ba, Role::Allowed)];
    for p in [&ap, &bp].into_iter().flatten() {
        comps.push((p, Role::Prohibited));
    }
    if method.construct
        && let Some(found) = constructed(&shapes(&a_allowed), &shapes(&b_allowed), &comps)
    {
        return found;
    }
    (method.search)(&comps, budget).into()
}

pub(super) fn is_empty_scope(s: &Scope, budget: &Budget) -> Option<bool> {
    let allowed: Vec<&Pattern> = s.allowed.iter().collect();
    let prohibited: Vec<&Pattern> = s.prohibited.iter().collect();
    let (Ok(Some(a)), Ok(p)) = (
        build_side(&allowed, budget),
        build_side(&prohibited, budget),
    ) else {
        return if allowed.is_empty() { Some(true) } else { None };
    };
    let mut comps = vec![(&a, Role::Allowed)];
    if let Some(p) = &p {
        comps.push((p, Role::Prohibited));
    }
    match search(&comps, budget) {
        Search::Found(_) => Some(false),
        Search::Empty => Some(true),
        Search::TooComplex => None,
    }
}

/// Result of the pairwise check over many scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairReport {
    /// `(i, j, result)` for every pair `i < j` that is not [`Overlap::Disjoint`].
    pub overlaps: Vec<(usize, usize, Overlap)>,
    /// How many pairs survived literal-prefix pruning: each was decided by
    /// a witness built from the patterns (`scope/construct.rs`), confirmed
    /// on the automata, or else by a product search. Pairs the pruning
    /// settled as disjoint are not counted.
    pub searched: usize,
}

/// Checks every pair of `scopes` for overlap: literal prefixes first, and
/// each scope's automata built at most once, only if some pair needs them
/// (with each state's distance to a match, which bounds the search of
/// every pair the scope is in). Many searches run on every core.
pub fn pairwise_overlaps(scopes: &[Scope], budget: &Budget) -> PairReport {
    pairwise_with(scopes, budget, FAST, None)
}

/// [`pairwise_overlaps`] as it was before issue 23: one full Dijkstra
/// search per pair, on one thread. The reference for the tests and the
/// benchmark's same-run baseline.
#[doc(hidden)]
pub fn pairwise_overlaps_reference(scopes: &[Scope], budget: &Budget) -> PairReport {
    pairwise_with(scopes, budget, REFERENCE, Some(1))
}

fn pairwise_with(
    scopes: &[Scope],
    budget: &Budget,
    method: Method,
    threads: Option<usize>,
) -> PairReport {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut needed = vec![false; scopes.len()];
    for i in 0..scopes.len() {
        for j in i + 1..scopes.len() {
            if super::may_overlap(&scopes[i], &scopes[j]) {
                pairs.push((i, j));
                needed[i] = true;
                needed[j] = true;
            }
        }
    }
    let threads = threads.unwrap_or_else(|| parallelism(pairs.len()));
    let compiled: Vec<Option<CompiledScope>> = crate::util::par_map(
        scopes.len(),
        threads,
        8,
        || (),
        |(), k| {
            needed[k]
                .then(|| CompiledScope::new(&scopes[k], budget))
                .flatten()
        },
    );
    let results = crate::util::par_map(
        pairs.len(),
        threads,
        64,
        || (),
        |(), n| {
            let (i, j) = pairs[n];
            match (&compiled[i], &compiled[j]) {
                (Some(a), Some(b)) => overlap_compiled_with(a, b, budget, method),
                _ => Overlap::TooComplex,
            }
        },
    );
    PairReport {
        searched: pairs.len(),
        overlaps: pairs
            .into_iter()
            .zip(results)
            .filter(|(_, r)| *r != Overlap::Disjoint)
            .map(|((i, j), r)| (i, j, r))
            .collect(),
    }
}

/// Threads for `searches` product searches: one for a few, every core for
/// many (each search takes tens of microseconds).
pub(crate) fn parallelism(searches: usize) -> usize {
    if searches < 256 {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Allowed,
    Prohibited,
}

enum Search {
    Found(String),
    Empty,
    TooComplex,
}

impl From<Search> for Overlap {
    fn from(s: Search) -> Overlap {
        match s {
            Search::Found(w) => Overlap::Witness(w),
            Search::Empty => Overlap::Disjoint,
            Search::TooComplex => Overlap::TooComplex,
        }
    }
}

// ---- the "valid path" automaton -------------------------------------------
//
// Its state is `component * 8 + utf8`. `component`: 0 at the start of a
// component (start of path or just after `/`), 1 inside an ordinary
// component, 2 after a component's leading `.`, 3 after a leading `..`.
// `utf8`: 0 between characters, 1..=3 continuation bytes still needed, 4..=7
// the restricted second bytes after E0, ED, F0, F4. It accepts exactly the
// non-empty `/`-separated paths without empty, `.` or `..` components whose
// bytes are valid UTF-8 without control characters or backslashes.

const SHAPE_STATES: usize = 32;
const REJECT: u8 = u8::MAX;

fn shape_next(state: u8, b: u8) -> u8 {
    let comp = state / 8;
    let utf = state % 8;
    let cont = (0x80..=0xbf).contains(&b);
    let utf_next = match utf {
        0 => match b {
            0x20..=0x7e if b != b'\\' => Some(0),
            0xc2..=0xdf => Some(1),
            0xe0 => Some(4),
            0xe1..=0xec | 0xee..=0xef => Some(2),
            0xed => Some(5),
            0xf0 => Some(6),
            0xf1..=0xf3 => Some(3),
            0xf4 => Some(7),
            _ => None,
        },
        1 if cont => Some(0),
        2 if cont => Some(1),
        3 if cont => Some(2),
        4 if (0xa0..=0xbf).contains(&b) => Some(1),
        5 if (0x80..=0x9f).contains(&b) => Some(1),
        6 if (0x90..=0xbf).contains(&b) => Some(2),
        7 if (0x80..=0x8f).contains(&b) => Some(2),
        _ => None,
    };
    let Some(utf_next) = utf_next else {
        return REJECT;
    };
    let comp_next = match (comp, b) {
        (1, b'/') => 0,
        (_, b'/') => return REJECT,
        (0, b'.') => 2,
        (2, b'.') => 3,
        _ => 1,
    };
    comp_next * 8 + utf_next
}

/// The path automaton tabulated once: its transitions, and for each byte a
/// class number shared by bytes with identical transitions (`REJECT` for
/// bytes that no state accepts).
struct ShapeTables {
    next: [[u8; 256]; SHAPE_STATES],
    class: [u8; 256],
}

impl ShapeTables {
    fn next(&self, state: u8, b: u8) -> u8 {
        self.next
            .get(usize::from(state))
            .map_or(REJECT, |row| row[usize::from(b)])
    }
}

fn shape_tables() -> &'static ShapeTables {
    static TABLES: OnceLock<ShapeTables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut next = [[REJECT; 256]; SHAPE_STATES];
        for (s, row) in (0u8..).zip(next.iter_mut()) {
            for (b, slot) in (0u8..=255).zip(row.iter_mut()) {
                *slot = shape_next(s, b);
            }
        }
        let mut columns: Vec<[u8; SHAPE_STATES]> = Vec::new();
        let mut class = [REJECT; 256];
        for (b, slot) in class.iter_mut().enumerate() {
            let column: [u8; SHAPE_STATES] = std::array::from_fn(|s| next[s][b]);
            if column.iter().all(|&c| c == REJECT) {
                continue;
            }
            let id = match columns.iter().position(|c| *c == column) {
                Some(id) => id,
                None => {
                    columns.push(column);
                    columns.len() - 1
                }
            };
            *slot = u8::try_from(id).unwrap_or(REJECT);
        }
        ShapeTables { next, class }
    })
}

fn shape_accepts(state: u8) -> bool {
    state == 8
}

/// `(cost, order)` of emitting `b` in a witness: cheaper first, then earlier
/// in the readable order a-z, 0-9, `/ . _ -`, other printable ASCII, space,
/// non-ASCII. `None` for bytes never emitted.
pub(super) fn byte_rank(b: u8) -> Option<(u32, u32)> {
    let order = match b {
        b'a'..=b'z' => u32::from(b - b'a'),
        b'0'..=b'9' => 26 + u32::from(b - b'0'),
        b'/' => 36,
        b'.' => 37,
        b'_' => 38,
        b'-' => 39,
        b'\\' => return None,
        0x21..=0x7e => 40 + u32::from(b),
        b' ' => return Some((3, 400)),
        0x80..=0xff => return Some((3, 400 + u32::from(b))),
        _ => return None,
    };
    Some((1, order))
}

/// Extra cost of a component that starts with `.`, so that `src/a.rs` is
/// preferred to the shorter but hidden `src/.rs`.
pub(super) const LEADING_DOT_PENALTY: u32 = 2;

const MAX_COMPS: usize = 4;
/// A product state: one DFA state per component (unused slots stay at the
/// dead state) and the path automaton's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    states: [StateID; MAX_COMPS],
    shape: u8,
}

/// Multiplier of the key hasher (from FxHash).
const MIX: u64 = 0x517c_c1b7_2722_0a95;

/// FNV-style hasher for the small fixed-size keys of the product search.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(n)).wrapping_mul(MIX);
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(MIX);
    }
}

struct Node {
    parent: u32,
    byte: u8,
    cost: u32,
    /// The lower bound on the cost still to go (see [`Auto::dist`]).
    rest: u32,
    done: bool,
}

/// The bytes a witness may hold, one per group of bytes that every
/// component and the path automaton treat alike (the best-ranked of the
/// group), cheapest and most readable first: `(byte, cost)`.
fn alphabet(comps: &[(&Auto, Role)]) -> Vec<(u8, u32)> {
    static RANKED: OnceLock<Vec<(u8, u32)>> = OnceLock::new();
    let ranked = RANKED.get_or_init(|| {
        let mut bytes: Vec<(u8, (u32, u32))> = (0..=255u8)
            .filter_map(|b| Some((b, byte_rank(b)?)))
            .filter(|&(b, _)| shape_tables().class[usize::from(b)] != REJECT)
            .collect();
        bytes.sort_by_key(|&(_, rank)| rank);
        bytes.into_iter().map(|(b, (cost, _))| (b, cost)).collect()
    });
    // In rank order, the first byte of each group is its best-ranked one.
    let shapes = shape_tables();
    let mut seen: HashSet<u64, BuildHasherDefault<KeyHasher>> = HashSet::default();
    let mut out = Vec::new();
    for &(b, cost) in ranked {
        let signature = comps
            .iter()
            .fold(u64::from(shapes.class[usize::from(b)]), |acc, (a, _)| {
                (acc << 8) | u64::from(a.dfa.byte_classes().get(b))
            });
        if seen.insert(signature) {
            out.push((b, cost));
        }
    }
    out
}

/// Cheapest-first search over the product of `comps` and the path automaton
/// for a valid path accepted by every allowed component and no prohibited
/// one.
///
/// The answer is that of [`search_reference`] (a plain Dijkstra search,
/// ties first come, first served), found in two cheaper passes. An A* pass
/// (priority: cost so far plus [`Auto::dist`], a consistent lower bound)
/// finds the cheapest witness's cost C, or proves there is none. Then the
/// same Dijkstra search runs again, skipping every state whose cost plus
/// lower bound exceeds C. The states it keeps are found in the same order,
/// at the same cost and from the same parent as in the full search (the
/// bound never decreases along a path, so no kept state is reached at its
/// cheapest through a skipped one), so it stops at the same witness; it
/// only leaves out the many states every overlapping pair's full search
/// visits below C that lead to no witness as cheap. The full search remains
/// for the one case the passes cannot match exactly: the A* pass running
/// out of budget.
fn search(comps: &[(&Auto, Role)], budget: &Budget) -> Search {
    if comps.len() > MAX_COMPS {
        return Search::TooComplex;
    }
    let alphabet = alphabet(comps);
    match explore(comps, budget, &alphabet, true, u32::MAX) {
        (Search::Found(_), cost) => explore(comps, budget, &alphabet, false, cost).0,
        (Search::Empty, _) => Search::Empty,
        (Search::TooComplex, _) => explore(comps, budget, &alphabet, false, u32::MAX).0,
    }
}

/// The search as it was before the two passes: Dijkstra over the whole
/// product. [`search`] must answer exactly as this does.
fn search_reference(comps: &[(&Auto, Role)], budget: &Budget) -> Search {
    if comps.len() > MAX_COMPS {
        return Search::TooComplex;
    }
    explore(comps, budget, &alphabet(comps), false, u32::MAX).0
}

/// One pass over the product: Dijkstra (`astar` false: priority is the
/// cost so far, ties first come, first served) or A* (priority also counts
/// the lower bound on the rest), never keeping a state whose cost plus
/// lower bound exceeds `bound`. Returns the result and, when found, the
/// witness's cost.
fn explore(
    comps: &[(&Auto, Role)],
    budget: &Budget,
    alphabet: &[(u8, u32)],
    astar: bool,
    bound: u32,
) -> (Search, u32) {
    let shapes = shape_tables();
    // `None` when no witness can go through the state (an allowed side can
    // no longer match, or a prohibited side matches whatever follows),
    // otherwise the lower bound on what the rest of a witness costs.
    let rest = |key: &Key| -> Option<u32> {
        let mut most = 0;
        for ((a, role), &s) in comps.iter().zip(key.states.iter()) {
            let i = a.index(s);
            match role {
                Role::Allowed => {
                    let d = a.dist.get(i).copied().unwrap_or(u32::MAX);
                    if d == u32::MAX {
                        return None;
                    }
                    most = most.max(d);
                }
                Role::Prohibited => {
                    if Auto::flag(&a.universal, i) {
                        return None;
                    }
                }
            }
        }
        Some(most)
    };
    let accepts = |key: &Key| {
        shape_accepts(key.shape)
            && comps.iter().zip(key.states.iter()).all(|((a, role), &s)| {
                let m = Auto::flag(&a.eoi_match, a.index(s));
                match role {
                    Role::Allowed => m,
                    Role::Prohibited => !m,
                }
            })
    };
    let priority = |cost: u32, rest: u32| {
        if astar {
            cost.saturating_add(rest)
        } else {
            cost
        }
    };

    let mut start = Key {
        states: [StateID::ZERO; MAX_COMPS],
        shape: 0,
    };
    for ((a, _), slot) in comps.iter().zip(start.states.iter_mut()) {
        *slot = a.start;
    }
    let Some(start_rest) = rest(&start).filter(|&r| r <= bound) else {
        return (Search::Empty, 0);
    };
    let mut index: HashMap<Key, u32, BuildHasherDefault<KeyHasher>> = HashMap::default();
    let mut keys: Vec<Key> = vec![start];
    let mut nodes: Vec<Node> = vec![Node {
        parent: u32::MAX,
        byte: 0,
        cost: 0,
        rest: start_rest,
        done: false,
    }];
    index.insert(start, 0);
    // (priority, sequence number) orders ties first-come-first-served, so
    // the Dijkstra pass is breadth-first in the readable byte order within
    // a cost.
    let mut heap: BinaryHeap<Reverse<(u32, u64, u32)>> = BinaryHeap::new();
    let mut seq: u64 = 0;
    heap.push(Reverse((priority(0, start_rest), seq, 0)));
    let limit = budget.max_product_states.min(u32::MAX as usize - 1);
    while let Some(Reverse((prio, _, id))) = heap.pop() {
        let Some(node) = nodes.get_mut(id as usize) else {
            continue;
        };
        if node.done || priority(node.cost, node.rest) != prio {
            continue;
        }
        node.done = true;
        let cost = node.cost;
        let Some(&key) = keys.get(id as usize) else {
            continue;
        };
        if accepts(&key) {
            return (Search::Found(rebuild(&nodes, id)), cost);
        }
        let shape = key.shape;
        for &(b, byte_cost) in alphabet {
            let next_shape = shapes.next(shape, b);
            if next_shape == REJECT {
                continue;
            }
            let mut next = Key {
                states: [StateID::ZERO; MAX_COMPS],
                shape: next_shape,
            };
            for (((a, _), &s), slot) in comps
                .iter()
                .zip(key.states.iter())
                .zip(next.states.iter_mut())
            {
                *slot = a.dfa.next_state(s, b);
            }
            let Some(next_rest) = rest(&next) else {
                continue;
            };
            let step = byte_cost
                + if b == b'.' && shape / 8 == 0 {
                    LEADING_DOT_PENALTY
                } else {
                    0
                };
            let next_cost = cost.saturating_add(step);
            if next_cost.saturating_add(next_rest) > bound {
                continue;
            }
            let target = match index.entry(next) {
                Entry::Occupied(o) => {
                    let t = *o.get();
                    match nodes.get_mut(t as usize) {
                        Some(n) if !n.done && next_cost < n.cost => {
                            n.cost = next_cost;
                            n.parent = id;
                            n.byte = b;
                            t
                        }
                        _ => continue,
                    }
                }
                Entry::Vacant(v) => {
                    if nodes.len() >= limit {
                        return (Search::TooComplex, 0);
                    }
                    let t = nodes.len() as u32;
                    v.insert(t);
                    keys.push(next);
                    nodes.push(Node {
                        parent: id,
                        byte: b,
                        cost: next_cost,
                        rest: next_rest,
                        done: false,
                    });
                    t
                }
            };
            seq += 1;
            heap.push(Reverse((priority(next_cost, next_rest), seq, target)));
        }
    }
    (Search::Empty, 0)
}

fn rebuild(nodes: &[Node], mut id: u32) -> String {
    let mut bytes = Vec::new();
    while let Some(n) = nodes.get(id as usize) {
        if n.parent == u32::MAX {
            break;
        }
        bytes.push(n.byte);
        id = n.parent;
    }
    bytes.reverse();
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}
