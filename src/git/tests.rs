//! Unit tests of the git module on real repositories, built and checked with
//! the real `git` binary. Every `git` runs with system and global config shut
//! out (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`), and repositories
//! are opened with gix's isolated options, so the machine's own identity or
//! settings never leak in. Tests that need process environment variables
//! (`GIT_DIR`, `GIT_WORK_TREE`) run in a child process of this test binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::{Change, GitError, Repo};

const MESSAGE: &str =
    "orch(P1-UI-01): todo -> in_progress\n\nOrch-Task: P1-UI-01\nOrch-Result: started\n";

/// `git` in `dir`, isolated from the machine's config and from any GIT_*
/// variable of the test process; author and committer come from the
/// environment of this one command.
fn git_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "User")
        .env("GIT_AUTHOR_EMAIL", "user@example.com")
        .env("GIT_COMMITTER_NAME", "User")
        .env("GIT_COMMITTER_EMAIL", "user@example.com")
        .env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run git")
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = run(git_cmd(dir).args(args));
    assert!(
        out.status.success(),
        "git {args:?} failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct TestRepo {
    dir: tempfile::TempDir,
}

impl TestRepo {
    /// An empty repository on branch `main`; `identity` sets user.name and
    /// user.email in its own config (the only identity gix will see).
    fn init(identity: bool) -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = TestRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        if identity {
            repo.git(&["config", "user.name", "Orch Test"]);
            repo.git(&["config", "user.email", "orch@example.com"]);
        }
        repo
    }

    /// A repository with one commit of `files`.
    fn with_files(files: &[(&str, &str)]) -> TestRepo {
        let repo = TestRepo::init(true);
        for (path, content) in files {
            repo.write(path, content);
        }
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "initial"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    fn git_out(&self, args: &[&str]) -> Output {
        run(git_cmd(self.path()).args(args))
    }

    fn write(&self, rel: &str, content: &str) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, content).expect("write");
    }

    /// Opens with gix's isolated options: only the repository's own config.
    fn open(&self) -> Repo {
        let repo =
            gix::open_opts(self.path(), gix::open::Options::isolated()).expect("open with gix");
        Repo::from_gix(repo).expect("a work tree")
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    fn status(&self) -> String {
        self.git(&["status", "--porcelain"])
    }

    fn index_bytes(&self) -> Vec<u8> {
        std::fs::read(self.path().join(".git/index")).unwrap_or_default()
    }

    fn fsck(&self) {
        let out = self.git_out(&["fsck", "--strict", "--no-dangling"]);
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "git fsck --strict: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    list.iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect()
}

/// The caller's part: write the files to the work tree, then commit them.
fn write_and_commit(repo: &TestRepo, list: &[(&str, &str)]) -> Result<super::CommitInfo, GitError> {
    for (path, content) in list {
        repo.write(path, content);
    }
    repo.open().commit_files(&files(list), MESSAGE)
}

#[test]
fn commit_files_leaves_the_users_work_alone() {
    let repo = TestRepo::with_files(&[
        ("src/a.rs", "fn a() {}\n"),
        ("src/b.rs", "fn b() {}\n"),
        (".orchestrator/tickets/P1-UI-01.md", "status: todo\n"),
        (".orchestrator/plan.md", "# plan\n"),
    ]);
    let before_head = repo.head();
    // The user's work: a staged change, an unstaged change, an untracked file.
    repo.write("src/a.rs", "fn a() { staged() }\n");
    repo.git(&["add", "src/a.rs"]);
    repo.write("src/b.rs", "fn b() { unstaged() }\n");
    repo.write("notes.txt", "scratch\n");
    let status_before = repo.status();
    assert_eq!(status_before, "M  src/a.rs\n M src/b.rs\n?? notes.txt\n");

    let info = write_and_commit(
        &repo,
        &[
            (".orchestrator/tickets/P1-UI-01.md", "status: in_progress\n"),
            (".orchestrator/ledger/new/row.md", "| P1-UI-01 | pass |\n"),
        ],
    )
    .expect("commit");

    assert_eq!(info.id.to_string(), repo.head());
    assert_eq!(info.branch.as_deref(), Some("main"));
    assert!(!info.gpgsign);
    repo.fsck();
    assert_eq!(
        repo.status(),
        status_before,
        "the user's work is exactly as it was"
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%B"]).trim_end(),
        MESSAGE.trim_end()
    );
    assert_eq!(repo.git(&["rev-parse", "HEAD^"]).trim(), before_head);
    assert_eq!(
        repo.git(&["diff", "--name-status", "HEAD^", "HEAD"]),
        "A\t.orchestrator/ledger/new/row.md\nM\t.orchestrator/tickets/P1-UI-01.md\n"
    );
    assert_eq!(
        repo.git(&["show", "HEAD:.orchestrator/tickets/P1-UI-01.md"]),
        "status: in_progress\n"
    );
    assert_eq!(
        repo.git(&["reflog", "-1", "--format=%gs", "main"]).trim(),
        "commit: orch(P1-UI-01): todo -> in_progress"
    );
    assert_eq!(
        repo.git(&["reflog", "-1", "--format=%gs", "HEAD"]).trim(),
        "commit: orch(P1-UI-01): todo -> in_progress"
    );
    assert_eq!(repo.git(&["diff", "--cached", "--name-only"]), "src/a.rs\n");

    // The user's next plain commit takes only their own staged change, and
    // keeps orch's files (no stale cached tree).
    repo.git(&["commit", "-q", "-m", "user work"]);
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "src/a.rs\n"
    );
    assert_eq!(
        repo.git(&["show", "HEAD:.orchestrator/ledger/new/row.md"]),
        "| P1-UI-01 | pass |\n"
    );
    assert_eq!(repo.status(), " M src/b.rs\n?? notes.txt\n");
    repo.fsck();
}

