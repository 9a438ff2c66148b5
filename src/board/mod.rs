//! `orch board`: the program as one self-contained HTML page, and the
//! Markdown status for pull requests and step summaries.
//!
//! [`Board::gather`] collects what the page shows from the repository's own
//! terms: the tasks with their column (status, with `todo` split into ready
//! and waiting), owner, group, scope and the reason they wait or are
//! blocked; the phases; the ledger and the transitions read back from git
//! as one timeline; the latest dispatch runs, judged as `orch harvest`
//! judges them, with the tail of each task's log; the open re-planning
//! decisions; the unverified items. [`layout`] lays the dependency graph out
//! (pure), [`html`] renders the page, [`mermaid`] and [`markdown`] the
//! GitHub-flavoured views. Files beside the documents (run files, logs) are
//! untrusted: logs are read through [`crate::fsx::open_inside`] (regular
//! files only, no link followed, real folders) and only their end, and
//! every text reaches the page escaped.

pub mod html;
pub mod layout;
pub mod markdown;
pub mod mermaid;

use std::collections::HashMap;
use std::path::Path;

use crate::dispatch::{self, LastRun, harvest};
use crate::model::program::{Index, Task, display_path};
use crate::model::scope::CardScope;
use crate::model::views::PlanView;
use crate::model::{Program, TaskStatus};
use crate::rules::ids::phase_of;
use crate::transition::replan::{self, Decision};

/// The latest runs the page shows.
pub const RUNS_SHOWN: usize = 5;
/// The bytes of a log's end that are read, and the lines of it shown.
pub const TAIL_BYTES: u64 = 6 * 1024;
pub const TAIL_LINES: usize = 40;
/// Orch commits read back from history, newest first.
const HISTORY_LIMIT: usize = 5_000;
/// Longest evidence or reason text kept on a card.
const NOTE_CHARS: usize = 280;
/// ... and on a done task's card.
const DONE_CHARS: usize = 100;

/// A board column: a task status, with `todo` split into ready and waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    Waiting,
    Ready,
    InProgress,
    Partial,
    Failed,
    Blocked,
    Done,
    Split,
    Cancelled,
}

impl Column {
    /// Left to right: the flow of work, then the tasks that left it.
    pub const ALL: [Column; 9] = [
        Column::Waiting,
        Column::Ready,
        Column::InProgress,
        Column::Partial,
        Column::Failed,
        Column::Blocked,
        Column::Done,
        Column::Split,
        Column::Cancelled,
    ];

    pub fn of(status: TaskStatus, ready: bool) -> Column {
        match status {
            TaskStatus::Todo if ready => Column::Ready,
            TaskStatus::Todo => Column::Waiting,
            TaskStatus::InProgress => Column::InProgress,
            TaskStatus::Partial => Column::Partial,
            TaskStatus::Failed => Column::Failed,
            TaskStatus::Blocked => Column::Blocked,
            TaskStatus::Done => Column::Done,
            TaskStatus::Split => Column::Split,
            TaskStatus::Cancelled => Column::Cancelled,
        }
    }

