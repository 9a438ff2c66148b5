//! `config.yaml`: every key optional, unknown keys rejected, per-code
//! severity. The Rust types are the source of `schema/config.json`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::source::Span;

pub const DEFAULT_SKILLS: &[&str] = &[
    "development-implementer",
    "qa-test-engineer",
    "technical-writer",
    "debug-troubleshooter",
    "requirements-analyst",
    "solution-architect",
    "release-devops",
];

/// The codex preset's argv (the default command): JSONL events, edits
/// allowed in the working folder (`--sandbox workspace-write`, never the
/// dangerous bypass), the final message to a file and held to the
/// completion report's schema.
pub const CODEX_COMMAND: &[&str] = &[
    "codex",
    "exec",
    "--json",
    "--sandbox",
    "workspace-write",
    "--cd",
    "{repo}",
    "--output-last-message",
    "{last_message}",
    "--output-schema",
    "{schema}",
    "{prompt}",
];

/// The claude preset's argv: headless, the stream-json events (which need
/// `--verbose`), edits in the working folder accepted without asking
/// (`acceptEdits`, never `bypassPermissions`), the final answer held to the
/// completion report's schema. Dispatch adds `--allowedTools` for the card's
/// commands and checks, and `--max-budget-usd` for a USD budget.
pub const CLAUDE_COMMAND: &[&str] = &[
    "claude",
    "-p",
    "{prompt}",
    "--output-format",
    "stream-json",
    "--verbose",
    "--permission-mode",
    "acceptEdits",
    "--json-schema",
    "{schema_json}",
];

/// The gemini preset's argv: headless, the stream-json events, edits
/// approved (`auto_edit`, never `yolo`) in the working folder, trusted for
/// this session only (an untrusted folder forces the approval mode back to
/// `default`, which cannot edit headless).
pub const GEMINI_COMMAND: &[&str] = &[
    "gemini",
    "--output-format",
    "stream-json",
    "--approval-mode",
    "auto_edit",
    "--skip-trust",
    "-p",
    "{prompt}",
];

/// The default command: the codex preset.
pub const DEFAULT_COMMAND: &[&str] = CODEX_COMMAND;

/// The orchestrator's configuration (`.orchestrator/config.yaml`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Owner skills tasks may name.
    pub skills: Vec<String>,
    /// How `orch dispatch` runs an agent.
    pub agent: AgentConfig,
    /// Documentation alignment settings (`orch align-docs`).
    pub align: AlignConfig,
    /// Claims across machines (`refs/orch/claims/<ID>`).
    pub claims: ClaimsConfig,
    /// Severity per rule code: `error`, `warning` or `off`.
    #[schemars(with = "BTreeMap<String, Level>")]
    pub rules: BTreeMap<SpannedKey, Level>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            skills: DEFAULT_SKILLS.iter().map(|s| s.to_string()).collect(),
            agent: AgentConfig::default(),
            align: AlignConfig::default(),
            claims: ClaimsConfig::default(),
            rules: BTreeMap::new(),
        }
    }
}

impl Config {
    /// The configured level for a rule code, if any.
    pub fn level(&self, code: &str) -> Option<Level> {
        self.rules
            .iter()
            .find(|(k, _)| k.value == code)
            .map(|(_, l)| *l)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Off,
}

/// A map key that remembers where it was written (for "unknown rule code").
#[derive(Clone, Debug)]
pub struct SpannedKey {
    pub value: String,
    pub span: Span,
}

impl PartialEq for SpannedKey {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl Eq for SpannedKey {}
impl PartialOrd for SpannedKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SpannedKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<'de> Deserialize<'de> for SpannedKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<String>::deserialize(d)?;
        let sp = s.referenced.span();
        let start = sp.byte_offset().unwrap_or(0) as usize;
        let len = sp.byte_len().unwrap_or(0) as usize;
        Ok(SpannedKey {
            value: s.value,
            span: Span::new(start, start + len),
        })
    }
}

