//! A card's scope, read in one place. [`CardScope::of`] reads the card's
//! `Allowed Scope` (its `Files/paths` and `Prohibited areas`, written in
//! code spans or not, comma-separated or one per sub-item, see
//! [`super::lists`]), parses every glob, and keeps every reason the scope is
//! not what the lead wrote as a [`Problem`] with the span of the text: a
//! remark orch cannot read as globs, an allowed scope that is empty, a
//! missing field. Lint reports the problems (`scope-unreadable`,
//! `scope-empty`; `field-missing`, `field-empty` and `glob-invalid` for the
//! rest); [`effective_scope`], which `start`, `dispatch`, `sheet`, `scope
//! check` and `replan` use, refuses a card that has one. Nothing else reads
//! a card's scope.

use crate::parse::markdown::Item;
use crate::scope::{Pattern, PatternError, Scope};
use crate::source::{FileId, Span, Spanned, Text};

use super::document::Document;
use super::lists::{Listed, read_paths};
use super::program::{Program, Task};
use super::templates;
use super::views::FieldsView;

/// The two fields of a card's `Allowed Scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Allowed,
    Prohibited,
}

impl Field {
    /// The field's label in the template.
    pub fn label(self) -> &'static str {
        match self {
            Field::Allowed => "Files/paths",
            Field::Prohibited => "Prohibited areas",
        }
    }
}

/// One glob as written, and what it parsed to.
#[derive(Clone, Debug)]
pub struct Glob {
    pub text: Spanned<Text>,
    pub pattern: Result<Pattern, PatternError>,
}

/// Why a card's scope is not (all) what its text says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The card has no `## Codex Execution Card:` section, or no `- Allowed
    /// Scope:` item in it (`section-missing`, `field-missing`).
    NoAllowedScope,
    /// The Allowed Scope lacks this field (`field-missing`).
    NoField(Field),
    /// The field is empty or a placeholder (`field-empty`).
    Empty { field: Field, at: Span },
    /// Text in the field that is not a glob (`scope-unreadable`).
    Unreadable { field: Field, text: Spanned<Text> },
    /// `Files/paths` says there is nothing (`none`, `-`): the agent may
    /// change no file (`scope-empty`).
    NothingAllowed { at: Span, written: String },
}

impl Problem {
    /// Is this problem reported by a scope rule (rather than by a structure
    /// rule that sees the same text)?
    pub fn is_scope_rule(&self) -> bool {
        matches!(
            self,
            Problem::Unreadable { .. } | Problem::NothingAllowed { .. }
        )
    }

    /// The message, about task `id`.
    pub fn message(&self, id: &str) -> String {
        match self {
            Problem::NoAllowedScope => format!("`{id}`'s card has no Allowed Scope"),
            Problem::NoField(f) => {
                format!("`{id}`'s Allowed Scope has no `{}` field", f.label())
            }
            Problem::Empty { field, .. } => {
                format!("`{id}`'s `{}` is empty", field.label())
            }
            Problem::Unreadable { field, text } => format!(
                "`{}` in `{id}`'s {} is not a glob: orch cannot read it, and would drop it",
                crate::util::clip_chars(text.value.trim(), 60),
                field.label()
            ),
            Problem::NothingAllowed { written, .. } => {
                format!("`{id}`'s Files/paths is `{written}`: the agent may change no file")
            }
        }
    }

    /// The help line: how to fix it.
    pub fn help(&self, id: &str) -> String {
        match self {
            Problem::NoAllowedScope => format!(
                "add `- Allowed Scope:` with `Files/paths` and `Prohibited areas` sub-items to `{id}`'s card"
            ),
            Problem::NoField(f) => format!(
                "add a `- {}:` sub-item under `- Allowed Scope:`",
                f.label()
            ),
            Problem::Empty { field, .. } => match field {
                Field::Allowed => "list the globs the task may change, as code spans (`src/cli/**`)".into(),
                Field::Prohibited => "list the globs the task must not touch, or write `none`".into(),
            },
            Problem::Unreadable { field, .. } => format!(
                "write each path as a glob in a code span (`src/cli/**`), separated by commas or one per sub-item; {}",
                match field {
                    Field::Allowed => "a remark here narrows nothing: say it with globs, or move it to the Goal",
                    Field::Prohibited => "a prohibition in words is not enforced: say it with a glob (`tests/**`)",
                }
            ),
            Problem::NothingAllowed { .. } => "list the globs the task may change (`src/cli/**`); for a task that must change nothing, put `<!-- orch-ignore scope-empty -->` above the card's list".into(),
        }
    }

