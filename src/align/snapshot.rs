//! The head side of the range, as `align-docs` reads it: a revision's tree
//! or the index, never the work tree. Paths are listed once; file contents
//! are read on demand and cached.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::git::{Blobs, GitError, Repo};
use crate::model::Program;
use crate::model::program::MAX_DOCUMENT_BYTES;

/// Where the head content comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Side {
    /// A revision's tree.
    Rev(String),
    /// The index (`--staged`).
    Index,
}

pub struct Snapshot<'r> {
    repo: &'r Repo,
    pub side: Side,
    /// Every file path, sorted.
    paths: Vec<String>,
    texts: RefCell<HashMap<String, Option<Arc<str>>>>,
}

impl<'r> Snapshot<'r> {
    pub fn new(repo: &'r Repo, side: Side) -> Result<Snapshot<'r>, GitError> {
        let paths = match &side {
            Side::Rev(rev) => repo.paths_at(rev)?,
            Side::Index => repo.tracked_files()?,
        };
        Ok(Snapshot {
            repo,
            side,
            paths,
            texts: RefCell::new(HashMap::new()),
        })
    }

    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// A file of that exact path exists.
    pub fn is_file(&self, path: &str) -> bool {
        self.paths
            .binary_search_by(|p| p.as_str().cmp(path))
            .is_ok()
    }

    /// Some file lies under `path/`.
    pub fn is_dir(&self, path: &str) -> bool {
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return !self.paths.is_empty();
        }
        let prefix = format!("{path}/");
        let i = self.paths.partition_point(|p| p.as_str() < prefix.as_str());
        self.paths.get(i).is_some_and(|p| p.starts_with(&prefix))
    }

    /// A file or a folder.
    pub fn exists(&self, path: &str) -> bool {
        self.is_file(path) || self.is_dir(path)
    }

    /// Raw bytes of a file; `None` when absent.
    pub fn bytes(&self, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        if !self.is_file(path) {
            return Ok(None);
        }
        match &self.side {
            // A blob over the limit is sized from its header, not read.
            Side::Rev(rev) => self.repo.file_at(rev, path, MAX_DOCUMENT_BYTES),
            Side::Index => self.repo.staged_file(path, MAX_DOCUMENT_BYTES),
        }
    }

    /// A file as text: `None` when absent, binary, not UTF-8 or too large
    /// to be a document. A BOM is kept (spans are byte offsets).
    pub fn text(&self, path: &str) -> Result<Option<Arc<str>>, GitError> {
        if let Some(t) = self.texts.borrow().get(path) {
            return Ok(t.clone());
        }
        let text = self.bytes(path)?.and_then(|b| {
            if b.len() as u64 > MAX_DOCUMENT_BYTES || b.contains(&0) {
                return None;
            }
            String::from_utf8(b).ok().map(Arc::<str>::from)
        });
        self.texts
            .borrow_mut()
            .insert(path.to_string(), text.clone());
        Ok(text)
    }
}

/// The program's files on the head side (`prefix` is the orchestrator
/// folder, repository-relative, with a final `/`), listed for reading on
/// the threads that parse them.
pub fn program_blobs(repo: &Repo, side: &Side, prefix: &str) -> Result<Blobs, GitError> {
    match side {
        Side::Rev(rev) => repo.blobs_at(rev, prefix),
        Side::Index => repo.index_blobs(prefix),
    }
}

/// The program as the head side holds it, from [`program_blobs`].
pub fn program(
    blobs: &Blobs,
    prefix: &str,
    root: &Path,
    dir_abs: &Path,
) -> Result<Program, GitError> {
    let program = Program::from_listing(
        root,
        dir_abs,
        prefix,
        blobs.files.iter().map(|(p, _)| p.as_str()),
        &|p| (p.to_string(), root.join(p)),
        blobs,
    );
    blobs.check()?;
    Ok(program)
}