#[test]
fn commit_files_makes_a_root_commit_on_an_unborn_branch() {
    let repo = TestRepo::init(true);
    repo.write("u.txt", "user\n");
    repo.git(&["add", "u.txt"]);
    repo.write("loose.txt", "untracked\n");

    let info = write_and_commit(&repo, &[(".orchestrator/plan.md", "# plan\n")]).expect("commit");

    assert_eq!(info.branch.as_deref(), Some("main"));
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "1");
    assert!(!repo.git(&["cat-file", "-p", "HEAD"]).contains("\nparent "));
    assert_eq!(
        repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]),
        ".orchestrator/plan.md\n"
    );
    assert_eq!(
        repo.git(&["reflog", "-1", "--format=%gs", "main"]).trim(),
        "commit (initial): orch(P1-UI-01): todo -> in_progress"
    );
    assert_eq!(repo.status(), "A  u.txt\n?? loose.txt\n");
    repo.fsck();
}

#[test]
fn commit_files_moves_a_detached_head() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n")]);
    let main = repo.head();
    repo.git(&["checkout", "-q", "--detach"]);

    let info = write_and_commit(&repo, &[(".orchestrator/plan.md", "# plan\n")]).expect("commit");

    assert_eq!(info.branch, None);
    assert_eq!(repo.head(), info.id.to_string());
    assert_eq!(
        repo.git(&["rev-parse", "main"]).trim(),
        main,
        "the branch stays put"
    );
    assert!(
        !repo
            .git_out(&["symbolic-ref", "-q", "HEAD"])
            .status
            .success()
    );
    assert_eq!(
        repo.git(&["reflog", "-1", "--format=%gs", "HEAD"]).trim(),
        "commit: orch(P1-UI-01): todo -> in_progress"
    );
    assert_eq!(repo.status(), "");
    repo.fsck();
}

