//! Three-way tree merges (gix's `merge` feature, git's `ort` rules: file
//! content merged line by line, renames followed, git's idea of what is
//! unresolved). Nothing touches a work tree, an index or a ref; the merged
//! blobs and trees are written to the object database, as `git merge-tree
//! --write-tree` does.

use std::cell::RefCell;

use gix::ObjectId;
use gix::bstr::ByteSlice;

use super::{Change, GitError, Repo};

/// The result of one tree merge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merged {
    /// The merged tree, written.
    Clean(ObjectId),
    /// The paths both sides changed in ways that do not merge, sorted.
    Conflicts(Vec<String>),
}

/// Merges many trees in one process: one object cache, one set of
/// options, and one diff and one blob-merge platform for every merge and
/// diff it makes. (gix's `merge_trees` and `diff_tree_to_tree` build both
/// per call, each reading the attributes of every index entry: with a
/// 40,000-entry index, that was a third of `orch integrate`'s time.)
pub struct Merger {
    repo: gix::Repository,
    options: gix::merge::tree::Options,
    caches: RefCell<Caches>,
}

struct Caches {
    diff: gix::diff::blob::Platform,
    blob_merge: gix::merge::blob::Platform,
    state: gix::diff::tree::State,
}

impl Repo {
    /// A merger on this repository's object database.
    pub fn merger(&self) -> Result<Merger, GitError> {
        let context = "cannot read the merge options from git config";
        let mut repo = self.repo.clone();
        repo.object_cache_size_if_unset(16 << 20);
        let options = repo
            .tree_merge_options()
            .map_err(|e| GitError::gix(context, e))?;
        let diff = repo
            .diff_resource_cache_for_tree_diff()
            .map_err(|e| GitError::gix(context, e))?;
        let blob_merge = repo
            .merge_resource_cache(Default::default())
            .map_err(|e| GitError::gix(context, e))?;
        Ok(Merger {
            repo,
            options,
            caches: RefCell::new(Caches {
                diff,
                blob_merge,
                state: Default::default(),
            }),
        })
    }
}

impl Merger {
    /// Merge the changes from `base` to `theirs` into `ours` (three trees);
    /// `labels` name ours and theirs in conflict markers.
    pub fn merge(
        &self,
        base: ObjectId,
        ours: ObjectId,
        theirs: ObjectId,
        labels: (&str, &str),
    ) -> Result<Merged, GitError> {
        if theirs == base || ours == theirs {
            return Ok(Merged::Clean(ours));
        }
        if ours == base {
            return Ok(Merged::Clean(theirs));
        }
        let context = || format!("cannot merge {} into {}", labels.1, labels.0);
        let names = gix::merge::blob::builtin_driver::text::Labels {
            ancestor: Some("base".into()),
            current: Some(labels.0.into()),
            other: Some(labels.1.into()),
        };
        let mut caches = self.caches.borrow_mut();
        let Caches {
            diff,
            blob_merge,
            state,
        } = &mut *caches;
        let repo = &self.repo;
        let merged = gix::merge::plumbing::tree(
            &base,
            &ours,
            &theirs,
            names,
            &repo.objects,
            |buf| gix::objs::Write::write_buf(repo, gix::object::Kind::Blob, buf),
            state,
            diff,
            blob_merge,
            self.options.clone().into(),
        );
        diff.clear_resource_cache_keep_allocation();
        let mut outcome = merged.map_err(|e| GitError::gix(context(), e))?;
        let how = gix::merge::tree::TreatAsUnresolved::git();
        if outcome.has_unresolved_conflicts(how) {
            let mut paths: Vec<String> = Vec::new();
            for c in outcome.conflicts.iter().filter(|c| c.is_unresolved(how)) {
                for change in [&c.ours, &c.theirs] {
                    for p in [change.source_location(), change.location()] {
                        paths.push(p.to_str_lossy().into_owned());
                    }
                }
            }
            paths.sort();
            paths.dedup();
            return Ok(Merged::Conflicts(paths));
        }
        let tree = outcome
            .tree
            .write(|tree| repo.write_object(tree).map(|id| id.detach()))
            .map_err(|e| GitError::gix(context(), e))?;
        Ok(Merged::Clean(tree))
    }

