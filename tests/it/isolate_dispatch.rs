//! `orch dispatch` with isolation (the default, `--isolate worktree`): each
//! task's stand-in agent (replaying codex's `exec --json` stream) runs in
//! its own linked worktree on its own branch; orch seals what it left, and
//! harvest judges exactly base..branch. Then `orch integrate` and `orch
//! clean` from the user's side, checked with real git.

use std::collections::BTreeMap;

use crate::isolate::{Iso, T, t, text};
use crate::util::git;

const CODEX: &str = "agent:\n  command: [\"agents/{task}.sh\", \"{task}\", \"{last_message}\", \"{prompt}\"]\n  adapter: codex\n";

fn todo(id: &'static str) -> T {
    t(id, "todo")
}

/// Each task's verdict of a dispatch's JSON, by task.
fn verdicts(v: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| (t["task"].as_str().expect("task").to_string(), t.clone()))
        .collect()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The run file of the latest run.
fn run_file(iso: &Iso) -> serde_json::Value {
    let runs = iso.root().join(".orchestrator/runs");
    let mut files: Vec<_> = std::fs::read_dir(&runs)
        .expect("runs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let last = files.pop().expect("a run file");
    serde_json::from_str(&std::fs::read_to_string(last).expect("read")).expect("json")
}

#[test]
fn four_parallel_agents_are_each_judged_exactly_from_their_branch() {
    let iso = Iso::with(
        &[todo("A"), todo("B"), todo("C"), todo("D")],
        CODEX,
        &[
            ("A", "iso-codex-files.sh"),
            ("B", "iso-codex-shell.sh"),
            ("C", "iso-codex-commits.sh"),
            ("D", "iso-codex-stray.sh"),
        ],
    );
    let (code, v) = iso.json(&["dispatch", "A", "B", "C", "D", "--jobs", "4"]);
    assert_eq!(code, Some(1), "{v:#}");
    let by = verdicts(&v);
    let head = iso.head();
    // Each judged on exactly what its branch changed since its base,
    // whatever tool made the change.
    let expect: [(&str, &str, &[&str]); 4] = [
        (
            "A",
            "pass",
            &["work/A/env.txt", "work/A/main.rs", "work/A/seed.txt"],
        ),
        (
            "B",
            "pass",
            &["work/B/log.txt", "work/B/renamed.txt", "work/B/seed.txt"],
        ),
        (
            "C",
            "pass",
            &["work/C/left.txt", "work/C/lib.rs", "work/C/seed.txt"],
        ),
        ("D", "partial", &["README.md", "work/D/out.txt"]),
    ];
    for (id, proposal, changed) in expect {
        let t = &by[id];
        assert_eq!(t["proposal"], proposal, "{id}: {t:#}");
        assert_eq!(t["attribution"], "exact", "{id}: {t:#}");
        assert_eq!(strings(&t["changed"]), changed, "{id}: {t:#}");
        let diff = iso.git(&[
            "diff",
            "--name-only",
            "--no-renames",
            &head,
            &format!("orch/{id}"),
        ]);
        assert_eq!(diff.lines().collect::<Vec<_>>(), changed, "{id}: git diff");
    }
    // The stray edit makes D partial and names only its own path.
    assert_eq!(strings(&by["D"]["violations"]), ["README.md"]);
    for id in ["A", "B", "C"] {
        assert!(strings(&by[id]["violations"]).is_empty(), "{id}");
    }
    // The agent's own commit stays on its branch, under orch's seal.
    let log = iso.git(&["log", "--format=%s", &format!("{head}..orch/C")]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            &format!("orch(C): seal run {}", v["run"].as_str().expect("run")),
            "agent work on C"
        ]
    );
    assert_eq!(
        strings(&by["C"]["committed"]),
        ["work/C/lib.rs", "work/C/seed.txt"]
    );
    let seal = iso.git(&["log", "-1", "--format=%B", "orch/A"]);
    assert!(seal.contains("Orch-Task: A"), "{seal}");
    assert!(
        seal.contains(&format!("Orch-Run: {}", v["run"].as_str().expect("run"))),
        "{seal}"
    );
    assert!(seal.contains(&format!("Orch-Base: {head}")), "{seal}");
    // The agent ran in its worktree with ORCH_TASK, ORCH_RUN, ORCH_BASE.
    let env = iso.git(&["show", "orch/A:work/A/env.txt"]);
    let wt = iso.worktree("A");
    assert_eq!(
        env.trim(),
        format!(
            "A {} {head} {}",
            v["run"].as_str().expect("run"),
            wt.canonicalize().unwrap_or(wt.clone()).display()
        )
    );
    // The shared work tree is untouched, and every worktree is clean.
    assert_eq!(
        iso.git(&["status", "--porcelain", "--", "work", "README.md"]),
        ""
    );
    for id in ["A", "B", "C", "D"] {
        assert_eq!(
            git(&iso.worktree(id), &["status", "--porcelain"]),
            "",
            "{id}"
        );
    }
    assert_eq!(iso.linked_worktrees().len(), 4);
    // The run file keeps the branch facts: harvest judges them again alike.
    let run = run_file(&iso);
    assert_eq!(run["tasks"][0]["branch"]["branch"], "orch/A");
    let (_, again) = iso.json(&["harvest"]);
    assert_eq!(verdicts(&again)["D"]["violations"], by["D"]["violations"]);
    assert_eq!(verdicts(&again)["B"]["changed"], by["B"]["changed"]);
    iso.fsck();
}

