//! Structure rules: the file is a document, its front matter parses and has
//! the keys its kind defines, its body follows the seed's template.

use crate::diagnostic::Diagnostic;
use crate::model::templates::{self, front_keys, is_placeholder, same_label};
use crate::model::views::{FieldsView, LedgerView, PlanView, TableView};
use crate::model::{Front, Kind};
use crate::parse::markdown::{Item, Row};
use crate::parse::yaml::Value;
use crate::source::{FileId, Span};
use crate::util::{did_you_mean, nearest};

use super::{Context, rule};

rule!(
    FileInvalid,
    "file-invalid",
    Error,
    "a document that cannot be read as UTF-8 text",
    r#"## What it does
Reports a `.md` file under the orchestrator folder that is not readable
text: binary (a NUL byte), not valid UTF-8, larger than the 4 MiB limit for
a document (16 MiB for the plan, `plan.md`, whose backlog has a row per
task), a symbolic link, or unreadable.

## Why it matters
Every other rule needs the text. A file that cannot be read would otherwise
be skipped silently, and the task it describes would vanish from the plan.

## Example
A card saved by a tool in UTF-16: re-save it as UTF-8.
"#,
    check_file_invalid
);

fn check_file_invalid(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for u in &cx.program.unreadable {
        let path = &cx.program.file(u.file).path;
        out.push(
            Diagnostic::new("", u.file, Span::empty(0), format!("`{path}` {}", u.reason))
                .help("save documents as UTF-8 Markdown text under 4 MiB (the plan, `plan.md`, under 16 MiB), as regular files"),
        );
    }
}

rule!(
    ConfigInvalid,
    "config-invalid",
    Error,
    "`config.yaml` does not parse, or names an unknown key or rule",
    r#"## What it does
Reports a `config.yaml` that is not valid YAML, has a key the config does
not define (with the nearest key), a value of the wrong type, a duration not
written `90s`/`30m`/`2h` or outside 1s to 168h, a `rules:` entry naming no
code orch emits (lint's and align-docs' codes both count), a `{name}` in
`agent.command` or `agent.prompt` that orch does not fill (`{gaol}` for
`{goal}`), or an `agent.evidence` pattern that does not compile (or would
take more than 1 MiB, the limit dispatch uses).

## Why it matters
A typo in the config silently keeps the default, so a rule the team turned
off still fires, or a skill the team added is still unknown; a placeholder
orch does not fill reaches the agent as literal text.

## Example
```yaml
rule:            # should be `rules:`
  field-unknown: off
```
"#,
    check_config_invalid
);

fn check_config_invalid(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(file) = cx.program.config_file else {
        return;
    };
    if let Some(e) = &cx.program.config_error {
        out.push(
            Diagnostic::new("", file, e.span, format!("config.yaml: {}", e.message))
                .help("`orch schema config` prints the config's schema; every key is optional"),
        );
    }
    for e in &cx.program.config_problems {
        out.push(
            Diagnostic::new("", file, e.span, format!("config.yaml: {}", e.message)).help(
                e.help
                    .clone()
                    .unwrap_or_else(|| "`orch schema config` prints the config's schema".into()),
            ),
        );
    }
    // Evidence patterns compile as dispatch compiles them, within its
    // size limit: found here, not when agents have already run.
    let text = &cx.program.file(file).text;
    for pattern in &cx.program.config.agent.evidence {
        if let Err(e) = crate::config::compile_evidence(pattern) {
            let span = text
                .find(pattern.as_str())
                .map_or(Span::empty(0), |at| Span::new(at, at + pattern.len()));
            out.push(
                Diagnostic::new("", file, span, format!("config.yaml: {e}"))
                    .help("fix the pattern (regex syntax, ASCII classes; `(?i)` for case); dispatch refuses a config whose patterns do not compile"),
            );
        }
    }
    let codes = super::all_codes;
    for key in cx.program.config.rules.keys() {
        if !super::is_code(&key.value) {
            let near = nearest(&key.value, codes());
            let found = Diagnostic::new(
                "",
                file,
                key.span,
                format!("`{}` is not a rule code", key.value),
            )
            .help(format!(
                "use a code from `orch rules` (lint's and align-docs' codes both work){}",
                did_you_mean(near)
            ));
            out.push(super::rename(cx.program, found, key.span, &key.value, near));
        }
    }
}

rule!(
    FrontmatterMissing,
    "frontmatter-missing",
    Error,
    "no front matter, or not closed",
    r#"## What it does
Reports a document that does not start with a `---` line, or whose front
matter is never closed by a second `---` line.

## Why it matters
The front matter carries the document's identity and state (`kind`, `id`,
`status`). Without it `orch` cannot tell a ticket from a note.

## Example
```markdown
kind: ticket          <- missing the opening `---`
id: P1-UI-01
---
```
"#,
    check_frontmatter_missing,
    Document
);

