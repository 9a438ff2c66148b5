//! The tools: each one's input schema (generated from its argument type
//! with schemars), what it calls, and the errors it answers with.
//!
//! A tool answers with the same JSON object as the command's
//! `--format json`, built by the same function ([`crate::query`], the
//! lint report, the transition reports; the extended tools run the
//! command itself in-process). Arguments are checked before anything is
//! read: unknown fields, wrong types, IDs outside the ID syntax and texts
//! over their limits are tool errors with code `invalid-arguments` or
//! `id-invalid`, never reach a file name, and never end the server.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::model::{Outcome, TaskStatus};
use crate::query::{self, Changes};
use crate::transition::{self, Session};
use crate::util::is_valid_id;

use super::cache::{Cache, Loaded};

/// Longest ID accepted (IDs become file names).
pub const MAX_ID: usize = 128;
/// Longest evidence, next action or reason accepted: a ledger cell or a
/// commit trailer, not a log.
pub const MAX_TEXT: usize = 4000;
/// Most IDs or paths in one call.
pub const MAX_ITEMS: usize = 64;

/// Which tools the server offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tier {
    /// `next`, `show`, `status`, `lint`, `scope_check`, `start`, `record`,
    /// `block`.
    #[default]
    Core,
    /// The core tools and `sheet`, `replan`, `align_docs`, `dispatch`
    /// (a dry run).
    All,
}

/// One tool as the server lists it.
pub struct ToolDef {
    pub name: &'static str,
    pub tier: Tier,
    pub title: &'static str,
    pub description: &'static str,
    /// Reads only: calling it changes nothing.
    pub read_only: bool,
    /// The JSON Schema of its arguments.
    pub schema: fn() -> Map<String, Value>,
}

/// The schema of an argument type, without the meta-schema line.
fn schema<T: JsonSchema>() -> Map<String, Value> {
    let mut map = match serde_json::to_value(schemars::schema_for!(T)) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    map.remove("$schema");
    map.insert("type".into(), json!("object"));
    map
}

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// One task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdArgs {
    /// A Branch ID of the plan's backlog, e.g. `P1-UI-01`.
    #[schemars(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintArgs {
    /// Report only on these files or folders, relative to the work tree's
    /// top (every document is still read).
    #[serde(default)]
    #[schemars(length(max = 64))]
    pub paths: Vec<String>,
    /// Lint what is staged (the git index), not the work tree.
    #[serde(default)]
    pub staged: bool,
    /// Also compare with this git revision: ledger rows it has must be
    /// unchanged, IDs added on both sides collide.
    #[serde(default)]
    #[schemars(length(min = 1, max = 256))]
    pub base: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeCheckArgs {
    /// Only what is staged (HEAD to the index). Default: the work tree
    /// against HEAD.
    #[serde(default)]
    pub staged: bool,
    /// What changed since this git revision (its commits, plus the work
    /// tree). Not with `staged`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 256))]
    pub since: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartArgs {
    /// The tasks to start (todo, blocked, failed or partial ->
    /// in_progress), each a Branch ID.
    #[schemars(
        length(min = 1, max = 64),
        inner(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))
    )]
    pub ids: Vec<String>,
}