/// The placeholders `agent.command` fills, and what each becomes.
pub const COMMAND_PLACEHOLDERS: &[(&str, &str)] = &[
    ("repo", "the folder the agent works in, as an absolute path"),
    ("task", "the task ID"),
    (
        "skill",
        "the task's owner skill (the card's Skill, else the backlog's)",
    ),
    (
        "prompt",
        "the prompt, `agent.prompt` filled in, as one argument",
    ),
    ("card", "the card's path, relative to the work tree"),
    (
        "last_message",
        "a file under `runs/` for the agent's final message",
    ),
    ("schema", "the completion report's JSON Schema, as a file"),
    (
        "schema_json",
        "the completion report's JSON Schema, as text",
    ),
];

/// The placeholders `agent.prompt` fills, and what each becomes.
pub const PROMPT_PLACEHOLDERS: &[(&str, &str)] = &[
    (
        "skill",
        "the task's owner skill (the card's Skill, else the backlog's)",
    ),
    ("task", "the task ID"),
    (
        "goal",
        "the card's Goal (else the backlog's Objective), as a sentence",
    ),
    (
        "criteria",
        "the card's Completion criteria (else the backlog's Done Criteria), as a sentence",
    ),
    ("card", "the card's path, relative to the work tree"),
    (
        "brief",
        "the whole card (scope, commands, checks, evidence, criteria, governing docs) and the completion report",
    ),
];