    /// The stable key: the status, or `ready` / `waiting` for `todo`.
    pub fn key(self) -> &'static str {
        match self {
            Column::Waiting => "waiting",
            Column::Ready => "ready",
            Column::InProgress => "in_progress",
            Column::Partial => "partial",
            Column::Failed => "failed",
            Column::Blocked => "blocked",
            Column::Done => "done",
            Column::Split => "split",
            Column::Cancelled => "cancelled",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Column::Waiting => "Waiting",
            Column::Ready => "Ready",
            Column::InProgress => "In progress",
            Column::Partial => "Partial",
            Column::Failed => "Failed",
            Column::Blocked => "Blocked",
            Column::Done => "Done",
            Column::Split => "Split",
            Column::Cancelled => "Cancelled",
        }
    }

    /// What the column holds, for the page and screen readers.
    pub fn blurb(self) -> &'static str {
        match self {
            Column::Waiting => "todo, waiting on dependencies",
            Column::Ready => "todo, every dependency satisfied",
            Column::InProgress => "started or dispatched",
            Column::Partial => "partly done: split or retry",
            Column::Failed => "failed: needs its root cause",
            Column::Blocked => "set aside until something outside changes",
            Column::Done => "passed and recorded",
            Column::Split => "replaced by its children",
            Column::Cancelled => "dropped from the program",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Phase {
    pub id: String,
    pub name: String,
}

/// One task, as its card shows it.
#[derive(Clone, Debug)]
pub struct Card {
    pub id: String,
    pub status: TaskStatus,
    pub column: Column,
    pub objective: String,
    pub owner: String,
    pub group: Option<String>,
    /// The phase ID (`P1`), when the plan's Phase Tree has it.
    pub phase: Option<String>,
    /// Index into [`Board::phases`]; `phases.len()` for a task outside them.
    pub cluster: usize,
    pub has_card: bool,
    pub allowed: Vec<String>,
    pub prohibited: Vec<String>,
    pub deps: Vec<String>,
    /// Unsatisfied dependencies: (ID, its status or `unknown`).
    pub waiting: Vec<(String, String)>,
    /// Why it is where it is, in words (may hold `code spans`).
    pub note: Option<String>,
    /// The latest ledger row: (result cell, evidence).
    pub last_row: Option<(String, String)>,
    pub last_run: Option<LastRun>,
}

/// One entry of the timeline: a ledger row or a transition commit.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Unix seconds, when history tells.
    pub time: Option<i64>,
    pub tasks: Vec<String>,
    pub kind: EntryKind,
}

#[derive(Clone, Debug)]
pub enum EntryKind {
    /// A ledger row.
    Row {
        result: String,
        owner: String,
        evidence: String,
        next: String,
    },
    /// A transition commit that wrote no ledger row (start, block, split...).
    Transition {
        subject: String,
        reason: Option<String>,
    },
}

/// The end of a log, read bounded and without following links.
#[derive(Clone, Debug)]
pub struct Tail {
    pub text: String,
    /// The log's size.
    pub bytes: u64,
    /// Lines before the shown ones were left out.
    pub cut: bool,
}

/// One task of a run: harvest's verdict and the tail of its log.
#[derive(Clone, Debug)]
pub struct RunTask {
    pub verdict: harvest::Verdict,
    pub tail: Result<Tail, String>,
}

#[derive(Clone, Debug)]
pub struct Run {
    pub id: String,
    pub started: String,
    pub ended: Option<String>,
    pub interrupted: bool,
    pub jobs: usize,
    pub tasks: Vec<RunTask>,
}

/// Everything the page shows.
#[derive(Clone, Debug, Default)]
pub struct Board {
    pub title: String,
    pub plan_id: String,
    pub plan_status: String,
    /// The orchestrator folder, relative to the work tree.
    pub dir: String,
    pub generated: String,
    pub lint_errors: usize,
    pub lint_warnings: usize,
    pub phases: Vec<Phase>,
    pub cards: Vec<Card>,
    /// (dependency, dependent) as indexes into `cards`.
    pub edges: Vec<(usize, usize)>,
    /// Oldest first.
    pub timeline: Vec<Entry>,
    /// Newest first.
    pub runs: Vec<Run>,
    /// Run files that could not be read: (file, why).
    pub bad_runs: Vec<(String, String)>,
    pub decisions: Vec<Decision>,
    /// (item, risk, owner).
    pub unverified: Vec<(String, String, String)>,
    /// No git history could be read (not a repository): no dates.
    pub history_note: Option<String>,
}

fn text(s: &Option<crate::source::Spanned<crate::source::Text>>) -> String {
    s.as_ref()
        .map(|s| crate::util::one_line(s.value.trim()))
        .unwrap_or_default()
}