#[test]
fn commit_files_without_identity_writes_nothing() {
    let repo = TestRepo::init(false);
    repo.write("a.txt", "a\n");
    repo.git(&["add", "a.txt"]);
    repo.git(&["commit", "-q", "-m", "initial"]);
    let head = repo.head();
    let index = repo.index_bytes();
    let objects = repo.git(&["count-objects"]);

    let err =
        write_and_commit(&repo, &[(".orchestrator/plan.md", "# plan\n")]).expect_err("no identity");

    assert!(matches!(err, GitError::NoIdentity { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("user.name") && text.contains("git config --global"),
        "{text}"
    );
    assert_eq!(repo.head(), head);
    assert_eq!(repo.index_bytes(), index);
    assert_eq!(
        repo.git(&["count-objects"]),
        objects,
        "no object was written"
    );
    assert!(!repo.path().join(".git/index.lock").exists());
}

#[test]
fn commit_files_waits_for_a_held_index_lock_then_gives_up() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n")]);
    let head = repo.head();
    let lock = repo.path().join(".git/index.lock");
    std::fs::write(&lock, "held by someone else").expect("lock");

    let start = Instant::now();
    let err =
        write_and_commit(&repo, &[(".orchestrator/plan.md", "# plan\n")]).expect_err("locked");
    let waited = start.elapsed();

    match &err {
        GitError::Locked { lock: named } => assert_eq!(named, &lock),
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(err.to_string().contains("index.lock"), "{err}");
    assert!(
        waited >= Duration::from_millis(1500),
        "waited only {waited:?}"
    );
    assert!(waited <= Duration::from_secs(3), "waited {waited:?}");
    assert_eq!(
        std::fs::read_to_string(&lock).expect("lock kept"),
        "held by someone else"
    );
    assert_eq!(repo.head(), head);
}

#[test]
fn commit_files_waits_for_a_held_ref_lock_then_gives_up() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n")]);
    let head = repo.head();
    let index = repo.index_bytes();
    let lock = repo.path().join(".git/refs/heads/main.lock");
    std::fs::write(&lock, "held").expect("lock");

    let start = Instant::now();
    let err =
        write_and_commit(&repo, &[(".orchestrator/plan.md", "# plan\n")]).expect_err("locked");

    match &err {
        GitError::Locked { lock: named } => assert_eq!(named, &lock),
        other => panic!("expected Locked, got {other:?}"),
    }
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(1500),
        "waited only {waited:?}"
    );
    assert!(waited <= Duration::from_secs(3), "waited {waited:?}");
    assert!(err.to_string().contains("main.lock"), "{err}");
    assert!(lock.exists());
    assert_eq!(repo.head(), head);
    assert_eq!(repo.index_bytes(), index);
    assert!(
        !repo.path().join(".git/index.lock").exists(),
        "our own lock is released"
    );
}

#[test]
fn commit_files_refuses_to_clobber_a_branch_that_moved() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n")]);
    repo.write("a.txt", "b\n");
    repo.git(&["add", "a.txt"]);
    repo.git(&["commit", "-q", "-m", "second"]);
    let other = repo.git(&["rev-parse", "HEAD^"]).trim().to_string();
    let index = repo.index_bytes();
    repo.write(".orchestrator/plan.md", "# plan\n");

    let opened = repo.open();
    let mut move_branch = || {
        repo.git(&["update-ref", "refs/heads/main", &other]);
    };
    let err = opened
        .commit_files_with(
            &files(&[(".orchestrator/plan.md", "# plan\n")]),
            MESSAGE,
            &mut move_branch,
        )
        .expect_err("moved");

    assert!(matches!(err, GitError::Moved { .. }), "{err:?}");
    assert!(err.to_string().contains("refs/heads/main"), "{err}");
    assert_eq!(repo.head(), other, "the other writer's update stands");
    assert_eq!(repo.index_bytes(), index);
    assert!(!repo.path().join(".git/index.lock").exists());
}

#[test]
fn commit_files_refuses_a_different_staged_version() {
    let repo = TestRepo::with_files(&[(".orchestrator/tickets/T.md", "head\n")]);
    let head = repo.head();
    repo.write(".orchestrator/tickets/T.md", "the user's own edit\n");
    repo.git(&["add", "."]);
    let index = repo.index_bytes();

    let err = repo
        .open()
        .commit_files(
            &files(&[(".orchestrator/tickets/T.md", "orch's\n")]),
            MESSAGE,
        )
        .expect_err("conflict");

    match &err {
        GitError::StagedConflict(path) => assert_eq!(path, ".orchestrator/tickets/T.md"),
        other => panic!("expected StagedConflict, got {other:?}"),
    }
    assert!(err.to_string().contains("git restore --staged"), "{err}");
    assert_eq!(repo.head(), head);
    assert_eq!(repo.index_bytes(), index);

    // A staged deletion is a different version too.
    let repo = TestRepo::with_files(&[(".orchestrator/tickets/T.md", "head\n")]);
    repo.git(&["rm", "-q", "--cached", ".orchestrator/tickets/T.md"]);
    let err = repo
        .open()
        .commit_files(
            &files(&[(".orchestrator/tickets/T.md", "orch's\n")]),
            MESSAGE,
        )
        .expect_err("conflict");
    assert!(matches!(err, GitError::StagedConflict(_)), "{err:?}");
}

#[test]
fn commit_files_accepts_a_staged_version_equal_to_its_own() {
    let repo = TestRepo::with_files(&[(".orchestrator/plan.md", "old\n")]);
    repo.write(".orchestrator/plan.md", "new\n");
    repo.git(&["add", "."]);

    write_and_commit(&repo, &[(".orchestrator/plan.md", "new\n")]).expect("commit");

    assert_eq!(repo.status(), "");
    repo.fsck();
}

