//! The pull-request check, `.github/workflows/orch-check.yml`, as a runner
//! runs it: every shell step of its check job, in order, under bash as
//! GitHub starts it, with the runner's variables and files (`GITHUB_ENV`,
//! `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`), in a real repository holding a
//! scripted pull request, with the `orch` under test on `PATH` (the install
//! step is the one shell step not run). Then its comment job, twice, against
//! a stand-in on 127.0.0.1 for the two GitHub REST endpoints it calls (list
//! and write an issue's comments): one comment, updated in place.
//!
//! The workflow's `${{ }}` expressions sit only in `env:`, `if:` and
//! `outputs:` (never inside a script); the test knows each one it meets and
//! fails on any other, so a new expression is a deliberate change here.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::util::{
    Step, actionlint, copy_tree, external, git, has_program, repo_path, run_shell_step,
};

/// The workflow, parsed.
fn workflow() -> Value {
    let text = std::fs::read_to_string(repo_path(".github/workflows/orch-check.yml"))
        .expect("read orch-check.yml");
    serde_saphyr::from_str(&text).expect("orch-check.yml parses")
}

/// One run of a job's steps.
struct Runner {
    workspace: PathBuf,
    temp: tempfile::TempDir,
    /// What the expressions this workflow uses evaluate to.
    exprs: HashMap<&'static str, String>,
    /// The job's environment, with what steps added through `GITHUB_ENV`.
    env: BTreeMap<String, String>,
    /// Each step's outputs, by step id.
    outputs: HashMap<String, HashMap<String, String>>,
    /// The step summaries, one after the other as the run page shows them.
    summary: String,
}

impl Runner {
    fn new(workspace: &Path, exprs: HashMap<&'static str, String>) -> Runner {
        Runner {
            workspace: workspace.to_path_buf(),
            temp: tempfile::tempdir().expect("tempdir"),
            exprs,
            env: BTreeMap::new(),
            outputs: HashMap::new(),
            summary: String::new(),
        }
    }

    /// A value with `${{ expression }}` in it, evaluated.
    fn eval(&self, value: &Value) -> String {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => panic!("unexpected value {other}"),
        };
        let Some(rest) = text.trim().strip_prefix("${{") else {
            assert!(!text.contains("${{"), "one expression per value: {text}");
            return text;
        };
        let expr = rest
            .strip_suffix("}}")
            .unwrap_or_else(|| panic!("{text}"))
            .trim();
        self.exprs
            .get(expr)
            .unwrap_or_else(|| panic!("the test does not know `{expr}`: add it"))
            .clone()
    }

    /// A step's `if:`: the conditions the check job's shell steps use.
    fn condition(&self, cond: &str) -> bool {
        match cond.trim() {
            "always()" => true,
            "env.ORCH_ALIGN_DOCS != 'false'" => {
                self.env.get("ORCH_ALIGN_DOCS").map(String::as_str) != Some("false")
            }
            other => panic!("the test does not know the condition `{other}`: add it"),
        }
    }

    /// Run a job's shell steps (all but `skip`), as the runner does.
    fn job(&mut self, job: &Value, skip: &[&str]) -> Vec<Step> {
        if let Some(env) = job["env"].as_object() {
            for (k, v) in env {
                let value = self.eval(v);
                self.env.insert(k.clone(), value);
            }
        }
        let mut done = Vec::new();
        for step in job["steps"].as_array().expect("steps") {
            let Some(script) = step["run"].as_str() else {
                assert!(step["uses"].is_string(), "a step runs or uses: {step}");
                continue;
            };
            let name = step["name"].as_str().expect("every shell step is named");
            if skip.contains(&name) {
                continue;
            }
            if let Some(cond) = step["if"].as_str()
                && !self.condition(cond)
            {
                continue;
            }
            assert_eq!(step["shell"], "bash", "{name}: shell: bash");
            done.push(self.step(name, step, script));
        }
        done
    }

    fn step(&mut self, name: &str, step: &Value, script: &str) -> Step {
        let mut env: Vec<(String, String)> =
            vec![("GITHUB_EVENT_NAME".into(), "pull_request".into())];
        env.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(vars) = step["env"].as_object() {
            for (k, v) in vars {
                env.push((k.clone(), self.eval(v)));
            }
        }
        let (ran, files) =
            run_shell_step(name, script, &self.workspace, self.temp.path(), &[], &env);
        self.env.extend(files.env);
        if let Some(id) = step["id"].as_str() {
            self.outputs
                .insert(id.to_string(), files.outputs.into_iter().collect());
        }
        self.summary.push_str(&files.summary);
        ran
    }
}

