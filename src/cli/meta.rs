//! `orch schema` and `orch rules`: the product's own reference.

use std::io::Write;

use crate::diagnostic::Severity;
use crate::error::{Error, Outcome, Result};
use crate::report::Format;
use crate::rules::RULES;
use crate::util::{did_you_mean, nearest};

use super::{Global, print_json};

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// plan, ticket, card, ledger, sheet or config
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(crate::schema::NAMES))]
    pub kind: String,
}

pub fn schema(args: &SchemaArgs, out: &mut dyn Write) -> Result<Outcome> {
    let text = crate::schema::schema(&args.kind)
        .ok_or_else(|| Error::usage(format!("no schema for `{}`", args.kind)))?;
    out.write_all(text.as_bytes())?;
    Ok(Outcome::Clean)
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// A rule code, e.g. dep-cycle
    pub code: Option<String>,
}

pub fn rules(args: &RulesArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let json = g.format == Format::Json;
    let Some(code) = &args.code else {
        if json {
            let list: Vec<_> = RULES
                .iter()
                .map(|r| {
                    let m = r.meta();
                    serde_json::json!({"code": m.code, "severity": m.severity.as_str(), "summary": m.summary})
                })
                .collect();
            print_json(out, &serde_json::json!({ "rules": list }))?;
            return Ok(Outcome::Clean);
        }
        let w = RULES
            .iter()
            .map(|r| r.meta().code.len())
            .max()
            .unwrap_or(10);
        for r in RULES {
            let m = r.meta();
            writeln!(
                out,
                "{:w$}  {:7}  {}",
                m.code,
                m.severity.as_str(),
                m.summary
            )?;
        }
        return Ok(Outcome::Clean);
    };
    let Some(rule) = crate::rules::find(code) else {
        if let Some(c) = crate::align::codes::find(code) {
            return explain(json, c.code, c.severity, c.summary, c.docs, out);
        }
        let codes = RULES
            .iter()
            .map(|r| r.meta().code)
            .chain(crate::align::CODES.iter().map(|c| c.code));
        return Err(Error::with_help(
            format!(
                "`{code}` is not a rule code{}",
                did_you_mean(nearest(code, codes))
            ),
            "`orch rules` lists every code",
        ));
    };
    let m = rule.meta();
    explain(json, m.code, m.severity, m.summary, m.docs, out)
}

/// One code's documentation: a lint rule's or a checklist code's.
fn explain(
    json: bool,
    code: &str,
    severity: Severity,
    summary: &str,
    docs: &str,
    out: &mut dyn Write,
) -> Result<Outcome> {
    if json {
        let v = serde_json::json!({"code": code, "severity": severity.as_str(), "summary": summary, "docs": docs});
        print_json(out, &v)?;
        return Ok(Outcome::Clean);
    }
    let default = match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    writeln!(
        out,
        "# {code} ({default} by default)\n\n{summary}\n\n{}",
        docs.trim_end()
    )?;
    Ok(Outcome::Clean)
}
