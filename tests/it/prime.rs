//! What orch gives coding agents besides the MCP server: `orch prime` (the
//! session-start context), `orch init --agents` (the AGENTS.md block) and
//! the client configuration shown in docs/agents.md, each checked from the
//! user's side in real temporary repositories.

use std::path::Path;

use serde_json::Value;

use crate::util::{copy_tree, git, orch, repo_path};

/// A git repository holding the example program as `.orchestrator/`.
fn example_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(
        &repo_path(".orchestrator.example"),
        &tmp.path().join(".orchestrator"),
    );
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "start"]);
    tmp
}

fn stdout(dir: &Path, args: &[&str]) -> String {
    let out = orch()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run orch");
    assert!(
        out.status.success(),
        "orch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn prime_prints_the_leads_view_and_a_tasks_brief() {
    let example = repo_path("");
    let lead = stdout(&example, &["--dir", ".orchestrator.example", "prime"]);
    insta::assert_snapshot!("prime_lead", lead);
    let task = stdout(
        &example,
        &["--dir", ".orchestrator.example", "prime", "P2-CORE-01"],
    );
    insta::assert_snapshot!("prime_task", task);

    let json: Value = serde_json::from_str(&stdout(
        &example,
        &[
            "--dir",
            ".orchestrator.example",
            "prime",
            "--format",
            "json",
        ],
    ))
    .expect("JSON");
    assert_eq!(json["counts"]["tasks"], 20);
    assert_eq!(json["counts"]["ready"], 1);
    assert_eq!(json["ready"][0]["id"], "P2-CORE-03");
    assert_eq!(json["decisions"][0]["kind"], "split");
    let json: Value = serde_json::from_str(&stdout(
        &example,
        &[
            "--dir",
            ".orchestrator.example",
            "prime",
            "P2-CORE-01",
            "--format",
            "json",
        ],
    ))
    .expect("JSON");
    let task = &json["task"];
    assert_eq!(task["id"], "P2-CORE-01");
    assert_eq!(task["scope"]["allowed"][0], "core/src/sync/merge.rs");
    assert!(
        task["card_text"]
            .as_str()
            .unwrap_or("")
            .contains("Governing doc")
    );
    assert!(
        task["checks"]["checks"]
            .as_str()
            .unwrap_or("")
            .contains("cargo test")
    );
    assert_eq!(
        task["commands"]["pass"],
        "orch record P2-CORE-01 --result pass --evidence \"<the passing check's summary line>\""
    );
    assert_eq!(task["commands"]["scope_check"], "orch scope check");
    assert!(
        task["commands"].get("start").is_none(),
        "in progress already"
    );
}

#[test]
fn prime_refuses_a_bad_id_and_names_the_nearest_task() {
    let out = orch()
        .current_dir(repo_path(""))
        .args(["--dir", ".orchestrator.example", "prime", "P2-CORE-1"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `P2-CORE-01`?"), "{err}");
    let out = orch()
        .current_dir(repo_path(""))
        .args(["--dir", ".orchestrator.example", "prime", "../etc"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a task ID"));
}

/// The commands a brief prints run as printed, placeholders filled in.
#[test]
fn the_commands_prime_prints_run_as_printed() {
    let tmp = example_repo();
    let dir = tmp.path();
    let bin = Path::new(env!("CARGO_BIN_EXE_orch"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |command: &str| {
        let filled = command
            .replace("<the passing check's summary line>", "12 passed")
            .replace("<what you are waiting for>", "review");
        let out = std::process::Command::new("sh")
            .args(["-c", &filled])
            .current_dir(dir)
            .env("PATH", &path)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .output()
            .expect("sh");
        assert!(
            out.status.success(),
            "`{filled}`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // P2-INFRA-01 is blocked: its brief says how to start it, then how to
    // record it.
    let brief: Value =
        serde_json::from_str(&stdout(dir, &["prime", "P2-INFRA-01", "--format", "json"]))
            .expect("JSON");
    run(brief["task"]["commands"]["start"].as_str().expect("start"));
    let brief: Value =
        serde_json::from_str(&stdout(dir, &["prime", "P2-INFRA-01", "--format", "json"]))
            .expect("JSON");
    assert!(brief["task"]["commands"].get("start").is_none());
    run(brief["task"]["commands"]["pass"].as_str().expect("pass"));
    let log = git(dir, &["log", "--format=%s", "-2"]);
    assert_eq!(
        log,
        "orch(P2-INFRA-01): in_progress -> done\norch(P2-INFRA-01): blocked -> in_progress\n"
    );
    let md = stdout(dir, &["prime", "P2-UI-01"]);
    let block = md
        .lines()
        .find_map(|l| l.strip_prefix("- `orch block "))
        .and_then(|rest| rest.split_once("`:"))
        .expect("a block command");
    run(&format!("orch block {}", block.0));
    assert!(git(dir, &["log", "-1", "--format=%B"]).contains("Orch-Reason: review"));
}

#[test]
fn prime_follows_orch_task_and_hook_mode_never_fails_a_session() {
    let example = repo_path("");
    let out = orch()
        .current_dir(&example)
        .env("ORCH_TASK", "P2-CORE-01")
        .args(["--dir", ".orchestrator.example", "prime"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# orch task P2-CORE-01:"));

    let hook: Value = serde_json::from_str(&stdout(
        &example,
        &["--dir", ".orchestrator.example", "prime", "--hook"],
    ))
    .expect("hook JSON");
    assert_eq!(hook["hookSpecificOutput"]["hookEventName"], "SessionStart");
    let context = hook["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .expect("context");
    assert_eq!(
        context,
        stdout(&example, &["--dir", ".orchestrator.example", "prime"])
    );

    // No program at all: an empty context, exit 0, the reason on stderr.
    let empty = tempfile::tempdir().expect("tempdir");
    let out = orch()
        .current_dir(empty.path())
        .args(["prime", "--hook"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let hook: Value = serde_json::from_slice(&out.stdout).expect("hook JSON");
    assert_eq!(hook["hookSpecificOutput"]["additionalContext"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no .orchestrator/"));
}

/// A program with many tasks in every list: the context stays small.
#[test]
fn prime_stays_small_on_a_large_program() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(".orchestrator");
    std::fs::create_dir_all(dir.join("tickets")).expect("mkdir");
    let mut plan = String::from(
        "---\nkind: plan\nid: big\ntitle: A big program\nstatus: active\n---\n\n# Program Goal\n- Goal: g\n- Scope: s\n- Non-goals: n\n\n# Phase Tree\n## Phase P1: One\n- Outcome: o\n- Workstreams:\n  - UI: none\n  - Core: c\n  - Infrastructure: none\n  - Test: none\n  - Docs: none\n\n## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n",
    );
    for i in 0..600 {
        plan.push_str(&format!(
            "| P1-CORE-{i:03} | Build the part number {i} of the engine with a long objective text that goes on | development-implementer | - | It works |\n"
        ));
        let status = ["todo", "blocked", "failed", "partial"][i % 4];
        std::fs::write(
            dir.join(format!("tickets/P1-CORE-{i:03}.md")),
            format!("---\nkind: ticket\nid: P1-CORE-{i:03}\nstatus: {status}\n---\n"),
        )
        .expect("ticket");
    }
    std::fs::write(dir.join("plan.md"), plan).expect("plan");
    std::fs::write(
        dir.join("ledger.md"),
        "---\nkind: ledger\nplan: big\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n",
    )
    .expect("ledger");
    let lead = stdout(tmp.path(), &["prime"]);
    assert!(lead.contains("## Ready (150)"), "{lead}");
    assert!(lead.contains("- ... and 138 more (`orch next`)"), "{lead}");
    assert!(lead.contains("## Waiting on a person (450)"), "{lead}");
    // About 2k tokens at most (o200k_base averages 3 to 4 bytes a token
    // on this text; BENCHMARKS.md has measured counts).
    assert!(lead.len() < 8000, "{} bytes:\n{lead}", lead.len());
}

// ------------------------------------------------------------- AGENTS.md

#[test]
fn init_agents_writes_or_appends_the_block_and_never_touches_other_text() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    let agents = dir.join("AGENTS.md");

    // A new repository: the program and a new AGENTS.md.
    let out = stdout(dir, &["init", "--agents"]);
    assert!(out.contains("wrote AGENTS.md"), "{out}");
    assert!(dir.join(".orchestrator/plan.md").exists());
    let block = std::fs::read_to_string(&agents).expect("AGENTS.md");
    assert!(block.starts_with("<!-- orch:agents:begin"));
    assert!(block.ends_with("<!-- orch:agents:end -->\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&agents).expect("md").permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
    // Again: the program is left alone, the block is up to date.
    let out = stdout(dir, &["init", "--agents"]);
    assert!(out.contains("already holds a program"), "{out}");
    assert!(out.contains("up to date"), "{out}");

    // Someone's own AGENTS.md: the block goes after it, their text intact.
    let mine = "# House rules\r\n\r\nTabs, not spaces.";
    std::fs::write(&agents, mine).expect("write");
    let out = stdout(dir, &["init", "--agents"]);
    assert!(out.contains("appended the orch block"), "{out}");
    let text = std::fs::read_to_string(&agents).expect("read");
    assert!(text.starts_with(mine), "{text}");
    assert!(text.ends_with(&block));
    // An older block is replaced in place.
    let older = text.replace("Find work with", "Look for work with") + "Trailing words.\n";
    std::fs::write(&agents, &older).expect("write");
    let out = stdout(dir, &["init", "--agents"]);
    assert!(out.contains("updated the orch block"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&agents).expect("read"),
        format!("{text}Trailing words.\n")
    );

    // Half a block: refused, nothing written.
    let broken = format!("{mine}\n<!-- orch:agents:begin -->\nhalf\n");
    std::fs::write(&agents, &broken).expect("write");
    let out = orch()
        .current_dir(dir)
        .args(["init", "--agents"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("marker"));
    assert_eq!(std::fs::read_to_string(&agents).expect("read"), broken);

    // A link: refused, its target untouched.
    #[cfg(unix)]
    {
        std::fs::remove_file(&agents).expect("rm");
        let target = dir.join("elsewhere.md");
        std::fs::write(&target, "theirs\n").expect("write");
        std::os::unix::fs::symlink(&target, &agents).expect("symlink");
        let out = orch()
            .current_dir(dir)
            .args(["init", "--agents"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "theirs\n");
    }
}

#[test]
fn docs_agents_shows_the_block_init_writes() {
    let doc = std::fs::read_to_string(repo_path("docs/agents.md")).expect("docs/agents.md");
    let tmp = tempfile::tempdir().expect("tempdir");
    stdout(tmp.path(), &["init", "--agents"]);
    let block = std::fs::read_to_string(tmp.path().join("AGENTS.md")).expect("AGENTS.md");
    assert!(
        doc.contains(&format!("```markdown\n{block}```")),
        "docs/agents.md's AGENTS.md block differs from what `orch init --agents` writes"
    );
}

// ------------------------------------------------ client configuration

/// The fenced blocks of a language in docs/agents.md.
fn blocks(doc: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    doc.split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(b, _)| b.to_string()))
        .collect()
}

#[test]
fn the_client_configuration_in_docs_agents_starts_orch_as_documented() {
    let doc = std::fs::read_to_string(repo_path("docs/agents.md")).expect("docs/agents.md");
    let json: Vec<Value> = blocks(&doc, "json")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap_or_else(|e| panic!("{e}:\n{b}")))
        .collect();
    // .mcp.json (Claude Code, and the shape other clients share)
    let server = json
        .iter()
        .find_map(|v| v.get("mcpServers"))
        .expect("an mcpServers block");
    assert_eq!(server["orch"]["command"], "orch");
    assert_eq!(server["orch"]["args"], serde_json::json!(["mcp"]));
    // the hooks of Claude Code and Codex
    let hooks: Vec<&Value> = json.iter().filter_map(|v| v.get("hooks")).collect();
    assert_eq!(hooks.len(), 2, "Claude Code's and Codex's");
    let tmp = example_repo();
    for h in hooks {
        let entry = &h["SessionStart"][0];
        assert!(entry["matcher"].as_str().unwrap_or("").contains("startup"));
        let command = entry["hooks"][0]["command"].as_str().expect("command");
        assert_eq!(entry["hooks"][0]["type"], "command");
        let args: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(args[0], "orch", "{command}");
        let out: Value = serde_json::from_str(&stdout(tmp.path(), &args[1..])).expect("hook JSON");
        let context = out["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .expect("context");
        assert!(context.starts_with("# orch program:"), "{context}");
    }
    // Codex's config.toml
    let toml = blocks(&doc, "toml");
    assert_eq!(
        toml,
        ["[mcp_servers.orch]\ncommand = \"orch\"\nargs = [\"mcp\"]\n"]
    );
    // the commands named in prose are the real ones
    assert!(doc.contains("codex mcp add orch -- orch mcp"));
    assert!(doc.contains("claude mcp add --scope project orch -- orch mcp"));
}
