//! The github format: workflow commands that GitHub Actions turns into
//! annotations. Values are escaped as the runner expects (`%`, CR, LF; and
//! `:` `,` in properties). GitHub shows only about 10 annotations per
//! severity per step, so every finding is also printed as a plain log line.

use std::io::{self, Write};

use crate::diagnostic::Severity;

use super::Report;

/// Annotations GitHub displays per severity and step.
const ANNOTATION_CAP: usize = 10;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn emit(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut shown = [0usize; 2];
    let mut cut = 0;
    for d in report.diagnostics {
        let file = report.program.file(d.file);
        let (line, col) = file.line_col(d.span.start);
        let (end_line, end_col) = file.line_col(d.span.end);
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        writeln!(
            out,
            "{}:{line}:{col}: {level}[{}] {}",
            file.path, d.code, d.message
        )?;
        let slot = &mut shown[usize::from(d.severity == Severity::Error)];
        if *slot >= ANNOTATION_CAP {
            cut += 1;
            continue;
        }
        *slot += 1;
        let cols = if line == end_line {
            format!(",col={col},endColumn={end_col}")
        } else {
            String::new()
        };
        writeln!(
            out,
            "::{level} file={},line={line},endLine={end_line}{cols},title={}::{}",
            escape_property(&file.path),
            escape_property(d.code),
            escape_data(&message)
        )?;
    }
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    write!(
        out,
        "orch: {errors} error(s), {warnings} warning(s) in {} file(s)",
        report.files
    )?;
    if cut > 0 {
        write!(
            out,
            "; {cut} not annotated (GitHub shows {ANNOTATION_CAP} per severity), all listed above"
        )?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