/// A result, as the ledger's Result column holds it.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResultArg {
    /// The completion criteria are met: the task becomes `done`.
    Pass,
    /// Some of it: the task becomes `partial` (split or retry it).
    Partial,
    /// It failed: the task becomes `failed` (a root-cause task follows).
    Fail,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordArgs {
    /// The task, in progress.
    #[schemars(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    pub id: String,
    pub result: ResultArg,
    /// What shows the result: a test summary line, a log path, a diff.
    #[schemars(length(min = 1, max = 4000))]
    pub evidence: String,
    /// The Next Action cell (default: what the re-planning rules ask).
    #[serde(default)]
    #[schemars(length(min = 1, max = 4000))]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockArgs {
    /// The task (todo or in_progress).
    #[schemars(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    pub id: String,
    /// Why; recorded in the commit's Orch-Reason trailer.
    #[schemars(length(min = 1, max = 4000))]
    pub reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetArgs {
    /// Tasks to group (default: every ready task), each a Branch ID.
    #[serde(default)]
    #[schemars(
        length(max = 64),
        inner(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))
    )]
    pub ids: Vec<String>,
    /// At most this many tasks per group (default: config `agent.jobs`,
    /// else 4).
    #[serde(default)]
    #[schemars(range(min = 1, max = 256))]
    pub jobs: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplanArgs {
    /// Write and commit the decisions that need no human words (new
    /// backlog rows, rewired dependencies). Default: only list them.
    #[serde(default)]
    pub apply: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlignArgs {
    /// The range as `git diff` takes it: `A...B` checks B against the
    /// merge-base of A and B, `A..B` against A itself. Not with the others.
    #[serde(default)]
    #[schemars(length(min = 1, max = 256))]
    pub range: Option<String>,
    /// Check the head against the merge-base of this revision and the head
    /// (default: the default branch).
    #[serde(default)]
    #[schemars(length(min = 1, max = 256))]
    pub base: Option<String>,
    /// The range's head revision (default: HEAD). Not with `staged`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 256))]
    pub head: Option<String>,
    /// Check the staged content (the git index) as the head.
    #[serde(default)]
    pub staged: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchArgs {
    /// A parallel group (`G1`) or task IDs.
    #[schemars(
        length(min = 1, max = 64),
        inner(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))
    )]
    pub targets: Vec<String>,
    /// At most this many agents at once.
    #[serde(default)]
    #[schemars(range(min = 1, max = 256))]
    pub jobs: Option<u32>,
}

