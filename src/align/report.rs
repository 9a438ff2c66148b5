//! The checklist report in every format. The diagnostics themselves go
//! through `crate::report`'s emitters; this adds the checklist around them:
//! a pass/fail line per checklist item (human, github), a `checklist` array
//! next to `diagnostics` and `summary` (json), the checklist codes as the
//! SARIF rules with the checklist in the run's properties (sarif), and a
//! pull-request comment with `- [x]` / `- [ ]` items (markdown).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, Severity};
use crate::report::{self, Format, HumanOptions, Report, plural};

use super::Checked;
use super::codes::{self, CODES, LINES};

/// One checklist line's result.
#[derive(Clone, Debug)]
pub struct LineResult {
    /// 0-based index into [`LINES`].
    pub index: usize,
    pub title: &'static str,
    pub errors: usize,
    pub warnings: usize,
    /// The line's diagnostics: a range of the sorted diagnostics.
    pub range: std::ops::Range<usize>,
    /// Why the line could not be checked (it then neither passes nor
    /// fails; `--deny-warnings` fails it).
    pub unchecked: Option<String>,
    pub pass: bool,
}

impl LineResult {
    /// `pass`, `fail` or `not-checked`.
    pub fn status(&self) -> &'static str {
        match (&self.unchecked, self.pass) {
            (Some(_), _) if self.errors == 0 => "not-checked",
            (_, true) => "pass",
            (_, false) => "fail",
        }
    }
}

/// The five lines, each with its diagnostics (which are sorted by line).
pub fn lines(
    diagnostics: &[Diagnostic],
    unchecked: &[(usize, String)],
    deny_warnings: bool,
) -> Vec<LineResult> {
    let line_of = |d: &Diagnostic| codes::find(d.code).map_or(LINES.len() - 1, |c| c.line);
    let mut start = 0;
    LINES
        .iter()
        .enumerate()
        .map(|(index, title)| {
            let len = diagnostics[start..]
                .iter()
                .take_while(|d| line_of(d) == index)
                .count();
            let range = start..start + len;
            start += len;
            let ds = &diagnostics[range.clone()];
            let errors = ds.iter().filter(|d| d.severity == Severity::Error).count();
            let warnings = ds.len() - errors;
            let unchecked = unchecked
                .iter()
                .find(|(l, _)| *l == index)
                .map(|(_, why)| why.clone());
            let quiet = warnings == 0 && unchecked.is_none();
            LineResult {
                index,
                title,
                errors,
                warnings,
                range,
                pass: errors == 0 && (quiet || !deny_warnings),
                unchecked,
            }
        })
        .collect()
}

/// What to print besides the diagnostics.
pub struct Extras<'a> {
    /// What `--fix` rewrote, one line each.
    pub fixed: &'a [String],
    /// What to do about them (commit or stage), when something was fixed.
    pub fix_note: Option<&'a str>,
    pub deny_warnings: bool,
}

