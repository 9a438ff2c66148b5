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
    /// For each state index: can some continuation still match?
    live: Vec<bool>,
    /// For each state index: does every continuation (including none) match?
    universal: Vec<bool>,
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

    /// Enumerates the reachable states and computes `eoi_match`, `live` and
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
        let live = closure(indices.iter().copied().filter(|&i| eoi_match[i]).collect());
        let not_universal = closure(indices.iter().copied().filter(|&i| !eoi_match[i]).collect());
        let mut universal = vec![false; n];
        for &i in &indices {
            universal[i] = !not_universal[i];
        }
        Ok(Auto {
            dfa,
            start,
            eoi_match,
            live,
            universal,
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
    prefixes: Vec<String>,
}

impl CompiledScope {
    /// Builds the DFAs of `scope`; `None` when they exceed `budget`.
    pub fn new(scope: &Scope, budget: &Budget) -> Option<CompiledScope> {
        let allowed: Vec<&Pattern> = scope.allowed.iter().collect();
        let prohibited: Vec<&Pattern> = scope.prohibited.iter().collect();
        Some(CompiledScope {
            allowed: build_side(&allowed, budget).ok()?,
            prohibited: build_side(&prohibited, budget).ok()?,
            prefixes: scope
                .allowed
                .iter()
                .map(|p| p.literal_prefix().to_string())
                .collect(),
        })
    }

    /// Literal-prefix pre-check, as [`super::may_overlap`].
    pub fn may_overlap(&self, other: &CompiledScope) -> bool {
        self.prefixes
            .iter()
            .any(|p| other.prefixes.iter().any(|q| prefixes_compatible(p, q)))
    }
}

/// [`super::overlap`] on prebuilt automata.
pub fn overlap_compiled(a: &CompiledScope, b: &CompiledScope, budget: &Budget) -> Overlap {
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
    search(&comps, budget).into()
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
    search(&comps, budget).into()
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
    /// How many pairs survived literal-prefix pruning and needed a product search.
    pub searched: usize,
}

/// Checks every pair of `scopes` for overlap: literal prefixes first, and
/// each scope's automata built at most once, only if some pair needs them.
pub fn pairwise_overlaps(scopes: &[Scope], budget: &Budget) -> PairReport {
    let mut compiled: Vec<Option<Option<CompiledScope>>> = vec![None; scopes.len()];
    let mut report = PairReport::default();
    for i in 0..scopes.len() {
        for j in i + 1..scopes.len() {
            if !super::may_overlap(&scopes[i], &scopes[j]) {
                continue;
            }
            report.searched += 1;
            for k in [i, j] {
                if compiled[k].is_none() {
                    compiled[k] = Some(CompiledScope::new(&scopes[k], budget));
                }
            }
            let result = match (&compiled[i], &compiled[j]) {
                (Some(Some(a)), Some(Some(b))) => overlap_compiled(a, b, budget),
                _ => Overlap::TooComplex,
            };
            if result != Overlap::Disjoint {
                report.overlaps.push((i, j, result));
            }
        }
    }
    report
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
fn byte_rank(b: u8) -> Option<(u32, u32)> {
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
const LEADING_DOT_PENALTY: u32 = 2;

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
    done: bool,
}

/// Cheapest-first search over the product of `comps` and the path automaton
/// for a valid path accepted by every allowed component and no prohibited
/// one.
fn search(comps: &[(&Auto, Role)], budget: &Budget) -> Search {
    if comps.len() > MAX_COMPS {
        return Search::TooComplex;
    }
    // Byte groups: bytes that every component and the path automaton treat
    // alike are interchangeable; keep the best-ranked one of each group.
    let shapes = shape_tables();
    let mut groups: HashMap<u64, (u8, (u32, u32))> = HashMap::new();
    for b in 0..=255u8 {
        let Some(rank) = byte_rank(b) else { continue };
        let shape_class = shapes.class[usize::from(b)];
        if shape_class == REJECT {
            continue;
        }
        let signature = comps.iter().fold(u64::from(shape_class), |acc, (a, _)| {
            (acc << 8) | u64::from(a.dfa.byte_classes().get(b))
        });
        groups
            .entry(signature)
            .and_modify(|best| {
                if rank < best.1 {
                    *best = (b, rank);
                }
            })
            .or_insert((b, rank));
    }
    let mut alphabet: Vec<(u8, u32, u32)> =
        groups.into_values().map(|(b, (c, o))| (b, c, o)).collect();
    alphabet.sort_by_key(|&(_, cost, order)| (cost, order));

    let hopeless = |key: &Key| {
        comps.iter().zip(key.states.iter()).any(|((a, role), &s)| {
            let i = a.index(s);
            match role {
                Role::Allowed => !Auto::flag(&a.live, i),
                Role::Prohibited => Auto::flag(&a.universal, i),
            }
        })
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

    let mut start = Key {
        states: [StateID::ZERO; MAX_COMPS],
        shape: 0,
    };
    for ((a, _), slot) in comps.iter().zip(start.states.iter_mut()) {
        *slot = a.start;
    }
    if hopeless(&start) {
        return Search::Empty;
    }
    let mut index: HashMap<Key, u32, BuildHasherDefault<KeyHasher>> = HashMap::default();
    let mut keys: Vec<Key> = vec![start];
    let mut nodes: Vec<Node> = vec![Node {
        parent: u32::MAX,
        byte: 0,
        cost: 0,
        done: false,
    }];
    index.insert(start, 0);
    // (cost, sequence number) orders ties first-come-first-served, so the
    // search is breadth-first in the readable byte order within a cost.
    let mut heap: BinaryHeap<Reverse<(u32, u64, u32)>> = BinaryHeap::new();
    let mut seq: u64 = 0;
    heap.push(Reverse((0, seq, 0)));
    let limit = budget.max_product_states.min(u32::MAX as usize - 1);
    while let Some(Reverse((cost, _, id))) = heap.pop() {
        let Some(node) = nodes.get_mut(id as usize) else {
            continue;
        };
        if node.done || node.cost != cost {
            continue;
        }
        node.done = true;
        let Some(&key) = keys.get(id as usize) else {
            continue;
        };
        if accepts(&key) {
            return Search::Found(rebuild(&nodes, id));
        }
        let shape = key.shape;
        for &(b, byte_cost, _) in &alphabet {
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
            if hopeless(&next) {
                continue;
            }
            let step = byte_cost
                + if b == b'.' && shape / 8 == 0 {
                    LEADING_DOT_PENALTY
                } else {
                    0
                };
            let next_cost = cost.saturating_add(step);
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
                        return Search::TooComplex;
                    }
                    let t = nodes.len() as u32;
                    v.insert(t);
                    keys.push(next);
                    nodes.push(Node {
                        parent: id,
                        byte: b,
                        cost: next_cost,
                        done: false,
                    });
                    t
                }
            };
            seq += 1;
            heap.push(Reverse((next_cost, seq, target)));
        }
    }
    Search::Empty
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
