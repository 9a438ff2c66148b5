//! Git access for `orch`, through gix: the only module in the crate that
//! imports it.
//!
//! Reading: discovery ([`Repo::discover`], honouring `GIT_DIR` and
//! `GIT_WORK_TREE`), tracked files and staged content from the index, files
//! of a revision's tree, revisions, merge-bases (a shallow clone that lacks
//! one is [`GitError::Shallow`], never a silent pass), the default branch,
//! tree-to-tree and HEAD-to-index changes with rename detection, the hooks
//! folder, and the commits `orch` made (by their `Orch-Task:` trailer).
//!
//! Writing: [`Repo::commit_files`] commits a few files on top of HEAD as
//! DESIGN 7 says: HEAD's tree with only those paths replaced, the branch ref
//! moved under git's lock protocol with a reflog entry and a compare-and-swap
//! against the HEAD that was read, then only those paths' index entries
//! updated under `index.lock`. The user's other staged and unstaged changes
//! are left exactly as they were; the work tree is never touched.
//!
//! Claims (`refs/orch/claims/<ID>`, see `claims.rs`) are created only if
//! absent and deleted only if unchanged. gix cannot push, so claims at a
//! remote go through the `git` binary (`remote.rs`): the only place orch
//! runs it, argv only and bounded in time.
//!
//! What gix cannot do, and so `orch` does not: run hooks, sign commits (the
//! caller is told when `commit.gpgsign` is set), or apply `.gitattributes`
//! clean filters (`text`, `eol`, `filter=`) to committed content, which is
//! committed byte for byte. `core.autocrlf` (`true`, `input`) is honoured
//! by the caller, which turns CRLF into LF as git would ([`Repo::autocrlf`]).
//!
//! Paths are repository-relative with `/` separators; a path that is not
//! UTF-8 is converted lossily.
//!
//! git sits below the model: it imports no other orch module (a test
//! checks). The model reads listed blobs through [`Blobs::reader`], with a
//! size bound checked on each object's header before anything is inflated.

mod advance;
mod align;
mod claims;
mod commit;
mod error;
mod files;
mod history;
mod index;
mod merge;
mod range;
mod refs;
mod remote;
mod seal;
mod status;
mod worktree;

#[cfg(test)]
mod isolation_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use gix::bstr::{BStr, ByteSlice};

pub use advance::{PathChange, Resumed};
pub use claims::{CLAIMS_PREFIX, MAX_CLAIM_BYTES, claim_ref};
pub use error::GitError;
pub use merge::{Merged, Merger};
pub use range::{Form, Resolved, shown};
pub use refs::{CommitRecord, branch_ref};
pub use remote::{Pushed, REMOTE_TIMEOUT, RemoteError};
pub use seal::Sealed;
pub use worktree::{INITIALIZING, Worktree, building_pid, registration_name, remove_tree};

/// An object id (a commit, a tree), as the rest of orch names one.
pub type Oid = gix::ObjectId;

/// How long to wait for `index.lock` or a ref lock held by someone else.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A repository with a work tree.
pub struct Repo {
    repo: gix::Repository,
    workdir: PathBuf,
}

/// One changed path between two trees (or HEAD and the index).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added(String),
    Deleted(String),
    Modified(String),
    Renamed { from: String, to: String },
}

impl Change {
    /// The path as it is after the change (the new name of a rename).
    pub fn path(&self) -> &str {
        match self {
            Change::Added(p) | Change::Deleted(p) | Change::Modified(p) => p,
            Change::Renamed { to, .. } => to,
        }
    }
}

/// What [`Repo::commit_files`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The new commit.
    pub id: gix::ObjectId,
    /// `commit.gpgsign` is set: the commit is unsigned all the same (gix
    /// cannot sign), which the caller should say.
    pub gpgsign: bool,
    /// The branch that moved (`main`), or `None` when HEAD is detached.
    pub branch: Option<String>,
}

