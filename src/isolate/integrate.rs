//! `orch integrate`: bring passing tasks' branches into the current branch,
//! one commit per task, in dependency and sheet order.
//!
//! 1. An integration an earlier `orch integrate` was killed in is finished
//!    first ([`Repo::resume_advance`]).
//! 2. The candidates: tasks with a branch (`orch/<ID>`) not yet integrated
//!    (no commit reachable from HEAD carries its tip in `Orch-Tip:`),
//!    `done` (or `partial` with `--include-partial`), whose changes
//!    base..tip lie in their effective scope (else they count as partial),
//!    and whose dependencies are integrated or come along.
//! 3. Every merge is computed before anything is written: a three-way tree
//!    merge of base..tip into the tree so far (HEAD, then each task before
//!    it), so HEAD may have moved since the dispatch. A conflict anywhere
//!    refuses the whole integration, naming the paths and the tasks.
//! 4. The user's uncommitted work in those paths refuses it too.
//! 5. `--check`: in a scratch worktree, after each task's merge, the card's
//!    Tests/checks run (`sh -c`); the first failure stops the train there.
//! 6. One commit per task that passed: the merged tree plus a ledger row
//!    saying what was integrated (and which checks passed), trailers
//!    `Orch-Task`, `Orch-Run`, `Orch-Result`, `Orch-Branch`, `Orch-Tip`,
//!    `Orch-Base`. HEAD moves to the last one, updating exactly the files
//!    and index entries that changed ([`Repo::advance`]).
//! 7. The integrated tasks' claims are released (`crate::claims`), and
//!    their worktrees and branches removed (unless `--keep`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::{Merged, Oid, Repo, Resumed};
use crate::model::program::{Index, Task, display_path, effective_scope};
use crate::model::{Outcome, Program, TaskStatus};
use crate::transition::{LedgerCells, LedgerText, Session};

use super::env::{self, Ran};
use super::unit::changed_paths;
use super::{BASE, BRANCH, RUN, SCRATCH, Settings, TASK, TIP, clean, short, worktrees_dir};

/// How to integrate.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Run each card's checks after its merge, in a scratch worktree.
    pub check: bool,
    /// Integrate `partial` tasks too.
    pub include_partial: bool,
    /// Leave the integrated tasks' worktrees and branches.
    pub keep: bool,
    /// Kill a check after this long.
    pub timeout: Option<Duration>,
}

/// What a task's branch says about itself.
#[derive(Clone, Debug)]
pub struct BranchRecord {
    pub task: String,
    pub tip: Oid,
    /// The commit the branch started from: the seal's `Orch-Base:`, else
    /// the merge-base with HEAD (a branch made by hand).
    pub base: Oid,
    /// The run that sealed it (`Orch-Run:`).
    pub run: Option<String>,
    /// A seal was found (the branch was made by an isolated run).
    pub sealed: bool,
    /// Subjects of the branch's commits since the base, newest first
    /// (first parents, at most 50).
    pub subjects: Vec<String>,
}

/// Read what `task`'s branch at `tip` says: its latest seal, else the
/// merge-base with HEAD.
pub fn read_branch(repo: &Repo, task: &str, tip: Oid) -> Result<BranchRecord> {
    let chain = repo.first_parents(tip, None, 2_000)?;
    let seal = chain
        .iter()
        .find(|c| c.trailer(TASK).is_some_and(|t| t == task) && c.trailer(BASE).is_some());
    let (base, run, sealed) = match seal.and_then(|s| {
        let base = Oid::from_hex(s.trailer(BASE)?.as_bytes()).ok()?;
        Some((base, s.trailer(RUN).map(str::to_string)))
    }) {
        Some((base, run)) => (base, run, true),
        None => (repo.merge_base("HEAD", &tip.to_string())?, None, false),
    };
    let subjects = chain
        .iter()
        .take_while(|c| c.id != base)
        .take(50)
        .map(|c| c.subject.clone())
        .collect();
    Ok(BranchRecord {
        task: task.to_string(),
        tip,
        base,
        run,
        sealed,
        subjects,
    })
}

