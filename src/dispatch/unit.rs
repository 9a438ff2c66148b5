//! One task's unit of work, the piece local dispatch runs once per task
//! (and a remote runner can run alone): prepare its environment in a
//! working folder (the shared work tree today, a task's own worktree once
//! runs are isolated), spawn its agent ([`super::process`]), read its
//! stream through its adapter into normalized events ([`super::stream`]),
//! and turn what happened, in the stream and in the folder, into the facts
//! of the run file.
//!
//! What changed in a folder is seen whatever tool made the change: a
//! [`Watcher`] records the folder's HEAD and a stamp of every dirty path
//! before the first agent starts and after each one ends; an agent's
//! changes are the paths whose stamp changed between the last record
//! before it started and the one after it ended, plus every path the
//! commits between those HEADs changed (an agent that commits its own work
//! is seen too).

use std::path::{Path, PathBuf};

use crate::agent::{self, ArgvInputs};
use crate::config::Config;
use crate::git::Repo;

use super::adapters::Kind;
use super::harvest::{State, TaskContext, TaskFacts};
use super::plan::Planned;
use super::process::Job;
use super::snapshot::{self, Snapshot};

/// A task ready to run: what to spawn, its facts so far, what harvest
/// judges it by.
pub struct Unit {
    pub job: Job,
    pub facts: TaskFacts,
    pub context: TaskContext,
}

/// Where a run keeps its files, relative to the work tree's top.
pub struct RunPaths<'a> {
    pub root: &'a Path,
    /// The orchestrator folder (`.orchestrator`).
    pub dir_rel: &'a str,
    pub run: &'a str,
    /// The completion report's schema: the file (relative) and its text.
    pub schema_rel: &'a str,
    pub schema_json: &'a str,
}

/// Build a task's unit in `folder` (absolute): its argv (validated), log,
/// last-message file, environment.
pub fn build(
    config: &Config,
    kind: Kind,
    paths: &RunPaths<'_>,
    folder: &Path,
    planned: Planned,
) -> Result<Unit, String> {
    let id = planned.id.clone();
    let last_rel = format!("{}/runs/{}/{id}.last-message.md", paths.dir_rel, paths.run);
    let log_rel = format!("{}/logs/{id}.log", paths.dir_rel);
    let abs = |rel: &str| paths.root.join(rel).to_string_lossy().into_owned();
    let argv = agent::argv(
        config,
        &planned.brief,
        &ArgvInputs {
            repo: &folder.to_string_lossy(),
            last_message: &abs(&last_rel),
            schema: &abs(paths.schema_rel),
            schema_json: paths.schema_json,
        },
    )?;
    let command = config.agent.command();
    let uses_last = command.iter().any(|a| a.contains("{last_message}"));
    let uses_schema = agent::passes_schema(&command);
    let budget = planned.brief.budget.filter(|b| !b.is_empty());
    let folder_rel = crate::transition::relative_to(paths.root, folder).unwrap_or_default();
    // Paths in run files are repository-relative: the work tree's top is
    // written `{repo}` in the argv kept there.
    let top = paths.root.to_string_lossy();
    let kept: Vec<String> = argv
        .iter()
        .map(|a| a.replace(top.as_ref(), "{repo}"))
        .collect();
    Ok(Unit {
        job: Job {
            id: id.clone(),
            argv: argv.clone(),
            cwd: folder.to_path_buf(),
            env: vec![
                ("ORCH_TASK".into(), id.clone()),
                ("ORCH_RUN".into(), paths.run.to_string()),
            ],
            log: paths.root.join(&log_rel),
            adapter: Some(kind),
            budget,
        },
        facts: TaskFacts {
            task: id,
            adapter: kind.name().into(),
            folder: folder_rel,
            argv: kept,
            log: log_rel,
            last_message: uses_last.then_some(last_rel),
            schema: uses_schema.then(|| paths.schema_rel.to_string()),
            budget,
            state: State::Pending,
            ..TaskFacts::default()
        },
        context: TaskContext {
            scope: Some(planned.scope),
            checks: planned.checks,
        },
    })
}

