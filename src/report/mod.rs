//! Report emitters: one per output format, each writing to an injected
//! writer. Only this module prints diagnostics.

use std::io::{self, Write};

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Program;

mod github;
mod human;
mod json;
mod markdown;
mod sarif;

pub use human::HumanOptions;
pub use json::to_value as json_value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    Markdown,
    /// `orch graph` only.
    Mermaid,
    /// `orch graph` only.
    Dot,
}

/// What a lint run found, ready to print.
pub struct Report<'a> {
    pub program: &'a Program,
    pub diagnostics: &'a [Diagnostic],
    /// Documents and config files read.
    pub files: usize,
}

impl Report<'_> {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    pub fn path(&self, d: &Diagnostic) -> &str {
        &self.program.file(d.file).path
    }
}

pub fn emit(
    format: Format,
    report: &Report<'_>,
    human: &HumanOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::emit(report, human, out),
        Format::Json => json::emit(report, out),
        Format::Github => github::emit(report, out),
        Format::Sarif => sarif::emit(report, out),
        Format::Markdown => markdown::emit(report, out),
        Format::Mermaid | Format::Dot => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "mermaid and dot are graph formats; lint prints human, json, github, sarif or markdown",
        )),
    }
}

/// "3 errors", "1 warning".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