/// The (task, tip) pairs integrated into HEAD, read from the `Orch-Tip:`
/// trailers of its history (walked back to a day before the oldest base
/// among `bases`; the whole history when there is none).
pub fn integrated(repo: &Repo, bases: &[Oid]) -> Result<HashSet<(String, Oid)>> {
    let mut since: Option<i64> = None;
    for b in bases {
        let t = repo.commit_info(*b)?.time - 86_400;
        since = Some(since.map_or(t, |s: i64| s.min(t)));
    }
    if bases.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(repo.integrations(since)?.into_iter().collect())
}

/// A check run after a task's merge.
#[derive(Clone, Debug, Serialize)]
pub struct CheckRun {
    pub check: String,
    pub exit: i32,
    pub outcome: String,
    pub log: String,
}

/// One task brought in.
#[derive(Clone, Debug, Serialize)]
pub struct Integrated {
    pub task: String,
    pub branch: String,
    pub tip: String,
    pub base: String,
    pub run: Option<String>,
    pub result: Outcome,
    /// The integration commit.
    pub commit: String,
    /// Paths its branch changed since its base.
    pub files: usize,
    pub checks: Vec<CheckRun>,
}

/// Where `--check` stopped the train.
#[derive(Clone, Debug, Serialize)]
pub struct Stopped {
    pub task: String,
    pub check: String,
    pub outcome: String,
    pub log: String,
    /// The tasks after it, not integrated.
    pub not_integrated: Vec<String>,
}

/// What `orch integrate` did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// The branch integrated into (`None`: a detached HEAD).
    pub into: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub integrated: Vec<Integrated>,
    /// Tasks left out, and why.
    pub skipped: Vec<(String, String)>,
    pub stopped: Option<Stopped>,
    /// Worktrees and branches removed afterwards, and the bytes freed.
    pub cleaned: Vec<String>,
    pub freed: u64,
    /// An interrupted integration that was finished first, described.
    pub resumed: Option<String>,
    pub notes: Vec<String>,
}

/// A task cleared for the train.
struct Candidate<'p> {
    task: &'p Task,
    record: BranchRecord,
    branch: String,
    result: Outcome,
    files: usize,
    paths: Vec<String>,
    checks: Vec<String>,
}