fn find<'s>(steps: &'s [Step], name: &str) -> &'s Step {
    steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name} ran"))
}

/// A pull request: `feature` scales the deployment without release or
/// rollback notes and rewrites a ledger row; `main` moved on since with a
/// changelog entry of its own. Returns the repository (checked out at the
/// pull request's head, as the workflow's checkout does), base and head.
fn pull_request() -> (tempfile::TempDir, String, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    copy_tree(&repo_path("testdata/align/base"), dir);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    git(dir, &["checkout", "-q", "-b", "feature"]);
    let edit = |rel: &str, from: &str, to: &str| {
        let p = dir.join(rel);
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains(from), "{rel} lacks {from}");
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    };
    edit("deploy/app.yaml", "replicas: 1", "replicas: 2");
    edit(
        ".orchestrator/ledger.md",
        "pods healthy",
        "pods healthy and fast",
    );
    git(dir, &["commit", "-q", "-am", "scale out"]);
    git(dir, &["checkout", "-q", "main"]);
    edit(
        "CHANGELOG.md",
        "## 0.1.0",
        "## 0.1.1\n- On main.\n\n## 0.1.0",
    );
    git(dir, &["commit", "-q", "-am", "main moves on"]);
    let base = git(dir, &["rev-parse", "main"]).trim().to_string();
    let head = git(dir, &["rev-parse", "feature"]).trim().to_string();
    git(dir, &["checkout", "-q", "--detach", &head]);
    (tmp, base, head)
}

/// What the check job's expressions are in a pull request that calls the
/// reusable workflow with its defaults and `comment: true`.
fn expressions(base: &str, head: &str, api: &str) -> HashMap<&'static str, String> {
    let mut e = HashMap::new();
    for (k, v) in [
        ("inputs.orch-git", ""),
        ("inputs.orch-ref", ""),
        ("inputs.orch-path", ""),
        ("inputs.dir", ".orchestrator"),
        ("inputs.args", ""),
        ("inputs.align-docs", "true"),
        ("inputs.align-args", ""),
        ("github.event.pull_request.number", "7"),
        ("github.token", "test-token"),
    ] {
        e.insert(k, v.to_string());
    }
    e.insert("github.event.pull_request.base.sha", base.to_string());
    e.insert("github.event.pull_request.head.sha", head.to_string());
    let _ = api;
    e
}

