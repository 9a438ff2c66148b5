//! `orch prime [ID]`: a compact context for a coding agent's session hooks
//! (Claude Code's and Codex's `SessionStart`), in Markdown or JSON.
//!
//! For a task: its card (the agent's brief) as written, where it stands,
//! how to check the scope and the complete commands that record the
//! result. Without one: the lead's view, the ready queue, what is in
//! progress, what waits on a person (blocked, partial, failed), the
//! re-planning decisions still open, the lint summary and the commands.
//! Lists are cut at [`LIST`] entries and the card at [`CARD_BYTES`], so
//! the context stays near 1-2k tokens on a program of any size; the
//! counts are always complete.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, Severity};
use crate::dispatch::LastRun;
use crate::error::Result;
use crate::model::program::{Index, Task};
use crate::model::scope::{CardScope, Glob};
use crate::model::views::FieldsView;
use crate::model::{Program, TaskStatus, templates};
use crate::query::{self, text};
use crate::transition::replan;
use crate::util::{clip_bytes, clip_chars, one_line};

/// Entries per list.
pub const LIST: usize = 12;
/// Bytes of a card shown; a longer card is cut, with its path to read on.
pub const CARD_BYTES: usize = 4000;

/// A context, in both forms.
pub struct Prime {
    pub markdown: String,
    pub json: Value,
}

/// `text` on one line, at most `max` characters.
fn short(text: &str, max: usize) -> String {
    clip_chars(&one_line(text), max)
}

/// The card fields an agent runs or reports, by label.
const CHECK_FIELDS: &[(&str, &str)] = &[
    ("commands", "Commands to run"),
    ("checks", "Tests/checks to run"),
    ("evidence", "Evidence to capture"),
    ("completion", "Completion criteria"),
];

