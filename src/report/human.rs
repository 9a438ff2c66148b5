//! The human format: miette's graphical report per diagnostic, then a
//! one-line summary. Colour only when asked (the CLI decides from the
//! terminal, `--color` and `NO_COLOR`).

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{SourceFile, Span};
use crate::util::{escape_controls, is_unsafe_char};

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
    source: NamedSource<DrawnText>,
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

/// A file's text as drawn: its unsafe characters escaped (an escape
/// sequence in a document is shown, never obeyed by the terminal), with
/// the map from the file's byte offsets to the drawn text's.
struct Drawn {
    text: DrawnText,
    /// For each escaped character: its offset in the file, and the bytes
    /// the escapes up to and including it added.
    shifts: Vec<(usize, usize)>,
}

impl Drawn {
    fn of(file: &SourceFile) -> Drawn {
        let text = &file.text;
        if matches!(escape_controls(text), std::borrow::Cow::Borrowed(_)) {
            return Drawn {
                text: DrawnText(text.clone()),
                shifts: Vec::new(),
            };
        }
        let mut out = String::with_capacity(text.len() + 64);
        let mut shifts = Vec::new();
        let mut added = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let lone_cr = c == '\r' && chars.peek().is_none_or(|&(_, n)| n != '\n');
            if (is_unsafe_char(c) && c != '\r') || lone_cr {
                let esc = format!("\\u{{{:x}}}", c as u32);
                added += esc.len() - c.len_utf8();
                shifts.push((i, added));
                out.push_str(&esc);
            } else {
                out.push(c);
            }
        }
        Drawn {
            text: DrawnText(out.into()),
            shifts,
        }
    }

    fn map(&self, offset: usize) -> usize {
        let i = self.shifts.partition_point(|&(at, _)| at < offset);
        offset + if i == 0 { 0 } else { self.shifts[i - 1].1 }
    }
}

/// The drawn text of every file with a finding, made once per file.
#[derive(Default)]
struct DrawnFiles(std::collections::HashMap<crate::source::FileId, Arc<Drawn>>);

impl DrawnFiles {
    fn get(&mut self, report: &Report<'_>, id: crate::source::FileId) -> Arc<Drawn> {
        self.0
            .entry(id)
            .or_insert_with(|| Arc::new(Drawn::of(report.program.file(id))))
            .clone()
    }
}

fn source_span(file: &SourceFile, drawn: &Drawn, span: Span) -> SourceSpan {
    let s = file.clamp(span);
    let (start, end) = (drawn.map(s.start), drawn.map(s.end));
    SourceSpan::new(start.into(), end - start)
}

/// A drawn text for miette: the file's own text, shared, when it needed no
/// escapes.
#[derive(Clone)]
struct DrawnText(arcstr::ArcStr);

impl miette::SourceCode for DrawnText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        self.0
            .as_str()
            .read_span(span, context_lines_before, context_lines_after)
    }
}

fn named(file: &SourceFile, drawn: &Drawn) -> NamedSource<DrawnText> {
    NamedSource::new(escape_controls(&file.path), drawn.text.clone())
}

fn esc(text: &str) -> String {
    escape_controls(text).into_owned()
}

fn shown(report: &Report<'_>, d: &Diagnostic, drawn: &mut DrawnFiles) -> Shown {
    let program = report.program;
    let file = program.file(d.file);
    let own = drawn.get(report, d.file);
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        d.label.as_deref().map(esc),
        source_span(file, &own, d.span),
    )];
    let mut related = Vec::new();
    // Rendering a label costs a scan of its file: a 8,000-task cycle would
    // take seconds. Show the first few; the rest are counted.
    let hidden = d.related.len().saturating_sub(MAX_RELATED);
    for r in d.related.iter().take(MAX_RELATED) {
        let rf = program.file(r.file);
        let theirs = drawn.get(report, r.file);
        if r.file == d.file {
            labels.push(LabeledSpan::new_with_span(
                Some(esc(&r.message)),
                source_span(rf, &theirs, r.span),
            ));
        } else {
            related.push(Shown {
                message: format!("related: {}", esc(&r.message)),
                code: "",
                severity: None,
                help: None,
                source: named(rf, &theirs),
                labels: vec![LabeledSpan::new_primary_with_span(
                    Some(esc(&r.message)),
                    source_span(rf, &theirs, r.span),
                )],
                related: Vec::new(),
            });
        }
    }
    let help = match (&d.help.as_deref().map(esc), hidden) {
        (h, 0) => h.clone(),
        (Some(h), n) => Some(format!(
            "{h}\n({n} more related places: `--format json` lists them all)"
        )),
        (None, n) => Some(format!(
            "({n} more related places: `--format json` lists them all)"
        )),
    };
    Shown {
        message: esc(&d.message),
        code: d.code,
        severity: Some(d.severity),
        help,
        source: named(file, &own),
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
    let mut drawn = DrawnFiles::default();
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
                esc(report.path(d)),
                d.severity.as_str(),
                d.code,
                esc(&d.message)
            )?;
            continue;
        }
        let mut text = String::new();
        if handler
            .render_report(&mut text, &shown(report, d, &mut drawn))
            .is_err()
        {
            text = format!(
                "{}: {} [{}]\n",
                esc(report.path(d)),
                esc(&d.message),
                d.code
            );
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
