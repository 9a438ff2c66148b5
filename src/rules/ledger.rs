//! Ledger rules: unverified items carry a risk and an owner.

use crate::diagnostic::Diagnostic;
use crate::model::templates::is_placeholder;

use super::{Context, rule};

rule!(
    UnverifiedIncomplete,
    "unverified-incomplete",
    Error,
    "an unverified item lacks risk or owner",
    r#"## What it does
Reports a row of the ledger's `## Unverified Items` table whose Item, Risk
or Owner cell is empty or a placeholder.

## Why it matters
The playbook's last checklist line: unverified items are listed with risk
and owner. An item with no owner is a risk no one will close.

## Example
```markdown
| Offline edits on Safari not tested | high: data loss on reconnect |  |
                                                          no owner ^^
```
"#,
    check_unverified_incomplete
);

fn check_unverified_incomplete(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for row in &cx.index.unverified {
        for (cell, name) in [
            (&row.item, "Item"),
            (&row.risk, "Risk"),
            (&row.owner, "Owner"),
        ] {
            if is_placeholder(&cell.value) {
                let what = if row.item.value.trim().is_empty() {
                    "an unverified item".to_string()
                } else {
                    format!("the unverified item `{}`", row.item.value.trim())
                };
                out.push(
                    Diagnostic::new("", row.file, cell.span, format!("{what} has no {}", name.to_lowercase()))
                        .help(match name {
                            "Risk" => "say what could go wrong and how bad it is (e.g. `high: data loss on reconnect`)",
                            "Owner" => "name who will verify it: a person or a skill",
                            _ => "describe what was not verified",
                        }),
                );
            }
        }
    }
}
