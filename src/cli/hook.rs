//! `orch hook install|uninstall`: the git pre-commit hook that runs
//! `orch lint --staged`. It goes in the hooks folder git uses
//! (`core.hooksPath` honoured); a hook `orch` did not write is never
//! overwritten: `--force` keeps it and runs it first.
//!
//! A hook is orch's only if it is a regular file holding exactly the script
//! `orch hook install` writes (for some orch path and `--dir`), not merely
//! one that mentions the marker; it is read without following a link and
//! within a size bound. A link at the hook's name (dangling or not) is
//! never followed, replaced or removed: it is someone else's hook.

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

/// What is at a hook's name, read without following a link.
enum Slot {
    Empty,
    /// The exact script `orch hook install` writes.
    Ours,
    /// Anything else: another hook, a link (dangling or not), a FIFO.
    Theirs(&'static str),
}

fn slot(path: &Path) -> Slot {
    let Ok(md) = std::fs::symlink_metadata(path) else {
        return Slot::Empty;
    };
    if md.file_type().is_symlink() {
        return Slot::Theirs("a symbolic link");
    }
    match crate::fsx::read_regular(path, 64 * 1024) {
        Ok(bytes) if is_our_script(&bytes) => Slot::Ours,
        Ok(_) => Slot::Theirs("a hook orch did not write"),
        Err(_) => Slot::Theirs("not a regular file orch wrote"),
    }
}

/// Is `bytes` exactly the script [`script`] writes, for the orch path and
/// `--dir` it names?
fn is_our_script(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Some(orch) = text
        .lines()
        .find_map(|l| l.strip_prefix("orch="))
        .and_then(unquote)
    else {
        return false;
    };
    let Some(tail) = text
        .lines()
        .find_map(|l| l.strip_prefix("exec \"$orch\" lint --staged"))
    else {
        return false;
    };
    let dir = match tail.strip_prefix(" --dir ") {
        Some(d) => match unquote(d) {
            Some(d) => Some(d),
            None => return false,
        },
        None if tail.is_empty() => None,
        None => return false,
    };
    text == script(&orch, dir.as_deref())
}

/// The inverse of [`sh`]: a bare word, or one single-quoted string with
/// `'\''` for each quote.
fn unquote(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        let value = inner.replace("'\\''", "'");
        return (sh(&value) == s).then_some(value);
    }
    (sh(s) == s).then(|| s.to_string())
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
            if let Slot::Theirs(what) = slot(&hook) {
                if !force {
                    return Err(Error::with_help(
                        format!("{} exists and is {what}", hook.display()),
                        "pass --force to keep it (renamed to pre-commit.orch-chained) and run it before orch",
                    ));
                }
                if std::fs::symlink_metadata(&chained).is_ok() {
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
                if std::fs::symlink_metadata(&chained).is_ok() {
                    writeln!(out, "the previous hook runs first: {}", chained.display())?;
                }
            }
        }
        HookAction::Uninstall => {
            match slot(&hook) {
                Slot::Empty => {
                    if !g.quiet {
                        writeln!(out, "no pre-commit hook to remove")?;
                    }
                    return Ok(Outcome::Clean);
                }
                Slot::Theirs(what) => {
                    return Err(Error::with_help(
                        format!("{} is {what}; leaving it", hook.display()),
                        "remove it by hand if you mean to",
                    ));
                }
                Slot::Ours => {}
            }
            std::fs::remove_file(&hook).map_err(|e| Error::io(&hook, e))?;
            if std::fs::symlink_metadata(&chained).is_ok() {
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
