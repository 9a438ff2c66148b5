//! The run report, `runs/<RUN>.md`: Markdown for people (a reviewer, CI),
//! committed with the records. A table of tasks with their proposals,
//! tokens and cost, the run's totals; then per task its command, exit,
//! what changed and how sure that is, what it changed outside its scope,
//! the checks, the evidence lines (the ledger's evidence cites this file,
//! not only the git-ignored log), what the agent reported beside what orch
//! verified, and whether it was recorded.

use crate::agent::shell_quote;

use super::harvest::{Attribution, RunFile, Verdict, summary_line, total_usage};
use super::time;

fn code(s: &str) -> String {
    let s = crate::util::one_line(s);
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Text for a table cell: one line, no pipe.
fn cell(s: &str) -> String {
    crate::util::one_line(s).replace('|', "\\|")
}

/// `22857/250` tokens (in/out), with the cost when known.
fn tokens(v: &Verdict) -> String {
    match v.usage {
        Some(u) => {
            let mut s = format!("{}/{}", u.input_tokens, u.output_tokens);
            if let Some(c) = u.cost_usd {
                s.push_str(&format!(" ${c:.4}"));
            }
            s
        }
        None => "-".into(),
    }
}

/// The commands to record a task by hand, or set it aside.
pub fn by_hand(task: &str, run: &str, dir_rel: &str) -> String {
    format!(
        "`orch record {task} --result partial --evidence \"dispatch run {run} did not finish it; see {dir_rel}/runs/{run}.md\"`, or set it aside with `orch block {task} --reason \"dispatch run {run} did not finish it\"` (and `orch unblock {task} --reason \"<why>\"` to dispatch it again)"
    )
}

/// The run report.
pub fn render(run: &RunFile, verdicts: &[Verdict], dir_rel: &str) -> String {
    let mut s = format!("# Dispatch run {}\n\n", run.run);
    s.push_str(&format!("- Started: {}\n", run.started));
    if let Some(e) = &run.ended {
        s.push_str(&format!("- Ended: {e}\n"));
    }
    let mut limits = format!("- Jobs: {}", run.jobs);
    if let Some(t) = &run.timeout {
        limits.push_str(&format!("; timeout {t}"));
    }
    if let Some(t) = &run.idle_timeout {
        limits.push_str(&format!("; idle timeout {t}"));
    }
    s.push_str(&limits);
    s.push('\n');
    s.push_str(&format!("- Exit codes: `{}`\n", summary_line(run)));
    if let Some(u) = total_usage(run) {
        s.push_str(&format!("- Tokens and cost, all tasks: {}\n", u.describe()));
    }
    if run.interrupted {
        s.push_str("- Interrupted: yes (Ctrl-C or SIGTERM); the agents were stopped and their tasks stay `in_progress`\n");
    }
    s.push_str("\n| Task | Exit | Time | Proposal | Verified | Reported | Changed | Outside scope | Tokens in/out | Recorded |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for v in verdicts {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            v.task,
            v.exit,
            v.duration_ms
                .map(|d| time::human(std::time::Duration::from_millis(d)))
                .unwrap_or_else(|| "-".into()),
            v.proposal.map_or("-", |p| p.as_str()),
            v.verified.map_or("-", |p| p.as_str()),
            v.reported.as_ref().map_or("-", |r| r.result.as_str()),
            v.changed
                .as_ref()
                .map_or("?".to_string(), |c| c.len().to_string()),
            v.violations.len(),
            tokens(v),
            v.recorded.map_or("-", |p| p.as_str()),
        ));
    }
    for (v, f) in verdicts.iter().zip(&run.tasks) {
        s.push_str(&format!(
            "\n## {}: {}\n",
            v.task,
            v.proposal.map_or("no proposal", |p| p.as_str())
        ));
        let argv: Vec<String> = f.argv.iter().map(|a| shell_quote(a)).collect();
        s.push_str(&format!(
            "- Agent: {}; command: {}\n",
            f.adapter,
            code(&crate::util::clip_bytes(&argv.join(" "), 400))
        ));
        match &f.ended {
            Some(_) => s.push_str(&format!(
                "- Exit: {} after {}{}\n",
                v.exit,
                time::human(std::time::Duration::from_millis(v.duration_ms.unwrap_or(0))),
                v.killed
                    .map(|k| format!(" ({}; process group killed)", k.describe()))
                    .unwrap_or_default()
            )),
            None => s.push_str("- Exit: did not run to an end\n"),
        }
        s.push_str(&format!(
            "- Log: {} ({})\n",
            code(&v.log),
            size(v.log_bytes)
        ));
        if let Some(p) = &f.last_message {
            s.push_str(&format!("- Last message: {}\n", code(p)));
        }
        if let Some(b) = &f.branch {
            let short = |h: &Option<String>| {
                h.as_deref()
                    .map_or("?".to_string(), |h| h[..h.len().min(10)].to_string())
            };
            let mut line = format!(
                "- Branch: {} in worktree {}, from {} to {}",
                code(&b.branch),
                code(&b.worktree),
                short(&b.base),
                short(&b.tip)
            );
            if !b.merged.is_empty() {
                line.push_str(&format!(
                    "; its base merges {}",
                    b.merged
                        .iter()
                        .map(|m| code(m))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            line.push_str(&format!(
                "; {} commit(s) by the agent, {} path(s) committed by orch",
                b.agent_commits,
                b.sealed.len()
            ));
            s.push_str(&line);
            s.push('\n');
            for n in &b.notes {
                s.push_str(&format!("  - {}\n", cell(n)));
            }
        }
        if let Some(u) = v.usage {
            s.push_str(&format!("- Tokens and cost: {}\n", u.describe()));
        }
        if let Some(b) = f.budget {
            let mut parts = Vec::new();
            if let Some(t) = b.tokens {
                parts.push(format!("{t} tokens"));
            }
            if let Some(u) = b.usd {
                parts.push(format!("${u}"));
            }
            s.push_str(&format!("- Budget: {}\n", parts.join(", ")));
        }
        let how = match v.attribution {
            Attribution::Exact if f.branch.is_some() => " (exact: its branch since its base)",
            Attribution::Exact => " (exact: it ran alone in its folder)",
            Attribution::Shared => {
                " (shared: other agents ran in its folder at the same time; see the notes)"
            }
            Attribution::Unknown => "",
        };
        match &v.changed {
            Some(c) if c.is_empty() => s.push_str(&format!("- Changed files: none{how}\n")),
            Some(c) => s.push_str(&format!(
                "- Changed files{how}: {}\n",
                c.iter().map(|p| code(p)).collect::<Vec<_>>().join(", ")
            )),
            None => s.push_str("- Changed files: unknown\n"),
        }
        if v.violations.is_empty() {
            s.push_str("- Outside scope: none\n");
        } else {
            s.push_str(&format!(
                "- Outside scope: {}\n",
                v.violations
                    .iter()
                    .map(|p| code(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !v.checks.is_empty() {
            let checks: Vec<String> = v
                .checks
                .iter()
                .map(|c| {
                    let seen = match c.exit_code {
                        Some(x) => format!("{} exit {x}", code(&c.check)),
                        None => format!("{} not seen", code(&c.check)),
                    };
                    match &c.reported {
                        Some(r) => format!("{seen} (reported: {r})"),
                        None => seen,
                    }
                })
                .collect();
            s.push_str(&format!("- Checks: {}\n", checks.join("; ")));
        }
        for q in &v.needs_input {
            s.push_str(&format!("- Waiting on a person: {}\n", cell(q)));
        }
        if v.evidence.is_empty() {
            s.push_str("- Evidence: none\n");
        } else {
            s.push_str("- Evidence:\n");
            for e in &v.evidence {
                s.push_str(&format!("  - {}\n", cell(e)));
            }
        }
        match (&v.reported, v.report_problems.is_empty()) {
            (Some(r), _) => {
                s.push_str(&format!(
                    "- Reported by the agent: {} · verified by orch: {}\n",
                    r.result.as_str(),
                    v.verified.map_or("-", |o| o.as_str())
                ));
                for e in &r.evidence {
                    s.push_str(&format!("  - claims: {}\n", cell(e)));
                }
                for u in &r.unverified {
                    s.push_str(&format!(
                        "  - unverified: {} (risk: {}; owner: {})\n",
                        cell(&u.item),
                        cell(&u.risk),
                        cell(&u.owner)
                    ));
                }
                if !r.next_action.trim().is_empty() {
                    s.push_str(&format!("  - next action: {}\n", cell(&r.next_action)));
                }
            }
            (None, false) => s.push_str(&format!(
                "- Reported by the agent: a completion report that breaks the schema: {}\n",
                cell(&v.report_problems.join("; "))
            )),
            (None, true) => {}
        }
        for c in &v.contradictions {
            s.push_str(&format!("- Contradiction: {}\n", cell(c)));
        }
        s.push_str(&format!("- Why: {}\n", cell(&v.reasons.join("; "))));
        for n in &v.notes {
            s.push_str(&format!("- Note: {}\n", cell(n)));
        }
        match (v.recorded, v.proposal) {
            (Some(r), _) => s.push_str(&format!("- Recorded: {r}\n")),
            (None, Some(_)) => s.push_str(&format!(
                "- Recorded: not yet (`orch harvest {} --record`)\n",
                run.run
            )),
            (None, None) => s.push_str(&format!(
                "- Recorded: no; `{}` stays `in_progress`: {}\n",
                v.task,
                by_hand(&v.task, &run.run, dir_rel)
            )),
        }
    }
    s
}