fn check_frontmatter_missing(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for doc in cx.documents() {
        let text = &cx.program.file(doc.file).text;
        match &doc.front {
            Front::Missing => {
                let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
                let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
                out.push(
                    Diagnostic::new("", doc.file, Span::new(start, end), "the document has no front matter")
                        .label("expected a `---` line here")
                        .help("start the file with `---`, the keys (`kind: ticket`, `id: ...`), then a closing `---`"),
                );
            }
            Front::Unclosed(open) => out.push(
                Diagnostic::new("", doc.file, *open, "the front matter is never closed")
                    .label("opened here")
                    .help("add a `---` line after the last front-matter key"),
            ),
            _ => {}
        }
    }
}

rule!(
    FrontmatterInvalid,
    "frontmatter-invalid",
    Error,
    "YAML does not parse; span at the YAML error",
    r#"## What it does
Reports front matter that is not valid YAML (the span is where the parser
stopped), is not a mapping, repeats a key, or gives a key a value of the
wrong type (a list where a string is expected).

## Why it matters
A document whose front matter does not parse has no identity or state, so
every rule about it would be guesswork.

## Example
```yaml
---
kind: ticket
id: [P1-UI-01      <- unclosed flow sequence
---
```
"#,
    check_frontmatter_invalid,
    Document
);