    /// The changes from commit `base` to commit `head`, renames detected
    /// ([`Repo::changes`] on this merger's platform).
    pub fn changes(&self, base: ObjectId, head: ObjectId) -> Result<Vec<Change>, GitError> {
        let context = || format!("cannot diff {base} against {head}");
        let tree = |id: ObjectId| -> Result<gix::Tree<'_>, GitError> {
            self.repo
                .find_commit(id)
                .and_then(|c| c.tree())
                .map_err(|e| GitError::gix(context(), e))
        };
        let (old, new) = (tree(base)?, tree(head)?);
        let options: gix::diff::Options =
            gix::diff::Options::default().with_rewrites(Some(gix::diff::Rewrites::default()));
        let mut caches = self.caches.borrow_mut();
        let Caches { diff, state, .. } = &mut *caches;
        let mut out = Vec::new();
        let result = gix::diff::tree_with_rewrites(
            gix::objs::TreeRefIter::from_bytes(&old.data, old.id.kind()),
            gix::objs::TreeRefIter::from_bytes(&new.data, new.id.kind()),
            diff,
            state,
            &self.repo.objects,
            |change: gix::diff::tree_with_rewrites::ChangeRef<'_>| -> gix::Result<_> {
                out.push(change.into_owned());
                Ok(std::ops::ControlFlow::Continue(()))
            },
            options.into(),
        );
        diff.clear_resource_cache_keep_allocation();
        result.map_err(|e| GitError::gix(context(), gix::Error::from_error(e)))?;
        Ok(super::to_changes(out))
    }
}

impl Repo {
    /// The content of the file at `path` in `tree`; `None` when absent or
    /// not a file.
    pub fn file_in_tree(&self, tree: ObjectId, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let context = || format!("cannot read {path} in tree {tree}");
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(|e| GitError::gix(context(), e))?;
        let entry = tree
            .lookup_entry(path.split('/').filter(|c| !c.is_empty()))
            .map_err(|e| GitError::gix(context(), e))?;
        match entry {
            Some(e) if e.mode().is_blob() => Ok(Some(
                self.repo
                    .find_blob(e.object_id())
                    .map_err(|err| GitError::gix(context(), err))?
                    .data
                    .clone(),
            )),
            _ => Ok(None),
        }
    }

    /// `tree` with the file at `path` set to `content` (its executable bit
    /// kept), written.
    pub fn tree_with_file(
        &self,
        tree: ObjectId,
        path: &str,
        content: &[u8],
    ) -> Result<ObjectId, GitError> {
        super::commit::validate_path(path)?;
        let context = || format!("cannot write {path} into tree {tree}");
        let kind = {
            let t = self
                .repo
                .find_tree(tree)
                .map_err(|e| GitError::gix(context(), e))?;
            match t
                .lookup_entry(path.split('/'))
                .map_err(|e| GitError::gix(context(), e))?
            {
                Some(e) if e.mode().kind() == gix::objs::tree::EntryKind::BlobExecutable => {
                    gix::objs::tree::EntryKind::BlobExecutable
                }
                _ => gix::objs::tree::EntryKind::Blob,
            }
        };
        let blob = self
            .repo
            .write_blob(content)
            .map_err(|e| GitError::gix(context(), e))?
            .detach();
        let mut editor = self
            .repo
            .edit_tree(tree)
            .map_err(|e| GitError::gix(context(), e))?;
        editor
            .upsert(path, kind, blob)
            .map_err(|e| GitError::gix(context(), e))?;
        Ok(editor
            .write()
            .map_err(|e| GitError::gix(context(), e))?
            .detach())
    }
}