impl Board {
    /// The tasks, phases and dependency edges only: what `orch graph` needs.
    pub fn tasks_of(program: &Program, index: &Index) -> Board {
        let mut board = Board::default();
        if let Some(plan) = program.plan() {
            let fm = plan.front();
            let scalar = |k: &str| {
                fm.and_then(|f| f.scalar(k))
                    .map(|s| s.value.trim().to_string())
                    .unwrap_or_default()
            };
            board.title = scalar("title");
            board.plan_id = scalar("id");
            board.plan_status = scalar("status");
            board.phases = PlanView::of(plan)
                .phases
                .iter()
                .map(|p| Phase {
                    id: p.id.value.to_string(),
                    name: crate::util::one_line(&p.name),
                })
                .collect();
        }
        board.dir = display_path(&program.root, &program.dir);
        let cluster: HashMap<&str, usize> = board
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let outside = board.phases.len();
        for t in &index.tasks {
            let ready = index.is_ready(t);
            let phase = phase_of(&t.id).filter(|p| cluster.contains_key(p));
            let scope = CardScope::read(program, t);
            let globs = |v: Option<&Vec<crate::model::scope::Glob>>| -> Vec<String> {
                v.map(|v| v.iter().map(|g| g.text.value.trim().to_string()).collect())
                    .unwrap_or_default()
            };
            board.cards.push(Card {
                id: t.id.clone(),
                status: t.status,
                column: Column::of(t.status, ready),
                objective: text(&t.objective),
                owner: text(&t.skill),
                group: t.group.as_ref().map(|g| g.value.trim().to_string()),
                phase: phase.map(str::to_string),
                cluster: phase.map_or(outside, |p| cluster[p]),
                has_card: t.card.is_some(),
                allowed: globs(scope.as_ref().map(|s| &s.allowed)),
                prohibited: globs(scope.as_ref().map(|s| &s.prohibited)),
                deps: t.deps.iter().map(|d| d.value.trim().to_string()).collect(),
                waiting: index
                    .waiting_on(t)
                    .iter()
                    .map(|d| {
                        let id = d.value.trim();
                        let status = index
                            .task(id)
                            .map_or("unknown".to_string(), |t| t.status.to_string());
                        (id.to_string(), status)
                    })
                    .collect(),
                note: None,
                last_row: index
                    .last_row(t)
                    .map(|r| (text(&r.result_text), text(&r.evidence))),
                last_run: None,
            });
        }
        for (i, t) in index.tasks.iter().enumerate() {
            for d in &t.deps {
                if let Some(j) = index.position(d.value.trim())
                    && j != i
                {
                    board.edges.push((j, i));
                }
            }
        }
        board
    }

    /// Everything the page shows. Reads git history (when the folder is in
    /// a repository), the run files and their logs; never fails on them:
    /// what cannot be read is said on the page.
    pub fn gather(program: &Program) -> Board {
        let index = Index::build(program);
        let mut board = Board::tasks_of(program, &index);
        board.generated = dispatch::time::rfc3339(std::time::SystemTime::now());
        let diagnostics = crate::rules::lint(program);
        board.lint_errors = diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .count();
        board.lint_warnings = diagnostics.len() - board.lint_errors;
        crate::cli::release(diagnostics);

        let history = match crate::git::Repo::discover(&program.dir) {
            Ok(Some(repo)) => match repo.orch_commits(None, HISTORY_LIMIT) {
                Ok(commits) => commits,
                Err(e) => {
                    board.history_note = Some(format!("the git history cannot be read: {e}"));
                    Vec::new()
                }
            },
            Ok(None) => {
                board.history_note =
                    Some("not a git repository: no transitions and no dates".into());
                Vec::new()
            }
            Err(e) => {
                board.history_note = Some(format!("the git repository cannot be opened: {e}"));
                Vec::new()
            }
        };
        let last_runs = dispatch::last_runs(&program.dir);
        for (card, task) in board.cards.iter_mut().zip(&index.tasks) {
            card.last_run = last_runs.get(&card.id).cloned();
            card.note = note(program, &index, task, card, &history);
        }
        board.timeline = timeline(&index, &history);
        board.decisions = replan::decide(program, &index);
        board.unverified = index
            .unverified
            .iter()
            .map(|u| {
                (
                    crate::util::one_line(&u.item.value),
                    crate::util::one_line(&u.risk.value),
                    crate::util::one_line(&u.owner.value),
                )
            })
            .collect();
        board.read_runs(program);
        board
    }

