//! `orch sheet`: group tasks into parallel groups with no scope overlap
//! (and none with a task in progress); print them, or write each card's
//! `group:` and a runnable `sheets/<G>.md`.

use std::collections::HashSet;
use std::io::Write;

use serde_json::json;

use crate::agent;
use crate::error::{Error, Outcome, Result};
use crate::fsx::{base_for, inside, write_inside};
use crate::model::program::{Index, Task, display_path};
use crate::model::scope::{CardScope, effective_scope};
use crate::model::{Program, TaskStatus};
use crate::report::Format;
use crate::scope::{Budget, CompiledScope};
use crate::sheet::{Candidate, Held, Running, SheetTask, partition, render};

use super::{Global, Workspace, print_json};

#[derive(Debug, clap::Args)]
pub struct SheetArgs {
    /// Tasks to group (default: every ready task)
    pub ids: Vec<String>,
    /// Group the ready tasks (the default when no ID is given)
    #[arg(long, conflicts_with = "ids")]
    pub ready: bool,
    /// At most this many tasks per group (default: config `agent.jobs`, else 4)
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Write each card's `group:` and `sheets/<G>.md`
    #[arg(long)]
    pub write: bool,
}

/// The card's scope compiled, or why it cannot be.
fn compile(
    program: &Program,
    task: &Task,
    budget: &Budget,
) -> std::result::Result<CompiledScope, String> {
    let scope = effective_scope(program, task).map_err(|e| e.to_string())?;
    CompiledScope::new(&scope, budget)
        .ok_or_else(|| format!("`{}`'s scope is too complex to compile", task.id))
}

/// `G7` -> 7.
fn group_number(name: &str) -> Option<u32> {
    name.strip_prefix('G')?.parse().ok()
}

