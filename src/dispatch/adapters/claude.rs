//! Claude Code `claude -p --output-format stream-json --verbose`: one
//! message per line (`system`, `assistant`, `user`, `result`,
//! `stream_event`, `rate_limit_event`, ...), as the Agent SDK's message
//! parser reads them. Edits are `tool_use` blocks named `Write`, `Edit`,
//! `MultiEdit` or `NotebookEdit` (`input.file_path`, `notebook_path`),
//! counted when their `tool_result` is not an error; commands are `Bash`
//! tool uses, ended by their result (Claude gives no exit code field: the
//! `Exit code N` its error text starts with, else 1 for an error result and
//! 0 otherwise). The `result` message ends the run: a failure when
//! `is_error` is true (a failed API call can say `subtype: success`) or its
//! subtype is an `error_*` one; its `total_cost_usd`, `usage`,
//! `result` (final text), `structured_output` (the `--json-schema` answer)
//! and `permission_denials` (a person must grant them) are read. Usage so
//! far is the sum of the assistant messages' usage, each message id once.

use std::collections::HashMap;

use serde_json::Value;

use super::{Adapter, exit_code_in, message_of, str_of, u64_of};
use crate::dispatch::event::{ChangeKind, Event, Usage};

const EDIT_TOOLS: &[&str] = &["Write", "Edit", "MultiEdit", "NotebookEdit"];

#[derive(Default)]
pub struct Claude {
    /// Tool uses waiting for their result: id -> (tool name, input).
    pending: HashMap<String, (String, Value)>,
    /// Usage per assistant message id (a message arrives once per block).
    per_message: HashMap<String, Usage>,
    text: String,
}

/// Claude's usage object, normalized: every input token, cache reads as
/// the cached part.
fn usage_of(u: &Value) -> Usage {
    let read = u64_of(u, "cache_read_input_tokens").unwrap_or(0);
    let created = u64_of(u, "cache_creation_input_tokens").unwrap_or(0);
    Usage {
        input_tokens: u64_of(u, "input_tokens")
            .unwrap_or(0)
            .saturating_add(read)
            .saturating_add(created),
        cached_input_tokens: read,
        output_tokens: u64_of(u, "output_tokens").unwrap_or(0),
        cost_usd: None,
    }
}

/// The text of a `tool_result` block's content (a string or text blocks).
fn result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| str_of(b, "text"))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

impl Claude {
    fn total(&self) -> Usage {
        self.per_message
            .values()
            .fold(Usage::default(), |a, u| a.plus(u))
    }

    fn assistant(&mut self, v: &Value, out: &mut Vec<Event>) {
        let Some(message) = v.get("message") else {
            return;
        };
        let blocks = message.get("content").and_then(Value::as_array);
        let mut text = Vec::new();
        for block in blocks.into_iter().flatten() {
            match str_of(block, "type") {
                Some("text") => {
                    if let Some(t) = str_of(block, "text") {
                        text.push(t.to_string());
                    }
                }
                Some("tool_use") => {
                    let name = str_of(block, "name").unwrap_or("").to_string();
                    let input = block.get("input").cloned().unwrap_or(Value::Null);
                    if name == "Bash"
                        && let Some(c) = str_of(&input, "command")
                    {
                        out.push(Event::Command {
                            command: c.to_string(),
                            exit_code: None,
                            done: false,
                        });
                    }
                    if name == "AskUserQuestion" {
                        let q = input
                            .get("questions")
                            .and_then(Value::as_array)
                            .and_then(|qs| qs.first())
                            .and_then(|q| str_of(q, "question"))
                            .unwrap_or("Claude asks a question");
                        out.push(Event::NeedsInput {
                            what: q.to_string(),
                        });
                    }
                    if let Some(id) = str_of(block, "id") {
                        self.pending.insert(id.to_string(), (name, input));
                    }
                }
                _ => {}
            }
        }
        if !text.is_empty() {
            self.text = text.join("\n");
            out.push(Event::Message {
                text: self.text.clone(),
            });
        }
        if let Some(u) = message.get("usage").filter(|u| u.is_object()) {
            let id = str_of(message, "id").unwrap_or("").to_string();
            self.per_message.insert(id, usage_of(u));
            out.push(Event::Usage(self.total()));
        }
    }

    fn user(&mut self, v: &Value, out: &mut Vec<Event>) {
        let blocks = v
            .get("message")
            .and_then(|m| m.get("content"))
            .and_then(Value::as_array);
        for block in blocks.into_iter().flatten() {
            if str_of(block, "type") != Some("tool_result") {
                continue;
            }
            let Some((name, input)) =
                str_of(block, "tool_use_id").and_then(|id| self.pending.remove(id))
            else {
                continue;
            };
            let is_error = block
                .get("is_error")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if name == "Bash" {
                let text = result_text(block.get("content"));
                let exit_code = if is_error {
                    exit_code_in(&text).or(Some(1))
                } else {
                    Some(0)
                };
                out.push(Event::Command {
                    command: str_of(&input, "command").unwrap_or("").to_string(),
                    exit_code,
                    done: true,
                });
            } else if EDIT_TOOLS.contains(&name.as_str()) && !is_error {
                let path = str_of(&input, "file_path").or_else(|| str_of(&input, "notebook_path"));
                if let Some(path) = path {
                    out.push(Event::FileChanged {
                        path: path.to_string(),
                        kind: if name == "Write" {
                            ChangeKind::Add
                        } else {
                            ChangeKind::Update
                        },
                    });
                }
            }
        }
    }