    /// The latest runs, judged as `orch harvest` judges them.
    fn read_runs(&mut self, program: &Program) {
        let patterns = harvest::patterns(&program.config.agent.evidence).unwrap_or_default();
        let files = dispatch::run_files(&program.dir.join("runs"));
        for (id, path) in files.iter().rev().take(RUNS_SHOWN) {
            let run = match dispatch::load_facts(&program.root, &program.dir, Some(id)) {
                Ok(run) => run,
                Err(e) => {
                    self.bad_runs
                        .push((display_path(&program.root, path), e.to_string()));
                    continue;
                }
            };
            let contexts = dispatch::contexts_now(program, &run);
            let alongside = dispatch::alongside(program, &run);
            let verdicts = dispatch::judge(&program.root, &run, &contexts, &alongside, &patterns);
            let tasks = verdicts
                .into_iter()
                .map(|verdict| {
                    let tail = log_tail(&program.root, &program.dir, &verdict.log);
                    RunTask { verdict, tail }
                })
                .collect();
            self.runs.push(Run {
                id: run.run.clone(),
                started: run.started.clone(),
                ended: run.ended.clone(),
                interrupted: run.interrupted,
                jobs: run.jobs,
                tasks,
            });
        }
    }

    /// How many cards each column holds.
    pub fn count(&self, column: Column) -> usize {
        self.cards.iter().filter(|c| c.column == column).count()
    }
}

/// Why a task is where it is, in words; `None` when the card says it all.
fn note(
    program: &Program,
    index: &Index,
    task: &Task,
    card: &Card,
    history: &[crate::git::OrchCommit],
) -> Option<String> {
    let id = &task.id;
    let evidence = |max: usize| {
        card.last_row
            .as_ref()
            .filter(|(_, e)| !e.is_empty())
            .map(|(r, e)| format!("ledger: {r}: {}", crate::util::clip_chars(e, max)))
    };
    let join = |a: String, b: Option<String>| match b {
        Some(b) => format!("{a} — {b}"),
        None => a,
    };
    Some(match task.status {
        TaskStatus::Todo if card.waiting.is_empty() => {
            if task.deps.is_empty() {
                "ready: no dependencies".into()
            } else {
                "ready: every dependency is satisfied".into()
            }
        }
        // The waiting list is shown as links.
        TaskStatus::Todo => return None,
        TaskStatus::InProgress if task.card.is_none() => {
            format!("in progress without a card (`orch new card {id}`)")
        }
        TaskStatus::InProgress => match card.last_run.as_ref() {
            Some(run) => run
                .advice(id)
                .unwrap_or_else(|| format!("dispatched in run {}", run.run)),
            None => "started by hand; no dispatch run yet".into(),
        },
        TaskStatus::Partial => join(
            format!(
                "needs a split (`orch split {id} --into \"<first part>\" --into \"<second part>\"`) or a retry"
            ),
            evidence(NOTE_CHARS),
        ),
        TaskStatus::Failed => join("needs its root cause found".into(), evidence(NOTE_CHARS)),
        TaskStatus::Blocked | TaskStatus::Cancelled => {
            let word = task.status.as_str();
            let reason = reason_from_history(history, id, word)
                .or_else(|| reason_from_ticket(program, task, word));
            match reason {
                Some(r) => format!("{word}: {}", crate::util::clip_chars(&r, NOTE_CHARS)),
                None if task.status == TaskStatus::Blocked => format!(
                    "blocked; no reason recorded (`orch unblock {id} --reason \"<why>\"` when it can go on)"
                ),
                None => "cancelled; no reason recorded".into(),
            }
        }
        TaskStatus::Done => return evidence(DONE_CHARS),
        TaskStatus::Split => {
            let children: Vec<&str> = index.children(id).map(|c| c.id.as_str()).collect();
            if children.is_empty() {
                "split, but no child task is in the backlog".into()
            } else {
                format!("split into {}", children.join(", "))
            }
        }
    })
}

/// The `Orch-Reason` of the newest commit that moved `id` to `word`.
fn reason_from_history(history: &[crate::git::OrchCommit], id: &str, word: &str) -> Option<String> {
    history
        .iter()
        .filter(|c| {
            c.subject
                .rsplit_once("-> ")
                .is_some_and(|(_, to)| to.trim() == word)
                && c.trailers
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("Orch-Task") && v.trim() == id)
        })
        .find_map(|c| c.trailer("Orch-Reason"))
        .map(crate::util::one_line)
}

