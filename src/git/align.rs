//! What `orch align-docs` needs beyond the rest of the module: the paths of
//! a revision's tree without reading their blobs, and one staged file.

use gix::bstr::ByteSlice;

use super::{GitError, Repo};

impl Repo {
    /// Every file path (blobs and symbolic links) of the tree at `rev`,
    /// sorted; no blob is read.
    pub fn paths_at(&self, rev: &str) -> Result<Vec<String>, GitError> {
        let tree = self.tree_of(rev)?;
        let records = tree
            .traverse()
            .breadthfirst
            .files()
            .map_err(|e| GitError::gix(format!("cannot list the files of {rev}"), e))?;
        let mut out: Vec<String> = records
            .into_iter()
            .filter(|r| r.mode.is_blob() || r.mode.is_link())
            .map(|r| r.filepath.to_str_lossy().into_owned())
            .collect();
        out.sort();
        Ok(out)
    }

    /// One file's staged content (stage 0 of the index); `None` when the
    /// path is not staged as a file, or its blob holds more than `max`
    /// bytes (sized from its header, never inflated).
    pub fn staged_file(&self, path: &str, max: u64) -> Result<Option<Vec<u8>>, GitError> {
        use gix::index::entry::{Flags, Mode, Stage};
        let index = self.index()?;
        let Some(entry) = index.entry_by_path_and_stage(path.into(), Stage::Unconflicted) else {
            return Ok(None);
        };
        if entry.mode.contains(Mode::COMMIT)
            || entry.mode == Mode::DIR
            || entry.flags.contains(Flags::INTENT_TO_ADD)
        {
            return Ok(None);
        }
        if self.blob_size(entry.id)? > max {
            return Ok(None);
        }
        let blob = self
            .repo
            .find_blob(entry.id)
            .map_err(|e| GitError::gix(format!("cannot read the staged content of {path}"), e))?;
        Ok(Some(blob.data.clone()))
    }

    /// The short (7 hex digit) name of the commit `rev` names.
    pub fn short_id(&self, rev: &str) -> Result<String, GitError> {
        let id = self.resolve(rev)?;
        Ok(id.to_hex_with_len(7).to_string())
    }
}