    fn result(&mut self, v: &Value, out: &mut Vec<Event>) {
        let mut usage = match v.get("usage").filter(|u| u.is_object()) {
            Some(u) => usage_of(u),
            None => self.total(),
        };
        usage.cost_usd = v.get("total_cost_usd").and_then(Value::as_f64);
        out.push(Event::Usage(usage));
        for d in v
            .get("permission_denials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let tool = str_of(d, "tool_name").unwrap_or("a tool");
            let input = d.get("tool_input");
            let detail = input
                .and_then(|i| str_of(i, "command").or_else(|| str_of(i, "file_path")))
                .map(|x| format!("({x})"))
                .unwrap_or_default();
            out.push(Event::NeedsInput {
                what: format!("permission denied: {tool}{detail}"),
            });
        }
        let subtype = str_of(v, "subtype").unwrap_or("");
        let is_error = v.get("is_error").and_then(Value::as_bool).unwrap_or(false);
        if is_error || subtype.starts_with("error") {
            let detail = v
                .get("errors")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
                .and_then(message_of)
                .or_else(|| str_of(v, "result").map(str::to_string))
                .unwrap_or_default();
            let what = if subtype.is_empty() { "error" } else { subtype };
            out.push(Event::Failed {
                message: if detail.is_empty() {
                    format!("result: {what}")
                } else {
                    format!("result: {what}: {detail}")
                },
            });
        } else {
            out.push(Event::Completed {
                final_message: str_of(v, "result")
                    .map(str::to_string)
                    .or_else(|| Some(self.text.clone()).filter(|t| !t.is_empty())),
                structured: v.get("structured_output").filter(|s| !s.is_null()).cloned(),
            });
        }
    }
}

impl Adapter for Claude {
    fn event(&mut self, v: &Value, out: &mut Vec<Event>) {
        match str_of(v, "type") {
            Some("system") if str_of(v, "subtype") == Some("init") => out.push(Event::Started {
                session: str_of(v, "session_id").map(str::to_string),
            }),
            Some("assistant") => self.assistant(v, out),
            Some("user") => self.user(v, out),
            Some("result") => self.result(v, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dispatch::adapters::Kind;
    use crate::dispatch::event::Observed;
    use crate::dispatch::stream::Stream;

    fn read(lines: &[&str]) -> Observed {
        let mut s = Stream::new(Kind::Claude.reader().expect("reader"));
        for l in lines {
            s.feed(format!("{l}\n").as_bytes(), &mut |_, _| {});
        }
        s.finish(&mut |_, _| {});
        s.observed
    }

    #[test]
    fn edits_commands_cost_and_structured_output() {
        let o = read(&[
            r#"{"type":"system","subtype":"init","session_id":"s-1","cwd":"/r","model":"m","tools":[]}"#,
            r#"{"type":"assistant","message":{"id":"m1","model":"m","content":[{"type":"tool_use","id":"t1","name":"Write","input":{"file_path":"/r/src/a.rs","content":"x"}}],"usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":5}},"session_id":"s-1"}"#,
            r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}}"#,
            r#"{"type":"assistant","message":{"id":"m2","model":"m","content":[{"type":"tool_use","id":"t2","name":"Bash","input":{"command":"cargo test"}}],"usage":{"input_tokens":1,"output_tokens":1}}}"#,
            r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t2","content":"Exit code 101\nfailed","is_error":true}]}}"#,
            r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":1,"duration_api_ms":1,"num_turns":2,"session_id":"s-1","total_cost_usd":0.25,"usage":{"input_tokens":11,"cache_read_input_tokens":90,"output_tokens":6},"result":"done","structured_output":{"result":"pass"},"permission_denials":[{"tool_name":"Bash","tool_use_id":"t3","tool_input":{"command":"rm -rf /"}}]}"#,
        ]);
        assert_eq!(o.session.as_deref(), Some("s-1"));
        assert_eq!(o.paths, ["/r/src/a.rs"]);
        assert_eq!(o.commands[0].exit_code, Some(101));
        assert!(o.completed && !o.failed());
        assert_eq!(o.last_message.as_deref(), Some("done"));
        assert_eq!(o.structured, Some(serde_json::json!({"result":"pass"})));
        let u = o.usage.expect("usage");
        assert_eq!(
            (u.input_tokens, u.cached_input_tokens, u.output_tokens),
            (101, 90, 6)
        );
        assert_eq!(u.cost_usd, Some(0.25));
        assert_eq!(o.needs_input, ["permission denied: Bash(rm -rf /)"]);
    }

    #[test]
    fn is_error_fails_even_with_subtype_success() {
        let o = read(&[
            r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 500","session_id":"s"}"#,
        ]);
        assert!(o.failed() && !o.completed);
        assert_eq!(o.failures, ["result: success: API Error: 500"]);
        let o = read(&[
            r#"{"type":"result","subtype":"error_max_budget_usd","is_error":true,"total_cost_usd":5.1,"session_id":"s"}"#,
        ]);
        assert_eq!(o.failures, ["result: error_max_budget_usd"]);
    }
}
