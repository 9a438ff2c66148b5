//! The one diagnostic type: plain data, knowing nothing of how it is shown.
//!
//! Rules build diagnostics with a code, a message, a primary span and a help
//! line; the lint engine fills in the severity (the rule's default, or the
//! config's override) and drops suppressed ones. Emitters in `report/` turn
//! them into text.

use crate::source::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A secondary place that explains the finding (the other card, the first
/// definition of a duplicate ID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// A repair a tool may offer (the language server's quick fixes): edits,
/// each replacing a span of a file with new text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, in the imperative: "Rename to `status`".
    pub title: String,
    pub edits: Vec<Edit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub file: FileId,
    pub span: Span,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: FileId,
    pub span: Span,
    /// Label shown under the span; defaults to the message in the human view.
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<Related>,
    /// Repairs to offer; the text reports do not show them.
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    /// A diagnostic with the default severity `Error`; the engine replaces it
    /// with the rule's configured severity.
    pub fn new(code: &'static str, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file,
            span,
            label: None,
            help: None,
            related: Vec::new(),
            fixes: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Offer a fix that replaces `span` of the diagnostic's own file with
    /// `text` (an insertion when the span is empty).
    pub fn fix(mut self, title: impl Into<String>, span: Span, text: impl Into<String>) -> Self {
        self.fixes.push(Fix {
            title: title.into(),
            edits: vec![Edit {
                file: self.file,
                span,
                text: text.into(),
            }],
        });
        self
    }

    pub fn related(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Related {
            file,
            span,
            message: message.into(),
        });
        self
    }
}
