//! Unit tests of the isolation primitives (worktree add and remove, seal,
//! advance and its resumption, tree merge) on real repositories, checked
//! with the real `git` binary, isolated from the machine's config.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

use super::{GitError, Merged, Repo};

fn git_in(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = Fixture { dir };
        f.git(&["init", "-q", "-b", "main"]);
        f.git(&["config", "user.name", "Orch Test"]);
        f.git(&["config", "user.email", "orch@example.com"]);
        for (p, c) in files {
            write(f.path(), p, c);
        }
        f.git(&["add", "-A"]);
        f.git(&["commit", "-q", "-m", "initial"]);
        f
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    fn open(&self) -> Repo {
        let repo = gix::open_opts(self.path(), gix::open::Options::isolated()).expect("open");
        Repo::from_gix(repo).expect("a work tree")
    }

    fn head(&self) -> super::Oid {
        super::Oid::from_hex(self.git(&["rev-parse", "HEAD"]).trim().as_bytes()).expect("hex")
    }

    fn fsck(&self) {
        self.git(&["fsck", "--strict", "--no-progress"]);
    }
}

fn open_worktree(path: &Path) -> Repo {
    let repo = gix::open_opts(path, gix::open::Options::isolated()).expect("open worktree");
    Repo::from_gix(repo).expect("a work tree")
}

#[test]
fn a_worktree_is_added_listed_sealed_and_removed() {
    let f = Fixture::new(&[
        ("src/a.rs", "a\n"),
        ("src/b.rs", "b\n"),
        ("gone.txt", "x\n"),
        (".gitignore", "*.log\n"),
    ]);
    let repo = f.open();
    let base = f.head();
    repo.create_branch("orch/T1", base, "test").expect("branch");
    let again = repo.create_branch("orch/T1", base, "again");
    assert!(matches!(again, Err(GitError::Moved { .. })), "{again:?}");
    let wt_path = f.path().join(".git/orch/worktrees/T1");
    std::fs::create_dir_all(wt_path.parent().unwrap()).unwrap();
    repo.add_worktree(&wt_path, "orch/T1", &AtomicBool::new(false))
        .expect("add worktree");
    let list = f.git(&["worktree", "list", "--porcelain"]);
    assert!(
        list.contains(&format!(
            "worktree {}",
            wt_path.canonicalize().unwrap().display()
        )) || list.contains(&format!("worktree {}", wt_path.display())),
        "{list}"
    );
    assert!(list.contains("branch refs/heads/orch/T1"), "{list}");
    assert_eq!(git_in(&wt_path, &["status", "--porcelain"]), "");

    // The agent: a commit of its own, then edits, a new file, a deletion,
    // an ignored file, and the environment orch copied in.
    write(&wt_path, "src/a.rs", "a by the agent\n");
    git_in(&wt_path, &["commit", "-q", "-am", "agent: a"]);
    write(&wt_path, "src/b.rs", "b by sed\n");
    write(&wt_path, "src/new/c.rs", "c\n");
    std::fs::remove_file(wt_path.join("gone.txt")).unwrap();
    write(&wt_path, "build.log", "ignored\n");
    write(&wt_path, ".env", "SECRET=1\n");
    let wt = open_worktree(&wt_path);
    let sealed = wt
        .seal(
            "orch/T1",
            "orch(T1): seal\n\nOrch-Task: T1\n",
            &[".env".to_string()],
        )
        .expect("seal");
    assert_eq!(sealed.committed, ["gone.txt", "src/b.rs", "src/new/c.rs"]);
    assert_eq!(sealed.head_was, None);
    assert_eq!(
        git_in(f.path(), &["rev-parse", "orch/T1"]).trim(),
        sealed.tip.to_string()
    );
    // The agent's commit stays beneath the seal.
    assert_eq!(
        git_in(
            f.path(),
            &["log", "--format=%s", "orch/T1", &format!("^{base}")]
        ),
        "orch(T1): seal\nagent: a\n"
    );
    let names = git_in(
        f.path(),
        &["diff", "--name-status", &base.to_string(), "orch/T1"],
    );
    assert_eq!(
        names,
        "D\tgone.txt\nM\tsrc/a.rs\nM\tsrc/b.rs\nA\tsrc/new/c.rs\n"
    );
    // The worktree is clean on its branch, but for the environment.
    assert_eq!(git_in(&wt_path, &["status", "--porcelain"]), "?? .env\n");
    f.fsck();

    // Listed, then removed: registration and folder.
    let listed = repo.worktrees().expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].branch.as_deref(), Some("orch/T1"));
    assert!(listed[0].exists && listed[0].has_index && listed[0].locked.is_none());
    repo.remove_worktree(&listed[0]).expect("remove");
    assert!(!wt_path.exists());
    assert_eq!(
        f.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    repo.delete_branch("orch/T1", sealed.tip)
        .expect("delete branch");
    assert_eq!(f.git(&["branch", "--list", "orch/*"]), "");
    f.fsck();
}

