//! Read-only views: `orch status`, `orch next`, `orch show`, `orch graph`.

use std::io::Write;

use serde_json::{Value, json};

use crate::dispatch::LastRun;
use crate::error::{Error, Outcome, Result};
use crate::model::program::{Index, Task};
use crate::model::scope::CardScope;
use crate::model::views::PlanView;
use crate::model::{Program, TaskStatus};
use crate::report::Format;
use crate::rules::ids::phase_of;
use crate::util::{did_you_mean, nearest};

use super::{Global, Workspace, print_json};

fn load(g: &Global) -> Result<Program> {
    let program = Workspace::find(g)?.load()?;
    let errors = crate::rules::lint(&program)
        .iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Error)
        .count();
    if errors > 0 && !g.quiet {
        eprintln!(
            "warning: the program has {errors} lint error(s); this view may be incomplete (run `orch lint`)"
        );
    }
    Ok(program)
}

fn text(s: &Option<crate::source::Spanned<String>>) -> String {
    s.as_ref()
        .map(|s| s.value.trim().to_string())
        .unwrap_or_default()
}

/// Why a task is or is not ready, in words.
fn readiness(index: &Index, task: &Task) -> (bool, Vec<String>) {
    let waiting: Vec<String> = index
        .waiting_on(task)
        .iter()
        .map(|d| {
            let status = index
                .task(d.value.trim())
                .map_or("unknown".to_string(), |t| t.status.to_string());
            format!("{} ({status})", d.value.trim())
        })
        .collect();
    (index.is_ready(task), waiting)
}

fn task_json(program: &Program, index: &Index, task: &Task, run: Option<&LastRun>) -> Value {
    let (ready, waiting) = readiness(index, task);
    let mut v = json!({
        "id": task.id,
        "status": task.status.as_str(),
        "ready": ready,
        "waiting_on": waiting,
        "owner": text(&task.skill),
        "group": task.group.as_ref().map(|g| g.value.clone()),
        "phase": phase_of(&task.id),
        "objective": text(&task.objective),
        "ticket": task.ticket.map(|d| program.file(program.docs[d].file).path.clone()),
        "card": task.card.map(|d| program.file(program.docs[d].file).path.clone()),
    });
    if let Some(run) = run {
        v["last_run"] = json!(run);
    }
    v
}

fn check_format(g: &Global) -> Result<()> {
    match g.format {
        Format::Human | Format::Json => Ok(()),
        other => Err(Error::usage(
            format!("this command prints human or json, not {other:?}").to_lowercase(),
        )),
    }
}

