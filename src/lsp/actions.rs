//! Quick fixes: the fixes the rules attach to their findings (a misspelt
//! key, kind, status, skill, ID or column renamed to the nearest; a missing
//! field added from the template; an unused suppression removed), and an
//! `orch-ignore` suppression for any finding in a Markdown document, for
//! the block or for the file.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse,
    TextEdit, WorkspaceEdit,
};

use crate::diagnostic::{Diagnostic, Edit};
use crate::source::Span;

use super::world::World;
use super::{At, Cx};

pub(super) fn code_actions(cx: &Cx<'_>, p: CodeActionParams) -> Option<CodeActionResponse> {
    let at = cx.at(&p.text_document.uri)?;
    let path = &at.world.program.file(at.file).abs_path;
    let wanted = at.lines.span(p.range);
    let found = at.world.found.get(path)?;
    let mut actions = Vec::new();
    for d in found {
        // Touching the range, an empty range (a cursor) included.
        if d.span.start > wanted.end || wanted.start > d.span.end {
            continue;
        }
        let diagnostic = cx.publication_of(at.world, d);
        for (i, fix) in d.fixes.iter().enumerate() {
            actions.push(action(
                cx,
                at.world,
                fix.title.clone(),
                &diagnostic,
                &fix.edits,
                i == 0,
            ));
        }
        for (title, edit) in suppressions(&at, d) {
            actions.push(action(cx, at.world, title, &diagnostic, &[edit], false));
        }
    }
    Some(actions)
}

fn action(
    cx: &Cx<'_>,
    world: &World,
    title: String,
    diagnostic: &lsp_types::Diagnostic,
    edits: &[Edit],
    preferred: bool,
) -> CodeActionOrCommand {
    // The URI type hashes by its text; clippy cannot see that.
    #[allow(clippy::mutable_key_type)]
    let mut changes: HashMap<lsp_types::Uri, Vec<TextEdit>> = HashMap::new();
    for e in edits {
        let file = world.program.file(e.file);
        let range = cx.lines(world, e.file).range(e.span);
        changes
            .entry(cx.uri(&file.abs_path))
            .or_default()
            .push(TextEdit::new(range, e.text.clone()));
    }
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit: Some(WorkspaceEdit::new(changes)),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    })
}

/// `orch-ignore` comments that would silence `d`: before the block that
/// holds it, and for the whole file (the only choice for front matter).
fn suppressions(at: &At<'_>, d: &Diagnostic) -> Vec<(String, Edit)> {
    if d.code == "suppression-unused" {
        return Vec::new();
    }
    let Some(doc) = at.world.doc(at.file) else {
        return Vec::new(); // config.yaml has no comments of this kind
    };
    let text = &at.world.program.file(at.file).text;
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = Vec::new();
    let code = d.code;
    if let Some(block) =
        doc.body.blocks.iter().find(|b| {
            b.span.start <= d.span.start && d.span.start < b.span.end.max(b.span.start + 1)
        })
    {
        let line_start = text[..block.span.start.min(text.len())]
            .rfind(['\n', '\r'])
            .map_or(0, |i| i + 1);
        out.push((
            format!("Suppress `{code}` here (orch-ignore)"),
            Edit {
                file: at.file,
                span: Span::empty(line_start),
                text: format!("<!-- orch-ignore {code} -->{eol}"),
            },
        ));
    }
    let body = doc.body_start.min(text.len());
    out.push((
        format!("Suppress `{code}` in this file (orch-ignore-file)"),
        Edit {
            file: at.file,
            span: Span::empty(body),
            text: format!("<!-- orch-ignore-file {code} -->{eol}"),
        },
    ));
    out
}
