//! `codex exec --json`: one event per line (`thread.started`,
//! `turn.started`, `item.*`, `turn.completed`, `turn.failed`,
//! `request_user_input`, `error`), read tolerantly of the drift codex has
//! shown: a `file_change`'s `kind` as a string or an object (`{"type":
//! "update"}`), an optional `diff`, `item_type` for `type` in old
//! versions, unknown event and item types ignored. An `error` event is
//! what codex prints while it retries a dropped stream: it fails the run
//! only when no `turn.completed` follows; `turn.failed` always does. Usage
//! comes with `turn.completed` (the thread's totals in new versions, the
//! turn's in old ones: a smaller figure is added, a larger one replaces).

use serde_json::Value;

use super::{Adapter, message_of, str_of, u64_of};
use crate::dispatch::event::{ChangeKind, Event, Usage};

#[derive(Default)]
pub struct Codex {
    usage: Option<Usage>,
}

fn change_kind(v: Option<&Value>) -> ChangeKind {
    let name = match v {
        Some(Value::String(s)) => s.as_str(),
        Some(o @ Value::Object(_)) => str_of(o, "type").unwrap_or(""),
        _ => "",
    };
    match name {
        "add" => ChangeKind::Add,
        "delete" => ChangeKind::Delete,
        _ => ChangeKind::Update,
    }
}