    /// The text at fault, when there is one to point at.
    pub fn span(&self) -> Option<Span> {
        match self {
            Problem::Empty { at, .. } | Problem::NothingAllowed { at, .. } => Some(*at),
            Problem::Unreadable { text, .. } => Some(text.span),
            Problem::NoAllowedScope | Problem::NoField(_) => None,
        }
    }
}

/// A card's scope as read: every glob with its parse, every problem.
#[derive(Clone, Debug)]
pub struct CardScope {
    /// The card's file.
    pub file: FileId,
    pub allowed: Vec<Glob>,
    pub prohibited: Vec<Glob>,
    pub problems: Vec<Problem>,
    /// The scope, when every glob parsed (problems or not): what the
    /// overlap rules check. `None` when a glob does not parse.
    pub scope: Option<Scope>,
}

/// Why a task has no effective scope: a message and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeError {
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for ScopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.help)
    }
}

impl From<ScopeError> for crate::error::Error {
    fn from(e: ScopeError) -> crate::error::Error {
        crate::error::Error::with_help(e.message, e.help)
    }
}

fn parse(field: Field, listed: &Listed, problems: &mut Vec<Problem>) -> Vec<Glob> {
    for prose in &listed.prose {
        problems.push(Problem::Unreadable {
            field,
            text: prose.clone(),
        });
    }
    listed
        .entries
        .iter()
        .map(|g| Glob {
            text: g.clone(),
            pattern: Pattern::parse(g.value.trim()),
        })
        .collect()
}

impl CardScope {
    /// Read the scope of the card `doc`, whose file's text is `text`.
    pub fn of(doc: &Document, text: &str) -> CardScope {
        let view = FieldsView::of(doc, templates::CARD_HEADING);
        let mut problems = Vec::new();
        let mut allowed = Vec::new();
        let mut prohibited = Vec::new();
        match view.field("Allowed Scope") {
            None => problems.push(Problem::NoAllowedScope),
            Some(scope) => {
                for field in [Field::Allowed, Field::Prohibited] {
                    let Some(item) = scope.child(field.label()) else {
                        problems.push(Problem::NoField(field));
                        continue;
                    };
                    let listed = read_paths(item, text);
                    let globs = parse(field, &listed, &mut problems);
                    if listed.empty {
                        problems.push(Problem::Empty {
                            field,
                            at: value_span(item),
                        });
                    } else if field == Field::Allowed && globs.is_empty() && listed.prose.is_empty()
                    {
                        problems.push(Problem::NothingAllowed {
                            at: value_span(item),
                            written: crate::util::clip_chars(
                                &crate::util::one_line(&item.value.value),
                                40,
                            ),
                        });
                    }
                    match field {
                        Field::Allowed => allowed = globs,
                        Field::Prohibited => prohibited = globs,
                    }
                }
            }
        }
        let ok = |globs: &[Glob]| -> Option<Vec<Pattern>> {
            globs
                .iter()
                .map(|g| g.pattern.as_ref().ok().cloned())
                .collect()
        };
        let scope = match (ok(&allowed), ok(&prohibited)) {
            (Some(a), Some(p)) => Some(Scope::new(a, p)),
            _ => None,
        };
        CardScope {
            file: doc.file,
            allowed,
            prohibited,
            problems,
            scope,
        }
    }

    /// The task's card's scope; `None` when the task has no card.
    pub fn read(program: &Program, task: &Task) -> Option<CardScope> {
        let doc = &program.docs[task.card?];
        Some(CardScope::of(doc, &program.file(doc.file).text))
    }

