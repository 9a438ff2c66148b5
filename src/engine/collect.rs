//! `orch harvest --from-branches RUN`: a run whose tasks ran elsewhere
//! (`orch run-task` on other machines), put back together from what came
//! back: each task's branch `orch/<ID>` (fetched from a remote when one is
//! named) and its facts `runs/<RUN>/<ID>.json` (with its log and completion
//! report beside them). The result is the run file `runs/<RUN>.json`, which
//! harvest then judges exactly as a local isolated run.
//!
//! Nothing that came back is trusted for what git can say: a task's
//! changes are computed here, base..tip of the branch as it is now; the
//! base is the seal's `Orch-Base:` and must be an ancestor of the tip; a
//! facts file whose tip differs from the branch says so in the verdict. A
//! task the run marked but whose facts never came back is judged as one
//! that did not run; a task whose branch never came back has no changes
//! to judge, and cannot pass.

use std::path::Path;

use crate::dispatch::harvest::{BranchFacts, RunFile, State, TaskFacts};
use crate::error::{Error, Result};
use crate::git::{Oid, Repo};
use crate::model::Program;
use crate::model::program::{Index, display_path};

/// Most commits walked back from HEAD for the commit that marked the run.
const MAX_WALK: usize = 20_000;

/// What collecting found, besides the run file.
#[derive(Debug, Default)]
pub struct Collected {
    /// Branches fetched from the remote (created or already equal here).
    pub fetched: Vec<String>,
    /// What the reader should know (a branch missing, a facts file that
    /// does not match its branch).
    pub notes: Vec<String>,
}

/// The tasks the run marked `in_progress`, from the marking commit's
/// trailers (`Orch-Run: RUN`, `Orch-Task: ID` ...).
fn marked(repo: &Repo, run: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    repo.each_orch_commit(MAX_WALK, |c| {
        let this = c
            .trailers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("Orch-Run") && v.trim() == run);
        if this && c.subject.ends_with("-> in_progress") {
            ids = c
                .trailers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("Orch-Task"))
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| crate::util::is_valid_id(v))
                .collect();
            return false;
        }
        true
    })?;
    Ok(ids)
}

/// The facts files in `runs/<RUN>/`: `<ID>.json` for a valid task ID.
fn part_ids(dir: &Path, run: &str) -> Vec<String> {
    let folder = dir.join("runs").join(run);
    if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
        return Vec::new();
    }
    let mut ids: Vec<String> = std::fs::read_dir(&folder)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let id = name.strip_suffix(".json")?;
                    (crate::util::is_valid_id(id) && !id.ends_with(".schema"))
                        .then(|| id.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Put the run together and write `runs/<RUN>.json`. `remote`: fetch each
/// task's branch from it first.
pub fn collect(program: &Program, run: &str, remote: Option<&str>) -> Result<(RunFile, Collected)> {
    let (root, dir) = (&program.root, &program.dir);
    if let Some(r) = remote
        && (r.is_empty() || r.starts_with('-') || r.chars().any(char::is_control))
    {
        return Err(Error::usage(format!("`{r}` is not a remote name")));
    }
    let repo = Repo::discover(root)?.ok_or_else(|| {
        Error::with_help(
            "`--from-branches` reads the tasks' branches: this is not a git repository",
            "run it in a clone of the repository the tasks pushed to",
        )
    })?;
    let iso = crate::isolate::Settings::of(&program.config)?;
    let index = Index::build(program);
    let dir_rel = display_path(root, dir);
    let mut ids = marked(&repo, run)?;
    for id in part_ids(dir, run) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(Error::with_help(
            format!(
                "no task of run `{run}`: no commit reachable from HEAD marked it, and no facts are in {dir_rel}/runs/{run}/"
            ),
            "run it where the run's marking commit is (the run branch `orch-run/<RUN>`), with the tasks' run files downloaded into the orchestrator folder",
        ));
    }
    ids.sort_by_key(|id| index.position(id));
    let mut collected = Collected::default();
    let mut tasks = Vec::new();
    for id in &ids {
        let branch = iso.branch(id);
        if let Some(remote) = remote {
            match repo.fetch_one(
                remote,
                &format!("refs/heads/{branch}"),
                crate::git::REMOTE_TIMEOUT * 5,
            ) {
                Ok(Some(tip)) => match repo.branch_tip(&branch)? {
                    None => {
                        repo.create_branch(
                            &branch,
                            tip,
                            &format!("branch: fetched from {remote} for run {run}"),
                        )?;
                        collected.fetched.push(branch.clone());
                    }
                    Some(here) if here == tip => collected.fetched.push(branch.clone()),
                    Some(here) => collected.notes.push(format!(
                        "`{branch}` here ({}) is not {remote}'s ({}): judged as it is here",
                        crate::isolate::short(here),
                        crate::isolate::short(tip)
                    )),
                },
                Ok(None) => {}
                Err(e) => collected
                    .notes
                    .push(format!("cannot fetch `{branch}` from {remote}: {e}")),
            }
        }
        let mut facts = read_part(dir, &dir_rel, run, id).unwrap_or_else(|why| {
            collected.notes.push(format!("{id}: {why}"));
            missing(&dir_rel, id)
        });
        facts.task = id.clone();
        check_branch(&repo, &branch, id, &mut facts)?;
        tasks.push(facts);
    }
    let started = tasks
        .iter()
        .filter_map(|t| t.started.clone())
        .min()
        .unwrap_or_else(|| crate::dispatch::time::rfc3339(std::time::SystemTime::now()));
    let ended = if tasks.iter().all(|t| t.state == State::Finished) {
        tasks.iter().filter_map(|t| t.ended.clone()).max()
    } else {
        None
    };
    let file = RunFile {
        run: run.to_string(),
        started,
        ended: ended.or_else(|| Some(crate::dispatch::time::rfc3339(std::time::SystemTime::now()))),
        jobs: tasks.len(),
        timeout: None,
        idle_timeout: None,
        interrupted: false,
        tasks,
    };
    crate::dispatch::save_facts(root, dir, &file)?;
    Ok((file, collected))
}