#[test]
fn the_pull_request_check_runs_lint_base_and_align_docs_over_the_pull_requests_range() {
    if !external("jq", has_program("jq")) || !external("curl", has_program("curl")) {
        return;
    }
    let wf = workflow();
    let (repo, base, head) = pull_request();
    let merge_base = git(repo.path(), &["merge-base", &base, &head])
        .trim()
        .to_string();
    let mut runner = Runner::new(repo.path(), expressions(&base, &head, ""));
    let steps = runner.job(&wf["jobs"]["orch"], &["Install orch"]);
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "The range and the orchestrator folder",
            "orch lint (annotations)",
            "orch lint (SARIF and summary)",
            "orch align-docs (annotations)",
            "orch align-docs (SARIF, summary and comment)",
            "Fail on errors",
        ]
    );
    for s in &steps[..steps.len() - 1] {
        assert_eq!(s.code, 0, "{}: {}\n{}", s.name, s.stdout, s.stderr);
    }
    assert_eq!(runner.env["ORCH_BASE"], base);
    assert_eq!(runner.env["ORCH_HEAD"], head);
    assert_eq!(runner.env["ORCH_DIR"], ".orchestrator");

    // lint --base on the pull request's base: the rewritten ledger row.
    let lint = find(&steps, "orch lint (annotations)");
    assert!(
        lint.stdout
            .contains("::error file=.orchestrator/ledger.md,")
            && lint.stdout.contains("title=ledger-rewritten"),
        "{}",
        lint.stdout
    );
    assert_eq!(runner.env["ORCH_LINT_CODE"], "1");

    // align-docs over the pull request's range: the merge-base to the head,
    // so main's changelog is not taken for this branch's release note.
    let align = find(&steps, "orch align-docs (annotations)");
    let (b, h, mb) = (&base[..7], &head[..7], &merge_base[..7]);
    assert!(
        align.stdout.starts_with(&format!(
            "orch align-docs: {b}...{h}: the merge-base {mb} to {h}, 2 changed files\n"
        )),
        "{}",
        align.stdout
    );
    assert!(
        align.stdout.contains(
            "[ ] Release and rollback notes updated when deployment behaviour changes (2 errors)"
        ),
        "{}",
        align.stdout
    );
    assert!(
        align.stdout.contains("::error file=deploy/app.yaml,"),
        "{}",
        align.stdout
    );
    assert_eq!(runner.env["ORCH_ALIGN_CODE"], "1");

    // SARIF for code scanning, one file per tool run.
    for (file, code) in [
        ("orch-lint.sarif", "ledger-rewritten"),
        ("orch-align-docs.sarif", "release-notes-missing"),
    ] {
        let sarif: Value =
            serde_json::from_slice(&std::fs::read(repo.path().join(file)).expect("sarif written"))
                .expect("sarif is JSON");
        let ids: Vec<&str> = sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["ruleId"].as_str().expect("ruleId"))
            .collect();
        assert!(ids.contains(&code), "{file}: {ids:?}");
    }

    // The summary page: lint's findings, then the checklist.
    let summary = &runner.summary;
    let checklist = summary
        .find("<!-- orch-align-docs -->\n## orch align-docs: Documentation Alignment Checklist\n")
        .unwrap_or_else(|| panic!("no checklist in the summary:\n{summary}"));
    assert!(
        summary[..checklist].contains("ledger-rewritten"),
        "{summary}"
    );
    let listed = &summary[checklist..];
    for line in [
        &format!("{b}...{h}: the merge-base {mb} to {h}, 2 changed files.") as &str,
        "- [x] Governing docs constraints respected and traceable\n",
        "- [ ] Release and rollback notes updated when deployment behaviour changes — 2 errors\n",
        "  - ❌ `deploy/app.yaml:1:1` `release-notes-missing`",
    ] {
        assert!(listed.contains(line), "{line:?} not in\n{listed}");
    }
    // The comment's body is the checklist, marker first.
    let comment = runner.outputs["summary"]["comment"].clone();
    assert_eq!(
        format!("{comment}\n"),
        listed,
        "the comment is the checklist"
    );
    assert_eq!(
        wf["jobs"]["orch"]["outputs"]["comment"],
        "${{ steps.summary.outputs.comment }}"
    );

    // The job fails after every report is written, naming both.
    let last = find(&steps, "Fail on errors");
    assert_eq!(last.code, 1);
    assert!(
        last.stdout.contains("orch lint found errors")
            && last
                .stdout
                .contains("orch align-docs: a checklist line failed"),
        "{}",
        last.stdout
    );

    // The comment job: opt-in, and one comment, updated in place.
    let job = &wf["jobs"]["comment"];
    assert!(
        job["if"].as_str().unwrap().contains("inputs.comment"),
        "the comment is opt-in"
    );
    assert!(
        job.get("permissions").is_none() && wf.get("permissions").is_none(),
        "the comment job takes the caller's grant"
    );
    let api = Api::start(101, false);
    let mut first = comment_runner(&repo, &base, &head, &api.url, &comment);
    let posted = first.job(job, &[]);
    assert_eq!(
        posted[0].code, 0,
        "{}\n{}",
        posted[0].stdout, posted[0].stderr
    );
    let comments = api.comments();
    assert_eq!(comments.len(), 102);
    let ours = &comments[101];
    assert_eq!(ours["body"].as_str().unwrap().trim_end(), comment);
    // The next push: the same comment is rewritten, none is added.
    let updated = comment.replace("2 errors", "1 error");
    let mut second = comment_runner(&repo, &base, &head, &api.url, &updated);
    let patched = second.job(job, &[]);
    assert_eq!(
        patched[0].code, 0,
        "{}\n{}",
        patched[0].stdout, patched[0].stderr
    );
    let comments = api.comments();
    assert_eq!(comments.len(), 102, "updated in place, not duplicated");
    assert_eq!(comments[101]["id"], ours["id"]);
    assert_eq!(comments[101]["body"].as_str().unwrap().trim_end(), updated);
    assert!(
        comments[..101]
            .iter()
            .all(|c| c["body"].as_str().unwrap().starts_with("a review")),
        "other comments are left alone"
    );
    assert_eq!(api.writes(), ["POST", "PATCH"]);

    // Without the permission (a fork's token): a warning, not a failure.
    let denied = Api::start(0, true);
    let mut third = comment_runner(&repo, &base, &head, &denied.url, &comment);
    let refused = third.job(job, &[]);
    assert_eq!(refused[0].code, 0, "{}", refused[0].stderr);
    assert!(
        refused[0]
            .stdout
            .contains("::warning::cannot comment (HTTP 403): grant the job pull-requests: write"),
        "{}",
        refused[0].stdout
    );
    assert!(denied.comments().is_empty());
}

