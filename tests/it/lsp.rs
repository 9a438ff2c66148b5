//! `orch lsp` driven by a real LSP client: the pytest-lsp suite in
//! `tests/lsp/` (pygls), run against the binary under test. Skipped with a
//! note where pytest-lsp is not installed; `.ci/run` installs it.

use crate::util::{external, python_has, repo_path};

#[test]
fn the_language_server_answers_a_real_client() {
    if !external("pytest-lsp", python_has("pytest_lsp")) {
        return;
    }
    let out = std::process::Command::new("python3")
        .args([
            "-m",
            "pytest",
            "-q",
            "--no-header",
            "-p",
            "no:cacheprovider",
        ])
        .arg(repo_path("tests/lsp"))
        .env("ORCH", env!("CARGO_BIN_EXE_orch"))
        .env_remove("NO_COLOR")
        .output()
        .expect("run python3 -m pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the pytest-lsp suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A suite that collected nothing would pass too: count what ran.
    assert!(
        stdout.contains(" passed") && !stdout.contains("skipped"),
        "{stdout}"
    );
}