    /// [`CardScope::read`], kept with the card's document: read once per
    /// text of the card.
    pub fn of_task<'p>(program: &'p Program, task: &Task) -> Option<&'p CardScope> {
        let doc = &program.docs[task.card?];
        Some(
            doc.memo
                .scope
                .get_or_init(|| Box::new(CardScope::of(doc, &program.file(doc.file).text))),
        )
    }

    /// The globs that parsed, as a scope (for checks that report on a
    /// range whatever lint says of the card).
    pub fn lenient(&self) -> Scope {
        let ok = |globs: &[Glob]| -> Vec<Pattern> {
            globs
                .iter()
                .filter_map(|g| g.pattern.as_ref().ok().cloned())
                .collect()
        };
        Scope::new(ok(&self.allowed), ok(&self.prohibited))
    }

    /// The effective scope of task `id`, or why there is none: any problem,
    /// or a glob that does not parse, refuses.
    pub fn effective(&self, id: &str) -> Result<Scope, ScopeError> {
        if let Some(p) = self.problems.first() {
            return Err(ScopeError {
                message: p.message(id),
                help: format!("{}; `orch lint` shows where", p.help(id)),
            });
        }
        for g in self.allowed.iter().chain(&self.prohibited) {
            if let Err(e) = &g.pattern {
                return Err(ScopeError {
                    message: format!(
                        "`{id}`'s card has a bad glob `{}`: {e}",
                        g.text.value.trim()
                    ),
                    help: "fix the glob; `orch lint` shows where".into(),
                });
            }
        }
        Ok(self.scope.clone().unwrap_or_else(|| self.lenient()))
    }
}

/// The value's span, or the label's when the value is empty.
fn value_span(item: &Item) -> Span {
    if item.value.span.is_empty() {
        item.label.as_ref().map_or(item.span, |l| l.span)
    } else {
        item.value.span
    }
}

/// The task's effective scope (allowed globs minus prohibited areas), or
/// why there is none: no card, or a card whose scope is not all readable.
pub fn effective_scope(program: &Program, task: &Task) -> Result<Scope, ScopeError> {
    match CardScope::read(program, task) {
        Some(card) => card.effective(&task.id),
        None => Err(ScopeError {
            message: format!(
                "`{}` has no card (`cards/{}.md`): its scope is unknown",
                task.id, task.id
            ),
            help: format!(
                "create it with `orch new card {}` and fill in its Allowed Scope",
                task.id
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(body: &str) -> CardScope {
        let text = format!("---\nkind: card\nid: T-1\n---\n\n## Codex Execution Card: T-1\n{body}");
        let doc = Document::parse(FileId(0), &text);
        CardScope::of(&doc, &text)
    }

    #[test]
    fn nested_lists_make_the_scope() {
        let c = card(
            "- Allowed Scope:\n  - Files/paths:\n    - `src/cli/**`\n    - tests/cli.rs\n  - Prohibited areas:\n    - `src/core/**`\n",
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let scope = c.effective("T-1").expect("a scope");
        assert!(scope.is_match("src/cli/a.rs"));
        assert!(scope.is_match("tests/cli.rs"));
        assert!(!scope.is_match("src/core/a.rs"));
    }

    #[test]
    fn an_empty_or_unreadable_scope_is_a_problem_never_silence() {
        let c = card("- Allowed Scope:\n  - Files/paths: none\n  - Prohibited areas: none\n");
        assert!(matches!(c.problems[..], [Problem::NothingAllowed { .. }]));
        assert!(c.effective("T-1").is_err());
        let c = card(
            "- Allowed Scope:\n  - Files/paths: `src/**`\n  - Prohibited areas: `src/core/**` except the tests\n",
        );
        assert!(
            matches!(&c.problems[..], [Problem::Unreadable { field: Field::Prohibited, text }] if text.value == "except the tests")
        );
        let e = c.effective("T-1").expect_err("refused");
        assert!(e.message.contains("except the tests"), "{e}");
        // The overlap rules still see the globs that were read.
        assert!(c.scope.is_some());
        let c = card("- Allowed Scope:\n  - Files/paths: `src/**`\n");
        assert_eq!(c.problems, [Problem::NoField(Field::Prohibited)]);
        let c = card("- Goal: x\n");
        assert_eq!(c.problems, [Problem::NoAllowedScope]);
    }
}