#[test]
fn commit_files_keeps_the_executable_bit_and_reports_gpgsign() {
    let repo = TestRepo::with_files(&[(".orchestrator/run.sh", "#!/bin/sh\n")]);
    repo.git(&["update-index", "--chmod=+x", ".orchestrator/run.sh"]);
    repo.git(&["commit", "-q", "-m", "exec"]);
    repo.git(&["config", "commit.gpgsign", "true"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = repo.path().join(".orchestrator/run.sh");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    let info = write_and_commit(&repo, &[(".orchestrator/run.sh", "#!/bin/sh\necho hi\n")])
        .expect("commit");

    assert!(info.gpgsign);
    assert!(
        repo.git(&["ls-tree", "HEAD", ".orchestrator/run.sh"])
            .starts_with("100755 ")
    );
    #[cfg(unix)]
    assert_eq!(repo.status(), "");
    repo.fsck();
}

#[test]
fn commit_files_rejects_bad_paths() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n"), ("dir/b.txt", "b\n")]);
    let opened = repo.open();
    for bad in ["", "/abs", "a/../b", "./a", ".git/config", "x//y", "dir"] {
        let err = opened
            .commit_files(&files(&[(bad, "x")]), MESSAGE)
            .expect_err(bad);
        assert!(
            matches!(err, GitError::InvalidPath { .. }),
            "{bad}: {err:?}"
        );
    }
    let err = opened
        .commit_files(&files(&[("a.txt/c", "x")]), MESSAGE)
        .expect_err("file parent");
    assert!(matches!(err, GitError::InvalidPath { .. }), "{err:?}");
    assert!(matches!(
        opened.commit_files(&[], MESSAGE),
        Err(GitError::NothingToCommit)
    ));
}

#[test]
fn changes_detects_renames() {
    let body: String = (0..40)
        .map(|i| format!("line {i} of the library\n"))
        .collect();
    let repo = TestRepo::with_files(&[
        ("src/lib.rs", &body),
        ("src/keep.rs", "keep\n"),
        ("src/gone.rs", "gone\n"),
    ]);
    repo.git(&["mv", "src/lib.rs", "src/core.rs"]);
    repo.write("src/keep.rs", "kept and changed\n");
    repo.git(&["rm", "-q", "src/gone.rs"]);
    repo.write("docs/new.md", "new\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "second"]);

    let mut changes = repo.open().changes("HEAD~1", "HEAD").expect("changes");
    changes.sort();

    assert_eq!(
        changes,
        vec![
            Change::Added("docs/new.md".into()),
            Change::Deleted("src/gone.rs".into()),
            Change::Modified("src/keep.rs".into()),
            Change::Renamed {
                from: "src/lib.rs".into(),
                to: "src/core.rs".into()
            },
        ]
    );
    let git = repo.git(&["diff", "--name-status", "-M", "HEAD~1", "HEAD"]);
    assert!(git.contains("R100\tsrc/lib.rs\tsrc/core.rs"), "{git}");
    assert!(matches!(
        repo.open().changes("nope", "HEAD"),
        Err(GitError::BadRevision { .. })
    ));
}

#[test]
fn staged_changes_match_git_diff_cached() {
    let body: String = (0..40).map(|i| format!("line {i}\n")).collect();
    let repo = TestRepo::with_files(&[
        ("old.rs", &body),
        ("mod.rs", "a\n"),
        ("del.rs", "d\n"),
        ("same.rs", "s\n"),
    ]);
    repo.git(&["mv", "old.rs", "new.rs"]);
    repo.write("mod.rs", "b\n");
    repo.git(&["rm", "-q", "del.rs"]);
    repo.write("add/deep/file.rs", "added\n");
    repo.git(&["add", "-A"]);
    repo.write("same.rs", "unstaged only\n");

    let mut changes = repo.open().staged_changes().expect("staged");
    changes.sort();

    assert_eq!(
        changes,
        vec![
            Change::Added("add/deep/file.rs".into()),
            Change::Deleted("del.rs".into()),
            Change::Modified("mod.rs".into()),
            Change::Renamed {
                from: "old.rs".into(),
                to: "new.rs".into()
            },
        ]
    );
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-status", "-M"]),
        "A\tadd/deep/file.rs\nD\tdel.rs\nM\tmod.rs\nR100\told.rs\tnew.rs\n"
    );
    // Nothing staged on an unborn branch but a new file.
    let fresh = TestRepo::init(true);
    fresh.write("x.txt", "x\n");
    fresh.git(&["add", "x.txt"]);
    assert_eq!(
        fresh.open().staged_changes().expect("staged"),
        vec![Change::Added("x.txt".into())]
    );
}

#[test]
fn merge_base_in_a_shallow_clone_is_an_error_with_the_fix() {
    let origin = TestRepo::with_files(&[("a.txt", "1\n")]);
    let base = origin.head();
    origin.git(&["checkout", "-q", "-b", "feature"]);
    for i in 0..2 {
        origin.write("f.txt", &format!("feature {i}\n"));
        origin.git(&["add", "f.txt"]);
        origin.git(&["commit", "-q", "-m", "feature"]);
    }
    origin.git(&["checkout", "-q", "main"]);
    for i in 0..2 {
        origin.write("a.txt", &format!("main {i}\n"));
        origin.git(&["commit", "-q", "-am", "main"]);
    }
    let full = origin.open();
    assert_eq!(
        full.merge_base("main", "feature")
            .expect("merge-base")
            .to_string(),
        base
    );
    assert!(!full.is_shallow());

    let parent = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", origin.path().display());
    git_in(
        parent.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &url,
            "clone",
        ],
    );
    let clone_path = parent.path().join("clone");
    let clone =
        Repo::from_gix(gix::open_opts(&clone_path, gix::open::Options::isolated()).expect("open"))
            .expect("work tree");
    assert!(clone.is_shallow());
    let err = clone
        .merge_base("HEAD", "origin/feature")
        .expect_err("shallow");
    assert!(matches!(err, GitError::Shallow { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("fetch-depth: 0") && text.contains("--unshallow"),
        "{text}"
    );
    assert_eq!(clone.default_branch().expect("default"), "origin/main");
}

#[test]
fn hooks_dir_honours_core_hooks_path() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n")]);
    assert_eq!(
        repo.open().hooks_dir().expect("hooks"),
        repo.path().join(".git/hooks")
    );
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    assert_eq!(
        repo.open().hooks_dir().expect("hooks"),
        repo.open().workdir().join(".githooks")
    );
    let abs = repo.path().join("elsewhere/hooks");
    repo.git(&["config", "core.hooksPath", &abs.to_string_lossy()]);
    assert_eq!(repo.open().hooks_dir().expect("hooks"), abs);
}

#[test]
fn tracked_files_equal_git_ls_files() {
    let repo = TestRepo::with_files(&[
        ("b.txt", "b\n"),
        ("a/z.rs", "z\n"),
        ("a/b/c.rs", "c\n"),
        ("A-upper.md", "u\n"),
        (".gitignore", "ignored.log\n"),
    ]);
    repo.write("ignored.log", "forced\n");
    repo.git(&["add", "-f", "ignored.log"]);
    repo.write("untracked.txt", "no\n");
    let commit = repo.head();
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{commit},sub"),
    ]);

    let ours = repo.open().tracked_files().expect("tracked");

    let staged = repo.git(&["ls-files", "-s"]);
    let expected: Vec<String> = staged
        .lines()
        .filter(|l| !l.starts_with("160000 "))
        .filter_map(|l| l.split_once('\t').map(|(_, p)| p.to_string()))
        .collect();
    assert_eq!(ours, expected);
    assert!(ours.contains(&"ignored.log".to_string()));
    assert!(!ours.contains(&"sub".to_string()));
    assert!(!ours.contains(&"untracked.txt".to_string()));
}

