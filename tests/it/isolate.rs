//! Isolated runs: `orch integrate`, `orch clean` and the leftovers `orch
//! status` lists, on real repositories. Task branches are made here the way
//! an isolated dispatch leaves them: `orch/<ID>` at a base, a linked
//! worktree under `.git/orch/worktrees/<ID>`, the agent's commits, then a
//! seal whose trailers name the task, the run and the base.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use crate::util::{git, git_output};

/// One task of a generated program.
#[derive(Clone)]
pub struct T {
    pub id: &'static str,
    pub status: &'static str,
    pub deps: &'static str,
    /// The card's Tests/checks to run (a code span), or none.
    pub check: Option<&'static str>,
}

pub fn t(id: &'static str, status: &'static str) -> T {
    T {
        id,
        status,
        deps: "-",
        check: None,
    }
}

pub struct Iso {
    dir: tempfile::TempDir,
}

impl Iso {
    /// A repository holding a program of `tasks` (scope `work/<ID>/**`,
    /// a file `work/<ID>/seed.txt` each), committed on `main`.
    pub fn new(tasks: &[T]) -> Iso {
        Iso::with(
            tasks,
            "agent:\n  command: [\"true\"]\n  adapter: generic\n",
            &[],
        )
    }

    /// A program as [`Iso::new`] makes it, with `config` and, committed at
    /// `agents/<ID>.sh`, the stand-in agent of `testdata/agents/` each
    /// `(ID, script)` names.
    pub fn with(tasks: &[T], config: &str, agents: &[(&str, &str)]) -> Iso {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let o = root.join(".orchestrator");
        for sub in ["tickets", "cards"] {
            std::fs::create_dir_all(o.join(sub)).expect("mkdir");
        }
        let mut rows = String::new();
        for task in tasks {
            rows.push_str(&format!(
                "| {} | Build {} | development-implementer | {} | {} passes |\n",
                task.id, task.id, task.deps, task.id
            ));
            std::fs::write(
                o.join(format!("tickets/{}.md", task.id)),
                format!(
                    "---\nkind: ticket\nid: {id}\nstatus: {status}\n---\n\n## Dispatch Ticket: {id}\n- Objective: Build {id}\n- Owner Skill: development-implementer\n- Inputs: The plan.\n- Commands/Checks: `true`\n- Expected Artifacts: `work/{id}/seed.txt`\n- Risks: none\n- Exit Criteria: {id} passes\n",
                    id = task.id,
                    status = task.status
                ),
            )
            .expect("ticket");
            let check = task.check.map_or("none".to_string(), |c| format!("`{c}`"));
            std::fs::write(
                o.join(format!("cards/{}.md", task.id)),
                format!(
                    "---\nkind: card\nid: {id}\ngroup: G1\n---\n\n## Codex Execution Card: {id}\n- Skill: development-implementer\n- Goal: Build {id}\n- Allowed Scope:\n  - Files/paths: `work/{id}/**`\n  - Prohibited areas: none\n- Commands to run: `make`\n- Tests/checks to run: {check}\n- Evidence to capture: The test summary line.\n- Completion criteria: {id} passes\n",
                    id = task.id
                ),
            )
            .expect("card");
            std::fs::create_dir_all(root.join(format!("work/{}", task.id))).expect("mkdir");
            std::fs::write(
                root.join(format!("work/{}/seed.txt", task.id)),
                format!("seed of {}\nline two\nline three\n", task.id),
            )
            .expect("seed");
        }
        std::fs::write(
            o.join("plan.md"),
            format!(
                "---\nkind: plan\nid: demo\ntitle: Demo\nstatus: active\n---\n\n# Program Goal\n- Goal: Exercise isolation.\n- Scope: Branches.\n- Non-goals: Anything else.\n\n# Phase Tree\n## Phase P1: Only phase\n- Outcome: Work integrated.\n- Workstreams:\n  - UI: none\n  - Core: The work.\n  - Infrastructure: none\n  - Test: none\n  - Docs: none\n\n## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n{rows}"
            ),
        )
        .expect("plan");
        let mut ledger = String::from(
            "---\nkind: ledger\nplan: demo\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n",
        );
        for task in tasks {
            let result = match task.status {
                "done" => Some("pass"),
                "partial" => Some("partial"),
                "failed" => Some("fail"),
                _ => None,
            };
            if let Some(r) = result {
                ledger.push_str(&format!(
                    "| {} | development-implementer | run R1 | {r} | - |\n",
                    task.id
                ));
            }
        }
        ledger.push_str("\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n");
        std::fs::write(o.join("ledger.md"), ledger).expect("ledger");
        std::fs::write(o.join("config.yaml"), config).expect("config");
        for (id, script) in agents {
            std::fs::create_dir_all(root.join("agents")).expect("mkdir");
            std::fs::copy(
                crate::util::repo_path(&format!("testdata/agents/{script}")),
                root.join(format!("agents/{id}.sh")),
            )
            .expect("copy agent");
        }
        std::fs::write(root.join(".gitignore"), ".orchestrator/logs/\n").expect("ignore");
        std::fs::write(root.join("README.md"), "# demo\n").expect("readme");
        git(root, &["init", "-q", "-b", "main"]);
        git(root, &["config", "user.name", "Test"]);
        git(root, &["config", "user.email", "test@example.com"]);
        git(root, &["config", "commit.gpgsign", "false"]);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "init"]);
        Iso { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn orch(&self, args: &[&str]) -> Output {
        self.orch_cmd(args).output().expect("run orch")
    }

    pub fn orch_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_orch"));
        cmd.current_dir(self.root())
            .env("HOME", self.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    pub fn json(&self, args: &[&str]) -> (Option<i32>, serde_json::Value) {
        let out = self.orch(&[args, &["--format", "json"]].concat());
        let v = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
        (out.status.code(), v)
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(self.root(), args)
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    pub fn worktree(&self, id: &str) -> PathBuf {
        self.root().join(".git/orch/worktrees").join(id)
    }

    /// Commit `files` on main (someone else's work after the dispatch).
    pub fn commit_on_main(&self, files: &[(&str, &str)], message: &str) {
        for (path, content) in files {
            let p = self.root().join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, content).expect("write");
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// `orch/<ID>` at `base` in a worktree under `.git/orch/worktrees/`,
    /// with `files` written (`None` deletes) and committed by the agent,
    /// then sealed the way dispatch seals it. Returns the tip.
    pub fn branch(&self, id: &str, base: &str, files: &[(&str, Option<&str>)]) -> String {
        let wt = self.worktree(id);
        std::fs::create_dir_all(wt.parent().expect("parent")).expect("mkdir");
        let branch = format!("orch/{id}");
        self.git(&[
            "worktree",
            "add",
            "-q",
            "-b",
            &branch,
            wt.to_str().expect("utf-8"),
            base,
        ]);
        for (path, content) in files {
            let p = wt.join(path);
            match content {
                Some(c) => {
                    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                    std::fs::write(&p, c).expect("write");
                }
                None => {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        git(&wt, &["add", "-A"]);
        git(
            &wt,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("agent: work on {id}"),
            ],
        );
        git(
            &wt,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!(
                    "orch({id}): seal run R1\n\nOrch-Task: {id}\nOrch-Run: R1\nOrch-Base: {}",
                    git(self.root(), &["rev-parse", base]).trim()
                ),
            ],
        );
        git(&wt, &["rev-parse", "HEAD"]).trim().to_string()
    }

    pub fn fsck(&self) {
        let out = git_output(self.root(), &["fsck", "--strict", "--no-progress"]);
        assert!(
            out.status.success(),
            "git fsck: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }

    pub fn porcelain(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }

    /// `git worktree list --porcelain`: every listed folder but the main
    /// one, and whether any is prunable (listed without its folder).
    pub fn linked_worktrees(&self) -> Vec<String> {
        let list = self.git(&["worktree", "list", "--porcelain"]);
        let mut out = Vec::new();
        for block in list.split("\n\n").skip(1) {
            if let Some(path) = block.lines().find_map(|l| l.strip_prefix("worktree ")) {
                out.push(path.to_string());
            }
            assert!(
                !block.contains("prunable"),
                "a worktree entry without its folder:\n{list}"
            );
        }
        out
    }

    pub fn orch_branches(&self) -> Vec<String> {
        self.git(&["branch", "--list", "orch/*", "--format=%(refname:short)"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

// ---------------------------------------------------------------------------

#[test]
fn integrate_three_disjoint_branches_after_main_moved() {
    let f = Iso::new(&[t("P1-A", "done"), t("P1-B", "done"), t("P1-C", "done")]);
    let base = f.head();
    let tips = [
        f.branch(
            "P1-A",
            &base,
            &[
                ("work/P1-A/new.txt", Some("a\n")),
                ("work/P1-A/seed.txt", None),
            ],
        ),
        f.branch(
            "P1-B",
            &base,
            &[(
                "work/P1-B/seed.txt",
                Some("seed of P1-B, changed\nline two\nline three\n"),
            )],
        ),
        f.branch(
            "P1-C",
            &base,
            &[("work/P1-C/deep/x.rs", Some("fn main() {}\n"))],
        ),
    ];
    // main moves on after the dispatch: someone edits the same file B edits,
    // in another line, and a file no task touches.
    f.commit_on_main(
        &[
            ("README.md", "# demo\nmoved on\n"),
            (
                "work/P1-B/seed.txt",
                "seed of P1-B\nline two\nline three changed on main\n",
            ),
        ],
        "main moves on",
    );
    let before = f.head();

    let out = f.orch(&["integrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let said = text(&out.stdout);
    for id in ["P1-A", "P1-B", "P1-C"] {
        assert!(said.contains(&format!("integrated {id}")), "{said}");
    }

    // One commit per task, in order, each naming its task, run and tip.
    let log = f.git(&["log", "--format=%s", &format!("{before}..HEAD")]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "orch(P1-C): integrate orch/P1-C",
            "orch(P1-B): integrate orch/P1-B",
            "orch(P1-A): integrate orch/P1-A"
        ],
        "{log}"
    );
    let parents = f.git(&["rev-list", "--parents", &format!("{before}..HEAD")]);
    assert!(
        parents.lines().all(|l| l.split(' ').count() == 2),
        "one parent each: {parents}"
    );
    let body = f.git(&["log", "-1", "--format=%B", "HEAD~2"]);
    assert!(body.contains("Orch-Task: P1-A"), "{body}");
    assert!(body.contains("Orch-Run: R1"), "{body}");
    assert!(body.contains("Orch-Tip: "), "{body}");
    assert!(body.contains("Orch-Branch: orch/P1-A"), "{body}");

    // The tree equals a by-hand merge of the three branches (the ledger
    // aside, which gains a row per task).
    let by_hand = f.root().join(".git/by-hand");
    f.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        by_hand.to_str().unwrap(),
        &before,
    ]);
    for tip in &tips {
        git(&by_hand, &["merge", "-q", "--no-edit", tip]);
    }
    let diff = f.git(&[
        "diff",
        "--stat",
        "HEAD",
        git(&by_hand, &["rev-parse", "HEAD"]).trim(),
        "--",
        ".",
        ":!.orchestrator/ledger.md",
    ]);
    assert_eq!(
        diff, "",
        "the integrated tree differs from the by-hand merge"
    );
    f.git(&["worktree", "remove", "--force", by_hand.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(f.root().join("work/P1-B/seed.txt")).unwrap(),
        "seed of P1-B, changed\nline two\nline three changed on main\n"
    );
    assert!(!f.root().join("work/P1-A/seed.txt").exists());

    // The ledger says so, one row per task; the program still lints.
    let ledger = std::fs::read_to_string(f.root().join(".orchestrator/ledger.md")).unwrap();
    for id in ["P1-A", "P1-B", "P1-C"] {
        assert!(
            ledger.contains(&format!(
                "| {id} | development-implementer | integrated `orch/{id}`"
            )),
            "{ledger}"
        );
    }
    let lint = f.orch(&["lint"]);
    assert_eq!(lint.status.code(), Some(0), "{}", show(&lint));

    // The work tree and index match HEAD; the repository is sound; the
    // worktrees and branches are gone.
    assert_eq!(f.porcelain(), "");
    f.fsck();
    assert!(
        f.linked_worktrees().is_empty(),
        "{:?}",
        f.linked_worktrees()
    );
    assert!(f.orch_branches().is_empty(), "{:?}", f.orch_branches());
    assert!(
        said.contains("removed the worktree and branch of P1-A, P1-B, P1-C"),
        "{said}"
    );

    // orch log shows the integrations.
    let log = f.orch(&["log"]);
    assert!(
        text(&log.stdout).contains("orch(P1-A): integrate orch/P1-A"),
        "{}",
        show(&log)
    );
    // A second run has nothing to do.
    let again = f.orch(&["integrate"]);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(
        text(&again.stdout).contains("nothing integrated"),
        "{}",
        show(&again)
    );
}

#[test]
fn a_conflicting_integration_changes_nothing() {
    let f = Iso::new(&[t("P1-A", "done"), t("P1-B", "done")]);
    let base = f.head();
    let tip_a = f.branch("P1-A", &base, &[("work/P1-A/new.txt", Some("a\n"))]);
    let tip_b = f.branch(
        "P1-B",
        &base,
        &[("work/P1-B/seed.txt", Some("branch B's first line\n"))],
    );
    f.commit_on_main(
        &[("work/P1-B/seed.txt", "main's first line\n")],
        "main edits B's file",
    );
    let head = f.head();
    let out = f.orch(&["integrate"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(
        err.contains("`P1-B` (branch `orch/P1-B`) conflicts"),
        "{err}"
    );
    assert!(err.contains("`work/P1-B/seed.txt`"), "{err}");
    assert!(!err.contains("`P1-A` (branch"), "{err}");
    // Nothing moved: HEAD, the branches, the work tree, the worktrees.
    assert_eq!(f.head(), head);
    assert_eq!(f.git(&["rev-parse", "orch/P1-A"]).trim(), tip_a);
    assert_eq!(f.git(&["rev-parse", "orch/P1-B"]).trim(), tip_b);
    assert_eq!(f.porcelain(), "");
    assert_eq!(f.linked_worktrees().len(), 2);
    f.fsck();
    // The others go in without it.
    let out = f.orch(&["integrate", "P1-A"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        f.git(&["log", "-1", "--format=%s"]).trim(),
        "orch(P1-A): integrate orch/P1-A"
    );
}

#[test]
fn two_branches_that_conflict_with_each_other_are_both_named() {
    let f = Iso::new(&[t("P1-A", "done"), t("P1-B", "done")]);
    let base = f.head();
    // Both change README.md: outside their scopes, so only with
    // --include-partial, where they meet.
    f.branch("P1-A", &base, &[("README.md", Some("# A's title\n"))]);
    f.branch("P1-B", &base, &[("README.md", Some("# B's title\n"))]);
    let head = f.head();
    let out = f.orch(&["integrate", "--include-partial"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("`P1-B` (branch `orch/P1-B`) conflicts with `P1-A`, before it in this integration in `README.md`"),
        "{err}"
    );
    assert_eq!(f.head(), head);
    // Without the flag, both count as partial and are skipped.
    let out = f.orch(&["integrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let said = text(&out.stdout);
    assert!(
        said.contains("changes `README.md` outside its scope, so it counts as partial"),
        "{said}"
    );
    assert_eq!(f.head(), head);
}

#[test]
fn check_stops_the_train_at_the_first_failing_check() {
    let mut a = t("P1-A", "done");
    a.check = Some("test -f work/P1-A/new.txt");
    let mut b = t("P1-B", "done");
    // Fails after B's merge: B deleted what it checks.
    b.check = Some("test -f work/P1-B/seed.txt");
    let mut c = t("P1-C", "done");
    c.check = Some("true");
    let f = Iso::new(&[a, b, c]);
    let base = f.head();
    f.branch("P1-A", &base, &[("work/P1-A/new.txt", Some("a\n"))]);
    f.branch("P1-B", &base, &[("work/P1-B/seed.txt", None)]);
    f.branch("P1-C", &base, &[("work/P1-C/new.txt", Some("c\n"))]);
    let before = f.head();
    let out = f.orch(&["integrate", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let said = text(&out.stdout);
    assert!(said.contains("integrated P1-A"), "{said}");
    assert!(
        said.contains("stopped at P1-B: check `test -f work/P1-B/seed.txt` exit 1"),
        "{said}"
    );
    assert!(said.contains("not integrated: P1-B, P1-C"), "{said}");
    let log = f.git(&["log", "--format=%s", &format!("{before}..HEAD")]);
    assert_eq!(log.trim(), "orch(P1-A): integrate orch/P1-A", "{log}");
    // The check's log is kept; the scratch worktree is gone; the branches
    // not integrated stay.
    assert!(
        f.root()
            .join(".orchestrator/logs/P1-B.integrate-check-1.log")
            .exists()
    );
    assert_eq!(f.orch_branches(), ["orch/P1-B", "orch/P1-C"]);
    assert!(!f.root().join(".git/orch/worktrees/_check").exists());
    assert_eq!(f.linked_worktrees().len(), 2, "{:?}", f.linked_worktrees());
    let ledger = std::fs::read_to_string(f.root().join(".orchestrator/ledger.md")).unwrap();
    assert!(
        ledger.contains("checks after the merge: `test -f work/P1-A/new.txt` exit 0"),
        "{ledger}"
    );
    assert_eq!(f.porcelain(), "");
    f.fsck();
}

#[test]
fn uncommitted_work_in_an_integrated_path_refuses_and_is_untouched() {
    let f = Iso::new(&[t("P1-A", "done")]);
    let base = f.head();
    f.branch("P1-A", &base, &[("work/P1-A/seed.txt", Some("agent's\n"))]);
    std::fs::write(f.root().join("work/P1-A/seed.txt"), "mine, not committed\n").unwrap();
    std::fs::write(f.root().join("notes.txt"), "unrelated\n").unwrap();
    let head = f.head();
    let out = f.orch(&["integrate"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("uncommitted changes in `work/P1-A/seed.txt`"),
        "{}",
        show(&out)
    );
    assert_eq!(f.head(), head);
    assert_eq!(
        std::fs::read_to_string(f.root().join("work/P1-A/seed.txt")).unwrap(),
        "mine, not committed\n"
    );
    // An untracked file where the branch adds one is in the way too.
    std::fs::write(
        f.root().join("work/P1-A/seed.txt"),
        "seed of P1-A\nline two\nline three\n",
    )
    .unwrap();
    let f2 = Iso::new(&[t("P1-A", "done")]);
    let base = f2.head();
    f2.branch("P1-A", &base, &[("work/P1-A/added.txt", Some("agent's\n"))]);
    std::fs::write(f2.root().join("work/P1-A/added.txt"), "mine\n").unwrap();
    let out = f2.orch(&["integrate"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("`work/P1-A/added.txt`"),
        "{}",
        show(&out)
    );
    assert_eq!(
        std::fs::read_to_string(f2.root().join("work/P1-A/added.txt")).unwrap(),
        "mine\n"
    );
    // Unrelated uncommitted work does not stand in the way, and stays.
    let f3 = Iso::new(&[t("P1-A", "done")]);
    let base = f3.head();
    f3.branch("P1-A", &base, &[("work/P1-A/added.txt", Some("agent's\n"))]);
    std::fs::write(f3.root().join("README.md"), "# mine\n").unwrap();
    f3.git(&["add", "README.md"]);
    std::fs::write(f3.root().join("scratch.txt"), "mine\n").unwrap();
    let out = f3.orch(&["integrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(f3.porcelain(), "M  README.md\n?? scratch.txt\n");
}

#[test]
fn dependencies_go_first_and_wait_for_each_other() {
    let mut b = t("P1-B", "done");
    b.deps = "P1-A";
    let f = Iso::new(&[b, t("P1-A", "done"), t("P1-C", "failed")]);
    let base = f.head();
    f.branch("P1-A", &base, &[("work/P1-A/new.txt", Some("a\n"))]);
    f.branch("P1-B", &base, &[("work/P1-B/new.txt", Some("b\n"))]);
    f.branch("P1-C", &base, &[("work/P1-C/new.txt", Some("c\n"))]);
    let before = f.head();
    // B alone waits on A.
    let out = f.orch(&["integrate", "P1-B"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("waits on `P1-A`"),
        "{}",
        show(&out)
    );
    // A failed task is named and refused; left out of a whole run.
    let out = f.orch(&["integrate", "P1-C"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("`P1-C` is `failed`"),
        "{}",
        show(&out)
    );
    let out = f.orch(&["integrate", "P1-B", "P1-A"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let log = f.git(&[
        "log",
        "--format=%s",
        "--reverse",
        &format!("{before}..HEAD"),
    ]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "orch(P1-A): integrate orch/P1-A",
            "orch(P1-B): integrate orch/P1-B"
        ]
    );
}

#[test]
fn clean_removes_integrated_work_and_keeps_the_rest_without_force() {
    let f = Iso::new(&[
        t("P1-A", "done"),
        t("P1-B", "done"),
        t("P1-C", "cancelled"),
        t("P1-D", "blocked"),
    ]);
    let base = f.head();
    f.branch("P1-A", &base, &[("work/P1-A/new.txt", Some("a\n"))]);
    f.branch("P1-B", &base, &[("work/P1-B/new.txt", Some("b\n"))]);
    f.branch("P1-C", &base, &[("work/P1-C/new.txt", Some("c\n"))]);
    f.branch("P1-D", &base, &[]);
    let out = f.orch(&["integrate", "P1-A", "--keep"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(f.linked_worktrees().len(), 4);

    // status lists what is left, with sizes.
    let st = f.orch(&["status"]);
    let said = text(&st.stdout);
    assert!(
        said.contains("left by isolated runs (4 worktree(s), "),
        "{said}"
    );
    assert!(
        said.contains("P1-A  orch/P1-A  .git/orch/worktrees/P1-A ("),
        "{said}"
    );
    assert!(
        said.contains("integrated: `orch clean` removes it"),
        "{said}"
    );
    assert!(said.contains("awaiting `orch integrate P1-B`"), "{said}");
    let (_, v) = f.json(&["status"]);
    assert_eq!(v["worktrees"].as_array().map(Vec::len), Some(4), "{v}");
    assert!(v["worktrees"][0]["bytes"].as_u64().unwrap_or(0) > 0, "{v}");

    // A dry run changes nothing.
    let dry = f.orch(&["clean", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", show(&dry));
    assert!(
        text(&dry.stdout).contains("would remove P1-A"),
        "{}",
        show(&dry)
    );
    assert_eq!(f.linked_worktrees().len(), 4);

    let out = f.orch(&["clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let said = text(&out.stdout);
    assert!(said.contains("removed P1-A  integrated"), "{said}");
    assert!(said.contains("removed P1-D  empty"), "{said}");
    assert!(said.contains("kept P1-B  awaiting"), "{said}");
    assert!(said.contains("kept P1-C  unintegrated"), "{said}");
    assert!(said.contains("freed "), "{said}");
    assert_eq!(f.orch_branches(), ["orch/P1-B", "orch/P1-C"]);
    assert_eq!(f.linked_worktrees().len(), 2);

    let out = f.orch(&["clean", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(f.orch_branches().is_empty());
    assert!(f.linked_worktrees().is_empty());
    assert!(
        !f.root().join(".git/orch/worktrees").exists()
            || std::fs::read_dir(f.root().join(".git/orch/worktrees"))
                .unwrap()
                .next()
                .is_none()
    );
    assert_eq!(f.porcelain(), "");
    f.fsck();
    let st = f.orch(&["status"]);
    assert!(
        !text(&st.stdout).contains("left by isolated runs"),
        "{}",
        show(&st)
    );
    let again = f.orch(&["clean"]);
    assert!(
        text(&again.stdout).contains("nothing to clean"),
        "{}",
        show(&again)
    );
}

#[test]
fn clean_removes_what_killed_commands_leave() {
    let f = Iso::new(&[t("P1-A", "done"), t("P1-B", "done")]);
    let base = f.head();
    f.branch("P1-A", &base, &[("work/P1-A/new.txt", Some("a\n"))]);
    f.branch("P1-B", &base, &[("work/P1-B/new.txt", Some("b\n"))]);
    // A removal killed after the folder went: a registration without its
    // folder. A removal killed after the registration went: a folder no
    // one names. A creation killed at its start: a registration locked
    // `initializing` without `gitdir`.
    std::fs::remove_dir_all(f.worktree("P1-A")).unwrap();
    let admin_b = f.root().join(".git/worktrees/P1-B");
    std::fs::remove_dir_all(&admin_b).unwrap();
    let stub = f.root().join(".git/worktrees/P1-X");
    std::fs::create_dir_all(&stub).unwrap();
    std::fs::write(stub.join("locked"), "initializing\n").unwrap();
    let st = f.orch(&["status"]);
    let said = text(&st.stdout);
    assert!(said.contains("its worktree folder is gone"), "{said}");
    assert!(
        said.contains("a folder no worktree registration names"),
        "{said}"
    );
    let out = f.orch(&["clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!f.worktree("P1-B").exists());
    assert!(!stub.exists());
    let list = f.git(&["worktree", "list", "--porcelain"]);
    assert!(!list.contains("prunable"), "{list}");
    // The branches hold work awaiting integration: kept.
    assert_eq!(f.orch_branches(), ["orch/P1-A", "orch/P1-B"]);
    f.fsck();
}

#[test]
fn integrate_and_clean_killed_at_any_moment_leave_a_sound_repository() {
    const TRIALS: usize = 12;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("isolate kill trials: seed {seed}");
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let tasks: Vec<T> = ["P1-A", "P1-B", "P1-C", "P1-D"]
        .iter()
        .map(|id| t(id, "done"))
        .collect();
    let setup = || {
        let f = Iso::new(&tasks);
        let base = f.head();
        let many: Vec<(String, String)> = (0..150)
            .map(|i| (format!("f{i:03}.txt"), format!("line {i}\n")))
            .collect();
        for task in &tasks {
            let files: Vec<(String, Option<&str>)> = many
                .iter()
                .map(|(p, c)| (format!("work/{}/{p}", task.id), Some(c.as_str())))
                .collect();
            let refs: Vec<(&str, Option<&str>)> =
                files.iter().map(|(p, c)| (p.as_str(), *c)).collect();
            f.branch(task.id, &base, &refs);
        }
        f
    };
    // How long each command takes here, uninterrupted: kills land
    // anywhere in that span.
    let span = |command: &[&str]| {
        let f = setup();
        let started = std::time::Instant::now();
        let out = f.orch(command);
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        (started.elapsed().as_millis() as u64).max(1) * 6 / 5
    };
    let spans = [span(&["integrate"]), span(&["clean", "--force"])];
    eprintln!(
        "isolate kill trials: integrate takes ~{} ms, clean ~{} ms",
        spans[0], spans[1]
    );
    let mut moments = [0usize; 3];
    for trial in 0..TRIALS {
        let f = setup();
        let head = f.head();
        let clean = trial % 3 == 2;
        let command: &[&str] = if clean {
            &["clean", "--force"]
        } else {
            &["integrate"]
        };
        let mut child = f
            .orch_cmd(command)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(next() % spans[usize::from(clean)]));
        let _ = child.kill();
        let _ = child.wait();
        let moment = if f.root().join(".git/orch-advance").exists() {
            1
        } else if f.head() == head && f.orch_branches().len() == tasks.len() {
            0
        } else {
            2
        };
        moments[moment] += 1;
        f.fsck();
        // The next command says what was left, and finishes the job.
        let st = f.orch(&["status"]);
        assert_eq!(st.status.code(), Some(0), "trial {trial}: {}", show(&st));
        if moment == 1 {
            assert!(
                text(&st.stdout).contains("run `orch integrate` to finish it"),
                "trial {trial}: {}",
                show(&st)
            );
        }
        let finish = f.orch(command);
        if finish.status.code() != Some(0) {
            // A stale git lock is named, with the fix.
            let said = show(&finish);
            assert!(said.contains(".lock"), "trial {trial}: {said}");
            // The fix it names: remove the stale locks (the index, HEAD,
            // and any ref's, such as a task branch's that clean was
            // deleting).
            for entry in walkdir::WalkDir::new(f.root().join(".git"))
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .filter(|e| e.path().extension().is_some_and(|x| x == "lock"))
            {
                let _ = std::fs::remove_file(entry.path());
            }
            let again = f.orch(command);
            assert_eq!(
                again.status.code(),
                Some(0),
                "trial {trial}: {}",
                show(&again)
            );
        }
        if clean {
            assert!(f.orch_branches().is_empty(), "trial {trial}");
        } else {
            // Every task is in, once.
            let log = f.git(&["log", "--format=%s", &format!("{head}..HEAD")]);
            assert_eq!(log.lines().count(), 4, "trial {trial}: {log}");
            assert_eq!(f.porcelain(), "", "trial {trial}");
        }
        let _ = f.orch(&["clean"]);
        assert!(
            f.linked_worktrees().is_empty(),
            "trial {trial}: {:?}",
            f.linked_worktrees()
        );
        f.fsck();
    }
    eprintln!("isolate kill trials: {moments:?} (killed before writing, while moving HEAD, after)");
}
