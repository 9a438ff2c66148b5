//! The markdown format: a summary for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`, kept under GitHub's 1 MiB limit.

use std::io::{self, Write};

use crate::diagnostic::Severity;

use super::{Report, plural};

/// Stop listing findings past this many bytes (GitHub allows 1 MiB).
const MAX_BYTES: usize = 900 * 1024;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub fn emit(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let mut text = String::from("## orch lint\n\n");
    if errors + warnings == 0 {
        text.push_str(&format!(
            "✅ {} checked: no problems.\n",
            plural(report.files, "file")
        ));
        return out.write_all(text.as_bytes());
    }
    let mark = if errors > 0 { "❌" } else { "⚠️" };
    text.push_str(&format!(
        "{mark} {} and {} in {}.\n\n| | Location | Rule | Message |\n|---|---|---|---|\n",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(report.files, "file")
    ));
    let mut omitted = 0;
    for d in report.diagnostics {
        let file = report.program.file(d.file);
        let (line, _) = file.line_col(d.span.start);
        let icon = if d.severity == Severity::Error {
            "❌"
        } else {
            "⚠️"
        };
        let mut msg = cell(&d.message);
        if let Some(h) = &d.help {
            msg.push_str(&format!("<br>*help:* {}", cell(h)));
        }
        let row = format!(
            "| {icon} | `{}:{line}` | `{}` | {msg} |\n",
            file.path, d.code
        );
        if text.len() + row.len() > MAX_BYTES {
            omitted += 1;
        } else {
            text.push_str(&row);
        }
    }
    if omitted > 0 {
        text.push_str(&format!(
            "\n{omitted} more not shown; run `orch lint` for all of them.\n"
        ));
    }
    out.write_all(text.as_bytes())
}
