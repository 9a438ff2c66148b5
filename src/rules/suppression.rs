//! Suppression comments (DESIGN 11): `<!-- orch-ignore CODE -->` silences
//! CODE in the next block, `<!-- orch-ignore-file CODE -->` in the whole
//! file. Several codes may be listed, separated by spaces or commas. A
//! suppression that silences nothing is itself reported.

use crate::diagnostic::{Diagnostic, Severity};
use crate::parse::markdown::BlockKind;
use crate::source::{FileId, Span};

use super::{Context, rule};

rule!(
    SuppressionUnused,
    "suppression-unused",
    Warning,
    "an `orch-ignore` comment that suppresses nothing",
    r#"## What it does
Reports an `<!-- orch-ignore CODE -->` or `<!-- orch-ignore-file CODE -->`
comment that silenced no diagnostic, or that names no rule.

## Why it matters
A stale suppression hides the next real problem of that kind in the same
place, and a misspelt code suppresses nothing while looking as if it does.

## Example
```markdown
<!-- orch-ignore dep-unknown -->
| P1-UI-01 | Build the panel | development-implementer | P1-CORE-01 | panel renders |
```
If `P1-CORE-01` exists, nothing is suppressed: delete the comment.
"#,
    check
);

/// The engine reports unused suppressions in [`apply`]; this rule exists for
/// its code, docs and severity.
fn check(_: &Context<'_>, _: &mut Vec<Diagnostic>) {}

#[derive(Debug)]
struct Suppression {
    file: FileId,
    /// The comment itself.
    comment: Span,
    /// Where it applies; `None` for the whole file.
    target: Option<Span>,
    codes: Vec<String>,
    used: Vec<bool>,
}

fn parse_comment(text: &str) -> Option<(bool, Vec<String>)> {
    let inner = text
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let (file_level, rest) = if let Some(rest) = inner.strip_prefix("orch-ignore-file") {
        (true, rest)
    } else {
        (false, inner.strip_prefix("orch-ignore")?)
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let codes = rest
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Some((file_level, codes))
}

fn collect(program: &crate::model::Program) -> Vec<Suppression> {
    let mut out = Vec::new();
    for doc in &program.docs {
        let blocks = &doc.body.blocks;
        for (i, block) in blocks.iter().enumerate() {
            let BlockKind::Html(html) = &block.kind else {
                continue;
            };
            let Some((file_level, codes)) = parse_comment(html) else {
                continue;
            };
            let target = if file_level {
                None
            } else {
                // The next block that is not another comment.
                Some(
                    blocks[i + 1..]
                        .iter()
                        .find(|b| !matches!(&b.kind, BlockKind::Html(h) if parse_comment(h).is_some()))
                        .map_or(Span::empty(block.span.end), |b| b.span),
                )
            };
            let used = vec![false; codes.len()];
            out.push(Suppression {
                file: doc.file,
                comment: block.span,
                target,
                codes,
                used,
            });
        }
    }
    out
}

/// Drop suppressed diagnostics and add one for each unused suppression.
pub fn apply(program: &crate::model::Program, diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut sups = collect(program);
    if sups.is_empty() {
        return diagnostics;
    }
    let mut kept: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter(|d| {
            let mut suppressed = false;
            for s in sups.iter_mut().filter(|s| s.file == d.file) {
                let applies = match s.target {
                    None => true,
                    Some(t) => t.contains(d.span.start) || (t.start == d.span.start),
                };
                if !applies {
                    continue;
                }
                for (code, used) in s.codes.iter().zip(s.used.iter_mut()) {
                    if code == d.code {
                        *used = true;
                        suppressed = true;
                    }
                }
            }
            !suppressed
        })
        .collect();
    for s in &sups {
        if s.codes.is_empty() {
            kept.push(
                Diagnostic::new(
                    SUPPRESSION_UNUSED,
                    s.file,
                    s.comment,
                    "this suppression names no rule",
                )
                .help("name the codes to silence: `<!-- orch-ignore dep-unknown -->`"),
            );
        }
        for (code, used) in s.codes.iter().zip(&s.used) {
            if *used {
                continue;
            }
            let known = super::is_code(code);
            let near = crate::util::nearest(code, super::all_codes());
            let (message, help) = if known && super::find(code).is_none() {
                (
                    format!(
                        "`orch-ignore {code}` suppresses nothing: `{code}` is an align-docs check"
                    ),
                    format!(
                        "remove the comment; to change how align-docs reports `{code}`, set its level in config.yaml (`rules: {{{code}: warning}}`)"
                    ),
                )
            } else if known {
                (
                    format!("`orch-ignore {code}` suppresses nothing"),
                    "remove the comment; nothing here triggers that rule".to_string(),
                )
            } else {
                (
                    format!("`{code}` is not a rule code"),
                    format!(
                        "fix the code{}; `orch rules` lists them",
                        crate::util::did_you_mean(near)
                    ),
                )
            };
            let d = Diagnostic::new(SUPPRESSION_UNUSED, s.file, s.comment, message).help(help);
            kept.push(if known {
                remove_code(program, d, s, code)
            } else {
                super::rename(program, d, s.comment, code, near)
            });
        }
    }
    for d in &mut kept {
        if d.code == SUPPRESSION_UNUSED {
            d.severity = Severity::Warning;
        }
    }
    kept
}

const SUPPRESSION_UNUSED: &str = "suppression-unused";

/// Offer to remove an unused code: the whole comment (and its line end)
/// when it is the comment's only code, else the code alone.
fn remove_code(
    program: &crate::model::Program,
    d: Diagnostic,
    s: &Suppression,
    code: &str,
) -> Diagnostic {
    let text = &program.file(s.file).text;
    let comment = program.file(s.file).clamp(s.comment);
    if s.codes.len() == 1 {
        let rest = &text[comment.end..];
        let eol = if rest.starts_with("\r\n") {
            2
        } else {
            usize::from(rest.starts_with('\n'))
        };
        return d.fix(
            "Remove the comment",
            Span::new(comment.start, comment.end + eol),
            "",
        );
    }
    let inner = &text[comment.start..comment.end];
    match inner.find(&format!(" {code}")) {
        Some(i) => d.fix(
            format!("Remove `{code}`"),
            Span::new(comment.start + i, comment.start + i + 1 + code.len()),
            "",
        ),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_comment;

    #[test]
    fn comments() {
        assert_eq!(
            parse_comment("<!-- orch-ignore dep-unknown, skill-unknown -->\n"),
            Some((false, vec!["dep-unknown".into(), "skill-unknown".into()]))
        );
        assert_eq!(
            parse_comment("<!--orch-ignore-file field-empty-->"),
            Some((true, vec!["field-empty".into()]))
        );
        assert_eq!(parse_comment("<!-- orch-ignored x -->"), None);
        assert_eq!(parse_comment("<!-- note -->"), None);
    }
}
