//! Scope rules: each card's globs compile and stay inside the repository,
//! and tasks that run side by side cannot touch a common path (decided on
//! the glob patterns themselves, see `crate::scope`).

use crate::diagnostic::Diagnostic;
use crate::model::TaskStatus;
use crate::model::program::{Task, scope_of};
use crate::model::views::ScopeText;
use crate::scope::{
    Budget, CompiledScope, Overlap, Pattern, PatternError, Scope, overlap_compiled,
};
use crate::source::{FileId, Span, Spanned};

use super::{Context, rule};

/// A card's scope: its globs as written and, where they all compile, the
/// compiled scope.
struct CardScope<'t> {
    task: &'t Task,
    file: FileId,
    text: ScopeText,
    compiled: Option<CompiledScope>,
}

fn parse_all(globs: &[Spanned<String>]) -> Vec<(Spanned<String>, Result<Pattern, PatternError>)> {
    globs
        .iter()
        .map(|g| (g.clone(), Pattern::parse(g.value.trim())))
        .collect()
}

fn card_scopes<'t>(cx: &'t Context<'_>) -> Vec<CardScope<'t>> {
    let budget = Budget::default();
    cx.index
        .tasks
        .iter()
        .filter_map(|task| {
            let text = scope_of(cx.program, task)?;
            let file = cx.program.docs[task.card?].file;
            let allowed: Option<Vec<Pattern>> = parse_all(&text.allowed)
                .into_iter()
                .map(|(_, p)| p.ok())
                .collect();
            let prohibited: Option<Vec<Pattern>> = parse_all(&text.prohibited)
                .into_iter()
                .map(|(_, p)| p.ok())
                .collect();
            let compiled = match (allowed, prohibited) {
                (Some(a), Some(p)) => CompiledScope::new(&Scope::new(a, p), &budget),
                _ => None,
            };
            Some(CardScope {
                task,
                file,
                text,
                compiled,
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
    for card in card_scopes(cx) {
        for (glob, result) in parse_all(&card.text.allowed)
            .into_iter()
            .chain(parse_all(&card.text.prohibited))
        {
            let message = match result {
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
    for card in card_scopes(cx) {
        for (glob, result) in parse_all(&card.text.allowed)
            .into_iter()
            .chain(parse_all(&card.text.prohibited))
        {
            if let Err(PatternError::Escapes(reason)) = result {
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
    let cards = card_scopes(cx);
    let budget = Budget::default();
    let first_glob = |c: &CardScope<'_>| c.text.allowed.first().map_or(Span::empty(0), |g| g.span);
    for (i, a) in cards.iter().enumerate() {
        for b in &cards[i + 1..] {
            let group =
                |c: &CardScope<'_>| c.task.group.as_ref().map(|g| g.value.trim().to_string());
            let same_group = group(a).is_some_and(|g| !g.is_empty() && Some(g) == group(b));
            let both_running =
                a.task.status == TaskStatus::InProgress && b.task.status == TaskStatus::InProgress;
            if !same_group && !both_running {
                continue;
            }
            let (Some(sa), Some(sb)) = (&a.compiled, &b.compiled) else {
                continue;
            };
            if !sa.may_overlap(sb) {
                continue;
            }
            let why = if same_group {
                format!("both are in group {}", group(a).unwrap_or_default())
            } else {
                "both are in_progress".to_string()
            };
            match overlap_compiled(sa, sb, &budget) {
                Overlap::Disjoint => {}
                Overlap::Witness(path) => out.push(
                    Diagnostic::new(
                        "",
                        b.file,
                        glob_matching(b, &path),
                        format!("`{}` and `{}` can both touch `{path}` ({why})", b.task.id, a.task.id),
                    )
                    .help(format!(
                        "narrow one scope, add the other's area to its Prohibited areas, or dispatch `{}` in another group",
                        b.task.id
                    ))
                    .related(a.file, glob_matching(a, &path), format!("`{}`'s scope holds `{path}` too", a.task.id)),
                ),
                Overlap::TooComplex => out.push(
                    Diagnostic::new("", b.file, first_glob(b), format!("cannot decide whether `{}` and `{}` overlap: the globs are too complex ({why})", b.task.id, a.task.id))
                        .help("simplify the globs (fewer alternatives, fewer `*` in one component)")
                        .related(a.file, first_glob(a), format!("`{}`'s scope", a.task.id)),
                ),
            }
        }
    }
}

/// The span of the card's allowed glob that matches `path` (the first glob
/// when none does, which cannot happen for a witness).
fn glob_matching(card: &CardScope<'_>, path: &str) -> Span {
    card.text
        .allowed
        .iter()
        .find(|g| Pattern::parse(g.value.trim()).is_ok_and(|p| p.is_match(path)))
        .or(card.text.allowed.first())
        .map_or(Span::empty(0), |g| g.span)
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
    for card in card_scopes(cx) {
        if card.text.allowed.is_empty() || card.text.prohibited.is_empty() {
            continue;
        }
        let parsed = |g: &[Spanned<String>]| -> Option<Vec<Pattern>> {
            g.iter()
                .map(|x| Pattern::parse(x.value.trim()).ok())
                .collect()
        };
        let (Some(a), Some(p)) = (parsed(&card.text.allowed), parsed(&card.text.prohibited)) else {
            continue;
        };
        if crate::scope::is_empty(&Scope::new(a, p), &budget) == Some(true) {
            let span = card.text.allowed.first().map_or(Span::empty(0), |g| g.span);
            let mut d = Diagnostic::new("", card.file, span, format!("every path `{}` may change is in its prohibited areas", card.task.id))
                .help("narrow the prohibited areas, or widen Files/paths: as written the agent can change nothing");
            if let Some(p) = card.text.prohibited.first() {
                d = d.related(card.file, p.span, "prohibited here");
            }
            out.push(d);
        }
    }
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
