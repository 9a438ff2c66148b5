//! The one error type of the git module. Every message says what went wrong
//! and what the user can do about it.

use std::path::PathBuf;

/// A failure of a git operation. `Display` is written for the user: it names
/// the file, revision or path at fault and the command that fixes it.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The repository has no work tree.
    #[error(
        "{} is a bare repository: orch needs a work tree (run it inside a clone with a checkout)",
        git_dir.display()
    )]
    Bare { git_dir: PathBuf },

    /// Neither git config nor the GIT_* variables give an author or committer.
    #[error(
        "no {role} identity: set user.name and user.email \
         (git config --global user.name \"Your Name\"; git config --global user.email you@example.com), \
         or the GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL and GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL variables"
    )]
    NoIdentity { role: &'static str },

    /// The branch (or detached HEAD) moved between reading it and updating it.
    #[error(
        "{reference} moved while orch was committing (expected {expected}, found {actual}); \
         nothing was overwritten and the index is unchanged: run the command again"
    )]
    Moved {
        reference: String,
        expected: String,
        actual: String,
    },

    /// The new index could not be written into `index.lock`: nothing moved.
    #[error(
        "cannot write the new index to {}: {detail}; nothing was committed: the branch did not move and the index is unchanged",
        lock.display()
    )]
    IndexWrite { lock: PathBuf, detail: String },

    /// The branch moved to orch's commit, but `index.lock` could not be
    /// renamed over the index: the index still holds the old versions.
    #[error(
        "{reference} moved to orch's commit {commit}, but the index could not be updated ({detail}); \
         run `git reset -q -- {paths}` so that your next commit does not undo it"
    )]
    IndexNotUpdated {
        reference: String,
        commit: String,
        paths: String,
        detail: String,
    },

    /// A lock file stayed held for the whole wait.
    #[error(
        "{} is held by another git process (nothing was committed: the branch did not move); \
         wait for it to finish and retry, or, if no git process is running, delete the stale lock file \
         (a killed git or orch leaves it)",
        lock.display()
    )]
    Locked { lock: PathBuf },

    /// The user staged a version of a path that differs from both HEAD's and
    /// the one orch would commit.
    #[error(
        "{0} has staged changes that differ from both HEAD and orch's version; \
         commit or unstage them first (git restore --staged {0})"
    )]
    StagedConflict(String),

    /// The history needed to compute a merge-base is missing from a shallow clone.
    #[error(
        "this is a shallow clone and the merge-base of {a} and {b} is outside the fetched history; \
         fetch the full history (git fetch --unshallow, or `fetch-depth: 0` with actions/checkout)"
    )]
    Shallow { a: String, b: String },

    /// A revision that does not resolve in a shallow clone, where it may lie
    /// outside the fetched history.
    #[error(
        "cannot resolve revision `{rev}` ({detail}); this is a shallow clone, so it may lie outside the fetched history: \
         fetch the full history (git fetch --unshallow, or `fetch-depth: 0` with actions/checkout)"
    )]
    ShallowRevision { rev: String, detail: String },

    /// Two revisions share no history.
    #[error(
        "`{a}` and `{b}` have no common ancestor, so there is no merge-base to compare with; \
         to compare the two trees directly, give align-docs the two-dot range `{a}..{b}`"
    )]
    NoMergeBase { a: String, b: String },

    /// A revision that does not resolve to a commit.
    #[error(
        "cannot resolve revision `{rev}` to a commit ({detail}); check it with `git rev-parse --verify {rev}`"
    )]
    BadRevision { rev: String, detail: String },

    /// No default branch could be found.
    #[error(
        "cannot find the default branch: origin/HEAD is unset and there is no main or master branch; \
         run `git remote set-head origin --auto` or pass the base revision explicitly"
    )]
    NoDefaultBranch,

    /// `commit_files` was given nothing to commit.
    #[error("nothing to commit: no files were given")]
    NothingToCommit,

    /// A path that cannot be committed as given.
    #[error("cannot commit `{path}`: {reason}")]
    InvalidPath { path: String, reason: String },

    /// A listed blob that cannot be read (missing, or not a blob).
    #[error("{path} {place} {detail}")]
    Object {
        path: String,
        place: String,
        detail: String,
    },

    /// Paths being written hold uncommitted work (staged, modified, or
    /// an untracked file in the way).
    #[error(
        "uncommitted changes in {}: orch will not overwrite them; commit or stash them first (git stash -u)",
        list(paths)
    )]
    Uncommitted { paths: Vec<String> },

    /// A move of HEAD that orch was making was killed half-way.
    #[error(
        "an earlier orch command was stopped while moving HEAD ({} records it); run `orch integrate` to finish it",
        journal.display()
    )]
    Interrupted { journal: PathBuf },

    /// A file-system error on a named path.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Any other failure reported by gix, with what orch was doing.
    #[error("{context}: {detail}")]
    Gix {
        context: String,
        detail: String,
        #[source]
        source: gix::Error,
    },
}

impl GitError {
    /// Wraps a gix error with what orch was doing when it happened.
    pub(crate) fn gix(context: impl Into<String>, source: gix::Error) -> GitError {
        GitError::Gix {
            context: context.into(),
            detail: describe(&source),
            source,
        }
    }
}

/// Up to five paths in backquotes, then how many more.
fn list(paths: &[String]) -> String {
    let shown: Vec<String> = paths.iter().take(5).map(|p| format!("`{p}`")).collect();
    if paths.len() > 5 {
        format!("{} and {} more", shown.join(", "), paths.len() - 5)
    } else {
        shown.join(", ")
    }
}

/// The chain of messages of a gix error, outermost first, without repeats.
pub(crate) fn describe(err: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in err.iter_errors() {
        let text = e.to_string();
        if text.is_empty() || parts.iter().any(|p| p == &text || p.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}