/// A commit made by `orch`, read back from its trailers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrchCommit {
    pub id: gix::ObjectId,
    /// The first line of the message.
    pub subject: String,
    /// Every trailer of the message's last paragraph, in order.
    pub trailers: Vec<(String, String)>,
    /// Author time, seconds since the Unix epoch.
    pub time: i64,
}

impl OrchCommit {
    /// The value of the first trailer named `key` (case-insensitive).
    pub fn trailer(&self, key: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The delta-base cache for pack reads. orch builds gix without its LRU
/// pack caches, and without any cache every object read from a pack
/// re-inflates its whole delta chain (up to 50 objects deep, as `git gc` and
/// `git fast-import` write them), which made `lint --staged` and
/// `align-docs` spend most of their time in zlib. Each decoded object is
/// kept by its pack offset, so a later object whose chain passes through it
/// stops there. Bounded: when full it starts over.
#[derive(Default)]
struct DeltaBaseCache {
    entries: std::collections::HashMap<(u32, u64), (gix::objs::Kind, usize, Vec<u8>)>,
    bytes: usize,
}

impl DeltaBaseCache {
    /// Decoded bytes kept at most (git's `core.deltaBaseCacheLimit` is 96 MiB;
    /// orch reads documents, a few MiB).
    const BUDGET: usize = 24 << 20;
}

// Inherent, not the gix trait: every handle reaches the cache through
// [`SharedCache`], which implements it.
impl DeltaBaseCache {
    fn put(
        &mut self,
        pack_id: u32,
        offset: u64,
        data: &[u8],
        kind: gix::objs::Kind,
        compressed_size: usize,
    ) {
        if data.len() > Self::BUDGET / 8 {
            return;
        }
        if self.bytes + data.len() > Self::BUDGET {
            self.entries.clear();
            self.bytes = 0;
        }
        self.bytes += data.len();
        if let Some((_, _, old)) = self
            .entries
            .insert((pack_id, offset), (kind, compressed_size, data.to_vec()))
        {
            self.bytes -= old.len();
        }
    }

    fn get(
        &mut self,
        pack_id: u32,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Option<(gix::objs::Kind, usize)> {
        let (kind, compressed_size, data) = self.entries.get(&(pack_id, offset))?;
        out.clear();
        out.extend_from_slice(data);
        Some((*kind, *compressed_size))
    }
}

/// Files of the index or of a tree, listed but not read: each path with its
/// blob, sorted by path. The blobs are read through [`Blobs::reader`], on
/// the threads that parse them: reading thousands of small blobs (inflating
/// each from its pack) on one thread would leave the other cores idle.
pub struct Blobs {
    pub files: Vec<(String, gix::ObjectId)>,
    /// Where the files are, for messages: `in the index`, `at main`.
    place: String,
    /// The object database, opened once for every reading thread, each of
    /// which takes its own handle on it (a gix handle cannot move to another
    /// thread in this build, which leaves out gix's `parallel` feature). One
    /// store means one numbering of its packs, so the handles can share one
    /// delta-base cache: a chain one thread has decoded is not decoded again
    /// by another.
    store: Result<std::sync::Arc<gix::odb::Store>, String>,
    cache: SharedCache,
    /// The first listed blob (by position) that could not be read: a damaged
    /// repository, which [`Blobs::check`] turns into an error rather than a
    /// lint finding.
    failed: std::sync::Mutex<Option<(usize, String)>>,
}

/// Why a listed blob was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobError {
    /// Its header says it holds this many bytes, over the reader's bound:
    /// it was not inflated.
    TooBig(u64),
    /// It cannot be read (missing, not a blob, damaged), worded to follow
    /// its path; [`Blobs::check`] reports the first such.
    Failed(String),
}

/// A [`DeltaBaseCache`] as gix uses it: one per handle, or one that
/// several handles share (the threads reading a [`Blobs`]).
#[derive(Clone, Default)]
struct SharedCache(std::sync::Arc<std::sync::Mutex<DeltaBaseCache>>);

impl SharedCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, DeltaBaseCache> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl gix::odb::pack::cache::DecodeEntry for SharedCache {
    fn put(
        &mut self,
        pack_id: u32,
        offset: u64,
        data: &[u8],
        kind: gix::objs::Kind,
        compressed_size: usize,
    ) {
        self.lock()
            .put(pack_id, offset, data, kind, compressed_size);
    }

    fn get(
        &mut self,
        pack_id: u32,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Option<(gix::objs::Kind, usize)> {
        self.lock().get(pack_id, offset, out)
    }
}

impl Blobs {
    /// `Err` when a blob could not be read through [`Blobs::reader`]: a
    /// missing or damaged object is the repository's fault, not the
    /// document's.
    pub fn check(&self) -> Result<(), GitError> {
        let failed = self
            .failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match failed {
            Some((key, detail)) => Err(self.error(key, detail)),
            None => Ok(()),
        }
    }

    fn error(&self, key: usize, detail: String) -> GitError {
        GitError::Object {
            path: self.files[key].0.clone(),
            place: self.place.clone(),
            detail,
        }
    }

    /// Read every listed blob on this thread: (path, content), sorted by path.
    #[cfg(test)]
    pub fn read_all(&self) -> Result<Vec<(String, Vec<u8>)>, GitError> {
        let mut read = self.reader();
        self.files
            .iter()
            .enumerate()
            .map(|(key, (path, _))| {
                read(key, u64::MAX)
                    .map(|bytes| (path.clone(), bytes))
                    .map_err(|e| match e {
                        BlobError::Failed(detail) => self.error(key, detail),
                        BlobError::TooBig(n) => self.error(key, format!("is {n} bytes")),
                    })
            })
            .collect()
    }

    /// A reader for one thread: from a listed blob's position and a size
    /// limit to its bytes. A blob over that limit is sized from its header
    /// and never inflated ([`BlobError::TooBig`]: a 300 MB blob in a pull
    /// request costs no memory); any other failure is remembered for
    /// [`Blobs::check`].
    pub fn reader(&self) -> impl FnMut(usize, u64) -> Result<Vec<u8>, BlobError> + '_ {
        let odb = self.store.as_ref().map(|store| {
            let mut odb = store.to_cache_arc();
            let cache = self.cache.clone();
            odb.set_pack_cache(move || Box::new(cache.clone()));
            odb
        });
        let mut buf = Vec::new();
        move |key, max| {
            use gix::objs::{Find, FindHeader};
            let id = self.files[key].1;
            if let Ok(odb) = &odb
                && let Ok(Some(header)) = odb.try_header(&id)
                && header.size > max
            {
                return Err(BlobError::TooBig(header.size));
            }
            let read = match &odb {
                Err(e) => Err(format!(
                    "cannot be read: cannot open the object database: {e}"
                )),
                Ok(odb) => match odb.try_find(&id, &mut buf) {
                    Ok(Some(data)) if data.kind == gix::objs::Kind::Blob => Ok(data.data.to_vec()),
                    Ok(Some(data)) => Err(format!(
                        "cannot be read: object {id} is a {}, not a blob",
                        data.kind
                    )),
                    Ok(None) => Err(format!(
                        "cannot be read: its blob {id} is missing from the repository (check it with `git fsck`)"
                    )),
                    Err(e) => Err(format!("cannot be read: blob {id}: {e}")),
                },
            };
            if let Err(detail) = &read {
                let mut failed = self
                    .failed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // The first by position, whichever thread met it first.
                if failed.as_ref().is_none_or(|(first, _)| key < *first) {
                    *failed = Some((key, detail.clone()));
                }
            }
            read.map_err(BlobError::Failed)
        }
    }
}

/// Tracked files of an index: see [`Repo::tracked_files`].
fn tracked_in(index: &gix::index::State) -> Vec<String> {
    use gix::index::entry::Mode;
    let mut out: Vec<String> = index
        .entries()
        .iter()
        .filter(|e| !e.mode.contains(Mode::COMMIT) && e.mode != Mode::DIR)
        .map(|e| lossy(e.path(index)))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn lossy(path: &BStr) -> String {
    path.to_str_lossy().into_owned()
}

fn is_not_a_repository(err: &gix::Error) -> bool {
    use gix::discover::upwards::Error as E;
    matches!(
        err.downcast_any_ref::<E>(),
        Some(
            E::NoGitRepository { .. }
                | E::NoGitRepositoryWithinCeiling { .. }
                | E::NoGitRepositoryWithinFs { .. }
        )
    )
}

impl Repo {
    /// Discover the repository holding `start`, walking up like git does and
    /// honouring `GIT_DIR` / `GIT_WORK_TREE` (and `GIT_CEILING_DIRECTORIES`).
    /// `Ok(None)` when `start` is in no repository; [`GitError::Bare`] for a
    /// repository without a work tree.
    pub fn discover(start: &Path) -> Result<Option<Repo>, GitError> {
        match gix::ThreadSafeRepository::discover_with_environment_overrides(start) {
            Ok(repo) => Repo::from_gix(repo.to_thread_local()).map(Some),
            Err(err) if is_not_a_repository(&err) => Ok(None),
            Err(err) => Err(GitError::gix(
                format!(
                    "cannot open the git repository at or above {}",
                    start.display()
                ),
                err,
            )),
        }
    }

    fn from_gix(mut repo: gix::Repository) -> Result<Repo, GitError> {
        repo.objects
            .set_pack_cache(|| Box::new(SharedCache::default()));
        let Some(workdir) = repo.workdir() else {
            return Err(GitError::Bare {
                git_dir: repo.git_dir().to_path_buf(),
            });
        };
        let workdir = std::path::absolute(workdir).map_err(|source| GitError::Io {
            path: workdir.to_path_buf(),
            source,
        })?;
        Ok(Repo { repo, workdir })
    }

    /// The top of the work tree, absolute.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The repository's git folder (`.git`, or a linked worktree's own).
    pub fn git_dir(&self) -> &Path {
        self.repo.git_dir()
    }

    fn index(&self) -> Result<gix::worktree::Index, GitError> {
        self.repo
            .index_or_empty()
            .map_err(|e| GitError::gix("cannot read the git index", e))
    }

    /// The index for reading only, read as git reads it everywhere but in
    /// `git fsck`: its trailing checksum is not computed (on a
    /// 1,000,000-file index, hashing its 90 MB took about as long as
    /// decoding it). A damaged index still fails to decode. No index file:
    /// empty.
    fn index_to_read(&self) -> Result<gix::index::File, GitError> {
        let path = self.repo.index_path();
        let hash = self.repo.object_hash();
        if !path.exists() {
            return Ok(gix::index::File::from_state(
                gix::index::State::new(hash),
                path,
            ));
        }
        gix::index::File::at(&path, hash, true, Default::default())
            .map_err(|e| GitError::gix("cannot read the git index", e))
    }

    /// Tracked files from the index (`git ls-files`), skipping submodules and
    /// sparse directory entries; sorted, each path once.
    pub fn tracked_files(&self) -> Result<Vec<String>, GitError> {
        let index = self.index_to_read()?;
        Ok(tracked_in(&index))
    }

    /// The index's stage-0 blobs whose paths start with `prefix` (e.g.
    /// `.orchestrator/`), sorted by path, listed for [`Blobs::reader`].
    pub fn index_blobs(&self, prefix: &str) -> Result<Blobs, GitError> {
        let index = self.index_to_read()?;
        Ok(self.blobs_in(&index, prefix))
    }

    /// [`Repo::index_blobs`] and [`Repo::tracked_files`] from one read of
    /// the index (`lint --staged` needs both; a large index takes a while to
    /// read).
    pub fn index_blobs_and_tracked(&self, prefix: &str) -> Result<(Blobs, Vec<String>), GitError> {
        let index = self.index_to_read()?;
        Ok((self.blobs_in(&index, prefix), tracked_in(&index)))
    }

    /// A listing of blobs to read through [`Blobs::reader`], on a store of their
    /// own opened as this repository's is.
    fn blobs(&self, files: Vec<(String, gix::ObjectId)>, place: String) -> Blobs {
        let current = self.repo.objects.store_ref();
        let store = gix::odb::Store::at_opts(
            current.path().to_path_buf(),
            current.object_hash(),
            &mut current.replacements(),
            gix::odb::store::init::Options {
                use_multi_pack_index: current.use_multi_pack_index(),
                ..Default::default()
            },
        )
        .map(std::sync::Arc::new)
        .map_err(|e| e.to_string());
        Blobs {
            files,
            place,
            store,
            cache: SharedCache::default(),
            failed: Default::default(),
        }
    }

    fn blobs_in(&self, index: &gix::index::State, prefix: &str) -> Blobs {
        use gix::index::entry::{Mode, Stage};
        let mut files = Vec::new();
        for e in index.prefixed_entries(prefix.into()).unwrap_or_default() {
            if e.stage() != Stage::Unconflicted
                || e.mode.contains(Mode::COMMIT)
                || e.mode == Mode::DIR
                || e.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD)
            {
                continue;
            }
            let path = lossy(e.path(index));
            if path.starts_with(prefix) {
                files.push((path, e.id));
            }
        }
        self.blobs(files, "in the index".to_string())
    }

    fn commit_of(&self, rev: &str) -> Result<gix::Commit<'_>, GitError> {
        let bad = |e: gix::Error| GitError::BadRevision {
            rev: rev.to_string(),
            detail: error::describe(&e),
        };
        let id = self.repo.rev_parse_single(rev).map_err(bad)?;
        let object = id.object().map_err(bad)?;
        object.peel_to_commit().map_err(bad)
    }

    fn tree_of(&self, rev: &str) -> Result<gix::Tree<'_>, GitError> {
        self.commit_of(rev)?
            .tree()
            .map_err(|e| GitError::gix(format!("cannot read the tree of {rev}"), e))
    }