/// A paragraph of the ticket starting `Blocked:` (or `Cancelled:`), as a
/// lead writes it by hand.
fn reason_from_ticket(program: &Program, task: &Task, word: &str) -> Option<String> {
    let doc = &program.docs[task.ticket?];
    let text = &program.file(doc.file).text;
    let mut lines = text.lines().skip_while(|l| {
        let l = l.trim_start();
        !(l.len() > word.len()
            && l[..word.len()].eq_ignore_ascii_case(word)
            && l[word.len()..].starts_with(':'))
    });
    let first = lines.next()?.trim_start()[word.len() + 1..].to_string();
    let rest = lines.take_while(|l| !l.trim().is_empty());
    let para: Vec<String> = std::iter::once(first)
        .chain(rest.map(str::to_string))
        .collect();
    let para = crate::util::one_line(&para.join(" "));
    (!para.is_empty()).then_some(para)
}

/// The ledger rows and the transitions, oldest first. A row is dated by the
/// `orch record` commit that wrote it (matched from the newest, per task,
/// by result); rows written by hand stay undated, first, in ledger order.
fn timeline(index: &Index, history: &[crate::git::OrchCommit]) -> Vec<Entry> {
    let tasks_of = |c: &crate::git::OrchCommit| -> Vec<String> {
        c.trailers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("Orch-Task"))
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    // Record commits per task, newest first (history is newest first).
    let mut records: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    let mut entries = Vec::new();
    for c in history {
        match c.trailer("Orch-Result") {
            Some(result) => {
                for t in tasks_of(c) {
                    records
                        .entry(t)
                        .or_default()
                        .push((c.time, result.trim().to_ascii_lowercase()));
                }
            }
            None => entries.push(Entry {
                time: Some(c.time),
                tasks: tasks_of(c),
                kind: EntryKind::Transition {
                    subject: crate::util::one_line(&c.subject),
                    reason: c.trailer("Orch-Reason").map(crate::util::one_line),
                },
            }),
        }
    }
    // Match each task's rows from its newest one.
    let mut time_of_row: Vec<Option<i64>> = vec![None; index.ledger.len()];
    for t in &index.tasks {
        let Some(recs) = records.get(&t.id) else {
            continue;
        };
        for (&row, (time, result)) in t.rows.iter().rev().zip(recs) {
            let r = &index.ledger[row];
            if r.result.map(|o| o.as_str()) != Some(result.as_str()) {
                break;
            }
            time_of_row[row] = Some(*time);
        }
    }
    for (i, r) in index.ledger.iter().enumerate() {
        entries.push(Entry {
            time: time_of_row[i],
            tasks: vec![r.task.value.to_string()],
            kind: EntryKind::Row {
                result: text(&r.result_text),
                owner: text(&r.skill),
                evidence: text(&r.evidence),
                next: text(&r.next),
            },
        });
    }
    // Undated first (ledger order), then by time; the sort is stable, so a
    // dated row keeps its ledger order against a transition of the same
    // second only when it came first.
    entries.sort_by_key(|e| e.time.map_or((0, 0), |t| (1, t)));
    entries
}

/// The end of a run's log. The path comes from a run file, which is
/// untrusted: it must lie in the orchestrator folder's `logs/`, be a
/// regular file reached without a symbolic link, and only its last
/// [`TAIL_BYTES`] are read.
pub fn log_tail(root: &Path, dir: &Path, log: &str) -> Result<Tail, String> {
    use std::io::{Read, Seek, SeekFrom};
    let path = crate::fsx::inside(root, log).map_err(|e| e.to_string())?;
    let logs = dir.join("logs");
    if path.parent() != Some(logs.as_path()) {
        return Err(format!(
            "`{}` is not a file of {}",
            crate::util::one_line(log),
            display_path(root, &logs)
        ));
    }
    let mut file =
        crate::fsx::open_inside(crate::fsx::base_for(root, dir), &path).map_err(|e| match e {
            crate::fsx::Refused::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
                "no log (it was removed, or never written)".to_string()
            }
            e => format!("the log {e}"),
        })?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let start = size.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity((size - start) as usize);
    file.take(TAIL_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    // A partial first line when the read started mid-file.
    let mut cut = start > 0;
    if cut && !lines.is_empty() {
        lines.remove(0);
    }
    if lines.len() > TAIL_LINES {
        lines.drain(..lines.len() - TAIL_LINES);
        cut = true;
    }
    Ok(Tail {
        text: lines.join("\n"),
        bytes: size,
        cut,
    })
}