#[test]
fn a_seal_follows_an_agent_that_left_its_branch() {
    let f = Fixture::new(&[("a.txt", "a\n")]);
    let repo = f.open();
    let base = f.head();
    repo.create_branch("orch/T2", base, "test").unwrap();
    let wt_path = f.path().join("wt");
    repo.add_worktree(&wt_path, "orch/T2", &AtomicBool::new(false))
        .unwrap();
    git_in(&wt_path, &["checkout", "-q", "--detach"]);
    write(&wt_path, "a.txt", "changed while detached\n");
    git_in(&wt_path, &["commit", "-q", "-am", "agent, detached"]);
    write(&wt_path, "b.txt", "left over\n");
    let sealed = open_worktree(&wt_path)
        .seal("orch/T2", "orch(T2): seal\n", &[])
        .expect("seal");
    assert_eq!(sealed.head_was.as_deref(), Some("a detached HEAD"));
    assert_eq!(
        git_in(&wt_path, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/orch/T2"
    );
    assert_eq!(
        git_in(
            f.path(),
            &["log", "--format=%s", "orch/T2", &format!("^{base}")]
        ),
        "orch(T2): seal\nagent, detached\n"
    );
    assert_eq!(git_in(&wt_path, &["status", "--porcelain"]), "");
    f.fsck();
}

#[test]
fn advance_moves_only_the_changed_paths_and_refuses_over_uncommitted_work() {
    let f = Fixture::new(&[("a.txt", "a\n"), ("b.txt", "b\n"), ("dir/c.txt", "c\n")]);
    let repo = f.open();
    let from = f.head();
    // The commit to move to, made elsewhere: a changed, c deleted, d added.
    let tree = repo.tree_of_commit(from).unwrap();
    let tree = repo.tree_with_file(tree, "a.txt", b"a2\n").unwrap();
    let tree = repo.tree_with_file(tree, "new/d.txt", b"d\n").unwrap();
    let mut to_tree = tree;
    {
        let mut ed = repo.repo.edit_tree(to_tree).unwrap();
        ed.remove("dir/c.txt").unwrap();
        to_tree = ed.write().unwrap().detach();
    }
    let to = repo.write_commit(to_tree, &[from], "moved\n").unwrap();

    // Uncommitted work in a changed path: refused, nothing written.
    write(f.path(), "a.txt", "mine\n");
    match repo.advance(from, to, "test") {
        Err(GitError::Uncommitted { paths }) => assert_eq!(paths, ["a.txt"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.head(), from);
    assert_eq!(
        std::fs::read_to_string(f.path().join("a.txt")).unwrap(),
        "mine\n"
    );
    // An untracked file where one is added: refused too.
    write(f.path(), "a.txt", "a\n");
    write(f.path(), "new/d.txt", "mine\n");
    assert!(matches!(
        repo.advance(from, to, "test"),
        Err(GitError::Uncommitted { .. })
    ));
    std::fs::remove_file(f.path().join("new/d.txt")).unwrap();

    // Unrelated work stays, staged and unstaged.
    write(f.path(), "b.txt", "b staged\n");
    f.git(&["add", "b.txt"]);
    write(f.path(), "notes.txt", "untracked\n");
    repo.advance(from, to, "test: advance").expect("advance");
    assert_eq!(f.head(), to);
    assert_eq!(
        f.git(&["status", "--porcelain"]),
        "M  b.txt\n?? notes.txt\n"
    );
    assert!(!f.path().join("dir").exists(), "an emptied folder goes");
    assert_eq!(
        std::fs::read_to_string(f.path().join("new/d.txt")).unwrap(),
        "d\n"
    );
    f.fsck();
}

#[test]
fn an_advance_killed_half_way_is_finished_by_resume() {
    let f = Fixture::new(&[("a.txt", "a\n"), ("b.txt", "b\n")]);
    let repo = f.open();
    let from = f.head();
    let tree = repo.tree_of_commit(from).unwrap();
    let tree = repo.tree_with_file(tree, "a.txt", b"a2\n").unwrap();
    let tree = repo.tree_with_file(tree, "b.txt", b"b2\n").unwrap();
    let to = repo.write_commit(tree, &[from], "moved\n").unwrap();
    // What a kill after the journal and one file leaves: a.txt new, b.txt
    // old, a temp file, HEAD at `from`.
    std::fs::write(
        f.path().join(".git/orch-advance"),
        format!("from {from}\nto {to}\n"),
    )
    .unwrap();
    write(f.path(), "a.txt", "a2\n");
    write(f.path(), ".orch-4242-0.tmp", "half");
    assert_eq!(repo.interrupted_advance(), Some((from, to)));
    assert!(matches!(
        repo.advance(from, to, "again"),
        Err(GitError::Interrupted { .. })
    ));
    let done = repo.resume_advance("test: resume").expect("resume");
    assert_eq!(done, Some(super::Resumed::Finished { from, to }));
    assert_eq!(f.head(), to);
    assert_eq!(
        f.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert_eq!(repo.interrupted_advance(), None);
    f.fsck();
}

#[test]
fn tree_merges_are_three_way_and_name_conflicts() {
    let f = Fixture::new(&[("a.txt", "1\n2\n3\n4\n5\n"), ("b.txt", "b\n")]);
    let repo = f.open();
    let base = repo.tree_of_commit(f.head()).unwrap();
    let ours = repo
        .tree_with_file(base, "a.txt", b"1 ours\n2\n3\n4\n5\n")
        .unwrap();
    let theirs = repo
        .tree_with_file(base, "a.txt", b"1\n2\n3\n4\n5 theirs\n")
        .unwrap();
    let merger = repo.merger().unwrap();
    let Merged::Clean(t) = merger
        .merge(base, ours, theirs, ("HEAD", "orch/T"))
        .unwrap()
    else {
        panic!("should merge")
    };
    assert_eq!(
        repo.file_in_tree(t, "a.txt").unwrap().unwrap(),
        b"1 ours\n2\n3\n4\n5 theirs\n"
    );
    let clash = repo
        .tree_with_file(base, "a.txt", b"1 clash\n2\n3\n4\n5\n")
        .unwrap();
    assert_eq!(
        merger.merge(base, ours, clash, ("HEAD", "orch/T")).unwrap(),
        Merged::Conflicts(vec!["a.txt".to_string()])
    );
}