    /// The commit `rev` names (tags are peeled).
    pub fn resolve(&self, rev: &str) -> Result<gix::ObjectId, GitError> {
        Ok(self.commit_of(rev)?.id)
    }

    /// The blobs of the tree at `rev` whose paths start with `prefix`, sorted
    /// by path, listed for [`Blobs::reader`].
    pub fn blobs_at(&self, rev: &str, prefix: &str) -> Result<Blobs, GitError> {
        let root = self.tree_of(rev)?;
        let context = || format!("cannot read the files of {rev} under {prefix}");
        let empty = || self.blobs(Vec::new(), format!("at {rev}"));
        // Descend to the deepest folder the prefix names, then filter.
        let (dir, subtree) = match prefix.rfind('/') {
            None => (String::new(), root),
            Some(i) => {
                let dir = &prefix[..i];
                let entry = root
                    .lookup_entry(dir.split('/').filter(|c| !c.is_empty()))
                    .map_err(|e| GitError::gix(context(), e))?;
                match entry {
                    Some(entry) if entry.mode().is_tree() => {
                        let tree = self
                            .repo
                            .find_tree(entry.object_id())
                            .map_err(|e| GitError::gix(context(), e))?;
                        (format!("{dir}/"), tree)
                    }
                    _ => return Ok(empty()),
                }
            }
        };
        let records = subtree
            .traverse()
            .breadthfirst
            .files()
            .map_err(|e| GitError::gix(context(), e))?;
        let mut files = Vec::new();
        for rec in records {
            if !rec.mode.is_blob() && !rec.mode.is_link() {
                continue;
            }
            let path = format!("{dir}{}", rec.filepath.to_str_lossy());
            if path.starts_with(prefix) {
                files.push((path, rec.oid));
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(self.blobs(files, format!("at {rev}")))
    }

    /// One file at a revision; `None` if the path is absent or not a file,
    /// or its blob holds more than `max` bytes (read from the object's
    /// header: a huge blob is never inflated).
    pub fn file_at(&self, rev: &str, path: &str, max: u64) -> Result<Option<Vec<u8>>, GitError> {
        let tree = self.tree_of(rev)?;
        let context = || format!("cannot read {path} at {rev}");
        let entry = tree
            .lookup_entry(path.split('/').filter(|c| !c.is_empty()))
            .map_err(|e| GitError::gix(context(), e))?;
        match entry {
            Some(entry) if entry.mode().is_blob() || entry.mode().is_link() => {
                if self.blob_size(entry.object_id())? > max {
                    return Ok(None);
                }
                let blob = self
                    .repo
                    .find_blob(entry.object_id())
                    .map_err(|e| GitError::gix(context(), e))?;
                Ok(Some(blob.data.clone()))
            }
            _ => Ok(None),
        }
    }

    /// A blob's size from its object header (nothing is inflated).
    fn blob_size(&self, id: gix::ObjectId) -> Result<u64, GitError> {
        let header = self
            .repo
            .find_header(id)
            .map_err(|e| GitError::gix(format!("cannot read object {id}"), e))?;
        Ok(header.size())
    }

    /// The merge-base of two revisions. In a shallow clone whose history
    /// stops before it, [`GitError::Shallow`] with the fix.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<gix::ObjectId, GitError> {
        let one = self.resolve(a)?;
        let two = self.resolve(b)?;
        let shallow = || GitError::Shallow {
            a: a.to_string(),
            b: b.to_string(),
        };
        match self.repo.merge_base(one, two) {
            Ok(Some(id)) => Ok(id.detach()),
            Ok(None) if self.is_shallow() => Err(shallow()),
            Ok(None) => Err(GitError::NoMergeBase {
                a: a.to_string(),
                b: b.to_string(),
            }),
            Err(_) if self.is_shallow() => Err(shallow()),
            Err(e) => Err(GitError::gix(
                format!("cannot compute the merge-base of {a} and {b}"),
                e,
            )),
        }
    }

    /// The default branch, as a revision [`Repo::resolve`] accepts:
    /// origin/HEAD's target (`origin/main`), else a local `main`, else
    /// `master`, else `origin/main` or `origin/master` (a CI checkout often
    /// has remote branches only).
    pub fn default_branch(&self) -> Result<String, GitError> {
        use gix::refs::TargetRef;
        if let Ok(Some(head)) = self.repo.try_find_reference("refs/remotes/origin/HEAD")
            && let TargetRef::Symbolic(target) = head.target()
        {
            let name = target.as_bstr().to_str_lossy();
            if let Some(short) = name.strip_prefix("refs/remotes/") {
                return Ok(short.to_string());
            }
        }
        for (full, short) in [
            ("refs/heads/main", "main"),
            ("refs/heads/master", "master"),
            ("refs/remotes/origin/main", "origin/main"),
            ("refs/remotes/origin/master", "origin/master"),
        ] {
            if let Ok(Some(_)) = self.repo.try_find_reference(full) {
                return Ok(short.to_string());
            }
        }
        Err(GitError::NoDefaultBranch)
    }

    /// `core.autocrlf` is `true` or `input`: git turns CRLF into LF when
    /// it commits a text file, and orch does the same for its documents.
    /// (`.gitattributes` filters are not applied: see the module docs.)
    pub fn autocrlf(&self) -> bool {
        self.repo
            .config_snapshot()
            .string("core.autocrlf")
            .is_some_and(|v| {
                matches!(
                    v.to_str_lossy().trim().to_ascii_lowercase().as_str(),
                    "true" | "input" | "yes" | "on" | "1"
                )
            })
    }

    /// The clone is shallow (its history is cut off).
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(false)
    }