#[test]
fn reads_files_from_index_and_revisions() {
    let repo = TestRepo::with_files(&[
        (".orchestrator/plan.md", "plan v1\n"),
        (".orchestrator/tickets/A.md", "a v1\n"),
        (".orchestrator.example/plan.md", "example\n"),
        ("src/x.rs", "x\n"),
    ]);
    repo.git(&["tag", "-a", "v1", "-m", "v1"]);
    repo.write(".orchestrator/tickets/A.md", "a v2 staged\n");
    repo.write(".orchestrator/tickets/B.md", "b new\n");
    repo.git(&["add", "."]);
    repo.write(".orchestrator/plan.md", "plan unstaged\n");
    let opened = repo.open();

    let staged = opened
        .index_blobs(".orchestrator/")
        .and_then(|b| b.read_all())
        .expect("index files");
    assert_eq!(
        staged,
        files(&[
            (".orchestrator/plan.md", "plan v1\n"),
            (".orchestrator/tickets/A.md", "a v2 staged\n"),
            (".orchestrator/tickets/B.md", "b new\n"),
        ])
    );
    let at_head = opened
        .blobs_at("HEAD", ".orchestrator/")
        .and_then(|b| b.read_all())
        .expect("files at");
    assert_eq!(
        at_head,
        files(&[
            (".orchestrator/plan.md", "plan v1\n"),
            (".orchestrator/tickets/A.md", "a v1\n"),
        ])
    );
    assert_eq!(
        opened
            .blobs_at("v1", ".orchestrator/tickets/")
            .and_then(|b| b.read_all())
            .expect("tag")
            .len(),
        1
    );
    assert_eq!(
        opened
            .blobs_at("HEAD", "nothing/")
            .and_then(|b| b.read_all())
            .expect("empty"),
        vec![]
    );
    assert_eq!(
        opened
            .blobs_at("HEAD", "")
            .and_then(|b| b.read_all())
            .expect("all")
            .len(),
        4
    );
    assert_eq!(
        opened
            .file_at("HEAD", ".orchestrator/plan.md", u64::MAX)
            .expect("file"),
        Some(b"plan v1\n".to_vec())
    );
    assert_eq!(
        opened
            .file_at("HEAD", ".orchestrator/none.md", u64::MAX)
            .expect("absent"),
        None
    );
    assert_eq!(
        opened
            .file_at("HEAD", ".orchestrator", u64::MAX)
            .expect("a folder"),
        None
    );
    assert_eq!(
        opened.resolve("v1").expect("tag peels").to_string(),
        repo.head()
    );
    let err = opened.resolve("no-such-branch").expect_err("bad rev");
    assert!(err.to_string().contains("no-such-branch"), "{err}");
    assert_eq!(opened.default_branch().expect("main"), "main");
}