/// Run `orch integrate` under `session` (which holds the orch lock).
pub fn integrate(
    session: &Session,
    settings: &Settings,
    targets: &[String],
    options: Options,
    stop: &AtomicBool,
) -> Result<Report> {
    let repo = session.repo().ok_or_else(|| {
        Error::with_help(
            "orch integrate needs a git repository",
            "run it inside the clone the tasks were dispatched in",
        )
    })?;
    let mut report = Report::default();
    if let Some(done) = repo.resume_advance("orch integrate: finish an interrupted integration")? {
        report.resumed = Some(match done {
            Resumed::Finished { from, to } => format!(
                "an interrupted integration was finished: HEAD moved from {} to {}",
                short(from),
                short(to)
            ),
            Resumed::Abandoned { from, to, .. } => format!(
                "an interrupted integration ({} to {}) was dropped: HEAD had moved since; nothing was written",
                short(from),
                short(to)
            ),
        });
    }
    let program = session.load()?;
    let index = Index::build(&program);
    let (head, into) = repo.head_state()?;
    let head = head.ok_or_else(|| {
        Error::with_help(
            "HEAD has no commit yet: there is nothing to integrate into",
            "make a first commit",
        )
    })?;
    report.into = into.clone();
    report.from = Some(head.to_string());

    let (selected, explicit) = select(&program, &index, settings, repo, targets)?;
    let tips: BTreeMap<String, Oid> = repo
        .branches(&settings.prefix)?
        .into_iter()
        .filter_map(|(b, tip)| settings.task_of(&b).map(|t| (t.to_string(), tip)))
        .collect();
    let mut records: HashMap<String, BranchRecord> = HashMap::new();
    for id in &selected {
        if let Some(tip) = tips.get(id) {
            records.insert(id.clone(), read_branch(repo, id, *tip)?);
        }
    }
    // Dependencies' branches matter too (are they integrated?).
    for t in &index.tasks {
        if !records.contains_key(&t.id)
            && let Some(tip) = tips.get(&t.id)
        {
            records.insert(t.id.clone(), read_branch(repo, &t.id, *tip)?);
        }
    }
    let bases: Vec<Oid> = records.values().map(|r| r.base).collect();
    let done = integrated(repo, &bases)?;
    let pending = |id: &str| -> bool {
        records
            .get(id)
            .is_some_and(|r| !done.contains(&(id.to_string(), r.tip)))
    };

    // One merger for every diff and merge below (one object cache, one
    // diff and merge platform: each costs a pass over the index).
    let merger = repo.merger()?;
    // Clear each selected task, or say why not.
    let mut refusals: Vec<String> = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for id in &selected {
        let named = explicit.contains(id);
        let Some(task) = index.task(id) else { continue };
        let Some(record) = records.get(id).cloned() else {
            let why = format!("no branch `{}`", settings.branch(id));
            if named {
                refusals.push(format!("`{id}` has {why} to integrate"));
            } else {
                report.skipped.push((id.clone(), why));
            }
            continue;
        };
        if done.contains(&(id.clone(), record.tip)) {
            report
                .skipped
                .push((id.clone(), "already integrated".to_string()));
            continue;
        }
        match clear(&program, task, &record, settings, &merger, options) {
            Ok(c) => candidates.push(c),
            Err(why) => {
                if named {
                    refusals.push(format!("`{id}` {why}"));
                } else {
                    report.skipped.push((id.clone(), why));
                }
            }
        }
    }
    // Dependencies: integrated, or in this train (to a fixed point, as a
    // task left out leaves out its dependents).
    loop {
        let in_train: HashSet<String> = candidates.iter().map(|c| c.task.id.clone()).collect();
        let mut dropped = None;
        for (i, c) in candidates.iter().enumerate() {
            let waiting: Vec<String> = c
                .task
                .deps
                .iter()
                .map(|d| d.value.trim().to_string())
                .filter(|d| pending(d) && !in_train.contains(d))
                .collect();
            if !waiting.is_empty() {
                let why = format!(
                    "waits on {}, whose work is not integrated (integrate them together: `orch integrate {} {}`)",
                    waiting
                        .iter()
                        .map(|d| format!("`{d}` (branch `{}`)", settings.branch(d)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    waiting.join(" "),
                    c.task.id
                );
                dropped = Some((i, why));
                break;
            }
        }
        let Some((i, why)) = dropped else { break };
        let c = candidates.remove(i);
        if explicit.contains(&c.task.id) {
            refusals.push(format!("`{}` {why}", c.task.id));
        } else {
            report.skipped.push((c.task.id.clone(), why));
        }
    }
    if !refusals.is_empty() {
        return Err(Error::with_help(
            format!(
                "refusing to integrate; nothing was changed:\n  - {}",
                refusals.join("\n  - ")
            ),
            "`orch status` shows each task's branch; `orch harvest RUN --record` records a run's results",
        ));
    }
    order(&mut candidates, &index);
    if candidates.is_empty() {
        report.to = report.from.clone();
        return Ok(report);
    }

    // Every merge, before anything is written.
    let head_tree = repo.tree_of_commit(head)?;
    let mut ours = head_tree;
    let mut trees: Vec<Oid> = Vec::new();
    let mut conflicts: Vec<String> = Vec::new();
    for (k, c) in candidates.iter().enumerate() {
        let base_tree = repo.tree_of_commit(c.record.base)?;
        let theirs = repo.tree_of_commit(c.record.tip)?;
        match merger.merge(base_tree, ours, theirs, ("HEAD", &c.branch))? {
            Merged::Clean(t) => {
                ours = t;
                trees.push(t);
            }
            Merged::Conflicts(paths) => {
                let earlier: Vec<String> = candidates[..k]
                    .iter()
                    .filter(|e| e.paths.iter().any(|p| paths.contains(p)))
                    .map(|e| format!("`{}`", e.task.id))
                    .collect();
                let with = if earlier.is_empty() {
                    format!(
                        "with changes made on {} since its base {}",
                        into.as_deref().unwrap_or("HEAD"),
                        short(c.record.base)
                    )
                } else {
                    format!("with {}, before it in this integration", earlier.join(", "))
                };
                conflicts.push(format!(
                    "`{}` (branch `{}`) conflicts {with} in {}",
                    c.task.id,
                    c.branch,
                    paths
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                trees.push(ours);
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(Error::with_help(
            format!(
                "refusing to integrate; nothing was changed:\n  - {}",
                conflicts.join("\n  - ")
            ),
            "integrate the others without it (name them: `orch integrate <ID> <ID>`), or merge its branch by hand (`git merge BRANCH`) and resolve the conflict",
        ));
    }
    // The user's uncommitted work.
    let overall = repo.tree_changes(head_tree, ours)?;
    let touched = repo.touched(&overall, false)?;
    if !touched.is_empty() {
        return Err(Error::with_help(
            format!(
                "refusing to integrate; nothing was changed: uncommitted changes in {} would be overwritten",
                touched
                    .iter()
                    .take(10)
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "commit or stash them first (git stash -u), then run `orch integrate` again",
        ));
    }

    // The train's checks.
    let dir_rel = display_path(&session.root, &session.dir);
    let mut passed = candidates.len();
    let mut check_runs: Vec<Vec<CheckRun>> = vec![Vec::new(); candidates.len()];
    if options.check {
        let (n, stopped) = run_checks(
            repo,
            settings,
            session,
            &dir_rel,
            head,
            &candidates,
            &trees,
            options,
            stop,
            &mut check_runs,
            &mut report.notes,
        )?;
        passed = n;
        report.stopped = stopped;
    }
    if passed == 0 {
        report.to = report.from.clone();
        return Ok(report);
    }

    // The commits: each merged tree with the ledger rows so far.
    let ledger = program
        .ledger()
        .map(|doc| program.file(doc.file).path.clone());
    if ledger.is_none() {
        report
            .notes
            .push("the program has no Evidence Ledger: no rows were added".into());
    }
    let mut parent = head;
    let mut rows: Vec<LedgerCells> = Vec::new();
    let mut parsed: Option<LedgerText> = None;
    let mut made = Vec::new();
    for (k, c) in candidates.iter().take(passed).enumerate() {
        let evidence = evidence(c, into.as_deref(), &check_runs[k]);
        rows.push(LedgerCells {
            task: c.task.id.clone(),
            skill: c
                .task
                .skill
                .as_ref()
                .map(|s| s.value.trim().to_string())
                .unwrap_or_default(),
            evidence,
            result: c.result,
            next: "-".into(),
        });
        let mut tree = trees[k];
        if let Some(path) = &ledger
            && let Some(bytes) = repo.file_in_tree(tree, path)?
        {
            // The merged tree holds the ledger as before this train (or as
            // a branch changed it): every row so far goes after its table.
            // Parsed once while it stays the same.
            let text = String::from_utf8_lossy(&bytes);
            let ledger_text = match parsed.take() {
                Some(p) if p.text() == text => p,
                _ => LedgerText::parse(&text)?,
            };
            let new = ledger_text.with_rows(&rows)?;
            parsed = Some(ledger_text);
            tree = repo.tree_with_file(tree, path, new.as_bytes())?;
        }
        let commit = repo.write_commit(tree, &[parent], &message(c, into.as_deref()))?;
        made.push(Integrated {
            task: c.task.id.clone(),
            branch: c.branch.clone(),
            tip: c.record.tip.to_string(),
            base: c.record.base.to_string(),
            run: c.record.run.clone(),
            result: c.result,
            commit: commit.to_string(),
            files: c.files,
            checks: check_runs[k].clone(),
        });
        parent = commit;
    }
    let names: Vec<&str> = made.iter().map(|m| m.task.as_str()).collect();
    repo.advance(
        head,
        parent,
        &format!("orch integrate: {}", names.join(", ")),
    )?;
    report.to = Some(parent.to_string());
    // Integrated: their claims are let go (a problem is a warning).
    let ids: Vec<String> = made.iter().map(|m| m.task.clone()).collect();
    session.unclaim(&program, &ids, "integrated");

    if !options.keep {
        for (m, c) in made.iter().zip(&candidates) {
            match clean::remove_task(repo, settings, &m.task, c.record.tip) {
                Ok(bytes) => {
                    report.freed += bytes;
                    report.cleaned.push(m.task.clone());
                }
                Err(e) => report.notes.push(format!(
                    "`{}` was integrated, but its worktree or branch could not be removed: {e} (`orch clean` retries)",
                    m.task
                )),
            }
        }
    }
    report.integrated = made;
    Ok(report)
}

/// The tasks the arguments name (task IDs, run ids, or every task with a
/// branch), in no particular order, and those named explicitly.
fn select(
    program: &Program,
    index: &Index,
    settings: &Settings,
    repo: &Repo,
    targets: &[String],
) -> Result<(Vec<String>, HashSet<String>)> {
    let mut selected: Vec<String> = Vec::new();
    let mut explicit = HashSet::new();
    if targets.is_empty() {
        for (branch, _) in repo.branches(&settings.prefix)? {
            if let Some(id) = settings.task_of(&branch)
                && index.task(id).is_some()
            {
                selected.push(id.to_string());
            }
        }
        return Ok((selected, explicit));
    }
    for t in targets {
        let t = t.trim();
        if let Some(task) = index.task(t) {
            explicit.insert(task.id.clone());
            selected.push(task.id.clone());
            continue;
        }
        match crate::dispatch::load_facts(&program.root, &program.dir, Some(t)) {
            Ok(run) => selected.extend(run.tasks.iter().map(|f| f.task.clone())),
            Err(_) => {
                let near = crate::util::nearest(t, index.tasks.iter().map(|x| x.id.as_str()));
                return Err(Error::with_help(
                    format!("`{t}` is neither a task nor a dispatch run"),
                    format!(
                        "name task IDs from the backlog or a run id from {}/runs{}",
                        display_path(&program.root, &program.dir),
                        crate::util::did_you_mean(near)
                    ),
                ));
            }
        }
    }
    selected.sort_by_key(|id| index.position(id));
    selected.dedup();
    Ok((selected, explicit))
}

/// Whether one task may be integrated: its status, its changes within its
/// scope. `Err` says why not.
fn clear<'p>(
    program: &Program,
    task: &'p Task,
    record: &BranchRecord,
    settings: &Settings,
    merger: &crate::git::Merger,
    options: Options,
) -> std::result::Result<Candidate<'p>, String> {
    let run_hint = record
        .run
        .as_deref()
        .map_or("RUN".to_string(), |r| r.to_string());
    let result = match task.status {
        TaskStatus::Done => Outcome::Pass,
        TaskStatus::Partial if options.include_partial => Outcome::Partial,
        TaskStatus::Partial => {
            return Err("is `partial` (`--include-partial` integrates it)".to_string());
        }
        TaskStatus::InProgress => {
            return Err(format!(
                "is `in_progress`: no result is recorded yet (`orch harvest {run_hint} --record`)"
            ));
        }
        other => return Err(format!("is `{other}`: only done tasks are integrated")),
    };
    let changes = merger
        .changes(record.base, record.tip)
        .map_err(|e| e.to_string())?;
    if changes.is_empty() {
        return Err("has nothing to integrate: its branch changes nothing since its base".into());
    }
    let paths = changed_paths(&changes);
    let scope =
        effective_scope(program, task).map_err(|e| format!("has a scope orch cannot read: {e}"))?;
    let outside: Vec<&String> = paths.iter().filter(|p| !scope.is_match(p)).collect();
    let mut result = result;
    if !outside.is_empty() {
        if !options.include_partial {
            return Err(format!(
                "changes {} outside its scope, so it counts as partial (`--include-partial` integrates it)",
                outside
                    .iter()
                    .take(5)
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        result = Outcome::Partial;
    }
    let checks = crate::agent::brief(program, task)
        .map(|b| b.1)
        .unwrap_or_default();
    Ok(Candidate {
        task,
        record: record.clone(),
        branch: settings.branch(&task.id),
        result,
        files: changes.len(),
        paths,
        checks,
    })
}

/// Dependencies first; otherwise by group (G1 before G2, natural order;
/// none last), then backlog order.
fn order(candidates: &mut Vec<Candidate>, index: &Index) {
    let key = |c: &Candidate| {
        let group = c
            .task
            .group
            .as_ref()
            .map(|g| natural(g.value.trim()))
            .unwrap_or((1, u64::MAX, String::new()));
        (group, index.position(&c.task.id).unwrap_or(usize::MAX))
    };
    candidates.sort_by_key(key);
    let mut out: Vec<Candidate> = Vec::new();
    while !candidates.is_empty() {
        let ids: HashSet<String> = candidates.iter().map(|c| c.task.id.clone()).collect();
        let pick = candidates
            .iter()
            .position(|c| {
                !c.task
                    .deps
                    .iter()
                    .any(|d| ids.contains(d.value.trim()) && d.value.trim() != c.task.id)
            })
            .unwrap_or(0);
        out.push(candidates.remove(pick));
    }
    *candidates = out;
}

/// `G10` after `G2`: (0, number, name) for a name ending in digits.
fn natural(name: &str) -> (u8, u64, String) {
    let digits: String = name
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let stem = name[..name.len() - digits.len()].to_string();
    (0, digits.parse().unwrap_or(0), stem)
}

fn evidence(c: &Candidate, into: Option<&str>, checks: &[CheckRun]) -> String {
    let mut text = format!(
        "integrated `{}` (tip {}{}) into {}: {} file(s)",
        c.branch,
        short(c.record.tip),
        c.record
            .run
            .as_deref()
            .map(|r| format!(", run {r}"))
            .unwrap_or_default(),
        into.unwrap_or("HEAD"),
        c.files
    );
    if !checks.is_empty() {
        let list: Vec<String> = checks
            .iter()
            .map(|r| format!("`{}` {}", r.check, r.outcome))
            .collect();
        text.push_str(&format!("; checks after the merge: {}", list.join(", ")));
    }
    text
}

fn message(c: &Candidate, into: Option<&str>) -> String {
    let mut m = format!(
        "orch({}): integrate {}\n\n{} file(s) changed on `{}` since its base {}{}, merged into {}.",
        c.task.id,
        c.branch,
        c.files,
        c.branch,
        short(c.record.base),
        c.record
            .run
            .as_deref()
            .map(|r| format!(" (dispatch run {r})"))
            .unwrap_or_default(),
        into.unwrap_or("HEAD"),
    );
    if !c.record.subjects.is_empty() {
        m.push_str(" Its commits:\n");
        for s in &c.record.subjects {
            m.push_str(&format!("- {}\n", crate::util::one_line(s)));
        }
    } else {
        m.push('\n');
    }
    m.push_str(&format!("\n{TASK}: {}\n", c.task.id));
    if let Some(r) = &c.record.run {
        m.push_str(&format!("{RUN}: {r}\n"));
    }
    m.push_str(&format!(
        "Orch-Result: {}\n{BRANCH}: {}\n{TIP}: {}\n{BASE}: {}\n",
        c.result, c.branch, c.record.tip, c.record.base
    ));
    m
}

/// The `--check` train: a scratch worktree at HEAD, advanced through each
/// task's merge, the card's checks run after each; returns how many tasks
/// passed (a prefix) and where it stopped.
#[allow(clippy::too_many_arguments)]
fn run_checks(
    repo: &Repo,
    settings: &Settings,
    session: &Session,
    dir_rel: &str,
    head: Oid,
    candidates: &[Candidate],
    trees: &[Oid],
    options: Options,
    stop: &AtomicBool,
    runs: &mut [Vec<CheckRun>],
    notes: &mut Vec<String>,
) -> Result<(usize, Option<Stopped>)> {
    let scratch = worktrees_dir(repo).join(SCRATCH);
    clean::remove_scratch(repo)?;
    if let Some(parent) = scratch.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    repo.add_detached_worktree(&scratch, head, stop)?;
    let result = (|| -> Result<(usize, Option<Stopped>)> {
        notes.extend(env::provide(&session.root, &scratch, settings));
        let wt = Repo::open_worktree(&scratch)?;
        let logs = session.dir.join("logs");
        let base_env = vec![("ORCH_BASE".to_string(), head.to_string())];
        if let Some(ran) = env::setup(
            settings,
            &scratch,
            &base_env,
            &logs.join("integrate.setup.log"),
            stop,
        ) && !ran.ok()
        {
            return Err(Error::with_help(
                format!(
                    "the setup command failed in the scratch worktree ({}); nothing was integrated",
                    ran.describe()
                ),
                format!("see {dir_rel}/logs/integrate.setup.log"),
            ));
        }
        let mut at = head;
        for (k, c) in candidates.iter().enumerate() {
            let commit = wt.write_commit(
                trees[k],
                &[at],
                &format!("integrate --check: {}\n", c.task.id),
            )?;
            wt.advance(at, commit, &format!("integrate --check: {}", c.task.id))?;
            at = commit;
            for (n, check) in c.checks.iter().enumerate() {
                let log_name = format!("{}.integrate-check-{}.log", c.task.id, n + 1);
                let log_rel = format!("{dir_rel}/logs/{log_name}");
                let mut env = vec![
                    ("ORCH_TASK".to_string(), c.task.id.clone()),
                    ("ORCH_BASE".to_string(), head.to_string()),
                ];
                if let Some(r) = &c.record.run {
                    env.push(("ORCH_RUN".to_string(), r.clone()));
                }
                let ran: Ran = env::run(
                    &["sh".to_string(), "-c".to_string(), check.clone()],
                    &scratch,
                    &env,
                    &logs.join(&log_name),
                    options.timeout,
                    stop,
                );
                let outcome = ran.describe();
                runs[k].push(CheckRun {
                    check: check.clone(),
                    exit: ran.code,
                    outcome: outcome.clone(),
                    log: log_rel.clone(),
                });
                if !ran.ok() || stop.load(Ordering::SeqCst) {
                    return Ok((
                        k,
                        Some(Stopped {
                            task: c.task.id.clone(),
                            check: check.clone(),
                            outcome,
                            log: log_rel,
                            not_integrated: candidates[k..]
                                .iter()
                                .map(|c| c.task.id.clone())
                                .collect(),
                        }),
                    ));
                }
            }
            if c.checks.is_empty() {
                notes.push(format!(
                    "`{}` has no Tests/checks to run on its card: nothing was checked after its merge",
                    c.task.id
                ));
            }
        }
        Ok((candidates.len(), None))
    })();
    if let Err(e) = clean::remove_scratch(repo) {
        notes.push(format!(
            "the scratch worktree {} could not be removed: {e} (`orch clean` retries)",
            scratch.display()
        ));
    }
    result
}
