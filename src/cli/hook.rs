//! `orch hook install|uninstall`: the git pre-commit hook that runs
//! `orch lint --staged`. It goes in the hooks folder git uses
//! (`core.hooksPath` honoured); a hook `orch` did not write is never
//! overwritten: `--force` keeps it and runs it first.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Outcome, Result};
use crate::fsx::write_atomic;

use super::Global;

/// The line that marks a hook as ours.
const MARKER: &str = "# orch-hook: installed by `orch hook install`";
/// Where `--force` keeps the hook it replaced.
const CHAINED: &str = "pre-commit.orch-chained";

#[derive(Debug, clap::Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub action: HookAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum HookAction {
    /// Install the pre-commit hook
    Install {
        /// Replace a hook orch did not write; it is kept and run first
        #[arg(long)]
        force: bool,
    },
    /// Remove orch's pre-commit hook (and restore one it replaced)
    Uninstall,
}

fn repo(g: &Global) -> Result<crate::git::Repo> {
    let start = match (&g.dir, &g.root) {
        (Some(d), _) => std::path::absolute(d).map_err(|e| Error::io(d, e))?,
        (None, Some(r)) => std::path::absolute(r).map_err(|e| Error::io(r, e))?,
        (None, None) => std::env::current_dir().map_err(|e| Error::io(".", e))?,
    };
    crate::git::Repo::discover(&start)?.ok_or_else(|| {
        Error::with_help(
            format!("{} is not in a git repository", start.display()),
            "run `git init` first, or install the hook from inside the repository",
        )
    })
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(MARKER))
}

/// Quote for a POSIX shell.
fn sh(s: &str) -> String {
    crate::agent::shell_quote(s)
}

fn script(orch: &str, dir: Option<&str>) -> String {
    let dir = dir.map(|d| format!(" --dir {}", sh(d))).unwrap_or_default();
    format!(
        "#!/bin/sh\n{MARKER}; `orch hook uninstall` removes it.\n\
         # Lints the staged orchestrator documents (not the work tree).\n\
         hooks=$(dirname \"$0\")\n\
         if [ -x \"$hooks/{CHAINED}\" ]; then\n  \"$hooks/{CHAINED}\" \"$@\" || exit $?\nfi\n\
         orch={}\n\
         [ -x \"$orch\" ] || orch=orch\n\
         exec \"$orch\" lint --staged{dir}\n",
        sh(orch)
    )
}

pub fn run(args: &HookArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let repo = repo(g)?;
    let hooks = repo.hooks_dir()?;
    let hook = hooks.join("pre-commit");
    let chained = hooks.join(CHAINED);
    match args.action {
        HookAction::Install { force } => {
            let exists = hook.exists();
            if exists && !is_ours(&hook) {
                if !force {
                    return Err(Error::with_help(
                        format!("{} exists and orch did not write it", hook.display()),
                        "pass --force to keep it (renamed to pre-commit.orch-chained) and run it before orch",
                    ));
                }
                if chained.exists() {
                    return Err(Error::with_help(
                        format!("{} exists already", chained.display()),
                        "remove or merge it by hand, then install again",
                    ));
                }
                std::fs::rename(&hook, &chained).map_err(|e| Error::io(&hook, e))?;
            }
            let orch = std::env::current_exe().map_err(|e| Error::io("orch", e))?;
            let dir = g.dir.as_ref().map(|d| {
                std::path::absolute(d)
                    .ok()
                    .and_then(|a| a.strip_prefix(repo.workdir()).ok().map(Path::to_path_buf))
                    .unwrap_or_else(|| d.clone())
            });
            let dir = dir.map(|d| d.to_string_lossy().replace('\\', "/"));
            write_atomic(
                &hook,
                script(&orch.to_string_lossy(), dir.as_deref()).as_bytes(),
                true,
            )?;
            make_executable(&hook)?;
            if !g.quiet {
                writeln!(out, "installed {}", hook.display())?;
                if chained.exists() {
                    writeln!(out, "the previous hook runs first: {}", chained.display())?;
                }
            }
        }
        HookAction::Uninstall => {
            if !hook.exists() {
                if !g.quiet {
                    writeln!(out, "no pre-commit hook to remove")?;
                }
                return Ok(Outcome::Clean);
            }
            if !is_ours(&hook) {
                return Err(Error::with_help(
                    format!("{} was not written by orch; leaving it", hook.display()),
                    "remove it by hand if you mean to",
                ));
            }
            std::fs::remove_file(&hook).map_err(|e| Error::io(&hook, e))?;
            if chained.exists() {
                std::fs::rename(&chained, &hook).map_err(|e| Error::io(&chained, e))?;
            }
            if !g.quiet {
                writeln!(out, "removed {}", hook.display())?;
            }
        }
    }
    Ok(Outcome::Clean)
}

#[cfg(unix)]
fn make_executable(path: &PathBuf) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(path, perms).map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn make_executable(_: &PathBuf) -> Result<()> {
    Ok(())
}