fn check_frontmatter_invalid(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for doc in cx.documents() {
        match &doc.front {
            Front::Invalid(e) => out.push(
                Diagnostic::new("", doc.file, e.span, format!("front matter is not valid YAML: {}", e.message))
                    .help("fix the YAML between the `---` lines; quote values that contain `: ` or start with `[`, `{`, `*` or `&`"),
            ),
            Front::NotAMap(span) => out.push(
                Diagnostic::new("", doc.file, *span, "front matter must be a mapping of keys to values")
                    .help("write one `key: value` per line, e.g. `kind: ticket`"),
            ),
            Front::Map(fm) => {
                for span in &fm.odd_keys {
                    out.push(
                        Diagnostic::new("", doc.file, *span, "front-matter keys must be strings")
                            .help("use the keys the kind defines; `orch schema <kind>` lists them"),
                    );
                }
                let Some(kind) = doc.kind else { continue };
                for (key, value) in &fm.entries {
                    let expected_list = matches!((kind, key.value.as_str()), (Kind::Sheet, "tasks"));
                    let known = front_keys(kind).iter().any(|(k, _)| *k == key.value);
                    if !known {
                        continue;
                    }
                    if (kind, key.value.as_str()) == (Kind::Card, "budget") {
                        if let Err(why) = crate::config::Budget::from_front(&value.value) {
                            out.push(
                                Diagnostic::new("", doc.file, value.span, why)
                                    .help("write `budget: {tokens: 200000, usd: 2.5}` (either key)"),
                            );
                        }
                        continue;
                    }
                    let ok = match (&value.value, expected_list) {
                        (Value::Null, _) => true, // field-empty reports it
                        (Value::Seq(items), true) => items.iter().all(|i| i.value.as_scalar().is_some()),
                        (v, false) => v.as_scalar().is_some(),
                        _ => false,
                    };
                    if !ok {
                        let want = if expected_list { "a list of task IDs" } else { "a string" };
                        out.push(
                            Diagnostic::new(
                                "",
                                doc.file,
                                value.span,
                                format!("`{}` must be {want}, not {}", key.value, value.value.type_name()),
                            )
                            .help(format!("write `{}` as {want}", key.value)),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

rule!(
    KindUnknown,
    "kind-unknown",
    Error,
    "`kind` missing or not one of the five",
    r#"## What it does
Reports front matter without a `kind`, or with a kind other than `plan`,
`ticket`, `card`, `ledger` or `sheet`.

## Why it matters
`orch` finds documents by their `kind`, not their file name. A document
with an unknown kind is ignored by every other rule.

## Example
```yaml
---
kind: tiket        <- did you mean `ticket`?
id: P1-UI-01
---
```
"#,
    check_kind_unknown,
    Document
);

fn check_kind_unknown(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let kinds = || Kind::ALL.iter().map(|k| k.as_str());
    for doc in cx.documents() {
        let Front::Map(fm) = &doc.front else { continue };
        match (&doc.kind_text, doc.kind) {
            (_, Some(_)) => {}
            (Some(text), None) => {
                let near = nearest(text.value.trim(), kinds());
                let found = Diagnostic::new(
                    "",
                    doc.file,
                    text.span,
                    format!("`{}` is not a document kind", text.value),
                )
                .help(format!(
                    "use one of {}{}",
                    Kind::spellings(),
                    did_you_mean(near)
                ));
                out.push(super::rename(
                    cx.program,
                    found,
                    text.span,
                    text.value.trim(),
                    near,
                ));
            }
            (None, None) => {
                let span = fm
                    .get("kind")
                    .map_or(first_line(cx, doc.file, fm.span), |n| n.span);
                out.push(
                    Diagnostic::new("", doc.file, span, "the front matter has no `kind`")
                        .help(format!("add `kind:` with one of {}", Kind::spellings())),
                );
            }
        }
    }
}

/// The first line of a span's text (to point at a block without covering it).
fn first_line(cx: &Context<'_>, file: FileId, span: Span) -> Span {
    let text = cx.program.file(file).slice(span);
    let len = text.find(['\n', '\r']).unwrap_or(text.len());
    Span::new(span.start, span.start + len)
}

rule!(
    DocumentMissing,
    "document-missing",
    Error,
    "the program has no Master Plan or no Evidence Ledger",
    r#"## What it does
Reports a program without a `kind: plan` document or without a `kind:
ledger` document. Each program has exactly one of each.

## Why it matters
The plan is the task list every other document refers to, and the ledger is
where results are recorded; without them no status can be checked.

## Example
`orch init` writes both: `.orchestrator/plan.md` and `.orchestrator/ledger.md`.
"#,
    check_document_missing
);

fn check_document_missing(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(first) = cx.program.docs.first() else {
        return;
    };
    for (kind, path) in [(Kind::Plan, "plan.md"), (Kind::Ledger, "ledger.md")] {
        if cx.program.docs_of(kind).next().is_none() {
            // Blame the file meant to be it, when there is one.
            let file = cx
                .program
                .docs
                .iter()
                .find(|d| cx.program.file(d.file).path.ends_with(path))
                .unwrap_or(first)
                .file;
            out.push(
                Diagnostic::new(
                    "",
                    file,
                    Span::empty(0),
                    format!("the program has no {kind} (`kind: {kind}`)"),
                )
                .help(format!(
                    "add `{path}` with `kind: {kind}`; `orch init` writes one"
                )),
            );
        }
    }
}

rule!(
    DocumentDuplicate,
    "document-duplicate",
    Error,
    "a second Master Plan or Evidence Ledger",
    r#"## What it does
Reports a second document of kind `plan` or `ledger`. The first one (in path
order) is the one `orch` reads.

## Why it matters
Two plans disagree about which tasks exist; two ledgers split the evidence.
Either way, part of the program is silently ignored.

## Example
`plan.md` and `plan-v2.md` both with `kind: plan`: merge them into one.
"#,
    check_document_duplicate
);

fn check_document_duplicate(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for kind in [Kind::Plan, Kind::Ledger] {
        let main = if kind == Kind::Plan {
            cx.program.plan()
        } else {
            cx.program.ledger()
        };
        let Some(first) = main else { continue };
        for doc in cx.program.docs_of(kind).filter(|d| d.file != first.file) {
            let span = doc.kind_text.as_ref().map_or(Span::empty(0), |k| k.span);
            out.push(
                Diagnostic::new(
                    "",
                    doc.file,
                    span,
                    format!(
                        "a second {kind}; only `{}` is read",
                        cx.program.file(first.file).path
                    ),
                )
                .help(format!(
                    "keep one {kind}: merge this document into the first one"
                ))
                .related(
                    first.file,
                    first.kind_text.as_ref().map_or(Span::empty(0), |k| k.span),
                    format!("the first {kind}"),
                ),
            );
        }
    }
}

rule!(
    FieldMissing,
    "field-missing",
    Error,
    "a front-matter key or template field the kind requires is absent",
    r#"## What it does
Reports a required front-matter key (`id`, `status`, ...) or a template
field (`- Objective:`, `- Allowed Scope:` with `Files/paths` and
`Prohibited areas`, a phase's `Outcome` and `Workstreams`, ...) that is not
there at all.

## Why it matters
The fields are the brief an agent works from and the facts `orch` checks. A
ticket without Exit Criteria cannot be judged done.

## Example
```markdown
## Dispatch Ticket: P1-UI-01
- Objective: Sync indicator in the toolbar
- Owner Skill: development-implementer
                                   <- no `- Exit Criteria:` item
```
"#,
    check_field_missing,
    Document
);

fn check_field_missing(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for doc in cx.documents() {
        let (Some(kind), Front::Map(fm)) = (doc.kind, &doc.front) else {
            continue;
        };
        let at = fm.get("kind").map_or(fm.span, |n| n.span);
        let text = &cx.program.file(doc.file).text;
        for (key, required) in front_keys(kind) {
            if *required && *key != "kind" && fm.get(key).is_none() {
                let d = Diagnostic::new(
                    "",
                    doc.file,
                    at,
                    format!("the {kind} has no `{key}` in its front matter"),
                )
                .label(format!("this {kind} needs `{key}:`"))
                .help(format!("add `{key}: ...` to the front matter"));
                out.push(add_line(
                    text,
                    d,
                    (fm.span.end, String::new()),
                    &format!("{key}: <{key}>"),
                ));
            }
        }
        // A missing field: at the label that is the field misspelt, when
        // one is there, with the rename; else at the section, with the
        // field added after the last item.
        let missing = |out: &mut Vec<Diagnostic>,
                       items: &[&Item],
                       span: Span,
                       what: &str,
                       field: &str,
                       after: (usize, String)| {
            match misspelt_label(items.iter().copied(), field) {
                Some(item) => {
                    let label = item.label.as_ref().map_or("", |l| l.value.trim());
                    let d = Diagnostic::new(
                        "",
                        doc.file,
                        label_span(item),
                        format!("{what} has no `{field}` field; `{label}` looks like it, misspelt"),
                    )
                    .label("did you mean this?")
                    .help(format!("rename `- {label}:` to `- {field}:`"));
                    out.push(super::rename(
                        cx.program,
                        d,
                        label_span(item),
                        label,
                        Some(field),
                    ));
                }
                None => {
                    let d = Diagnostic::new(
                        "",
                        doc.file,
                        span,
                        format!("{what} has no `{field}` field"),
                    )
                    .help(format!("add a `- {field}: ...` item"));
                    let line = format!("- {field}: <{}>", field.to_lowercase());
                    out.push(add_line(text, d, after, &line));
                }
            }
        };
        match kind {
            Kind::Plan => {
                let plan = PlanView::of(doc);
                if let Some(goal) = plan.goal {
                    let items: Vec<&Item> = goal.items().collect();
                    for f in templates::GOAL_FIELDS {
                        if goal.item(f).is_none() {
                            let after = after_items(text, goal.items(), goal.span, None);
                            missing(out, &items, goal.heading.span, "the Program Goal", f, after);
                        }
                    }
                }
                for phase in &plan.phases {
                    let what = format!("phase {}", phase.id.value);
                    let items: Vec<&Item> = phase.section.items().collect();
                    for f in templates::PHASE_FIELDS {
                        if phase.section.item(f).is_none() {
                            let s = &phase.section;
                            let after = after_items(text, s.items(), s.span, None);
                            missing(out, &items, phase.section.heading.span, &what, f, after);
                        }
                    }
                    if let Some(ws) = phase.section.item("Workstreams") {
                        let children: Vec<&Item> = ws.children.iter().collect();
                        for w in templates::WORKSTREAMS {
                            if ws.child(w).is_none() {
                                let after =
                                    after_items(text, ws.children.iter(), ws.span, Some(ws));
                                missing(
                                    out,
                                    &children,
                                    label_span(ws),
                                    &format!("{what}'s Workstreams"),
                                    w,
                                    after,
                                );
                            }
                        }
                    }
                }
            }
            Kind::Ticket | Kind::Card => {
                let (heading, fields) = if kind == Kind::Ticket {
                    (templates::TICKET_HEADING, templates::TICKET_FIELDS)
                } else {
                    (templates::CARD_HEADING, templates::CARD_FIELDS)
                };
                let view = FieldsView::of(doc, heading);
                let Some(section) = view.section else {
                    continue;
                };
                let items: Vec<&Item> = section.items().collect();
                for f in fields {
                    if section.item(f).is_none() {
                        let after = after_items(text, section.items(), section.span, None);
                        missing(
                            out,
                            &items,
                            section.heading.span,
                            &format!("the {kind}"),
                            f,
                            after,
                        );
                    }
                }
                if kind == Kind::Card
                    && let Some(scope) = section.item("Allowed Scope")
                {
                    let children: Vec<&Item> = scope.children.iter().collect();
                    for f in templates::SCOPE_FIELDS {
                        if scope.child(f).is_none() {
                            let after =
                                after_items(text, scope.children.iter(), scope.span, Some(scope));
                            missing(
                                out,
                                &children,
                                label_span(scope),
                                "the Allowed Scope",
                                f,
                                after,
                            );
                        }
                    }
                }
            }
            Kind::Ledger | Kind::Sheet => {}
        }
    }
}

/// Where a new list item goes: after the last of `items`, as indented as
/// it; without items, after `fallback` (the heading line, or the `parent`
/// item, one level deeper).
fn after_items<'a>(
    text: &str,
    items: impl Iterator<Item = &'a Item>,
    fallback: Span,
    parent: Option<&Item>,
) -> (usize, String) {
    let indent = |at: usize| {
        let start = text[..at.min(text.len())]
            .rfind(['\n', '\r'])
            .map_or(0, |i| i + 1);
        text[start..at.min(text.len())]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect::<String>()
    };
    match items.last() {
        Some(last) => (last.span.end, indent(last.span.start)),
        None => match parent {
            Some(p) => (p.span.end, format!("{}  ", indent(p.span.start))),
            None => (fallback.end, String::new()),
        },
    }
}

/// Offer to insert `line` (indented) on a line of its own after the line
/// holding `after`.
fn add_line(text: &str, d: Diagnostic, (after, indent): (usize, String), line: &str) -> Diagnostic {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let after = after.min(text.len());
    let title = format!("Add `{}`", line.trim_start_matches("- "));
    if after > 0 && text.as_bytes()[after - 1] == b'\n' {
        return d.fix(title, Span::empty(after), format!("{indent}{line}{eol}"));
    }
    match text[after..].find('\n') {
        Some(i) => d.fix(
            title,
            Span::empty(after + i + 1),
            format!("{indent}{line}{eol}"),
        ),
        None => d.fix(
            title,
            Span::empty(text.len()),
            format!("{eol}{indent}{line}"),
        ),
    }
}

/// The label of an item, or the item when it has none.
fn label_span(item: &Item) -> Span {
    item.label.as_ref().map_or(item.span, |l| l.span)
}

/// Every heading and field label the templates name.
fn template_names() -> impl Iterator<Item = &'static str> {
    [
        templates::GOAL_HEADING,
        templates::PHASE_TREE_HEADING,
        templates::BACKLOG_HEADING,
        templates::TICKET_HEADING,
        templates::CARD_HEADING,
        templates::LEDGER_HEADING,
        templates::UNVERIFIED_HEADING,
    ]
    .into_iter()
    .chain(templates::GOAL_FIELDS.iter().copied())
    .chain(templates::PHASE_FIELDS.iter().copied())
    .chain(templates::WORKSTREAMS.iter().copied())
    .chain(templates::TICKET_FIELDS.iter().copied())
    .chain(templates::CARD_FIELDS.iter().copied())
    .chain(templates::SCOPE_FIELDS.iter().copied())
}

/// A heading that is the template's `name` written wrong: misspelt
/// (`Codex Exectuion Card: P1-UI-01`, `Branch Backlogs`), or, for a titled
/// heading, without its colon (`Codex Execution Card P1-UI-01`,
/// `Dispatch Ticket - P1-UI-01`). Returns the section and, for a titled
/// heading, what follows the name (the ID).
fn misspelt_heading<'d>(
    doc: &'d crate::model::Document,
    name: &str,
    titled: bool,
) -> Option<(crate::model::Section<'d>, String)> {
    let is_name = |head: &str| {
        let head = head.trim().trim_end_matches(':').trim();
        let (h, n) = (head.to_ascii_lowercase(), name.to_ascii_lowercase());
        // A word missing or added: `Execution Card`, `Ticket`.
        let part = |short: &str, long: &str| short.len() >= 5 && long.contains(short);
        !head.is_empty()
            && (same_label(head, name)
                || nearest(head, [name]).is_some()
                || part(&h, &n)
                || part(&n, &h))
            && !template_names().any(|t| t != name && same_label(t, head))
    };
    doc.sections().into_iter().find_map(|s| {
        let h = s.heading.value.trim();
        if titled {
            if let Some((head, rest)) = h.split_once(':')
                && is_name(head)
            {
                return Some((s, rest.trim().to_string()));
            }
            for sep in [" - ", " — ", " – "] {
                if let Some((head, rest)) = h.split_once(sep)
                    && is_name(head)
                {
                    return Some((s, rest.trim().to_string()));
                }
            }
            let (head, last) = h.rsplit_once(char::is_whitespace)?;
            (crate::util::is_valid_id(last) && is_name(head)).then(|| (s, last.to_string()))
        } else {
            let word = name.rsplit(' ').next().unwrap_or(name);
            let has_word = h
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.eq_ignore_ascii_case(word));
            (is_name(h) || (has_word && !template_names().any(|t| same_label(t, h))))
                .then(|| (s, String::new()))
        }
    })
}

/// An item whose label is `field` misspelt (`- Objectve:` for
/// `Objective`), among `items`: not a template field itself.
fn misspelt_label<'i>(items: impl IntoIterator<Item = &'i Item>, field: &str) -> Option<&'i Item> {
    items.into_iter().find(|i| {
        i.label.as_ref().is_some_and(|l| {
            let l = l.value.trim();
            !template_names().any(|t| same_label(t, l)) && nearest(l, [field]).is_some()
        })
    })
}

rule!(
    FieldEmpty,
    "field-empty",
    Error,
    "a required field has no value, or only a placeholder",
    r#"## What it does
Reports a required field whose value is empty or only a placeholder: `<...>`,
`TBD`, `TODO`, `?`, `...`. It checks front-matter values, template items,
the backlog's Objective, Owner Skill and Done Criteria cells, and the
ledger's Owner Skill, Evidence, Result and Next Action cells. To say
"nothing", write `none` or `-`.

## Why it matters
A placeholder reads as done to a busy reviewer. An agent dispatched with
`Completion criteria: TBD` cannot know when to stop, and `orch replan`
treats an empty criterion as unclear acceptance criteria.

## Example
```markdown
- Exit Criteria: TBD        <- say what must be true when the task is done
```
"#,
    check_field_empty,
    Document
);

fn check_field_empty(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for doc in cx.documents() {
        let (Some(kind), Front::Map(fm)) = (doc.kind, &doc.front) else {
            continue;
        };
        for (key, value) in &fm.entries {
            if !front_keys(kind).iter().any(|(k, _)| *k == key.value) {
                continue;
            }
            let empty = match &value.value {
                Value::Null => true,
                // Words like `todo` are statuses here; only `<...>` is a placeholder.
                Value::String(s) => {
                    s.trim().is_empty() || (s.trim().starts_with('<') && s.trim().ends_with('>'))
                }
                Value::Seq(items) => items.is_empty(),
                _ => false,
            };
            if empty {
                let span = if value.span.is_empty() {
                    key.span
                } else {
                    value.span
                };
                out.push(
                    Diagnostic::new("", doc.file, span, format!("`{}` has no value", key.value))
                        .help(format!("give `{}` a real value", key.value)),
                );
            }
        }
        let check_item = |out: &mut Vec<Diagnostic>, item: &Item, field: &str| {
            if item.is_empty() || (item.children.is_empty() && is_placeholder(&item.value.value)) {
                let span = if item.value.span.is_empty() {
                    label_span(item)
                } else {
                    item.value.span
                };
                let shown = item.value.value.trim();
                let message = if shown.is_empty() {
                    format!("`{field}` is empty")
                } else {
                    format!("`{field}` is only a placeholder (`{shown}`)")
                };
                out.push(Diagnostic::new("", doc.file, span, message).help(format!(
                    "write the {} (or `none` when there is nothing to say)",
                    field.to_lowercase()
                )));
            }
        };
        match kind {
            Kind::Plan => {
                let plan = PlanView::of(doc);
                if let Some(goal) = plan.goal {
                    for f in templates::GOAL_FIELDS {
                        if let Some(item) = goal.item(f) {
                            check_item(out, item, f);
                        }
                    }
                }
                for phase in &plan.phases {
                    if let Some(item) = phase.section.item("Outcome") {
                        check_item(out, item, "Outcome");
                    }
                    if let Some(ws) = phase.section.item("Workstreams") {
                        for w in templates::WORKSTREAMS {
                            if let Some(item) = ws.child(w) {
                                check_item(out, item, w);
                            }
                        }
                    }
                }
                if let Some(backlog) = &plan.backlog {
                    for row in &backlog.table.rows {
                        for col in [1, 2, 4] {
                            empty_cell(
                                out,
                                doc.file,
                                backlog,
                                row,
                                col,
                                templates::BACKLOG_COLUMNS[col],
                            );
                        }
                    }
                }
            }
            Kind::Ticket | Kind::Card => {
                let (heading, fields) = if kind == Kind::Ticket {
                    (templates::TICKET_HEADING, templates::TICKET_FIELDS)
                } else {
                    (templates::CARD_HEADING, templates::CARD_FIELDS)
                };
                let view = FieldsView::of(doc, heading);
                for f in fields {
                    let Some(item) = view.field(f) else { continue };
                    if *f == "Allowed Scope" {
                        for sf in templates::SCOPE_FIELDS {
                            if let Some(child) = item.child(sf) {
                                check_item(out, child, sf);
                            }
                        }
                    } else {
                        check_item(out, item, f);
                    }
                }
            }
            Kind::Ledger => {
                let ledger = LedgerView::of(doc);
                if let Some(rows) = &ledger.rows {
                    for row in &rows.table.rows {
                        for col in 1..templates::LEDGER_COLUMNS.len() {
                            empty_cell(
                                out,
                                doc.file,
                                rows,
                                row,
                                col,
                                templates::LEDGER_COLUMNS[col],
                            );
                        }
                    }
                }
            }
            Kind::Sheet => {}
        }
    }
}

fn empty_cell(
    out: &mut Vec<Diagnostic>,
    file: FileId,
    table: &TableView<'_>,
    row: &Row,
    col: usize,
    name: &str,
) {
    let Some(cell) = table.cell(row, col) else {
        return;
    };
    if cell.code.is_empty() && is_placeholder(&cell.text) {
        let message = if cell.text.trim().is_empty() {
            format!("the {name} cell is empty")
        } else {
            format!(
                "the {name} cell is only a placeholder (`{}`)",
                cell.text.trim()
            )
        };
        out.push(
            Diagnostic::new("", file, cell.span, message)
                .help(format!("fill in the {}", name.to_lowercase())),
        );
    }
}

rule!(
    FieldUnknown,
    "field-unknown",
    Warning,
    "a front-matter key the kind does not define",
    r#"## What it does
Reports a front-matter key that the document's kind does not define, with
the nearest defined key when it looks like a typo.

## Why it matters
A misspelt key is silently ignored: `stauts: done` leaves the task `todo`.

## Example
```yaml
---
kind: ticket
id: P1-UI-01
stauts: done     <- did you mean `status`?
---
```
"#,
    check_field_unknown,
    Document
);

fn check_field_unknown(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for doc in cx.documents() {
        let (Some(kind), Front::Map(fm)) = (doc.kind, &doc.front) else {
            continue;
        };
        let keys = front_keys(kind);
        for (key, _) in &fm.entries {
            if keys.iter().any(|(k, _)| *k == key.value) {
                continue;
            }
            let names = keys.iter().map(|(k, _)| *k);
            let list = keys
                .iter()
                .map(|(k, _)| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let near = nearest(&key.value, names);
            let found = Diagnostic::new(
                "",
                doc.file,
                key.span,
                format!("`{}` is not a {kind} key", key.value),
            )
            .help(match near {
                Some(n) => format!("did you mean `{n}`? A {kind} defines {list}"),
                None => format!("a {kind} defines {list}; remove the key"),
            });
            out.push(super::rename(cx.program, found, key.span, &key.value, near));
        }
    }
}

rule!(
    SectionMissing,
    "section-missing",
    Error,
    "a required heading or table of the template is absent",
    r#"## What it does
Reports a document whose body lacks a heading or table its kind's template
requires: the plan's `# Program Goal`, `# Phase Tree` with at least one
`## Phase P1: <name>`, and `## Branch Backlog` with its table; a ticket's
`## Dispatch Ticket: <ID>`; a card's `## Codex Execution Card: <ID>`; the
ledger's `# Evidence Ledger` table and `## Unverified Items` table; a sheet's
`## Commands` and `## Harvest`.

## Why it matters
`orch` reads the facts a template names from under its headings. Without the
heading, the facts are not found and the document looks empty.

## Example
```markdown
## Ticket: P1-UI-01        <- the heading is `## Dispatch Ticket: P1-UI-01`
```
"#,
    check_section_missing,
    Document
);

fn check_section_missing(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for doc in cx.documents() {
        let (Some(kind), Front::Map(fm)) = (doc.kind, &doc.front) else {
            continue;
        };
        let at = fm.get("kind").map_or(fm.span, |n| n.span);
        let mut missing = |span: Span, what: String, help: String, fix: Option<String>| {
            let d = Diagnostic::new("", doc.file, span, what).help(help);
            out.push(match fix {
                Some(text) => d.fix(format!("Rename to `{text}`"), span, text),
                None => d,
            });
        };
        // A section the template names, absent: point at a heading that is
        // the name misspelt, with the rename; else ask for the section.
        let absent = |missing: &mut dyn FnMut(Span, String, String, Option<String>),
                      level: usize,
                      name: &str,
                      what: &str,
                      help: String| {
            match misspelt_heading(doc, name, false) {
                Some((s, _)) => missing(
                    s.heading.span,
                    format!(
                        "the {kind}'s heading `{}` is not `{name}`: orch reads nothing under it",
                        s.heading.value
                    ),
                    format!(
                        "rename the heading to `{} {name}`",
                        "#".repeat(s.level.into())
                    ),
                    Some(name.to_string()),
                ),
                None => missing(
                    at,
                    format!("the {kind} has no `{} {name}` {what}", "#".repeat(level)),
                    help,
                    None,
                ),
            }
        };
        match kind {
            Kind::Plan => {
                let plan = PlanView::of(doc);
                if plan.goal.is_none() {
                    absent(
                        &mut missing,
                        1,
                        templates::GOAL_HEADING,
                        "section",
                        "add `# Program Goal` with `- Goal:`, `- Scope:` and `- Non-goals:`".into(),
                    );
                }
                if plan.phase_tree.is_none() {
                    absent(
                        &mut missing,
                        1,
                        templates::PHASE_TREE_HEADING,
                        "section",
                        "add `# Phase Tree` with a `## Phase P1: <name>` per phase".into(),
                    );
                } else if plan.phases.is_empty() && plan.odd_phases.is_empty() {
                    let span = plan.phase_tree.map_or(at, |s| s.heading.span);
                    missing(
                        span,
                        "the Phase Tree has no phase".into(),
                        "add `## Phase P1: <name>` with `- Outcome:` and `- Workstreams:`".into(),
                        None,
                    );
                }
                match (&plan.backlog_section, &plan.backlog) {
                    (None, _) => absent(
                        &mut missing,
                        2,
                        templates::BACKLOG_HEADING,
                        "section",
                        "add `## Branch Backlog` with the backlog table".into(),
                    ),
                    (Some(s), None) => missing(
                        s.heading.span,
                        "the Branch Backlog has no table".into(),
                        format!(
                            "add the table: | {} |",
                            templates::BACKLOG_COLUMNS.join(" | ")
                        ),
                        None,
                    ),
                    _ => {}
                }
            }
            Kind::Ticket | Kind::Card => {
                let heading = if kind == Kind::Ticket {
                    templates::TICKET_HEADING
                } else {
                    templates::CARD_HEADING
                };
                if doc.titled(heading).is_none() {
                    let id = doc.id().map_or("<ID>".to_string(), |i| i.value.into());
                    match misspelt_heading(doc, heading, true) {
                        Some((s, rest)) => {
                            let id = if rest.is_empty() { id } else { rest };
                            missing(
                                s.heading.span,
                                format!(
                                    "the {kind}'s heading `{}` is not `{heading}: <ID>`: orch reads none of the fields under it",
                                    s.heading.value
                                ),
                                format!(
                                    "rename the heading to `{} {heading}: {id}`",
                                    "#".repeat(s.level.into())
                                ),
                                Some(format!("{heading}: {id}")),
                            );
                        }
                        None => missing(
                            at,
                            format!("the {kind} has no `## {heading}: <ID>` heading"),
                            format!("add `## {heading}: {id}` above the fields"),
                            None,
                        ),
                    }
                }
            }
            Kind::Ledger => {
                let ledger = LedgerView::of(doc);
                match (&ledger.section, &ledger.rows) {
                    (None, _) => absent(
                        &mut missing,
                        1,
                        templates::LEDGER_HEADING,
                        "section",
                        format!(
                            "add `# Evidence Ledger` and the table | {} |",
                            templates::LEDGER_COLUMNS.join(" | ")
                        ),
                    ),
                    (Some(s), None) => missing(
                        s.heading.span,
                        "the Evidence Ledger has no table".into(),
                        format!(
                            "add the table: | {} |",
                            templates::LEDGER_COLUMNS.join(" | ")
                        ),
                        None,
                    ),
                    _ => {}
                }
                match (&ledger.unverified_section, &ledger.unverified) {
                    (None, _) => absent(
                        &mut missing,
                        2,
                        templates::UNVERIFIED_HEADING,
                        "section",
                        format!(
                            "add `## Unverified Items` and the table | {} |",
                            templates::UNVERIFIED_COLUMNS.join(" | ")
                        ),
                    ),
                    (Some(s), None) => missing(
                        s.heading.span,
                        "Unverified Items has no table".into(),
                        format!(
                            "add the table: | {} | (it may have no rows)",
                            templates::UNVERIFIED_COLUMNS.join(" | ")
                        ),
                        None,
                    ),
                    _ => {}
                }
            }
            Kind::Sheet => {
                for name in templates::SHEET_SECTIONS {
                    if doc.section(|h| same_label(h, name)).is_none() {
                        missing(
                            at,
                            format!("the sheet has no `## {name}` section"),
                            "regenerate the sheet with `orch sheet --write`".into(),
                            None,
                        );
                    }
                }
            }
        }
    }
}