    /// Changed paths from `base`'s tree to `head`'s, renames detected
    /// (git's default similarity, 50%).
    pub fn changes(&self, base: &str, head: &str) -> Result<Vec<Change>, GitError> {
        let old = self.tree_of(base)?;
        let new = self.tree_of(head)?;
        let options =
            gix::diff::Options::default().with_rewrites(Some(gix::diff::Rewrites::default()));
        let changes = self
            .repo
            .diff_tree_to_tree(Some(&old), Some(&new), Some(options))
            .map_err(|e| GitError::gix(format!("cannot diff {base} against {head}"), e))?;
        Ok(to_changes(changes))
    }

    /// HEAD's tree against the index (`git diff --cached --name-status`),
    /// renames detected as `diff.renames` says (on by default). A path with
    /// merge conflicts is `Modified`.
    pub fn staged_changes(&self) -> Result<Vec<Change>, GitError> {
        use gix::index::entry::{Flags, Mode, Stage};
        use gix::objs::tree::EntryKind;
        let context = "cannot compare HEAD with the index";
        // Build the index's tree in memory (nothing is written to the
        // object database), then diff it against HEAD's tree.
        let mem = self.repo.clone().with_object_memory();
        let head_tree = mem
            .head_tree_id_or_empty()
            .map_err(|e| GitError::gix(context, e))?
            .detach();
        let index = self.index()?;
        let empty = gix::ObjectId::empty_tree(mem.object_hash());
        let mut editor = mem
            .edit_tree(empty)
            .map_err(|e| GitError::gix(context, e))?;
        let mut conflicted: Vec<String> = Vec::new();
        for e in index.entries() {
            let path = e.path(&index);
            if e.stage() != Stage::Unconflicted {
                let p = lossy(path);
                if conflicted.last() != Some(&p) {
                    conflicted.push(p);
                }
                continue;
            }
            if e.flags.contains(Flags::INTENT_TO_ADD) {
                continue;
            }
            let kind = if e.mode == Mode::DIR {
                EntryKind::Tree
            } else if e.mode.contains(Mode::COMMIT) {
                EntryKind::Commit
            } else if e.mode == Mode::SYMLINK {
                EntryKind::Link
            } else if e.mode == Mode::FILE_EXECUTABLE {
                EntryKind::BlobExecutable
            } else {
                EntryKind::Blob
            };
            editor
                .upsert(path, kind, e.id)
                .map_err(|err| GitError::gix(format!("{context} (at {})", lossy(path)), err))?;
        }
        let index_tree = editor
            .write()
            .map_err(|e| GitError::gix(context, e))?
            .detach();
        let old = mem
            .find_tree(head_tree)
            .map_err(|e| GitError::gix(context, e))?;
        let new = mem
            .find_tree(index_tree)
            .map_err(|e| GitError::gix(context, e))?;
        let changes = mem
            .diff_tree_to_tree(Some(&old), Some(&new), None)
            .map_err(|e| GitError::gix(context, e))?;
        let mut out = to_changes(changes);
        if !conflicted.is_empty() {
            out.retain(|c| !matches!(c, Change::Deleted(p) if conflicted.contains(p)));
            out.extend(conflicted.into_iter().map(Change::Modified));
            out.sort_by(|a, b| a.path().cmp(b.path()));
        }
        Ok(out)
    }

