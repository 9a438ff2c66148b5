//! One adapter per agent stream, each in its own file, all producing the
//! normalized [`Event`]s of [`super::event`]: [`codex`] (`codex exec
//! --json`), [`claude`] (Claude Code `-p --output-format stream-json
//! --verbose`), [`gemini`] (Gemini CLI `--output-format stream-json`) and
//! [`generic`] (no stream: exit code and evidence patterns). The adapter is
//! `agent.adapter`, else the preset's, else the one named like the program.
//! Each reads a parsed JSON object per stdout line (see [`super::stream`])
//! and ignores what it does not know: streams add event and item types.

pub mod claude;
pub mod codex;
pub mod gemini;
pub mod generic;

use serde_json::Value;

use super::event::Event;
pub use crate::config::Adapter as Kind;

/// An agent stream's reader.
pub trait Adapter: Send {
    /// One JSON object from stdout.
    fn event(&mut self, event: &Value, out: &mut Vec<Event>);
    /// The stream ended.
    fn finish(&mut self, _out: &mut Vec<Event>) {}
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Codex => "codex",
            Kind::Claude => "claude",
            Kind::Gemini => "gemini",
            Kind::Generic => "generic",
        }
    }

    /// The adapter named in a run file (`codex`, `generic`, ...).
    pub fn parse(name: &str) -> Option<Kind> {
        [Kind::Codex, Kind::Claude, Kind::Gemini, Kind::Generic]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// The adapter for a program, by its file name (`codex`, `claude`,
    /// `gemini`), else generic.
    pub fn for_program(argv0: &str) -> Kind {
        let name = std::path::Path::new(argv0)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        match name {
            "codex" => Kind::Codex,
            "claude" => Kind::Claude,
            "gemini" => Kind::Gemini,
            _ => Kind::Generic,
        }
    }

    /// Does the stream say when the agent's turn completed? Where it does,
    /// a run without a completed turn cannot pass.
    pub fn reports_completion(self) -> bool {
        !matches!(self, Kind::Generic)
    }

    /// A fresh reader of this stream; `None` for generic (no stream).
    pub fn reader(self) -> Option<Box<dyn Adapter>> {
        match self {
            Kind::Codex => Some(Box::new(codex::Codex::default())),
            Kind::Claude => Some(Box::new(claude::Claude::default())),
            Kind::Gemini => Some(Box::new(gemini::Gemini::default())),
            Kind::Generic => None,
        }
    }
}

/// A string field.
pub(crate) fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// An unsigned number field (a float or negative number reads as none).
pub(crate) fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// The message of an error value: a string, or an object's `message`
/// (or nested `error`).
pub(crate) fn message_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("message")
            .and_then(message_of)
            .or_else(|| o.get("error").and_then(message_of)),
        _ => None,
    }
}

/// `Exit code 2` / `Exit Code: 2` in a tool's output text, as the agents
/// that report no exit code field write it.
pub(crate) fn exit_code_in(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("exit code")?;
    let rest = lower[at + "exit code".len()..].trim_start_matches([':', ' ']);
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_program_and_name() {
        assert_eq!(Kind::for_program("/usr/local/bin/codex"), Kind::Codex);
        assert_eq!(Kind::for_program("claude"), Kind::Claude);
        assert_eq!(Kind::for_program("gemini"), Kind::Gemini);
        assert_eq!(Kind::for_program("agents/x.sh"), Kind::Generic);
        for k in [Kind::Codex, Kind::Claude, Kind::Gemini, Kind::Generic] {
            assert_eq!(Kind::parse(k.name()), Some(k));
        }
        assert!(Kind::Generic.reader().is_none());
    }

    #[test]
    fn exit_codes_in_text() {
        assert_eq!(exit_code_in("Exit code 101\nerror"), Some(101));
        assert_eq!(exit_code_in("Output: x\nExit Code: 2"), Some(2));
        assert_eq!(exit_code_in("fine"), None);
    }
}