/// Every tool, core first.
pub static TOOLS: &[ToolDef] = &[
    ToolDef {
        name: "next",
        tier: Tier::Core,
        title: "Ready tasks",
        description: "The ready queue: todo tasks whose dependencies are all done, in backlog order. Same JSON as `orch next --format json`: {\"ready\":[{id,status,ready,waiting_on,owner,group,phase,objective,ticket,card}]}.",
        read_only: true,
        schema: schema::<NoArgs>,
    },
    ToolDef {
        name: "show",
        tier: Tier::Core,
        title: "One task",
        description: "One task: its plan row, ticket and card paths, dependencies and dependents, done criteria, the card's scope (allowed and prohibited globs) and its ledger rows. Same JSON as `orch show ID --format json`. The card itself is the resource orch://cards/ID.",
        read_only: true,
        schema: schema::<IdArgs>,
    },
    ToolDef {
        name: "status",
        tier: Tier::Core,
        title: "Every task",
        description: "Every task with its status, readiness and what it waits on, owner, group, phase and last dispatch run. Same JSON as `orch status --format json`: {\"tasks\":[...]}.",
        read_only: true,
        schema: schema::<NoArgs>,
    },
    ToolDef {
        name: "lint",
        tier: Tier::Core,
        title: "Check the documents",
        description: "Check every document and the cross-document rules. Same JSON as `orch lint --format json`: {\"diagnostics\":[{code,severity,message,file,line,column,end_line,end_column,help,related}],\"summary\":{errors,warnings,files}}.",
        read_only: true,
        schema: schema::<LintArgs>,
    },
    ToolDef {
        name: "scope_check",
        tier: Tier::Core,
        title: "Check changes against scopes",
        description: "Check the changed files (default: the work tree against HEAD) against the scopes of the tasks in progress: a file outside every one of them, or inside two, is a problem. Same JSON as `orch scope check --format json`: {\"files\":[{path,tasks,other_tasks,problem}],\"summary\":{changed,outside,shared}}.",
        read_only: true,
        schema: schema::<ScopeCheckArgs>,
    },
    ToolDef {
        name: "start",
        tier: Tier::Core,
        title: "Start tasks",
        description: "Move tasks to in_progress (from todo, blocked, failed or partial) after checking their ticket, dependencies, card and that their scope overlaps no task in progress; one git commit per task. Same JSON as `start` with `--format json` on the command line: {\"transitions\":[{task,from,to,commit,branch,files,asks}]}.",
        read_only: false,
        schema: schema::<StartArgs>,
    },
    ToolDef {
        name: "record",
        tier: Tier::Core,
        title: "Record a result",
        description: "Record the result of a task in progress: a ledger row and its status (pass -> done, partial -> partial, fail -> failed) in one git commit. `asks` says what the re-planning rules now ask. Same JSON as `record` with `--format json` on the command line.",
        read_only: false,
        schema: schema::<RecordArgs>,
    },
    ToolDef {
        name: "block",
        tier: Tier::Core,
        title: "Block a task",
        description: "Block a task (todo or in_progress -> blocked) in one git commit; the reason goes in the commit's Orch-Reason trailer. Same JSON as `block` with `--format json` on the command line.",
        read_only: false,
        schema: schema::<BlockArgs>,
    },
    ToolDef {
        name: "sheet",
        tier: Tier::All,
        title: "Parallel groups",
        description: "Group tasks (default: the ready ones) into parallel groups with no scope overlap and none with a task in progress, dependencies first. Nothing is written. Same JSON as `orch sheet --format json`.",
        read_only: true,
        schema: schema::<SheetArgs>,
    },
    ToolDef {
        name: "replan",
        tier: Tier::All,
        title: "Re-planning decisions",
        description: "The re-planning rules' open decisions (unlocked dependents, splits, root-cause, acceptance-criteria, scope-conflict and release-risk tasks). With apply: true, writes and commits those that need no human words. Same JSON as `orch replan --format json`.",
        read_only: false,
        schema: schema::<ReplanArgs>,
    },
    ToolDef {
        name: "align_docs",
        tier: Tier::All,
        title: "Documentation Alignment Checklist",
        description: "The Documentation Alignment Checklist over a git range, each line pass or fail with diagnostics. Same JSON as `orch align-docs --format json`.",
        read_only: true,
        schema: schema::<AlignArgs>,
    },
    ToolDef {
        name: "dispatch",
        tier: Tier::All,
        title: "Dispatch (dry run)",
        description: "What `orch dispatch <GROUP> --dry-run` would run for a group or tasks: each task's agent argv, adapter and log. A dry run only: nothing is started or written. Same JSON as `orch dispatch <GROUP> --dry-run --format json`.",
        read_only: true,
        schema: schema::<DispatchArgs>,
    },
];

/// The tools of a tier.
pub fn offered(tier: Tier) -> impl Iterator<Item = &'static ToolDef> {
    TOOLS
        .iter()
        .filter(move |t| tier == Tier::All || t.tier == Tier::Core)
}

/// A failed call: the tool's error, as its JSON says it.
#[derive(Debug)]
pub struct ToolError {
    /// `invalid-arguments`, `id-invalid`, `task-unknown`, `refused`,
    /// `no-program`, `io-error`, `git-error`, `internal-error`.
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// Lint diagnostics about what the call named (the task's documents),
    /// in `orch lint --format json`'s shape.
    pub diagnostics: Vec<Value>,
}

