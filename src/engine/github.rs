//! The GitHub Actions engine: `orch dispatch --engine github` starts the
//! workflow [`super::workflow`] wrote, through the GitHub CLI (`gh workflow
//! run`) where it is installed and logged in; otherwise it prints the exact
//! command to run.

use std::process::{Command, Stdio};

use crate::error::Result;

use super::{Agent, Engine, Launch, Launched};

/// The workflow's file name, as `gh workflow run` takes it.
const WORKFLOW: &str = "orch-dispatch.yml";

pub struct GitHub;

impl GitHub {
    /// The `gh` argv that starts the run.
    pub fn argv(launch: &Launch<'_>) -> Vec<String> {
        let agent = match launch.agent {
            Agent::Config => "config".to_string(),
            Agent::Preset(p) => format!("{p:?}").to_lowercase(),
        };
        let mut argv: Vec<String> = vec![
            "gh".into(),
            "workflow".into(),
            "run".into(),
            WORKFLOW.into(),
        ];
        if let Some(b) = launch.branch {
            argv.push("--ref".into());
            argv.push(b.to_string());
        }
        for (k, v) in [
            ("group", launch.targets.join(" ")),
            ("run", launch.run.to_string()),
            ("agent", agent),
        ] {
            argv.push("-f".into());
            argv.push(format!("{k}={v}"));
        }
        argv
    }
}

/// `gh` is on PATH and logged in.
fn gh_ready() -> Result<(), String> {
    let status = Command::new("gh")
        .args(["auth", "status"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(_) => Err("the GitHub CLI is not logged in (`gh auth login`)".into()),
        Err(_) => Err("the GitHub CLI (`gh`) is not installed".into()),
    }
}

impl Engine for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }

    fn launch(&self, launch: &Launch<'_>) -> Result<Launched> {
        let argv = Self::argv(launch);
        if let Err(why) = gh_ready() {
            return Ok(Launched::Command { argv, why });
        }
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .output()
            .map_err(std::io::Error::other)?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Ok(Launched::Command {
                argv,
                why: format!(
                    "`gh workflow run` failed: {}",
                    crate::util::escape_controls(&crate::util::clip_chars(err.trim(), 300))
                ),
            });
        }
        Ok(Launched::Started(format!(
            "started run {} on GitHub Actions: follow it with `gh run watch` or in the Actions tab; its pull request comes from `orch-run/{}`",
            launch.run, launch.run
        )))
    }
}