/// The `{name}` placeholders of `template` that are not in `known`, each
/// with the byte offset of its `{`. A name is letters, digits, `_` and `-`;
/// braces around anything else (`{"a": 1}`) are text.
pub fn unknown_placeholders(template: &str, known: &[(&str, &str)]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let bytes = template.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            let name_len = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
                .count();
            if name_len > 0 && bytes.get(i + 1 + name_len) == Some(&b'}') {
                let name = &template[i + 1..i + 1 + name_len];
                if !known.iter().any(|(k, _)| *k == name) {
                    out.push((name.to_string(), i));
                }
                i += name_len + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

impl Config {
    /// What the config holds that parses but cannot work: placeholders the
    /// agent's command or prompt do not fill. `text` is the config file,
    /// for the spans.
    pub fn problems(&self, text: &str) -> Vec<ConfigError> {
        let mut out = Vec::new();
        let mut check = |key: &str, template: &str, known: &[(&str, &str)]| {
            let from = text.find(&format!("{key}:")).unwrap_or(0);
            for (name, _) in unknown_placeholders(template, known) {
                let needle = format!("{{{name}}}");
                let span = text[from..].find(&needle).map_or(Span::empty(from), |i| {
                    Span::new(from + i, from + i + needle.len())
                });
                let names: Vec<String> = known.iter().map(|(k, _)| format!("`{{{k}}}`")).collect();
                let help = match crate::util::nearest(&name, known.iter().map(|(k, _)| *k)) {
                    Some(n) => format!(
                        "rename it to `{{{n}}}`; `agent.{key}` takes {}",
                        names.join(", ")
                    ),
                    None => format!(
                        "use one of {} (docs/dispatch.md says what each becomes), or write the brace as text with a space (`{{ {name} }}`)",
                        names.join(", ")
                    ),
                };
                out.push(ConfigError {
                    message: format!(
                        "`agent.{key}` has the placeholder `{needle}`, which orch does not fill: the agent would get it as text"
                    ),
                    span,
                    help: Some(help),
                });
            }
        };
        if let Some(prompt) = &self.agent.prompt {
            check("prompt", prompt, PROMPT_PLACEHOLDERS);
        }
        for arg in &self.agent.command {
            check("command", arg, COMMAND_PLACEHOLDERS);
        }
        out
    }
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// The agent's argv (default: the preset's). Placeholders: `{repo}`
    /// (the folder the agent works in), `{task}`, `{skill}`, `{prompt}`,
    /// `{card}`, `{last_message}`, `{schema}` (the completion report's JSON
    /// Schema, a file), `{schema_json}` (the same, as text); any other
    /// `{name}` is a `config-invalid` error (docs/dispatch.md).
    pub command: Vec<String>,
    /// `codex`, `claude` or `gemini`: that agent's working default command
    /// and adapter (default: `codex`).
    pub preset: Option<Preset>,
    /// How to read a run: `codex`, `claude` or `gemini` (their event
    /// streams) or `generic` (exit code and evidence patterns). Default: the
    /// preset's, else the one named like the program.
    pub adapter: Option<Adapter>,
    /// Kill an agent that runs longer than this (`90s`, `30m`, `2h`).
    pub timeout: Option<DurationText>,
    /// Kill an agent that prints nothing for this long.
    pub idle_timeout: Option<DurationText>,
    /// Agents run at once.
    pub jobs: Option<u32>,
    /// Regular expressions; matching log lines are evidence.
    pub evidence: Vec<String>,
    /// The prompt template; `{skill}`, `{task}`, `{goal}`, `{criteria}`,
    /// `{card}`, `{brief}` (the whole card: scope, commands, checks,
    /// evidence, criteria, governing docs, the completion report); any other
    /// `{name}` is a `config-invalid` error (docs/dispatch.md).
    pub prompt: Option<String>,
    /// A task's most tokens or US dollars (a card's front matter `budget:`
    /// overrides it): passed to the agent where it has a flag, and enforced
    /// by orch where the agent reports usage.
    pub budget: Option<Budget>,
    /// Where each task's agent works: `worktree` (the default), on its own
    /// branch `orch/<ID>` in its own linked worktree, judged exactly from
    /// the branch; `none`, every agent of a run in the shared work tree.
    /// `orch dispatch --isolate` overrides it.
    pub isolate: Option<Isolate>,
    /// Task branches and worktrees (`orch integrate`, `orch clean`): branch
    /// names, the environment of each worktree.
    pub worktree: WorktreeConfig,
}

/// Where a dispatched task's agent works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Isolate {
    /// A branch `orch/<ID>` and a linked worktree per task.
    Worktree,
    /// The shared work tree.
    None,
}

/// How isolated runs set up each task's branch and worktree.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WorktreeConfig {
    /// Branch names are this prefix and the task's ID (`orch/P1-UI-01`).
    pub branch_prefix: String,
    /// Paths (relative to the work tree's top) copied into each worktree:
    /// untracked files the agent needs, such as `.env`.
    pub copy: Vec<String>,
    /// Paths symlinked into each worktree, such as `node_modules` or a
    /// build cache.
    pub link: Vec<String>,
    /// A command (argv, no shell) run in the worktree before the agent;
    /// its output goes to `logs/<ID>.setup.log`.
    pub setup: Vec<String>,
    /// Kill the setup command after this long (default 10m).
    pub setup_timeout: Option<DurationText>,
}

impl Default for WorktreeConfig {
    fn default() -> WorktreeConfig {
        WorktreeConfig {
            branch_prefix: "orch/".into(),
            copy: Vec::new(),
            link: Vec::new(),
            setup: Vec::new(),
            setup_timeout: None,
        }
    }
}

impl AgentConfig {
    /// The argv template: `command`, else the preset's.
    pub fn command(&self) -> Vec<String> {
        if !self.command.is_empty() {
            return self.command.clone();
        }
        self.preset
            .unwrap_or(Preset::Codex)
            .command()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

/// An agent whose working default command orch knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Codex,
    Claude,
    Gemini,
}

impl Preset {
    pub fn command(self) -> &'static [&'static str] {
        match self {
            Preset::Codex => CODEX_COMMAND,
            Preset::Claude => CLAUDE_COMMAND,
            Preset::Gemini => GEMINI_COMMAND,
        }
    }

