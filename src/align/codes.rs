//! The checklist's codes: their own small registry, apart from the lint
//! rules (`crate::rules::RULES`). `orch rules CODE` prints their docs too.

use crate::diagnostic::Severity;

/// The five lines of the playbook's Documentation Alignment Checklist, in
/// order.
pub const LINES: [&str; 5] = [
    "Governing docs constraints respected and traceable",
    "Product and implementation docs reflect implemented behaviour",
    "Test scope and outcomes recorded for each changed feature",
    "Release and rollback notes updated when deployment behaviour changes",
    "Unverified items listed with risk and owner",
];

/// One checklist code.
#[derive(Debug)]
pub struct AlignCode {
    pub code: &'static str,
    pub severity: Severity,
    /// Index into [`LINES`].
    pub line: usize,
    pub summary: &'static str,
    /// Markdown: `## What it does`, `## Why it matters`, `## Example`.
    pub docs: &'static str,
}

/// Every checklist code, in checklist order.
pub static CODES: &[AlignCode] = &[
    AlignCode {
        code: "governing-missing",
        severity: Severity::Error,
        line: 0,
        summary: "a governing doc named in config or plan does not exist at head",
        docs: r#"## What it does
Checks that every governing document named in `config.yaml`
(`align.governing[].doc`) or in the plan's `Governing docs` field exists at
the head revision.

## Why it matters
A constraint that cannot be read cannot be respected. A renamed or deleted
ADR silently drops every rule it set.

## Example
```yaml
align:
  governing:
    - doc: docs/adr/0007-sync-protocol.md   # deleted on this branch
      paths: [core/src/sync/**]
```
"#,
    },
    AlignCode {
        code: "governing-untraced",
        severity: Severity::Error,
        line: 0,
        summary: "a changed path a governing doc protects is not covered by a card citing it",
        docs: r#"## What it does
For each changed path that a governing doc protects (`align.governing:
[{doc, paths}]`), looks for a card whose scope holds the path and whose body
cites the doc (its path, as text, a code span or a link). Reports the card
that covers the path without citing the doc, or the path when no card
covers it.

## Why it matters
The first checklist line: governing constraints are respected *and
traceable*. The agent reads the card as its prompt; a card that never names
the ADR cannot have followed it.

## Example
```markdown
- Goal: Implement three-way merge    <- cite `docs/adr/0007-sync-protocol.md` here
```
"#,
    },
    AlignCode {
        code: "docs-broken-path",
        severity: Severity::Error,
        line: 1,
        summary: "a product doc's relative link, anchor, code-span path or snippet source does not resolve at head",
        docs: r#"## What it does
In every product doc (`align.product_docs`, default `README.md` and
`docs/**`), checks at the head revision that relative links and images
resolve to a file or folder, that `#anchors` name a heading (GitHub's slugs:
lowercase, punctuation dropped, spaces to `-`, repeats numbered `-1`, `-2`)
or an `id`/`name` attribute, that inline code spans that look like paths
(`src/sync/merge.rs`, whose first component exists) exist, and that snippet
blocks name an existing file, region and line range. A path renamed in the
range is named in the help.

## Why it matters
Docs that point at files which moved are the first sign they describe
something that no longer exists.

## Example
```markdown
See [the protocol](docs/adr/0007-sync.md#conflict-rules) and `core/src/sync/merge.rs`.
```
"#,
    },
    AlignCode {
        code: "docs-snippet-drift",
        severity: Severity::Error,
        line: 1,
        summary: "a snippet block tied to a source region differs from it",
        docs: r#"## What it does
A fenced code block whose info string carries `file=PATH` and either
`lines=A-B` or `region=NAME` is tied to that source region; a region is the
lines between `ANCHOR: NAME` and `ANCHOR_END: NAME` (mdBook's markers, in
any comment style), which survives edits that shift line numbers. The block
must equal the region (common indentation removed, nested anchor lines
dropped); otherwise the diagnostic shows a unified diff. `--fix` copies the
region into the block, changing nothing else.

## Why it matters
Copied code drifts silently; a reader runs the old version.

## Example
````markdown
```rust file=core/src/sync/merge.rs region=merge
pub fn merge(base: &str, ours: &str, theirs: &str) -> String {
```
````
"#,
    },
    AlignCode {
        code: "docs-not-updated",
        severity: Severity::Error,
        line: 1,
        summary: "a change under a coupled code path came without a change to its docs",
        docs: r#"## What it does
For each `align.couple: [{code, docs}]` entry, a change in the range under
a `code` glob must come with a change under one of its `docs` globs.

## Why it matters
The doc that describes a module is the one most likely to go stale when the
module changes.

## Example
```yaml
align:
  couple:
    - code: [core/src/sync/**]
      docs: [docs/sync.md]
```
"#,
    },
    AlignCode {
        code: "artifact-missing",
        severity: Severity::Error,
        line: 1,
        summary: "a done task's Expected Artifacts do not exist at head",
        docs: r#"## What it does
For every `done` task, checks that each path in its ticket's (or card's)
`Expected Artifacts` field exists at head (a glob must match a file).

## Why it matters
`done` is a claim; the artifacts are the evidence that it is true.

## Example
```markdown
- Expected Artifacts: `core/src/sync/merge.rs`, `tests/sync_merge.rs`
```
"#,
    },
    AlignCode {
        code: "tests-not-recorded",
        severity: Severity::Error,
        line: 2,
        summary: "a task charged with changes has no test evidence or no Tests/checks",
        docs: r#"## What it does
For each task charged with a change: its dispatch run changed the file (a
run file under `runs/` at head says so), or it has run (`in_progress`,
`done`, `partial`, `failed`, or a ledger row) and its card's effective scope
holds the file. A `todo` task that never ran is never charged. Its card's
`Tests/checks to run` must have a value, and a ledger row of the task must
name a test: one of the card's test commands, or a word such as test, spec,
check or a test runner's name, outside task IDs and log paths (an ID like
`P1-TEST-01` or a path like `logs/P1-TEST-01.log` names none). The help
says to run the tests and record the result they gave, whatever it is.