impl ToolError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ToolError {
        ToolError {
            code,
            message: message.into(),
            help: None,
            diagnostics: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> ToolError {
        self.help = Some(help.into());
        self
    }

    /// An operational failure, under `code` when it is a refusal.
    pub fn from_error(e: Error, code: &'static str) -> ToolError {
        let help = e.help().map(str::to_string);
        let code = match &e {
            Error::Usage { .. } => code,
            Error::Io { .. } | Error::Output(_) => "io-error",
            Error::Git(_) => "git-error",
        };
        ToolError {
            code,
            message: e.to_string(),
            help,
            diagnostics: Vec::new(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "error": {"code": self.code, "message": self.message, "help": self.help},
            "diagnostics": self.diagnostics,
        })
    }
}

/// What a call answered: the command's JSON, and notes for the reader
/// (a program with lint errors).
pub struct Answer {
    pub value: Value,
    pub notes: Vec<String>,
}

impl From<Value> for Answer {
    fn from(value: Value) -> Answer {
        Answer {
            value,
            notes: Vec::new(),
        }
    }
}

/// Where calls run: the located orchestrator folder and its program.
pub struct Context {
    /// Finds the work tree and the orchestrator folder (`--root`, `--dir`,
    /// or upwards from the current folder).
    pub locate: Box<dyn Fn() -> crate::error::Result<(PathBuf, PathBuf)> + Send>,
    /// Transitions commit (false with `--no-commit`).
    pub commit: bool,
    pub tier: Tier,
    cache: Option<Cache>,
}

impl Context {
    pub fn new(
        locate: Box<dyn Fn() -> crate::error::Result<(PathBuf, PathBuf)> + Send>,
        commit: bool,
        tier: Tier,
    ) -> Context {
        Context {
            locate,
            commit,
            tier,
            cache: None,
        }
    }

    /// The program's cache, locating the folder on first use (a folder
    /// made by `orch init` after the server started is found then).
    pub fn cache(&mut self) -> Result<&mut Cache, ToolError> {
        let cache = match self.cache.take() {
            Some(cache) => cache,
            None => {
                let (root, dir) =
                    (self.locate)().map_err(|e| ToolError::from_error(e, "no-program"))?;
                Cache::new(root, dir)
            }
        };
        Ok(self.cache.insert(cache))
    }

    fn loaded(&mut self) -> Result<&mut Loaded, ToolError> {
        self.cache()?
            .get()
            .map_err(|e| ToolError::from_error(e, "no-program"))
    }

    /// A note when the program has lint errors, as the command line warns.
    fn lint_note(&mut self) -> Vec<String> {
        let Ok(cache) = self.cache() else {
            return Vec::new();
        };
        let Ok(loaded) = cache.lint() else {
            return Vec::new();
        };
        let errors = loaded
            .diagnostics()
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .count();
        if errors == 0 {
            return Vec::new();
        }
        vec![format!(
            "warning: the program has {errors} lint error(s); this view may be incomplete (call `lint`)"
        )]
    }
}

/// Parse a tool's arguments.
fn args<T: DeserializeOwned>(arguments: Map<String, Value>) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(arguments)).map_err(|e| {
        ToolError::new("invalid-arguments", format!("bad arguments: {e}"))
            .help("the tool's input schema (tools/list) says what it takes")
    })
}

/// An ID must follow the ID syntax before it is looked up.
fn check_id(id: &str) -> Result<(), ToolError> {
    if id.len() > MAX_ID || !is_valid_id(id) {
        let shown = crate::util::clip_chars(&crate::util::one_line(id), 80);
        return Err(ToolError::new(
            "id-invalid",
            format!("`{shown}` is not an ID"),
        )
        .help("an ID is `[A-Za-z0-9][A-Za-z0-9._-]*` without `..`, at most 128 characters, e.g. `P1-UI-01`"));
    }
    Ok(())
}

fn check_ids(ids: &[String]) -> Result<(), ToolError> {
    if ids.len() > MAX_ITEMS {
        return Err(ToolError::new(
            "invalid-arguments",
            format!("{} IDs in one call; at most {MAX_ITEMS}", ids.len()),
        ));
    }
    ids.iter().try_for_each(|id| check_id(id))
}

fn check_text(field: &str, text: &str) -> Result<(), ToolError> {
    if text.chars().count() > MAX_TEXT {
        return Err(ToolError::new(
            "invalid-arguments",
            format!("`{field}` is over {MAX_TEXT} characters"),
        )
        .help("keep it to a line or two: a test summary, a log path"));
    }
    if text.trim().is_empty() {
        return Err(ToolError::new(
            "invalid-arguments",
            format!("`{field}` is empty"),
        ));
    }
    Ok(())
}