/// A command to run: its key in the JSON, the command line, and what it
/// does (shown after it).
type Command = (&'static str, String, String);

/// The commands that move a task on from where it is.
fn commands(task: &Task) -> Vec<Command> {
    let id = &task.id;
    let mut out: Vec<Command> = Vec::new();
    if task.status.can_move_to(TaskStatus::InProgress) {
        out.push((
            "start",
            format!("orch start {id}"),
            format!("{} -> in_progress, one commit", task.status),
        ));
    }
    if task.status == TaskStatus::InProgress || task.status.can_move_to(TaskStatus::InProgress) {
        out.push((
            "scope_check",
            "orch scope check".to_string(),
            "exit 1 names every changed file outside the scope".to_string(),
        ));
        out.push((
            "pass",
            format!(
                "orch record {id} --result pass --evidence \"<the passing check's summary line>\""
            ),
            "done".to_string(),
        ));
        out.push((
            "partial",
            format!(
                "orch record {id} --result partial --evidence \"<what works, what does not>\" --next \"<what is left>\""
            ),
            "partial: split or retried next".to_string(),
        ));
        out.push((
            "fail",
            format!(
                "orch record {id} --result fail --evidence \"<the failing check and its error>\""
            ),
            "failed: a root-cause task follows".to_string(),
        ));
    }
    if task.status.can_move_to(TaskStatus::Blocked) {
        out.push((
            "block",
            format!("orch block {id} --reason \"<what you are waiting for>\""),
            "blocked".to_string(),
        ));
    }
    if task.status == TaskStatus::Partial {
        out.push((
            "split",
            format!("orch split {id} --into \"<first child's objective>\" --into \"<second child's objective>\""),
            "children `ID.1`, `ID.2` for the work left".to_string(),
        ));
    }
    out
}

/// Commands as Markdown list items.
fn command_list(md: &mut String, cmds: &[Command]) {
    for (_, c, note) in cmds {
        md.push_str(&format!("- `{c}`: {note}\n"));
    }
}

/// Commands as a JSON object, by key.
fn command_map(cmds: &[Command]) -> Value {
    Value::Object(
        cmds.iter()
            .map(|(k, c, _)| (k.to_string(), json!(c)))
            .collect(),
    )
}

/// The context for one task.
pub fn task(
    program: &Program,
    index: &Index,
    id: &str,
    runs: &HashMap<String, LastRun>,
) -> Result<Prime> {
    let mut show = query::show(program, index, id, runs)?;
    let Some(task) = index.task(id) else {
        return Err(query::no_task(index, id));
    };
    let (ready, waiting) = query::readiness(index, task);
    let card = task.card.map(|d| &program.docs[d]);
    let card_path = card.map(|d| program.file(d.file).path.clone());
    let card_body = card.map(|d| {
        let text = &program.file(d.file).text;
        text[d.body_start.min(text.len())..].trim().to_string()
    });
    let fields = card.map(|d| FieldsView::of(d, templates::CARD_HEADING));
    let checks: Vec<(&str, String)> = CHECK_FIELDS
        .iter()
        .filter_map(|(key, label)| {
            let item = fields.as_ref()?.field(label)?;
            let value = item.value.value.trim();
            (!value.is_empty()).then(|| (*key, value.to_string()))
        })
        .collect();
    let cmds = commands(task);

    let mut md = String::new();
    md.push_str(&format!(
        "# orch task {}: {}\n",
        task.id,
        short(&text(&task.objective), 160)
    ));
    let mut facts = vec![format!(
        "Status: {}{}",
        task.status,
        if ready { " (ready)" } else { "" }
    )];
    facts.push(format!("owner: {}", text(&task.skill)));
    if let Some(g) = &task.group {
        facts.push(format!("group: {}", g.value.trim()));
    }
    let deps: Vec<&str> = task.deps.iter().map(|d| d.value.trim()).collect();
    if !deps.is_empty() {
        facts.push(format!("depends on: {}", deps.join(", ")));
    }
    md.push_str(&facts.join(" · "));
    md.push('\n');
    if !waiting.is_empty() {
        md.push_str(&format!(
            "Waiting on: {} (it cannot start before they are done)\n",
            waiting.join(", ")
        ));
    }
    let done = text(&task.done_criteria);
    if !done.is_empty() {
        md.push_str(&format!("Done when: {}\n", short(&done, 400)));
    }
    if task.status == TaskStatus::InProgress
        && let Some(advice) = runs.get(&task.id).and_then(|r| r.advice(&task.id))
    {
        md.push_str(&format!("Last run: {advice}\n"));
    }

    match (&card_path, &card_body) {
        (Some(path), Some(body)) => {
            md.push_str(&format!("\n## Card ({path})\n"));
            md.push_str(&clip_bytes(body, CARD_BYTES));
            if body.len() > CARD_BYTES {
                md.push_str(&format!("\n(cut: read the rest in {path})"));
            }
            md.push('\n');
        }
        _ => md.push_str(&format!(
            "\n## Card\nNone yet: its scope is unknown, so it cannot start. Create it with `orch new card {}`.\n",
            task.id
        )),
    }

    if let Some(scope) = CardScope::read(program, task) {
        let list = |v: &[Glob]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.iter()
                    .map(|g| format!("`{}`", g.text.value.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        md.push_str("\n## Scope\n");
        md.push_str(&format!(
            "Change only files in {}; never in {}.\n",
            list(&scope.allowed),
            list(&scope.prohibited)
        ));
        for p in &scope.problems {
            md.push_str(&format!(
                "Scope problem: {} ({})\n",
                p.message(&task.id),
                p.help(&task.id)
            ));
        }
        md.push_str("Before you record, run `orch scope check`: it lists every changed file outside the scope of the tasks in progress (exit 1).\n");
    }

    if !task.rows.is_empty() {
        md.push_str("\n## Ledger so far\n");
        for &i in task.rows.iter().rev().take(3).rev() {
            let r = &index.ledger[i];
            md.push_str(&format!(
                "- {}: {} -> {}\n",
                text(&r.result_text),
                short(&text(&r.evidence), 200),
                short(&text(&r.next), 120)
            ));
        }
    }

    md.push_str("\n## Commands\n");
    if cmds.is_empty() {
        md.push_str(&format!(
            "`{}` is {}: nothing moves it on. `orch prime` shows the whole program.\n",
            task.id, task.status
        ));
    } else {
        command_list(&mut md, &cmds);
        md.push_str("Evidence is one line: the check that proves it (a test summary, a log path). Each command is one git commit; the MCP tools `start`, `scope_check`, `record` and `block` do the same.\n");
    }

    show["card_text"] = json!(card_body.map(|b| clip_bytes(&b, CARD_BYTES)));
    show["checks"] = Value::Object(
        checks
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    );
    show["commands"] = command_map(&cmds);
    Ok(Prime {
        markdown: md,
        json: json!({ "task": show }),
    })
}

/// A list cut at [`LIST`] entries, with what was left out.
fn capped<T>(items: Vec<T>) -> (Vec<T>, usize) {
    let more = items.len().saturating_sub(LIST);
    (items.into_iter().take(LIST).collect(), more)
}

/// The lead's context: the whole program in brief.
pub fn lead(
    program: &Program,
    index: &Index,
    diagnostics: &[Diagnostic],
    runs: &HashMap<String, LastRun>,
) -> Prime {
    let count = |s: TaskStatus| index.tasks.iter().filter(|t| t.status == s).count();
    let ready = query::ready(index);
    let waiting = index
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Todo && !index.is_ready(t))
        .count();
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let (title, plan_id, plan_status) = program
        .plan()
        .and_then(|p| p.front())
        .map(|fm| {
            let get = |k: &str| fm.scalar(k).map(|s| s.value.trim().to_string());
            (get("title"), get("id"), get("status"))
        })
        .unwrap_or_default();

    let mut md = String::new();
    md.push_str(&format!(
        "# orch program: {}{}\n",
        short(title.as_deref().unwrap_or("(untitled plan)"), 120),
        match (&plan_id, &plan_status) {
            (Some(id), Some(st)) => format!(" ({id}, {st})"),
            (Some(id), None) => format!(" ({id})"),
            _ => String::new(),
        }
    ));
    let counts = json!({
        "tasks": index.tasks.len(),
        "done": count(TaskStatus::Done),
        "in_progress": count(TaskStatus::InProgress),
        "ready": ready.len(),
        "waiting": waiting,
        "blocked": count(TaskStatus::Blocked),
        "partial": count(TaskStatus::Partial),
        "failed": count(TaskStatus::Failed),
        "split": count(TaskStatus::Split),
        "cancelled": count(TaskStatus::Cancelled),
    });
    md.push_str(&format!(
        "{} tasks: {} done, {} in progress, {} ready, {} waiting on dependencies, {} blocked, {} partial, {} failed. Lint: {errors} error(s), {warnings} warning(s){}.\n",
        index.tasks.len(),
        count(TaskStatus::Done),
        count(TaskStatus::InProgress),
        ready.len(),
        waiting,
        count(TaskStatus::Blocked),
        count(TaskStatus::Partial),
        count(TaskStatus::Failed),
        if errors > 0 { " (`orch lint` shows them; views may be incomplete)" } else { "" }
    ));

    let line = |t: &Task| {
        let group = t
            .group
            .as_ref()
            .map(|g| format!(" [{}]", g.value.trim()))
            .unwrap_or_default();
        format!(
            "{} ({}){group}: {}",
            t.id,
            text(&t.skill),
            short(&text(&t.objective), 100)
        )
    };
    let section = |md: &mut String, heading: &str, items: Vec<String>, more: usize, hint: &str| {
        if items.is_empty() {
            return;
        }
        md.push_str(&format!("\n## {heading}\n"));
        for i in &items {
            md.push_str(&format!("- {i}\n"));
        }
        if more > 0 {
            md.push_str(&format!("- ... and {more} more ({hint})\n"));
        }
    };

    let (ready_shown, ready_more) = capped(ready.clone());
    section(
        &mut md,
        &format!("Ready ({})", ready.len()),
        ready_shown.iter().map(|t| line(t)).collect(),
        ready_more,
        "`orch next`",
    );
    let running: Vec<&Task> = index
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::InProgress)
        .collect();
    let (running_shown, running_more) = capped(running.clone());
    section(
        &mut md,
        &format!("In progress ({})", running.len()),
        running_shown
            .iter()
            .map(|t| match runs.get(&t.id).and_then(|r| r.advice(&t.id)) {
                Some(a) => format!("{} Last run: {}", line(t), short(&a, 200)),
                None => line(t),
            })
            .collect(),
        running_more,
        "`orch status`",
    );
    let attention: Vec<(&Task, String)> = index
        .tasks
        .iter()
        .filter_map(|t| {
            let what = match t.status {
                TaskStatus::Blocked => format!(
                    "blocked: `orch unblock {} --reason TEXT` when it can go on",
                    t.id
                ),
                TaskStatus::Partial => format!(
                    "partial: split it (`orch split {} --into TEXT --into TEXT`) or retry it (`orch start {}`)",
                    t.id, t.id
                ),
                TaskStatus::Failed => match index.retry_after(t) {
                    Some(rc) => format!(
                        "failed, its root cause `{}` passed: retry it (`orch dispatch {}`)",
                        rc.id, t.id
                    ),
                    None => format!(
                        "failed: find the root cause (`orch replan`), then `orch start {}` again",
                        t.id
                    ),
                },
                _ => return None,
            };
            Some((t, what))
        })
        .collect();
    let attention_total = attention.len();
    let (attention_shown, attention_more) = capped(attention);
    section(
        &mut md,
        &format!("Waiting on a person ({attention_total})"),
        attention_shown
            .iter()
            .map(|(t, what)| format!("{} {what}", t.id))
            .collect(),
        attention_more,
        "`orch status`",
    );
    let decisions = replan::decide(program, index);
    let open: Vec<&replan::Decision> = decisions.iter().collect();
    let (open_shown, open_more) = capped(open.clone());
    section(
        &mut md,
        &format!("Re-planning decisions ({})", decisions.len()),
        open_shown
            .iter()
            .map(|d| {
                let how = match (&d.command, d.needs_human) {
                    (Some(c), _) => format!(" Run: `{c}`"),
                    (None, false) => " (`orch replan --apply` writes it)".to_string(),
                    (None, true) => String::new(),
                };
                format!(
                    "{} {}: {}{how}",
                    replan::kebab(d.kind),
                    d.task,
                    short(&d.message.replace('`', ""), 160)
                )
            })
            .collect(),
        open_more,
        "`orch replan`",
    );

    let cmd = |k: &'static str, c: &str, note: &str| (k, c.to_string(), note.to_string());
    let cmds = [
        cmd(
            "brief",
            "orch prime <ID>",
            "one task's card, scope and commands",
        ),
        cmd("show", "orch show <ID>", "one task in full"),
        cmd("lint", "orch lint", "check the documents"),
        cmd(
            "plan",
            "orch sheet --ready --write",
            "group the ready tasks: no scope overlap within a group",
        ),
        cmd(
            "dispatch",
            "orch dispatch <GROUP> --record",
            "run a group's agents, harvest and record",
        ),
        cmd("start", "orch start <ID>", "take a task by hand"),
        cmd(
            "record",
            "orch record <ID> --result <pass|partial|fail> --evidence \"<evidence>\"",
            "its result, one commit",
        ),
        cmd(
            "block",
            "orch block <ID> --reason \"<why>\"",
            "set it aside",
        ),
        cmd(
            "replan",
            "orch replan --apply",
            "write the decisions that need no human words",
        ),
    ];
    md.push_str("\n## Commands\n");
    command_list(&mut md, &cmds);

    let brief = |t: &Task| {
        json!({
            "id": t.id,
            "status": t.status.as_str(),
            "owner": text(&t.skill),
            "group": t.group.as_ref().map(|g| g.value.trim().to_string()),
            "objective": text(&t.objective),
        })
    };
    let json = json!({
        "program": {"title": title, "id": plan_id, "status": plan_status},
        "counts": counts,
        "lint": {"errors": errors, "warnings": warnings},
        "ready": ready_shown.iter().map(|t| brief(t)).collect::<Vec<_>>(),
        "in_progress": running_shown.iter().map(|t| {
            let mut v = brief(t);
            if let Some(a) = runs.get(&t.id).and_then(|r| r.advice(&t.id)) {
                v["last_run"] = json!(a);
            }
            v
        }).collect::<Vec<_>>(),
        "attention": attention_shown.iter().map(|(t, what)| {
            let mut v = brief(t);
            v["action"] = json!(what);
            v
        }).collect::<Vec<_>>(),
        "decisions": open_shown,
        "more": {"ready": ready_more, "in_progress": running_more, "attention": attention_more, "decisions": open_more},
        "commands": command_map(&cmds),
    });
    Prime { markdown: md, json }
}

/// The hook envelope Claude Code and Codex read from a `SessionStart`
/// command hook: the context as `additionalContext`.
pub fn hook_json(markdown: &str) -> Value {
    json!({
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "additionalContext": markdown,
        }
    })
}