    pub fn adapter(self) -> Adapter {
        match self {
            Preset::Codex => Adapter::Codex,
            Preset::Claude => Adapter::Claude,
            Preset::Gemini => Adapter::Gemini,
        }
    }
}

/// A task's budget: tokens (input plus output), US dollars, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Most input plus output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// Most US dollars (where the agent reports a cost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd: Option<f64>,
}

impl Budget {
    /// What a usage exceeds, in words; `None` within budget.
    pub fn exceeded(&self, tokens: u64, cost_usd: Option<f64>) -> Option<String> {
        if let Some(max) = self.tokens
            && tokens > max
        {
            return Some(format!("{tokens} tokens used, budget {max}"));
        }
        if let (Some(max), Some(cost)) = (self.usd, cost_usd)
            && cost > max
        {
            return Some(format!("${cost:.4} spent, budget ${max}"));
        }
        None
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_none() && self.usd.is_none()
    }

    /// A card's front-matter `budget: {tokens: N, usd: X}`, or what is
    /// wrong with it.
    pub fn from_front(value: &crate::parse::yaml::Value) -> Result<Budget, String> {
        use crate::parse::yaml::Value;
        let Value::Map(entries) = value else {
            return Err(format!(
                "`budget` must be a mapping (`{{tokens: 200000, usd: 2.5}}`), not {}",
                value.type_name()
            ));
        };
        let mut budget = Budget::default();
        for (k, v) in entries {
            let key = k.value.as_scalar().unwrap_or_default();
            let text = v.value.as_scalar().unwrap_or_default();
            let text = text.trim();
            match key.trim() {
                "tokens" => {
                    budget.tokens = Some(text.parse().map_err(|_| {
                        format!("budget `tokens: {text}` is not a whole number of tokens")
                    })?)
                }
                "usd" => {
                    budget.usd = Some(
                        text.parse::<f64>()
                            .ok()
                            .filter(|u| u.is_finite() && *u > 0.0)
                            .ok_or_else(|| {
                                format!(
                                    "budget `usd: {text}` is not a positive amount of US dollars"
                                )
                            })?,
                    )
                }
                other => {
                    return Err(format!(
                        "budget has `{other}`; its keys are `tokens` and `usd`"
                    ));
                }
            }
        }
        Ok(budget)
    }
}

/// The most memory one compiled evidence pattern may take (its NFA), for
/// dispatch and for the lint that checks it alike: a pattern like
/// `(a{1000}){1000}` is refused, not built.
pub const EVIDENCE_SIZE_LIMIT: usize = 1 << 20;