#[test]
fn default_branch_falls_back_to_master() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n")]);
    repo.git(&["branch", "-m", "main", "master"]);
    assert_eq!(repo.open().default_branch().expect("master"), "master");
    repo.git(&["branch", "-m", "master", "trunk"]);
    assert!(matches!(
        repo.open().default_branch(),
        Err(GitError::NoDefaultBranch)
    ));
}

#[test]
fn orch_commits_reads_trailers_back() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n")]);
    repo.write(".orchestrator/t.md", "1\n");
    // One instance for two commits and the reads after them: nothing stale.
    let same = repo.open();
    let first = same
        .commit_files(&files(&[(".orchestrator/t.md", "1\n")]), MESSAGE)
        .expect("first");
    repo.write(".orchestrator/t.md", "1b\n");
    let again = same
        .commit_files(&files(&[(".orchestrator/t.md", "1b\n")]), MESSAGE)
        .expect("again");
    assert_eq!(
        repo.git(&["rev-parse", "HEAD^"]).trim(),
        first.id.to_string()
    );
    assert_eq!(
        same.index_blobs(".orchestrator/")
            .and_then(|b| b.read_all())
            .expect("index"),
        files(&[(".orchestrator/t.md", "1b\n")])
    );
    assert_eq!(same.staged_changes().expect("staged"), vec![]);
    assert_eq!(repo.status(), "");
    repo.git(&["commit", "-q", "--allow-empty", "-m", "unrelated"]);
    repo.write(".orchestrator/u.md", "2\n");
    let second = repo
        .open()
        .commit_files(
            &files(&[(".orchestrator/u.md", "2\n")]),
            "orch(P2-CORE-01): in_progress -> done\n\nOrch-Task: P2-CORE-01\nOrch-Result: pass",
        )
        .expect("second");

    let opened = repo.open();
    let all = opened.orch_commits(None, 10).expect("all");
    assert_eq!(
        all.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![second.id, again.id, first.id]
    );
    assert_eq!(all[0].subject, "orch(P2-CORE-01): in_progress -> done");
    assert_eq!(
        all[0].trailers,
        vec![
            ("Orch-Task".to_string(), "P2-CORE-01".to_string()),
            ("Orch-Result".to_string(), "pass".to_string())
        ]
    );
    assert_eq!(all[2].trailer("orch-result"), Some("started"));
    assert!(all[0].time > 1_600_000_000);
    let one = opened.orch_commits(Some("P1-UI-01"), 10).expect("one");
    assert_eq!(
        one.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![again.id, first.id]
    );
    assert_eq!(opened.orch_commits(None, 1).expect("limit").len(), 1);
    assert!(
        opened
            .orch_commits(Some("P9-X-01"), 10)
            .expect("none")
            .is_empty()
    );
    assert!(
        TestRepo::init(true)
            .open()
            .orch_commits(None, 10)
            .expect("unborn")
            .is_empty()
    );
}

