//! The normalized event model: what any agent's stream says, in one
//! vocabulary. Each adapter in [`super::adapters`] turns one agent's stream
//! (codex `exec --json`, Claude Code `stream-json`, Gemini CLI
//! `stream-json`) into [`Event`]s; [`Observed`] folds them into the bounded
//! facts a run file keeps and harvest judges.
//!
//! Usage events carry the run's totals so far (each adapter does its own
//! accounting: codex reports thread totals, Claude per-message usage and a
//! final total, Gemini one total at the end), so a budget is checked against
//! the latest one alone.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most failure and error messages kept.
const MAX_FAILURES: usize = 20;
/// Most changed paths kept.
const MAX_PATHS: usize = 10_000;
/// Most commands kept (the last ones).
const MAX_COMMANDS: usize = 200;
/// Longest command text kept.
const MAX_COMMAND: usize = 500;
/// Longest message text kept: a completion report (JSON) fits.
pub const MAX_TEXT: usize = 64 * 1024;
/// Most needs-input requests kept.
const MAX_REQUESTS: usize = 20;

/// How a file changed, where the stream says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Add,
    Delete,
    Update,
}

/// Tokens and cost so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Every input token, cached ones included.
    pub input_tokens: u64,
    /// The input tokens read from a cache (a part of `input_tokens`).
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    /// US dollars, where the agent reports a cost (Claude Code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

impl Usage {
    /// Input plus output tokens: what a token budget counts.
    pub fn tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// The sum of two usages (a run's totals); a cost only where one is known.
    pub fn plus(&self, other: &Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens.saturating_add(other.input_tokens),
            cached_input_tokens: self
                .cached_input_tokens
                .saturating_add(other.cached_input_tokens),
            output_tokens: self.output_tokens.saturating_add(other.output_tokens),
            cost_usd: match (self.cost_usd, other.cost_usd) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            },
        }
    }

    /// `22857 in (20736 cached), 250 out, $0.0123`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} tokens in", self.input_tokens);
        if self.cached_input_tokens > 0 {
            s.push_str(&format!(" ({} cached)", self.cached_input_tokens));
        }
        s.push_str(&format!(", {} out", self.output_tokens));
        if let Some(c) = self.cost_usd {
            s.push_str(&format!(", ${c:.4}"));
        }
        s
    }
}

/// One thing an agent's stream said.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The session started (its id, to resume it).
    Started { session: Option<String> },
    /// A message from the agent.
    Message { text: String },
    /// A command began (`exit_code` `None`) or ended.
    Command {
        command: String,
        exit_code: Option<i64>,
        done: bool,
    },
    /// The agent reports changing a file (absolute or relative path).
    FileChanged { path: String, kind: ChangeKind },
    /// Tokens and cost so far (totals, not increments).
    Usage(Usage),
    /// The agent stopped to ask a person (a question, a permission).
    NeedsInput { what: String },
    /// An error the agent reported and may have recovered from (codex
    /// retries a dropped stream): a failure only if the turn never completes.
    Error { message: String },
    /// The turn failed.
    Failed { message: String },
    /// The turn completed: the final message and structured output, when
    /// the stream carries them.
    Completed {
        final_message: Option<String>,
        structured: Option<Value>,
    },
}

/// A command the agent ran and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRun {
    pub command: String,
    pub exit_code: Option<i64>,
}

/// What the events of one run said, bounded (every list has a cap). Kept in
/// the run file under `events`; old run files (codex only) still read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Observed {
    /// JSON events read.
    pub events: u64,
    /// Non-empty lines that were not JSON objects.
    pub malformed: u64,
    /// Lines with a string too long to keep whole (clipped, still read).
    pub clipped: u64,
    /// The session's id (codex `thread_id`), to resume it.
    #[serde(alias = "thread_id")]
    pub session: Option<String>,
    /// The turn completed (codex `turn.completed`, a successful `result`).
    #[serde(alias = "turn_completed")]
    pub completed: bool,
    /// Why the turn failed (`turn.failed`, an error `result`).
    pub failures: Vec<String>,
    /// Errors reported along the way (retried, or fatal when no completion).
    pub errors: Vec<String>,
    /// Files the agent reports changing, as written, first seen first.
    pub paths: Vec<String>,
    /// Commands that ended, oldest first (the last ones kept).
    pub commands: Vec<CommandRun>,
    /// The last message (or the final one, at completion).
    pub last_message: Option<String>,
    /// Structured output the stream carries (Claude `structured_output`).
    pub structured: Option<Value>,
    /// Tokens and cost, the latest totals.
    pub usage: Option<Usage>,
    /// What the agent stopped to ask a person.
    pub needs_input: Vec<String>,
}

