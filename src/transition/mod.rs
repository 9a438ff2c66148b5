//! State transitions (DESIGN 2 and 7): `start`, `record`, `block`, `cancel`,
//! `split`, and the re-planning decisions `replan --apply` writes.
//!
//! Every transition runs in a [`Session`]: the orch lock is taken first
//! (`<git-dir>/orch.lock`, see [`lock`]), then the documents are read, the
//! transition is checked against the table and the program, the edits are
//! made by byte range ([`edit`]), the files are written atomically, and one
//! commit records them through [`crate::git::Repo::commit_files`]. A refused
//! transition writes nothing. A commit that fails before the branch moved
//! puts the files back as they were.

pub mod edit;
pub mod journal;
pub mod lock;
pub mod replan;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsx;
use crate::git::{CommitInfo, GitError, Repo};
use crate::model::scope::effective_scope;
use crate::model::views::{LedgerView, PlanView};
use crate::model::{Index, Outcome, Program, Task, TaskStatus, templates};
use crate::scope::{Budget, Overlap, Scope};
use crate::source::FileId;
use crate::util::{did_you_mean, nearest};

use edit::Edits;
use lock::OrchLock;

/// A git error as an operational failure (exit 2); its message names the fix.
pub fn git_error(e: GitError) -> Error {
    Error::usage(e.to_string())
}

/// Where transitions happen: the work tree, the orchestrator folder, the
/// repository (none with `--no-commit` outside git) and the orch lock.
pub struct Session {
    pub root: PathBuf,
    pub dir: PathBuf,
    repo: Option<Repo>,
    commit: bool,
    _lock: Option<OrchLock>,
}

/// What [`Session::write`] did.
#[derive(Debug, Default)]
pub struct Written {
    /// Paths written, relative to the work tree's top.
    pub files: Vec<String>,
    pub commit: Option<CommitInfo>,
}

/// A set of files to write and the commit message that records them.
#[derive(Debug, Default)]
pub struct Change {
    /// Absolute path → (content before, content after).
    pub files: BTreeMap<PathBuf, (String, String)>,
    pub subject: String,
    pub body: Vec<String>,
    pub trailers: Vec<(String, String)>,
}

impl Change {
    pub fn message(&self) -> String {
        let mut m = self.subject.clone();
        for p in &self.body {
            if !p.trim().is_empty() {
                m.push_str("\n\n");
                m.push_str(p.trim());
            }
        }
        if !self.trailers.is_empty() {
            m.push_str("\n\n");
            for (k, v) in &self.trailers {
                m.push_str(&format!("{k}: {}\n", one_line(v)));
            }
        }
        m
    }

    pub fn is_empty(&self) -> bool {
        self.files.values().all(|(old, new)| old == new)
    }
}

/// A text on one line (commit subjects, trailers).
pub use crate::util::one_line;

/// Edits on several documents of one program, turned into a [`Change`].
#[derive(Default)]
pub struct Draft {
    edits: HashMap<FileId, Edits>,
}

impl Draft {
    pub fn file(&mut self, file: FileId) -> &mut Edits {
        self.edits.entry(file).or_default()
    }

    pub fn into_change(self, program: &Program, subject: String) -> Result<Change> {
        let mut change = Change {
            subject,
            ..Change::default()
        };
        for (file, edits) in self.edits {
            if edits.is_empty() {
                continue;
            }
            let f = program.file(file);
            let new = edits.apply(&f.text)?;
            change
                .files
                .insert(f.abs_path.clone(), (f.text.to_string(), new));
        }
        refuse_new_errors(program, &change)?;
        Ok(change)
    }
}

/// The program as it would be with `change` written.
fn program_with(program: &Program, change: &Change) -> Program {
    use crate::model::program::Input;
    let reason = |id: FileId| {
        program
            .unreadable
            .iter()
            .find(|u| u.file == id)
            .map(|u| u.reason.clone())
    };
    let mut config = None;
    let mut inputs = Vec::new();
    for (i, f) in program.files.iter().enumerate() {
        let id = FileId(i as u32);
        let bytes = match (reason(id), change.files.get(&f.abs_path)) {
            (_, Some((_, new))) => Ok(new.clone().into_bytes()),
            (Some(why), None) => Err(why),
            (None, None) => Ok(f.text.as_bytes().to_vec()),
        };
        let input = Input {
            path: f.path.clone(),
            abs_path: f.abs_path.clone(),
            bytes,
        };
        if program.config_file == Some(id) {
            config = Some(input);
        } else {
            inputs.push(input);
        }
    }
    Program::from_inputs(&program.root, &program.dir, inputs, config)
}

