//! `orch board` and `orch status --format markdown`, through the binary:
//! the page's structure (every task in its column, every dependency an
//! edge), where it is written and what it refuses, untrusted run output
//! shown as text, `--watch` with a real Ctrl-C, and the page rendered by
//! headless Chromium (DOM after its script ran, no request beyond the file,
//! screenshots kept as CI artifacts).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{copy_tree, external, git, orch, repo_path};

#[allow(dead_code)]
#[path = "../../benches/common/mod.rs"]
mod common;

/// A git repository holding the bundled example as `.orchestrator/`,
/// committed.
fn example_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = dir.path().join(".orchestrator");
    copy_tree(&repo_path(".orchestrator.example"), &o);
    // A page a developer wrote for the example is not part of it.
    std::fs::remove_dir_all(o.join("board")).ok();
    init_repo(dir.path());
    dir
}

fn init_repo(root: &Path) {
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Test"]);
    git(root, &["config", "user.email", "test@example.com"]);
    git(root, &["config", "commit.gpgsign", "false"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "init"]);
}

fn run_in(root: &Path, args: &[&str]) -> Output {
    orch()
        .current_dir(root)
        .env("HOME", root)
        .args(args)
        .output()
        .expect("run orch")
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn page_path(root: &Path) -> PathBuf {
    root.join(".orchestrator/board/index.html")
}

/// The board column a task of `orch status --format json` belongs in.
fn expected_columns(root: &Path) -> BTreeMap<String, String> {
    let v: Value = serde_json::from_str(&ok(&run_in(root, &["status", "--format", "json"])))
        .expect("status json");
    v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            let status = t["status"].as_str().expect("status");
            let column = match (status, t["ready"].as_bool() == Some(true)) {
                ("todo", true) => "ready",
                ("todo", false) => "waiting",
                (s, _) => s,
            };
            (
                t["id"].as_str().expect("id").to_string(),
                column.to_string(),
            )
        })
        .collect()
}

/// Every dependency edge, from `orch graph --format json`.
fn expected_edges(root: &Path) -> BTreeSet<(String, String)> {
    let v: Value = serde_json::from_str(&ok(&run_in(root, &["graph", "--format", "json"])))
        .expect("graph json");
    v["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["from"].as_str().expect("from").to_string(),
                e["to"].as_str().expect("to").to_string(),
            )
        })
        .collect()
}

