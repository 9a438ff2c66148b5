//! Finding the work tree and the orchestrator folder, and loading the
//! program from it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::Program;
use crate::model::program::{display_path, is_document};

use super::Global;

/// Where `orch` works: the work tree's top and the orchestrator folder.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub dir: PathBuf,
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io(path, e))
}

/// The top of the git work tree holding `path`, if any.
fn git_top(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|p| p.join(".git").exists())
        .map(Path::to_path_buf)
}

impl Workspace {
    /// Resolve `--root`/`--dir`, or search upwards for `.orchestrator/`.
    pub fn find(g: &Global) -> Result<Workspace> {
        if let Some(dir) = &g.dir {
            let dir = absolute(dir)?;
            if !dir.is_dir() {
                return Err(Error::with_help(
                    format!("{} is not a folder", dir.display()),
                    "pass the orchestrator folder with --dir, e.g. --dir .orchestrator",
                ));
            }
            let root = match &g.root {
                Some(r) => absolute(r)?,
                None => git_top(&dir)
                    .or_else(|| dir.parent().map(Path::to_path_buf))
                    .unwrap_or_else(|| dir.clone()),
            };
            return Ok(Workspace { root, dir });
        }
        let start = match &g.root {
            Some(r) => absolute(r)?,
            None => std::env::current_dir().map_err(|e| Error::io(".", e))?,
        };
        let found = if g.root.is_some() {
            start.join(".orchestrator").is_dir().then(|| start.clone())
        } else {
            start
                .ancestors()
                .find(|p| p.join(".orchestrator").is_dir())
                .map(Path::to_path_buf)
        };
        let Some(holder) = found else {
            return Err(Error::with_help(
                format!(
                    "no .orchestrator/ folder in {} or any folder above it",
                    start.display()
                ),
                "run `orch init` to create one, or pass --dir PATH",
            ));
        };
        let dir = holder.join(".orchestrator");
        let root = git_top(&holder).unwrap_or(holder);
        Ok(Workspace { root, dir })
    }

    /// Where `orch init` writes: `--dir`, or `.orchestrator/` at `--root`,
    /// the git work tree's top, or the current folder.
    pub fn for_init(g: &Global) -> Result<Workspace> {
        let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        let root = match &g.root {
            Some(r) => absolute(r)?,
            None => git_top(&cwd).unwrap_or(cwd),
        };
        let dir = match &g.dir {
            Some(d) => absolute(d)?,
            None => root.join(".orchestrator"),
        };
        Ok(Workspace { root, dir })
    }

    /// The program as staged: every document and config under the folder
    /// read from the git index (never the work tree).
    pub fn load_staged(&self) -> Result<Program> {
        Ok(self.load_staged_with(false)?.0)
    }

    /// [`Workspace::load_staged`], and the tracked files of the same read of
    /// the index.
    pub fn load_staged_and_tracked(&self) -> Result<(Program, Vec<String>)> {
        let (program, tracked) = self.load_staged_with(true)?;
        Ok((program, tracked.unwrap_or_default()))
    }

    fn load_staged_with(&self, tracked: bool) -> Result<(Program, Option<Vec<String>>)> {
        let repo = crate::git::Repo::discover(&self.dir)?.ok_or_else(|| {
            Error::with_help(
                format!("{} is not in a git repository", self.dir.display()),
                "--staged lints the git index; without git, lint the files (drop --staged)",
            )
        })?;
        let top = repo.workdir().to_path_buf();
        let prefix = format!("{}/", display_path(&top, &self.dir));
        let (blobs, tracked) = if tracked {
            let (blobs, tracked) = repo.index_blobs_and_tracked(&prefix)?;
            (blobs, Some(tracked))
        } else {
            (repo.index_blobs(&prefix)?, None)
        };
        let staged = |p: &String| p.strip_prefix(&prefix).is_some_and(is_document);
        if !blobs.files.iter().any(|(p, _)| staged(p)) {
            return Err(Error::with_help(
                format!("nothing is staged under {prefix}"),
                "stage the documents (`git add .orchestrator`), or lint the work tree (drop --staged)",
            ));
        }
        let program = Program::from_listing(
            &top,
            &self.dir,
            &prefix,
            blobs.files.iter().map(|(p, _)| p.as_str()),
            &|p| (p.to_string(), top.join(p)),
            &blobs,
        );
        blobs.check()?;
        Ok((program, tracked))
    }

    /// The program in the work tree, after finishing or undoing a
    /// transition a killed orch left half written (see
    /// [`crate::transition::journal`]).
    pub fn load(&self) -> Result<Program> {
        crate::transition::recover_if_interrupted(&self.root, &self.dir);
        Program::load_documents(&self.root, &self.dir)
    }
}