/// Compile one `agent.evidence` pattern as harvest uses it (ASCII classes;
/// `(?i)` works), within [`EVIDENCE_SIZE_LIMIT`].
pub fn compile_evidence(pattern: &str) -> Result<regex_automata::meta::Regex, String> {
    regex_automata::meta::Regex::builder()
        .configure(
            regex_automata::meta::Config::new()
                .nfa_size_limit(Some(EVIDENCE_SIZE_LIMIT))
                .onepass_size_limit(Some(EVIDENCE_SIZE_LIMIT))
                .dfa_size_limit(Some(EVIDENCE_SIZE_LIMIT))
                .dfa_state_limit(Some(10_000)),
        )
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        )
        .build(pattern)
        .map_err(|e| format!("agent.evidence pattern `{pattern}` does not compile: {e}"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Adapter {
    Codex,
    Claude,
    Gemini,
    Generic,
}

/// Claims across machines: where a claim is pushed when it is taken.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ClaimsConfig {
    /// The git remote claims are pushed to (created there only if absent)
    /// and deleted from: `origin`, say. Default: none (claims stay in this
    /// repository). The variable `ORCH_CLAIMS_REMOTE` overrides it (empty:
    /// none).
    pub remote: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AlignConfig {
    /// Globs of product docs whose links and snippets are checked.
    pub product_docs: PathList,
    /// Governing documents and the paths each protects.
    pub governing: Vec<Governing>,
    /// Code paths whose changes must come with changes to their docs.
    pub couple: Vec<Couple>,
    /// Paths whose changes alter deployment behaviour.
    pub deployment_paths: PathList,
    /// The release notes: one file or glob, or a list of them.
    pub release_notes: PathList,
    /// The rollback notes: one file or glob, or a list (default: none).
    pub rollback_notes: PathList,
}

impl Default for AlignConfig {
    fn default() -> AlignConfig {
        AlignConfig {
            product_docs: PathList(vec!["README.md".into(), "docs/**".into()]),
            governing: Vec::new(),
            couple: Vec::new(),
            deployment_paths: PathList::default(),
            release_notes: PathList(vec!["CHANGELOG.md".into()]),
            rollback_notes: PathList::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Governing {
    pub doc: String,
    pub paths: PathList,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Couple {
    pub code: PathList,
    pub docs: PathList,
}

/// Paths or globs, written as one (`release_notes: CHANGELOG.md`) or as a
/// list (`release_notes: [CHANGELOG.md, docs/releases/**]`): every key of
/// the config that holds paths takes both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathList(pub Vec<String>);

/// One path or glob, or a list of them.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only its schema is used
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl JsonSchema for PathList {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PathList".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        OneOrMany::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for PathList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = PathList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path or glob, or a list of them")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PathList, E> {
                Ok(PathList(vec![v.to_string()]))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<PathList, E> {
                Ok(PathList::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<PathList, E> {
                Ok(PathList::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<PathList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(PathList(out))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl serde::Serialize for PathList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl std::ops::Deref for PathList {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a PathList {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A duration written `90s`, `30m` or `2h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(with = "String")]
pub struct DurationText(pub Duration);

impl DurationText {
    pub fn parse(text: &str) -> Result<DurationText, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("`{text}` is not a duration; write it as `90s`, `30m` or `2h`"))?;
        let secs = match unit {
            "s" => Some(n),
            "m" => n.checked_mul(60),
            "h" => n.checked_mul(3600),
            _ => None,
        }
        .ok_or_else(|| format!("`{text}` is not a duration; write it as `90s`, `30m` or `2h`"))?;
        // Capped, so that no deadline computed from it can overflow.
        if secs == 0 || secs > DurationText::MAX_SECS {
            return Err(format!(
                "`{text}` is out of range: a duration is from 1s to {}h",
                DurationText::MAX_SECS / 3600
            ));
        }
        Ok(DurationText(Duration::from_secs(secs)))
    }

    /// The longest duration: one week.
    pub const MAX_SECS: u64 = 7 * 24 * 3600;
}

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        if s.is_multiple_of(3600) && s > 0 {
            write!(f, "{}h", s / 3600)
        } else if s.is_multiple_of(60) && s > 0 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DurationText::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A config problem: message and span in `config.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
    pub span: Span,
    /// The fix, when the message alone does not say it.
    pub help: Option<String>,
}

/// Parse `config.yaml`. An empty file is the default config.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let base = text.len() - body.len();
    if body
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Config::default());
    }
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_str_with_options::<Config>(body, options).map_err(|e| {
        let span = e
            .location()
            .and_then(|l| {
                let s = l.span();
                let o = s.byte_offset()? as usize;
                Some(Span::new(o, o + s.byte_len()? as usize))
            })
            .unwrap_or_default();
        let message = e.to_string();
        let message = message.lines().next().unwrap_or("invalid config").trim();
        let message = match message.rfind(" at line ") {
            Some(i) if i > 0 => &message[..i],
            _ => message,
        };
        ConfigError {
            message: message.to_string(),
            span: span.shift(base),
            help: None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c = parse("").expect("empty is default");
        assert_eq!(c.skills.len(), 7);
        let c = parse("rules:\n  field-unknown: off\nagent:\n  timeout: 30m\n").expect("parses");
        assert_eq!(c.level("field-unknown"), Some(Level::Off));
        assert_eq!(
            c.agent.timeout,
            Some(DurationText(Duration::from_secs(1800)))
        );
        assert_eq!(c.skills.len(), 7);
    }

    #[test]
    fn unknown_keys_and_bad_durations_point_at_the_text() {
        let src = "skils: [a]\n";
        let e = parse(src).expect_err("unknown key");
        assert!(e.message.contains("skils"), "{}", e.message);
        let src = "agent:\n  timeout: soon\n";
        let e = parse(src).expect_err("bad duration");
        assert!(e.message.contains("90s"), "{}", e.message);
        assert!(e.span.start >= 7, "{:?}", e.span);
    }

    #[test]
    fn path_lists_take_one_or_many() {
        let c = parse("align:\n  release_notes: docs/CHANGES.md\n  rollback_notes: [docs/rollback.md, ops/**]\n  product_docs: README.md\n").expect("parses");
        assert_eq!(c.align.release_notes.0, ["docs/CHANGES.md"]);
        assert_eq!(c.align.rollback_notes.0, ["docs/rollback.md", "ops/**"]);
        assert_eq!(c.align.product_docs.0, ["README.md"]);
        let c = parse("align:\n  governing:\n    - doc: docs/adr/1.md\n      paths: src/sync/**\n  couple:\n    - code: src/cli/**\n      docs: [README.md]\n").expect("parses");
        assert_eq!(c.align.governing[0].paths.0, ["src/sync/**"]);
        assert_eq!(c.align.couple[0].code.0, ["src/cli/**"]);
        assert!(parse("align:\n  release_notes: {a: b}\n").is_err());
    }

    #[test]
    fn unknown_placeholders_are_problems_at_their_text() {
        let text = "agent:\n  prompt: \"Do {task}: {gaol}. JSON {\\\"a\\\": 1}\"\n  command: [codex, exec, \"{repos}\", \"{prompt}\"]\n";
        let c = parse(text).expect("parses");
        let problems = c.problems(text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].message.contains("`{gaol}`"),
            "{}",
            problems[0].message
        );
        assert!(
            problems[0]
                .help
                .as_deref()
                .is_some_and(|h| h.starts_with("rename it to `{goal}`")),
            "{:?}",
            problems[0].help
        );
        assert_eq!(
            &text[problems[0].span.start..problems[0].span.end],
            "{gaol}"
        );
        assert_eq!(
            &text[problems[1].span.start..problems[1].span.end],
            "{repos}"
        );
        assert!(Config::default().problems("").is_empty());
        assert!(unknown_placeholders(crate::agent::DEFAULT_PROMPT, PROMPT_PLACEHOLDERS).is_empty());
        for arg in DEFAULT_COMMAND {
            assert!(
                unknown_placeholders(arg, COMMAND_PLACEHOLDERS).is_empty(),
                "{arg}"
            );
        }
    }

    #[test]
    fn every_placeholder_is_documented() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dispatch.md"))
            .expect("docs/dispatch.md");
        for (name, _) in COMMAND_PLACEHOLDERS.iter().chain(PROMPT_PLACEHOLDERS) {
            assert!(
                doc.contains(&format!("`{{{name}}}`")),
                "docs/dispatch.md does not document `{{{name}}}`"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(DurationText::parse("90s").map(|d| d.0.as_secs()), Ok(90));
        assert_eq!(
            DurationText::parse("2h").map(|d| d.to_string()),
            Ok("2h".into())
        );
        assert!(DurationText::parse("5").is_err());
        assert!(DurationText::parse("0s").is_err());
        assert!(DurationText::parse("168h").is_ok());
        assert!(DurationText::parse("169h").is_err());
        assert!(DurationText::parse("18446744073709551615s").is_err());
        assert!(DurationText::parse("99999999999999999999h").is_err());
    }
}
