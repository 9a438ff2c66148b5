//! The seed's templates as data: which headings, fields, columns and
//! front-matter keys each kind requires. Rules and `orch new` read these
//! tables; nothing else spells a template field.

use super::status::Kind;

/// Front-matter keys each kind defines, and which are required.
pub fn front_keys(kind: Kind) -> &'static [(&'static str, bool)] {
    match kind {
        Kind::Plan => &[
            ("kind", true),
            ("id", true),
            ("title", true),
            ("status", true),
        ],
        Kind::Ticket => &[("kind", true), ("id", true), ("status", true)],
        Kind::Card => &[
            ("kind", true),
            ("id", true),
            ("group", false),
            ("budget", false),
        ],
        Kind::Ledger => &[("kind", true), ("plan", true)],
        Kind::Sheet => &[("kind", true), ("group", true), ("tasks", true)],
    }
}

pub const GOAL_HEADING: &str = "Program Goal";
pub const GOAL_FIELDS: &[&str] = &["Goal", "Scope", "Non-goals"];
pub const PHASE_TREE_HEADING: &str = "Phase Tree";
pub const PHASE_FIELDS: &[&str] = &["Outcome", "Workstreams"];
pub const WORKSTREAMS: &[&str] = &["UI", "Core", "Infrastructure", "Test", "Docs"];
pub const BACKLOG_HEADING: &str = "Branch Backlog";
pub const BACKLOG_COLUMNS: &[&str] = &[
    "Branch ID",
    "Objective",
    "Owner Skill",
    "Dependencies",
    "Done Criteria",
];

pub const TICKET_HEADING: &str = "Dispatch Ticket";
pub const TICKET_FIELDS: &[&str] = &[
    "Objective",
    "Owner Skill",
    "Inputs",
    "Commands/Checks",
    "Expected Artifacts",
    "Risks",
    "Exit Criteria",
];

pub const CARD_HEADING: &str = "Codex Execution Card";
pub const CARD_FIELDS: &[&str] = &[
    "Skill",
    "Goal",
    "Allowed Scope",
    "Commands to run",
    "Tests/checks to run",
    "Evidence to capture",
    "Completion criteria",
];
pub const SCOPE_FIELDS: &[&str] = &["Files/paths", "Prohibited areas"];

pub const LEDGER_HEADING: &str = "Evidence Ledger";
pub const LEDGER_COLUMNS: &[&str] = &[
    "Task ID",
    "Owner Skill",
    "Evidence",
    "Result",
    "Next Action",
];
pub const UNVERIFIED_HEADING: &str = "Unverified Items";
pub const UNVERIFIED_COLUMNS: &[&str] = &["Item", "Risk", "Owner"];

pub const SHEET_SECTIONS: &[&str] = &["Commands", "Harvest"];

/// Labels and headings compare case-insensitively, ignoring surrounding
/// space and a trailing colon.
pub fn same_label(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches(':').trim().to_ascii_lowercase();
    norm(a) == norm(b)
}

/// A value that is only a placeholder: `<...>`, TBD, TODO, `?`, `...`.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    let upper = v.to_ascii_uppercase();
    (v.starts_with('<') && v.ends_with('>') && !v.contains("</"))
        || matches!(
            upper.as_str(),
            "TBD" | "TODO" | "?" | "??" | "???" | "..." | "…" | "FIXME" | "XXX"
        )
}

/// A value that explicitly says "nothing": `-`, `—`, `none`, `n/a`.
pub fn is_none_marker(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "-" | "—" | "–" | "none" | "n/a" | "na"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in ["", "  ", "<name>", "TBD", "todo", "?", "..."] {
            assert!(is_placeholder(p), "{p:?}");
        }
        for v in ["ship it", "<b>bold</b> text", "none", "-"] {
            assert!(!is_placeholder(v), "{v:?}");
        }
    }
}
