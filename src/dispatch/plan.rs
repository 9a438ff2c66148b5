//! Which tasks a dispatch runs, and whether it may: the names on the command
//! line (task IDs or groups) resolved to tasks, then every reason to refuse
//! collected at once: not ready, no card, a scope that does not compile, a
//! scope that can touch a path another task of the run, or one in progress,
//! can touch too (decided on the automata, as `orch sheet` does).

use std::collections::HashSet;

use crate::agent::TaskBrief;
use crate::model::program::{Index, Task, scope_of};
use crate::model::views::FieldsView;
use crate::model::{Kind, Program, TaskStatus, templates};
use crate::scope::{Budget, CompiledScope, Overlap, Pattern, Scope, overlap_compiled};
use crate::source::Spanned;

/// A task cleared to run.
pub struct Planned {
    pub id: String,
    pub brief: TaskBrief,
    pub scope: Scope,
    /// The card's "Tests/checks to run" entries.
    pub checks: Vec<String>,
}

/// Tasks named on the command line, in backlog order, and a label for the
/// run id (the group's name, the single task's ID, or `tasks`).
pub fn resolve<'p>(
    program: &Program,
    index: &'p Index,
    names: &[String],
) -> Result<(Vec<&'p Task>, String), String> {
    let mut chosen: Vec<&Task> = Vec::new();
    let mut seen = HashSet::new();
    let mut groups = Vec::new();
    for name in names {
        let name = name.trim();
        if let Some(t) = index.task(name) {
            if seen.insert(t.id.as_str()) {
                chosen.push(t);
            }
            continue;
        }
        let members = group_members(program, index, name);
        if members.is_empty() {
            return Err(format!("`{name}` is neither a task nor a group"));
        }
        groups.push(name.to_string());
        for t in members {
            if seen.insert(t.id.as_str()) {
                chosen.push(t);
            }
        }
    }
    chosen.sort_by_key(|t| index.position(&t.id));
    let label = match (groups.as_slice(), chosen.as_slice()) {
        ([g], _) if names.len() == 1 => g.clone(),
        ([], [t]) => t.id.clone(),
        _ => "tasks".to_string(),
    };
    Ok((chosen, label))
}

/// A group's tasks: the cards whose `group:` is `name`, else the `tasks:`
/// of the sheet for `name`.
fn group_members<'p>(program: &Program, index: &'p Index, name: &str) -> Vec<&'p Task> {
    let by_card: Vec<&Task> = index
        .tasks
        .iter()
        .filter(|t| t.group.as_ref().is_some_and(|g| g.value.trim() == name))
        .collect();
    if !by_card.is_empty() {
        return by_card;
    }
    for sheet in program.docs_of(Kind::Sheet) {
        let Some(fm) = sheet.front() else { continue };
        if fm.scalar("group").is_none_or(|g| g.value.trim() != name) {
            continue;
        }
        if let Some(node) = fm.get("tasks")
            && let crate::parse::yaml::Value::Seq(items) = &node.value
        {
            return items
                .iter()
                .filter_map(|n| n.value.as_scalar())
                .filter_map(|id| index.task(id.trim()))
                .collect();
        }
    }
    Vec::new()
}

fn text(s: &Option<Spanned<String>>) -> String {
    s.as_ref()
        .map(|s| s.value.trim().to_string())
        .unwrap_or_default()
}

/// The brief the prompt is built from: the card's goal and completion
/// criteria, falling back to the plan row's objective and done criteria.
pub fn brief(program: &Program, task: &Task) -> Option<(TaskBrief, Vec<String>)> {
    let doc = &program.docs[task.card?];
    let view = FieldsView::of(doc, templates::CARD_HEADING);
    let field = |label: &str| {
        view.field(label)
            .map(|i| i.value.value.trim().to_string())
            .unwrap_or_default()
    };
    let checks = view
        .field("Tests/checks to run")
        .map(|i| {
            i.entries()
                .into_iter()
                .map(|e| e.value.trim().to_string())
                .filter(|e| !e.is_empty() && !templates::is_none_marker(e))
                .collect()
        })
        .unwrap_or_default();
    let skill = Some(field("Skill"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text(&task.skill));
    Some((
        TaskBrief {
            id: task.id.clone(),
            skill,
            goal: Some(field("Goal"))
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| text(&task.objective)),
            criteria: Some(field("Completion criteria"))
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| text(&task.done_criteria)),
            card: program.file(doc.file).path.clone(),
        },
        checks,
    ))
}