/// The value of `attr="..."` in a tag's text.
fn attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let key = format!(" {attr}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// The opening tags starting with `prefix` (`<article class="card`).
fn tags<'a>(html: &'a str, prefix: &str) -> Vec<&'a str> {
    html.match_indices(prefix)
        .map(|(i, _)| &html[i..i + html[i..].find('>').expect("tag ends")])
        .collect()
}

/// Each card's column, read from the column section that holds it (not
/// from the card's own attribute).
fn columns_in(html: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for (i, _) in html.match_indices("<section class=\"col ") {
        let section = &html[i..i + html[i..].find("</section>").expect("section ends")];
        let column = attr(section, "data-column")
            .expect("data-column")
            .to_string();
        for card in tags(section, "<article class=\"card") {
            let id = attr(card, "id").expect("card id");
            let id = id.strip_prefix("task-").expect("task- id");
            assert!(
                found.insert(id.to_string(), column.clone()).is_none(),
                "{id} twice"
            );
        }
    }
    found
}

fn nodes_in(html: &str) -> BTreeSet<String> {
    tags(html, "<a class=\"node")
        .iter()
        .map(|t| attr(t, "data-task").expect("data-task").to_string())
        .collect()
}

fn edges_in(html: &str) -> BTreeSet<(String, String)> {
    tags(html, "<path class=\"edge")
        .iter()
        .map(|t| {
            (
                attr(t, "data-from").expect("from").to_string(),
                attr(t, "data-to").expect("to").to_string(),
            )
        })
        .collect()
}

/// The page's checks that need no browser: CSP, every task in its column,
/// a node per task, an edge per dependency.
fn assert_structure(root: &Path, html: &str) {
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"),
        "no CSP"
    );
    let want = expected_columns(root);
    assert!(!want.is_empty());
    assert_eq!(columns_in(html), want, "cards and their columns");
    assert_eq!(
        nodes_in(html),
        want.keys().cloned().collect::<BTreeSet<_>>(),
        "a graph node per task"
    );
    assert_eq!(
        edges_in(html),
        expected_edges(root),
        "an edge per dependency"
    );
}

#[test]
fn board_writes_a_git_ignored_page_with_every_task_in_its_column() {
    let repo = example_repo();
    let root = repo.path();
    let out = ok(&run_in(root, &["board"]));
    assert!(
        out.starts_with("wrote .orchestrator/board/index.html (20 tasks); open file:///"),
        "{out}"
    );
    let html = std::fs::read_to_string(page_path(root)).expect("page");
    assert_structure(root, &html);
    // Git sees nothing new: the page's folder ignores itself.
    assert_eq!(
        git(root, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert!(git(root, &["check-ignore", ".orchestrator/board/index.html"]).contains("index.html"));
    // The blocked task says why (the ticket's `Blocked:` paragraph), the
    // waiting ones name what they wait on, the open decision is listed.
    assert!(html.contains("blocked: the staging namespace for stateful services"));
    assert!(html.contains("<a href=\"#task-P1-TEST-01\">P1-TEST-01</a>"));
    assert!(html.contains("<span class=\"badge d-split\">split</span>"));
    // Written again, it replaces the page (atomically: no temp file left).
    ok(&run_in(root, &["board", "--quiet"]));
    let left: BTreeSet<String> = std::fs::read_dir(root.join(".orchestrator/board"))
        .expect("board folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        BTreeSet::from([".gitignore".into(), "index.html".into()])
    );
}

#[test]
fn board_reads_block_reasons_and_dates_from_history() {
    let repo = example_repo();
    let root = repo.path();
    ok(&run_in(
        root,
        &[
            "block",
            "P2-CORE-03",
            "--reason",
            "waiting for the <relay> logs",
        ],
    ));
    ok(&run_in(root, &["board", "--quiet"]));
    let html = std::fs::read_to_string(page_path(root)).expect("page");
    assert_structure(root, &html);
    assert_eq!(
        columns_in(&html).get("P2-CORE-03").map(String::as_str),
        Some("blocked")
    );
    assert!(
        html.contains("blocked: waiting for the &lt;relay&gt; logs"),
        "the reason from the commit's Orch-Reason trailer"
    );
    // The transition is on the timeline, dated.
    assert!(html.contains("<code>orch(P2-CORE-03): todo -&gt; blocked</code>"));
    assert!(html.contains("<span class=\"badge tr\">transition</span>"));
}

#[test]
fn board_out_writes_where_asked_and_dash_prints() {
    let repo = example_repo();
    let root = repo.path();
    let out = run_in(root, &["board", "--out", "-"]);
    let printed = ok(&out);
    assert!(printed.starts_with("<!DOCTYPE html>"));
    assert!(printed.trim_end().ends_with("</html>"));
    assert!(
        !root.join(".orchestrator/board").exists(),
        "--out - writes no file"
    );
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let target = elsewhere.path().join("deep/er/board.html");
    let target_text = target.to_string_lossy().into_owned();
    ok(&run_in(root, &["board", "--quiet", "--out", &target_text]));
    assert_structure(root, &std::fs::read_to_string(&target).expect("page"));
    assert!(!root.join(".orchestrator/board").exists());
    let r = run_in(root, &["board", "--format", "json"]);
    assert_eq!(r.status.code(), Some(2));
    let r = run_in(root, &["board", "--watch", "--out", "-"]);
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn board_refuses_a_board_folder_that_leads_elsewhere() {
    let repo = example_repo();
    let root = repo.path();
    let outside = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(outside.path(), root.join(".orchestrator/board")).expect("symlink");
    let r = run_in(root, &["board"]);
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("symbolic link"));
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("ls").count(),
        0,
        "nothing written through the link"
    );
}

/// A two-task program whose first task's agent prints hostile output.
fn hostile_run_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let o = root.join(".orchestrator");
    for sub in ["tickets", "cards"] {
        std::fs::create_dir_all(o.join(sub)).expect("mkdir");
    }
    std::fs::create_dir_all(root.join("agents")).expect("mkdir");
    std::fs::copy(
        repo_path("testdata/agents/hostile-output-agent.sh"),
        root.join("agents/T1.sh"),
    )
    .expect("agent");
    let mut rows = String::new();
    // T2 waits on T1: a later group.
    for (id, deps, group) in [("T1", "-", "G1"), ("T2", "T1", "G2")] {
        rows.push_str(&format!(
            "| {id} | Build {id} if x < y & z | development-implementer | {deps} | {id} works |\n"
        ));
        std::fs::write(
            o.join(format!("tickets/{id}.md")),
            format!("---\nkind: ticket\nid: {id}\nstatus: todo\n---\n\n## Dispatch Ticket: {id}\n- Objective: Build {id} if x < y & z\n- Owner Skill: development-implementer\n- Inputs: The plan.\n- Commands/Checks: `true`\n- Expected Artifacts: `work/{id}/out.txt`\n- Risks: none\n- Exit Criteria: {id} works\n"),
        )
        .expect("ticket");
        std::fs::write(
            o.join(format!("cards/{id}.md")),
            format!("---\nkind: card\nid: {id}\ngroup: {group}\n---\n\n## Codex Execution Card: {id}\n- Skill: development-implementer\n- Goal: Build {id} if x < y & z\n- Allowed Scope:\n  - Files/paths: `work/{id}/**`\n  - Prohibited areas: none\n- Commands to run: `true`\n- Tests/checks to run: `true`\n- Evidence to capture: The test line.\n- Completion criteria: {id} works\n"),
        )
        .expect("card");
    }
    std::fs::write(
        o.join("plan.md"),
        format!("---\nkind: plan\nid: demo\ntitle: Demo <script>x</script>\nstatus: active\n---\n\n# Program Goal\n- Goal: Show hostile output safely.\n- Scope: Stand-in agents.\n- Non-goals: Anything else.\n\n# Phase Tree\n## Phase P1: Only phase\n- Outcome: Agents run.\n- Workstreams:\n  - UI: none\n  - Core: The work.\n  - Infrastructure: none\n  - Test: none\n  - Docs: none\n\n## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n{rows}"),
    )
    .expect("plan");
    std::fs::write(
        o.join("ledger.md"),
        "---\nkind: ledger\nplan: demo\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n",
    )
    .expect("ledger");
    std::fs::write(
        o.join("config.yaml"),
        "agent:\n  isolate: none\n  command: [\"agents/{task}.sh\", \"{task}\", \"{prompt}\"]\n  adapter: generic\n  evidence: [\"(?i)test result\"]\n",
    )
    .expect("config");
    std::fs::write(root.join(".gitignore"), ".orchestrator/logs/\n").expect("ignore");
    init_repo(root);
    let out = run_in(root, &["dispatch", "T1"]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

#[test]
fn untrusted_run_output_is_shown_as_text() {
    let repo = hostile_run_repo();
    let root = repo.path();
    ok(&run_in(root, &["board", "--quiet"]));
    let html = std::fs::read_to_string(page_path(root)).expect("page");
    assert_structure(root, &html);
    // The run, its verdict (partial: a change outside the scope) and the
    // changed file whose name is markup.
    assert!(html.contains("<h2 id=\"runs-h\">Latest runs</h2>"));
    assert!(
        html.contains("<span class=\"badge v-partial\">partial</span>"),
        "verdict"
    );
    assert!(
        html.contains("<code>stray/&lt;i&gt;x&lt;i&gt;&amp;.txt</code>"),
        "changed file"
    );
    // The log's end: markup escaped, colours dropped, the bell and the
    // bidirectional override shown as escapes, carriage returns resolved.
    assert!(html.contains("&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=&quot;http://example.invalid/x.png&quot;"));
    assert!(
        html.contains("red after-osc bell\\x07here"),
        "escapes in the log"
    );
    assert!(html.contains("1 passed \\u{202e}evil"));
    assert!(html.contains("\nprogress 100%\n") || html.contains("\nprogress 100%</pre>"));
    // Documents' text is escaped too.
    assert!(html.contains("<title>Demo &lt;script&gt;x&lt;/script&gt; · orch board</title>"));
    assert!(html.contains("Build T1 if x &lt; y &amp; z"), "objective");
    // No markup but the page's own: one script element, no image.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<img"));
    assert!(!html.contains('\u{1b}') && !html.contains('\u{7}') && !html.contains('\u{202e}'));
}

#[test]
fn logs_are_read_bounded_without_following_links_and_only_under_logs() {
    let repo = hostile_run_repo();
    let root = repo.path();
    let secret_dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_dir.path().join("secret.txt");
    std::fs::write(&secret, "SECRET-TOKEN-1234\n").expect("secret");
    // The log becomes a link to a file outside the repository.
    let log = root.join(".orchestrator/logs/T1.log");
    std::fs::remove_file(&log).expect("rm log");
    std::os::unix::fs::symlink(&secret, &log).expect("symlink");
    ok(&run_in(root, &["board", "--quiet"]));
    let html = std::fs::read_to_string(page_path(root)).expect("page");
    assert!(!html.contains("SECRET-TOKEN"), "a linked log is not read");
    assert!(html.contains("symbolic link"), "and the page says why");
    // A run file naming a log outside `logs/`.
    let runs = root.join(".orchestrator/runs");
    let run_file = std::fs::read_dir(&runs)
        .expect("runs")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a run file");
    let mut run: Value =
        serde_json::from_str(&std::fs::read_to_string(&run_file).expect("read")).expect("json");
    run["tasks"][0]["log"] = Value::from(secret.to_string_lossy().into_owned());
    std::fs::write(&run_file, serde_json::to_string(&run).expect("json")).expect("write");
    ok(&run_in(root, &["board", "--quiet"]));
    let html = std::fs::read_to_string(page_path(root)).expect("page");
    assert!(
        !html.contains("SECRET-TOKEN"),
        "a log outside logs/ is not read"
    );
    // A huge log: only its end is read and shown.
    std::fs::remove_file(&log).expect("rm link");
    let mut big = "x".repeat(50 * 1024 * 1024);
    big.push_str("\nthe last line\n");
    std::fs::write(&log, big).expect("big log");
    run["tasks"][0]["log"] = Value::from(".orchestrator/logs/T1.log");
    std::fs::write(&run_file, serde_json::to_string(&run).expect("json")).expect("write");
    ok(&run_in(root, &["board", "--quiet"]));
    let html = std::fs::read_to_string(page_path(root)).expect("page");
    assert!(html.contains("the last line"));
    assert!(
        html.len() < 1024 * 1024,
        "the page holds the log's end only"
    );
}

#[test]
fn status_markdown_has_counts_tasks_decisions_and_a_mermaid_graph() {
    let repo = example_repo();
    let root = repo.path();
    let md = ok(&run_in(root, &["status", "--format", "markdown"]));
    insta::assert_snapshot!("status_markdown_example", md);
    let want = expected_columns(root);
    for id in want.keys() {
        assert!(md.contains(&format!("| `{id}` |")), "{id} in the table");
    }
    let graph = md
        .split("```mermaid\n")
        .nth(1)
        .and_then(|g| g.split("```").next())
        .expect("a mermaid block");
    assert!(graph.starts_with("flowchart LR\n"));
    assert_eq!(
        graph.lines().filter(|l| l.contains(" --> ")).count(),
        expected_edges(root).len()
    );
}

#[test]
fn status_markdown_of_a_large_program_draws_phases_and_fits_a_comment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = large_program(600);
    common::write_program(&dir.path().join(".orchestrator"), &files).expect("write");
    let md = ok(&run_in(dir.path(), &["status", "--format", "markdown"]));
    assert!(md.len() < 60_000, "{} bytes", md.len());
    assert!(md.contains("600 tasks: "));
    let graph = md.split("```mermaid\n").nth(1).expect("a mermaid block");
    assert!(graph.contains("P1[\"P1: "), "a node per phase");
    assert!(!graph.contains("P1_CORE_01"), "no node per task");
    assert!(md.contains("`orch status` lists every task"));
}

fn large_program(n: usize) -> Vec<(String, String)> {
    const LAYOUT: common::Layout = common::Layout {
        dir_prefix: "mod",
        crate_prefix: "mod",
        bench: "board",
        timed: "Board times",
    };
    common::program(
        &LAYOUT,
        n,
        &|i, m| common::CardScope {
            group: format!("G{}", i / 4 + 1),
            allowed: vec![format!("mod{m}/**")],
            prohibited: vec![format!("mod{m}/gen/**")],
        },
        &|_, m| vec![format!("mod{m}/src/lib.rs")],
    )
}

#[test]
fn watch_rewrites_the_page_on_change_and_stops_cleanly_on_ctrl_c() {
    let repo = example_repo();
    let root = repo.path();
    let page = page_path(root);
    let mut child = Command::new(env!("CARGO_BIN_EXE_orch"))
        .current_dir(root)
        .env("HOME", root)
        .args(["board", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn orch");
    let wait_for = |what: &str, test: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::fs::read_to_string(&page).is_ok_and(|h| test(&h)) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("the first page", &|h| {
        h.contains("<meta http-equiv=\"refresh\" content=\"3\">") && h.contains("</html>")
    });
    let plan = root.join(".orchestrator/plan.md");
    let text = std::fs::read_to_string(&plan).expect("plan");
    std::fs::write(
        &plan,
        text.replace(
            "title: Offline sync for Jotter notes",
            "title: Renamed while watched",
        ),
    )
    .expect("edit");
    wait_for("the page after the edit", &|h| {
        h.contains("<h1>Renamed while watched</h1>")
    });
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "orch board --watch did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("stopped watching"), "{stdout}");
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "the page left behind is still"
    );
    assert!(html.contains("<h1>Renamed while watched</h1>"));
    let names: Vec<String> = std::fs::read_dir(root.join(".orchestrator/board"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "temp files left: {names:?}"
    );
}

// ---------------------------------------------------------------- Chromium

/// Debian's Chromium, if installed.
fn chromium() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("chromium"))
            .find(|p| p.is_file())
    })
}

/// Where the screenshots go: `$ORCH_ARTIFACTS` (`.ci/run` sets it to
/// `target/ci-artifacts`), else cargo's temporary folder for tests.
fn artifacts() -> PathBuf {
    let dir = std::env::var_os("ORCH_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("ci-artifacts"));
    std::fs::create_dir_all(&dir).expect("artifacts folder");
    dir
}

/// Run headless Chromium on `page` with the flags this machine needs and
/// a fresh profile; killed after 90 s.
fn chromium_run(bin: &Path, page: &Path, extra: &[String]) -> Output {
    let profile = tempfile::tempdir().expect("profile");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chromium");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut std::io::BufReader::new(stdout), &mut s).ok();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = reader.join().expect("reader");
    let mut stderr = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_end(&mut e, &mut stderr).ok();
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

/// The requests a page made, from Chromium's network log: the URL request
/// jobs whose network isolation key is a `file://` site. Chromium's own
/// background requests (its clock, updates, accounts; the flags do not
/// silence all of them) have no page behind them and are left out.
fn page_requests(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).expect("net log");
    let v: Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .expect("net log is JSON");
    let start_job = v["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("URL_REQUEST_START_JOB");
    v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.contains("file://"))
        })
        .map(|e| e["params"]["url"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// Show `page` in Chromium with a network log: its DOM after its script
/// ran, and the requests it made.
fn dom_and_requests(bin: &Path, page: &Path) -> (String, Vec<String>) {
    let work = tempfile::tempdir().expect("tempdir");
    let net_log = work.path().join("net.json");
    let out = chromium_run(
        bin,
        page,
        &[
            "--dump-dom".to_string(),
            format!("--log-net-log={}", net_log.display()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        page_requests(&net_log),
    )
}

/// Render `page` in Chromium: the DOM after its script ran (checked like
/// the file), the network log (nothing but the file itself), and
/// screenshots light and dark saved as `NAME-light.png`, `NAME-dark.png`.
fn render_in_chromium(bin: &Path, root: &Path, page: &Path, name: &str, size: &str) -> String {
    let (dom, requests) = dom_and_requests(bin, page);
    // The script ran and the style applied, under the CSP's hashes.
    let html_tag = tags(&dom, "<html")
        .into_iter()
        .next()
        .expect("html element");
    assert_eq!(
        attr(html_tag, "data-js"),
        Some("on"),
        "the script ran: {html_tag}"
    );
    assert_eq!(
        attr(html_tag, "data-css"),
        Some("ok"),
        "the style applied: {html_tag}"
    );
    assert!(
        tags(&dom, "<form id=\"filter\"")
            .iter()
            .all(|t| !t.contains(" hidden"))
    );
    assert_structure(root, &dom);
    // No request leaves the file. The check is live: a page that loads an
    // image from a closed port on this machine is seen doing it.
    let control = page.with_file_name("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><title>control</title><img src=\"http://127.0.0.1:9/probe.png\" alt=\"\">",
    )
    .expect("control page");
    assert_eq!(
        dom_and_requests(bin, &control).1,
        ["http://127.0.0.1:9/probe.png"],
        "the network log shows a page's requests"
    );
    std::fs::remove_file(&control).expect("rm control");
    assert_eq!(requests, Vec::<String>::new(), "requests beyond the file");
    for (scheme, flags) in [
        ("light", vec![]),
        (
            "dark",
            vec![
                "--force-dark-mode".to_string(),
                "--blink-settings=preferredColorScheme=0".to_string(),
            ],
        ),
    ] {
        let shot = artifacts().join(format!("{name}-{scheme}.png"));
        std::fs::remove_file(&shot).ok();
        let mut args = vec![
            format!("--screenshot={}", shot.display()),
            format!("--window-size={size}"),
        ];
        args.extend(flags);
        let out = chromium_run(bin, page, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let png = std::fs::read(&shot).expect("screenshot written");
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{}",
            shot.display()
        );
        eprintln!("screenshot: {}", shot.display());
    }
    dom
}

#[test]
fn example_board_renders_in_headless_chromium() {
    let bin = chromium();
    if !external("chromium", bin.is_some()) {
        return;
    }
    let repo = example_repo();
    let root = repo.path();
    ok(&run_in(root, &["board", "--quiet"]));
    let dom = render_in_chromium(
        &bin.expect("chromium"),
        root,
        &page_path(root),
        "board-example",
        "1400,1000",
    );
    // The filter the script shows narrows the cards: typing is not
    // possible headless, so check it is there and wired to every card.
    assert!(dom.contains("<form id=\"filter\""));
    assert!(dom.contains("<span id=\"zlevel\" aria-live=\"polite\">100%</span>"));
}

#[test]
fn large_board_renders_in_headless_chromium() {
    let bin = chromium();
    if !external("chromium", bin.is_some()) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    common::write_program(&root.join(".orchestrator"), &large_program(2000)).expect("write");
    init_repo(root);
    ok(&run_in(root, &["board", "--quiet"]));
    let dom = render_in_chromium(
        &bin.expect("chromium"),
        root,
        &page_path(root),
        "board-2000-tasks",
        "1600,1200",
    );
    // Finished tasks are drawn small, open ones in full.
    assert_eq!(dom.matches("<a class=\"node st-done small\"").count(), 800);
    assert!(dom.matches("<text class=\"nobj\"").count() >= 1200);
}