/// The first line of the block `orch init --agents` writes into AGENTS.md.
pub const AGENTS_BEGIN: &str =
    "<!-- orch:agents:begin (written by `orch init --agents`; edit outside these markers) -->";
/// Its last line.
pub const AGENTS_END: &str = "<!-- orch:agents:end -->";

/// The AGENTS.md block: how an agent works with orch in this repository.
pub fn agents_block() -> String {
    format!(
        "{AGENTS_BEGIN}
## Working with orch

This repository plans its work with orch: `.orchestrator/` holds the Master Plan, a Dispatch Ticket and an Execution Card per task, and the Evidence Ledger. Do not edit a task's status or the ledger by hand: the commands below do it, each in one git commit.

- At the start of a session: `orch prime` (the whole program) or `orch prime <ID>` (your task's card, scope and the commands to record it).
- Find work with `orch next`, read a task with `orch show <ID>`, take it with `orch start <ID>`.
- Change only files inside your card's Allowed Scope, never its Prohibited areas. Before you finish, run `orch scope check`: exit 1 names each changed file outside the scope.
- Record the result with one line of evidence (the check that proves it): `orch record <ID> --result <pass|partial|fail> --evidence \"<evidence>\"`. If you cannot go on: `orch block <ID> --reason \"<why>\"`.
- After editing anything under `.orchestrator/`, run `orch lint`.
- Every command takes `--format json`; `orch mcp` serves the same as MCP tools.
{AGENTS_END}
"
    )
}

/// What writing the block into an AGENTS.md does.
#[derive(Debug, PartialEq, Eq)]
pub enum AgentsMd {
    /// No AGENTS.md: the block is the new file.
    Created(String),
    /// An AGENTS.md without the block: the block goes after its text.
    Appended(String),
    /// An older block: replaced, the text around it kept.
    Updated(String),
    /// The block is there as it would be written.
    Unchanged,
}

/// Merge the block into an AGENTS.md's text (`None`: no file). The text
/// outside the markers is never changed; a begin marker without its end
/// is refused.
pub fn merge_agents_md(existing: Option<&str>) -> std::result::Result<AgentsMd, String> {
    let block = agents_block();
    let Some(text) = existing else {
        return Ok(AgentsMd::Created(block));
    };
    let begin = text.find("<!-- orch:agents:begin");
    let end = text.find(AGENTS_END);
    match (begin, end) {
        (None, None) => {
            let mut out = text.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&block);
            Ok(AgentsMd::Appended(out))
        }
        (Some(b), Some(e)) if b < e => {
            let mut stop = e + AGENTS_END.len();
            if text[stop..].starts_with("\r\n") {
                stop += 2;
            } else if text[stop..].starts_with('\n') {
                stop += 1;
            }
            if text[b..stop] == block {
                return Ok(AgentsMd::Unchanged);
            }
            Ok(AgentsMd::Updated(format!(
                "{}{block}{}",
                &text[..b],
                &text[stop..]
            )))
        }
        _ => Err(
            "AGENTS.md has one orch:agents marker without the other (or in the wrong order)"
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agents_block_never_changes_text_outside_its_markers() {
        let block = agents_block();
        assert_eq!(merge_agents_md(None), Ok(AgentsMd::Created(block.clone())));
        let mine = "# Rules\n\nUse tabs.";
        let Ok(AgentsMd::Appended(once)) = merge_agents_md(Some(mine)) else {
            panic!("appended")
        };
        assert_eq!(once, format!("# Rules\n\nUse tabs.\n\n{block}"));
        assert_eq!(merge_agents_md(Some(&once)), Ok(AgentsMd::Unchanged));
        let older = once.replace("Find work with", "Find some work with") + "\nAfter.\n";
        let Ok(AgentsMd::Updated(fixed)) = merge_agents_md(Some(&older)) else {
            panic!("updated")
        };
        assert_eq!(fixed, format!("# Rules\n\nUse tabs.\n\n{block}\nAfter.\n"));
        let broken = format!("{AGENTS_BEGIN}\nhalf a block\n");
        assert!(merge_agents_md(Some(&broken)).is_err());
        let reversed = format!("{AGENTS_END}\n{AGENTS_BEGIN}\n");
        assert!(merge_agents_md(Some(&reversed)).is_err());
    }
}