#[test]
fn dispatch_record_integrate_clean_leaves_one_commit_per_task_and_nothing_behind() {
    let iso = Iso::with(
        &[todo("A"), todo("B"), todo("C"), todo("D")],
        CODEX,
        &[
            ("A", "iso-codex-files.sh"),
            ("B", "iso-codex-shell.sh"),
            ("C", "iso-codex-commits.sh"),
            ("D", "iso-codex-stray.sh"),
        ],
    );
    let out = iso.orch(&["dispatch", "A", "B", "C", "D", "--record"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("branches: orch/A, orch/B, orch/C, orch/D"),
        "{stdout}"
    );
    // Main moves on after the dispatch.
    iso.commit_on_main(&[("other/file.txt", "someone else\n")], "other work");
    let before = iso.head();
    // By hand: the three passing branches merged into main with git.
    git(iso.root(), &["branch", "by-hand", &before]);
    let scratch = iso.root().join(".git/by-hand");
    git(
        iso.root(),
        &[
            "worktree",
            "add",
            "-q",
            scratch.to_str().expect("utf-8"),
            "by-hand",
        ],
    );
    for id in ["A", "B", "C"] {
        git(
            &scratch,
            &[
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@example.com",
                "merge",
                "-q",
                "--no-edit",
                &format!("orch/{id}"),
            ],
        );
    }
    let by_hand = git(&scratch, &["rev-parse", "HEAD^{tree}"]);
    git(
        iso.root(),
        &[
            "worktree",
            "remove",
            "--force",
            scratch.to_str().expect("utf-8"),
        ],
    );

    let out = iso.orch(&["integrate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // One commit per task, each naming its task and run.
    let subjects = iso.git(&["log", "--format=%s", &format!("{before}..HEAD")]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            "orch(C): integrate orch/C",
            "orch(B): integrate orch/B",
            "orch(A): integrate orch/A"
        ]
    );
    // The tree equals the by-hand merge outside the orchestrator folder
    // (whose ledger the integration commits write).
    let diff = iso.git(&[
        "diff",
        "--name-only",
        by_hand.trim(),
        "HEAD",
        "--",
        ".",
        ":!.orchestrator",
    ]);
    assert_eq!(diff, "", "integration differs from git merge");
    // D (partial) was skipped and keeps its branch; integrate removed the rest.
    assert_eq!(iso.orch_branches(), ["orch/D"]);
    let out = iso.orch(&["clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(iso.orch_branches(), ["orch/D"], "{}", text(&out.stdout));
    let out = iso.orch(&["clean", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(iso.orch_branches().is_empty(), "{}", text(&out.stdout));
    assert!(iso.linked_worktrees().is_empty());
    assert_eq!(
        iso.git(&["branch", "--format=%(refname:short)"]).trim(),
        "by-hand\nmain"
    );
    assert!(!iso.root().join(".git/orch/worktrees/D").exists());
    assert_eq!(
        iso.git(&["status", "--porcelain", "--", "work", "README.md"]),
        ""
    );
    iso.fsck();
}

#[test]
fn a_dependency_not_yet_integrated_is_in_its_dependents_base_and_not_in_its_changes() {
    let mut b = todo("B");
    b.deps = "A";
    let iso = Iso::with(
        &[todo("A"), b],
        CODEX,
        &[("A", "iso-codex-files.sh"), ("B", "iso-codex-sees.sh")],
    );
    let out = iso.orch(&["dispatch", "A", "--record"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let (code, v) = iso.json(&["dispatch", "B"]);
    assert_eq!(code, Some(0), "{v:#}");
    let saw = iso.git(&["show", "orch/B:work/B/saw.txt"]);
    assert!(
        saw.contains("work/A/main.rs"),
        "B's worktree lacks A's work: {saw}"
    );
    // Its base merges HEAD and A's branch; its changes are its own.
    let base = saw
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("base "))
        .expect("base");
    let parents = iso.git(&["rev-list", "--parents", "-n", "1", base]);
    let tip_a = iso.git(&["rev-parse", "orch/A"]);
    assert!(parents.contains(tip_a.trim()), "{parents}");
    assert_eq!(strings(&verdicts(&v)["B"]["changed"]), ["work/B/saw.txt"]);
    // Integrating B alone waits on A; together they go in order.
    let out = iso.orch(&["integrate", "B"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    iso.orch(&[
        "record",
        "B",
        "--result",
        "pass",
        "--evidence",
        "saw A's work",
    ]);
    let out = iso.orch(&["integrate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let subjects = iso.git(&["log", "--format=%s", "-2"]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        ["orch(B): integrate orch/B", "orch(A): integrate orch/A"]
    );
    assert!(iso.root().join("work/A/main.rs").exists());
    assert!(iso.root().join("work/B/saw.txt").exists());
    iso.fsck();
}

#[test]
fn a_dependency_integrated_first_means_its_dependent_starts_from_head() {
    let mut b = todo("B");
    b.deps = "A";
    let iso = Iso::with(
        &[todo("A"), b],
        CODEX,
        &[("A", "iso-codex-files.sh"), ("B", "iso-codex-sees.sh")],
    );
    let out = iso.orch(&["dispatch", "A", "--record"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = iso.orch(&["integrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (code, _) = iso.json(&["dispatch", "B"]);
    assert_eq!(code, Some(0));
    let saw = iso.git(&["show", "orch/B:work/B/saw.txt"]);
    let marked = iso.head();
    assert_eq!(saw, format!("base {marked}\nwork/A/main.rs\n"));
}

#[test]
fn isolate_none_runs_in_the_shared_tree_and_a_leftover_branch_refuses_a_dispatch() {
    let iso = Iso::with(
        &[todo("A"), todo("B")],
        CODEX,
        &[("A", "iso-codex-files.sh"), ("B", "iso-codex-files.sh")],
    );
    let (code, v) = iso.json(&["dispatch", "A", "--isolate", "none"]);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(iso.orch_branches().is_empty());
    assert!(iso.root().join("work/A/main.rs").exists());
    // An earlier run's branch for B refuses a new one, naming the fix.
    iso.git(&["branch", "orch/B"]);
    let out = iso.orch(&["dispatch", "B"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("`orch/B`") && err.contains("orch clean"),
        "{err}"
    );
    assert!(iso.linked_worktrees().is_empty());
}

#[test]
fn a_failing_setup_command_fails_its_task_and_its_log_says_why() {
    let config =
        format!("{CODEX}  worktree:\n    setup: [\"sh\", \"-c\", \"echo preparing; exit 3\"]\n");
    let iso = Iso::with(&[todo("A")], &config, &[("A", "iso-codex-files.sh")]);
    let (code, v) = iso.json(&["dispatch", "A"]);
    assert_eq!(code, Some(1), "{v:#}");
    let a = &verdicts(&v)["A"];
    assert_eq!(a["proposal"], "fail", "{a:#}");
    let reasons = a["reasons"].to_string();
    assert!(
        reasons.contains("setup command failed (exit 3"),
        "{reasons}"
    );
    let log = std::fs::read_to_string(iso.root().join(".orchestrator/logs/A.setup.log"))
        .expect("setup log");
    assert!(log.contains("preparing"), "{log}");
}

#[test]
fn dispatch_killed_at_any_moment_leaves_sound_refs_and_worktrees_the_next_command_explains() {
    const TRIALS: u64 = 10;
    let make = || {
        Iso::with(
            &[todo("A"), todo("B")],
            CODEX,
            &[("A", "iso-codex-files.sh"), ("B", "iso-codex-shell.sh")],
        )
    };
    // How long an isolated dispatch takes here, uninterrupted: kills land
    // anywhere in that span (marking, worktrees, agents, seals, harvest).
    let span = {
        let iso = make();
        let started = std::time::Instant::now();
        let out = iso.orch(&["dispatch", "A", "B"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (started.elapsed().as_millis() as u64).max(10)
    };
    for trial in 0..TRIALS {
        let iso = make();
        let mut child = iso
            .orch_cmd(&["dispatch", "A", "B"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(span * trial / TRIALS));
        let _ = child.kill();
        let _ = child.wait();
        // The stand-in agents end on their own within moments.
        std::thread::sleep(std::time::Duration::from_millis(200));
        iso.fsck();
        // No `git worktree list` entry without its folder.
        let listed = iso.linked_worktrees();
        assert!(listed.len() <= 2, "trial {trial}: {listed:?}");
        // The next command says what was left, and how to go on.
        let st = iso.orch(&["status"]);
        assert_eq!(
            st.status.code(),
            Some(0),
            "trial {trial}: {}",
            text(&st.stderr)
        );
        // Clean never panics; when it refuses (a lock file the kill left:
        // SIGKILL runs no clean-up), it says how to go on.
        let out = iso.orch(&["clean", "--dry-run"]);
        let err = text(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1))
                || (out.status.code() == Some(2)
                    && (err.contains("help:") || err.contains("delete the stale lock file"))),
            "trial {trial}: {:?} {err}",
            out.status.code()
        );
        for id in ["A", "B"] {
            if iso.orch_branches().contains(&format!("orch/{id}")) {
                assert!(
                    text(&st.stdout).contains(&format!("orch/{id}")),
                    "trial {trial}: status does not list orch/{id}:\n{}",
                    text(&st.stdout)
                );
            }
        }
    }
}

/// Where `ORCH_KILL_AT` stops a debug orch while it adds a task's worktree
/// (src/git/worktree.rs): the folder made; the registration half written
/// aside (HEAD, no commondir); renamed into place without `gitdir`; with
/// `gitdir` (git lists it) but no `.git` link; linked; checked out but
/// still locked.
const WORKTREE_KILL_POINTS: [&str; 6] = [
    "worktree-folder",
    "worktree-admin",
    "worktree-renamed",
    "worktree-registered",
    "worktree-linked",
    "worktree-checked-out",
];

/// Folders under `.git/worktrees` and `.git/orch/worktrees`.
fn worktree_folders(iso: &Iso) -> Vec<String> {
    let mut out = Vec::new();
    for dir in [".git/worktrees", ".git/orch/worktrees"] {
        if let Ok(entries) = std::fs::read_dir(iso.root().join(dir)) {
            for e in entries.flatten() {
                out.push(format!("{dir}/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    out
}

#[test]
#[cfg(unix)]
fn dispatch_killed_at_each_step_of_adding_a_worktree_leaves_git_sound_and_clean_recovers() {
    use std::os::unix::process::ExitStatusExt;
    for point in WORKTREE_KILL_POINTS {
        let iso = Iso::with(&[todo("A")], CODEX, &[("A", "iso-codex-files.sh")]);
        let out = iso
            .orch_cmd(&["dispatch", "A"])
            .env("ORCH_KILL_AT", point)
            .output()
            .expect("run orch");
        // The kill point was reached: a test whose kill never happens
        // proves nothing.
        assert_eq!(
            out.status.signal(),
            Some(9),
            "{point}: orch was not killed there: {:?} {}",
            out.status,
            text(&out.stderr)
        );
        // git finds nothing wrong, before any orch command ran: no
        // registration with an empty HEAD, none without its folder.
        iso.fsck();
        iso.linked_worktrees();
        let list = iso.git(&["worktree", "list", "--porcelain"]);
        assert!(!list.contains("(error)"), "{point}: {list}");
        // The next command says what was left and how to go on.
        let st = iso.orch(&["status"]);
        assert_eq!(st.status.code(), Some(0), "{point}: {}", text(&st.stderr));
        let shown = text(&st.stdout);
        assert!(shown.contains("left by isolated runs"), "{point}: {shown}");
        assert!(shown.contains("orch block A"), "{point}: {shown}");
        // Following it: clean what may go, set the task aside, clean the
        // rest; nothing is left, and the task runs again.
        let cl = iso.orch(&["clean"]);
        assert_eq!(cl.status.code(), Some(0), "{point}: {}", text(&cl.stderr));
        let out = iso.orch(&["block", "A", "--reason", "killed"]);
        assert_eq!(out.status.code(), Some(0), "{point}: {}", text(&out.stderr));
        let cl = iso.orch(&["clean", "--force"]);
        assert_eq!(cl.status.code(), Some(0), "{point}: {}", text(&cl.stderr));
        assert_eq!(worktree_folders(&iso), Vec::<String>::new(), "{point}");
        assert_eq!(iso.orch_branches(), Vec::<String>::new(), "{point}");
        assert_eq!(iso.linked_worktrees(), Vec::<String>::new(), "{point}");
        iso.fsck();
        let out = iso.orch(&["unblock", "A", "--reason", "retry"]);
        assert_eq!(out.status.code(), Some(0), "{point}: {}", text(&out.stderr));
        let out = iso.orch(&["dispatch", "A"]);
        assert_eq!(out.status.code(), Some(0), "{point}: {}", text(&out.stderr));
        assert_eq!(iso.linked_worktrees().len(), 1, "{point}");
        iso.fsck();
    }
}

#[test]
#[cfg(unix)]
fn a_worktree_registration_left_with_an_empty_head_is_removed_by_the_next_command_which_says_so() {
    // What an orch that registered through gix's `add_worktree` left when
    // killed between its `gitdir` and `HEAD` writes: a registration git
    // reports as broken, locked `initializing`.
    let iso = Iso::with(&[todo("A")], CODEX, &[("A", "iso-codex-files.sh")]);
    let out = iso
        .orch_cmd(&["dispatch", "A"])
        .env("ORCH_KILL_AT", "worktree-checked-out")
        .output()
        .expect("run orch");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(9)
    );
    std::fs::write(iso.root().join(".git/worktrees/A/HEAD"), "").expect("empty HEAD");
    let fsck = crate::util::git_output(iso.root(), &["fsck", "--strict", "--no-progress"]);
    assert!(
        !fsck.status.success(),
        "git accepts an empty worktree HEAD?"
    );
    let st = iso.orch(&["status"]);
    assert_eq!(st.status.code(), Some(0), "{}", text(&st.stderr));
    let err = text(&st.stderr);
    assert!(
        err.contains("note: removed the worktree .git/orch/worktrees/A")
            && err.contains("empty HEAD"),
        "{err}"
    );
    iso.fsck();
    assert_eq!(worktree_folders(&iso), Vec::<String>::new());
    assert_eq!(iso.linked_worktrees(), Vec::<String>::new());
    // The branch is left, listed with how to go on.
    assert!(text(&st.stdout).contains("orch/A"), "{}", text(&st.stdout));
}