impl Observed {
    /// Did the run fail by its own account: a failed turn, or an error
    /// with no completed turn after it?
    pub fn failed(&self) -> bool {
        !self.failures.is_empty() || (!self.completed && !self.errors.is_empty())
    }

    /// Fold one event in.
    pub fn apply(&mut self, event: &Event) {
        let push = |list: &mut Vec<String>, text: &str| {
            if list.len() < MAX_FAILURES {
                list.push(crate::util::clip_bytes(text, 500));
            }
        };
        match event {
            Event::Started { session } => {
                if session.is_some() {
                    self.session.clone_from(session);
                }
            }
            Event::Message { text } => {
                self.last_message = Some(crate::util::clip_bytes(text, MAX_TEXT));
            }
            Event::Command {
                command,
                exit_code,
                done: true,
            } => {
                if self.commands.len() >= MAX_COMMANDS {
                    self.commands.remove(0);
                }
                self.commands.push(CommandRun {
                    command: crate::util::clip_bytes(command, MAX_COMMAND),
                    exit_code: *exit_code,
                });
            }
            Event::Command { .. } => {}
            Event::FileChanged { path, .. } => {
                if !self.paths.iter().any(|p| p == path) && self.paths.len() < MAX_PATHS {
                    self.paths.push(path.clone());
                }
            }
            Event::Usage(u) => self.usage = Some(*u),
            Event::NeedsInput { what } => {
                if self.needs_input.len() < MAX_REQUESTS && !self.needs_input.contains(what) {
                    self.needs_input
                        .push(crate::util::clip_bytes(&crate::util::one_line(what), 500));
                }
            }
            Event::Error { message } => push(&mut self.errors, message),
            Event::Failed { message } => push(&mut self.failures, message),
            Event::Completed {
                final_message,
                structured,
            } => {
                self.completed = true;
                if let Some(m) = final_message {
                    self.last_message = Some(crate::util::clip_bytes(m, MAX_TEXT));
                }
                if structured.is_some() {
                    self.structured.clone_from(structured);
                }
            }
        }
    }
}

/// How an activity that needs a person starts.
pub const WAITING: &str = "waiting on a person: ";

/// What an event says the agent is doing, for live progress; `None` for
/// events that say nothing a person would follow.
pub fn activity(event: &Event) -> Option<String> {
    let clip = |s: &str| crate::util::clip_chars(&crate::util::one_line(s), 80);
    match event {
        Event::Command {
            command,
            exit_code,
            done,
        } => Some(match (done, exit_code) {
            (false, _) => format!("$ {}", clip(command)),
            (true, Some(c)) => format!("$ {} (exit {c})", clip(command)),
            (true, None) => format!("$ {}", clip(command)),
        }),
        Event::FileChanged { path, kind } => Some(format!(
            "{} {}",
            match kind {
                ChangeKind::Add => "added",
                ChangeKind::Delete => "deleted",
                ChangeKind::Update => "edited",
            },
            clip(path)
        )),
        Event::NeedsInput { what } => Some(format!("{WAITING}{}", clip(what))),
        Event::Failed { message } => Some(format!("failed: {}", clip(message))),
        Event::Error { message } => Some(format!("error: {}", clip(message))),
        Event::Completed { .. } => Some("turn completed".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retried_error_is_no_failure_once_the_turn_completes() {
        let mut o = Observed::default();
        o.apply(&Event::Error {
            message: "Reconnecting... 1/5".into(),
        });
        assert!(o.failed());
        o.apply(&Event::Completed {
            final_message: Some("done".into()),
            structured: None,
        });
        assert!(!o.failed());
        assert_eq!(o.last_message.as_deref(), Some("done"));
        o.apply(&Event::Failed {
            message: "turn.failed: boom".into(),
        });
        assert!(o.failed());
    }

    #[test]
    fn old_run_files_still_read() {
        let o: Observed = serde_json::from_str(
            r#"{"events":3,"thread_id":"t","turn_completed":true,"paths":["a"],"commands":[{"command":"x","exit_code":0}]}"#,
        )
        .expect("reads");
        assert_eq!(o.session.as_deref(), Some("t"));
        assert!(o.completed);
        assert_eq!(o.paths, ["a"]);
    }

    #[test]
    fn usage_sums_and_describes() {
        let a = Usage {
            input_tokens: 10,
            cached_input_tokens: 4,
            output_tokens: 2,
            cost_usd: Some(0.5),
        };
        let b = Usage {
            input_tokens: 1,
            ..Usage::default()
        };
        let s = a.plus(&b);
        assert_eq!(s.tokens(), 13);
        assert_eq!(s.cost_usd, Some(0.5));
        assert_eq!(a.describe(), "10 tokens in (4 cached), 2 out, $0.5000");
    }
}
