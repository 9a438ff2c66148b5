//! The GitHub Actions engine, played on this machine: `orch workflow
//! write` writes `.github/workflows/orch-dispatch.yml`; actionlint checks
//! it; then each of its jobs runs as a runner would run it — a fresh clone
//! of a bare `origin` per job (the checkout step), every shell step in
//! order under bash with the runner's variables and files (`GITHUB_OUTPUT`,
//! `GITHUB_ENV`, `GITHUB_STEP_SUMMARY`, `RUNNER_TEMP`), the task jobs
//! expanded from the first job's matrix output, artifacts as folders, a
//! stand-in `gh` that records the pull request, and stand-in agents
//! speaking codex's stream. The install steps are the shell steps not run
//! (the `orch` under test is on `PATH`).
//!
//! Every `${{ }}` expression the workflow uses is known here; a new one
//! fails the test until it is added, so a change to the workflow is a
//! deliberate change here.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::isolate::{Iso, t};
use crate::util::{Step, actionlint, git, run_shell_step};

const CODEX: &str = "agent:\n  command: [\"agents/{task}.sh\", \"{task}\", \"{last_message}\", \"{prompt}\"]\n  adapter: codex\n";

/// The machine the jobs run on: the bare origin, the artifacts, the
/// stand-in `gh`, and what each finished job output.
struct Machine {
    tmp: tempfile::TempDir,
    origin: PathBuf,
    wf: Value,
    /// `needs.<job>.outputs.<key>`.
    outputs: HashMap<String, HashMap<String, String>>,
    /// What started the run: `None` a `workflow_dispatch` of group G1,
    /// else a comment's body and its author's association.
    comment: Option<(String, String)>,
    summary: String,
}

/// One job's run: its workspace, context and the steps that ran.
struct Job<'m> {
    m: &'m mut Machine,
    workspace: PathBuf,
    temp: PathBuf,
    exprs: HashMap<String, String>,
    env: BTreeMap<String, String>,
    steps_out: HashMap<String, HashMap<String, String>>,
    ran: Vec<Step>,
}