/// Refuse a change that gives a document it writes a lint error it did not
/// have (text passed on the command line that breaks the Markdown: an HTML
/// comment as evidence, say), naming the errors.
fn refuse_new_errors(program: &Program, change: &Change) -> Result<()> {
    use crate::diagnostic::{Diagnostic, Severity};
    if change.is_empty() {
        return Ok(());
    }
    let after = program_with(program, change);
    let written: std::collections::HashSet<&Path> =
        change.files.keys().map(PathBuf::as_path).collect();
    let errors = |p: &Program, found: Vec<Diagnostic>| -> Vec<(String, &'static str, Diagnostic)> {
        found
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .filter(|d| written.contains(p.file(d.file).abs_path()))
            .map(|d| (p.file(d.file).path.clone(), d.code, d))
            .collect()
    };
    let mut before: HashMap<(String, &'static str), usize> = HashMap::new();
    for (path, code, _) in errors(program, crate::rules::lint(program)) {
        *before.entry((path, code)).or_default() += 1;
    }
    let mut new = Vec::new();
    for (path, code, d) in errors(&after, crate::rules::lint(&after)) {
        match before.get_mut(&(path.clone(), code)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => {
                let (line, _) = after.file(d.file).line_col(d.span.start);
                new.push(format!("{path}:{line}: {code}: {}", d.message));
            }
        }
    }
    if new.is_empty() {
        return Ok(());
    }
    let shown = new.len().min(5);
    let more = if new.len() > shown {
        format!("\n  - and {} more", new.len() - shown)
    } else {
        String::new()
    };
    Err(Error::with_help(
        format!(
            "refusing to write: the change would fail `orch lint`; nothing was written:\n  - {}{more}",
            new[..shown].join("\n  - ")
        ),
        "reword the text you passed (evidence, next action, objective, reason): leave out HTML comments (`<!--`) and raw HTML, which hide or end the table",
    ))
}

impl Session {
    /// Open the repository holding `dir` and take the orch lock. Outside git,
    /// only `commit == false` (`--no-commit`) is allowed.
    pub fn open(root: &Path, dir: &Path, commit: bool) -> Result<Session> {
        let repo = Repo::discover(dir).map_err(git_error)?;
        if commit {
            let Some(r) = &repo else {
                return Err(Error::with_help(
                    format!(
                        "{} is not inside a git work tree, and orch commits every transition",
                        dir.display()
                    ),
                    "run it inside a git repository (git init), or pass --no-commit to write the files only",
                ));
            };
            // No identity: refuse before anything is written.
            r.check_identity().map_err(git_error)?;
            if relative_to(r.workdir(), dir).is_none() {
                return Err(Error::with_help(
                    format!(
                        "{} is outside the work tree of the repository at {}",
                        dir.display(),
                        r.workdir().display()
                    ),
                    "pass --no-commit to write the files only",
                ));
            }
        }
        let lock = match &repo {
            Some(r) => Some(OrchLock::acquire(r.git_dir(), lock::WAIT)?),
            None => None,
        };
        // Under the lock: a transition a killed orch left is finished or
        // undone before this one reads anything.
        if let Some(r) = &repo {
            print_notes(&journal::recover(r, root, dir)?);
        }
        Ok(Session {
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            repo,
            commit,
            _lock: lock,
        })
    }

    pub fn repo(&self) -> Option<&Repo> {
        self.repo.as_ref()
    }

    /// Claim `ids` ([`crate::claims::take`]: all or nothing, exit 2 naming
    /// the holder) when this session commits; with `--no-commit`, none.
    pub fn claim(&self, program: &Program, ids: &[String], run: Option<&str>) -> Result<()> {
        let Some(repo) = self.repo.as_ref().filter(|_| self.commit) else {
            return Ok(());
        };
        let remote = crate::claims::remote(&program.config)?;
        crate::claims::take(repo, ids, run, remote.as_deref())
    }

    /// Release the claims on `ids` ([`crate::claims::release_many`]),
    /// never failing: a problem is a warning on stderr. The tasks whose
    /// claim was released.
    pub fn unclaim(&self, program: &Program, ids: &[String], reason: &str) -> Vec<String> {
        let Some(repo) = self.repo.as_ref() else {
            return Vec::new();
        };
        let warn = |e: Error| {
            eprintln!(
                "warning: the claims on {} were not released: {}",
                ids.join(", "),
                crate::util::escape_controls(&e.to_string())
            );
        };
        let remote = match crate::claims::remote(&program.config) {
            Ok(r) => r,
            Err(e) => {
                warn(e);
                None
            }
        };
        match crate::claims::release_many(repo, ids, reason, remote.as_deref()) {
            Ok(released) => released,
            Err(e) => {
                warn(e);
                Vec::new()
            }
        }
    }

    /// Those of `ids` not `in_progress` in the documents as they are now:
    /// after a failed write, a commit that landed all the same (the index
    /// alone not updated) keeps its tasks in progress, and their claims.
    pub fn not_in_progress(&self, ids: &[String]) -> Vec<String> {
        let Ok(program) = self.load() else {
            return ids.to_vec();
        };
        let index = Index::build(&program);
        ids.iter()
            .filter(|id| {
                index
                    .task(id)
                    .is_none_or(|t| t.status != TaskStatus::InProgress)
            })
            .cloned()
            .collect()
    }

    /// Whether the task's branch (`orch/<ID>`, with the configured prefix)
    /// exists: its claim then waits for `orch integrate`.
    fn has_branch(&self, program: &Program, id: &str) -> bool {
        let prefix = crate::isolate::Settings::of(&program.config)
            .map_or_else(|_| "orch/".to_string(), |s| s.prefix);
        self.repo
            .as_ref()
            .and_then(|r| r.branch_tip(&format!("{prefix}{id}")).ok().flatten())
            .is_some()
    }

    pub fn commits(&self) -> bool {
        self.commit
    }

    /// Read every document (after the lock was taken).
    pub fn load(&self) -> Result<Program> {
        Program::load_documents(&self.root, &self.dir)
    }

    /// Write the change's files atomically, then commit them (one commit),
    /// unless `--no-commit`. Unchanged files are skipped; an empty change
    /// writes and commits nothing.
    pub fn write(&self, change: &Change) -> Result<Written> {
        let mut out = Written::default();
        let changed: Vec<(&PathBuf, &String, &String)> = change
            .files
            .iter()
            .filter(|(_, (old, new))| old != new)
            .map(|(p, (old, new))| (p, old, new))
            .collect();
        if changed.is_empty() {
            return Ok(out);
        }
        for (path, _, _) in &changed {
            if !path.starts_with(&self.dir) {
                return Err(Error::usage(format!(
                    "refusing to write {}: it is outside {}",
                    path.display(),
                    self.dir.display()
                )));
            }
        }
        // No document orch writes grows past the limit every reader holds
        // it to: refuse, and say what to do.
        let limit = |path: &Path| {
            let rel = path.strip_prefix(&self.dir).ok().and_then(Path::to_str);
            crate::model::program::document_limit(rel.unwrap_or(""))
        };
        for (path, _, new) in &changed {
            check_size(
                &crate::model::program::display_path(&self.root, path),
                new.len(),
                limit(path),
            )?;
        }
        let repo = if self.commit {
            self.repo.as_ref()
        } else {
            None
        };
        let mut files = Vec::new();
        if let Some(repo) = repo {
            let autocrlf = repo.autocrlf();
            let born = repo.resolve("HEAD").is_ok();
            for (path, old, new) in &changed {
                let rel = relative_to(repo.workdir(), path).ok_or_else(|| {
                    Error::usage(format!(
                        "{} is outside the repository's work tree",
                        path.display()
                    ))
                })?;
                let at_head = if born {
                    repo.file_at("HEAD", &rel, limit(path)).map_err(git_error)?
                } else {
                    None
                };
                // git's autocrlf turns CRLF into LF when it commits a file
                // (unless the committed one holds CRs already): so does orch.
                let convert = autocrlf && !at_head.as_ref().is_some_and(|b| b.contains(&b'\r'));
                let to_git = |text: &str| -> Vec<u8> {
                    if convert {
                        text.replace("\r\n", "\n").into_bytes()
                    } else {
                        text.as_bytes().to_vec()
                    }
                };
                // orch commits the whole file: refuse to take the user's
                // uncommitted edits along with its own.
                if let Some(blob) = &at_head
                    && *blob != to_git(old)
                {
                    return Err(Error::with_help(
                        format!(
                            "`{rel}` has changes that are not committed, and orch commits the whole file"
                        ),
                        format!(
                            "commit them first (`git commit {rel}`) or set them aside (`git stash`), then run it again; or pass --no-commit to write the files only"
                        ),
                    ));
                }
                files.push((rel, to_git(new)));
            }
        }
        // The journal first: a transition killed from here on is finished
        // or undone by the next orch (see [`journal`]).
        let git_dir = self.repo.as_ref().map(|r| r.git_dir().to_path_buf());
        let mut entries = Vec::new();
        for (path, old, new) in &changed {
            let existed = std::fs::symlink_metadata(path).is_ok();
            entries.push(journal::Entry {
                path: crate::model::program::display_path(&self.root, path),
                old: existed.then(|| old.to_string()),
                new: new.to_string(),
            });
        }
        let head_before = self.repo.as_ref().and_then(|r| r.resolve("HEAD").ok());
        if let Some(g) = &git_dir {
            journal::begin(
                g,
                &journal::Journal {
                    subject: change.subject.clone(),
                    head: head_before.map(|h| h.to_string()),
                    commit: repo.is_some(),
                    files: entries,
                },
            )?;
        }
        let base = fsx::base_for(&self.root, &self.dir);
        let mut written: Vec<(&PathBuf, &String, bool)> = Vec::new();
        for (path, old, new) in &changed {
            let existed = std::fs::symlink_metadata(path).is_ok();
            if let Err(e) = fsx::write_inside(base, path, new.as_bytes(), true) {
                return Err(self.undo(&written, git_dir.as_deref(), e));
            }
            written.push((path, old, existed));
            out.files
                .push(crate::model::program::display_path(&self.root, path));
        }
        let Some(repo) = repo else {
            if let Some(g) = &git_dir {
                journal::end(g)?;
            }
            return Ok(out);
        };
        let message = change.message();
        let mut result = repo.commit_files(&files, &message);
        if matches!(result, Err(GitError::Moved { .. })) {
            // Someone moved the branch between our read and our update (a
            // `git commit` outside orch); our files are still ours: retry once.
            result = repo.commit_files(&files, &message);
        }
        match result {
            Ok(info) => {
                out.commit = Some(info);
                if let Some(g) = &git_dir {
                    journal::end(g)?;
                }
                Ok(out)
            }
            // The branch moved to our commit: the files stay, and so does the
            // journal, so that the next orch brings the index up to date.
            Err(e @ GitError::IndexNotUpdated { .. }) => Err(git_error(e)),
            Err(e) => {
                if repo.resolve("HEAD").ok() == head_before {
                    Err(self.undo(&written, git_dir.as_deref(), git_error(e)))
                } else {
                    Err(git_error(e))
                }
            }
        }
    }

    /// Put back every file a failed transition wrote, then drop its
    /// journal; `error` with what was done.
    fn undo(
        &self,
        written: &[(&PathBuf, &String, bool)],
        git_dir: Option<&Path>,
        error: Error,
    ) -> Error {
        let base = fsx::base_for(&self.root, &self.dir);
        let mut failed = Vec::new();
        for (path, old, existed) in written.iter().rev() {
            let put_back = if *existed {
                fsx::write_inside(base, path, old.as_bytes(), true)
            } else {
                std::fs::remove_file(path).map_err(|e| Error::io(*path, e))
            };
            if let Err(e) = put_back {
                failed.push(e.to_string());
            }
        }
        if failed.is_empty() {
            if let Some(g) = git_dir {
                let _ = journal::end(g);
            }
            return with_note(error, "the documents it wrote were put back as they were");
        }
        with_note(
            error,
            &format!(
                "some documents could not be put back ({}); the next orch command retries",
                failed.join("; ")
            ),
        )
    }
}

/// `error` with a sentence added to its message.
fn with_note(error: Error, note: &str) -> Error {
    match error {
        Error::Usage { message, help } => Error::Usage {
            message: format!("{message}; {note}"),
            help,
        },
        other => Error::Usage {
            message: format!("{other}; {note}"),
            help: None,
        },
    }
}

/// Refuse a document that would pass its size limit `max` (its
/// [`document_limit`](crate::model::program::document_limit)).
pub fn check_size(path: &str, len: usize, max: u64) -> Result<()> {
    if len as u64 > max {
        let what = if max == crate::model::program::MAX_PLAN_BYTES {
            "the plan"
        } else {
            "a document"
        };
        return Err(Error::with_help(
            format!(
                "refusing to write {path}: it would be {len} bytes, over the {} MiB limit for {what}, which orch could then not read",
                max >> 20
            ),
            "make the document smaller first: for the ledger, move the rows of finished tasks to an archive outside the orchestrator folder (DESIGN 2, \"Size\")",
        ));
    }
    Ok(())
}

/// Tell the user what recovery did (on stderr, escaped).
fn print_notes(notes: &[String]) {
    for n in notes {
        eprintln!("note: {}", crate::util::escape_controls(n));
    }
}

/// For the commands that read the work tree: finish or undo a transition a
/// killed orch left (see [`journal`]), if no orch holds the lock now; a
/// live one is left to finish its own. Never fails: a problem is only
/// reported, and the next transition deals with it.
pub fn recover_if_interrupted(root: &Path, dir: &Path) {
    // Temporary files of an orch that is gone (its process id is in their
    // names), say one killed while it saved a run file.
    for name in journal::sweep(root, dir) {
        print_notes(&[name]);
    }
    let Ok(Some(repo)) = Repo::discover(dir) else {
        return;
    };
    // Worktree registrations a killed orch left broken (git reports them).
    print_notes(&crate::isolate::clean::recover(&repo));
    if journal::pending(repo.git_dir()).is_none() {
        return;
    }
    let Ok(_lock) = OrchLock::acquire(repo.git_dir(), std::time::Duration::ZERO) else {
        eprintln!(
            "note: another orch is recording a transition; its files may be half written until it ends"
        );
        return;
    };
    match journal::recover(&repo, root, dir) {
        Ok(notes) => print_notes(&notes),
        Err(e) => eprintln!(
            "warning: an interrupted transition could not be finished: {}",
            crate::util::escape_controls(&e.to_string())
        ),
    }
}

/// `path` relative to `base` with `/` separators, if inside it (either as
/// given or once both are canonical).
pub fn relative_to(base: &Path, path: &Path) -> Option<String> {
    let join = |p: &Path| -> String {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    if let Ok(rel) = path.strip_prefix(base) {
        return Some(join(rel));
    }
    let base = base.canonicalize().ok()?;
    // The file may not exist yet: canonicalize its folder.
    let (parent, name) = (path.parent()?, path.file_name());
    let mut full = parent.canonicalize().ok()?;
    if let Some(n) = name {
        full.push(n);
    }
    full.strip_prefix(&base).ok().map(join)
}

// ---------------------------------------------------------------------------
// Checks shared by the transitions.

/// The task, or exit 2 with the nearest ID.
pub fn task<'i>(index: &'i Index, id: &str) -> Result<&'i Task> {
    index.task(id).ok_or_else(|| {
        let near = nearest(id, index.tasks.iter().map(|t| t.id.as_str()));
        Error::with_help(
            format!("`{id}` is not a task in the plan's Branch Backlog"),
            format!("name a Branch ID from the backlog{}", did_you_mean(near)),
        )
    })
}

