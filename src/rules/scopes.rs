//! Scope rules: each card's globs compile and stay inside the repository,
//! and tasks that run side by side cannot touch a common path (decided on
//! the glob patterns themselves, see `crate::scope`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::diagnostic::Diagnostic;
use crate::model::scope::{CardScope as Read, Glob};
use crate::model::views::FieldsView;
use crate::model::{TaskStatus, templates};
use crate::scope::{
    Budget, CompiledScope, Overlap, Pattern, PatternError, Scope, may_overlap, overlap_compiled,
};
use crate::source::{FileId, Span};

use super::{Context, rule};

/// A card's scope as the model reads it ([`crate::model::scope`]), with
/// its automata, compiled only when a check needs them.
pub(crate) struct CardScope<'p> {
    /// Index into `Index::tasks` (the cards are in task order).
    pub(crate) task: usize,
    file: FileId,
    /// Kept with the card's document ([`Read::of_task`]): the language
    /// server reads again only the cards whose text changed.
    read: &'p Read,
    /// Boxed: the automata are large and most cards never need them.
    compiled: OnceLock<Option<Box<CompiledScope>>>,
}

impl<'p> CardScope<'p> {
    fn compiled(&self, budget: &Budget) -> Option<&CompiledScope> {
        self.compiled
            .get_or_init(|| {
                self.scope()
                    .and_then(|s| CompiledScope::new(s, budget))
                    .map(Box::new)
            })
            .as_deref()
    }

    /// The card's scope as the model reads it.
    pub(crate) fn read(&self) -> &'p Read {
        self.read
    }

    /// The scope, when every glob parsed.
    fn scope(&self) -> Option<&Scope> {
        self.read.scope.as_ref()
    }

    fn allowed(&self) -> &[Glob] {
        &self.read.allowed
    }

    fn globs(&self) -> impl Iterator<Item = &Glob> {
        self.read.allowed.iter().chain(&self.read.prohibited)
    }

    fn first_glob(&self) -> Span {
        self.read
            .allowed
            .first()
            .map_or(Span::empty(0), |g| g.text.span)
    }
}

pub(crate) fn card_scopes<'p>(cx: &Context<'p>) -> Vec<CardScope<'p>> {
    cx.index
        .tasks
        .iter()
        .enumerate()
        .filter_map(|(i, task)| {
            let read = Read::of_task(cx.program, task)?;
            Some(CardScope {
                task: i,
                file: read.file,
                read,
                compiled: OnceLock::new(),
            })
        })
        .collect()
}

