//! Skill rules: owner skills come from config, and the copies in ticket,
//! card and ledger agree with the plan row.

use crate::diagnostic::Diagnostic;
use crate::model::Kind;
use crate::model::templates;
use crate::model::views::FieldsView;
use crate::source::{FileId, Spanned, Text};
use crate::util::{did_you_mean, nearest};

use super::{Context, rule};

/// `$development-implementer`, `` `qa-test-engineer` `` -> the bare name.
pub fn normalize(skill: &str) -> &str {
    skill
        .trim()
        .trim_matches('`')
        .trim()
        .trim_start_matches('$')
}

/// A place a skill is written: (file, text with span, what it is, task ID).
pub(crate) type Site<'a> = (FileId, &'a Spanned<Text>, &'static str, &'a str);

/// Every place a skill is written, for both skill rules. Borrowed, not
/// copied: on 20,000 tasks a copy of every site held 13 MiB at lint's peak.
/// What a ticket or card says is read once per document (its memo).
pub(crate) fn skill_sites<'a>(cx: &'a Context<'_>) -> impl Iterator<Item = Site<'a>> + 'a {
    let tasks = cx.index.tasks.iter().flat_map(move |task| {
        let row = task
            .skill
            .as_ref()
            .map(|s| (task.at.file, s, "plan row", task.id.as_str()));
        let docs = [(task.ticket, Kind::Ticket), (task.card, Kind::Card)]
            .into_iter()
            .filter_map(move |(doc, kind)| {
                let doc = &cx.program.docs[doc?];
                let (heading, label, what, slot) = if kind == Kind::Ticket {
                    (templates::TICKET_HEADING, "Owner Skill", "ticket", 0)
                } else {
                    (templates::CARD_HEADING, "Skill", "card", 1)
                };
                // Kept with the document: read once per text.
                let value = doc.memo.skill[slot].get_or_init(|| {
                    FieldsView::of(doc, heading).field(label).map(|item| {
                        Box::new(
                            item.code
                                .first()
                                .cloned()
                                .unwrap_or_else(|| item.value.clone()),
                        )
                    })
                });
                value
                    .as_ref()
                    .map(|value| (doc.file, &**value, what, task.id.as_str()))
            });
        row.into_iter().chain(docs)
    });
    let ledger = cx.index.ledger.iter().filter_map(|row| {
        row.skill
            .as_ref()
            .map(|s| (row.file, s, "ledger row", row.task.value.as_str()))
    });
    tasks.chain(ledger)
}

rule!(
    SkillUnknown,
    "skill-unknown",
    Error,
    "an owner skill not in config `skills`",
    r#"## What it does
Reports an owner skill (plan row, ticket, card or ledger row) that is not in
the config's `skills` list. The default list: development-implementer,
qa-test-engineer, technical-writer, debug-troubleshooter,
requirements-analyst, solution-architect, release-devops.

## Why it matters
The skill becomes the agent's prompt (`Use $<skill> to execute ...`). An
unknown skill sends the agent off without the instructions it needs.

## Example
```markdown
- Owner Skill: developer      <- `development-implementer`?
```
Add custom skills to `skills:` in `config.yaml`.
"#,
    check_skill_unknown
);

fn check_skill_unknown(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (file, skill, what, _) in skill_sites(cx) {
        let name = normalize(&skill.value);
        if name.is_empty() || templates::is_placeholder(name) || cx.skills.contains(name) {
            continue;
        }
        let near = nearest(name, cx.skills.iter().copied());
        let found = Diagnostic::new(
            "",
            file,
            skill.span,
            format!("the {what} names the skill `{name}`, which config does not define"),
        )
        .help(format!(
            "use a skill from config `skills`{}, or add `{name}` there",
            did_you_mean(near)
        ));
        out.push(super::rename(cx.program, found, skill.span, name, near));
    }
}

rule!(
    SkillMismatch,
    "skill-mismatch",
    Error,
    "ticket, card or ledger skill differs from the plan row",
    r#"## What it does
Reports a ticket's Owner Skill, a card's Skill or a ledger row's Owner
Skill that differs from the task's Owner Skill in the plan's backlog.

## Why it matters
The plan row is the source; `orch new card <ID>` copies it. A copy that drifted means
the agent was dispatched under another skill than the one planned, or the
evidence was recorded against the wrong owner.

## Example
Plan row says `qa-test-engineer`, the card says `development-implementer`:
fix the card, or change the plan row if the plan was wrong.
"#,
    check_skill_mismatch
);

fn check_skill_mismatch(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (file, skill, what, task_id) in skill_sites(cx) {
        if what == "plan row" {
            continue;
        }
        let Some(task) = cx.index.task(task_id.trim()) else {
            continue;
        };
        let Some(planned) = &task.skill else { continue };
        let (a, b) = (normalize(&skill.value), normalize(&planned.value));
        if a.is_empty() || b.is_empty() || a == b {
            continue;
        }
        out.push(
            Diagnostic::new(
                "",
                file,
                skill.span,
                format!(
                    "the {what} says `{a}` but the plan assigns `{b}` to `{}`",
                    task.id
                ),
            )
            .help(format!(
                "write `{b}` here, or change the plan row if the plan is wrong"
            ))
            .related(planned_file(cx), planned.span, "the plan row's Owner Skill"),
        );
    }
}

fn planned_file(cx: &Context<'_>) -> FileId {
    cx.program.plan().map_or(FileId(0), |p| p.file)
}