/// Where a program resolves: a path with a `/` (relative to `folder`), or
/// the first match on `PATH`; it must be an executable regular file.
pub fn resolve_program(program: &str, folder: &Path) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.is_empty() {
        return Err("the agent command is empty".into());
    }
    if program.contains('/') {
        let p = if program.starts_with('/') {
            PathBuf::from(program)
        } else {
            folder.join(program)
        };
        return match std::fs::metadata(&p) {
            Err(_) => Err(format!("`{program}` does not exist")),
            Ok(_) if !executable(&p) => Err(format!("`{program}` is not an executable file")),
            Ok(_) => Ok(p),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| executable(p))
        .ok_or_else(|| format!("`{program}` is not on PATH (or not executable)"))
}

/// A folder's state: its HEAD commit and the stamps of its dirty paths.
struct FolderState {
    head: Option<String>,
    snapshot: Option<Snapshot>,
}

/// What an agent changed in its folder.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// Work-tree paths whose stamp changed (repo-relative).
    pub worktree: Vec<String>,
    /// Paths the commits made while it ran changed.
    pub committed: Vec<String>,
    pub head_before: Option<String>,
    pub head_after: Option<String>,
}

/// Records a folder's state before the first agent starts and after each
/// one ends.
pub struct Watcher {
    repo: Option<Repo>,
    skip: Vec<String>,
    states: Vec<FolderState>,
}

impl Watcher {
    /// Watch `folder`, leaving out paths under `skip` (prefixes ending in
    /// `/`: orch's own `logs/` and `runs/`). Outside git, nothing is seen.
    pub fn new(folder: &Path, skip: Vec<String>) -> Watcher {
        let repo = Repo::discover(folder).ok().flatten();
        let mut w = Watcher {
            repo,
            skip,
            states: Vec::new(),
        };
        let first = w.state();
        w.states.push(first);
        w
    }

    fn state(&self) -> FolderState {
        match &self.repo {
            Some(r) => FolderState {
                head: r.resolve("HEAD").ok().map(|id| id.to_string()),
                snapshot: snapshot::take(r, &self.skip).ok(),
            },
            None => FolderState {
                head: None,
                snapshot: None,
            },
        }
    }

    /// The latest record, where an agent starting now begins.
    pub fn mark(&self) -> usize {
        self.states.len() - 1
    }

    /// Record the folder now (an agent ended) and say what changed since
    /// record `since`; `None` outside git.
    pub fn since(&mut self, since: usize) -> Option<Seen> {
        let repo = self.repo.as_ref()?;
        let now = self.state();
        let before = self.states.get(since)?;
        let worktree = match (&before.snapshot, &now.snapshot) {
            (Some(b), Some(a)) => snapshot::changed(b, a),
            _ => return None,
        };
        let committed = match (&before.head, &now.head) {
            (Some(b), Some(a)) if b != a => {
                let mut paths: Vec<String> = repo
                    .changes(b, a)
                    .map(|cs| {
                        cs.iter()
                            .flat_map(|c| match c {
                                crate::git::Change::Renamed { from, to } => {
                                    vec![from.clone(), to.clone()]
                                }
                                c => vec![c.path().to_string()],
                            })
                            .filter(|p| !self.skip.iter().any(|s| p.starts_with(s.as_str())))
                            .collect()
                    })
                    .unwrap_or_default();
                paths.sort();
                paths.dedup();
                paths
            }
            _ => Vec::new(),
        };
        let seen = Seen {
            worktree,
            committed,
            head_before: before.head.clone(),
            head_after: now.head.clone(),
        };
        self.states.push(now);
        Some(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_resolve_on_path_or_relative_to_the_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(resolve_program("sh", dir.path()).is_ok());
        let e = resolve_program("no-such-agent-xyz", dir.path()).expect_err("missing");
        assert!(e.contains("not on PATH"), "{e}");
        std::fs::write(dir.path().join("a.sh"), "#!/bin/sh\n").expect("write");
        let e = resolve_program("./a.sh", dir.path()).expect_err("not executable");
        assert!(e.contains("not an executable"), "{e}");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("a.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
        assert!(resolve_program("./a.sh", dir.path()).is_ok());
    }
}
