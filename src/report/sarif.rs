//! The sarif format: SARIF 2.1.0 for GitHub code scanning and other SARIF
//! consumers. One run; one rule per code in [`crate::rules::RULES`] (in
//! registry order, so `ruleIndex` is stable); results in the engine's order
//! (file, position, code); paths relative to the work tree under the
//! `%SRCROOT%` base; columns counted in Unicode code points, 1-based, end
//! exclusive. Each result carries a partial fingerprint, an FNV-1a 64 hash of
//! code, path and the text at the span (not of the line number, so an alert
//! survives edits above it), with an occurrence counter for repeats.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use crate::diagnostic::Severity;
use crate::rules::RULES;
use crate::source::{SourceFile, Span};

use super::Report;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Results per run that GitHub code scanning accepts.
pub const MAX_RESULTS: usize = 25_000;

/// The key under `partialFingerprints`; bump the version if the hash input
/// ever changes.
const FINGERPRINT_KEY: &str = "orchFingerprint/v1";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// FNV-1a, 64 bits: tiny and stable across Rust versions and platforms,
/// unlike `std`'s `DefaultHasher`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A repository-relative path as a URI reference: unreserved characters and
/// `/` as they are, every other byte percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn region(file: &SourceFile, span: Span) -> Value {
    let (start_line, start_column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    })
}

fn physical(file: &SourceFile, span: Span) -> Value {
    json!({
        "artifactLocation": {"uri": uri(&file.path), "uriBaseId": "%SRCROOT%"},
        "region": region(file, span),
    })
}

pub fn to_value(report: &Report<'_>) -> Value {
    let program = report.program;
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut rules: Vec<Value> = Vec::new();
    for rule in RULES {
        let m = rule.meta();
        index.insert(m.code, rules.len());
        rules.push(json!({
            "id": m.code,
            "shortDescription": {"text": m.summary},
            "help": {"text": m.docs, "markdown": m.docs},
            "defaultConfiguration": {"level": level(m.severity)},
        }));
    }
    // A code outside the registry (none today) still gets a rule entry, so
    // every result's ruleIndex is valid.
    for d in report.diagnostics {
        if !index.contains_key(d.code) {
            index.insert(d.code, rules.len());
            rules.push(json!({
                "id": d.code,
                "shortDescription": {"text": d.code},
                "defaultConfiguration": {"level": level(d.severity)},
            }));
        }
    }

    let mut occurrences: HashMap<u64, usize> = HashMap::new();
    let shown = &report.diagnostics[..report.diagnostics.len().min(MAX_RESULTS)];
    let results: Vec<Value> = shown
        .iter()
        .map(|d| {
            let file = program.file(d.file);
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let mut key = Vec::new();
            for part in [d.code, file.path.as_str(), file.slice(d.span)] {
                key.extend_from_slice(part.as_bytes());
                key.push(0);
            }
            let hash = fnv1a64(&key);
            let n = occurrences.entry(hash).or_insert(0);
            *n += 1;
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [{"physicalLocation": physical(file, d.span)}],
            });
            if !d.related.is_empty() {
                let related: Vec<Value> = d
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        json!({
                            "id": i + 1,
                            "physicalLocation": physical(program.file(r.file), r.span),
                            "message": {"text": r.message},
                        })
                    })
                    .collect();
                result["relatedLocations"] = Value::Array(related);
            }
            result["partialFingerprints"] = json!({FINGERPRINT_KEY: format!("{hash:016x}:{n}")});
            result
        })
        .collect();

    let mut run = json!({
        "tool": {
            "driver": {
                "name": "orch",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(uri) = information_uri() {
        run["tool"]["driver"]["informationUri"] = json!(uri);
    }
    let omitted = report.diagnostics.len() - shown.len();
    if omitted > 0 {
        run["properties"] = json!({
            "truncated": true,
            "omittedResults": omitted,
            "note": format!(
                "{omitted} of {} results omitted: code scanning accepts {MAX_RESULTS} per run; run `orch lint` for all of them",
                report.diagnostics.len()
            ),
        });
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

/// The repository (or home page) from Cargo.toml; none when neither is set,
/// rather than a guessed address.
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .find(|u| !u.is_empty())
}

pub fn emit(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::model::Program;
    use crate::source::FileId;

    #[test]
    fn past_the_cap_results_are_cut_with_a_note() {
        let program = Program {
            files: vec![SourceFile::new("p.md".into(), "p.md".into(), "x y\n")],
            ..Program::default()
        };
        let diagnostics: Vec<Diagnostic> = (0..MAX_RESULTS + 3)
            .map(|_| Diagnostic::new("dep-unknown", FileId(0), Span::new(0, 1), "m"))
            .collect();
        let report = Report {
            program: &program,
            diagnostics: &diagnostics,
            files: 1,
        };
        let v = to_value(&report);
        let run = &v["runs"][0];
        assert_eq!(run["results"].as_array().unwrap().len(), MAX_RESULTS);
        assert_eq!(run["properties"]["truncated"], true);
        assert_eq!(run["properties"]["omittedResults"], 3);
        // Repeats of one finding are told apart by an occurrence counter.
        let fp = |i: usize| run["results"][i]["partialFingerprints"][FINGERPRINT_KEY].clone();
        assert!(fp(0).as_str().unwrap().ends_with(":1"));
        assert!(fp(1).as_str().unwrap().ends_with(":2"));
    }

    #[test]
    fn an_unregistered_code_still_gets_a_rule() {
        let program = Program {
            files: vec![SourceFile::new("p.md".into(), "p.md".into(), "x")],
            ..Program::default()
        };
        let diagnostics = [Diagnostic::new(
            "no-such-code",
            FileId(0),
            Span::new(0, 1),
            "m",
        )];
        let report = Report {
            program: &program,
            diagnostics: &diagnostics,
            files: 1,
        };
        let v = to_value(&report);
        let run = &v["runs"][0];
        let i = run["results"][0]["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(run["tool"]["driver"]["rules"][i]["id"], "no-such-code");
        assert!(run.get("properties").is_none());
    }

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn uris_are_relative_and_percent_encoded() {
        assert_eq!(
            uri(".orchestrator/cards/P1-UI-01.md"),
            ".orchestrator/cards/P1-UI-01.md"
        );
        assert_eq!(uri("a b/é#.md"), "a%20b/%C3%A9%23.md");
    }
}
