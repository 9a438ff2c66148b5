//! JSON Schemas for each kind's front matter and for `config.yaml`,
//! generated from Rust types. `schema/*.json` are these, checked in; a test
//! fails when they are stale (`ORCH_UPDATE_SCHEMA=1 cargo test` rewrites).

use schemars::{JsonSchema, schema_for};

use crate::config::Config;
use crate::model::{Kind, PlanStatus, TaskStatus};

/// The names `orch schema` accepts, in order.
pub const NAMES: &[&str] = &["plan", "ticket", "card", "ledger", "sheet", "config"];

/// Front matter of the Master Plan (`kind: plan`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Plan {
    /// Always `plan`.
    #[schemars(with = "PlanKind")]
    kind: (),
    /// The program's ID.
    id: Id,
    /// The program's name.
    title: String,
    status: PlanStatus,
}

/// Front matter of a Dispatch Ticket (`kind: ticket`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Ticket {
    /// Always `ticket`.
    #[schemars(with = "TicketKind")]
    kind: (),
    /// The task's Branch ID in the plan's backlog; the file is `tickets/<id>.md`.
    id: Id,
    status: TaskStatus,
}

/// Front matter of a Codex Execution Card (`kind: card`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Card {
    /// Always `card`.
    #[schemars(with = "CardKind")]
    kind: (),
    /// The task's Branch ID; the file is `cards/<id>.md`.
    id: Id,
    /// The parallel group the card is dispatched in (e.g. `G1`).
    #[serde(default)]
    group: Option<Id>,
    /// The task's budget, over config `agent.budget`: tokens (input plus
    /// output) and US dollars.
    #[serde(default)]
    budget: Option<crate::config::Budget>,
}

/// Front matter of the Evidence Ledger (`kind: ledger`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Ledger {
    /// Always `ledger`.
    #[schemars(with = "LedgerKind")]
    kind: (),
    /// The plan's `id`.
    plan: String,
}

/// Front matter of a Parallel Dispatch Command Sheet (`kind: sheet`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Sheet {
    /// Always `sheet`.
    #[schemars(with = "SheetKind")]
    kind: (),
    /// The group's name; the file is `sheets/<group>.md`.
    group: Id,
    /// The tasks dispatched together.
    tasks: Vec<Id>,
}

/// An ID: letters, digits, `.`, `_`, `-`, starting with a letter or digit,
/// never `..`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Id(#[schemars(pattern(r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]*$"))] String);

macro_rules! kind_const {
    ($name:ident, $value:literal) => {
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        enum $name {
            #[serde(rename = $value)]
            Value,
        }
    };
}
kind_const!(PlanKind, "plan");
kind_const!(TicketKind, "ticket");
kind_const!(CardKind, "card");
kind_const!(LedgerKind, "ledger");
kind_const!(SheetKind, "sheet");

/// The schema for `name` as pretty JSON with a trailing newline.
pub fn schema(name: &str) -> Option<String> {
    let schema = match name {
        "plan" => schema_for!(Plan),
        "ticket" => schema_for!(Ticket),
        "card" => schema_for!(Card),
        "ledger" => schema_for!(Ledger),
        "sheet" => schema_for!(Sheet),
        "config" => schema_for!(Config),
        _ => return None,
    };
    let mut text = serde_json::to_string_pretty(&schema).ok()?;
    text.push('\n');
    Some(text)
}

/// The property names a kind's schema defines.
pub fn properties(kind: Kind) -> Vec<String> {
    let text = schema(kind.as_str()).unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    value["properties"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::templates::front_keys;

    #[test]
    fn schemas_define_the_keys_the_model_reads() {
        for kind in Kind::ALL {
            let mut from_schema = properties(*kind);
            from_schema.sort();
            let mut from_model: Vec<String> = front_keys(*kind)
                .iter()
                .map(|(k, _)| k.to_string())
                .collect();
            from_model.sort();
            assert_eq!(from_schema, from_model, "{kind}");
        }
    }

    #[test]
    fn checked_in_schemas_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
        let update = std::env::var_os("ORCH_UPDATE_SCHEMA").is_some();
        for name in NAMES {
            let want = schema(name).expect("every name has a schema");
            let path = dir.join(format!("{name}.json"));
            if update {
                std::fs::create_dir_all(&dir).expect("create schema/");
                std::fs::write(&path, &want).expect("write schema");
                continue;
            }
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                have == want,
                "schema/{name}.json is stale: run `ORCH_UPDATE_SCHEMA=1 cargo test schema`"
            );
        }
    }
}