#[test]
fn discover_finds_the_repository_from_a_subfolder() {
    let repo = TestRepo::with_files(&[("deep/er/a.txt", "a\n")]);
    let found = Repo::discover(&repo.path().join("deep/er"))
        .expect("discover")
        .expect("a repository");
    let expected = repo.path().canonicalize().expect("canonical");
    assert_eq!(found.workdir().canonicalize().expect("canonical"), expected);

    let bare = tempfile::tempdir().expect("tempdir");
    git_in(bare.path(), &["init", "-q", "--bare", "b.git"]);
    let err = Repo::discover(&bare.path().join("b.git"))
        .err()
        .expect("bare");
    assert!(matches!(err, GitError::Bare { .. }), "{err:?}");
}

/// Runs `discover_child` in a child process of this test binary with `env`,
/// and returns what it printed.
fn run_child(env: &[(&str, &Path)], start: &Path) -> String {
    let exe = std::env::current_exe().expect("test binary");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "git::tests::discover_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("ORCH_GIT_TEST_START", start);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("DISCOVERED:").map(|(_, found)| found))
        .expect("the child reports")
        .to_string()
}

/// Child half of `discover_honours_git_dir_and_work_tree`: prints what
/// `Repo::discover` found from `ORCH_GIT_TEST_START`.
#[test]
#[ignore = "run by discover_honours_git_dir_and_work_tree in a child process"]
fn discover_child() {
    let Some(start) = std::env::var_os("ORCH_GIT_TEST_START") else {
        return;
    };
    let report = match Repo::discover(Path::new(&start)) {
        Ok(Some(repo)) => format!("{}|{}", repo.workdir().display(), repo.git_dir().display()),
        Ok(None) => "none".to_string(),
        Err(e) => format!("error {e}"),
    };
    println!("DISCOVERED:{report}");
}

#[test]
fn discover_honours_git_dir_and_work_tree() {
    let root = tempfile::tempdir().expect("tempdir");
    let root_path = root.path().canonicalize().expect("canonical");
    let store = root_path.join("store.git");
    let work = root_path.join("work");
    let elsewhere = root_path.join("elsewhere");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    git_in(&root_path, &["init", "-q", "--bare", "store.git"]);

    let found = run_child(&[("GIT_DIR", &store), ("GIT_WORK_TREE", &work)], &elsewhere);
    let (workdir, git_dir) = found.split_once('|').expect("workdir|git_dir");
    assert_eq!(PathBuf::from(workdir), work);
    assert_eq!(
        PathBuf::from(git_dir).canonicalize().expect("canonical"),
        store.canonicalize().expect("canonical")
    );

    // Outside any repository (the ceiling stops the walk at the temp dir).
    let found = run_child(&[("GIT_CEILING_DIRECTORIES", &root_path)], &elsewhere);
    assert_eq!(found, "none");
}

#[test]
fn dirty_paths_are_what_git_status_lists() {
    let repo = TestRepo::with_files(&[
        ("src/a.rs", "a\n"),
        ("src/b.rs", "b\n"),
        ("docs/c.md", "c\n"),
        (".gitignore", "target/\n"),
    ]);
    repo.write("src/a.rs", "changed\n"); // unstaged
    repo.write("src/new.rs", "new\n"); // untracked
    repo.write("target/out.bin", "ignored\n"); // ignored
    repo.write("docs/c.md", "staged\n");
    repo.git(&["add", "docs/c.md"]);
    std::fs::remove_file(repo.path().join("src/b.rs")).expect("rm"); // deleted
    let got = repo.open().dirty_paths().expect("status");
    assert_eq!(got, ["docs/c.md", "src/a.rs", "src/b.rs", "src/new.rs"]);
    assert!(
        TestRepo::with_files(&[("x", "x\n")])
            .open()
            .dirty_paths()
            .expect("status")
            .is_empty()
    );
}

#[test]
fn blobs_over_the_bound_are_sized_from_their_header_loose_and_packed() {
    let repo = TestRepo::with_files(&[
        (".orchestrator/small.md", "small\n"),
        (".orchestrator/big.md", &"x".repeat(3 << 20)),
    ]);
    for packed in [false, true] {
        if packed {
            repo.git(&["gc", "-q"]);
        }
        let opened = repo.open();
        let blobs = opened.blobs_at("HEAD", ".orchestrator/").expect("list");
        let mut read = blobs.reader();
        let big = blobs.files.iter().position(|(p, _)| p.ends_with("big.md"));
        let small = blobs
            .files
            .iter()
            .position(|(p, _)| p.ends_with("small.md"));
        assert_eq!(
            read(big.expect("big"), 1 << 20),
            Err(super::BlobError::TooBig(3 << 20)),
            "packed: {packed}"
        );
        assert_eq!(
            read(small.expect("small"), 1 << 20),
            Ok(b"small\n".to_vec())
        );
        // Not a damaged repository: nothing for `check` to report.
        drop(read);
        assert!(blobs.check().is_ok());
        assert_eq!(
            opened
                .file_at("HEAD", ".orchestrator/big.md", 1 << 20)
                .expect("sized"),
            None
        );
    }
}

