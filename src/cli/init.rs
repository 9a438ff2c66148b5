//! `orch init` and `orch new`: the writing commands that need no git.

use std::io::Write;

use crate::error::{Error, Outcome, Result};
use crate::fsx::{base_for, inside, write_atomic, write_inside};
use crate::model::program::Index;
use crate::model::{Kind, Program, templates};
use crate::util::{did_you_mean, is_valid_id, nearest};

use super::{Global, Workspace, example};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Write the complete sample program instead of an empty one
    #[arg(long)]
    pub example: bool,
    /// Also write how agents work with orch into AGENTS.md at the work
    /// tree's top: a new file, or a marked block appended to an existing
    /// one (the text around it is never changed); with a program already
    /// there, only that
    #[arg(long)]
    pub agents: bool,
}

const CONFIG: &str =
    "# orch configuration: every key is optional; `orch schema config` prints the schema.
# skills: [development-implementer, qa-test-engineer, technical-writer,
#          debug-troubleshooter, requirements-analyst, solution-architect, release-devops]
# agent:
#   preset: codex        # or claude, gemini: that agent's working command (docs/dispatch.md)
#   timeout: 30m
#   idle_timeout: 5m
#   jobs: 3
#   isolate: worktree    # or none: every agent in the shared work tree (docs/dispatch.md)
#   worktree:            # each task's branch `orch/<ID>` and linked worktree
#     copy: [.env]       # untracked files copied in (`link:` symlinks them)
#     setup: [make, deps]  # run in the worktree before the agent (argv, no shell)
# claims:
#   remote: origin       # push each claim there, so two machines never run one task
# rules:
#   field-unknown: warning
";

const PLAN: &str = "---
kind: plan
id: <program-id>
title: <program title>
status: draft
---

# Program Goal
- Goal: <what is true when the program is done>
- Scope: <what is in>
- Non-goals: <what is out>

# Phase Tree
## Phase P1: <name>
- Outcome: <what this phase delivers>
- Workstreams:
  - UI: <or none>
  - Core: <or none>
  - Infrastructure: <or none>
  - Test: <or none>
  - Docs: <or none>

## Branch Backlog
| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |
|---|---|---|---|---|
";

const LEDGER: &str = "---
kind: ledger
plan: <program-id>
---

# Evidence Ledger
| Task ID | Owner Skill | Evidence | Result | Next Action |
|---|---|---|---|---|

## Unverified Items
| Item | Risk | Owner |
|---|---|---|
";

/// What git keeps out of the repository (DESIGN 1): logs, and the run
/// files beside the reports (facts and agents' last messages are untrusted
/// input, `runs/<RUN>.md` is committed with the records), and temporary
/// files a killed orch could leave.
const GITIGNORE: &str = "logs/\nruns/*.json\nruns/*/\n.orch-*.tmp\n";

/// Write every file or none: nothing is written when any target exists or
/// a folder on the way is a link, and a failure part way removes what was
/// written (and the folders made for it).
fn write_all_or_nothing(ws: &Workspace, files: &[(&str, &str)]) -> Result<()> {
    let base = base_for(&ws.root, &ws.dir);
    let mut paths = Vec::new();
    for (rel, _) in files {
        let path = inside(&ws.dir, rel)?;
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(Error::with_help(
                format!("{} already exists; nothing was written", path.display()),
                "remove it first, or write the program by hand",
            ));
        }
        if let Some(parent) = path.parent() {
            crate::fsx::check_dir(base, parent)?;
        }
        paths.push(path);
    }
    // Folders that do not exist yet, to remove again on failure.
    let mut made: Vec<std::path::PathBuf> = Vec::new();
    for p in &paths {
        for a in p.ancestors().skip(1) {
            if !a.starts_with(&ws.dir) && a != ws.dir {
                break;
            }
            if std::fs::symlink_metadata(a).is_err() && !made.iter().any(|m| m == a) {
                made.push(a.to_path_buf());
            }
        }
    }
    let mut written = Vec::new();
    for (path, (_, text)) in paths.iter().zip(files) {
        if let Err(e) = write_inside(base, path, text.as_bytes(), false) {
            for w in &written {
                let _ = std::fs::remove_file(w);
            }
            made.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
            for m in &made {
                let _ = std::fs::remove_dir(m);
            }
            return Err(e);
        }
        written.push(path.clone());
    }
    Ok(())
}

pub fn init(args: &InitArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let ws = Workspace::for_init(g)?;
    let exists = ws.dir.join("plan.md").exists() || ws.dir.join("ledger.md").exists();
    if exists && args.agents && !args.example {
        if !g.quiet {
            let shown = crate::model::program::display_path(&ws.root, &ws.dir);
            writeln!(out, "{shown}/ already holds a program: left as it is")?;
        }
        return agents_md(&ws, g, out);
    }
    if exists {
        return Err(Error::with_help(
            format!("{} already holds a program", ws.dir.display()),
            "`orch lint` checks it; remove the folder to start over",
        ));
    }
    let mut files: Vec<(&str, &str)> = if args.example {
        example::FILES.to_vec()
    } else {
        vec![
            ("config.yaml", CONFIG),
            ("plan.md", PLAN),
            ("ledger.md", LEDGER),
        ]
    };
    files.push((".gitignore", GITIGNORE));
    write_all_or_nothing(&ws, &files)?;
    if !g.quiet {
        let shown = crate::model::program::display_path(&ws.root, &ws.dir);
        writeln!(out, "wrote {} files to {shown}/", files.len())?;
        if args.example {
            writeln!(
                out,
                "next: `orch status` shows the sample program; `orch lint` checks it"
            )?;
        } else {
            writeln!(
                out,
                "next: fill the `<...>` placeholders in plan.md, add backlog rows, then `orch lint`"
            )?;
        }
    }
    if args.agents {
        return agents_md(&ws, g, out);
    }
    Ok(Outcome::Clean)
}