fn comment_runner(
    repo: &tempfile::TempDir,
    base: &str,
    head: &str,
    api: &str,
    comment: &str,
) -> Runner {
    let mut exprs = expressions(base, head, api);
    exprs.insert("needs.orch.outputs.comment", comment.to_string());
    let mut r = Runner::new(repo.path(), exprs);
    r.env.insert("GITHUB_API_URL".into(), api.to_string());
    r
}

#[test]
fn align_docs_can_be_turned_off_and_a_clean_pull_request_passes() {
    let wf = workflow();
    let (repo, base, head) = pull_request();
    // A pull request that fixes what it broke: notes, and the row restored.
    let dir = repo.path();
    git(dir, &["checkout", "-q", "-b", "fixed", &head]);
    let edit = |rel: &str, from: &str, to: &str| {
        let p = dir.join(rel);
        let text = std::fs::read_to_string(&p).expect("read");
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    };
    edit(
        ".orchestrator/ledger.md",
        "pods healthy and fast",
        "pods healthy",
    );
    edit(
        "CHANGELOG.md",
        "## 0.1.0",
        "## 0.1.1\n- Two replicas.\n\n## 0.1.0",
    );
    edit(
        "docs/rollback.md",
        "Apply",
        "Scale back to one replica, or apply",
    );
    git(dir, &["commit", "-q", "-am", "notes"]);
    let head = git(dir, &["rev-parse", "HEAD"]).trim().to_string();
    git(dir, &["checkout", "-q", "--detach", &head]);
    let mut runner = Runner::new(dir, expressions(&base, &head, ""));
    let steps = runner.job(&wf["jobs"]["orch"], &["Install orch"]);
    for s in &steps {
        assert_eq!(s.code, 0, "{}: {}\n{}", s.name, s.stdout, s.stderr);
    }
    assert!(
        runner.summary.contains("✅ All 5 checklist lines pass"),
        "{}",
        runner.summary
    );

    // align-docs: false runs lint alone.
    let mut exprs = expressions(&base, &head, "");
    exprs.insert("inputs.align-docs", "false".into());
    let mut runner = Runner::new(dir, exprs);
    let steps = runner.job(&wf["jobs"]["orch"], &["Install orch"]);
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert!(!names.iter().any(|n| n.contains("align-docs")), "{names:?}");
    assert!(steps.iter().all(|s| s.code == 0));
}