fn check_rev(field: &str, rev: &Option<String>) -> Result<(), ToolError> {
    match rev {
        Some(r)
            if r.is_empty()
                || r.len() > 256
                || r.starts_with('-')
                || r.chars().any(char::is_control) =>
        {
            Err(ToolError::new(
                "invalid-arguments",
                format!("`{field}` is not a git revision"),
            ))
        }
        _ => Ok(()),
    }
}

/// The task must exist in the backlog.
fn known(loaded: &Loaded, id: &str) -> Result<(), ToolError> {
    if loaded.index.task(id).is_none() {
        let e = query::no_task(&loaded.index, id);
        return Err(ToolError::from_error(e, "task-unknown"));
    }
    Ok(())
}

/// Run one tool.
pub fn call(
    cx: &mut Context,
    name: &str,
    arguments: Map<String, Value>,
) -> Result<Answer, ToolError> {
    match name {
        "next" => {
            args::<NoArgs>(arguments)?;
            let l = cx.loaded()?;
            let value = query::next(&l.program, &l.index);
            Ok(Answer {
                value,
                notes: cx.lint_note(),
            })
        }
        "status" => {
            args::<NoArgs>(arguments)?;
            let l = cx.loaded()?;
            let runs = crate::dispatch::last_runs(&l.program.dir);
            let value = query::status(&l.program, &l.index, &runs);
            Ok(Answer {
                value,
                notes: cx.lint_note(),
            })
        }
        "show" => {
            let a: IdArgs = args(arguments)?;
            check_id(&a.id)?;
            let l = cx.loaded()?;
            known(l, &a.id)?;
            let runs = crate::dispatch::last_runs(&l.program.dir);
            let value = query::show(&l.program, &l.index, &a.id, &runs)
                .map_err(|e| ToolError::from_error(e, "task-unknown"))?;
            Ok(Answer {
                value,
                notes: cx.lint_note(),
            })
        }
        "lint" => lint(cx, args(arguments)?).map(Answer::from),
        "scope_check" => {
            let a: ScopeCheckArgs = args(arguments)?;
            check_rev("since", &a.since)?;
            let changes = match (a.staged, a.since) {
                (true, Some(_)) => {
                    return Err(ToolError::new(
                        "invalid-arguments",
                        "`staged` and `since` do not go together",
                    ));
                }
                (true, None) => Changes::Staged,
                (false, Some(rev)) => Changes::Since(rev),
                (false, None) => Changes::WorkTree,
            };
            let l = cx.loaded()?;
            let check = query::scope_check(&l.program, &changes)
                .map_err(|e| ToolError::from_error(e, "refused"))?;
            Ok(check.to_json().into())
        }
        "start" => {
            let a: StartArgs = args(arguments)?;
            if a.ids.is_empty() {
                return Err(ToolError::new(
                    "invalid-arguments",
                    "name at least one task to start",
                ));
            }
            check_ids(&a.ids)?;
            transition(cx, &a.ids, |s| transition::start(s, &a.ids))
        }
        "record" => {
            let a: RecordArgs = args(arguments)?;
            check_id(&a.id)?;
            check_text("evidence", &a.evidence)?;
            if let Some(next) = &a.next {
                check_text("next", next)?;
            }
            let result = match a.result {
                ResultArg::Pass => Outcome::Pass,
                ResultArg::Partial => Outcome::Partial,
                ResultArg::Fail => Outcome::Fail,
            };
            let ids = [a.id.clone()];
            transition(cx, &ids, |s| {
                transition::record(s, &a.id, result, &a.evidence, a.next.as_deref())
                    .map(|r| vec![r])
            })
        }
        "block" => {
            let a: BlockArgs = args(arguments)?;
            check_id(&a.id)?;
            check_text("reason", &a.reason)?;
            let ids = [a.id.clone()];
            transition(cx, &ids, |s| {
                transition::with_reason(s, &a.id, TaskStatus::Blocked, &a.reason).map(|r| vec![r])
            })
        }
        other if cx.tier == Tier::All => extended(cx, other, arguments),
        other => Err(unknown_tool(other, cx.tier)),
    }
}