pub fn run(args: &SheetArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if !matches!(g.format, Format::Human | Format::Json) {
        return Err(Error::usage("`orch sheet` prints human or json"));
    }
    let ws = Workspace::find(g)?;
    let program = ws.load()?;
    let index = Index::build(&program);
    let budget = Budget::default();

    let chosen: Vec<&Task> = if args.ids.is_empty() {
        index
            .tasks
            .iter()
            .filter(|t| index.is_dispatchable(t))
            .collect()
    } else {
        let mut seen = HashSet::new();
        let mut v = Vec::new();
        for id in &args.ids {
            let task = index.task(id).ok_or_else(|| {
                Error::with_help(
                    format!("no task `{id}` in the backlog"),
                    "`orch status` lists the tasks",
                )
            })?;
            if task.status != TaskStatus::Todo && index.retry_after(task).is_none() {
                return Err(Error::with_help(
                    format!(
                        "`{id}` is `{}`; only `todo` tasks and failed tasks whose root cause passed can be grouped",
                        task.status
                    ),
                    "`orch next` lists the ready tasks and the retries",
                ));
            }
            if seen.insert(id.as_str()) {
                v.push(task);
            }
        }
        // Backlog order, whatever the order on the command line.
        v.sort_by_key(|t| index.position(&t.id));
        v
    };
    // Every chosen task needs a compiled scope. Named tasks without one are
    // an error; ready tasks without one are held back with the reason.
    // Compiling a scope builds its automata, the largest piece of work
    // here: done on every core (a 20,000-task program has as many scopes).
    let compiled = crate::util::par_map(
        chosen.len(),
        crate::scope::parallelism(chosen.len()),
        64,
        || (),
        |(), i| compile(&program, chosen[i], &budget),
    );
    let mut unscoped: Vec<(String, String)> = Vec::new();
    let mut kept = Vec::new();
    let mut scopes = Vec::new();
    for (t, compiled) in chosen.into_iter().zip(compiled) {
        match compiled {
            Ok(s) => {
                kept.push(t);
                scopes.push(s);
            }
            Err(e) if args.ids.is_empty() => unscoped.push((t.id.clone(), e)),
            Err(e) => {
                return Err(Error::with_help(
                    format!("cannot group: {e}"),
                    "fix the card (`orch lint` shows what is wrong)",
                ));
            }
        }
    }
    let chosen = kept;
    let running_tasks: Vec<&Task> = index
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::InProgress)
        .collect();
    let running_scopes: Vec<(usize, CompiledScope)> = running_tasks
        .iter()
        .enumerate()
        .filter_map(|(i, t)| compile(&program, t, &budget).ok().map(|s| (i, s)))
        .collect();
    let running: Vec<Running<'_>> = running_scopes
        .iter()
        .map(|(i, s)| Running {
            id: &running_tasks[*i].id,
            scope: s,
        })
        .collect();
    let position: std::collections::HashMap<&str, usize> = chosen
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let mut waiting: Vec<(usize, String)> = Vec::new();
    let candidates: Vec<Candidate<'_>> = chosen
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut deps = Vec::new();
            for d in &t.deps {
                let d = d.value.trim();
                match position.get(d) {
                    Some(&j) => deps.push(j),
                    None if !index.satisfied(d) => waiting.push((i, d.to_string())),
                    None => {}
                }
            }
            Candidate {
                id: &t.id,
                scope: &scopes[i],
                deps,
            }
        })
        .collect();
    // A task waiting on something outside the run cannot be placed.
    let excluded: HashSet<usize> = waiting.iter().map(|(i, _)| *i).collect();
    let placeable: Vec<usize> = (0..candidates.len())
        .filter(|i| !excluded.contains(i))
        .collect();
    let remap: std::collections::HashMap<usize, usize> =
        placeable.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let sub: Vec<Candidate<'_>> = placeable
        .iter()
        .map(|&i| Candidate {
            id: candidates[i].id,
            scope: candidates[i].scope,
            deps: candidates[i]
                .deps
                .iter()
                .filter_map(|d| remap.get(d).copied())
                .collect(),
        })
        .collect();
    let jobs = args
        .jobs
        .or(program.config.agent.jobs.map(|j| j as usize))
        .unwrap_or(4);
    if jobs == 0 {
        return Err(Error::usage("--jobs must be at least 1"));
    }
    let parts = partition(&sub, &running, jobs, &budget);

    // Name new groups after every group already in use elsewhere: by a
    // task this run does not place, or by a sheet that lists one. A sheet
    // whose every task is placed again is replaced (removed when its name
    // is not reused), so writing the same ready tasks twice gives the same
    // names and leaves no stale sheet.
    let placed: HashSet<&str> = parts
        .groups
        .iter()
        .flatten()
        .map(|&k| chosen[placeable[k]].id.as_str())
        .collect();
    let sheets: Vec<(String, bool)> = program
        .docs_of(crate::model::Kind::Sheet)
        .filter_map(|d| {
            let name = d.front()?.scalar("group")?.value.trim().to_string();
            let listed = crate::rules::ids::sheet_tasks(d);
            let replaced =
                !listed.is_empty() && listed.iter().all(|t| placed.contains(t.value.trim()));
            Some((name, replaced))
        })
        .collect();
    let mut next = index
        .tasks
        .iter()
        .filter(|t| !placed.contains(t.id.as_str()))
        .filter_map(|t| t.group.as_ref().and_then(|g| group_number(g.value.trim())))
        .chain(
            sheets
                .iter()
                .filter(|(_, replaced)| !replaced)
                .filter_map(|(name, _)| group_number(name)),
        )
        .max()
        .unwrap_or(0)
        + 1;
    let groups: Vec<(String, Vec<&Task>)> = parts
        .groups
        .iter()
        .map(|members| {
            let name = format!("G{next}");
            next += 1;
            (
                name,
                members.iter().map(|&k| chosen[placeable[k]]).collect(),
            )
        })
        .collect();
    let mut held: Vec<(String, String)> = unscoped
        .into_iter()
        .map(|(id, e)| (id, format!("cannot be grouped: {e}")))
        .collect();
    let mut waits: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, d) in &waiting {
        match waits.last_mut() {
            Some((j, deps)) if j == i => deps.push(format!("`{d}`")),
            _ => waits.push((*i, vec![format!("`{d}`")])),
        }
    }
    held.extend(waits.into_iter().map(|(i, deps)| {
        (
            chosen[i].id.clone(),
            format!("waits on {}, not done and not in this run", deps.join(", ")),
        )
    }));
    held.extend(parts.held.iter().map(|(k, why)| {
        let id = chosen[placeable[*k]].id.clone();
        let why = match why {
            Held::Overlaps { with, path } => {
                format!("can touch `{path}`, like `{with}` in progress")
            }
            Held::Undecided { with } => {
                format!("overlap with `{with}` (in progress) cannot be decided")
            }
            Held::AfterHeld { dep } => format!("depends on `{dep}`, which is held back"),
        };
        (id, why)
    }));

    // The replaced sheets no new group takes the name of: stale.
    let stale: Vec<String> = sheets
        .iter()
        .filter(|(name, replaced)| *replaced && !groups.iter().any(|(g, _)| g == name))
        .map(|(name, _)| name.clone())
        .collect();
    let mut removed = Vec::new();
    if args.write {
        write(&ws, &program, &groups)?;
        removed = remove_sheets(&ws, &program, &stale)?;
    }
    if g.format == Format::Json {
        let v = json!({
            "groups": groups.iter().map(|(name, tasks)| json!({"group": name, "tasks": tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            "held": held.iter().map(|(id, why)| json!({"task": id, "reason": why})).collect::<Vec<_>>(),
            "removed": removed,
        });
        print_json(out, &v)?;
        return Ok(Outcome::Clean);
    }
    if groups.is_empty() && held.is_empty() && !g.quiet {
        writeln!(out, "no task to group (`orch next` lists the ready tasks)")?;
    }
    for (name, tasks) in &groups {
        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        writeln!(out, "{name}  {}", ids.join("  "))?;
    }
    for (id, why) in &held {
        writeln!(out, "held back: {id} {why}")?;
    }
    if args.write && !g.quiet {
        writeln!(
            out,
            "wrote {} sheet(s) and the cards' `group:`",
            groups.len()
        )?;
        for r in &removed {
            writeln!(out, "removed {r}: its tasks were regrouped")?;
        }
    }
    Ok(Outcome::Clean)
}

/// Write each task's card `group:` (edited in place) and each group's sheet:
/// everything is built first, so a task whose argv cannot be built writes
/// nothing.
fn write(ws: &Workspace, program: &Program, groups: &[(String, Vec<&Task>)]) -> Result<()> {
    let dir_rel = display_path(&program.root, &program.dir);
    let repo = crate::sheet::REPO;
    let mut writes: Vec<(std::path::PathBuf, String)> = Vec::new();
    for (name, tasks) in groups {
        let mut sheet_tasks = Vec::new();
        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        let schema_rel = format!("{dir_rel}/runs/{name}/completion.schema.json");
        let schema_json = crate::dispatch::completion::schema_text(&ids);
        for t in tasks {
            let Some(ci) = t.card else { continue };
            let doc = &program.docs[ci];
            let file = program.file(doc.file);
            writes.push((file.abs_path.clone(), set_group(&file.text, doc, name)));
            let Some((brief, _)) = agent::brief(program, t) else {
                continue;
            };
            let scope = CardScope::read(program, t);
            let last = format!("{repo}/{dir_rel}/runs/{name}/{}.last-message.md", t.id);
            let schema = format!("{repo}/{schema_rel}");
            let argv = agent::argv(
                &program.config,
                &brief,
                &agent::ArgvInputs {
                    repo,
                    last_message: &last,
                    schema: &schema,
                    schema_json: &schema_json,
                },
            )
            .map_err(|e| {
                Error::with_help(e, "fix the card or config.yaml (`orch lint` shows where)")
            })?;
            let globs = |pick: fn(&CardScope) -> &[crate::model::scope::Glob]| -> Vec<String> {
                scope
                    .as_ref()
                    .map(|s| pick(s).iter().map(|g| g.text.value.to_string()).collect())
                    .unwrap_or_default()
            };
            sheet_tasks.push(SheetTask {
                id: t.id.clone(),
                allowed: globs(|s| &s.allowed),
                prohibited: globs(|s| &s.prohibited),
                argv,
                log: format!("{dir_rel}/logs/{}.log", t.id),
            });
        }
        let uses_schema = agent::passes_schema(&program.config.agent.command());
        let script = crate::sheet::Script {
            logs_dir: &format!("{dir_rel}/logs"),
            runs_dir: &format!("{dir_rel}/runs/{name}"),
            schema: uses_schema.then_some((schema_rel.as_str(), schema_json.as_str())),
        };
        let text = render(name, &sheet_tasks, &script);
        writes.push((inside(&ws.dir, &format!("sheets/{name}.md"))?, text));
    }
    for (path, text) in &writes {
        crate::transition::check_size(
            &display_path(&program.root, path),
            text.len(),
            crate::model::program::MAX_DOCUMENT_BYTES,
        )?;
    }
    // Cards and sheets in real folders inside the repository; a link at a
    // sheet's name is replaced, never followed.
    for (path, text) in writes {
        write_inside(base_for(&ws.root, &ws.dir), &path, text.as_bytes(), true)?;
    }
    Ok(())
}

/// Remove the sheets of `names` (`sheets/<name>.md`, a file or a link,
/// never what a link points to); their display paths.
fn remove_sheets(ws: &Workspace, program: &Program, names: &[String]) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for name in names {
        if !crate::util::is_valid_id(name) {
            continue;
        }
        let path = inside(&ws.dir, &format!("sheets/{name}.md"))?;
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() || m.file_type().is_symlink() => {
                std::fs::remove_file(&path).map_err(|e| {
                    Error::with_help(
                        format!("cannot remove {}: {e}", path.display()),
                        "remove the stale sheet by hand",
                    )
                })?;
                removed.push(display_path(&program.root, &path));
            }
            _ => {}
        }
    }
    Ok(removed)
}

/// The card's text with `group:` set: the value replaced in place when the
/// key exists (comments and formatting kept), else a line after `id:`.
fn set_group(text: &str, doc: &crate::model::Document, group: &str) -> String {
    let Some(fm) = doc.front() else {
        return text.to_string();
    };
    if let Some(node) = fm.get("group") {
        if !node.span.is_empty() {
            return format!(
                "{}{group}{}",
                &text[..node.span.start],
                &text[node.span.end..]
            );
        }
        // `group:` with no value: write it after the colon.
        if let Some(key) = fm.key("group")
            && let Some(colon) = text[key.span.end..].find(':')
        {
            let at = key.span.end + colon + 1;
            return format!("{} {group}{}", &text[..at], &text[at..]);
        }
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    // After the `id:` line, else at the end of the front matter.
    let at = fm
        .get("id")
        .map(|n| {
            text[n.span.end..]
                .find('\n')
                .map_or(text.len(), |i| n.span.end + i + 1)
        })
        .unwrap_or(fm.span.end);
    format!("{}group: {group}{newline}{}", &text[..at], &text[at..])
}
