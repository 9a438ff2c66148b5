//! Read-only views: `orch status`, `orch next`, `orch show`, `orch graph`.

use std::io::Write;

use serde_json::{Value, json};

use crate::error::{Error, Outcome, Result};
use crate::model::program::{Index, Task};
use crate::model::scope::CardScope;
use crate::model::views::PlanView;
use crate::model::{Program, TaskStatus};
use crate::query::{self, readiness, text};
use crate::report::Format;
use crate::rules::ids::phase_of;

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

/// The claims this clone knows (`refs/orch/claims/`), by task; none
/// outside git. A claims ref that cannot be listed is a warning.
fn claims(program: &Program) -> Vec<crate::claims::Claim> {
    let Ok(Some(repo)) = crate::git::Repo::discover(&program.dir) else {
        return Vec::new();
    };
    crate::claims::list(&repo).unwrap_or_else(|e| {
        eprintln!(
            "warning: cannot list the claims: {}",
            crate::util::escape_controls(&e.to_string())
        );
        Vec::new()
    })
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
    let isolation = super::integrate::status_section(&program, &runs);
    let awaiting = |id: &str| {
        isolation.as_ref().and_then(|(l, _)| {
            l.iter()
                .find(|l| l.task.as_deref() == Some(id))
                .filter(|l| l.state == crate::isolate::clean::State::Awaiting)
                .map(|l| l.advice.clone())
        })
    };
    let claims = claims(&program);
    if g.format == Format::Json {
        let mut v = query::status(&program, &index, &runs);
        if let Some(tasks) = v["tasks"].as_array_mut() {
            for t in tasks {
                if let Some(c) = claims
                    .iter()
                    .find(|c| Some(c.task.as_str()) == t["id"].as_str())
                {
                    t["claim"] = c.json();
                }
            }
        }
        let others: Vec<Value> = claims
            .iter()
            .filter(|c| index.task(&c.task).is_none())
            .map(crate::claims::Claim::json)
            .collect();
        if !others.is_empty() {
            v["claims_not_in_plan"] = json!(others);
        }
        if let Some((leftovers, interrupted)) = &isolation {
            v["worktrees"] = json!(leftovers);
            if let Some(i) = interrupted {
                v["interrupted_integration"] = json!(i);
            }
        }
        print_json(out, &v)?;
        return Ok(Outcome::Clean);
    }
    let latest = query::latest_commits(&program, &query::set_aside(&index));
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
        let retry = index.retry_after(t);
        let ready_text = match t.status {
            TaskStatus::Todo if ready => "ready",
            TaskStatus::Todo => "waiting",
            TaskStatus::Failed if retry.is_some() => "retry",
            _ => "-",
        };
        // A result recorded while its agent waited on a person says so
        // before the usual advice (the question is what to answer first).
        let asked = runs
            .get(&t.id)
            .and_then(|r| r.waiting_on_person.first())
            .filter(|_| matches!(t.status, TaskStatus::Partial | TaskStatus::Failed))
            .map(|q| {
                format!(
                    "waiting on a person ({}); ",
                    crate::util::clip_chars(q, 120)
                )
            })
            .unwrap_or_default();
        let note = match t.status {
            _ if !t.status_known => {
                "status unknown: its ticket does not parse (`orch lint` says why)".to_string()
            }
            TaskStatus::Blocked | TaskStatus::Cancelled => match query::reason_of(t, &latest) {
                Some(r) => format!("{}: {}", t.status, crate::util::one_line(r)),
                None => String::new(),
            },
            TaskStatus::Failed if retry.is_some() => format!(
                "root cause `{}` passed: `orch dispatch {}` retries it",
                retry.map_or("", |r| r.id.as_str()),
                t.id
            ),
            TaskStatus::Todo if !waiting.is_empty() => format!("waiting on {}", waiting.join(", ")),
            TaskStatus::InProgress if t.card.is_none() => "in progress without a card".to_string(),
            TaskStatus::InProgress => runs
                .get(&t.id)
                .and_then(|r| r.advice(&t.id))
                .unwrap_or_default(),
            TaskStatus::Done => awaiting(&t.id).unwrap_or_default(),
            TaskStatus::Partial => {
                let mut note = format!(
                    "{asked}needs a split (`orch split {} --into \"<part>\"`) or a retry",
                    t.id
                );
                if let Some(a) = awaiting(&t.id) {
                    note.push_str(&format!("; its branch is {a}"));
                }
                note
            }
            TaskStatus::Failed => {
                format!("{asked}needs root-cause analysis (`orch replan` says what)")
            }
            TaskStatus::Split => {
                let children: Vec<&str> = index.children(&t.id).map(|c| c.id.as_str()).collect();
                format!("split into {}", children.join(", "))
            }
            _ => String::new(),
        };
        let group = t
            .group
            .as_ref()
            .map_or("-".to_string(), |g| g.value.to_string());
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
        let retries = index
            .tasks
            .iter()
            .filter(|t| index.retry_after(t).is_some())
            .count();
        let retries = if retries > 0 {
            format!(", {retries} to retry")
        } else {
            String::new()
        };
        writeln!(
            out,
            "\n{} tasks: {} done, {} in progress, {} ready, {} todo{retries}",
            index.tasks.len(),
            count(TaskStatus::Done),
            count(TaskStatus::InProgress),
            ready,
            count(TaskStatus::Todo)
        )?;
    }
    if !claims.is_empty() {
        let cw = claims.iter().map(|c| c.task.len()).max().unwrap_or(1);
        writeln!(out, "\nclaims:")?;
        for c in &claims {
            let planned = if index.task(&c.task).is_some() {
                ""
            } else {
                "  (not a task of the plan)"
            };
            writeln!(
                out,
                "  {:cw$}  {}{planned}",
                crate::util::escape_controls(&c.task),
                c.shown()
            )?;
        }
    }
    if let Some((leftovers, interrupted)) = &isolation {
        if let Some(i) = interrupted {
            writeln!(out, "\nwarning: {i}")?;
        }
        if !leftovers.is_empty() {
            writeln!(
                out,
                "\nleft by isolated runs ({}):",
                crate::isolate::clean::summary(leftovers)
            )?;
            let tw = leftovers
                .iter()
                .map(|l| l.task.as_deref().unwrap_or("-").len())
                .max()
                .unwrap_or(1);
            for l in leftovers {
                let mut line = format!("  {:tw$}", l.task.as_deref().unwrap_or("-"));
                if let Some(b) = &l.branch {
                    line.push_str(&format!("  {b}"));
                }
                if let Some(w) = &l.worktree {
                    line.push_str(&format!("  {w} ({})", crate::isolate::human_size(l.bytes)));
                }
                line.push_str(&format!("  {}", l.advice));
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(Outcome::Clean)
}

pub fn next(g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    check_format(g)?;
    let program = load(g)?;
    let index = Index::build(&program);
    if g.format == Format::Json {
        print_json(out, &query::next(&program, &index))?;
        return Ok(Outcome::Clean);
    }
    let ready = query::ready(&index);
    let retries = query::retries(&index);
    if ready.is_empty() && retries.is_empty() {
        if !g.quiet {
            writeln!(out, "no task is ready")?;
        }
        return Ok(Outcome::Clean);
    }
    let w = ready
        .iter()
        .chain(&retries)
        .map(|t| t.id.len())
        .max()
        .unwrap_or(2);
    for t in ready {
        writeln!(
            out,
            "{:w$}  {}  ({})",
            t.id,
            text(&t.objective),
            text(&t.skill)
        )?;
    }
    for t in retries {
        let rc = index.retry_after(t).map_or("", |r| r.id.as_str());
        writeln!(
            out,
            "{:w$}  {}  ({})  retry: root cause `{rc}` passed",
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
    let runs = crate::dispatch::last_runs(&program.dir);
    let mut value = query::show(&program, &index, &args.id, &runs)?;
    let claim = claims(&program).into_iter().find(|c| c.task == args.id);
    if let Some(c) = &claim {
        value["claim"] = c.json();
    }
    let Some(task) = index.task(&args.id) else {
        return Err(query::no_task(&index, &args.id));
    };
    let (ready, waiting) = readiness(&index, task);
    let scope = CardScope::read(&program, task);
    if g.format == Format::Json {
        print_json(out, &value)?;
        return Ok(Outcome::Clean);
    }
    writeln!(out, "{}  {}", task.id, text(&task.objective))?;
    let retry = index.retry_after(task);
    writeln!(
        out,
        "  status:       {}{}",
        task.status,
        if ready {
            " (ready)".to_string()
        } else if let Some(rc) = retry {
            format!(" (retry: root cause `{}` passed)", rc.id)
        } else {
            String::new()
        }
    )?;
    if let Some(r) = value["reason"].as_str() {
        writeln!(out, "  reason:       {}", crate::util::one_line(r))?;
    }
    if let Some(c) = &claim {
        writeln!(out, "  claimed by:   {}", c.shown())?;
    }
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
    let history = value["history"].as_array().map_or(&[][..], Vec::as_slice);
    if history.is_empty() {
        writeln!(out, "  history:      no transitions recorded")?;
    } else {
        writeln!(out, "  history:")?;
        for c in history {
            let id = c["id"].as_str().unwrap_or_default();
            writeln!(
                out,
                "    {}  {}  {}",
                &id[..id.len().min(10)],
                c["date"].as_str().unwrap_or_default(),
                c["subject"].as_str().unwrap_or_default()
            )?;
            if let Some(r) = c["reason"].as_str()
                && !g.quiet
            {
                writeln!(out, "      reason: {}", crate::util::one_line(r))?;
            }
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
                .map(|ph| (ph.id.value.to_string(), ph.name.clone()))
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
