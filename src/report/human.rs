//! The human format: miette's graphical report per diagnostic, then a
//! one-line summary. Colour only when asked (the CLI decides from the
//! terminal, `--color` and `NO_COLOR`).

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{SourceFile, Span};

use super::{Report, plural};

/// Related places drawn under one diagnostic.
const MAX_RELATED: usize = 8;
/// Diagnostics of one file drawn with their source; the rest get a line.
const MAX_RENDERED_PER_FILE: usize = 200;

#[derive(Clone, Debug)]
pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
    pub quiet: bool,
}

impl Default for HumanOptions {
    fn default() -> HumanOptions {
        HumanOptions {
            color: false,
            width: 100,
            quiet: false,
        }
    }
}

/// A diagnostic in the shape miette renders.
struct Shown {
    message: String,
    code: &'static str,
    /// `None` for a related place (rendered as advice, not a finding).
    severity: Option<Severity>,
    help: Option<String>,
    source: NamedSource<Arc<str>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Shown>,
}

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Shown {}

impl miette::Diagnostic for Shown {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(self.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Some(Severity::Error) => miette::Severity::Error,
            Some(Severity::Warning) => miette::Severity::Warning,
            None => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

fn source_span(file: &SourceFile, span: Span) -> SourceSpan {
    let s = file.clamp(span);
    SourceSpan::new(s.start.into(), s.len())
}

fn named(file: &SourceFile) -> NamedSource<Arc<str>> {
    NamedSource::new(&file.path, file.text.clone())
}

fn shown(report: &Report<'_>, d: &Diagnostic) -> Shown {
    let program = report.program;
    let file = program.file(d.file);
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        d.label.clone(),
        source_span(file, d.span),
    )];
    let mut related = Vec::new();
    // Rendering a label costs a scan of its file: a 8,000-task cycle would
    // take seconds. Show the first few; the rest are counted.
    let hidden = d.related.len().saturating_sub(MAX_RELATED);
    for r in d.related.iter().take(MAX_RELATED) {
        let rf = program.file(r.file);
        if r.file == d.file {
            labels.push(LabeledSpan::new_with_span(
                Some(r.message.clone()),
                source_span(rf, r.span),
            ));
        } else {
            related.push(Shown {
                message: format!("related: {}", r.message),
                code: "",
                severity: None,
                help: None,
                source: named(rf),
                labels: vec![LabeledSpan::new_primary_with_span(
                    Some(r.message.clone()),
                    source_span(rf, r.span),
                )],
                related: Vec::new(),
            });
        }
    }
    let help = match (&d.help, hidden) {
        (h, 0) => h.clone(),
        (Some(h), n) => Some(format!(
            "{h}\n({n} more related places: `--format json` lists them all)"
        )),
        (None, n) => Some(format!(
            "({n} more related places: `--format json` lists them all)"
        )),
    };
    Shown {
        message: d.message.clone(),
        code: d.code,
        severity: Some(d.severity),
        help,
        source: named(file),
        labels,
        related,
    }
}

pub fn emit(report: &Report<'_>, options: &HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false);
    let mut per_file: std::collections::HashMap<crate::source::FileId, usize> =
        std::collections::HashMap::new();
    for d in report.diagnostics {
        let n = per_file.entry(d.file).or_default();
        *n += 1;
        // Each rendered snippet scans its file from the start, so a file
        // with thousands of findings would take minutes: past the first
        // few hundred, one line each.
        if *n > MAX_RENDERED_PER_FILE {
            let (line, col) = report.program.file(d.file).line_col(d.span.start);
            writeln!(
                out,
                "{}:{line}:{col}: {}[{}] {}",
                report.path(d),
                d.severity.as_str(),
                d.code,
                d.message
            )?;
            continue;
        }
        let mut text = String::new();
        if handler.render_report(&mut text, &shown(report, d)).is_err() {
            text = format!("{}: {} [{}]\n", report.path(d), d.message, d.code);
        }
        out.write_all(text.as_bytes())?;
        writeln!(out)?;
    }
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let files = plural(report.files, "file");
    if errors + warnings == 0 {
        if !options.quiet {
            writeln!(out, "✓ {files} checked: no problems")?;
        }
    } else {
        writeln!(
            out,
            "✗ {} and {} in {files}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )?;
    }
    Ok(())
}
