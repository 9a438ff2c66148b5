//! The command line: clap definitions and one file per subcommand. Only
//! this module imports clap's derive API; commands write to an injected
//! writer and return an [`Outcome`].

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{Outcome, Result};
use crate::report::Format;

mod align;
mod board;
mod completions;
mod dispatch;
mod engine;
mod example;
mod hook;
mod init;
mod integrate;
mod lint;
mod lsp;
mod mcp;
mod meta;
mod prime;
mod replan;
mod scope;
mod sheet;
#[cfg(test)]
mod suggested;
mod transition;
mod views;
mod workspace;

pub use mcp::run_json;
pub use workspace::Workspace;

#[derive(Debug, Parser)]
#[command(
    name = "orch",
    version,
    about = "Lint, dispatch and record an orchestration playbook for parallel coding agents",
    long_about = "orch keeps a Master Plan, Dispatch Tickets, Execution Cards and an Evidence Ledger as Markdown with YAML front matter under .orchestrator/, and checks them.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct Global {
    /// The work tree (default: the first folder upwards holding .orchestrator/)
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The orchestrator folder itself (default: <root>/.orchestrator)
    #[arg(long, global = true, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Print only problems
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Write files, commit nothing (transitions, replan --apply)
    #[arg(long, global = true)]
    pub no_commit: bool,
    /// Colour: auto (a terminal, and NO_COLOR unset), always or never
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Global {
    pub fn color(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every document and the cross-document rules
    Lint(lint::LintArgs),
    /// Every task with its status, readiness, owner and group
    Status,
    /// The ready queue, in backlog order
    Next,
    /// Plan row, ticket, card and ledger rows of one task
    Show(views::ShowArgs),
    /// The dependency graph, phases as clusters, status as style
    Graph(views::GraphArgs),
    /// The program as one self-contained HTML page: board, graph, timeline, runs
    Board(board::BoardArgs),
    /// Scaffold .orchestrator/ (config, plan, ledger)
    Init(init::InitArgs),
    /// Create a ticket or card from the template, filled from the plan's row
    New(init::NewArgs),
    /// Print the JSON Schema of a document kind's front matter, or of config
    Schema(meta::SchemaArgs),
    /// List the rules, or explain one
    Rules(meta::RulesArgs),
    /// Group tasks into parallel groups with no scope overlap
    Sheet(sheet::SheetArgs),
    /// Check changed files against the tasks' scopes
    Scope(scope::ScopeArgs),
    /// todo -> in_progress, after checking dependencies, card and scope
    Start(transition::StartArgs),
    /// Record a result: a ledger row and the status, in one commit
    Record(transition::RecordArgs),
    /// Block a task
    Block(transition::ReasonArgs),
    /// blocked -> todo: the task can be started or dispatched again
    Unblock(transition::ReasonArgs),
    /// Cancel a task
    Cancel(transition::ReasonArgs),
    /// Split a partial task into children
    Split(transition::SplitArgs),
    /// Release a task's claim (refs/orch/claims/<ID>), here and at the claims remote
    Unclaim(transition::ReasonArgs),
    /// Apply the re-planning rules to the ledger
    Replan(replan::ReplanArgs),
    /// The transition history, read from git commits
    Log(replan::LogArgs),
    /// The Documentation Alignment Checklist over a git range
    AlignDocs(align::AlignArgs),
    /// Install or remove the git pre-commit hook
    Hook(hook::HookArgs),
    /// Run the agents of a group or of tasks in parallel, then harvest
    Dispatch(dispatch::DispatchArgs),
    /// Evidence, exit codes and scope violations of a dispatch run
    Harvest(dispatch::HarvestArgs),
    /// One task's unit of work, as a runner elsewhere runs it: branch,
    /// worktree, agent, seal, facts in runs/<RUN>/<ID>.json
    RunTask(engine::RunTaskArgs),
    /// The GitHub Actions workflow that dispatches a group as jobs
    Workflow(engine::WorkflowArgs),
    /// Serve the program to a coding agent over MCP (stdio)
    Mcp(mcp::McpArgs),
    /// A compact context for an agent's session hook: a task's brief, or the lead's view
    Prime(prime::PrimeArgs),
    /// Bring done tasks' branches into the current branch, one commit per task
    Integrate(integrate::IntegrateArgs),
    /// Remove the worktrees and branches isolated runs left
    Clean(integrate::CleanArgs),
    /// Print shell completions
    Completions(completions::CompletionsArgs),
    /// The language server, on stdin and stdout: diagnostics as you type,
    /// completion, hover, definitions, references, quick fixes
    Lsp(lsp::LspArgs),
    /// Print the man page (roff)
    #[command(hide = true)]
    Man,
}

/// Print one JSON value, pretty, with a final newline.
pub(crate) fn print_json(out: &mut dyn Write, value: &serde_json::Value) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// Set by [`run`], the binary's entry: the process ends when the command
/// returns.
static EXITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Exit 2 unless `--format` is human or json, the two `orch COMMAND` prints.
fn human_or_json(g: &Global, command: &str) -> Result<()> {
    if matches!(g.format, Format::Human | Format::Json) {
        Ok(())
    } else {
        Err(crate::error::Error::usage(format!(
            "`orch {command}` prints human or json"
        )))
    }
}

/// Drop `value`, unless the process ends when the command returns (the
/// binary's [`run`]): then leave it to the exit. Freeing thousands of parsed
/// documents node by node was about 5% of a large lint and 10% of
/// align-docs, for memory the exit returns anyway. In-process callers of
/// [`run_with`] (the tests) free it as usual.
pub(crate) fn release<T>(value: T) {
    if EXITING.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

/// Parse the arguments and run the command.
pub fn run() -> Result<Outcome> {
    EXITING.store(true, std::sync::atomic::Ordering::Relaxed);
    let cli = Cli::parse();
    if let Command::Mcp(args) = &cli.command {
        // The server writes stdout itself, from another thread.
        return mcp::run(args, &cli.global);
    }
    if !matches!(cli.command, Command::Dispatch(_) | Command::RunTask(_)) {
        no_huge_pages();
    }
    if let Command::Lsp(args) = &cli.command {
        // The server writes stdout from its own thread: not under the lock.
        return lsp::run(args, &cli.global);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if escapes_itself(&cli) {
        let outcome = run_with(cli, &mut out)?;
        out.flush()?;
        return Ok(outcome);
    }
    // Text for people may quote documents, logs and commit messages: their
    // control characters are escaped on the way out, never obeyed.
    let mut escaped = crate::util::EscapeWriter::new(out);
    let outcome = run_with(cli, &mut escaped)?;
    escaped.flush()?;
    Ok(outcome)
}

/// Output that needs no [`crate::util::EscapeWriter`]: JSON and SARIF
/// (escaped by the JSON writer; the escaper's `\u{..}` would break them),
/// coloured reports (which escape their inputs themselves), and the
/// generated completions and man page.
fn escapes_itself(cli: &Cli) -> bool {
    let g = &cli.global;
    matches!(g.format, Format::Json | Format::Sarif)
        || matches!(cli.command, Command::Completions(_) | Command::Man)
        || (g.color() && matches!(cli.command, Command::Lint(_) | Command::AlignDocs(_)))
}

/// Turn transparent huge pages off for this process. mimalloc is built not
/// to ask for them (`no_thp`), but where the system enables them for every
/// process (`always`), each first touch of a 2 MiB page would still zero all
/// of it: on a 2,000-task lint that was half the CPU time and 30 MiB of the
/// peak memory. A short-lived command gains nothing from them. Not for
/// `dispatch`, whose agents would inherit the setting.
fn no_huge_pages() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = nix::sys::prctl::set_thp_disable(true);
}

pub fn run_with(cli: Cli, out: &mut dyn Write) -> Result<Outcome> {
    let g = &cli.global;
    match &cli.command {
        Command::Lint(args) => lint::run(args, g, out),
        Command::Status => views::status(g, out),
        Command::Next => views::next(g, out),
        Command::Show(args) => views::show(args, g, out),
        Command::Graph(args) => views::graph(args, g, out),
        Command::Board(args) => board::run(args, g, out),
        Command::Init(args) => init::init(args, g, out),
        Command::New(args) => init::new(args, g, out),
        Command::Schema(args) => meta::schema(args, out),
        Command::Rules(args) => meta::rules(args, g, out),
        Command::Sheet(args) => sheet::run(args, g, out),
        Command::Scope(args) => scope::run(args, g, out),
        Command::Start(args) => transition::start(args, g, out),
        Command::Record(args) => transition::record(args, g, out),
        Command::Block(args) => transition::block(args, g, out),
        Command::Unblock(args) => transition::unblock(args, g, out),
        Command::Cancel(args) => transition::cancel(args, g, out),
        Command::Split(args) => transition::split(args, g, out),
        Command::Unclaim(args) => transition::unclaim(args, g, out),
        Command::Replan(args) => replan::replan(args, g, out),
        Command::Log(args) => replan::log(args, g, out),
        Command::AlignDocs(args) => align::run(args, g, out),
        Command::Hook(args) => hook::run(args, g, out),
        Command::Dispatch(args) => dispatch::dispatch(args, g, out),
        Command::Harvest(args) => dispatch::harvest(args, g, out),
        Command::RunTask(args) => engine::run_task(args, g, out),
        Command::Workflow(args) => engine::workflow(args, g, out),
        Command::Mcp(_) => Err(crate::error::Error::usage(
            "`orch mcp` serves on the process's own stdin and stdout",
        )),
        Command::Prime(args) => prime::run(args, g, out),
        Command::Integrate(args) => integrate::integrate(args, g, out),
        Command::Clean(args) => integrate::clean(args, g, out),
        Command::Completions(args) => completions::completions(args, out),
        Command::Lsp(args) => lsp::run(args, g),
        Command::Man => completions::man(out),
    }
}
