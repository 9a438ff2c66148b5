//! The github format: workflow commands that GitHub Actions turns into
//! annotations. Values are escaped as the runner expects (`%`, CR, LF in the
//! message; also `:` and `,` in properties), and `col`/`endColumn` are left
//! out when a span covers several lines (the runner rejects them then).
//! GitHub keeps only about 10 annotations per severity per step and drops
//! the rest silently, so every finding is also printed as a plain log line
//! and the closing summary says how many were not annotated.

use std::io::{self, Write};

use crate::diagnostic::{Diagnostic, Severity};

use super::{Report, plural};

/// Annotations GitHub displays per severity and step.
pub const ANNOTATION_CAP: usize = 10;

fn escape_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    crate::util::escape_controls(&s).into_owned()
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One line of log text: line breaks become spaces, so a message can never
/// start a line of its own (which the runner would read as a command).
fn one_line(s: &str) -> String {
    crate::util::escape_controls(&s.replace("\r\n", " ").replace(['\r', '\n'], " ")).into_owned()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Where an annotation points: 1-based lines and columns.
struct Place<'a> {
    path: &'a str,
    line: usize,
    col: usize,
    end_line: usize,
    end_col: usize,
}

/// The `::error file=..::message` command for one finding.
fn annotation(d: &Diagnostic, at: &Place<'_>) -> String {
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let cols = if at.line == at.end_line {
        format!(",col={},endColumn={}", at.col, at.end_col)
    } else {
        String::new()
    };
    format!(
        "::{} file={},line={},endLine={}{cols},title={}::{}",
        level(d.severity),
        escape_property(at.path),
        at.line,
        at.end_line,
        escape_property(d.code),
        escape_data(&message)
    )
}

/// The plain log line (and help line) for one finding.
fn log_line(d: &Diagnostic, at: &Place<'_>) -> String {
    let mut s = format!(
        "{}:{}:{}: {}[{}] {}",
        one_line(at.path),
        at.line,
        at.col,
        level(d.severity),
        d.code,
        one_line(&d.message)
    );
    if let Some(h) = &d.help {
        s.push_str("\n  help: ");
        s.push_str(&one_line(h));
    }
    s
}

pub fn emit(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    // Annotations shown and cut, per severity: [warning, error].
    let mut shown = [0usize; 2];
    let mut cut = [0usize; 2];
    for d in report.diagnostics {
        let file = report.program.file(d.file);
        let (line, col) = file.line_col(d.span.start);
        let (end_line, end_col) = file.line_col(d.span.end);
        let at = Place {
            path: &file.path,
            line,
            col,
            end_line,
            end_col,
        };
        writeln!(out, "{}", log_line(d, &at))?;
        let slot = usize::from(d.severity == Severity::Error);
        if shown[slot] >= ANNOTATION_CAP {
            cut[slot] += 1;
            continue;
        }
        shown[slot] += 1;
        writeln!(out, "{}", annotation(d, &at))?;
    }
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    write!(
        out,
        "orch: {} and {} in {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(report.files, "file")
    )?;
    if cut[0] + cut[1] > 0 {
        let mut parts = Vec::new();
        if cut[1] > 0 {
            parts.push(plural(cut[1], "error"));
        }
        if cut[0] > 0 {
            parts.push(plural(cut[0], "warning"));
        }
        write!(
            out,
            "; {} not annotated (GitHub shows {ANNOTATION_CAP} per severity per step), all listed above",
            parts.join(" and ")
        )?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Program;
    use crate::source::{FileId, SourceFile, Span};

    #[test]
    fn escapes() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_data("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(one_line("a\x1b]8;;x\x07b"), "a\\u{1b}]8;;x\\u{7}b");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    fn finding(message: &str, help: Option<&str>) -> Diagnostic {
        let mut d = Diagnostic::new("dep-unknown", FileId(0), Span::new(0, 3), message);
        d.help = help.map(str::to_string);
        d
    }

    fn place(path: &str, end_line: usize) -> Place<'_> {
        Place {
            path,
            line: 2,
            col: 3,
            end_line,
            end_col: 7,
        }
    }

    #[test]
    fn annotations_escape_data_and_properties() {
        let d = finding("100% sure: a, b\nnext\rend", Some("fix: it"));
        let at = place("dir/a:b,c.md", 2);
        assert_eq!(
            annotation(&d, &at),
            "::error file=dir/a%3Ab%2Cc.md,line=2,endLine=2,col=3,endColumn=7,title=dep-unknown\
             ::100%25 sure: a, b%0Anext%0Dend%0Ahelp: fix: it"
        );
    }

    #[test]
    fn multi_line_spans_have_no_columns() {
        let d = finding("m", None);
        assert_eq!(
            annotation(&d, &place("a.md", 4)),
            "::error file=a.md,line=2,endLine=4,title=dep-unknown::m"
        );
    }

    #[test]
    fn log_lines_cannot_start_a_command() {
        let d = finding("a\n::error::injected", Some("b\r\n::warning::x"));
        let line = log_line(&d, &place("a.md", 2));
        assert_eq!(
            line,
            "a.md:2:3: error[dep-unknown] a ::error::injected\n  help: b ::warning::x"
        );
        assert!(line.lines().all(|l| !l.trim_start().starts_with("::")));
    }

    #[test]
    fn more_than_ten_per_severity_are_logged_but_not_annotated() {
        let program = Program {
            files: vec![SourceFile::new(
                "p.md".into(),
                "p.md".into(),
                "x\n".repeat(20),
            )],
            ..Program::default()
        };
        let mut diagnostics: Vec<Diagnostic> = (0..12)
            .map(|i| Diagnostic::new("dep-unknown", FileId(0), Span::new(2 * i, 2 * i + 1), "e"))
            .collect();
        let mut w = Diagnostic::new("field-unknown", FileId(0), Span::new(0, 1), "w");
        w.severity = Severity::Warning;
        diagnostics.push(w);
        let report = Report {
            program: &program,
            diagnostics: &diagnostics,
            files: 1,
        };
        let mut out = Vec::new();
        emit(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().filter(|l| l.starts_with("::error ")).count(),
            10
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("::warning ")).count(),
            1
        );
        assert_eq!(text.lines().filter(|l| l.starts_with("p.md:")).count(), 13);
        assert!(text.ends_with(
            "orch: 12 errors and 1 warning in 1 file; 2 errors not annotated \
             (GitHub shows 10 per severity per step), all listed above\n"
        ));
    }
}