## Why it matters
The third checklist line: test scope and outcomes recorded for each changed
feature. A change with no recorded test is a change no one checked.

## Example
```markdown
| P2-CORE-01 | development-implementer | `cargo test -p core sync::merge` passed (14 tests) | pass | - |
```
"#,
    },
    AlignCode {
        code: "change-untracked",
        severity: Severity::Warning,
        line: 2,
        summary: "a changed implementation file no task that ran accounts for",
        docs: r#"## What it does
Reports each changed file, outside the orchestrator folder, product docs and
notes files, that no task accounts for: no card's effective scope holds it,
or only the scope of tasks that never ran (the message names them: start
the task before working on it), and no dispatch run changed it.

## Why it matters
Work that no task owns has no test evidence, no owner and no review against
a card. A warning: lock files and CI settings often change on their own.

## Example
A branch changes `core/src/cache.rs`, but no card's `Files/paths` names
`core/src/**` or the file.
"#,
    },
    AlignCode {
        code: "release-notes-missing",
        severity: Severity::Error,
        line: 3,
        summary: "deployment paths changed without a change to the release notes",
        docs: r#"## What it does
A change under `align.deployment_paths` must come with a change to
`align.release_notes` (default `CHANGELOG.md`; a glob such as
`changes/*.md` accepts fragments).

## Why it matters
Operators learn what changed in a deployment from the release notes.

## Example
```yaml
align:
  deployment_paths: [deploy/**, Dockerfile]
  release_notes: CHANGELOG.md
```
"#,
    },
    AlignCode {
        code: "rollback-notes-missing",
        severity: Severity::Error,
        line: 3,
        summary: "deployment paths changed without a change to the rollback notes",
        docs: r#"## What it does
When `align.rollback_notes` is set, a change under `align.deployment_paths`
must come with a change to it.

## Why it matters
A deployment change without a way back turns an incident into an outage.

## Example
```yaml
align:
  deployment_paths: [deploy/**]
  rollback_notes: docs/rollback.md
```
"#,
    },
    AlignCode {
        code: "unverified-incomplete",
        severity: Severity::Error,
        line: 4,
        summary: "a partial task or unverified item lacks risk or owner",
        docs: r#"## What it does
Every row of the ledger's `## Unverified Items` table has an Item, a Risk
and an Owner, and every `partial` task is listed there (its ID in the Item
cell).

## Why it matters
The last checklist line. An item with no owner is a risk no one will close;
a partial task not listed hides what was left undone.

## Example
```markdown
| P2-CORE-01: offline edits on Safari not tested | high: data loss | qa-test-engineer |
```
"#,
    },
];

/// The code's entry.
pub fn find(code: &str) -> Option<&'static AlignCode> {
    CODES.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_documented_and_on_a_line() {
        let mut seen = std::collections::HashSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "duplicate {}", c.code);
            assert!(c.line < LINES.len());
            for heading in ["## What it does", "## Why it matters", "## Example"] {
                assert!(c.docs.contains(heading), "{} lacks {heading}", c.code);
            }
        }
        for line in 0..LINES.len() {
            assert!(
                CODES.iter().any(|c| c.line == line),
                "line {line} has no code"
            );
        }
    }
}