/// Write the orch block into AGENTS.md at the work tree's top (see
/// [`crate::prime::merge_agents_md`]); say what was done.
fn agents_md(ws: &Workspace, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    use crate::prime::{AgentsMd, merge_agents_md};
    let path = inside(&ws.root, "AGENTS.md")?;
    let existing = match std::fs::symlink_metadata(&path) {
        Ok(md) if !md.file_type().is_file() => {
            return Err(Error::with_help(
                format!("{} is not a regular file", path.display()),
                "orch writes AGENTS.md only as a plain file; add the block by hand (docs/agents.md shows it)",
            ));
        }
        Ok(md) => {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            Some((text, md.permissions()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&path, e)),
    };
    let merged = merge_agents_md(existing.as_ref().map(|(t, _)| t.as_str())).map_err(|e| {
        Error::with_help(
            format!("refusing to change {}: {e}", path.display()),
            "put both markers back around the orch block, or remove what is left of it",
        )
    })?;
    let (text, said) = match merged {
        AgentsMd::Unchanged => {
            if !g.quiet {
                writeln!(out, "AGENTS.md: the orch block is up to date")?;
            }
            return Ok(Outcome::Clean);
        }
        AgentsMd::Created(t) => (t, "wrote AGENTS.md"),
        AgentsMd::Appended(t) => (
            t,
            "AGENTS.md: appended the orch block between <!-- orch:agents --> markers; the text above it is unchanged",
        ),
        AgentsMd::Updated(t) => (
            t,
            "AGENTS.md: updated the orch block between its markers; the text around it is unchanged",
        ),
    };
    write_atomic(&path, text.as_bytes(), true)?;
    let mode = match existing {
        Some((_, perms)) => Some(perms),
        None => new_file_mode(),
    };
    if let Some(perms) = mode {
        std::fs::set_permissions(&path, perms).map_err(|e| Error::io(&path, e))?;
    }
    if !g.quiet {
        writeln!(out, "{said}")?;
    }
    Ok(Outcome::Clean)
}

/// A new tracked text file's mode (the temp file it was written as is
/// private).
fn new_file_mode() -> Option<std::fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NewKind {
    Ticket,
    Card,
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// ticket or card
    #[arg(value_enum)]
    pub kind: NewKind,
    /// The task's Branch ID in the plan's backlog
    pub id: String,
}

pub fn new(args: &NewArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if !is_valid_id(&args.id) {
        return Err(Error::with_help(
            format!("`{}` is not a valid task ID", args.id),
            "IDs are letters, digits, `.`, `_` and `-`, starting with a letter or digit, never `..` (e.g. `P1-UI-01`)",
        ));
    }
    let ws = Workspace::find(g)?;
    let program = ws.load()?;
    let index = Index::build(&program);
    let Some(task) = index.task(&args.id) else {
        let ids = index.tasks.iter().map(|t| t.id.as_str());
        return Err(Error::with_help(
            format!(
                "`{}` is not in the plan's Branch Backlog{}",
                args.id,
                did_you_mean(nearest(&args.id, ids))
            ),
            "add a backlog row for it first",
        ));
    };
    // The cells as written: code spans kept.
    let text = |s: &Option<crate::source::Spanned<crate::source::Text>>, or: &str| {
        task.cell_markdown(&program, s)
            .unwrap_or_else(|| or.to_string())
    };
    let objective = text(&task.objective, "<objective>");
    let skill = text(&task.skill, "<skill>");
    let criteria = text(&task.done_criteria, "<done criteria>");
    let id = &task.id;
    let (kind, body) = match args.kind {
        NewKind::Ticket => (
            Kind::Ticket,
            format!(
                "---\nkind: ticket\nid: {id}\nstatus: todo\n---\n\n## {}: {id}\n- Objective: {objective}\n- Owner Skill: {skill}\n- Inputs: <documents, paths and decisions the task starts from>\n- Commands/Checks: <commands that show the work is right>\n- Expected Artifacts: <paths the task creates or changes, as `code spans`>\n- Risks: <what could go wrong, or none>\n- Exit Criteria: {criteria}\n",
                templates::TICKET_HEADING
            ),
        ),
        NewKind::Card => (
            Kind::Card,
            format!(
                "---\nkind: card\nid: {id}\n---\n\n## {}: {id}\n- Skill: {skill}\n- Goal: {objective}\n- Allowed Scope:\n  - Files/paths: <globs the agent may change, as `code spans`>\n  - Prohibited areas: <globs it must not touch, or none>\n- Commands to run: <build commands>\n- Tests/checks to run: <test commands>\n- Evidence to capture: <what the final message must show>\n- Completion criteria: {criteria}\n",
                templates::CARD_HEADING
            ),
        ),
    };
    let rel = Program::expected_path(kind, id).unwrap_or_default();
    let path = inside(&ws.dir, &rel)?;
    crate::transition::check_size(
        &rel,
        body.len(),
        crate::model::program::document_limit(&rel),
    )?;
    // In a real tickets/ or cards/ folder inside the repository; never
    // through a link, never over anything already there.
    write_inside(base_for(&ws.root, &ws.dir), &path, body.as_bytes(), false)?;
    if !g.quiet {
        writeln!(
            out,
            "wrote {}",
            crate::model::program::display_path(&ws.root, &path)
        )?;
        writeln!(out, "next: fill its `<...>` placeholders, then `orch lint`")?;
    }
    Ok(Outcome::Clean)
}
