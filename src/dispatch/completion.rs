//! The completion report: the JSON Schema orch hands every agent for its
//! final answer (the ledger's own shape: result, evidence, the checks it
//! ran, what it could not verify, the next action), written once per run
//! as `runs/<RUN>/completion.schema.json`, and the reading of an answer
//! against it. The schema follows the strict rules codex (`--output-schema`)
//! and Claude Code (`--json-schema`) apply to structured output: every
//! property required, `additionalProperties: false`, no optional keys.
//!
//! Validation runs the schema itself (the keywords it uses: `type`,
//! `enum`, `properties`, `required`, `additionalProperties`, `items`), so
//! what the agent was given is exactly what its answer is held to.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::Outcome;

/// The schema for a run whose tasks are `ids`.
pub fn schema(ids: &[&str]) -> Value {
    let string = |d: &str| json!({"type": "string", "description": d});
    let object = |props: Value| {
        let required: Vec<String> = props
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": props,
        })
    };
    object(json!({
        "task": {"type": "string", "enum": ids, "description": "The task ID you executed."},
        "result": {
            "type": "string",
            "enum": ["pass", "partial", "fail"],
            "description": "pass: every completion criterion met and every check passing; partial: some of it; fail: none, or it broke something."
        },
        "evidence": {
            "type": "array",
            "items": string("One fact that shows the result: a test summary line, a file and what changed in it."),
            "description": "What shows the result, one item each."
        },
        "checks": {
            "type": "array",
            "description": "Each of the card's checks (and any other command you ran to verify): its command and outcome.",
            "items": object(json!({
                "command": string("The command, as you ran it."),
                "outcome": {"type": "string", "enum": ["pass", "fail", "not_run"]},
            })),
        },
        "unverified": {
            "type": "array",
            "description": "What you could not verify; none is an empty list.",
            "items": object(json!({
                "item": string("What is not verified."),
                "risk": string("How bad if it is wrong, then why: `high: data loss on reconnect`."),
                "owner": string("Who should verify it: a person or a skill."),
            })),
        },
        "next_action": string("What should happen next: `none` when nothing."),
    }))
}

/// The schema as the text written to the run's file and passed as
/// `{schema_json}`.
pub fn schema_text(ids: &[&str]) -> String {
    serde_json::to_string_pretty(&schema(ids)).unwrap_or_default()
}

/// A check the agent reports running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportedCheck {
    pub command: String,
    pub outcome: String,
}

/// Something the agent could not verify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportedItem {
    pub item: String,
    pub risk: String,
    pub owner: String,
}

/// The agent's completion report, once it matches the schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reported {
    pub task: String,
    pub result: Outcome,
    pub evidence: Vec<String>,
    pub checks: Vec<ReportedCheck>,
    pub unverified: Vec<ReportedItem>,
    pub next_action: String,
}