    /// The hooks folder git uses: `core.hooksPath` (a relative value is
    /// taken from the top of the work tree, `~` is expanded), else
    /// `<common git dir>/hooks`.
    pub fn hooks_dir(&self) -> Result<PathBuf, GitError> {
        let configured = self
            .repo
            .config_snapshot()
            .trusted_path("core.hooksPath")
            .map_err(|e| GitError::gix("cannot read core.hooksPath", e))?;
        Ok(match configured {
            Some(path) if path.is_absolute() => path,
            Some(path) => self.workdir.join(path),
            None => self.repo.common_dir().join("hooks"),
        })
    }

    /// Commits reachable from HEAD, newest first, whose message has the
    /// trailer `Orch-Task: <task>` (any task if `None`); at most `limit`.
    /// An unborn HEAD has none.
    pub fn orch_commits(
        &self,
        task: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OrchCommit>, GitError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.each_orch_commit(usize::MAX, |c| {
            let wanted = c.trailers.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("Orch-Task") && task.is_none_or(|t| v.trim() == t)
            });
            if wanted {
                out.push(c);
            }
            out.len() < limit
        })?;
        Ok(out)
    }

    /// Call `f` with each commit reachable from HEAD that has an
    /// `Orch-Task:` trailer, newest first, until it returns `false` or
    /// `max_walk` commits (of any kind) were read.
    pub fn each_orch_commit(
        &self,
        max_walk: usize,
        mut f: impl FnMut(OrchCommit) -> bool,
    ) -> Result<(), GitError> {
        use gix::revision::walk::Sorting;
        let context = "cannot read the commit history";
        let head = self.repo.head().map_err(|e| GitError::gix(context, e))?;
        let Some(tip) = head.id() else {
            return Ok(());
        };
        let walk = tip
            .ancestors()
            .sorting(Sorting::ByCommitTime(Default::default()))
            .all()
            .map_err(|e| GitError::gix(context, e))?;
        for info in walk.take(max_walk) {
            let info = info.map_err(|e| GitError::gix(context, e))?;
            let commit = info.object().map_err(|e| GitError::gix(context, e))?;
            let message = commit.message().map_err(|e| GitError::gix(context, e))?;
            let trailers: Vec<(String, String)> = match message.body() {
                Some(body) => body
                    .trailers()
                    .map(|t| (lossy(t.token), lossy(t.value.as_ref())))
                    .collect(),
                None => Vec::new(),
            };
            if !trailers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("Orch-Task"))
            {
                continue;
            }
            let time = commit
                .author()
                .map(|a| a.seconds())
                .map_err(|e| GitError::gix(context, e))?;
            let more = f(OrchCommit {
                id: commit.id,
                subject: lossy(message.summary().as_ref()),
                trailers,
                time,
            });
            if !more {
                break;
            }
        }
        Ok(())
    }
}

