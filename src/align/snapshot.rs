//! The head side of the range, as `align-docs` reads it: a revision's tree
//! or the index, never the work tree. Paths are listed once; file contents
//! are read on demand and cached.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::git::{GitError, Repo};
use crate::model::Program;
use crate::model::program::{Input, MAX_DOCUMENT_BYTES};

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
            Side::Rev(rev) => self.repo.file_at(rev, path),
            Side::Index => self.repo.staged_file(path),
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

    /// The program as the head side holds it: the documents under `dir`
    /// (repository-relative, e.g. `.orchestrator`) and its config.
    pub fn program(&self, root: &Path, dir_abs: &Path, dir: &str) -> Result<Program, GitError> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let files = match &self.side {
            Side::Rev(rev) => self.repo.files_at(rev, &prefix)?,
            Side::Index => self.repo.index_files(&prefix)?,
        };
        let mut inputs = Vec::new();
        let mut config = None;
        for (path, bytes) in files {
            let Some(rel) = path.strip_prefix(&prefix) else {
                continue;
            };
            let top = rel.split('/').next().unwrap_or("");
            let input = |bytes: Vec<u8>| Input {
                abs_path: root.join(&path),
                path: path.clone(),
                bytes: if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
                    Err(format!(
                        "is {} bytes, over the {} MiB limit for a document",
                        bytes.len(),
                        MAX_DOCUMENT_BYTES / (1024 * 1024)
                    ))
                } else {
                    Ok(bytes)
                },
            };
            if rel == "config.yaml" {
                config = Some(input(bytes));
            } else if rel.ends_with(".md") && rel.contains('/') && matches!(top, "logs" | "runs") {
                continue;
            } else if rel.ends_with(".md") {
                inputs.push(input(bytes));
            }
        }
        Ok(Program::from_inputs(root, dir_abs, inputs, config))
    }
}