/// Where `value` breaks `schema`: one line per problem, with its JSON path.
pub fn violations(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, value, "$", &mut out);
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if out.len() >= 20 {
        return;
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let actual = type_name(value);
        let ok = actual == t || (t == "number" && actual == "integer");
        if !ok {
            out.push(format!("{at}: expected {t}, found {actual}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        let list: Vec<String> = options.iter().map(Value::to_string).collect();
        out.push(format!("{at}: {value} is not one of {}", list.join(", ")));
    }
    if let Value::Object(o) = value {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !o.contains_key(r) {
                out.push(format!("{at}: `{r}` is missing"));
            }
        }
        for (k, v) in o {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(s, v, &format!("{at}.{k}"), out),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    out.push(format!("{at}: `{k}` is not allowed"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(s, v, &format!("{at}[{i}]"), out);
        }
    }
}

/// The JSON object an agent's final text holds: the whole text, else the
/// last ```json block, else the last line that is a JSON object.
pub fn answer_in(text: &str) -> Option<Value> {
    let t = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    let mut found = None;
    let mut rest = t;
    while let Some(open) = rest.find("```json") {
        let body = &rest[open + "```json".len()..];
        let Some(close) = body.find("```") else { break };
        if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(body[..close].trim()) {
            found = Some(v);
        }
        rest = &body[close + 3..];
    }
    if found.is_some() {
        return found;
    }
    t.lines().rev().find_map(|l| {
        let l = l.trim();
        (l.starts_with('{') && l.ends_with('}'))
            .then(|| serde_json::from_str::<Value>(l).ok())
            .flatten()
            .filter(Value::is_object)
    })
}

/// Read an answer: `Ok` when it matches the schema for `ids`, else every
/// problem.
pub fn read(value: &Value, ids: &[&str]) -> Result<Reported, Vec<String>> {
    let problems = violations(&schema(ids), value);
    if !problems.is_empty() {
        return Err(problems);
    }
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let list = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    Ok(Reported {
        task: s(value, "task"),
        result: Outcome::parse(&s(value, "result")).unwrap_or(Outcome::Fail),
        evidence: list("evidence")
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect(),
        checks: list("checks")
            .iter()
            .map(|c| ReportedCheck {
                command: s(c, "command"),
                outcome: s(c, "outcome"),
            })
            .collect(),
        unverified: list("unverified")
            .iter()
            .map(|c| ReportedItem {
                item: s(c, "item"),
                risk: s(c, "risk"),
                owner: s(c, "owner"),
            })
            .collect(),
        next_action: s(value, "next_action"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strict structured-output rules codex and Claude apply: every
    /// object closes `additionalProperties` and requires every property;
    /// only the keywords they accept appear.
    fn strict(schema: &Value, at: &str, problems: &mut Vec<String>) {
        const KEYWORDS: &[&str] = &[
            "type",
            "enum",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "description",
        ];
        let Some(o) = schema.as_object() else {
            problems.push(format!("{at}: not an object"));
            return;
        };
        for k in o.keys() {
            if !KEYWORDS.contains(&k.as_str()) {
                problems.push(format!("{at}: keyword `{k}`"));
            }
        }
        match o.get("type").and_then(Value::as_str) {
            Some("object") => {
                if o.get("additionalProperties") != Some(&Value::Bool(false)) {
                    problems.push(format!("{at}: additionalProperties is not false"));
                }
                let props: Vec<&String> = o
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().collect())
                    .unwrap_or_default();
                let required: Vec<&str> = o
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for p in &props {
                    if !required.contains(&p.as_str()) {
                        problems.push(format!("{at}.{p}: not required"));
                    }
                }
                for (k, v) in o
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    strict(v, &format!("{at}.{k}"), problems);
                }
            }
            Some("array") => match o.get("items") {
                Some(items) => strict(items, &format!("{at}[]"), problems),
                None => problems.push(format!("{at}: array without items")),
            },
            Some("string" | "number" | "integer" | "boolean") => {}
            other => problems.push(format!("{at}: type {other:?}")),
        }
    }

    #[test]
    fn the_schema_meets_the_strict_structured_output_rules() {
        let s = schema(&["P1-A-01", "P1-B-01"]);
        let mut problems = Vec::new();
        strict(&s, "$", &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
        // The file is the same schema.
        let text: Value =
            serde_json::from_str(&schema_text(&["P1-A-01", "P1-B-01"])).expect("json");
        assert_eq!(text, s);
    }

    #[test]
    fn answers_are_held_to_the_schema() {
        let ok = json!({
            "task": "P1-A-01", "result": "pass", "evidence": ["cargo test: 3 passed"],
            "checks": [{"command": "cargo test", "outcome": "pass"}],
            "unverified": [{"item": "P1-A-01: Safari", "risk": "low: layout", "owner": "qa-test-engineer"}],
            "next_action": "none"
        });
        let r = read(&ok, &["P1-A-01"]).expect("valid");
        assert_eq!(r.result, Outcome::Pass);
        assert_eq!(r.checks[0].command, "cargo test");
        let bad = json!({"task": "P9", "result": "done", "evidence": "x", "extra": 1});
        let problems = read(&bad, &["P1-A-01"]).expect_err("invalid");
        for p in [
            "$.task: \"P9\" is not one of \"P1-A-01\"",
            "$.result: \"done\" is not one of",
            "$.evidence: expected array, found string",
            "$: `extra` is not allowed",
            "$: `checks` is missing",
        ] {
            assert!(
                problems.iter().any(|q| q.starts_with(p)),
                "{p} in {problems:#?}"
            );
        }
    }

    #[test]
    fn answers_are_found_in_final_text() {
        assert!(answer_in("{\"a\":1}").is_some());
        let fenced = "Done.\n```json\n{\"a\":1}\n```\nthanks";
        assert_eq!(answer_in(fenced), Some(json!({"a":1})));
        assert_eq!(answer_in("log\n{\"b\":2}\n"), Some(json!({"b":2})));
        assert_eq!(answer_in("no json here"), None);
    }
}
