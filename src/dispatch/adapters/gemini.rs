//! Gemini CLI `gemini --output-format stream-json`: one event per line
//! (`init`, `message`, `tool_use`, `tool_result`, `error`, `result`, each
//! with a `timestamp`), as `packages/core/src/output/types.ts` defines
//! them. Assistant messages stream as deltas (`delta: true`) joined into
//! the final message. Edits are `write_file` and `replace` tool uses
//! (`parameters.file_path`), counted when their result is `success`;
//! commands are `run_shell_command` (the `Exit Code: N` its output
//! reports, else 1 for an error status and 0 otherwise); `ask_user` waits
//! on a person. An `error` event of severity `error` fails the run unless
//! the `result` says success; `result.status` ends it, with the token
//! figures of `stats` (`input_tokens`, its `cached` part, `output_tokens`;
//! Gemini reports no cost).

use std::collections::HashMap;

use serde_json::Value;

use super::{Adapter, exit_code_in, message_of, str_of, u64_of};
use crate::dispatch::event::{ChangeKind, Event, MAX_TEXT, Usage};

#[derive(Default)]
pub struct Gemini {
    pending: HashMap<String, (String, Value)>,
    /// The assistant message being streamed.
    text: String,
    /// The last message was a delta that the next delta extends.
    in_message: bool,
}

impl Adapter for Gemini {
    fn event(&mut self, v: &Value, out: &mut Vec<Event>) {
        match str_of(v, "type") {
            Some("init") => out.push(Event::Started {
                session: str_of(v, "session_id").map(str::to_string),
            }),
            Some("message") => {
                if str_of(v, "role") != Some("assistant") {
                    self.in_message = false;
                    return;
                }
                let content = str_of(v, "content").unwrap_or("");
                let delta = v.get("delta").and_then(Value::as_bool).unwrap_or(false);
                if !(delta && self.in_message) {
                    self.text.clear();
                }
                if self.text.len() + content.len() <= MAX_TEXT {
                    self.text.push_str(content);
                }
                self.in_message = delta;
                out.push(Event::Message {
                    text: self.text.clone(),
                });
            }
            Some("tool_use") => {
                self.in_message = false;
                let name = str_of(v, "tool_name").unwrap_or("").to_string();
                let params = v.get("parameters").cloned().unwrap_or(Value::Null);
                match name.as_str() {
                    "run_shell_command" => out.push(Event::Command {
                        command: str_of(&params, "command").unwrap_or("").to_string(),
                        exit_code: None,
                        done: false,
                    }),
                    "ask_user" => {
                        let q = params
                            .get("questions")
                            .and_then(Value::as_array)
                            .and_then(|qs| qs.first())
                            .and_then(|q| str_of(q, "question"))
                            .unwrap_or("Gemini asks a question");
                        out.push(Event::NeedsInput {
                            what: q.to_string(),
                        });
                    }
                    _ => {}
                }
                if let Some(id) = str_of(v, "tool_id") {
                    self.pending.insert(id.to_string(), (name, params));
                }
            }
            Some("tool_result") => {
                let Some((name, params)) =
                    str_of(v, "tool_id").and_then(|id| self.pending.remove(id))
                else {
                    return;
                };
                let ok = str_of(v, "status") == Some("success");
                match name.as_str() {
                    "run_shell_command" => {
                        let text = str_of(v, "output").unwrap_or("");
                        let code = exit_code_in(text).or(Some(if ok { 0 } else { 1 }));
                        out.push(Event::Command {
                            command: str_of(&params, "command").unwrap_or("").to_string(),
                            exit_code: code,
                            done: true,
                        });
                    }
                    "write_file" | "replace" if ok => {
                        if let Some(path) = str_of(&params, "file_path") {
                            out.push(Event::FileChanged {
                                path: path.to_string(),
                                kind: if name == "write_file" {
                                    ChangeKind::Add
                                } else {
                                    ChangeKind::Update
                                },
                            });
                        }
                    }
                    _ => {}
                }
            }
            Some("error") if str_of(v, "severity") != Some("warning") => {
                out.push(Event::Error {
                    message: format!("error: {}", str_of(v, "message").unwrap_or("")),
                });
            }
            Some("result") => {
                if let Some(s) = v.get("stats").filter(|s| s.is_object()) {
                    out.push(Event::Usage(Usage {
                        input_tokens: u64_of(s, "input_tokens").unwrap_or(0),
                        cached_input_tokens: u64_of(s, "cached").unwrap_or(0),
                        output_tokens: u64_of(s, "output_tokens").unwrap_or(0),
                        cost_usd: None,
                    }));
                }
                if str_of(v, "status") == Some("success") {
                    out.push(Event::Completed {
                        final_message: Some(self.text.clone()).filter(|t| !t.is_empty()),
                        structured: None,
                    });
                } else {
                    let detail = v.get("error").and_then(message_of).unwrap_or_default();
                    out.push(Event::Failed {
                        message: format!(
                            "result: {}",
                            if detail.is_empty() { "error" } else { &detail }
                        ),
                    });
                }
            }
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
        let mut s = Stream::new(Kind::Gemini.reader().expect("reader"));
        for l in lines {
            s.feed(format!("{l}\n").as_bytes(), &mut |_, _| {});
        }
        s.finish(&mut |_, _| {});
        s.observed
    }

    #[test]
    fn a_session_with_edits_a_shell_command_and_stats() {
        let o = read(&[
            r#"{"type":"init","timestamp":"t","session_id":"g-1","model":"gemini-2.5-pro"}"#,
            r#"{"type":"tool_use","timestamp":"t","tool_name":"write_file","tool_id":"w1","parameters":{"file_path":"src/a.rs","content":"x"}}"#,
            r#"{"type":"tool_result","timestamp":"t","tool_id":"w1","status":"success"}"#,
            r#"{"type":"tool_use","timestamp":"t","tool_name":"run_shell_command","tool_id":"s1","parameters":{"command":"cargo test"}}"#,
            r#"{"type":"tool_result","timestamp":"t","tool_id":"s1","status":"success","output":"ok"}"#,
            r#"{"type":"message","timestamp":"t","role":"assistant","content":"All ","delta":true}"#,
            r#"{"type":"message","timestamp":"t","role":"assistant","content":"done.","delta":true}"#,
            r#"{"type":"result","timestamp":"t","status":"success","stats":{"total_tokens":120,"input_tokens":100,"output_tokens":20,"cached":40,"input":60,"duration_ms":5,"tool_calls":2}}"#,
        ]);
        assert_eq!(o.session.as_deref(), Some("g-1"));
        assert_eq!(o.paths, ["src/a.rs"]);
        assert_eq!(o.commands[0].exit_code, Some(0));
        assert!(o.completed);
        assert_eq!(o.last_message.as_deref(), Some("All done."));
        let u = o.usage.expect("usage");
        assert_eq!(
            (u.input_tokens, u.cached_input_tokens, u.output_tokens),
            (100, 40, 20)
        );
    }

    #[test]
    fn an_error_result_fails() {
        let o = read(&[
            r#"{"type":"error","timestamp":"t","severity":"warning","message":"slow"}"#,
            r#"{"type":"result","timestamp":"t","status":"error","error":{"type":"x","message":"quota"}}"#,
        ]);
        assert!(o.failed());
        assert_eq!(o.failures, ["result: quota"]);
        assert!(o.errors.is_empty());
    }
}
