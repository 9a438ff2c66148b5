//! Runs beyond one machine: `orch run-task` (one task's unit of work, as a
//! remote runner runs it), `orch workflow write|plan` (the GitHub Actions
//! workflow and its first job), and the engine behind `orch dispatch
//! --engine`. The work is in [`crate::engine`]; this file parses arguments
//! and prints.

use std::io::Write;

use clap::{Subcommand, ValueEnum};
use serde_json::json;

use crate::config::{DurationText, Preset};
use crate::dispatch::progress::Ui;
use crate::dispatch::{self, GRACE, Settings, plan};
use crate::engine::{self, Agent};
use crate::error::{Error, Outcome, Result};
use crate::model::Index;
use crate::report::Format;
use crate::transition::Session;

use super::{Global, Workspace, print_json};

/// The agent a remote run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AgentArg {
    /// config.yaml's `agent` (command or preset)
    Config,
    Codex,
    Claude,
    Gemini,
}

impl From<AgentArg> for Agent {
    fn from(a: AgentArg) -> Agent {
        match a {
            AgentArg::Config => Agent::Config,
            AgentArg::Codex => Agent::Preset(Preset::Codex),
            AgentArg::Claude => Agent::Preset(Preset::Claude),
            AgentArg::Gemini => Agent::Preset(Preset::Gemini),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct RunTaskArgs {
    /// The task (in_progress, or ready)
    #[arg(value_name = "ID")]
    pub id: String,
    /// The run this task belongs to (`20261124T193000Z-G2`)
    #[arg(long, value_name = "RUN")]
    pub run: String,
    /// The commit the task's branch starts from (default: HEAD)
    #[arg(long, value_name = "SHA")]
    pub base: Option<String>,
    /// The agent: config.yaml's, or a preset's command and adapter
    #[arg(long, value_enum, default_value_t = AgentArg::Config)]
    pub agent: AgentArg,
    /// Kill the agent (its whole process group) after this long
    #[arg(long, value_name = "D", value_parser = DurationText::parse)]
    pub timeout: Option<DurationText>,
    /// Kill an agent that prints nothing for this long
    #[arg(long, value_name = "D", value_parser = DurationText::parse)]
    pub idle_timeout: Option<DurationText>,
}

#[derive(Debug, clap::Args)]
pub struct WorkflowArgs {
    #[command(subcommand)]
    pub command: WorkflowCommand,
}

#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// Write .github/workflows/orch-dispatch.yml: a group as a job matrix
    Write(WriteArgs),
    /// The workflow's first job: check the group, claim and mark its tasks,
    /// print the matrix (`key=value` lines for GITHUB_OUTPUT)
    Plan(PlanArgs),
}

#[derive(Debug, clap::Args)]
pub struct WriteArgs {
    /// Task jobs at once (the matrix's max-parallel; default: config `agent.jobs`, else 4)
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Most tasks a run can have: past 256 (GitHub's matrix limit) the
    /// matrix is split over several task jobs
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_tasks: usize,
    /// Also start a run from a comment `/orch dispatch <GROUP>` by a
    /// member or collaborator on an issue or pull request
    #[arg(long)]
    pub on_comment: bool,
    /// Git URL orch is installed from on the runners (`cargo install --git`)
    #[arg(long, value_name = "URL")]
    pub orch_git: Option<String>,
    /// Tag, branch or 40-hex commit of orch to install (default: this orch's version tag)
    #[arg(long, value_name = "REF")]
    pub orch_ref: Option<String>,
    /// Write to this file instead (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The group (or task IDs)
    #[arg(required = true, value_name = "GROUP|ID")]
    pub targets: Vec<String>,
    /// The run id (default: made from the time and the group)
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    /// The agent the task jobs use
    #[arg(long, value_enum, default_value_t = AgentArg::Config)]
    pub agent: AgentArg,
    /// The number of task jobs the workflow has (256 tasks each)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub chunks: usize,
}

/// `orch run-task ID --run RUN [--base SHA]`: what isolated dispatch does
/// for each task (branch, worktree, environment, agent, the seal, the facts
/// in `runs/<RUN>/<ID>.json` with the completion report beside them),
/// without the transitions: the run's first job marked it.
pub fn run_task(args: &RunTaskArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    super::human_or_json(g, "run-task")?;
    if !crate::util::is_valid_id(&args.run) {
        return Err(Error::usage(format!(
            "`{}` is not a run id: letters, digits, `.`, `_` and `-`",
            args.run
        )));
    }
    let ws = Workspace::find(g)?;
    let mut program = ws.load()?;
    engine::use_agent(&mut program.config, args.agent.into());
    super::dispatch::refuse_unlinted(&program)?;
    let index = Index::build(&program);
    let task = index.task(args.id.trim()).ok_or_else(|| {
        Error::with_help(
            format!("no task `{}` in the plan", args.id),
            "name a task of the run (`orch status` lists them)",
        )
    })?;
    let planned = plan::check_one(&program, &index, task).map_err(|reasons| {
        Error::with_help(
            format!(
                "refusing to run `{}`; nothing was started:\n  - {}",
                task.id,
                reasons.join("\n  - ")
            ),
            "the run's first job marks its tasks `in_progress` (`orch workflow plan <GROUP>`)",
        )
    })?;
    let id = planned.id.clone();
    let repo = crate::git::Repo::discover(&ws.root)?.ok_or_else(|| {
        Error::with_help(
            "`orch run-task <ID> --run <RUN>` needs a git repository: the task gets a branch and a worktree",
            "run it in a clone of the repository",
        )
    })?;
    let base = match &args.base {
        Some(rev) => repo.resolve(rev).map_err(|e| {
            Error::with_help(
                format!("--base `{rev}` is not a commit here: {e}"),
                "fetch it first (`actions/checkout` with `fetch-depth: 0`), or name another",
            )
        })?,
        None => repo.resolve("HEAD").map_err(|_| {
            Error::with_help(
                "HEAD has no commit: a task's branch starts at one",
                "make a first commit, or pass --base",
            )
        })?,
    };
    let iso = crate::isolate::Settings::of(&program.config)?;
    let problems = crate::isolate::unit::preflight(&repo, &iso, std::slice::from_ref(&id))?;
    if !problems.is_empty() {
        return Err(Error::with_help(
            format!(
                "refusing to run `{id}`; nothing was started:\n  - {}",
                problems.join("\n  - ")
            ),
            "bring the earlier work in or remove it (`orch integrate`, `orch clean`)",
        ));
    }
    let agent = &program.config.agent;
    let settings = Settings {
        jobs: 1,
        timeout: args.timeout.or(agent.timeout).map(|d| d.0),
        idle: args.idle_timeout.or(agent.idle_timeout).map(|d| d.0),
        grace: GRACE,
    };
    let mut prepared = dispatch::prepare(
        &ws.root,
        &ws.dir,
        &program,
        vec![planned],
        dispatch::RunId::Given(&args.run),
        settings,
        dispatch::Isolation::Worktree(iso),
    )?;
    prepared.base = Some(base);
    prepared.part = Some(id.clone());
    dispatch::check_programs(&prepared)?;
    let stop = dispatch::interrupt_flag();
    {
        let mut ui = if g.format == Format::Human && !g.quiet {
            Ui::Lines(&mut *out)
        } else {
            Ui::Silent
        };
        dispatch::execute(&ws.root, &ws.dir, &mut prepared, &mut ui, stop)?;
    }
    // Judged as harvest will judge it: isolated, so exactly base..branch.
    let verdicts = dispatch::judge(
        &ws.root,
        &prepared.run,
        &prepared.contexts,
        &[],
        &prepared.patterns,
    );
    let part = crate::model::program::display_path(&ws.root, &prepared.facts_path(&ws.dir));
    let facts = &prepared.run.tasks[0];
    let verdict = &verdicts[0];
    let pass = verdict.proposal == Some(crate::model::Outcome::Pass) && !prepared.run.interrupted;
    if g.format == Format::Json {
        let v = json!({
            "run": prepared.run.run,
            "task": id,
            "branch": facts.branch.as_ref().map(|b| &b.branch),
            "tip": facts.branch.as_ref().and_then(|b| b.tip.as_ref()),
            "base": base.to_string(),
            "facts": part,
            "verdict": verdict,
        });
        print_json(out, &v)?;
    } else {
        writeln!(
            out,
            "{id}  {:8} {}",
            verdict.proposal.map_or("-", |p| p.as_str()),
            verdict.reasons.join("; ")
        )?;
        if let Some(b) = &facts.branch {
            match &b.tip {
                Some(tip) => writeln!(out, "branch: {} at {tip}", b.branch)?,
                None => writeln!(out, "branch: {} (not sealed)", b.branch)?,
            }
        }
        writeln!(out, "facts: {part}")?;
    }
    Ok(if pass {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// `orch workflow write|plan`.
pub fn workflow(args: &WorkflowArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    match &args.command {
        WorkflowCommand::Write(a) => write(a, g, out),
        WorkflowCommand::Plan(a) => plan_run(a, g, out),
    }
}

fn write(args: &WriteArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    super::human_or_json(g, "workflow write")?;
    let ws = Workspace::find(g)?;
    let program = ws.load()?;
    if args.max_tasks == 0 || args.jobs == Some(0) {
        return Err(Error::usage("--max-tasks and --jobs must be at least 1"));
    }
    let orch_git = match args.orch_git.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => url.to_string(),
        _ if !engine::workflow::ORCH_GIT.is_empty() => engine::workflow::ORCH_GIT.to_string(),
        _ => {
            return Err(Error::with_help(
                "--orch-git is needed: the runners install orch with `cargo install --git <URL>`",
                "name the git URL of orch (your fork or mirror), e.g. `--orch-git https://github.com/<owner>/orch`",
            ));
        }
    };
    if orch_git.starts_with('-') || orch_git.contains(['\n', '\r']) {
        return Err(Error::usage(format!(
            "--orch-git `{orch_git}` is not a git URL"
        )));
    }
    let options = engine::workflow::Options {
        dir: crate::model::program::display_path(&ws.root, &ws.dir),
        jobs: args
            .jobs
            .or(program.config.agent.jobs.map(|j| j as usize))
            .unwrap_or(4)
            .max(1),
        chunks: args.max_tasks.div_ceil(engine::workflow::MATRIX_LIMIT),
        on_comment: args.on_comment,
        orch_git,
        orch_ref: args
            .orch_ref
            .clone()
            .unwrap_or_else(|| format!("v{}", env!("CARGO_PKG_VERSION"))),
        timeout_minutes: engine::workflow::timeout_minutes(
            program.config.agent.timeout.map(|d| d.0),
        ),
    };
    let text = engine::workflow::render(&options);
    let target = match &args.out {
        Some(p) if p.as_os_str() == "-" => {
            out.write_all(text.as_bytes())?;
            return Ok(Outcome::Clean);
        }
        Some(p) => ws.root.join(p),
        None => ws.root.join(engine::workflow::PATH),
    };
    engine::workflow::write_file(&ws.root, &target, &text)?;
    let shown = crate::model::program::display_path(&ws.root, &target);
    if g.format == Format::Json {
        print_json(
            out,
            &json!({"workflow": shown, "jobs": options.jobs, "task_jobs": options.chunks}),
        )?;
    } else {
        writeln!(out, "wrote {shown}")?;
        writeln!(
            out,
            "next: commit it, add the agent's API key as a repository secret (docs/github.md), then `orch dispatch --engine github <GROUP>`"
        )?;
    }
    Ok(Outcome::Clean)
}

/// The workflow's first job: clear the group as dispatch does, claim and
/// mark its tasks `in_progress` (one commit), and print what the task jobs
/// need.
fn plan_run(args: &PlanArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    super::human_or_json(g, "workflow plan")?;
    let ws = Workspace::find(g)?;
    let session = Session::open(&ws.root, &ws.dir, !g.no_commit)?;
    let mut program = session.load()?;
    let agent: Agent = args.agent.into();
    engine::use_agent(&mut program.config, agent);
    let (planned, label) = super::dispatch::clear(&program, &args.targets)?;
    let ids: Vec<String> = planned.iter().map(|p| p.id.clone()).collect();
    let capacity = args.chunks.max(1) * engine::workflow::MATRIX_LIMIT;
    if ids.len() > capacity {
        return Err(Error::with_help(
            format!(
                "the run has {} tasks; the workflow's task jobs take at most {capacity}",
                ids.len()
            ),
            format!(
                "write the workflow for more (`orch workflow write --max-tasks {count}`), or dispatch a smaller group",
                count = ids.len()
            ),
        ));
    }
    let run = match &args.run {
        Some(r) if !r.trim().is_empty() => {
            let r = r.trim();
            if !crate::util::is_valid_id(r) {
                return Err(Error::usage(format!(
                    "`{r}` is not a run id: letters, digits, `.`, `_` and `-`"
                )));
            }
            r.to_string()
        }
        _ => engine::run_id(&label),
    };
    dispatch::mark_in_progress(&session, &label, &run, &ids)?;
    drop(session);
    let repo = crate::git::Repo::discover(&ws.root)?;
    let base = repo
        .and_then(|r| r.resolve("HEAD").ok())
        .map(|o| o.to_string())
        .unwrap_or_default();
    let iso = crate::isolate::Settings::of(&program.config)?;
    let outputs = engine::plan_outputs(&engine::PlanFacts {
        run: &run,
        base: &base,
        ids: &ids,
        chunks: args.chunks.max(1),
        agent: engine::agent_program(&program.config),
        prefix: &iso.prefix,
        dir: &crate::model::program::display_path(&ws.root, &ws.dir),
    });
    if g.format == Format::Json {
        let map: serde_json::Map<String, serde_json::Value> =
            outputs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        print_json(out, &serde_json::Value::Object(map))?;
    } else {
        for (k, v) in &outputs {
            writeln!(out, "{k}={v}")?;
        }
    }
    Ok(Outcome::Clean)
}

/// `orch dispatch --engine github GROUP`: check the group here (as the
/// workflow's first job will), then start the workflow, or print the exact
/// command when the GitHub CLI cannot.
pub(super) fn launch_github(
    args: &super::dispatch::DispatchArgs,
    ws: &Workspace,
    g: &Global,
    out: &mut dyn Write,
) -> Result<Outcome> {
    use crate::engine::{Engine, Launch, Launched};
    if args.dry_run || args.record || args.isolate.is_some() {
        return Err(Error::usage(
            "`--engine github` takes no --dry-run, --record or --isolate: the workflow runs each task isolated and records on its run branch",
        ));
    }
    let mut program = ws.load()?;
    let agent: Agent = args.agent.into();
    engine::use_agent(&mut program.config, agent);
    let (_, label) = super::dispatch::clear(&program, &args.targets)?;
    let workflow = ws.root.join(engine::workflow::PATH);
    if std::fs::symlink_metadata(&workflow).is_err() {
        return Err(Error::with_help(
            format!("no workflow {}", engine::workflow::PATH),
            "write it with `orch workflow write`, commit and push it, then dispatch again",
        ));
    }
    let run = engine::run_id(&label);
    let branch = crate::git::Repo::discover(&ws.root)?
        .and_then(|r| r.head_state().ok())
        .and_then(|(_, b)| b);
    let launch = Launch {
        run: &run,
        targets: &args.targets,
        agent,
        branch: branch.as_deref(),
    };
    let launched = engine::github::GitHub.launch(&launch)?;
    let (started, text, argv) = match &launched {
        Launched::Started(text) => (true, text.clone(), engine::github::GitHub::argv(&launch)),
        Launched::Command { argv, why } => (false, why.clone(), argv.clone()),
    };
    let command: Vec<String> = argv.iter().map(|a| crate::agent::shell_quote(a)).collect();
    if g.format == Format::Json {
        print_json(
            out,
            &json!({"engine": "github", "run": run, "started": started, "command": argv, "message": text}),
        )?;
    } else if started {
        writeln!(out, "{text}")?;
    } else {
        writeln!(out, "not started: {text}; run:")?;
        writeln!(out, "  {}", command.join(" "))?;
    }
    Ok(Outcome::Clean)
}