/// git sits below the model: nothing in `src/git/` may import another orch
/// module (the model reaches git, never the other way round).
#[test]
fn git_imports_no_other_orch_module() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/git");
    for entry in std::fs::read_dir(&dir).expect("src/git") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            assert!(
                !code.contains("crate::") || code.contains("crate::git"),
                "{}:{}: git/ must not depend on other orch modules: {line}",
                path.display(),
                n + 1
            );
        }
    }
}

#[test]
fn the_index_keeps_its_version() {
    // git itself writes 2 or 3, whichever the entries need; 4 is kept.
    for version in ["2", "4"] {
        let repo = TestRepo::with_files(&[
            ("src/a/deep/one.rs", "1\n"),
            ("src/a/deep/two.rs", "2\n"),
            ("src/b.rs", "b\n"),
            (".orchestrator/plan.md", "plan v1\n"),
            (".orchestrator/tickets/A.md", "a v1\n"),
        ]);
        repo.git(&["update-index", "--index-version", version]);
        repo.write(".orchestrator/tickets/A.md", "a v2\n");
        repo.write(".orchestrator/tickets/B.md", "b new\n");
        repo.open()
            .commit_files(
                &files(&[
                    (".orchestrator/tickets/A.md", "a v2\n"),
                    (".orchestrator/tickets/B.md", "b new\n"),
                ]),
                MESSAGE,
            )
            .expect("commit");
        assert_eq!(
            repo.git(&["update-index", "--show-index-version"]).trim(),
            version
        );
        assert_eq!(repo.status(), "", "clean after the commit (v{version})");
        let listed = repo.git(&["ls-files"]);
        assert_eq!(
            listed.lines().collect::<Vec<_>>(),
            [
                ".orchestrator/plan.md",
                ".orchestrator/tickets/A.md",
                ".orchestrator/tickets/B.md",
                "src/a/deep/one.rs",
                "src/a/deep/two.rs",
                "src/b.rs"
            ]
        );
        repo.fsck();
        // git reads it and writes it back as it was.
        repo.git(&["add", "src/b.rs"]);
        assert_eq!(
            repo.git(&["update-index", "--show-index-version"]).trim(),
            version
        );
    }
}

#[test]
fn an_index_that_cannot_be_renamed_after_the_branch_moved_says_so() {
    let repo = TestRepo::with_files(&[(".orchestrator/plan.md", "plan v1\n")]);
    let before = repo.head();
    repo.write(".orchestrator/plan.md", "plan v2\n");
    let opened = repo.open();
    let index = repo.path().join(".git/index");
    let mut block_the_index = || {
        std::fs::remove_file(&index).expect("rm index");
        std::fs::create_dir_all(index.join("x")).expect("a folder in its place");
    };
    let err = opened
        .commit_files_with(
            &files(&[(".orchestrator/plan.md", "plan v2\n")]),
            MESSAGE,
            &mut block_the_index,
        )
        .expect_err("the rename fails");
    assert!(matches!(err, GitError::IndexNotUpdated { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("main moved to orch's commit"), "{text}");
    assert!(
        text.contains("git reset -q -- .orchestrator/plan.md"),
        "{text}"
    );
    assert_ne!(repo.head(), before, "the branch did move");
}

#[test]
fn a_held_ref_lock_leaves_branch_and_index_and_says_it_did_not_move() {
    let repo = TestRepo::with_files(&[(".orchestrator/plan.md", "plan v1\n")]);
    let before = repo.head();
    let index = repo.index_bytes();
    std::fs::write(repo.path().join(".git/refs/heads/main.lock"), "").expect("lock");
    repo.write(".orchestrator/plan.md", "plan v2\n");
    let err = repo
        .open()
        .commit_files(&files(&[(".orchestrator/plan.md", "plan v2\n")]), MESSAGE)
        .expect_err("locked");
    assert!(matches!(err, GitError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("the branch did not move"), "{err}");
    assert!(err.to_string().contains("main.lock"), "{err}");
    assert_eq!(repo.head(), before);
    assert_eq!(repo.index_bytes(), index);
    assert!(!repo.path().join(".git/index.lock").exists());
}