#[test]
fn actionlint_checks_the_workflows_and_catches_a_broken_one() {
    let wf = repo_path(".github/workflows/orch-check.yml");
    let Some((clean, findings)) = actionlint(&[&wf]) else {
        return;
    };
    assert!(clean, "{findings}");
    // The checker is not a no-op: an input that does not exist is caught.
    let tmp = tempfile::tempdir().expect("tempdir");
    let broken = tmp.path().join("broken.yml");
    let text = std::fs::read_to_string(&wf).expect("read");
    std::fs::write(
        &broken,
        text.replace("inputs.align-args", "inputs.align-argz"),
    )
    .expect("write");
    let (clean, findings) = actionlint(&[&broken]).expect("installed");
    assert!(!clean);
    assert!(findings.contains("align-argz"), "{findings}");
}

/// A stand-in for the two GitHub REST endpoints the comment job calls:
/// `GET /repos/acme/store/issues/7/comments` (paged) and
/// `POST` there, `PATCH /repos/acme/store/issues/comments/ID`. Bearer
/// `test-token` only; `deny` answers writes with 403, as a fork's token.
struct Api {
    url: String,
    state: Arc<Mutex<(Vec<Value>, Vec<String>)>>,
}

impl Api {
    fn start(others: usize, deny: bool) -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let comments: Vec<Value> = (0..others)
            .map(|i| json!({"id": 1000 + i, "body": format!("a review {i}"), "user": {"login": "someone"}}))
            .collect();
        let state = Arc::new(Mutex::new((comments, Vec::new())));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                serve(stream, &shared, deny);
            }
        });
        Api { url, state }
    }

    fn comments(&self) -> Vec<Value> {
        self.state.lock().expect("lock").0.clone()
    }

    fn writes(&self) -> Vec<String> {
        self.state.lock().expect("lock").1.clone()
    }
}

fn serve(stream: std::net::TcpStream, state: &Mutex<(Vec<Value>, Vec<String>)>, deny: bool) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut length = 0;
    let mut authorized = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if line.trim() == "Authorization: Bearer test-token" {
            authorized = true;
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let mut guard = state.lock().expect("lock");
    let (comments, writes) = &mut *guard;
    let (status, reply) = if !authorized {
        (401, json!({"message": "Bad credentials"}))
    } else if method == "GET" && path == "/repos/acme/store/issues/7/comments" {
        let per = param("per_page").unwrap_or(30);
        let page = param("page").unwrap_or(1);
        let list: Vec<Value> = comments
            .iter()
            .skip((page - 1) * per)
            .take(per)
            .cloned()
            .collect();
        (200, Value::Array(list))
    } else if deny && (method == "POST" || method == "PATCH") {
        (
            403,
            json!({"message": "Resource not accessible by integration"}),
        )
    } else if method == "POST" && path == "/repos/acme/store/issues/7/comments" {
        let text: Value = serde_json::from_slice(&body).expect("JSON body");
        let id = 5000 + comments.len();
        let c = json!({"id": id, "body": text["body"], "user": {"login": "github-actions[bot]"},
            "html_url": format!("https://github.com/acme/store/pull/7#issuecomment-{id}")});
        comments.push(c.clone());
        writes.push("POST".into());
        (201, c)
    } else if let (true, Some(id)) = (
        method == "PATCH",
        path.strip_prefix("/repos/acme/store/issues/comments/"),
    ) {
        let text: Value = serde_json::from_slice(&body).expect("JSON body");
        let id: Option<u64> = id.parse().ok();
        match comments.iter_mut().find(|c| c["id"].as_u64() == id) {
            Some(c) => {
                c["body"] = text["body"].clone();
                let url = format!(
                    "https://github.com/acme/store/pull/7#issuecomment-{}",
                    c["id"]
                );
                c["html_url"] = json!(url);
                writes.push("PATCH".into());
                (200, c.clone())
            }
            None => (404, json!({"message": "Not Found"})),
        }
    } else {
        (404, json!({"message": "Not Found"}))
    };
    drop(guard);
    let text = reply.to_string();
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}
