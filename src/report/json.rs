//! The json format of DESIGN 3: one object with `diagnostics` and `summary`;
//! paths relative to the work tree, lines and columns 1-based.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::diagnostic::Severity;

use super::Report;

pub fn to_value(report: &Report<'_>) -> Value {
    let program = report.program;
    let diagnostics: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let file = program.file(d.file);
            let (line, column) = file.line_col(d.span.start);
            let (end_line, end_column) = file.line_col(d.span.end);
            let related: Vec<Value> = d
                .related
                .iter()
                .map(|r| {
                    let rf = program.file(r.file);
                    let (line, column) = rf.line_col(r.span.start);
                    json!({"file": rf.path, "line": line, "column": column, "message": r.message})
                })
                .collect();
            json!({
                "code": d.code,
                "severity": d.severity.as_str(),
                "message": d.message,
                "file": file.path,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "help": d.help,
                "related": related,
            })
        })
        .collect();
    json!({
        "diagnostics": diagnostics,
        "summary": {
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "files": report.files,
        }
    })
}

pub fn emit(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    writeln!(out)
}
