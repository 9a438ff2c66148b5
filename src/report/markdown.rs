//! The markdown format: a summary for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`. A clean run is one line; otherwise a count line
//! and one table row per finding, cut (with a note saying how many) so the
//! whole stays under a pull-request comment's 65,536 characters, far under
//! the step summary's 1 MiB.

use std::io::{self, Write};

use crate::diagnostic::Severity;

use super::{Report, plural};

/// Stop listing findings past this many bytes: GitHub allows 65,536
/// characters in a comment and 1 MiB in a step summary.
pub const MAX_BYTES: usize = 60_000;

/// Room kept for the closing note when findings are cut.
const NOTE_BYTES: usize = 200;

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
        let (line, col) = file.line_col(d.span.start);
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
            "| {icon} | `{}:{line}:{col}` | `{}` | {msg} |\n",
            cell(&file.path),
            d.code
        );
        if omitted > 0 || text.len() + row.len() + NOTE_BYTES > MAX_BYTES {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::model::Program;
    use crate::source::{FileId, SourceFile, Span};

    fn render(diagnostics: &[Diagnostic], program: &Program) -> String {
        let report = Report {
            program,
            diagnostics,
            files: 1,
        };
        let mut out = Vec::new();
        emit(&report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn program() -> Program {
        Program {
            files: vec![SourceFile::new("a|b.md".into(), "a|b.md".into(), "x\ny\n")],
            ..Program::default()
        }
    }

    #[test]
    fn clean_is_one_line() {
        assert_eq!(
            render(&[], &program()),
            "## orch lint\n\n✅ 1 file checked: no problems.\n"
        );
    }

    #[test]
    fn cells_are_escaped() {
        let d = Diagnostic::new("dep-unknown", FileId(0), Span::new(2, 3), "a | b\nc").help("h|i");
        let text = render(&[d], &program());
        assert!(
            text.contains("| ❌ | `a\\|b.md:2:1` | `dep-unknown` | a \\| b c<br>*help:* h\\|i |\n")
        );
    }

    #[test]
    fn stays_under_a_comment_and_says_what_was_cut() {
        let long = "m".repeat(500);
        let diagnostics: Vec<Diagnostic> = (0..1000)
            .map(|_| Diagnostic::new("dep-unknown", FileId(0), Span::new(0, 1), long.clone()))
            .collect();
        let text = render(&diagnostics, &program());
        assert!(text.len() <= MAX_BYTES, "{} bytes", text.len());
        let rows = text.lines().filter(|l| l.starts_with("| ❌")).count();
        assert!(rows > 50);
        assert!(text.ends_with(&format!(
            "\n{} more not shown; run `orch lint` for all of them.\n",
            1000 - rows
        )));
    }
}