pub fn status(g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if g.format == Format::Markdown {
        let board = crate::board::Board::gather(&Workspace::find(g)?.load()?);
        out.write_all(crate::board::markdown::render(&board).as_bytes())?;
        return Ok(Outcome::Clean);
    }
    check_format(g)?;
    let program = load(g)?;
    let index = Index::build(&program);
    let runs = crate::dispatch::last_runs(&program.dir);
    if g.format == Format::Json {
        let tasks: Vec<Value> = index
            .tasks
            .iter()
            .map(|t| task_json(&program, &index, t, runs.get(&t.id)))
            .collect();
        // Tokens and cost of each task's latest run, summed.
        let usage = index
            .tasks
            .iter()
            .filter_map(|t| runs.get(&t.id).and_then(|r| r.usage))
            .reduce(|a, b| a.plus(&b));
        print_json(out, &json!({ "tasks": tasks, "usage": usage }))?;
        return Ok(Outcome::Clean);
    }
    let w = index
        .tasks
        .iter()
        .map(|t| t.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let ow = index
        .tasks
        .iter()
        .map(|t| text(&t.skill).len())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(
        out,
        "{:w$}  {:11}  {:7}  {:ow$}  {:5}  NOTE",
        "ID", "STATUS", "READY", "OWNER", "GROUP"
    )?;
    for t in &index.tasks {
        let (ready, waiting) = readiness(&index, t);
        let ready_text = match t.status {
            TaskStatus::Todo if ready => "ready",
            TaskStatus::Todo => "blocked",
            _ => "-",
        };
        let note = match t.status {
            _ if !t.status_known => {
                "status unknown: its ticket does not parse (`orch lint` says why)".to_string()
            }
            TaskStatus::Todo if !waiting.is_empty() => format!("waiting on {}", waiting.join(", ")),
            TaskStatus::InProgress if t.card.is_none() => "in progress without a card".to_string(),
            TaskStatus::InProgress => runs
                .get(&t.id)
                .and_then(|r| r.advice(&t.id))
                .unwrap_or_default(),
            TaskStatus::Partial => format!(
                "needs a split (`orch split {} --into \"<part>\"`) or a retry",
                t.id
            ),
            TaskStatus::Failed => "needs root-cause analysis".to_string(),
            TaskStatus::Split => {
                let children: Vec<&str> = index.children(&t.id).map(|c| c.id.as_str()).collect();
                format!("split into {}", children.join(", "))
            }
            _ => String::new(),
        };
        let group = t
            .group
            .as_ref()
            .map_or("-".to_string(), |g| g.value.clone());
        writeln!(
            out,
            "{:w$}  {:11}  {:7}  {:ow$}  {:5}  {note}",
            t.id,
            t.status.as_str(),
            ready_text,
            text(&t.skill),
            group
        )?;
    }
    if !g.quiet {
        let count = |s: TaskStatus| index.tasks.iter().filter(|t| t.status == s).count();
        let ready = index.tasks.iter().filter(|t| index.is_ready(t)).count();
        writeln!(
            out,
            "\n{} tasks: {} done, {} in progress, {} ready, {} todo",
            index.tasks.len(),
            count(TaskStatus::Done),
            count(TaskStatus::InProgress),
            ready,
            count(TaskStatus::Todo)
        )?;
    }
    Ok(Outcome::Clean)
}

pub fn next(g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    check_format(g)?;
    let program = load(g)?;
    let index = Index::build(&program);
    let ready: Vec<&Task> = index.tasks.iter().filter(|t| index.is_ready(t)).collect();
    if g.format == Format::Json {
        let tasks: Vec<Value> = ready
            .iter()
            .map(|t| task_json(&program, &index, t, None))
            .collect();
        print_json(out, &json!({ "ready": tasks }))?;
        return Ok(Outcome::Clean);
    }
    if ready.is_empty() {
        if !g.quiet {
            writeln!(out, "no task is ready")?;
        }
        return Ok(Outcome::Clean);
    }
    let w = ready.iter().map(|t| t.id.len()).max().unwrap_or(2);
    for t in ready {
        writeln!(
            out,
            "{:w$}  {}  ({})",
            t.id,
            text(&t.objective),
            text(&t.skill)
        )?;
    }
    Ok(Outcome::Clean)
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The task ID
    pub id: String,
}

pub fn show(args: &ShowArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    check_format(g)?;
    let program = load(g)?;
    let index = Index::build(&program);
    let Some(task) = index.task(&args.id) else {
        let ids = index.tasks.iter().map(|t| t.id.as_str());
        return Err(Error::with_help(
            format!(
                "no task `{}` in the backlog{}",
                args.id,
                did_you_mean(nearest(&args.id, ids))
            ),
            "`orch status` lists the tasks",
        ));
    };
    let (ready, waiting) = readiness(&index, task);
    let scope = CardScope::read(&program, task);
    let rows: Vec<Value> = task
        .rows
        .iter()
        .map(|&i| {
            let r = &index.ledger[i];
            json!({
                "owner": text(&r.skill),
                "evidence": text(&r.evidence),
                "result": text(&r.result_text),
                "next": text(&r.next),
            })
        })
        .collect();
    let runs = crate::dispatch::last_runs(&program.dir);
    let mut value = task_json(&program, &index, task, runs.get(&task.id));
    value["dependencies"] = json!(task.deps.iter().map(|d| d.value.trim()).collect::<Vec<_>>());
    value["done_criteria"] = json!(text(&task.done_criteria));
    value["dependents"] = json!(
        index
            .tasks
            .iter()
            .filter(|t| t.deps.iter().any(|d| d.value.trim() == task.id))
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>()
    );
    value["scope"] = match &scope {
        Some(s) => json!({
            "allowed": s.allowed.iter().map(|x| x.text.value.as_str()).collect::<Vec<_>>(),
            "prohibited": s.prohibited.iter().map(|x| x.text.value.as_str()).collect::<Vec<_>>(),
            "problems": s.problems.iter().map(|p| p.message(&task.id)).collect::<Vec<_>>(),
        }),
        None => Value::Null,
    };
    value["ledger"] = json!(rows);
    if g.format == Format::Json {
        print_json(out, &value)?;
        return Ok(Outcome::Clean);
    }
    writeln!(out, "{}  {}", task.id, text(&task.objective))?;
    writeln!(
        out,
        "  status:       {}{}",
        task.status,
        if ready { " (ready)" } else { "" }
    )?;
    writeln!(out, "  owner:        {}", text(&task.skill))?;
    let deps: Vec<&str> = task.deps.iter().map(|d| d.value.trim()).collect();
    writeln!(
        out,
        "  depends on:   {}",
        if deps.is_empty() {
            "-".to_string()
        } else {
            deps.join(", ")
        }
    )?;
    if !waiting.is_empty() {
        writeln!(out, "  waiting on:   {}", waiting.join(", "))?;
    }
    writeln!(out, "  done when:    {}", text(&task.done_criteria))?;
    writeln!(
        out,
        "  ticket:       {}",
        value["ticket"].as_str().unwrap_or("-")
    )?;
    writeln!(
        out,
        "  card:         {}",
        value["card"].as_str().unwrap_or("-")
    )?;
    if let Some(g) = &task.group {
        writeln!(out, "  group:        {}", g.value)?;
    }
    if task.status == TaskStatus::InProgress
        && let Some(advice) = runs.get(&task.id).and_then(|r| r.advice(&task.id))
    {
        writeln!(out, "  last run:     {advice}")?;
    }
    if let Some(s) = &scope {
        let list = |v: &[crate::model::scope::Glob]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.iter()
                    .map(|x| x.text.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        writeln!(out, "  scope:        {}", list(&s.allowed))?;
        writeln!(out, "  prohibited:   {}", list(&s.prohibited))?;
        for p in &s.problems {
            writeln!(out, "  scope problem: {}", p.message(&task.id))?;
        }
    }
    if task.rows.is_empty() {
        writeln!(out, "  ledger:       no rows")?;
    } else {
        writeln!(out, "  ledger:")?;
        for &i in &task.rows {
            let r = &index.ledger[i];
            writeln!(
                out,
                "    {:8} {}  -> {}",
                text(&r.result_text),
                text(&r.evidence),
                text(&r.next)
            )?;
        }
    }
    Ok(Outcome::Clean)
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {}

fn node_id(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn label(s: &str) -> String {
    s.replace('"', "'").replace(['\n', '\r'], " ")
}

pub fn graph(args: &GraphArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let program = load(g)?;
    let index = Index::build(&program);
    let phases: Vec<(String, String)> = program
        .plan()
        .map(|p| {
            PlanView::of(p)
                .phases
                .iter()
                .map(|ph| (ph.id.value.clone(), ph.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let _ = args;
    let format = match g.format {
        Format::Human | Format::Mermaid => Format::Mermaid,
        Format::Json | Format::Dot => g.format,
        other => {
            return Err(Error::usage(format!(
                "`orch graph` prints mermaid, dot or json, not {}",
                format!("{other:?}").to_lowercase()
            )));
        }
    };
    let in_phase = |phase: Option<&str>| -> Vec<&Task> {
        index
            .tasks
            .iter()
            .filter(|t| phase_of(&t.id) == phase)
            .collect()
    };
    let mut groups: Vec<PhaseGroup<'_>> = phases
        .iter()
        .map(|(id, name)| (Some((id.clone(), name.clone())), in_phase(Some(id))))
        .collect();
    let orphans: Vec<&Task> = index
        .tasks
        .iter()
        .filter(|t| {
            !phases
                .iter()
                .any(|(id, _)| phase_of(&t.id) == Some(id.as_str()))
        })
        .collect();
    groups.push((None, orphans));
    match format {
        Format::Json => {
            let nodes: Vec<Value> = index
                .tasks
                .iter()
                .map(|t| json!({"id": t.id, "status": t.status.as_str(), "phase": phase_of(&t.id), "ready": index.is_ready(t)}))
                .collect();
            let edges: Vec<Value> = index
                .tasks
                .iter()
                .flat_map(|t| {
                    t.deps
                        .iter()
                        .map(move |d| json!({"from": d.value.trim(), "to": t.id}))
                })
                .collect();
            print_json(out, &json!({"nodes": nodes, "edges": edges}))?;
        }
        Format::Mermaid => {
            let board = crate::board::Board::tasks_of(&program, &index);
            out.write_all(crate::board::mermaid::flowchart(&board).as_bytes())?;
        }
        _ => {
            writeln!(
                out,
                "digraph orch {{\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];"
            )?;
            for (phase, tasks) in &groups {
                if let Some((id, name)) = phase {
                    writeln!(
                        out,
                        "  subgraph cluster_{} {{\n    label=\"{}: {}\";",
                        node_id(id),
                        id,
                        label(name)
                    )?;
                }
                for t in tasks {
                    let class = if index.is_ready(t) {
                        "ready"
                    } else {
                        t.status.as_str()
                    };
                    let style = crate::board::mermaid::STYLES
                        .iter()
                        .find(|(c, _, _)| *c == class)
                        .map_or("#ffffff", |(_, _, fill)| fill);
                    writeln!(
                        out,
                        "    \"{}\" [label=\"{}\\n{}\", fillcolor=\"{style}\"];",
                        t.id,
                        t.id,
                        label(&text(&t.objective))
                    )?;
                }
                if phase.is_some() {
                    writeln!(out, "  }}")?;
                }
            }
            for t in &index.tasks {
                for d in &t.deps {
                    if index.task(d.value.trim()).is_some() {
                        writeln!(out, "  \"{}\" -> \"{}\";", d.value.trim(), t.id)?;
                    }
                }
            }
            writeln!(out, "}}")?;
        }
    }
    Ok(Outcome::Clean)
}

/// A phase (ID, name), or none for tasks outside every phase, and its tasks.
type PhaseGroup<'a> = (Option<(String, String)>, Vec<&'a Task>);