/// The task's status must be a known word and allow the move.
pub fn check_move(task: &Task, to: TaskStatus) -> Result<()> {
    if !task.status_known {
        return Err(Error::with_help(
            format!("`{}` has a status orch does not know", task.id),
            format!(
                "set its ticket's `status:` to one of {} (`orch lint` shows where)",
                TaskStatus::spellings()
            ),
        ));
    }
    if !task.status.can_move_to(to) {
        let allowed: Vec<String> = task
            .status
            .next()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect();
        return Err(Error::with_help(
            format!(
                "`{}` is `{}`: it cannot move to `{to}`",
                task.id, task.status
            ),
            if allowed.is_empty() {
                format!("`{}` is final; nothing moves it", task.status)
            } else {
                format!(
                    "from `{}` a task can move to {}",
                    task.status,
                    allowed.join(", ")
                )
            },
        ));
    }
    Ok(())
}

/// The ticket must exist: it holds the status.
pub fn check_ticket(task: &Task) -> Result<()> {
    if task.ticket.is_none() {
        return Err(Error::with_help(
            format!("`{}` has no Dispatch Ticket to hold its status", task.id),
            format!("create it with `orch new ticket {}`", task.id),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Edits shared by the transitions.

/// Set the task's status in its ticket's front matter, by byte range.
pub fn set_status(draft: &mut Draft, program: &Program, task: &Task, to: TaskStatus) -> Result<()> {
    check_ticket(task)?;
    let doc = &program.docs[task.ticket.unwrap_or_default()];
    let text = &program.file(doc.file).text;
    match task.status_at {
        Some(at) => edit::set_scalar(
            draft.file(at.file),
            text,
            at.span,
            task.status.as_str(),
            to.as_str(),
        ),
        None => {
            let fm = doc.front().ok_or_else(|| {
                Error::with_help(
                    format!("`{}`'s ticket has no readable front matter", task.id),
                    "fix it first (`orch lint` shows where)",
                )
            })?;
            if fm.get("status").is_some() {
                return Err(Error::with_help(
                    format!("`{}`'s `status:` is not a plain value", task.id),
                    "write it as `status: todo` (`orch lint` shows where)",
                ));
            }
            let eol = edit::eol(text);
            let at = fm.span.end;
            let lead = if at > 0 && !text[..at].ends_with('\n') {
                eol
            } else {
                ""
            };
            draft
                .file(doc.file)
                .insert(at, format!("{lead}status: {to}{eol}"));
            Ok(())
        }
    }
}

/// One ledger row's cells, in template order.
pub struct LedgerCells {
    pub task: String,
    pub skill: String,
    pub evidence: String,
    pub result: Outcome,
    pub next: String,
}

/// Append rows after the Evidence Ledger table's last row.
pub fn append_ledger(draft: &mut Draft, program: &Program, rows: &[LedgerCells]) -> Result<()> {
    let doc = program.ledger().ok_or_else(|| {
        Error::with_help(
            "the program has no Evidence Ledger",
            "create `.orchestrator/ledger.md` (`orch init` scaffolds one)",
        )
    })?;
    let text = &program.file(doc.file).text;
    ledger_rows(draft.file(doc.file), doc, text, rows)
}

/// An Evidence Ledger's text read from a commit (not the work tree),
/// parsed once, to which rows are appended many times
/// (`orch integrate` makes one commit per task, each with the rows so far).
pub struct LedgerText {
    text: String,
    /// Where its table takes new rows.
    slot: RowSlot,
}

impl LedgerText {
    /// Parse `text`, or say why rows cannot be appended to it.
    pub fn parse(text: &str) -> Result<LedgerText> {
        let doc = crate::model::document::Document::parse(FileId(0), text);
        let table = ledger_table(&doc)?;
        Ok(LedgerText {
            text: text.to_string(),
            slot: RowSlot::of(text, &table),
        })
    }

    /// This text, as parsed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text with `rows` appended.
    pub fn with_rows(&self, rows: &[LedgerCells]) -> Result<String> {
        let mut edits = Edits::default();
        let rows: Vec<Vec<String>> = rows.iter().map(ledger_cells).collect();
        self.slot.insert(&mut edits, &self.text, &rows);
        edits.apply(&self.text)
    }
}

/// The ledger's row table, when rows can be appended to it: it exists and
/// has every expected column.
fn ledger_table(doc: &crate::model::Document) -> Result<crate::model::views::TableView<'_>> {
    let table = LedgerView::of(doc).rows.ok_or_else(|| {
        Error::with_help(
            "the Evidence Ledger has no `# Evidence Ledger` table",
            "add the table (`orch lint` shows what is missing)",
        )
    })?;
    let missing = table.columns.missing(templates::LEDGER_COLUMNS);
    if !missing.is_empty() {
        return Err(Error::with_help(
            format!(
                "the Evidence Ledger table lacks the column(s) {}",
                missing.join(", ")
            ),
            "fix the table's header (`orch lint` shows where)",
        ));
    }
    Ok(table)
}

/// A ledger row's values, in the expected column order.
fn ledger_cells(r: &LedgerCells) -> Vec<String> {
    vec![
        edit::cell(&r.task),
        edit::cell(&r.skill),
        edit::cell(&r.evidence),
        r.result.as_str().to_string(),
        edit::cell(&r.next),
    ]
}

fn ledger_rows(
    edits: &mut Edits,
    doc: &crate::model::Document,
    text: &str,
    rows: &[LedgerCells],
) -> Result<()> {
    let table = ledger_table(doc)?;
    let rows: Vec<Vec<String>> = rows.iter().map(ledger_cells).collect();
    insert_rows_into(edits, text, &table, &rows);
    Ok(())
}

/// Insert rows (cells in the table's expected column order) after a
/// ledger table's last row, or after its delimiter line when it has none.
fn insert_rows(
    draft: &mut Draft,
    program: &Program,
    doc: &crate::model::Document,
    table: &crate::model::views::TableView<'_>,
    rows: &[Vec<String>],
) {
    let text = &program.file(doc.file).text;
    insert_rows_into(draft.file(doc.file), text, table, rows);
}

fn insert_rows_into(
    edits: &mut Edits,
    text: &str,
    table: &crate::model::views::TableView<'_>,
    rows: &[Vec<String>],
) {
    RowSlot::of(text, table).insert(edits, text, rows);
}

/// Where a table takes new rows, and how their cells are laid out: what
/// appending needs of a parsed table, kept apart from it.
struct RowSlot {
    /// After the table's last row, or after its delimiter line.
    anchor: usize,
    /// The table's width, and each expected column's index in it.
    width: usize,
    columns: Vec<Option<usize>>,
}

impl RowSlot {
    fn of(text: &str, table: &crate::model::views::TableView<'_>) -> RowSlot {
        RowSlot {
            anchor: match table.table.rows.last() {
                Some(r) => r.span.end,
                // After the delimiter line that follows the header.
                None => edit::after_line(text, table.table.header.span.end).0,
            },
            width: table.table.header.cells.len(),
            columns: table.columns.index.clone(),
        }
    }

    /// Insert `rows` (cells in the expected column order), in order.
    fn insert(&self, edits: &mut Edits, text: &str, rows: &[Vec<String>]) {
        for values in rows {
            let cells = ordered_cells(self.width, &self.columns, values);
            edit::insert_line_after(edits, text, self.anchor, &edit::row(&cells));
        }
    }
}

/// `values` (in the expected column order) placed in a row of `width`
/// cells by `index` (each expected column's index in the table).
fn ordered_cells(width: usize, index: &[Option<usize>], values: &[String]) -> Vec<String> {
    let mut cells = vec![String::new(); width];
    for (col, v) in values.iter().enumerate() {
        if let Some(Some(i)) = index.get(col)
            && let Some(cell) = cells.get_mut(*i)
        {
            *cell = v.clone();
        }
    }
    cells
}

/// A new backlog row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BacklogRow {
    pub id: String,
    pub objective: String,
    pub skill: String,
    pub dependencies: Vec<String>,
    pub done_criteria: String,
}

/// Where a row goes relative to an existing task's row.
#[derive(Clone, Copy, Debug)]
pub enum Place {
    After,
    Before,
}

/// Insert backlog rows next to `anchor`'s row, in order.
pub fn insert_backlog(
    draft: &mut Draft,
    program: &Program,
    anchor: &Task,
    place: Place,
    rows: &[BacklogRow],
) -> Result<()> {
    let plan = program
        .plan()
        .ok_or_else(|| Error::usage("the program has no Master Plan"))?;
    let view = PlanView::of(plan);
    let backlog = view
        .backlog
        .ok_or_else(|| Error::usage("the Master Plan has no Branch Backlog table"))?;
    let row = backlog
        .table
        .rows
        .iter()
        .find(|r| r.span.start <= anchor.at.span.start && anchor.at.span.end <= r.span.end)
        .ok_or_else(|| Error::usage(format!("cannot find `{}`'s backlog row", anchor.id)))?;
    let text = &program.file(plan.file).text;
    let width = backlog.table.header.cells.len();
    for r in rows {
        let mut cells = vec![String::new(); width];
        let deps = if r.dependencies.is_empty() {
            "-".to_string()
        } else {
            r.dependencies.join(", ")
        };
        let values = [
            edit::cell(&r.id),
            edit::cell(&r.objective),
            edit::cell(&r.skill),
            edit::cell(&deps),
            edit::cell(&r.done_criteria),
        ];
        for (col, v) in values.into_iter().enumerate() {
            if let Some(Some(i)) = backlog.columns.index.get(col) {
                cells[*i] = v;
            }
        }
        let line = edit::row(&cells);
        match place {
            Place::After => {
                edit::insert_line_after(draft.file(plan.file), text, row.span.end, &line)
            }
            Place::Before => {
                let eol = edit::eol(text);
                draft
                    .file(plan.file)
                    .insert(row.span.start, format!("{line}{eol}"));
            }
        }
    }
    Ok(())
}

/// Add dependencies to tasks' Dependencies cells (one edit per cell).
pub fn add_dependencies(
    draft: &mut Draft,
    program: &Program,
    deps: &BTreeMap<String, Vec<String>>,
    index: &Index,
) -> Result<()> {
    let plan = program
        .plan()
        .ok_or_else(|| Error::usage("the program has no Master Plan"))?;
    let view = PlanView::of(plan);
    let backlog = view
        .backlog
        .ok_or_else(|| Error::usage("the Master Plan has no Branch Backlog table"))?;
    let text = &program.file(plan.file).text;
    for (id, new) in deps {
        if new.is_empty() {
            continue;
        }
        let t = task(index, id)?;
        let row = backlog
            .table
            .rows
            .iter()
            .find(|r| r.span.start <= t.at.span.start && t.at.span.end <= r.span.end)
            .ok_or_else(|| Error::usage(format!("cannot find `{id}`'s backlog row")))?;
        let cell = backlog.cell(row, 3).ok_or_else(|| {
            Error::with_help(
                format!("`{id}`'s backlog row has no Dependencies cell"),
                "fix the row (`orch lint` shows where)",
            )
        })?;
        edit::add_dependency(
            draft.file(plan.file),
            text,
            cell.span,
            &cell.text,
            &new.join(", "),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The transitions.

/// What one transition did, for the report.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub task: String,
    pub from: TaskStatus,
    pub to: TaskStatus,
    /// Full commit id, when committed.
    pub commit: Option<String>,
    pub branch: Option<String>,
    /// `commit.gpgsign` is set but the commit is unsigned.
    pub unsigned: bool,
    pub files: Vec<String>,
    /// What the re-planning rules now ask.
    pub asks: Vec<String>,
    /// Children created by a split.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

fn report(task: &Task, to: TaskStatus, written: Written) -> Report {
    Report {
        task: task.id.clone(),
        from: task.status,
        to,
        commit: written.commit.as_ref().map(|c| c.id.to_string()),
        branch: written.commit.as_ref().and_then(|c| c.branch.clone()),
        unsigned: written.commit.as_ref().is_some_and(|c| c.gpgsign),
        files: written.files,
        asks: Vec::new(),
        children: Vec::new(),
    }
}

fn subject(id: &str, from: TaskStatus, to: TaskStatus) -> String {
    format!("orch({id}): {from} -> {to}")
}

/// `orch start ID...`: todo (or blocked, failed, partial) -> in_progress,
/// after checking ticket, dependencies, card and scope. Every task is
/// checked before any is written; each is then one commit.
pub fn start(session: &Session, ids: &[String]) -> Result<Vec<Report>> {
    if ids.is_empty() {
        return Err(Error::usage("name at least one task to start"));
    }
    let program = session.load()?;
    let index = Index::build(&program);
    let budget = Budget::default();
    let mut seen = BTreeSet::new();
    let mut starting: Vec<(&Task, Scope)> = Vec::new();
    for id in ids {
        if !seen.insert(id.as_str()) {
            return Err(Error::usage(format!("`{id}` is named twice")));
        }
        let t = task(&index, id)?;
        check_ticket(t)?;
        check_move(t, TaskStatus::InProgress)?;
        let waiting: Vec<String> = index
            .waiting_on(t)
            .iter()
            .map(|d| {
                let status = index
                    .task(d.value.trim())
                    .map_or("not a task".to_string(), |d| d.status.to_string());
                format!("`{}` ({status})", d.value.trim())
            })
            .collect();
        if !waiting.is_empty() {
            return Err(Error::with_help(
                format!("`{id}` waits on {}", waiting.join(", ")),
                "a task starts when every dependency is done (or split with every child done); `orch next` lists the ready ones",
            ));
        }
        if t.card.is_none() {
            return Err(Error::with_help(
                format!("`{id}` has no Codex Execution Card: its scope is unknown"),
                format!("create it with `orch new card {id}` and fill in its Allowed Scope"),
            ));
        }
        let scope = effective_scope(&program, t)?;
        let running = index
            .tasks
            .iter()
            .filter(|o| o.status == TaskStatus::InProgress && o.id != t.id && o.card.is_some())
            .map(|o| Ok((o, effective_scope(&program, o)?)))
            .collect::<Result<Vec<_>>>()?;
        for (other, other_scope) in running.iter().chain(starting.iter()) {
            let (o, os): (&Task, &Scope) = (other, other_scope);
            match crate::scope::overlap(&scope, os, &budget) {
                Overlap::Disjoint => {}
                Overlap::Witness(path) => {
                    return Err(Error::with_help(
                        format!(
                            "`{id}`'s scope overlaps `{}`, which is {}: both can touch `{path}`",
                            o.id,
                            if o.status == TaskStatus::InProgress {
                                "in progress"
                            } else {
                                "starting too"
                            }
                        ),
                        format!(
                            "finish `{}` first, or narrow one card's Allowed Scope",
                            o.id
                        ),
                    ));
                }
                Overlap::TooComplex => {
                    return Err(Error::with_help(
                        format!("cannot decide whether `{id}`'s scope overlaps `{}`'s", o.id),
                        "simplify the globs of one card",
                    ));
                }
            }
        }
        starting.push((t, scope));
    }
    // Every claim before any commit (all or nothing); a task whose commit
    // fails lets its claim go again, with those not yet started.
    session.claim(&program, ids, None)?;
    let mut reports = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let one = || -> Result<Report> {
            // Re-read: the previous start of this run changed the program.
            let program = session.load()?;
            let index = Index::build(&program);
            let t = task(&index, id)?;
            let mut draft = Draft::default();
            set_status(&mut draft, &program, t, TaskStatus::InProgress)?;
            let mut change =
                draft.into_change(&program, subject(id, t.status, TaskStatus::InProgress))?;
            change.trailers.push(("Orch-Task".into(), id.clone()));
            let written = session.write(&change)?;
            Ok(report(t, TaskStatus::InProgress, written))
        };
        match one() {
            Ok(r) => reports.push(r),
            Err(e) => {
                let left = session.not_in_progress(&ids[k..]);
                session.unclaim(&program, &left, "orch start did not commit");
                return Err(e);
            }
        }
    }
    Ok(reports)
}

/// The ready tasks' IDs.
fn ready(index: &Index) -> BTreeSet<String> {
    index
        .tasks
        .iter()
        .filter(|t| index.is_ready(t))
        .map(|t| t.id.clone())
        .collect()
}

/// The failed tasks whose root cause passed (retries), by ID.
fn retries(index: &Index) -> BTreeSet<String> {
    index
        .tasks
        .iter()
        .filter(|t| index.retry_after(t).is_some())
        .map(|t| t.id.clone())
        .collect()
}

/// One Unverified Items row's cells.
pub struct UnverifiedCells {
    pub item: String,
    pub risk: String,
    pub owner: String,
}

/// What a record carries besides its ledger row: unverified items for the
/// ledger's `## Unverified Items`, and files under the orchestrator folder
/// committed with it (a dispatch run's report).
#[derive(Default)]
pub struct RecordExtras {
    pub unverified: Vec<UnverifiedCells>,
    pub files: Vec<(PathBuf, String)>,
}

/// Append rows to the ledger's Unverified Items table.
pub fn append_unverified(
    draft: &mut Draft,
    program: &Program,
    rows: &[UnverifiedCells],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let doc = program
        .ledger()
        .ok_or_else(|| Error::usage("the program has no Evidence Ledger"))?;
    let view = LedgerView::of(doc);
    let table = view.unverified.ok_or_else(|| {
        Error::with_help(
            "the Evidence Ledger has no `## Unverified Items` table for the agent's unverified items",
            "add it: `## Unverified Items` then `| Item | Risk | Owner |` and `|---|---|---|`",
        )
    })?;
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                edit::cell(&r.item),
                edit::cell(&r.risk),
                edit::cell(&r.owner),
            ]
        })
        .collect();
    insert_rows(draft, program, doc, &table, &rows);
    Ok(())
}

/// `orch record ID --result R --evidence TEXT [--next TEXT]`.
pub fn record(
    session: &Session,
    id: &str,
    result: Outcome,
    evidence: &str,
    next: Option<&str>,
) -> Result<Report> {
    record_with(
        session,
        id,
        result,
        evidence,
        next,
        &RecordExtras::default(),
    )
}

/// [`record`], with unverified items and files to commit alongside.
pub fn record_with(
    session: &Session,
    id: &str,
    result: Outcome,
    evidence: &str,
    next: Option<&str>,
    extras: &RecordExtras,
) -> Result<Report> {
    if evidence.trim().is_empty() {
        return Err(Error::with_help(
            "--evidence is empty",
            "say what shows the result: a test summary line, a log path, a diff",
        ));
    }
    let program = session.load()?;
    let index = Index::build(&program);
    let t = task(&index, id)?;
    check_ticket(t)?;
    let to = result.status();
    check_move(t, to)?;
    let before = ready(&index);
    let retries_before = retries(&index);
    let root_cause = crate::model::program::is_root_cause(t);
    let dependents: Vec<&Task> = index
        .tasks
        .iter()
        .filter(|o| o.deps.iter().any(|d| d.value.trim() == id))
        .collect();
    // Dependents whose every other dependency is already satisfied.
    let unlocks: Vec<&str> = dependents
        .iter()
        .filter(|o| {
            o.status == TaskStatus::Todo
                && o.deps
                    .iter()
                    .all(|d| d.value.trim() == id || index.satisfied(d.value.trim()))
        })
        .map(|o| o.id.as_str())
        .collect();
    // Failed dependents this root cause, passing, lets be retried.
    let retried: Vec<&str> = dependents
        .iter()
        .filter(|o| o.status == TaskStatus::Failed)
        .map(|o| o.id.as_str())
        .collect();
    let default_next = match result {
        Outcome::Pass if root_cause && !retried.is_empty() => {
            format!("retry {} (root cause found)", retried.join(", "))
        }
        Outcome::Fail if root_cause => {
            "retry the root-cause analysis, or re-plan by hand".to_string()
        }
        Outcome::Pass if dependents.is_empty() => "close branch".to_string(),
        Outcome::Pass if unlocks.is_empty() => {
            "close branch; its dependents wait on other tasks".to_string()
        }
        Outcome::Pass => format!("unlock {}", unlocks.join(", ")),
        Outcome::Partial => format!("split {id} into the remaining work"),
        Outcome::Fail => format!("root cause with debug-troubleshooter before redispatching {id}"),
    };
    let skill = t
        .skill
        .as_ref()
        .map(|s| s.value.trim().to_string())
        .unwrap_or_default();
    let mut draft = Draft::default();
    append_ledger(
        &mut draft,
        &program,
        &[LedgerCells {
            task: id.to_string(),
            skill,
            evidence: evidence.to_string(),
            result,
            next: next.map_or(default_next, str::to_string),
        }],
    )?;
    append_unverified(&mut draft, &program, &extras.unverified)?;
    set_status(&mut draft, &program, t, to)?;
    let mut change = draft.into_change(&program, subject(id, t.status, to))?;
    for (path, text) in &extras.files {
        let old = std::fs::read_to_string(path).unwrap_or_default();
        change.files.insert(path.clone(), (old, text.clone()));
    }
    change.body.push(one_line(evidence));
    change.trailers.push(("Orch-Task".into(), id.to_string()));
    change
        .trailers
        .push(("Orch-Result".into(), result.as_str().into()));
    let written = session.write(&change)?;
    // Leaving `in_progress` lets the claim go (a retry claims again),
    // except `done` with a branch, whose claim waits for integration.
    if t.status == TaskStatus::InProgress
        && (to != TaskStatus::Done || !session.has_branch(&program, id))
    {
        session.unclaim(
            &program,
            &[id.to_string()],
            &format!("recorded {}", result.as_str()),
        );
    }
    let mut rep = report(t, to, written);
    // What the re-planning rules now ask, read from the program as written.
    let after = session.load()?;
    let after_index = Index::build(&after);
    rep.asks = match result {
        Outcome::Pass => {
            let unlocked: Vec<String> = ready(&after_index).difference(&before).cloned().collect();
            let retry: Vec<String> = retries(&after_index)
                .difference(&retries_before)
                .cloned()
                .collect();
            let mut asks = Vec::new();
            if !unlocked.is_empty() {
                asks.push(format!(
                    "unlocked: {} (`orch start {}`)",
                    unlocked.join(", "),
                    unlocked.join(" ")
                ));
            }
            if !retry.is_empty() {
                asks.push(format!(
                    "its root cause found, {} can be retried: `orch next` lists {}, and `orch dispatch {}` runs {} again",
                    retry.join(", "),
                    if retry.len() == 1 { "it" } else { "them" },
                    retry.join(" "),
                    if retry.len() == 1 { "it" } else { "them" }
                ));
            }
            if asks.is_empty() {
                asks.push("no task is unlocked by this".to_string());
            }
            asks
        }
        Outcome::Fail if root_cause => vec![format!(
            "{id} is a root-cause task: it gets no root-cause task of its own; retry it (`orch start {id}`) with what its evidence found, or cancel it (`orch cancel {id} --reason \"<why>\"`) and re-plan by hand"
        )],
        Outcome::Partial => vec![format!(
            "split it: `orch split {id} --into \"<first part>\" --into \"<second part>\"`"
        )],
        Outcome::Fail => vec![format!(
            "a root-cause task for debug-troubleshooter that {id} depends on: `orch replan --apply` adds it"
        )],
    };
    Ok(rep)
}

/// `orch block|cancel ID --reason TEXT`.
pub fn with_reason(session: &Session, id: &str, to: TaskStatus, reason: &str) -> Result<Report> {
    if reason.trim().is_empty() {
        return Err(Error::usage("--reason is empty: say why"));
    }
    let program = session.load()?;
    let index = Index::build(&program);
    let t = task(&index, id)?;
    check_ticket(t)?;
    check_move(t, to)?;
    let mut draft = Draft::default();
    set_status(&mut draft, &program, t, to)?;
    let mut change = draft.into_change(&program, subject(id, t.status, to))?;
    change.trailers.push(("Orch-Task".into(), id.to_string()));
    change
        .trailers
        .push(("Orch-Reason".into(), one_line(reason)));
    let written = session.write(&change)?;
    if t.status == TaskStatus::InProgress || to == TaskStatus::Cancelled {
        session.unclaim(&program, &[id.to_string()], &format!("{to}: {reason}"));
    }
    Ok(report(t, to, written))
}

/// The next free child number of `id` (`<ID>.<n>`).
fn next_child(index: &Index, id: &str) -> u32 {
    index
        .children(id)
        .filter_map(|c| c.id[id.len() + 1..].parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

/// `orch split ID --into TEXT...`: partial -> split, with children
/// `<ID>.1`, `<ID>.2`, ... after the parent's row.
pub fn split(session: &Session, id: &str, into: &[String]) -> Result<Report> {
    if into.iter().all(|t| t.trim().is_empty()) {
        return Err(Error::with_help(
            "--into names no child",
            "give each child's objective: --into \"first part\" --into \"second part\"",
        ));
    }
    let program = session.load()?;
    let index = Index::build(&program);
    let t = task(&index, id)?;
    check_ticket(t)?;
    check_move(t, TaskStatus::Split)?;
    if index.last_row(t).and_then(|r| r.result) != Some(Outcome::Partial) {
        return Err(Error::with_help(
            format!("`{id}`'s latest ledger row is not `partial`"),
            format!(
                "record the partial result first: `orch record {id} --result partial --evidence \"<what is left>\"`"
            ),
        ));
    }
    let first = next_child(&index, id);
    let skill = t
        .skill
        .as_ref()
        .map(|s| s.value.trim().to_string())
        .unwrap_or_default();
    let deps: Vec<String> = t.deps.iter().map(|d| d.value.trim().to_string()).collect();
    // As written: code spans kept.
    let criteria = t
        .cell_markdown(&program, &t.done_criteria)
        .unwrap_or_default();
    let rows: Vec<BacklogRow> = into
        .iter()
        .filter(|t| !t.trim().is_empty())
        .enumerate()
        .map(|(i, text)| BacklogRow {
            id: format!("{id}.{}", first + i as u32),
            objective: one_line(text),
            skill: skill.clone(),
            dependencies: deps.clone(),
            done_criteria: if criteria.is_empty() {
                format!("This part of {id} is done and its evidence recorded in the ledger")
            } else {
                format!("Part of {id}: {criteria}")
            },
        })
        .collect();
    for r in &rows {
        if index.task(&r.id).is_some() {
            return Err(Error::usage(format!("`{}` is already a task", r.id)));
        }
    }
    // After the parent's existing children, if any.
    let anchor = index
        .children(id)
        .max_by_key(|c| c.at.span.start)
        .filter(|c| c.at.file == t.at.file && c.at.span.start > t.at.span.start)
        .unwrap_or(t);
    let mut draft = Draft::default();
    insert_backlog(&mut draft, &program, anchor, Place::After, &rows)?;
    set_status(&mut draft, &program, t, TaskStatus::Split)?;
    let children: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut change = draft.into_change(&program, subject(id, t.status, TaskStatus::Split))?;
    change
        .body
        .push(format!("Split into {}.", children.join(", ")));
    change.trailers.push(("Orch-Task".into(), id.to_string()));
    for c in &children {
        change.trailers.push(("Orch-Task".into(), c.clone()));
    }
    let written = session.write(&change)?;
    let mut rep = report(t, TaskStatus::Split, written);
    rep.asks = vec![format!(
        "write each child's ticket and card (`orch new ticket <ID>`, `orch new card <ID>`) for {}",
        children.join(", ")
    )];
    rep.children = children;
    Ok(rep)
}