impl Machine {
    fn new(origin: PathBuf, tmp: tempfile::TempDir, wf: Value) -> Machine {
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        // `gh`: `pr list` finds none; `pr create`/`pr edit` keep the body
        // and arguments.
        let gh = bin.join("gh");
        std::fs::write(
            &gh,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{log}'\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --body-file ]; then cp \"$2\" '{body}'; fi\n  shift\ndone\nexit 0\n",
                log = tmp.path().join("gh.log").display(),
                body = tmp.path().join("pr-body.md").display()
            ),
        )
        .expect("gh");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::create_dir_all(tmp.path().join("artifacts")).expect("artifacts");
        Machine {
            tmp,
            origin,
            wf,
            outputs: HashMap::new(),
            comment: None,
            summary: String::new(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Run job `name` (a matrix job's entry `task`), in a fresh workspace.
    fn job(&mut self, name: &str, task: Option<&str>, id: &str) -> Vec<Step> {
        let job = self.wf["jobs"][name].clone();
        assert!(job.is_object(), "no job {name}");
        let workspace = self.path(&format!("ws-{id}"));
        let temp = self.path(&format!("tmp-{id}"));
        std::fs::create_dir_all(&temp).expect("runner temp");
        let mut exprs: HashMap<String, String> = HashMap::new();
        let (group, body) = match &self.comment {
            None => ("G1", ""),
            Some((body, _)) => ("", body.as_str()),
        };
        for (k, v) in [
            ("inputs.group", group),
            ("github.event.comment.body", body),
            ("inputs.run", ""),
            ("inputs.agent", "config"),
            ("github.token", "test-token"),
            ("runner.os", "Linux"),
            ("secrets.OPENAI_API_KEY", "sk-test"),
            ("secrets.ANTHROPIC_API_KEY", ""),
            ("secrets.GEMINI_API_KEY", ""),
            (
                "github.event_name == 'issue_comment' && github.event.repository.default_branch || github.ref_name",
                "main",
            ),
        ] {
            exprs.insert(k.to_string(), v.to_string());
        }
        for (job, outs) in &self.outputs {
            for (k, v) in outs {
                exprs.insert(format!("needs.{job}.outputs.{k}"), v.clone());
            }
        }
        if let Some(t) = task {
            exprs.insert("matrix.task".into(), t.to_string());
        }
        let mut j = Job {
            m: self,
            workspace,
            temp,
            exprs,
            env: BTreeMap::new(),
            steps_out: HashMap::new(),
            ran: Vec::new(),
        };
        if let Some(cond) = job["if"].as_str()
            && !j.condition(cond)
        {
            return Vec::new();
        }
        for env in [&j.m.wf["env"].clone(), &job["env"]] {
            for (k, v) in env.as_object().into_iter().flatten() {
                let value = j.eval(v);
                j.env.insert(k.clone(), value);
            }
        }
        for step in job["steps"].as_array().expect("steps") {
            j.step(step);
        }
        // The job's outputs, from its steps'.
        let mut outs = HashMap::new();
        if let Some(o) = job["outputs"].as_object() {
            for (k, v) in o {
                outs.insert(k.clone(), j.eval(v));
            }
        }
        let ran = std::mem::take(&mut j.ran);
        self.outputs.insert(name.to_string(), outs);
        ran
    }
}

impl Job<'_> {
    fn lookup(&self, expr: &str) -> String {
        if let Some(v) = self.exprs.get(expr) {
            return v.clone();
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, key) = rest
                .split_once(".outputs.")
                .expect("steps.<id>.outputs.<key>");
            return self
                .steps_out
                .get(id)
                .and_then(|o| o.get(key))
                .cloned()
                .unwrap_or_default();
        }
        if let Some(key) = expr.strip_prefix("env.") {
            return self.env.get(key).cloned().unwrap_or_default();
        }
        if expr.starts_with("needs.") {
            // An output the job did not set is empty.
            return String::new();
        }
        panic!("the test does not know `{expr}`: add it");
    }

    /// A value with `${{ expression }}` in it, evaluated.
    fn eval(&self, value: &Value) -> String {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => panic!("unexpected value {other}"),
        };
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("${{") {
            out.push_str(&rest[..at]);
            let end = rest[at..].find("}}").expect("closed expression") + at;
            out.push_str(&self.lookup(rest[at + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// A step's `if:`: the conditions this workflow uses.
    fn condition(&self, cond: &str) -> bool {
        let cond = cond.trim();
        match cond {
            "always()" => true,
            "always() && needs.plan.result == 'success'" => self.m.outputs.contains_key("plan"),
            "github.event_name == 'workflow_dispatch'" => self.m.comment.is_none(),
            "github.event_name == 'workflow_dispatch' || (startsWith(github.event.comment.body, '/orch dispatch ') && contains(fromJSON('[\"OWNER\",\"MEMBER\",\"COLLABORATOR\"]'), github.event.comment.author_association))" => {
                match &self.m.comment {
                    None => true,
                    Some((body, who)) => {
                        body.starts_with("/orch dispatch ")
                            && ["OWNER", "MEMBER", "COLLABORATOR"].contains(&who.as_str())
                    }
                }
            }
            _ => {
                let Some(left) = cond.strip_suffix("!= ''") else {
                    panic!("the test does not know the condition `{cond}`: add it");
                };
                !self.lookup(left.trim()).is_empty()
            }
        }
    }

    fn step(&mut self, step: &Value) {
        if let Some(cond) = step["if"].as_str()
            && !self.condition(cond)
        {
            return;
        }
        if let Some(uses) = step["uses"].as_str() {
            let action = uses.split('@').next().expect("action");
            let with = |k: &str| self.eval(&step["with"][k]);
            match action {
                "actions/checkout" => {
                    assert_eq!(step["with"]["fetch-depth"], 0, "full history");
                    let r = step["with"]["ref"].as_str().map(|_| with("ref"));
                    git(
                        self.m.tmp.path(),
                        &[
                            "clone",
                            "-q",
                            self.m.origin.to_str().expect("utf-8"),
                            self.workspace.to_str().expect("utf-8"),
                        ],
                    );
                    if let Some(r) = r {
                        let remote = format!("origin/{r}");
                        let at =
                            if git_ok(&self.workspace, &["rev-parse", "--verify", "-q", &remote]) {
                                git(&self.workspace, &["checkout", "-q", "-B", &r, &remote]);
                                return;
                            } else {
                                r
                            };
                        git(&self.workspace, &["checkout", "-q", "--detach", &at]);
                    }
                }
                "actions/cache" => {}
                "actions/upload-artifact" => {
                    let name = with("name");
                    let into = self.m.path("artifacts").join(&name);
                    let dir = self.env.get("ORCH_DIR").cloned().expect("ORCH_DIR");
                    assert_eq!(
                        step["with"]["include-hidden-files"], true,
                        "{dir} is hidden"
                    );
                    for line in with("path").lines().filter(|l| !l.trim().is_empty()) {
                        let rel = line.trim().trim_end_matches('/');
                        let inner = rel
                            .strip_prefix(&format!("{dir}/"))
                            .expect("paths under the orchestrator folder");
                        let from = self.workspace.join(rel);
                        if from.exists() {
                            crate::util::copy_tree(&from, &into.join(inner));
                        }
                    }
                }
                "actions/download-artifact" => {
                    let pattern = with("pattern");
                    let prefix = pattern.strip_suffix('*').expect("a prefix pattern");
                    assert_eq!(step["with"]["merge-multiple"], true);
                    let into = self.workspace.join(with("path"));
                    for e in std::fs::read_dir(self.m.path("artifacts")).expect("artifacts") {
                        let e = e.expect("entry");
                        if e.file_name().to_string_lossy().starts_with(prefix) {
                            crate::util::copy_tree(&e.path(), &into);
                        }
                    }
                }
                other => panic!("the test does not know the action {other}"),
            }
            return;
        }
        let name = step["name"]
            .as_str()
            .expect("every shell step is named")
            .to_string();
        let script = step["run"].as_str().expect("run");
        if name == "Install orch" {
            return;
        }
        assert_eq!(step["shell"], "bash", "{name}: shell: bash");
        let event = if self.m.comment.is_some() {
            "issue_comment"
        } else {
            "workflow_dispatch"
        };
        let mut env: Vec<(String, String)> = vec![
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GITHUB_EVENT_NAME".into(), event.into()),
            ("GITHUB_REF_NAME".into(), "main".into()),
        ];
        env.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(vars) = step["env"].as_object() {
            for (k, v) in vars {
                env.push((k.clone(), self.eval(v)));
            }
        }
        let bin = self.m.path("bin");
        let (ran, files) =
            run_shell_step(&name, script, &self.workspace, &self.temp, &[&bin], &env);
        self.env.extend(files.env);
        if let Some(id) = step["id"].as_str() {
            self.steps_out
                .insert(id.to_string(), files.outputs.into_iter().collect());
        }
        self.m.summary.push_str(&files.summary);
        self.ran.push(ran);
    }
}

fn git_ok(dir: &Path, args: &[&str]) -> bool {
    crate::util::git_output(dir, args).status.success()
}

fn step<'s>(steps: &'s [Step], name: &str) -> &'s Step {
    steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name} ran: {steps:#?}"))
}

/// `orch workflow write` with `extra` arguments, which must succeed.
fn write_workflow(iso: &Iso, extra: &[&str]) {
    let base = [
        "workflow",
        "write",
        "--orch-git",
        "https://example.com/orch.git",
    ];
    let out = iso.orch(&[&base[..], extra].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A program of two tasks in group G1 whose stand-in agents edit their
/// own scope, with the workflow written and committed, pushed to a bare
/// `origin`.
fn program() -> (Iso, PathBuf, tempfile::TempDir) {
    let mut a = t("A", "todo");
    a.check = Some("cargo test");
    let mut b = t("B", "todo");
    b.check = Some("cargo test");
    let iso = Iso::with(
        &[a, b],
        CODEX,
        &[("A", "iso-codex-files.sh"), ("B", "iso-codex-files.sh")],
    );
    write_workflow(&iso, &[]);
    iso.git(&["add", "-A"]);
    iso.git(&["commit", "-q", "-m", "the dispatch workflow"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let origin = tmp.path().join("origin.git");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            iso.root().to_str().expect("utf-8"),
            origin.to_str().expect("utf-8"),
        ],
    );
    (iso, origin, tmp)
}

#[test]
fn the_written_workflow_passes_actionlint() {
    let (iso, _origin, _tmp) = program();
    let with_comment = iso.root().join(".github/workflows/orch-comment.yml");
    write_workflow(
        &iso,
        &[
            "--on-comment",
            "--max-tasks",
            "600",
            "--out",
            ".github/workflows/orch-comment.yml",
        ],
    );
    let text = std::fs::read_to_string(&with_comment).expect("read");
    // 600 tasks: three task jobs of at most 256.
    for k in 1..=3 {
        assert!(text.contains(&format!("  task-{k}:\n")), "task-{k}");
    }
    assert!(!text.contains("  task-4:\n"));
    // Secrets are referenced, never written; no permission workflow-wide.
    assert!(text.contains("${{ secrets.OPENAI_API_KEY }}"));
    assert!(text.contains("\npermissions: {}\n"));
    let written = iso.root().join(".github/workflows/orch-dispatch.yml");
    let Some((clean, findings)) = actionlint(&[&written, &with_comment]) else {
        return;
    };
    assert!(clean, "actionlint: {findings}");
}

#[test]
fn the_workflow_plays_on_this_machine_plan_tasks_harvest_integrate_pull_request() {
    let (_iso, origin, tmp) = program();
    let wf: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(_iso.root().join(".github/workflows/orch-dispatch.yml"))
            .expect("read"),
    )
    .expect("the workflow parses");
    let mut m = Machine::new(origin.clone(), tmp, wf);

    // The first job: the group checked, claimed and marked on orch-run/<RUN>.
    let plan = m.job("plan", None, "plan");
    for s in &plan {
        assert_eq!(s.code, 0, "{}: {}\n{}", s.name, s.stdout, s.stderr);
    }
    let outs = m.outputs["plan"].clone();
    let run = outs["run"].clone();
    assert!(run.ends_with("-G1"), "{run}");
    assert_eq!(outs["tasks-1"], r#"["A","B"]"#);
    assert_eq!(outs["package"], "", "a stand-in agent: nothing to install");
    let base = outs["base"].clone();
    let marked = git(
        &origin,
        &["log", "-1", "--format=%s%n%b", &format!("orch-run/{run}")],
    );
    assert!(marked.contains("-> in_progress"), "{marked}");
    assert_eq!(
        git(&origin, &["rev-parse", &format!("orch-run/{run}")]).trim(),
        base
    );

    // One job per task, from the matrix.
    let tasks: Vec<String> = serde_json::from_str(&outs["tasks-1"]).expect("matrix");
    for id in &tasks {
        let steps = m.job("task-1", Some(id), &format!("task-{id}"));
        for s in &steps {
            assert_eq!(s.code, 0, "{id} {}: {}\n{}", s.name, s.stdout, s.stderr);
        }
        let ran = step(&steps, "Run the task");
        assert!(
            ran.stdout.contains(&format!("{id}  pass")),
            "{}",
            ran.stdout
        );
        // The branch is pushed, started at the base.
        let tip = git(&origin, &["rev-parse", &format!("orch/{id}")]);
        let mb = git(&origin, &["merge-base", tip.trim(), &base]);
        assert_eq!(mb.trim(), base, "{id}'s branch starts at the base");
        let files = git(
            &origin,
            &["diff", "--name-only", &base, &format!("orch/{id}")],
        );
        assert_eq!(
            files.lines().collect::<Vec<_>>(),
            [
                format!("work/{id}/env.txt"),
                format!("work/{id}/main.rs"),
                format!("work/{id}/seed.txt")
            ]
        );
        assert!(
            m.path(&format!("artifacts/orch-{run}-{id}/runs/{run}/{id}.json"))
                .is_file(),
            "{id}'s facts uploaded"
        );
    }

    // The last job: harvest from the branches, integrate, push, the pull request.
    let last = m.job("harvest", None, "harvest");
    for s in &last {
        assert_eq!(s.code, 0, "{}: {}\n{}", s.name, s.stdout, s.stderr);
    }
    let h = step(&last, "Harvest from the branches");
    assert!(h.stdout.contains("A  pass"), "{}", h.stdout);
    assert!(h.stdout.contains("B  pass"), "{}", h.stdout);
    let head = format!("orch-run/{run}");
    // The ledger on the run branch: a harvest row and an integration row per task.
    let ledger = git(
        &origin,
        &["show", &format!("{head}:.orchestrator/ledger.md")],
    );
    for id in ["A", "B"] {
        let rows: Vec<&str> = ledger
            .lines()
            .filter(|l| l.starts_with(&format!("| {id} |")))
            .collect();
        assert_eq!(rows.len(), 2, "{id}: {ledger}");
        assert!(
            rows[0].contains(&format!("orch dispatch run {run}")),
            "{}",
            rows[0]
        );
        assert!(rows[1].contains(&format!("orch/{id}")), "{}", rows[1]);
    }
    // The integrated tree holds both tasks' work.
    let tree = git(&origin, &["ls-tree", "-r", "--name-only", &head]);
    for id in ["A", "B"] {
        assert!(tree.contains(&format!("work/{id}/main.rs")), "{tree}");
    }
    let status = git(
        &origin,
        &["show", &format!("{head}:.orchestrator/tickets/A.md")],
    );
    assert!(status.contains("status: done"), "{status}");
    git(&origin, &["fsck", "--strict", "--no-progress"]);
    // Integrated: the claims are released at the remote.
    let claims = git(&origin, &["for-each-ref", "refs/orch/claims/"]);
    assert!(claims.is_empty(), "{claims}");
    // One pull request, its body the run report.
    let gh = std::fs::read_to_string(m.path("gh.log")).expect("gh ran");
    assert!(
        gh.contains(&format!("pr create --head orch-run/{run} --base main")),
        "{gh}"
    );
    let body = std::fs::read_to_string(m.path("pr-body.md")).expect("body");
    assert!(body.contains(&run), "{body}");
    assert!(body.contains("| A |") || body.contains("A"), "{body}");
    assert!(m.summary.contains(&run), "the report on the summary page");
}

/// `orch harvest --from-branches` trusts git, not what came back: a task
/// whose facts never came back did not run as far as anyone can tell, and
/// a facts file that hides a stray change is judged from the branch.
#[test]
fn harvest_from_branches_judges_the_branches_not_the_facts_files() {
    let mut a = t("A", "todo");
    a.check = Some("cargo test");
    let mut b = t("B", "todo");
    b.check = Some("cargo test");
    let mut c = t("C", "todo");
    c.check = Some("cargo test");
    let iso = Iso::with(
        &[a, b, c],
        CODEX,
        &[
            ("A", "iso-codex-files.sh"),
            ("B", "iso-codex-stray.sh"),
            ("C", "iso-codex-files.sh"),
        ],
    );
    let out = iso.orch(&["workflow", "plan", "G1", "--run", "R1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("tasks-1=[\"A\",\"B\",\"C\"]"), "{printed}");
    for id in ["A", "B", "C"] {
        let out = iso.orch(&["run-task", id, "--run", "R1"]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            iso.root()
                .join(format!(".orchestrator/runs/R1/{id}.json"))
                .is_file()
        );
    }
    // Run again, a task's branch is left: refused, nothing started.
    let again = iso.orch(&["run-task", "A", "--run", "R1"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("left from an earlier run"));
    // B's facts file hides its stray edit; C's never came back.
    let part = iso.root().join(".orchestrator/runs/R1/B.json");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(&part).expect("read")).expect("json");
    v["tasks"][0]["changed"] = serde_json::json!(["work/B/out.txt"]);
    v["tasks"][0]["branch"]["changed"] = serde_json::json!(["work/B/out.txt"]);
    std::fs::write(&part, serde_json::to_string(&v).expect("json")).expect("write");
    std::fs::remove_file(iso.root().join(".orchestrator/runs/R1/C.json")).expect("remove");

    let (code, v) = iso.json(&["harvest", "--from-branches", "R1"]);
    assert_eq!(code, Some(1), "{v:#}");
    let by: BTreeMap<String, Value> = v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| (t["task"].as_str().expect("task").to_string(), t.clone()))
        .collect();
    assert_eq!(by["A"]["proposal"], "pass", "{:#}", by["A"]);
    assert_eq!(by["B"]["proposal"], "partial", "{:#}", by["B"]);
    assert_eq!(by["B"]["violations"], serde_json::json!(["README.md"]));
    assert_ne!(by["C"]["proposal"], "pass", "{:#}", by["C"]);
    // The run file is the one put together here.
    let run: Value = serde_json::from_str(
        &std::fs::read_to_string(iso.root().join(".orchestrator/runs/R1.json")).expect("run file"),
    )
    .expect("json");
    assert_eq!(run["tasks"].as_array().expect("tasks").len(), 3);
}

#[test]
fn dispatch_with_the_github_engine_prints_the_exact_command_without_gh() {
    let (iso, _origin, _tmp) = program();
    let out = iso
        .orch_cmd(&["dispatch", "--engine", "github", "G1"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    if crate::util::has_program("gh") {
        return; // a machine with gh would start a real run
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("not started: the GitHub CLI (`gh`) is not installed"),
        "{text}"
    );
    assert!(
        text.contains("gh workflow run orch-dispatch.yml --ref main -f group=G1 -f run="),
        "{text}"
    );
    // Nothing changed here: the workflow's first job marks the tasks.
    assert!(iso.git(&["status", "--porcelain"]).is_empty());
}

/// `--on-comment`: `/orch dispatch G1` from a member plans the run; the
/// same comment from someone without a role on the repository starts
/// nothing. The comment's text reaches the script only through the
/// environment: a comment that tries a shell substitution is a group name
/// orch refuses.
#[test]
fn a_members_comment_starts_a_run_and_a_strangers_does_not() {
    let (iso, origin, tmp) = program();
    write_workflow(&iso, &["--on-comment"]);
    iso.git(&["add", "-A"]);
    iso.git(&["commit", "-q", "-m", "comment trigger"]);
    iso.git(&["push", "-q", origin.to_str().expect("utf-8"), "main"]);
    let wf: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(iso.root().join(".github/workflows/orch-dispatch.yml"))
            .expect("read"),
    )
    .expect("parses");
    let mut m = Machine::new(origin.clone(), tmp, wf);

    m.comment = Some(("/orch dispatch G1 please".into(), "NONE".into()));
    assert!(
        m.job("plan", None, "stranger").is_empty(),
        "a stranger's comment runs nothing"
    );

    m.comment = Some(("/orch dispatch $(touch pwned) G1".into(), "MEMBER".into()));
    let steps = m.job("plan", None, "injection");
    let plan = step(&steps, "Plan the run");
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(
        plan.stderr.contains("is not a valid task or group name"),
        "{}",
        plan.stderr
    );
    assert!(!m.path("ws-injection/pwned").exists());

    m.comment = Some(("/orch dispatch G1".into(), "MEMBER".into()));
    let steps = m.job("plan", None, "member");
    for s in &steps {
        assert_eq!(s.code, 0, "{}: {}\n{}", s.name, s.stdout, s.stderr);
    }
    let run = m.outputs["plan"]["run"].clone();
    assert_eq!(m.outputs["plan"]["tasks-1"], r#"["A","B"]"#);
    let marked = git(
        &origin,
        &["log", "-1", "--format=%s", &format!("orch-run/{run}")],
    );
    assert!(marked.contains("-> in_progress"), "{marked}");
}
