//! The work tree's changes against HEAD (`git status`): staged, unstaged
//! and untracked paths, as `orch scope check` and dispatch's harvest need.

use gix::status::Item;
use gix::status::index_worktree::Item as WorktreeItem;

use super::{GitError, Repo, lossy};

impl Repo {
    /// Every path that differs from HEAD: staged, modified or deleted in the
    /// work tree, or untracked (ignored files excluded). Sorted, unique; a
    /// rename lists both paths.
    pub fn dirty_paths(&self) -> Result<Vec<String>, GitError> {
        let status = self
            .repo
            .status(gix::progress::Discard)
            .map_err(|e| GitError::gix("cannot read the work tree's status", e))?
            .untracked_files(gix::status::UntrackedFiles::Files);
        let iter = status
            .into_iter(None)
            .map_err(|e| GitError::gix("cannot read the work tree's status", e))?;
        let mut paths = Vec::new();
        for item in iter {
            let item = item.map_err(|e| GitError::gix("cannot read the work tree's status", e))?;
            match &item {
                Item::IndexWorktree(WorktreeItem::DirectoryContents { entry, .. })
                    if entry.status != gix::dir::entry::Status::Untracked =>
                {
                    continue;
                }
                Item::IndexWorktree(WorktreeItem::Rewrite { source, .. }) => {
                    paths.push(lossy(source.rela_path()));
                }
                // A rename staged (`git mv`): its old path is gone too.
                Item::TreeIndex(gix::diff::index::Change::Rewrite {
                    source_location,
                    copy: false,
                    ..
                }) => {
                    paths.push(lossy(source_location.as_ref()));
                }
                _ => {}
            }
            paths.push(lossy(item.location()));
        }
        paths.sort();
        paths.dedup();
        Ok(paths)
    }
}
