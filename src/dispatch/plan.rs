//! Which tasks a dispatch runs, and whether it may: the names on the command
//! line (task IDs or groups) resolved to tasks, then every reason to refuse
//! collected at once: not ready, no card, a scope that does not compile, a
//! scope that can touch a path another task of the run, or one in progress,
//! can touch too (decided on the automata, as `orch sheet` does).

use std::collections::HashSet;

use crate::agent::TaskBrief;
use crate::model::program::{Index, Task};
use crate::model::{Kind, Program, TaskStatus};
use crate::scope::{Budget, CompiledScope, Overlap, Scope, overlap_compiled};

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
        // Task and group names become file names (logs, runs): only IDs.
        if !crate::util::is_valid_id(name) {
            return Err(format!("`{name}` is not a valid task or group name"));
        }
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
        if !index.is_dispatchable(t) {
            let why = if t.status == TaskStatus::Failed {
                format!(
                    "`{}` is `failed` and no root-cause task it depends on has passed since (`orch replan --apply` adds one; `orch start {}` retries it by hand)",
                    t.id, t.id
                )
            } else if t.status == TaskStatus::Blocked {
                format!(
                    "`{}` is `blocked`, not `todo` (`orch unblock {} --reason \"<why>\"` first)",
                    t.id, t.id
                )
            } else if t.status != TaskStatus::Todo {
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
        let (p, c) = needs(program, t, &budget, &mut refusals);
        planned.extend(p);
        compiled.push(c);
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
        let Ok(rs) = crate::model::program::effective_scope(program, r) else {
            continue;
        };
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

/// What a task needs to run, whatever its status: a ticket to hold its
/// status, a scope that compiles, a brief. The reasons it lacks one go to
/// `refusals`.
fn needs(
    program: &Program,
    t: &Task,
    budget: &Budget,
    refusals: &mut Vec<String>,
) -> (Option<Planned>, Option<CompiledScope>) {
    if t.ticket.is_none() {
        refusals.push(format!(
            "`{}` has no Dispatch Ticket to hold its status (`orch new ticket {}`)",
            t.id, t.id
        ));
    }
    let scope = match crate::model::program::effective_scope(program, t) {
        Ok(s) => s,
        Err(e) => {
            refusals.push(e.to_string());
            return (None, None);
        }
    };
    let c = CompiledScope::new(&scope, budget);
    if c.is_none() {
        refusals.push(format!("`{}`'s scope is too complex to compile", t.id));
    }
    let planned = crate::agent::brief(program, t).map(|(brief, checks)| Planned {
        id: t.id.clone(),
        brief,
        scope,
        checks,
    });
    (planned, c)
}

/// One task of a run that was cleared and marked elsewhere (`orch
/// run-task`: the group was checked and moved to `in_progress` by the
/// workflow's first job): it must be `in_progress` (or ready), with what
/// [`needs`] checks. Overlap was decided when the run was planned.
pub fn check_one(program: &Program, index: &Index, t: &Task) -> Result<Planned, Vec<String>> {
    let mut refusals = Vec::new();
    if t.status != TaskStatus::InProgress && !index.is_dispatchable(t) {
        refusals.push(format!(
            "`{}` is `{}`: a run's task is `in_progress` (or ready to start)",
            t.id, t.status
        ));
    }
    let (planned, _) = needs(program, t, &Budget::default(), &mut refusals);
    match planned {
        Some(p) if refusals.is_empty() => Ok(p),
        _ => {
            if refusals.is_empty() {
                refusals.push(format!("`{}` has no Execution Card", t.id));
            }
            Err(refusals)
        }
    }
}