rule!(
    TableMalformed,
    "table-malformed",
    Error,
    "a required table has wrong or missing columns",
    r#"## What it does
Reports a backlog, ledger or Unverified Items table that lacks a column the
template names (matched by header, any case, any order), repeats one, or has
a row with more cells than the header (usually an unescaped `|`).

## Why it matters
Cells are read by column name. A missing column loses that fact for every
row; an extra cell shifts a row's facts one column to the right.

## Example
```markdown
| Branch ID | Objective | Owner | Dependencies | Done Criteria |
                          ^^^^^ the column is `Owner Skill`
```
"#,
    check_table_malformed,
    Document
);

fn check_table_malformed(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for doc in cx.documents() {
        let mut tables: Vec<(TableView<'_>, &[&str], &str)> = Vec::new();
        match doc.kind {
            Some(Kind::Plan) => {
                if let Some(t) = PlanView::of(doc).backlog {
                    tables.push((t, templates::BACKLOG_COLUMNS, "Branch Backlog"));
                }
            }
            Some(Kind::Ledger) => {
                let l = LedgerView::of(doc);
                if let Some(t) = l.rows {
                    tables.push((t, templates::LEDGER_COLUMNS, "Evidence Ledger"));
                }
                if let Some(t) = l.unverified {
                    tables.push((t, templates::UNVERIFIED_COLUMNS, "Unverified Items"));
                }
            }
            _ => {}
        }
        for (view, expected, name) in tables {
            let missing = view.columns.missing(expected);
            if !missing.is_empty() {
                let list = missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let unknown: Vec<&str> = view
                    .table
                    .header
                    .cells
                    .iter()
                    .map(|c| c.text.as_str())
                    .filter(|t| !expected.iter().any(|e| same_label(t, e)))
                    .collect();
                let rename = unknown
                    .first()
                    .and_then(|u| nearest(u, missing.iter().copied()).map(|n| (*u, n)));
                let hint = match rename {
                    Some((u, n)) => format!("rename the column `{u}` to `{n}`; "),
                    None => String::new(),
                };
                let mut found = Diagnostic::new(
                    "",
                    doc.file,
                    view.table.header.span,
                    format!("the {name} table has no {list} column"),
                )
                .help(format!(
                    "{hint}the columns are | {} |",
                    expected.join(" | ")
                ));
                if let Some((u, n)) = rename
                    && let Some(cell) = view.table.header.cells.iter().find(|c| c.text == u)
                {
                    found = super::rename(cx.program, found, cell.span, u, Some(n));
                }
                out.push(found);
            }
            for (i, cell) in view.table.header.cells.iter().enumerate() {
                if view.table.header.cells[..i]
                    .iter()
                    .any(|c| same_label(&c.text, &cell.text))
                {
                    out.push(
                        Diagnostic::new(
                            "",
                            doc.file,
                            cell.span,
                            format!("the {name} table repeats the column `{}`", cell.text),
                        )
                        .help("remove the repeated column"),
                    );
                }
            }
            let width = view.table.header.cells.len();
            for row in &view.table.rows {
                if row.raw_cells > width {
                    out.push(
                        Diagnostic::new(
                            "",
                            doc.file,
                            row.span,
                            format!("this row has {} cells, the header {width}", row.raw_cells),
                        )
                        .help("escape a `|` inside a cell as `\\|`, or remove the extra cell"),
                    );
                }
            }
        }
    }
}