/// The card's effective scope, or why there is none.
pub fn scope(program: &Program, task: &Task) -> Result<Scope, String> {
    let text = scope_of(program, task)
        .ok_or_else(|| format!("`{}` has no card (`orch new card {}`)", task.id, task.id))?;
    let parse = |globs: &[Spanned<String>]| -> Result<Vec<Pattern>, String> {
        globs
            .iter()
            .map(|g| {
                Pattern::parse(g.value.trim())
                    .map_err(|e| format!("`{}`'s glob `{}`: {e}", task.id, g.value))
            })
            .collect()
    };
    Ok(Scope::new(parse(&text.allowed)?, parse(&text.prohibited)?))
}

/// Clear the tasks to run, or every reason not to.
pub fn check(
    program: &Program,
    index: &Index,
    tasks: &[&Task],
) -> Result<Vec<Planned>, Vec<String>> {
    let budget = Budget::default();
    let mut refusals = Vec::new();
    let mut planned = Vec::new();
    let mut compiled: Vec<Option<CompiledScope>> = Vec::new();
    for t in tasks {
        if !index.is_ready(t) {
            let why = if t.status != TaskStatus::Todo {
                format!("`{}` is `{}`, not `todo`", t.id, t.status)
            } else {
                let deps: Vec<String> = index
                    .waiting_on(t)
                    .iter()
                    .map(|d| format!("`{}`", d.value.trim()))
                    .collect();
                format!("`{}` waits on {}, not done", t.id, deps.join(", "))
            };
            refusals.push(why);
        }
        if t.ticket.is_none() {
            refusals.push(format!(
                "`{}` has no Dispatch Ticket to hold its status (`orch new ticket {}`)",
                t.id, t.id
            ));
        }
        let scope = match scope(program, t) {
            Ok(s) => s,
            Err(e) => {
                refusals.push(e);
                compiled.push(None);
                continue;
            }
        };
        let c = CompiledScope::new(&scope, &budget);
        if c.is_none() {
            refusals.push(format!("`{}`'s scope is too complex to compile", t.id));
        }
        compiled.push(c);
        if let Some((brief, checks)) = brief(program, t) {
            planned.push(Planned {
                id: t.id.clone(),
                brief,
                scope,
                checks,
            });
        }
    }
    let describe = |a: &str, b: &str, o: Overlap, running: bool| -> Option<String> {
        let with = if running {
            format!("`{b}`, in progress,")
        } else {
            format!("`{b}`")
        };
        match o {
            Overlap::Disjoint => None,
            Overlap::Witness(p) => {
                Some(format!("`{a}` can touch `{p}`, which {with} can touch too"))
            }
            Overlap::TooComplex => Some(format!(
                "`{a}` and {with} may overlap (too complex to decide)"
            )),
        }
    };
    for i in 0..tasks.len() {
        let Some(a) = &compiled[i] else { continue };
        for j in i + 1..tasks.len() {
            let Some(b) = &compiled[j] else { continue };
            if let Some(m) = describe(
                &tasks[i].id,
                &tasks[j].id,
                overlap_compiled(a, b, &budget),
                false,
            ) {
                refusals.push(m);
            }
        }
    }
    let chosen: HashSet<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    for r in index
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::InProgress && !chosen.contains(t.id.as_str()))
    {
        let Ok(rs) = scope(program, r) else { continue };
        let Some(rc) = CompiledScope::new(&rs, &budget) else {
            continue;
        };
        for (i, t) in tasks.iter().enumerate() {
            let Some(a) = &compiled[i] else { continue };
            if let Some(m) = describe(&t.id, &r.id, overlap_compiled(a, &rc, &budget), true) {
                refusals.push(m);
            }
        }
    }
    if refusals.is_empty() {
        Ok(planned)
    } else {
        Err(refusals)
    }
}