/// A task's facts file, checked as any run file is (a regular file under
/// `runs/`, its paths where orch puts logs and last messages), holding
/// exactly that task.
fn read_part(
    dir: &Path,
    dir_rel: &str,
    run: &str,
    id: &str,
) -> std::result::Result<TaskFacts, String> {
    let path = crate::dispatch::part_path(dir, run, id);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(format!(
            "no facts came back ({dir_rel}/runs/{run}/{id}.json): its job did not run, or its artifact was not downloaded"
        ));
    }
    let mut part = crate::dispatch::read_run(dir, &path, run, Some(dir_rel))
        .map_err(|why| format!("{dir_rel}/runs/{run}/{id}.json {why}"))?;
    if part.tasks.len() != 1 || part.tasks[0].task != id {
        return Err(format!(
            "{dir_rel}/runs/{run}/{id}.json is not a run orch wrote: it does not hold exactly `{id}`"
        ));
    }
    Ok(part.tasks.remove(0))
}

/// The facts of a task that never reported: it did not run, as far as
/// anyone can tell.
fn missing(dir_rel: &str, id: &str) -> TaskFacts {
    TaskFacts {
        task: id.to_string(),
        adapter: "generic".into(),
        log: format!("{dir_rel}/logs/{id}.log")
            .trim_start_matches("./")
            .to_string(),
        state: State::NotStarted,
        spawn_error: Some("no facts came back from its job".into()),
        ..Default::default()
    }
}

/// Judge the task from its branch as it is now: the changes base..tip,
/// computed here; what the facts file claimed is checked against it.
fn check_branch(repo: &Repo, branch: &str, id: &str, facts: &mut TaskFacts) -> Result<()> {
    let claimed = facts.branch.take().unwrap_or_default();
    let mut b = BranchFacts {
        branch: branch.to_string(),
        worktree: claimed.worktree.clone(),
        merged: claimed.merged.clone(),
        sealed: claimed.sealed.clone(),
        agent_commits: claimed.agent_commits,
        notes: claimed.notes.clone(),
        ..Default::default()
    };
    facts.changed = None;
    let Some(tip) = repo.branch_tip(branch)? else {
        b.error = Some(format!(
            "its branch `{branch}` did not come back (not pushed, or not fetched)"
        ));
        facts.branch = Some(b);
        return Ok(());
    };
    let record = repo.commit_info(tip)?;
    let base: Option<Oid> = record
        .trailer(crate::isolate::BASE)
        .filter(|_| record.trailer(crate::isolate::TASK) == Some(id))
        .and_then(|s| repo.resolve(s).ok());
    let Some(base) = base else {
        b.tip = Some(tip.to_string());
        b.error = Some(format!(
            "`{branch}`'s tip {} is not orch's seal of `{id}` (no `Orch-Task: {id}` and `Orch-Base:`): its changes cannot be told",
            crate::isolate::short(tip)
        ));
        facts.branch = Some(b);
        return Ok(());
    };
    if repo.merge_base(&base.to_string(), &tip.to_string()).ok() != Some(base) {
        b.error = Some(format!(
            "`{branch}`'s base {} is not an ancestor of its tip",
            crate::isolate::short(base)
        ));
        facts.branch = Some(b);
        return Ok(());
    }
    if let Some(t) = &claimed.tip
        && t.parse::<Oid>().ok() != Some(tip)
    {
        b.notes.push(format!(
            "its facts name the tip {}, the branch is at {}: judged from the branch",
            crate::util::clip_chars(t, 12),
            crate::isolate::short(tip)
        ));
    }
    let changes = repo.changes(&base.to_string(), &tip.to_string())?;
    b.base = Some(base.to_string());
    b.tip = Some(tip.to_string());
    b.changed = crate::isolate::unit::changed_paths(&changes);
    facts.changed = Some(b.changed.clone());
    facts.committed.retain(|p| b.changed.contains(p));
    facts.branch = Some(b);
    Ok(())
}