/// The error for a tool the server does not offer.
pub fn unknown_tool(name: &str, tier: Tier) -> ToolError {
    let shown = crate::util::clip_chars(&crate::util::one_line(name), 80);
    let names: Vec<&str> = offered(tier).map(|t| t.name).collect();
    let mut e = ToolError::new("invalid-arguments", format!("no tool `{shown}`"));
    e.help = Some(
        if tier == Tier::Core && TOOLS.iter().any(|t| t.name == name) {
            format!("`{name}` is an extended tool: start the server with `orch mcp --tools all`")
        } else {
            format!("the tools are {}", names.join(", "))
        },
    );
    e
}

fn lint(cx: &mut Context, a: LintArgs) -> Result<Value, ToolError> {
    if a.paths.len() > MAX_ITEMS {
        return Err(ToolError::new(
            "invalid-arguments",
            format!("at most {MAX_ITEMS} paths"),
        ));
    }
    check_rev("base", &a.base)?;
    let cache = cx.cache()?;
    let root = cache.root.clone();
    let paths: Vec<PathBuf> = a.paths.iter().map(|p| root.join(p)).collect();
    if !a.staged && a.base.is_none() {
        let loaded = cache
            .lint()
            .map_err(|e| ToolError::from_error(e, "no-program"))?;
        let mut diagnostics = loaded.diagnostics().to_vec();
        query::only_paths(&loaded.program, &mut diagnostics, &paths)
            .map_err(|e| ToolError::from_error(e, "invalid-arguments"))?;
        return Ok(report(&loaded.program, &diagnostics));
    }
    let ws = crate::cli::Workspace {
        root: cache.root.clone(),
        dir: cache.dir.clone(),
    };
    let (program, tracked) = if a.staged {
        let (p, t) = ws
            .load_staged_and_tracked()
            .map_err(|e| ToolError::from_error(e, "refused"))?;
        (p, Some(t))
    } else {
        (
            ws.load()
                .map_err(|e| ToolError::from_error(e, "no-program"))?,
            None,
        )
    };
    let base = match &a.base {
        Some(rev) => Some(
            crate::rules::history::Base::load(&ws.root, &ws.dir, rev)
                .map_err(|e| ToolError::from_error(e, "refused"))?,
        ),
        None => None,
    };
    let mut diagnostics = crate::rules::lint_prefetched(&program, base.as_ref(), tracked);
    query::only_paths(&program, &mut diagnostics, &paths)
        .map_err(|e| ToolError::from_error(e, "invalid-arguments"))?;
    Ok(report(&program, &diagnostics))
}

fn report(program: &crate::model::Program, diagnostics: &[Diagnostic]) -> Value {
    crate::report::json_value(&crate::report::Report {
        program,
        diagnostics,
        files: program.files.len(),
    })
}

/// Run a transition in a session (the orch lock, one commit per task),
/// as the command line does. A refusal carries the lint diagnostics of
/// the tasks' documents.
fn transition(
    cx: &mut Context,
    ids: &[String],
    run: impl FnOnce(&Session) -> crate::error::Result<Vec<transition::Report>>,
) -> Result<Answer, ToolError> {
    let commit = cx.commit;
    let loaded = cx.loaded()?;
    for id in ids {
        known(loaded, id)?;
    }
    let (root, dir) = (loaded.program.root.clone(), loaded.program.dir.clone());
    let result = Session::open(&root, &dir, commit).and_then(|s| run(&s));
    match result {
        Ok(reports) => Ok(query::transitions(&reports).into()),
        Err(e) => {
            let mut err = ToolError::from_error(e, "refused");
            err.diagnostics = task_diagnostics(cx, ids);
            Err(err)
        }
    }
}