impl Adapter for Codex {
    fn event(&mut self, v: &Value, out: &mut Vec<Event>) {
        let kind = str_of(v, "type").unwrap_or("");
        match kind {
            "thread.started" => out.push(Event::Started {
                session: str_of(v, "thread_id").map(str::to_string),
            }),
            "turn.completed" => {
                if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
                    let now = Usage {
                        input_tokens: u64_of(u, "input_tokens").unwrap_or(0),
                        cached_input_tokens: u64_of(u, "cached_input_tokens").unwrap_or(0),
                        output_tokens: u64_of(u, "output_tokens").unwrap_or(0),
                        cost_usd: None,
                    };
                    let total = match self.usage {
                        Some(before)
                            if now.input_tokens < before.input_tokens
                                || now.output_tokens < before.output_tokens =>
                        {
                            before.plus(&now)
                        }
                        _ => now,
                    };
                    self.usage = Some(total);
                    out.push(Event::Usage(total));
                }
                out.push(Event::Completed {
                    final_message: None,
                    structured: None,
                });
            }
            "turn.failed" | "error" => {
                let msg = message_of(v.get("error").unwrap_or(v))
                    .or_else(|| message_of(v))
                    .unwrap_or_else(|| kind.to_string());
                let message = format!("{kind}: {msg}");
                out.push(if kind == "error" {
                    Event::Error { message }
                } else {
                    Event::Failed { message }
                });
            }
            "request_user_input" => {
                let questions: Vec<String> = v
                    .get("questions")
                    .and_then(Value::as_array)
                    .map(|qs| {
                        qs.iter()
                            .filter_map(|q| {
                                str_of(q, "question")
                                    .or_else(|| str_of(q, "header"))
                                    .or_else(|| q.as_str())
                                    .map(str::to_string)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Event::NeedsInput {
                    what: if questions.is_empty() {
                        "codex asks for input".into()
                    } else {
                        questions.join(" / ")
                    },
                });
            }
            "item.started" | "item.updated" | "item.completed" => {
                if let Some(item) = v.get("item") {
                    item_event(item, kind == "item.completed", out);
                }
            }
            _ => {}
        }
    }
}

fn item_event(item: &Value, completed: bool, out: &mut Vec<Event>) {
    let kind = str_of(item, "type")
        .or_else(|| str_of(item, "item_type"))
        .unwrap_or("");
    match kind {
        "file_change" => {
            if str_of(item, "status") == Some("failed") {
                return;
            }
            for c in item
                .get("changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(path) = str_of(c, "path") {
                    out.push(Event::FileChanged {
                        path: path.to_string(),
                        kind: change_kind(c.get("kind")),
                    });
                }
                // A move (`{"type":"update","move_path":...}`) changes its
                // destination too.
                if let Some(to) = c.get("kind").and_then(|k| str_of(k, "move_path")) {
                    out.push(Event::FileChanged {
                        path: to.to_string(),
                        kind: ChangeKind::Add,
                    });
                }
            }
        }
        "command_execution" => {
            let command = str_of(item, "command").unwrap_or("").to_string();
            out.push(Event::Command {
                command,
                exit_code: item.get("exit_code").and_then(Value::as_i64),
                done: completed,
            });
        }
        "agent_message" if completed => {
            if let Some(t) = str_of(item, "text") {
                out.push(Event::Message {
                    text: t.to_string(),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::dispatch::adapters::Kind;
    use crate::dispatch::event::Observed;
    use crate::dispatch::stream::Stream;

    fn read(text: &str) -> Observed {
        let mut s = Stream::new(Kind::Codex.reader().expect("codex reads a stream"));
        for piece in text.as_bytes().chunks(7) {
            s.feed(piece, &mut |_, _| {});
        }
        s.finish(&mut |_, _| {});
        s.observed
    }

    #[test]
    fn a_failed_turn_and_file_changes() {
        let e = read(concat!(
            "{\"type\":\"thread.started\",\"thread_id\":\"t-1\"}\n",
            "{\"type\":\"item.completed\",\"item\":{\"id\":\"i1\",\"type\":\"file_change\",\"changes\":[{\"path\":\"/r/src/a.rs\",\"kind\":\"add\"},{\"path\":\"b.rs\",\"kind\":{\"type\":\"update\"},\"diff\":\"@@ -1 +1 @@\"}],\"status\":\"completed\"}}\n",
            "{\"type\":\"item.completed\",\"item\":{\"id\":\"i2\",\"type\":\"command_execution\",\"command\":\"cargo test\",\"exit_code\":101,\"status\":\"failed\"}}\n",
            "not json\n",
            "{\"type\":\"item.completed\",\"item\":{\"id\":\"i3\",\"type\":\"agent_message\",\"text\":\"Done.\"}}\n",
            "{\"type\":\"some.future.event\",\"x\":1}\n",
            "{\"type\":\"turn.failed\",\"error\":{\"message\":\"model overloaded\"}}",
        ));
        assert_eq!(e.session.as_deref(), Some("t-1"));
        assert_eq!(e.paths, ["/r/src/a.rs", "b.rs"]);
        assert_eq!(e.commands[0].exit_code, Some(101));
        assert_eq!(e.last_message.as_deref(), Some("Done."));
        assert_eq!(e.failures, ["turn.failed: model overloaded"]);
        assert!(e.failed());
        assert_eq!(e.malformed, 1);
        assert_eq!(e.events, 6);
    }

    #[test]
    fn a_retried_error_then_a_completed_turn_with_usage() {
        let e = read(concat!(
            "{\"type\":\"error\",\"message\":\"Reconnecting... 1/5\"}\n",
            "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":22857,\"cached_input_tokens\":20736,\"output_tokens\":250}}\n",
        ));
        assert!(!e.failed());
        assert!(e.completed);
        assert_eq!(e.errors, ["error: Reconnecting... 1/5"]);
        let u = e.usage.expect("usage");
        assert_eq!(
            (u.input_tokens, u.cached_input_tokens, u.output_tokens),
            (22857, 20736, 250)
        );
    }

    #[test]
    fn a_request_for_input() {
        let e = read(
            "{\"type\":\"request_user_input\",\"id\":\"t\",\"call_id\":\"c\",\"questions\":[{\"id\":\"q\",\"header\":\"Scope\",\"question\":\"May I edit docs/?\"}]}\n",
        );
        assert_eq!(e.needs_input, ["May I edit docs/?"]);
    }
}