rule!(
    GlobInvalid,
    "glob-invalid",
    Error,
    "a scope glob does not compile",
    r#"## What it does
Reports a glob in a card's `Files/paths` or `Prohibited areas` that does not
compile (an unclosed `[` or `{`), or that is too complex to decide overlap
on (a huge brace list).

## Why it matters
A glob that does not compile matches nothing: the card's scope silently
shrinks, and overlap with other cards cannot be checked.

## Example
```markdown
  - Files/paths: `web/src/ui/[sync/**`      <- unclosed `[`
```
"#,
    check_glob_invalid
);

fn check_glob_invalid(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for card in cx.cards() {
        for g in card.globs() {
            let glob = &g.text;
            let message = match &g.pattern {
                Err(PatternError::Invalid(m)) => {
                    format!("`{}` is not a valid glob: {m}", glob.value)
                }
                Err(PatternError::TooComplex) => {
                    format!("`{}` is too complex to check for overlap", glob.value)
                }
                _ => continue,
            };
            out.push(
                Diagnostic::new("", card.file, glob.span, message)
                    .help("globs use `*` (within a folder), `**` (across folders), `?`, `[abc]` and `{a,b}`; close every bracket"),
            );
        }
    }
}

rule!(
    ScopeUnreadable,
    "scope-unreadable",
    Error,
    "text in a card's Files/paths or Prohibited areas that is not a glob",
    r#"## What it does
Reports text in a card's `Files/paths` or `Prohibited areas` that orch
cannot read as globs: a remark next to the code spans (`except the tests`),
an entry with spaces (`the CLI module`), a labelled sub-item (`- tests:
...`). Globs are read from code spans, from plain comma- or
semicolon-separated paths, and from sub-items, one or more per sub-item.

## Why it matters
What orch cannot read it would drop, and the scope the agent is judged on
would silently differ from the one the lead wrote: `except the tests` in a
Prohibited areas item prohibits nothing.

## Example
```markdown
  - Prohibited areas: `src/core/**` except the tests   <- `src/core/**`, and allow
                                                          `src/core/tests/**` in Files/paths
  - Files/paths:
    - `src/cli/**`
    - `tests/cli/**` (new tests)                       <- move the remark to the Goal
```
"#,
    check_scope_unreadable
);

fn check_scope_unreadable(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for card in cx.cards() {
        let id = &cx.index.tasks[card.task].id;
        for p in &card.read.problems {
            if let (crate::model::scope::Problem::Unreadable { .. }, Some(span)) = (p, p.span()) {
                out.push(
                    Diagnostic::new("", card.file, span, p.message(id))
                        .label("not a glob")
                        .help(p.help(id)),
                );
            }
        }
    }
}

rule!(
    ScopeEmpty,
    "scope-empty",
    Error,
    "a card's Files/paths says the agent may change nothing",
    r#"## What it does
Reports a card whose `Files/paths` holds no glob at all: `none`, `-`, `n/a`,
or sub-items that each say none. (An empty item or a placeholder is
`field-empty`; text that is not a glob is `scope-unreadable`.)

## Why it matters
An agent with an empty allowed scope can change no file without a scope
violation: every run is judged `partial` for doing its job.

## Example
```markdown
- Allowed Scope:
  - Files/paths: none         <- `src/export/**`, `tests/export.rs`
  - Prohibited areas: `src/benchmark/**`
```
A task that must change nothing (a review) says so by suppressing the rule:
`<!-- orch-ignore scope-empty -->` above the card's list.
"#,
    check_scope_empty
);

fn check_scope_empty(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for card in cx.cards() {
        let id = &cx.index.tasks[card.task].id;
        for p in &card.read.problems {
            if let (crate::model::scope::Problem::NothingAllowed { .. }, Some(span)) = (p, p.span())
            {
                out.push(
                    Diagnostic::new("", card.file, span, p.message(id))
                        .label("no glob")
                        .help(p.help(id)),
                );
            }
        }
    }
}

rule!(
    ScopeEscapes,
    "scope-escapes",
    Error,
    "a scope is absolute or climbs out with `..`",
    r#"## What it does
Reports a scope glob that is absolute (`/etc`), names a drive (`C:`), uses a
backslash, or climbs out of the repository with a `..` component.

## Why it matters
Scopes are paths relative to the work tree's top. An agent whose scope
reaches outside the repository can change files no review will see.

## Example
```markdown
  - Files/paths: `../shared/**`      <- write paths inside the repository
```
"#,
    check_scope_escapes
);

fn check_scope_escapes(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for card in cx.cards() {
        for g in card.globs() {
            let glob = &g.text;
            if let Err(PatternError::Escapes(reason)) = &g.pattern {
                out.push(
                    Diagnostic::new("", card.file, glob.span, format!("`{}` leaves the repository: {reason}", glob.value))
                        .help("write the path relative to the repository's top, with `/` and without `..`"),
                );
            }
        }
    }
}

rule!(
    ScopeOverlap,
    "scope-overlap",
    Error,
    "two cards in one group, or two `in_progress` tasks, can touch a common path",
    r#"## What it does
Reports two cards in the same `group:`, or two tasks `in_progress` at once,
whose effective scopes (allowed globs minus prohibited areas) can both
contain some path, whether or not that file exists yet. The answer is
decided exactly on the glob patterns, and the message names a witness path
both scopes contain.

## Why it matters
Agents running side by side on one checkout must not write the same file:
one overwrites the other's work, and neither run's evidence is then true.

## Example
```markdown
cards/P2-UI-01.md:   - Files/paths: `web/src/**`
cards/P2-UI-02.md:   - Files/paths: `web/src/ui/sync/**`
```
Both can touch `web/src/ui/sync/a.ts`: narrow one scope, prohibit the other's
area, or move one card to another group.
"#,
    check_scope_overlap
);

fn check_scope_overlap(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let cards = cx.cards();
    let budget = Budget::default();
    let task = |c: &CardScope<'_>| &cx.index.tasks[c.task];
    // Only cards that run side by side are compared: members of one group,
    // and the tasks in progress. Pairs come out in card order, each once.
    let mut by_group: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut running = Vec::new();
    for (i, c) in cards.iter().enumerate() {
        if let Some(g) = task(c)
            .group
            .as_ref()
            .map(|g| g.value.trim())
            .filter(|g| !g.is_empty())
        {
            by_group.entry(g).or_default().push(i);
        }
        if task(c).status == TaskStatus::InProgress && task(c).status_known {
            running.push(i);
        }
    }
    let mut pairs: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for (group, members) in &by_group {
        for (k, &a) in members.iter().enumerate() {
            for &b in &members[k + 1..] {
                pairs.insert((a, b), format!("both are in group {group}"));
            }
        }
    }
    for (k, &a) in running.iter().enumerate() {
        for &b in &running[k + 1..] {
            pairs
                .entry((a, b))
                .or_insert_with(|| "both are in_progress".to_string());
        }
    }
    // The pairs literal prefixes and last components cannot keep apart
    // need a product search each: on every core when there are many (a
    // thousand cards in one group are half a million pairs).
    let searched: Vec<((usize, usize), String)> = pairs
        .into_iter()
        .filter(
            |((ai, bi), _)| match (cards[*ai].scope(), cards[*bi].scope()) {
                (Some(sa), Some(sb)) => may_overlap(sa, sb),
                _ => false,
            },
        )
        .collect();
    let results = crate::util::par_map(
        searched.len(),
        crate::scope::parallelism(searched.len()),
        64,
        || (),
        |(), n| {
            let ((ai, bi), _) = &searched[n];
            match (cards[*ai].compiled(&budget), cards[*bi].compiled(&budget)) {
                (Some(ca), Some(cb)) => overlap_compiled(ca, cb, &budget),
                _ => Overlap::TooComplex,
            }
        },
    );
    for (((ai, bi), why), result) in searched.into_iter().zip(results) {
        let (a, b) = (&cards[ai], &cards[bi]);
        let (Some(sa), Some(sb)) = (a.scope(), b.scope()) else {
            continue;
        };
        let (ta, tb) = (task(a), task(b));
        match result {
            Overlap::Disjoint => {}
            Overlap::Witness(path) => out.push(
                Diagnostic::new("", b.file, glob_matching(b, &path), format!("`{}` and `{}` can both touch `{path}` ({why})", tb.id, ta.id))
                    .help(format!(
                        "narrow one scope, add the other's area to its Prohibited areas, or dispatch `{}` in another group{}",
                        tb.id,
                        shared_files(cx, sa, sb).unwrap_or_default()
                    ))
                    .related(a.file, glob_matching(a, &path), format!("`{}`'s scope holds `{path}` too", ta.id)),
            ),
            Overlap::TooComplex => out.push(undecided(cx, a, b, &why)),
        }
    }
}

fn undecided(cx: &Context<'_>, a: &CardScope<'_>, b: &CardScope<'_>, why: &str) -> Diagnostic {
    let (ta, tb) = (&cx.index.tasks[a.task], &cx.index.tasks[b.task]);
    Diagnostic::new(
        "",
        b.file,
        b.first_glob(),
        format!(
            "cannot decide whether `{}` and `{}` overlap: the globs are too complex ({why})",
            tb.id, ta.id
        ),
    )
    .help("simplify the globs (fewer alternatives, fewer `*` in one component)")
    .related(a.file, a.first_glob(), format!("`{}`'s scope", ta.id))
}

/// The span of the card's allowed glob that matches `path` (the first glob
/// when none does, which cannot happen for a witness).
fn glob_matching(card: &CardScope<'_>, path: &str) -> Span {
    card.allowed()
        .iter()
        .find(|g| g.pattern.as_ref().is_ok_and(|p| p.is_match(path)))
        .map_or(card.first_glob(), |g| g.text.span)
}

rule!(
    ScopeSelfConflict,
    "scope-self-conflict",
    Warning,
    "allowed scope lies wholly inside its own prohibited areas",
    r#"## What it does
Reports a card whose every allowed path is also in its prohibited areas, so
its effective scope is empty.

## Why it matters
An agent with an empty scope can change nothing without a scope violation;
the card was most likely edited in one place and not the other.

## Example
```markdown
  - Files/paths: `core/src/sync/**`
  - Prohibited areas: `core/**`
```
"#,
    check_scope_self_conflict
);

fn check_scope_self_conflict(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let budget = Budget::default();
    for card in cx.cards() {
        let Some(scope) = card.scope() else { continue };
        if scope.allowed.is_empty() || scope.prohibited.is_empty() || sample_allowed(scope) {
            continue;
        }
        if crate::scope::is_empty(scope, &budget) == Some(true) {
            let id = &cx.index.tasks[card.task].id;
            let mut d = Diagnostic::new("", card.file, card.first_glob(), format!("every path `{id}` may change is in its prohibited areas"))
                .help("narrow the prohibited areas, or widen Files/paths: as written the agent can change nothing");
            if let Some(p) = card.read.prohibited.first() {
                d = d.related(card.file, p.text.span, "prohibited here");
            }
            out.push(d);
        }
    }
}

/// A cheap proof that the effective scope is not empty: a sample path of
/// some allowed glob that no prohibited glob matches. False means "not
/// proven", and the exact check runs.
fn sample_allowed(scope: &Scope) -> bool {
    scope.allowed.iter().any(|a| {
        let sample = sample_path(a.normalized());
        a.is_match(&sample)
            && !scope
                .prohibited
                .iter()
                .any(|p| sample.starts_with(p.literal_prefix()) && p.is_match(&sample))
    })
}

/// A path a glob probably matches: each wildcard replaced by a plain name,
/// each class and alternative by its first choice.
pub(super) fn sample_path(glob: &str) -> String {
    let mut out = String::new();
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                if chars.peek() == Some(&'*') {
                    chars.next();
                    if chars.peek() == Some(&'/') {
                        chars.next(); // `**/`: zero folders
                    } else {
                        out.push_str("orch-sample");
                    }
                } else {
                    out.push_str("orch-sample");
                }
            }
            '?' => out.push('x'),
            '[' => {
                let mut first = None;
                for c in chars.by_ref() {
                    if c == ']' && first.is_some() {
                        break;
                    }
                    if first.is_none() && c != '!' && c != '^' {
                        first = Some(c);
                    }
                }
                out.push(first.unwrap_or('x'));
            }
            '{' => {
                // The first alternative, up to the matching `,` or `}`.
                let mut depth = 0;
                let mut taken = String::new();
                let mut done = false;
                for c in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => done = true,
                        _ => {}
                    }
                    if !done {
                        taken.push(c);
                    }
                }
                out.push_str(&sample_path(&taken));
            }
            _ => out.push(c),
        }
    }
    out
}

rule!(
    ScopeUnmatched,
    "scope-unmatched",
    Warning,
    "an allowed glob matches no tracked file and no expected artifact",
    r#"## What it does
Reports an allowed glob in a card's `Files/paths` that matches no file the
repository tracks (the git index; a walk of the work tree outside git) and
no path named in any ticket's `Expected Artifacts`.

## Why it matters
A glob that matches nothing is usually a typo (`src/iu/**`) or a path that
moved. The agent then has no room to work, or works somewhere no scope
covers. A file the task will create is fine: name it in the ticket's
Expected Artifacts.

## Example
```markdown
  - Files/paths: `web/src/iu/sync/**`      <- `web/src/ui/sync/**`
```
"#,
    check_scope_unmatched
);

/// Every ticket's Expected Artifacts, sorted: with the tracked files, the
/// paths a glob may legitimately match.
fn artifact_paths<'a>(cx: &'a Context<'_>) -> Vec<&'a str> {
    let mut paths: Vec<&str> = Vec::new();
    for task in &cx.index.tasks {
        let Some(ti) = task.ticket else { continue };
        let doc = &cx.program.docs[ti];
        // Kept with the document: read once per text.
        let entries = doc.memo.artifact_entries.get_or_init(|| {
            FieldsView::of(doc, templates::TICKET_HEADING)
                .field("Expected Artifacts")
                .map(|item| item.entries().into_boxed_slice())
                .unwrap_or_default()
        });
        paths.extend(
            entries
                .iter()
                .map(|e| e.value.trim().trim_start_matches("./")),
        );
    }
    paths.sort();
    paths.dedup();
    paths
}

/// Does `pattern` match one of the sorted `paths`? Only the paths that start
/// with its literal prefix are tried.
fn matches_any(pattern: &Pattern, paths: &[&str]) -> bool {
    let prefix = pattern.literal_prefix();
    let start = paths.partition_point(|p| *p < prefix);
    paths[start..]
        .iter()
        .take_while(|p| p.starts_with(prefix))
        .any(|p| pattern.is_match(p))
}

fn check_scope_unmatched(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let cards = cx.cards();
    if cards.is_empty() {
        return;
    }
    // Two sorted lists searched in turn, rather than one merged copy of the
    // tracked files (a million strings in a large repository); the tracked
    // files once for every card's globs together.
    let tracked = cx.tracked_files();
    let artifacts = artifact_paths(cx);
    let globs: Vec<(&CardScope, &str, Span, &Pattern)> = cards
        .iter()
        .flat_map(|card| {
            card.allowed().iter().filter_map(move |g| {
                let pattern = g.pattern.as_ref().ok()?;
                Some((card, g.text.value.as_str(), g.text.span, pattern))
            })
        })
        .collect();
    let patterns: Vec<&Pattern> = globs.iter().map(|g| g.3).collect();
    let in_tracked = crate::scope::any_match(&patterns, tracked);
    for ((card, glob, span, pattern), tracked) in globs.into_iter().zip(in_tracked) {
        if tracked || matches_any(pattern, &artifacts) {
            continue;
        }
        out.push(
            Diagnostic::new("", card.file, span, format!("`{glob}` matches no tracked file and no expected artifact"))
                .help("fix the path, or name the files the task will create in its ticket's Expected Artifacts"),
        );
    }
}

/// Tracked files both scopes hold, for the overlap diagnostic: a few, then
/// a count.
fn shared_files(cx: &Context<'_>, a: &Scope, b: &Scope) -> Option<String> {
    let files = cx.tracked_files();
    let mut shared = Vec::new();
    for p in &a.allowed {
        let prefix = p.literal_prefix();
        let start = files.partition_point(|f| f.as_str() < prefix);
        for f in files[start..].iter().take_while(|f| f.starts_with(prefix)) {
            if a.is_match(f) && b.is_match(f) {
                shared.push(f.as_str());
            }
        }
    }
    shared.sort_unstable();
    shared.dedup();
    if shared.is_empty() {
        return None;
    }
    let shown: Vec<String> = shared.iter().take(3).map(|f| format!("`{f}`")).collect();
    let more = shared.len().saturating_sub(3);
    Some(if more > 0 {
        format!(
            "; tracked files in both: {} and {more} more",
            shown.join(", ")
        )
    } else {
        format!("; tracked files in both: {}", shown.join(", "))
    })
}

rule!(
    CardMissing,
    "card-missing",
    Error,
    "a task is `in_progress` without a card",
    r#"## What it does
Reports a task that is `in_progress` but has no Codex Execution Card
(`cards/<ID>.md`).

## Why it matters
The card is the agent's brief and its path scope. A task running without one
has no scope to check for overlap or violations, and no prompt to replay.

## Example
`orch new card P2-UI-01` writes the card from the plan's row.
"#,
    check_card_missing
);

fn check_card_missing(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for task in &cx.index.tasks {
        if task.status != TaskStatus::InProgress || task.card.is_some() || !task.status_known {
            continue;
        }
        let at = task.status_at.unwrap_or(task.at);
        out.push(
            Diagnostic::new(
                "",
                at.file,
                at.span,
                format!("`{}` is in_progress but has no card", task.id),
            )
            .help(format!(
                "write `cards/{}.md` (`orch new card {}`), or set the task back to `todo`",
                task.id, task.id
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::sample_path;

    #[test]
    fn samples_follow_the_glob() {
        assert_eq!(sample_path("mod5/**"), "mod5/orch-sample");
        assert_eq!(sample_path("src/**/*.rs"), "src/orch-sample.rs");
        assert_eq!(sample_path("src/{ui,ui/**}"), "src/ui");
        assert_eq!(sample_path("a/[!x]?.{md,txt}"), "a/xx.md");
    }
}
