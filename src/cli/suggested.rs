//! Every command orch suggests (in a help line, a message, a rule's docs)
//! is complete and valid: each `` `orch ...` `` written in a string in
//! `src/` is run through the CLI parser, with its placeholders filled in.
//! A suggestion that lacks a required flag (`orch record ID` without
//! `--result` and `--evidence`), names a flag that does not exist or ends
//! in `...` fails here, before a user copies it.

use clap::Parser;

use super::Cli;

/// A sample value for a placeholder, by what it names.
fn sample(name: &str) -> &'static str {
    let n = name.to_ascii_lowercase();
    if n.contains("result") || n == "need" || n.contains("outcome") || n.starts_with("pass|") {
        "pass"
    } else if n.contains("kind") {
        "ticket"
    } else if n.contains("shell") {
        "bash"
    } else if n.contains("format") {
        "json"
    } else if n == "command" {
        "status"
    } else if n == "count" || n == "n" {
        "8"
    } else {
        "P1-CORE-01"
    }
}

/// Fill `{name}` (format arguments) and `<name>` (placeholders a person
/// fills) with sample values.
fn fill(command: &str) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(i) = rest.find(['{', '<']) {
        out.push_str(&rest[..i]);
        let close = if rest.as_bytes()[i] == b'{' { '}' } else { '>' };
        match rest[i + 1..].find(close) {
            Some(j) => {
                out.push_str(sample(&rest[i + 1..i + 1 + j]));
                rest = &rest[i + 2 + j..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Split a command line as a POSIX shell would (quotes, no expansion),
/// stopping at a pipe or a redirection.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        c => word.push(c),
                    }
                }
            }
            '|' | '>' | '<' | ';' | '&' if !in_word || word.is_empty() => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The commands in the code (not in comments) of one source file, with
/// their line numbers: each `` `orch ...` ``, and each string that is a
/// command (`"orch start {}"`). A command written without backticks in a
/// sentence (`(orch start X)`, `: orch split X`) is returned as an error:
/// it reads as prose, and the reader cannot tell where it ends.
fn suggestions(source: &str) -> Vec<(usize, Result<String, String>)> {
    use clap::CommandFactory;
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    // `orch <subcommand>` starts at byte `i` of `text`.
    let command_at = |text: &str| {
        text.split_whitespace()
            .nth(1)
            .is_some_and(|w| names.iter().any(|n| n == w))
    };
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("`orch ") {
            let after = &rest[i + 1..];
            let Some(end) = after.find('`') else { break };
            out.push((n + 1, Ok(after[..end].replace("\\\"", "\""))));
            rest = &after[end + 1..];
        }
        let mut rest = line;
        while let Some(i) = rest.find("\"orch ") {
            let after = &rest[i + 1..];
            let mut end = after.len();
            let bytes = after.as_bytes();
            let mut k = 0;
            while k < bytes.len() {
                match bytes[k] {
                    b'\\' => k += 1,
                    b'"' => {
                        end = k;
                        break;
                    }
                    _ => {}
                }
                k += 1;
            }
            if command_at(&after[..end]) {
                out.push((n + 1, Ok(after[..end].replace("\\\"", "\""))));
            }
            rest = &after[end.min(after.len())..];
        }
        for lead in ["(orch ", ": orch "] {
            if let Some(i) = line.find(lead)
                && command_at(&line[i + lead.len() - 5..])
            {
                out.push((
                    n + 1,
                    Err(format!(
                        "`{}` is a command in a sentence: put it in backticks",
                        line[i + lead.len() - 5..].trim()
                    )),
                ));
            }
        }
    }
    out
}

#[test]
fn every_suggested_command_parses() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    let mut bad = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.expect("walk src");
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(entry.path()).expect("read source");
        let file = entry.path().strip_prefix(&root).expect("inside src");
        if file.ends_with("cli/suggested.rs") {
            continue;
        }
        for (line, command) in suggestions(&source) {
            checked += 1;
            let command = match command {
                Ok(c) => c,
                Err(e) => {
                    bad.push(format!("src/{}:{line}: {e}", file.display()));
                    continue;
                }
            };
            let filled = fill(&command);
            if filled
                .split_whitespace()
                .any(|w| w.contains("...") || w.contains('…'))
            {
                bad.push(format!(
                    "src/{}:{line}: `{command}` ends in `...`: write the value (`\"<what>\"`)",
                    file.display()
                ));
                continue;
            }
            if let Err(e) = Cli::try_parse_from(shell_words(&filled)) {
                let e = e.to_string();
                let e = e.lines().next().unwrap_or_default();
                bad.push(format!("src/{}:{line}: `{command}`: {e}", file.display()));
            }
        }
    }
    assert!(checked > 50, "only {checked} suggestions found");
    assert!(
        bad.is_empty(),
        "suggested commands that do not parse:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_itself_works() {
    assert_eq!(
        shell_words("orch record X --evidence \"a b\" | head"),
        ["orch", "record", "X", "--evidence", "a b"]
    );
    assert_eq!(
        fill("orch record {id} --result {need}"),
        "orch record P1-CORE-01 --result pass"
    );
    assert_eq!(
        fill("orch cancel <ID> --reason \"<why>\""),
        "orch cancel P1-CORE-01 --reason \"P1-CORE-01\""
    );
    assert!(Cli::try_parse_from(shell_words("orch record P1-CORE-01")).is_err());
    assert!(
        Cli::try_parse_from(shell_words(&fill(
            "orch record {id} --result pass --evidence \"x\""
        )))
        .is_ok()
    );
}