fn to_changes(changes: Vec<gix::object::tree::diff::ChangeDetached>) -> Vec<Change> {
    use gix::object::tree::diff::ChangeDetached as C;
    let mut out = Vec::new();
    for change in changes {
        match change {
            C::Addition {
                location,
                entry_mode,
                ..
            } if !entry_mode.is_tree() => out.push(Change::Added(lossy(location.as_ref()))),
            C::Deletion {
                location,
                entry_mode,
                ..
            } if !entry_mode.is_tree() => out.push(Change::Deleted(lossy(location.as_ref()))),
            C::Modification {
                location,
                previous_entry_mode,
                entry_mode,
                ..
            } => match (previous_entry_mode.is_tree(), entry_mode.is_tree()) {
                (false, false) => out.push(Change::Modified(lossy(location.as_ref()))),
                (true, false) => out.push(Change::Added(lossy(location.as_ref()))),
                (false, true) => out.push(Change::Deleted(lossy(location.as_ref()))),
                (true, true) => {}
            },
            C::Rewrite {
                source_location,
                location,
                entry_mode,
                copy,
                ..
            } if !entry_mode.is_tree() => {
                if copy {
                    out.push(Change::Added(lossy(location.as_ref())));
                } else {
                    out.push(Change::Renamed {
                        from: lossy(source_location.as_ref()),
                        to: lossy(location.as_ref()),
                    });
                }
            }
            _ => {}
        }
    }
    out
}
