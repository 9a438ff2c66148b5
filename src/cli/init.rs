//! `orch init` and `orch new`: the writing commands that need no git.

use std::io::Write;

use crate::error::{Error, Outcome, Result};
use crate::fsx::{inside, write_atomic};
use crate::model::program::Index;
use crate::model::{Kind, Program, templates};
use crate::util::{did_you_mean, is_valid_id, nearest};

use super::{Global, Workspace, example};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Write the complete sample program instead of an empty one
    #[arg(long)]
    pub example: bool,
}

const CONFIG: &str = "# orch configuration: every key is optional; `orch schema config` prints the schema.
# skills: [development-implementer, qa-test-engineer, technical-writer,
#          debug-troubleshooter, requirements-analyst, solution-architect, release-devops]
# agent:
#   command: [codex, exec, --json, --cd, \"{repo}\", --output-last-message, \"{last_message}\", \"{prompt}\"]
#   timeout: 30m
#   idle_timeout: 5m
#   jobs: 3
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

pub fn init(args: &InitArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let ws = Workspace::for_init(g)?;
    if ws.dir.join("plan.md").exists() || ws.dir.join("ledger.md").exists() {
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
    files.push((".gitignore", "logs/\n"));
    for (rel, text) in &files {
        let path = inside(&ws.dir, rel)?;
        write_atomic(&path, text.as_bytes(), false)?;
    }
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
    Ok(Outcome::Clean)
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
    let text = |s: &Option<crate::source::Spanned<String>>, or: &str| {
        s.as_ref()
            .map(|s| s.value.trim().to_string())
            .filter(|s| !s.is_empty())
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
    write_atomic(&path, body.as_bytes(), false)?;
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