/// The lint diagnostics about the tasks: in their tickets and cards, and
/// on their backlog and ledger rows.
fn task_diagnostics(cx: &mut Context, ids: &[String]) -> Vec<Value> {
    let Ok(cache) = cx.cache() else {
        return Vec::new();
    };
    let Ok(loaded) = cache.lint() else {
        return Vec::new();
    };
    let (program, index) = (&loaded.program, &loaded.index);
    let mut places: Vec<(crate::source::FileId, Option<crate::source::Span>)> = Vec::new();
    for id in ids {
        let Some(t) = index.task(id) else { continue };
        for doc in [t.ticket, t.card].into_iter().flatten() {
            places.push((program.docs[doc].file, None));
        }
        places.push((t.at.file, Some(line_of(program, t.at.file, t.at.span))));
        for &r in &t.rows {
            let row = &index.ledger[r];
            places.push((row.file, Some(row.row)));
        }
    }
    let about: Vec<Diagnostic> = loaded
        .diagnostics()
        .iter()
        .filter(|d| {
            places.iter().any(|(file, span)| {
                d.file == *file
                    && span.is_none_or(|s| d.span.start >= s.start && d.span.start <= s.end)
            })
        })
        .cloned()
        .collect();
    match report(program, &about) {
        Value::Object(mut map) => match map.remove("diagnostics") {
            Some(Value::Array(v)) => v,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The span of the whole line holding `span`.
fn line_of(
    program: &crate::model::Program,
    file: crate::source::FileId,
    span: crate::source::Span,
) -> crate::source::Span {
    let text = &program.file(file).text;
    let at = span.start.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    crate::source::Span::new(start, end)
}

/// The extended tools: the command itself, run in-process with
/// `--format json`.
fn extended(
    cx: &mut Context,
    name: &str,
    arguments: Map<String, Value>,
) -> Result<Answer, ToolError> {
    let mut argv: Vec<String> = Vec::new();
    match name {
        "sheet" => {
            let a: SheetArgs = args(arguments)?;
            check_ids(&a.ids)?;
            argv.push("sheet".into());
            if let Some(j) = a.jobs {
                argv.push(format!("--jobs={}", j.max(1)));
            }
            argv.push("--".into());
            argv.extend(a.ids);
        }
        "replan" => {
            let a: ReplanArgs = args(arguments)?;
            argv.push("replan".into());
            if a.apply {
                argv.push("--apply".into());
            }
        }
        "align_docs" => {
            let a: AlignArgs = args(arguments)?;
            check_rev("base", &a.base)?;
            check_rev("head", &a.head)?;
            check_rev("range", &a.range)?;
            argv.push("align-docs".into());
            if let Some(b) = a.base {
                argv.push(format!("--base={b}"));
            }
            if let Some(h) = a.head {
                argv.push(format!("--head={h}"));
            }
            if a.staged {
                argv.push("--staged".into());
            }
            if let Some(r) = a.range {
                argv.extend(["--".into(), r]);
            }
        }
        "dispatch" => {
            let a: DispatchArgs = args(arguments)?;
            if a.targets.is_empty() {
                return Err(ToolError::new("invalid-arguments", "name a group or tasks"));
            }
            check_ids(&a.targets)?;
            argv.extend(["dispatch".into(), "--dry-run".into()]);
            if let Some(j) = a.jobs {
                argv.push(format!("--jobs={}", j.max(1)));
            }
            argv.push("--".into());
            argv.extend(a.targets);
        }
        other => return Err(unknown_tool(other, cx.tier)),
    }
    let commit = cx.commit;
    let cache = cx.cache()?;
    let (root, dir) = (cache.root.clone(), cache.dir.clone());
    let value = crate::cli::run_json(&root, &dir, commit, &argv)
        .map_err(|e| ToolError::from_error(e, "refused"))?;
    Ok(value.into())
}
