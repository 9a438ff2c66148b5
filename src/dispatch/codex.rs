//! The codex adapter's reading of `codex exec --json`: one JSON event per
//! stdout line. Failure is told by `turn.failed` and `error` events (a failed
//! turn can still exit 0), touched paths by `file_change` items, and the
//! agent's last message and the commands it ran are kept as evidence.
//! Memory is bounded: lines are split with a capped buffer and every list
//! kept here has a cap.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest stdout line parsed as an event; longer lines are skipped.
const MAX_LINE: usize = 1 << 20;
const MAX_FAILURES: usize = 20;
const MAX_PATHS: usize = 10_000;
const MAX_COMMANDS: usize = 200;
const MAX_TEXT: usize = 4096;

/// What the events of one run said.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Events {
    /// JSON events read.
    pub events: u64,
    /// Non-empty lines that were not JSON objects (or too long).
    pub malformed: u64,
    /// `thread.started`'s id, to resume the session by id.
    pub thread_id: Option<String>,
    /// A `turn.completed` event was seen.
    pub turn_completed: bool,
    /// Messages of `turn.failed` and `error` events.
    pub failures: Vec<String>,
    /// `file_change` paths, as written (absolute or relative), first seen first.
    pub paths: Vec<String>,
    /// Completed `command_execution` items, oldest first (the last ones kept).
    pub commands: Vec<CommandRun>,
    /// The text of the last `agent_message` item.
    pub last_message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRun {
    pub command: String,
    pub exit_code: Option<i64>,
}

fn message_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("message")
            .and_then(message_of)
            .or_else(|| o.get("error").and_then(message_of)),
        _ => None,
    }
}

impl Events {
    /// Did the events say the run failed?
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// Read one stdout line.
    pub fn line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(o)) => {
                self.events += 1;
                self.event(&Value::Object(o));
            }
            _ => self.malformed += 1,
        }
    }

    fn event(&mut self, v: &Value) {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "thread.started" => {
                self.thread_id = v
                    .get("thread_id")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            "turn.completed" => self.turn_completed = true,
            "turn.failed" | "error" => {
                let msg = message_of(v.get("error").unwrap_or(v))
                    .or_else(|| message_of(v))
                    .unwrap_or_else(|| kind.to_string());
                if self.failures.len() < MAX_FAILURES {
                    self.failures
                        .push(format!("{kind}: {}", crate::util::clip_bytes(&msg, 500)));
                }
            }
            "item.started" | "item.updated" | "item.completed" => {
                if let Some(item) = v.get("item") {
                    self.item(item, kind == "item.completed");
                }
            }
            _ => {}
        }
    }

    fn item(&mut self, item: &Value, completed: bool) {
        let kind = item
            .get("type")
            .or_else(|| item.get("item_type"))
            .and_then(Value::as_str)
            .unwrap_or("");
        match kind {
            "file_change" => {
                if item.get("status").and_then(Value::as_str) == Some("failed") {
                    return;
                }
                let Some(changes) = item.get("changes").and_then(Value::as_array) else {
                    return;
                };
                for c in changes {
                    if let Some(p) = c.get("path").and_then(Value::as_str)
                        && !self.paths.iter().any(|q| q == p)
                        && self.paths.len() < MAX_PATHS
                    {
                        self.paths.push(p.to_string());
                    }
                }
            }
            "command_execution" if completed => {
                let command = item
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if self.commands.len() >= MAX_COMMANDS {
                    self.commands.remove(0);
                }
                self.commands.push(CommandRun {
                    command: crate::util::clip_bytes(&command, 500),
                    exit_code: item.get("exit_code").and_then(Value::as_i64),
                });
            }
            "agent_message" if completed => {
                if let Some(t) = item.get("text").and_then(Value::as_str) {
                    self.last_message = Some(crate::util::clip_bytes(t, MAX_TEXT));
                }
            }
            _ => {}
        }
    }
}

/// Splits a byte stream into lines with a capped buffer: a line longer than
/// [`MAX_LINE`] is dropped (counted as malformed), never held whole.
#[derive(Default)]
pub struct Lines {
    current: Vec<u8>,
    overflow: bool,
}

impl Lines {
    pub fn feed(&mut self, mut chunk: &[u8], events: &mut Events) {
        while let Some(nl) = chunk.iter().position(|&b| b == b'\n') {
            self.push(&chunk[..nl]);
            self.flush(events);
            chunk = &chunk[nl + 1..];
        }
        self.push(chunk);
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        if self.current.len() + bytes.len() > MAX_LINE {
            self.overflow = true;
            self.current = Vec::new();
        } else {
            self.current.extend_from_slice(bytes);
        }
    }

    fn flush(&mut self, events: &mut Events) {
        if self.overflow {
            events.malformed += 1;
        } else {
            events.line(&self.current);
        }
        self.current.clear();
        self.overflow = false;
    }

    /// The stream ended: read a last line without a newline.
    pub fn finish(&mut self, events: &mut Events) {
        if !self.current.is_empty() || self.overflow {
            self.flush(events);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Events {
        let mut e = Events::default();
        let mut l = Lines::default();
        // Feed in awkward pieces to exercise the splitter.
        for piece in text.as_bytes().chunks(7) {
            l.feed(piece, &mut e);
        }
        l.finish(&mut e);
        e
    }

    #[test]
    fn a_failed_turn_and_file_changes() {
        let e = read(concat!(
            "{\"type\":\"thread.started\",\"thread_id\":\"t-1\"}\n",
            "{\"type\":\"item.completed\",\"item\":{\"id\":\"i1\",\"type\":\"file_change\",\"changes\":[{\"path\":\"/r/src/a.rs\",\"kind\":\"add\"},{\"path\":\"b.rs\",\"kind\":\"update\"}],\"status\":\"completed\"}}\n",
            "{\"type\":\"item.completed\",\"item\":{\"id\":\"i2\",\"type\":\"command_execution\",\"command\":\"cargo test\",\"exit_code\":101,\"status\":\"failed\"}}\n",
            "not json\n",
            "{\"type\":\"item.completed\",\"item\":{\"id\":\"i3\",\"type\":\"agent_message\",\"text\":\"Done.\"}}\n",
            "{\"type\":\"turn.failed\",\"error\":{\"message\":\"model overloaded\"}}",
        ));
        assert_eq!(e.thread_id.as_deref(), Some("t-1"));
        assert_eq!(e.paths, ["/r/src/a.rs", "b.rs"]);
        assert_eq!(e.commands[0].exit_code, Some(101));
        assert_eq!(e.last_message.as_deref(), Some("Done."));
        assert_eq!(e.failures, ["turn.failed: model overloaded"]);
        assert!(e.failed());
        assert_eq!(e.malformed, 1);
        assert_eq!(e.events, 5);
    }

    #[test]
    fn overlong_lines_are_dropped_not_kept() {
        let mut e = Events::default();
        let mut l = Lines::default();
        let big = vec![b'x'; MAX_LINE + 10];
        l.feed(&big, &mut e);
        assert!(l.current.capacity() <= MAX_LINE + 10);
        l.feed(b"\n{\"type\":\"turn.completed\"}\n", &mut e);
        assert_eq!(e.malformed, 1);
        assert!(e.turn_completed);
    }
}
