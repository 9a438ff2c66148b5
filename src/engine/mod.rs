//! Engines: where a run's tasks execute. Every engine runs the same unit
//! of work per task, `orch run-task ID --run RUN --base SHA` (the per-task
//! unit local isolated dispatch runs, [`crate::dispatch::execute`] over
//! one task): a branch `orch/<ID>` at the base, the agent in its own
//! worktree, the seal, the facts in `runs/<RUN>/<ID>.json`. What an
//! engine adds is only where that runs and how its results come back: the
//! branch is pushed, the facts (with the log and the completion report)
//! travel as files, and `orch harvest --from-branches RUN` ([`collect`])
//! judges them exactly as a local run, from the branches.
//!
//! The local engine is `orch dispatch` itself. [`github`] writes a GitHub
//! Actions workflow ([`workflow`]) and starts it. Another engine (a
//! Kubernetes Job per task, a batch system) implements [`Engine`]: it
//! needs a checkout of the repository at the base with orch and the agent
//! installed, a way to run `orch run-task` per task with the agent's
//! secret in its environment, push access for `orch/<ID>` (and the claims,
//! `refs/orch/claims/<ID>`), and a way to bring `runs/<RUN>/` and `logs/`
//! back to where `orch harvest --from-branches` runs (docs/github.md).

pub mod collect;
pub mod github;
pub mod workflow;

use std::time::SystemTime;

use crate::config::{Config, Preset};
use crate::error::Result;

/// Which agent a remote run's task jobs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agent {
    /// config.yaml's `agent` (its command, or its preset).
    Config,
    /// A preset's command and adapter, whatever config.yaml says.
    Preset(Preset),
}

/// Make `config` run `agent`: a preset replaces the configured command and
/// adapter.
pub fn use_agent(config: &mut Config, agent: Agent) {
    if let Agent::Preset(p) = agent {
        config.agent.preset = Some(p);
        config.agent.command = Vec::new();
        config.agent.adapter = None;
    }
}

/// The agent program a config runs, as the workflow installs it: `codex`,
/// `claude`, `gemini`, or `other` (a program of the user's, which the
/// runner must already have).
pub fn agent_program(config: &Config) -> &'static str {
    let command = config.agent.command();
    let program = command.first().map(String::as_str).unwrap_or("");
    let name = program.rsplit('/').next().unwrap_or(program);
    match name {
        "codex" => "codex",
        "claude" => "claude",
        "gemini" => "gemini",
        _ => "other",
    }
}

/// The npm package that installs an agent program on a runner.
pub fn agent_package(program: &str) -> &'static str {
    match program {
        "codex" => "@openai/codex",
        "claude" => "@anthropic-ai/claude-code",
        "gemini" => "@google/gemini-cli",
        _ => "",
    }
}

/// A new run id: the UTC time and the label (`20261124T193000Z-G2`).
pub fn run_id(label: &str) -> String {
    format!(
        "{}-{label}",
        crate::dispatch::time::compact(SystemTime::now())
    )
}

/// What the workflow's first job found, for [`plan_outputs`].
pub struct PlanFacts<'a> {
    pub run: &'a str,
    /// The commit every task starts from: HEAD after the marking commit.
    pub base: &'a str,
    pub ids: &'a [String],
    /// The task jobs the workflow has (each a matrix of at most 256).
    pub chunks: usize,
    pub agent: &'static str,
    pub prefix: &'a str,
    pub dir: &'a str,
}

/// The first job's outputs, in order: `run`, `base`, `agent`, `package`,
/// `prefix`, `dir`, `count`, then `tasks-1`..`tasks-<chunks>`, each a JSON
/// list of at most [`workflow::MATRIX_LIMIT`] IDs, or empty (that task job
/// is skipped).
pub fn plan_outputs(f: &PlanFacts<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![
        ("run".into(), f.run.to_string()),
        ("base".into(), f.base.to_string()),
        ("agent".into(), f.agent.to_string()),
        ("package".into(), agent_package(f.agent).to_string()),
        ("prefix".into(), f.prefix.to_string()),
        ("dir".into(), f.dir.to_string()),
        ("count".into(), f.ids.len().to_string()),
    ];
    let mut chunks = f.ids.chunks(workflow::MATRIX_LIMIT);
    for k in 1..=f.chunks {
        let value = chunks
            .next()
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .unwrap_or_default();
        out.push((format!("tasks-{k}"), value));
    }
    out
}

/// What starting a run elsewhere did.
#[derive(Debug)]
pub enum Launched {
    /// The engine started it; the text says where to follow it.
    Started(String),
    /// It could not be started from here: the exact command to run, and why.
    Command { argv: Vec<String>, why: String },
}

/// A run to start on an engine.
pub struct Launch<'a> {
    pub run: &'a str,
    pub targets: &'a [String],
    pub agent: Agent,
    /// The branch the run starts from (and its pull request goes to).
    pub branch: Option<&'a str>,
}

/// The seam between orch and where tasks run. An engine starts a run
/// whose tasks each execute `orch run-task`; harvesting is the same for
/// every engine (`orch harvest --from-branches`).
pub trait Engine {
    /// Its name on the command line (`--engine github`).
    fn name(&self) -> &'static str;
    /// Start the run, or say exactly how to.
    fn launch(&self, launch: &Launch<'_>) -> Result<Launched>;
}