fn counts(line: &LineResult) -> String {
    match (line.errors, line.warnings) {
        (0, 0) => String::new(),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{} and {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// `main...HEAD: the merge-base 1a2b3c4 to HEAD 5d6e7f8, 4 changed files`.
pub fn range_line(range: &super::Range) -> String {
    let origin = range
        .origin
        .as_ref()
        .map(|o| format!(" ({o})"))
        .unwrap_or_default();
    format!(
        "{}{origin}: {} to {}, {}",
        range.spec,
        range.base,
        range.head,
        plural(range.changes.len(), "changed file")
    )
}

pub fn emit(
    format: Format,
    checked: &Checked,
    extras: &Extras<'_>,
    human: &HumanOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let results = lines(
        &checked.diagnostics,
        &checked.unchecked,
        extras.deny_warnings,
    );
    let report = Report {
        program: &checked.program,
        diagnostics: &checked.diagnostics,
        files: checked.program.files.len(),
    };
    match format {
        Format::Human => human_emit(checked, &results, &report, extras, human, out),
        Format::Json => {
            let mut value = captured(Format::Json, &report, human)?;
            value["range"] = json!({
                "spec": checked.range.spec,
                "form": checked.range.form.as_str(),
                "base": checked.range.base,
                "head": checked.range.head,
                "base_commit": checked.range.base_commit,
                "head_commit": checked.range.head_commit,
                "changed": checked.range.changes.len(),
            });
            value["checklist"] = checklist_value(&results);
            value["fixed"] = json!(extras.fixed);
            value["fix_note"] = json!(extras.fix_note);
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        }
        Format::Sarif => {
            let mut value = captured(Format::Sarif, &report, human)?;
            sarif_rules(&mut value, &results);
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        }
        Format::Github => {
            writeln!(out, "orch align-docs: {}", range_line(&checked.range))?;
            for line in &results {
                let mark = if line.status() == "pass" {
                    "[x]"
                } else {
                    "[ ]"
                };
                let c = counts(line);
                let c = match &line.unchecked {
                    Some(why) if c.is_empty() => format!(" (not checked: {why})"),
                    _ if c.is_empty() => c,
                    _ => format!(" ({c})"),
                };
                writeln!(out, "{mark} {}{c}", line.title)?;
            }
            for f in extras.fixed {
                writeln!(out, "fixed: {f}")?;
            }
            if let Some(note) = extras.fix_note {
                writeln!(out, "{note}")?;
            }
            report::emit(Format::Github, &report, human, out)
        }
        Format::Markdown => markdown(checked, &results, extras, out),
        Format::Mermaid | Format::Dot => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "mermaid and dot are `orch graph` formats",
        )),
    }
}

/// Run one of `crate::report`'s JSON emitters and read its value back.
fn captured(format: Format, report: &Report<'_>, human: &HumanOptions) -> io::Result<Value> {
    let mut buf = Vec::new();
    report::emit(format, report, human, &mut buf)?;
    serde_json::from_slice(&buf).map_err(io::Error::other)
}

fn checklist_value(results: &[LineResult]) -> Value {
    Value::Array(
        results
            .iter()
            .map(|l| {
                let codes: Vec<&str> = CODES
                    .iter()
                    .filter(|c| c.line == l.index)
                    .map(|c| c.code)
                    .collect();
                json!({
                    "line": l.index + 1,
                    "title": l.title,
                    "status": l.status(),
                    "reason": l.unchecked,
                    "codes": codes,
                    "errors": l.errors,
                    "warnings": l.warnings,
                    "diagnostics": l.range.clone().collect::<Vec<usize>>(),
                })
            })
            .collect(),
    )
}

/// The checklist codes as the run's rules (in registry order), every
/// result's `ruleIndex` pointing at them, the checklist in the run's
/// properties.
fn sarif_rules(value: &mut Value, results: &[LineResult]) {
    let level = |s: Severity| {
        if s == Severity::Error {
            "error"
        } else {
            "warning"
        }
    };
    let rules: Vec<Value> = CODES
        .iter()
        .map(|c| {
            json!({
                "id": c.code,
                "shortDescription": {"text": c.summary},
                "help": {"text": c.docs, "markdown": c.docs},
                "defaultConfiguration": {"level": level(c.severity)},
                "properties": {"checklistLine": c.line + 1, "checklistItem": LINES[c.line]},
            })
        })
        .collect();
    let Some(run) = value.get_mut("runs").and_then(|r| r.get_mut(0)) else {
        return;
    };
    run["tool"]["driver"]["rules"] = Value::Array(rules);
    if let Some(list) = run.get_mut("results").and_then(Value::as_array_mut) {
        for r in list {
            let id = r["ruleId"].as_str().unwrap_or("");
            if let Some(i) = CODES.iter().position(|c| c.code == id) {
                r["ruleIndex"] = json!(i);
            }
        }
    }
    let checklist = checklist_value(results);
    match run.get_mut("properties").and_then(Value::as_object_mut) {
        Some(props) => {
            props.insert("checklist".into(), checklist);
        }
        None => run["properties"] = json!({ "checklist": checklist }),
    }
}

fn human_emit(
    checked: &Checked,
    results: &[LineResult],
    report: &Report<'_>,
    extras: &Extras<'_>,
    human: &HumanOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if !human.quiet {
        writeln!(
            out,
            "Documentation Alignment Checklist: {}\n",
            range_line(&checked.range)
        )?;
    }
    for f in extras.fixed {
        writeln!(out, "fixed: {f}")?;
    }
    if !extras.fixed.is_empty() {
        writeln!(out)?;
    }
    for line in results {
        let ds = &checked.diagnostics[line.range.clone()];
        if ds.is_empty() {
            if let Some(why) = &line.unchecked {
                writeln!(
                    out,
                    "– {}. {}: not checked: {why}",
                    line.index + 1,
                    line.title
                )?;
            } else if !human.quiet {
                writeln!(out, "✓ {}. {}", line.index + 1, line.title)?;
            }
            continue;
        }
        let mark = if line.pass { "⚠" } else { "✗" };
        writeln!(
            out,
            "{mark} {}. {}: {}\n",
            line.index + 1,
            line.title,
            counts(line)
        )?;
        let part = Report {
            program: report.program,
            diagnostics: ds,
            files: report.files,
        };
        let mut buf = Vec::new();
        report::emit(Format::Human, &part, human, &mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        // Drop the emitter's own summary line; the checklist has its own.
        let body = text.trim_end_matches('\n');
        let body = body.rfind('\n').map_or("", |i| &body[..i]);
        writeln!(out, "{}", body.trim_end_matches('\n'))?;
        writeln!(out)?;
    }
    let failing = results.iter().filter(|l| l.status() == "fail").count();
    let unchecked = results
        .iter()
        .filter(|l| l.status() == "not-checked")
        .count();
    let not_checked = if unchecked > 0 {
        format!("; {unchecked} not checked")
    } else {
        String::new()
    };
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let files = plural(report.files, "file");
    let gap = if human.quiet { "" } else { "\n" };
    if failing == 0 && errors + warnings == 0 && unchecked == 0 && extras.fix_note.is_some() {
        writeln!(
            out,
            "{gap}⚠ all {} checklist lines pass once the fix is committed ({files} checked)",
            LINES.len()
        )?;
    } else if failing == 0 && errors + warnings == 0 && unchecked == 0 {
        if !human.quiet {
            writeln!(
                out,
                "\n✓ all {} checklist lines pass ({files} checked)",
                LINES.len()
            )?;
        }
    } else if failing == 0 && errors + warnings == 0 {
        writeln!(
            out,
            "{gap}⚠ {} of {} checklist lines pass{not_checked} ({files} checked)",
            LINES.len() - unchecked,
            LINES.len(),
        )?;
    } else {
        let mark = if failing > 0 { "✗" } else { "⚠" };
        writeln!(
            out,
            "{gap}{mark} {} of {} checklist lines fail{not_checked}: {} and {} in {files}",
            failing,
            LINES.len(),
            plural(errors, "error"),
            plural(warnings, "warning"),
        )?;
    }
    if let Some(note) = extras.fix_note {
        writeln!(out, "\n{note}")?;
    }
    Ok(())
}

/// Stop listing findings past this many bytes (a pull-request comment
/// holds 65,536 characters).
const MAX_BYTES: usize = 60_000;

fn md_inline(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

fn markdown(
    checked: &Checked,
    results: &[LineResult],
    extras: &Extras<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut text = String::from("## orch align-docs: Documentation Alignment Checklist\n\n");
    text.push_str(&format!("{}.\n\n", md_inline(&range_line(&checked.range))));
    for f in extras.fixed {
        text.push_str(&format!("- fixed: {}\n", md_inline(f)));
    }
    if !extras.fixed.is_empty() {
        text.push('\n');
    }
    let mut omitted = 0;
    for line in results {
        let mark = if line.status() == "pass" { "x" } else { " " };
        let c = counts(line);
        let c = match &line.unchecked {
            Some(why) if c.is_empty() => format!(" — not checked: {}", md_inline(why)),
            _ if c.is_empty() => c,
            _ => format!(" — {c}"),
        };
        text.push_str(&format!("- [{mark}] {}{c}\n", line.title));
        for d in &checked.diagnostics[line.range.clone()] {
            let file = checked.program.file(d.file);
            let (l, col) = file.line_col(d.span.start);
            let icon = if d.severity == Severity::Error {
                "❌"
            } else {
                "⚠️"
            };
            let (first, rest) = d.message.split_once('\n').unwrap_or((&d.message, ""));
            let mut item = format!(
                "  - {icon} `{}:{l}:{col}` `{}`: {}",
                md_inline(&file.path),
                d.code,
                md_inline(first)
            );
            if let Some(h) = &d.help {
                item.push_str(&format!(" *help:* {}", md_inline(h)));
            }
            item.push('\n');
            if !rest.trim().is_empty() {
                let fence = if rest.contains("```") { "````" } else { "```" };
                item.push_str(&format!("\n    {fence}diff\n"));
                for l in rest.lines() {
                    item.push_str("    ");
                    item.push_str(l);
                    item.push('\n');
                }
                item.push_str(&format!("    {fence}\n\n"));
            }
            if omitted > 0 || text.len() + item.len() + 300 > MAX_BYTES {
                omitted += 1;
            } else {
                text.push_str(&item);
            }
        }
    }
    let errors = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = checked.diagnostics.len() - errors;
    if omitted > 0 {
        text.push_str(&format!(
            "\n{omitted} more findings not shown; run `orch align-docs` for all of them.\n"
        ));
    }
    let failing = results.iter().filter(|l| l.status() == "fail").count();
    let unchecked = results
        .iter()
        .filter(|l| l.status() == "not-checked")
        .count();
    if failing == 0 && unchecked > 0 {
        text.push_str(&format!(
            "\n⚠️ {} of {} checklist lines pass, {unchecked} not checked ({}).\n",
            LINES.len() - unchecked,
            LINES.len(),
            plural(warnings, "warning")
        ));
    } else if failing == 0 {
        text.push_str(&format!(
            "\n✅ All {} checklist lines pass ({}).\n",
            LINES.len(),
            plural(warnings, "warning")
        ));
    } else {
        let not_checked = if unchecked > 0 {
            format!(", {unchecked} not checked")
        } else {
            String::new()
        };
        text.push_str(&format!(
            "\n❌ {failing} of {} checklist lines fail{not_checked}: {} and {}.\n",
            LINES.len(),
            plural(errors, "error"),
            plural(warnings, "warning")
        ));
    }
    if let Some(note) = extras.fix_note {
        text.push_str(&format!("\n{}\n", md_inline(note)));
    }
    out.write_all(text.as_bytes())
}
