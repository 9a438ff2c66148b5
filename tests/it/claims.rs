//! Claims across machines (`refs/orch/claims/<ID>`), from the user's side:
//! real clones of a bare repository as `origin`, checked with the real
//! `git for-each-ref` and `git fsck`. Two `orch start` of one task from two
//! clones at once: exactly one claim wins, at the remote too; retries claim
//! again; record, cancel, integrate and `orch unclaim` release, here and at
//! the remote; an unreachable remote refuses a start (nothing half-taken)
//! and only warns on release.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::isolate::{Iso, t};
use crate::util::git;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// orch in `dir`, with the machine's git config and identity shut out
/// (the clone's own config names its user), and `env` set.
fn orch_in(dir: &Path, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orch"));
    cmd.current_dir(dir)
        .args(args)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join("no-global-config"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("ORCH_CLAIMS_REMOTE");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") && key != "GIT_CONFIG_NOSYSTEM" {
            cmd.env_remove(key);
        }
    }
    cmd.env("GIT_CONFIG_GLOBAL", home.join("no-global-config"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A bare `origin` and clones of it, each with its own user.
struct World {
    /// The seed repository origin was cloned from (kept alive).
    _seed: Iso,
    tmp: tempfile::TempDir,
}

impl World {
    /// `origin.git` holding a program of `tasks` (all todo), the claims
    /// remote configured in config.yaml.
    fn new(tasks: &[&'static str]) -> World {
        let ts: Vec<_> = tasks.iter().map(|id| t(id, "todo")).collect();
        let seed = Iso::with(
            &ts,
            "agent:\n  command: [\"true\"]\n  adapter: generic\nclaims:\n  remote: origin\n",
            &[],
        );
        let tmp = tempfile::tempdir().expect("tempdir");
        git(
            tmp.path(),
            &[
                "clone",
                "-q",
                "--bare",
                seed.root().to_str().expect("utf-8"),
                "origin.git",
            ],
        );
        World { _seed: seed, tmp }
    }

    fn origin(&self) -> PathBuf {
        self.tmp.path().join("origin.git")
    }

    /// A clone of origin named `name`, whose user is `user`.
    fn clone(&self, name: &str, user: &str) -> PathBuf {
        git(
            self.tmp.path(),
            &["clone", "-q", self.origin().to_str().expect("utf-8"), name],
        );
        let dir = self.tmp.path().join(name);
        git(&dir, &["config", "user.name", user]);
        git(
            &dir,
            &[
                "config",
                "user.email",
                &format!("{}@example.com", user.to_lowercase()),
            ],
        );
        git(&dir, &["config", "commit.gpgsign", "false"]);
        dir
    }

    fn orch(&self, dir: &Path, args: &[&str]) -> Output {
        self.orch_env(dir, args, &[])
    }

    fn orch_env(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = orch_in(dir, self.tmp.path(), args, env)
            .output()
            .expect("run orch");
        assert!(
            !text(&out.stderr).contains("panicked"),
            "{}",
            text(&out.stderr)
        );
        out
    }

    fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.orch(dir, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "orch {args:?}\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }
}

/// `git for-each-ref refs/orch/claims/` in `dir`: (ref, holder trailer).
fn claims_in(dir: &Path) -> Vec<(String, String)> {
    git(
        dir,
        &[
            "for-each-ref",
            "--format=%(refname)%09%(trailers:key=Orch-Claim-Holder,valueonly,separator=)",
            "refs/orch/claims/",
        ],
    )
    .lines()
    .map(|l| {
        let (r, h) = l.split_once('\t').unwrap_or((l, ""));
        (r.to_string(), h.trim().to_string())
    })
    .collect()
}

fn names(claims: &[(String, String)]) -> Vec<&str> {
    claims.iter().map(|(r, _)| r.as_str()).collect()
}

fn fsck(dir: &Path) {
    let out = crate::util::git_output(dir, &["fsck", "--strict", "--no-progress"]);
    assert!(
        out.status.success() && !text(&out.stderr).contains("error"),
        "git fsck in {}: {}{}",
        dir.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The host name and the minute of a claim in a message, for snapshots:
/// `... on <host> since <YYYY-MM-DD HH:MM> UTC` becomes
/// `... on [host] since [time] UTC`.
fn filtered(s: &str) -> String {
    let (Some(on), Some(since)) = (s.find("> on "), s.find(" since ")) else {
        return s.to_string();
    };
    let Some(utc) = s[since..].find(" UTC").map(|u| since + u) else {
        return s.to_string();
    };
    format!("{} on [host] since [time]{}", &s[..on + 1], &s[utc..])
}

#[test]
fn two_concurrent_starts_from_two_clones_one_claim_wins() {
    let tasks = ["P1-A", "P1-B", "P1-C", "P1-D"];
    let w = World::new(&tasks);
    let a = w.clone("a", "Alice");
    let b = w.clone("b", "Bob");
    for id in tasks {
        // Both processes spawned before either is waited on.
        let mut ca = orch_in(&a, w.tmp.path(), &["start", id], &[]);
        let mut cb = orch_in(&b, w.tmp.path(), &["start", id], &[]);
        let pa = ca
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn a");
        let pb = cb
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn b");
        let oa = pa.wait_with_output().expect("wait a");
        let ob = pb.wait_with_output().expect("wait b");
        let codes = (oa.status.code(), ob.status.code());
        let (winner, loser, lost, won_by) = match codes {
            (Some(0), Some(2)) => (&a, &b, &ob, "Alice"),
            (Some(2), Some(0)) => (&b, &a, &oa, "Bob"),
            _ => panic!(
                "{id}: exactly one start must win: {codes:?}\na: {}\nb: {}",
                text(&oa.stderr),
                text(&ob.stderr)
            ),
        };
        let err = text(&lost.stderr);
        assert!(
            err.contains(&format!("`{id}` is claimed by {won_by} <"))
                && err.contains("at remote `origin`"),
            "{id}: the loser names the holder: {err}"
        );
        assert!(
            err.contains(&format!("orch unclaim {id} --reason")),
            "{err}"
        );
        // The remote holds exactly one claim on it, the winner's.
        let at_origin: Vec<_> = claims_in(&w.origin())
            .into_iter()
            .filter(|(r, _)| r.ends_with(&format!("/{id}")))
            .collect();
        assert_eq!(at_origin.len(), 1, "{at_origin:?}");
        assert!(at_origin[0].1.starts_with(won_by), "{at_origin:?}");
        // The winner holds it here; the loser kept nothing and started nothing.
        assert!(names(&claims_in(winner)).contains(&format!("refs/orch/claims/{id}").as_str()));
        assert!(!names(&claims_in(loser)).contains(&format!("refs/orch/claims/{id}").as_str()));
        let ticket = std::fs::read_to_string(loser.join(format!(".orchestrator/tickets/{id}.md")))
            .expect("ticket");
        assert!(ticket.contains("status: todo"), "{ticket}");
        assert_eq!(git(loser, &["status", "--porcelain"]), "");
    }
    assert_eq!(claims_in(&w.origin()).len(), tasks.len());
    for d in [&a, &b, &w.origin()] {
        fsck(d);
    }
}

#[test]
fn a_claim_is_shown_refused_to_others_and_released_by_unclaim() {
    let w = World::new(&["P1-A", "P1-B"]);
    let a = w.clone("a", "Alice");
    let b = w.clone("b", "Bob");
    w.ok(&a, &["start", "P1-A"]);
    // The claim commit: no parent, the empty tree, the trailers.
    let body = git(
        &a,
        &["log", "-1", "--format=%P|%T|%B", "refs/orch/claims/P1-A"],
    );
    assert!(
        body.starts_with("|4b825dc642cb6eb9a060e54bf8d69288fbee4904|orch claim P1-A\n"),
        "{body}"
    );
    for trailer in [
        "Orch-Task: P1-A",
        "Orch-Claim-Holder: Alice <alice@example.com> on ",
    ] {
        assert!(body.contains(trailer), "{body}");
    }
    let reflog = git(
        &a,
        &["reflog", "show", "--format=%gs", "refs/orch/claims/P1-A"],
    );
    assert_eq!(reflog.trim(), "orch: claim P1-A");

    // Status and show name the holder and since when.
    let status = w.ok(&a, &["status"]);
    assert!(
        status.contains("claims:\n  P1-A  Alice <alice@example.com> on "),
        "{status}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&w.ok(&a, &["status", "--format", "json"])).expect("json");
    let task = v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["id"] == "P1-A")
        .expect("P1-A");
    assert!(
        task["claim"]["holder"]
            .as_str()
            .expect("holder")
            .starts_with("Alice <alice@example.com> on "),
        "{task}"
    );
    assert!(
        task["claim"]["since"]
            .as_str()
            .expect("since")
            .ends_with('Z')
    );
    let other = v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["id"] == "P1-B")
        .expect("P1-B");
    assert!(other["claim"].is_null());
    let show = w.ok(&a, &["show", "P1-A"]);
    assert!(
        show.contains("  claimed by:   Alice <alice@example.com> on "),
        "{show}"
    );

    // Bob cannot start it: exit 2 naming Alice, the fix; nothing changed.
    let head = git(&b, &["rev-parse", "HEAD"]);
    let out = w.orch(&b, &["start", "P1-A"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("claims_held_by_another", filtered(&text(&out.stderr)));
    assert_eq!(git(&b, &["rev-parse", "HEAD"]), head);
    assert!(claims_in(&b).is_empty());

    // Bob releases Alice's stale claim at the remote; then he can start it.
    let out = w.ok(&b, &["unclaim", "P1-A", "--reason", "Alice's laptop died"]);
    assert!(
        out.contains("P1-A: claim released at remote `origin`"),
        "{out}"
    );
    assert!(out.contains("reason: Alice's laptop died"), "{out}");
    assert!(claims_in(&w.origin()).is_empty());
    w.ok(&b, &["start", "P1-A"]);
    assert_eq!(names(&claims_in(&w.origin())), ["refs/orch/claims/P1-A"]);

    // Alice's own unclaim: releases hers here; the remote's is Bob's now,
    // left alone.
    let out = w.orch(&a, &["unclaim", "P1-A", "--reason", "Bob took it"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("P1-A: claim released (held by Alice <alice@example.com> on "),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("remote `origin` holds another claim on `P1-A`"),
        "{}",
        text(&out.stderr)
    );
    assert!(claims_in(&a).is_empty());
    assert!(claims_in(&w.origin())[0].1.starts_with("Bob"));
    let log = std::fs::read_to_string(a.join(".git/logs/refs/orch/claims/P1-A")).expect("reflog");
    assert!(
        log.lines()
            .last()
            .is_some_and(|l| l.ends_with("\torch: release claim P1-A: Bob took it")),
        "{log}"
    );

    // No claim at all: exit 2.
    let out = w.orch(&a, &["unclaim", "P1-B", "--reason", "none"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("claims_unclaim_none", text(&out.stderr));
    for d in [&a, &b, &w.origin()] {
        fsck(d);
    }
}

#[test]
fn record_and_cancel_release_and_a_retry_claims_again() {
    let w = World::new(&["P1-A", "P1-B", "P1-C"]);
    let a = w.clone("a", "Alice");
    w.ok(&a, &["start", "P1-A", "P1-B", "P1-C"]);
    assert_eq!(claims_in(&w.origin()).len(), 3);
    // fail, partial, blocked: released (here and at the remote).
    w.ok(
        &a,
        &[
            "record",
            "P1-A",
            "--result",
            "fail",
            "--evidence",
            "tests failed",
        ],
    );
    w.ok(
        &a,
        &[
            "record",
            "P1-B",
            "--result",
            "partial",
            "--evidence",
            "half done",
        ],
    );
    w.ok(&a, &["block", "P1-C", "--reason", "waiting on review"]);
    assert!(claims_in(&a).is_empty(), "{:?}", claims_in(&a));
    assert!(claims_in(&w.origin()).is_empty());
    // A retry claims again; the claim's reflog keeps every claim and
    // release, with the reason.
    w.ok(&a, &["start", "P1-A"]);
    assert_eq!(names(&claims_in(&w.origin())), ["refs/orch/claims/P1-A"]);
    let reflog = git(
        &a,
        &["reflog", "show", "--format=%gs", "refs/orch/claims/P1-A"],
    );
    assert_eq!(
        reflog, "orch: claim P1-A\norch: release claim P1-A: recorded fail\norch: claim P1-A\n",
        "newest first"
    );
    // cancel releases, in another clone too (whose plan has it todo: the
    // start was not pushed): the remote's claim goes.
    let b = w.clone("b", "Bob");
    w.ok(&b, &["cancel", "P1-A", "--reason", "not needed"]);
    assert!(claims_in(&w.origin()).is_empty());
    assert_eq!(names(&claims_in(&a)), ["refs/orch/claims/P1-A"]);
    // done without a branch (shared-tree work): released.
    w.ok(&a, &["unblock", "P1-C", "--reason", "reviewed"]);
    w.ok(&a, &["start", "P1-C"]);
    w.ok(
        &a,
        &[
            "record",
            "P1-C",
            "--result",
            "pass",
            "--evidence",
            "all green",
        ],
    );
    assert_eq!(names(&claims_in(&a)), ["refs/orch/claims/P1-A"]);
    assert!(claims_in(&w.origin()).is_empty());
    // split (of the partial P1-B) still works.
    w.ok(
        &a,
        &["split", "P1-B", "--into", "first", "--into", "second"],
    );
    fsck(&a);
    fsck(&w.origin());
}

#[test]
fn integrate_releases_a_done_tasks_claim_here_and_at_the_remote() {
    let f = Iso::new(&[t("P1-A", "todo"), t("P1-B", "todo")]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let origin = tmp.path().join("origin.git");
    git(tmp.path(), &["init", "-q", "--bare", "origin.git"]);
    f.git(&["remote", "add", "origin", origin.to_str().expect("utf-8")]);
    let env = [("ORCH_CLAIMS_REMOTE", "origin")];
    let run = |args: &[&str]| {
        let out = orch_in(f.root(), tmp.path(), args, &env)
            .output()
            .expect("orch");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    let base = f.head();
    run(&["start", "P1-A", "P1-B"]);
    f.branch("P1-A", &base, &[("work/P1-A/new.txt", Some("a\n"))]);
    // done with a branch: the claim waits for integration.
    run(&["record", "P1-A", "--result", "pass", "--evidence", "ok"]);
    assert_eq!(
        names(&claims_in(&origin)),
        ["refs/orch/claims/P1-A", "refs/orch/claims/P1-B"]
    );
    assert_eq!(
        names(&claims_in(f.root())),
        ["refs/orch/claims/P1-A", "refs/orch/claims/P1-B"]
    );
    let said = run(&["integrate"]);
    assert!(said.contains("integrated P1-A"), "{said}");
    assert_eq!(names(&claims_in(&origin)), ["refs/orch/claims/P1-B"]);
    assert_eq!(names(&claims_in(f.root())), ["refs/orch/claims/P1-B"]);
    f.fsck();
}

#[test]
fn an_unreachable_remote_refuses_a_start_and_only_warns_on_release() {
    let w = World::new(&["P1-A"]);
    let a = w.clone("a", "Alice");
    let head = git(&a, &["rev-parse", "HEAD"]);
    let gone = w.tmp.path().join("gone.git");
    let gone = gone.to_str().expect("utf-8");
    let out = w.orch_env(&a, &["start", "P1-A"], &[("ORCH_CLAIMS_REMOTE", gone)]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot push the claim for P1-A to remote"),
        "{err}"
    );
    assert!(err.contains("nothing was claimed or started"), "{err}");
    assert!(err.contains("ORCH_CLAIMS_REMOTE= orch"), "{err}");
    // Nothing half-taken.
    assert!(claims_in(&a).is_empty());
    assert_eq!(git(&a, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(&a, &["status", "--porcelain"]), "");

    // Taken with the remote up; released while it is unreachable: a warning.
    w.ok(&a, &["start", "P1-A"]);
    let out = w.orch_env(
        &a,
        &["record", "P1-A", "--result", "fail", "--evidence", "broke"],
        &[("ORCH_CLAIMS_REMOTE", gone)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("warning: cannot reach remote"), "{err}");
    assert!(claims_in(&a).is_empty());
    assert_eq!(names(&claims_in(&w.origin())), ["refs/orch/claims/P1-A"]);
    // Later, with the remote back: unclaim clears it there.
    w.ok(
        &a,
        &["unclaim", "P1-A", "--reason", "released while offline"],
    );
    assert!(claims_in(&w.origin()).is_empty());
    // ORCH_CLAIMS_REMOTE= (empty): claims stay here.
    let out = w.orch_env(&a, &["start", "P1-A"], &[("ORCH_CLAIMS_REMOTE", "")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(names(&claims_in(&a)), ["refs/orch/claims/P1-A"]);
    assert!(claims_in(&w.origin()).is_empty());
    fsck(&a);
}

#[test]
fn dispatch_claims_its_tasks_all_or_nothing_naming_the_run() {
    let f = Iso::new(&[t("P1-A", "todo"), t("P1-B", "todo")]);
    // Someone else's claim on P1-B (as fetched from a remote).
    let claim = git(
        f.root(),
        &[
            "commit-tree",
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            "-m",
            "orch claim P1-B\n\nOrch-Task: P1-B\nOrch-Claim-Holder: Carol <carol@example.com> on \u{1b}[31mbox\nOrch-Run: R0",
        ],
    );
    f.git(&["update-ref", "refs/orch/claims/P1-B", claim.trim()]);
    let head = f.head();
    let out = f.orch(&["dispatch", "P1-A", "P1-B"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("`P1-B` is claimed by Carol <carol@example.com> on \\u{1b}[31mbox since 2025-01-01 00:00 UTC (run R0)"),
        "the holder, escaped: {err}"
    );
    // Nothing taken, nothing marked.
    assert_eq!(names(&claims_in(f.root())), ["refs/orch/claims/P1-B"]);
    assert_eq!(f.head(), head);

    let out = f.orch(&["unclaim", "P1-B", "--reason", "Carol moved on"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = f.orch(&["dispatch", "P1-A", "P1-B"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    // Both claimed, the run named in each claim.
    let run = f.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Orch-Run,valueonly)",
        "refs/orch/claims/P1-A",
    ]);
    assert!(!run.trim().is_empty());
    let marked = f.git(&[
        "log",
        "--format=%(trailers:key=Orch-Run,valueonly)",
        "--grep=-> in_progress",
        "-1",
    ]);
    assert_eq!(run.trim(), marked.trim());
    assert_eq!(
        names(&claims_in(f.root())),
        ["refs/orch/claims/P1-A", "refs/orch/claims/P1-B"]
    );
    f.fsck();
}
