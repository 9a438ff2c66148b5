//! Fuzzing on stable: proptest drives parse + lint + every report format
//! in-process over three kinds of input, each a temporary orchestrator
//! folder of 1 to 6 documents (and sometimes a `config.yaml`):
//!
//! - `fuzz_bytes`: arbitrary bytes, bare or behind a `---` line;
//! - `fuzz_structured`: documents assembled from the templates' own
//!   vocabulary (front-matter keys and values, headings, `- Label: value`
//!   items, tables, code spans, globs, suppressions) plus random Unicode,
//!   with random line ends and BOMs;
//! - `fuzz_mutated`: a valid program (the rule fixtures' base, or part of
//!   `.orchestrator.example`) with random edits spliced in.
//!
//! Every case must not panic; every diagnostic's span (and related span)
//! must lie inside its file and on character boundaries; every report
//! format must render (JSON and SARIF must be valid JSON); and the read-only
//! views (`status`, `next`, `show`, `graph` in every format, `sheet`, and
//! `lint` reading the folder from disk) must run in-process without a panic.
//!
//! `ORCH_FUZZ_CASES=N` sets the cases per target (default: a short run for
//! CI); `PROPTEST_RNG_SEED=N` picks the seed. See docs/reliability.md.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use orch::model::Program;
use orch::model::program::Input;
use orch::report::{self, Format, HumanOptions, Report};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases per target: `ORCH_FUZZ_CASES`, else the CI default.
fn cases(default: u32) -> u32 {
    std::env::var("ORCH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

fn config(default_cases: u32) -> Config {
    Config {
        cases: cases(default_cases),
        // Findings go to testdata/hostile/ by hand, not to a regression file.
        failure_persistence: None,
        max_shrink_iters: 4096,
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

/// One file of a fuzzed program: its path under the orchestrator folder and
/// its bytes (shown escaped, so a failure prints a reproducible literal).
#[derive(Clone)]
struct FuzzFile {
    path: String,
    bytes: Vec<u8>,
}

impl fmt::Debug for FuzzFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: b\"{}\"", self.path, self.bytes.escape_ascii())
    }
}

#[derive(Clone, Debug)]
struct FuzzProgram {
    files: Vec<FuzzFile>,
    config: Option<FuzzFile>,
}

// ---------------------------------------------------------------- vocabulary

const PATHS: &[&str] = &[
    "plan.md",
    "ledger.md",
    "tickets/P1-CORE-01.md",
    "tickets/P1-CORE-02.md",
    "cards/P1-CORE-01.md",
    "cards/P1-CORE-02.md",
    "sheets/G1.md",
    "x.md",
    "deep/er/y.md",
    "tickets/bad id.md",
    "cards/P1-UI-٠١.md",
];

const IDS: &[&str] = &[
    "P1-CORE-01",
    "P1-CORE-02",
    "P1-DOCS-01",
    "P2-UI-01",
    "P1-CORE-01.1",
    "P1-CORE-01.2",
    "P9-X-01",
    "../etc/passwd",
    "a/b",
    "P1 CORE 01",
    "P1-UI-٠١",
    "P1-\u{202e}10",
    "P1-\u{7}-01",
    "..",
    ".",
    "-",
    "demo",
    "G1",
];

/// The default skills, then near misses.
const SKILLS: &[&str] = &[
    orch::config::DEFAULT_SKILLS[0],
    orch::config::DEFAULT_SKILLS[1],
    orch::config::DEFAULT_SKILLS[2],
    orch::config::DEFAULT_SKILLS[3],
    orch::config::DEFAULT_SKILLS[4],
    orch::config::DEFAULT_SKILLS[5],
    orch::config::DEFAULT_SKILLS[6],
    "Development-Implementer",
    "nobody",
];

const WORDS: &[&str] = &[
    "plan",
    "ticket",
    "card",
    "ledger",
    "sheet",
    "todo",
    "in_progress",
    "done",
    "partial",
    "failed",
    "blocked",
    "split",
    "cancelled",
    "draft",
    "active",
    "abandoned",
    "pass",
    "PASS",
    "fail",
    "`partial`",
    "none",
    "-",
    "—",
    "TBD",
    "TODO",
    "?",
    "<placeholder>",
    "",
    " ",
    "\t",
    "|",
    "\\|",
    "`",
    "``",
    "\\",
    "<!--",
    "-->",
    "<b>",
    "&amp;",
    "[x](y)",
    "![i](j)",
    "**b**",
    "_e_",
    "~~s~~",
    "#",
    ":",
    "- ",
    "* ",
    "1. ",
    "> ",
    "\u{feff}",
    "\u{202e}",
    "\u{200b}",
    "\u{301}",
    "é",
    "日本",
    "🦀",
    "\r",
    "\u{0}",
    "\u{1b}[31m",
];

const KEYS: &[&str] = &[
    "kind", "id", "status", "title", "group", "tasks", "plan", "skills", "Kind", "id ", "x", "",
    "<<", "? a", "\"kind\"",
];

const YAML_VALUES: &[&str] = &[
    "[a, b]",
    "[P1-CORE-01, P1-CORE-02]",
    "{a: 1}",
    "~",
    "null",
    "\"\"",
    "''",
    "&a x",
    "*a",
    "*nope",
    "|\n  block\n  text",
    ">-\n  folded",
    "!!str x",
    "!!binary aGk=",
    "!custom x",
    "1",
    "-1",
    "1e999",
    "0x1F",
    "true",
    ".nan",
    "\"\\u202e\"",
    "'it''s'",
    "[[[[",
    "{{{",
    "]",
    "- a\n- b",
    "\n  nested: map",
    "\"unterminated",
    "a: b: c",
    "@reserved",
    "`tick`",
    "%TAG",
];

const HEADINGS: &[&str] = &[
    "# Program Goal",
    "# Phase Tree",
    "## Phase P1: Foundations",
    "## Phase P2: Next",
    "## Phase P1:",
    "## Phase Px: Bad",
    "## Branch Backlog",
    "## Dispatch Ticket: P1-CORE-01",
    "## Dispatch Ticket: P1-CORE-02",
    "## Dispatch Ticket:",
    "## Codex Execution Card: P1-CORE-01",
    "## Codex Execution Card: P1-CORE-02",
    "# Evidence Ledger",
    "## Unverified Items",
    "# Parallel Dispatch Command Sheet: G1",
    "## Program Goal",
    "#",
];

const LABELS: &[&str] = &[
    "Goal",
    "Scope",
    "Non-goals",
    "Outcome",
    "Workstreams",
    "UI",
    "Core",
    "Infrastructure",
    "Test",
    "Docs",
    "Objective",
    "Owner Skill",
    "Inputs",
    "Commands/Checks",
    "Expected Artifacts",
    "Risks",
    "Exit Criteria",
    "Skill",
    "Allowed Scope",
    "Files/paths",
    "Prohibited areas",
    "Commands to run",
    "Tests/checks to run",
    "Evidence to capture",
    "Completion criteria",
    "objective",
    "OWNER SKILL",
    "",
];

const TABLE_HEADERS: &[&str] = &[
    "| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |",
    "| Task ID | Owner Skill | Evidence | Result | Next Action |",
    "| Item | Risk | Owner |",
    "| Branch ID | Objective |",
    "| Task | Command | Scope |",
    "|",
    "||",
];

const GLOBS: &[&str] = &[
    "src/**",
    "src/ui",
    "src/ui/",
    "src/*.rs",
    "src/**/*.rs",
    "docs/**",
    "**",
    "*",
    "**/*",
    "{a,b}/**",
    "src/{ui,core}/*.rs",
    "src/[a-z]*.rs",
    "src/[!a]?.rs",
    "../x",
    "/etc/passwd",
    "C:\\x",
    "src/../..",
    "[[[[",
    "{",
    "}",
    "[z-a]",
    "*a*a*a*a*a*a*a*a",
    "**/**/**",
    "***",
    "src/\u{e9}/**",
    "",
    " ",
    "src//x",
    "./src",
    "~/x",
    "$HOME/x",
];

const CODES: &[&str] = &[
    "file-invalid",
    "frontmatter-missing",
    "field-unknown",
    "scope-unmatched",
    "scope-overlap",
    "status-ledger-mismatch",
    "suppression-unused",
    "id-invalid",
    "no-such-code",
    "",
];

// ---------------------------------------------------------------- strategies

fn pick(list: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(list).prop_map(str::to_string).boxed()
}

fn unicode(max: usize) -> BoxedStrategy<String> {
    prop::collection::vec(any::<char>(), 0..max)
        .prop_map(|v| v.into_iter().collect())
        .boxed()
}

/// A short piece of text: vocabulary, ASCII noise or any Unicode.
fn word() -> BoxedStrategy<String> {
    prop_oneof![
        3 => pick(WORDS),
        2 => pick(IDS),
        1 => pick(SKILLS),
        2 => "[A-Za-z0-9 ._/*?,:|`-]{0,12}",
        1 => unicode(8),
    ]
    .boxed()
}

fn glob() -> BoxedStrategy<String> {
    prop_oneof![
        3 => pick(GLOBS),
        1 => "[a-z/*?{},.!\\[\\]-]{0,24}",
        1 => unicode(6),
    ]
    .boxed()
}

/// A field value or a table cell: words and code spans.
fn value() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        3 => word(),
        2 => glob().prop_map(|g| format!("`{g}`")),
        1 => prop::collection::vec(pick(IDS), 1..4).prop_map(|v| v.join(", ")),
    ];
    (
        prop::collection::vec(piece, 0..4),
        prop::sample::select(&[" ", ", ", "", " | "][..]),
    )
        .prop_map(|(v, sep)| v.join(sep))
        .boxed()
}

fn front_matter() -> BoxedStrategy<String> {
    let key = prop_oneof![4 => pick(KEYS), 1 => word()];
    let val = prop_oneof![
        3 => pick(WORDS),
        2 => pick(IDS),
        2 => pick(YAML_VALUES),
        1 => word(),
    ];
    let open =
        prop::sample::select(&["---\n", "---\r\n", "--- \n", "", "----\n", "\u{feff}---\n"][..]);
    let close = prop::sample::select(&["---\n", "...\n", "", "---", "--- x\n", "---\n---\n"][..]);
    (
        open,
        prop::collection::vec((key, val), 0..7),
        close,
        any::<bool>(),
    )
        .prop_map(|(open, entries, close, kind_first)| {
            let mut s = String::from(open);
            if kind_first {
                s.push_str("kind: ticket\n");
            }
            for (k, v) in entries {
                s.push_str(&format!("{k}: {v}\n"));
            }
            s.push_str(close);
            s
        })
        .boxed()
}

fn table() -> BoxedStrategy<String> {
    let cell = prop_oneof![
        2 => pick(IDS),
        1 => pick(SKILLS),
        2 => value(),
        1 => Just(String::new()),
    ];
    (
        prop_oneof![3 => pick(TABLE_HEADERS), 1 => prop::collection::vec(word(), 0..8).prop_map(|v| format!("| {} |", v.join(" | ")))],
        0usize..8,
        prop::collection::vec(prop::collection::vec(cell, 0..8), 0..6),
        0usize..3,
    )
        .prop_map(|(header, columns, rows, edge)| {
            let mut s = header;
            s.push('\n');
            s.push('|');
            for _ in 0..columns {
                s.push_str(["---|", ":--|", "--:|"][edge]);
            }
            s.push('\n');
            for row in rows {
                let line = match edge {
                    0 => format!("| {} |", row.join(" | ")),
                    1 => row.join("|"),
                    _ => format!("|{}", row.join("|")),
                };
                s.push_str(&line);
                s.push('\n');
            }
            s
        })
        .boxed()
}

fn block() -> BoxedStrategy<String> {
    prop_oneof![
        3 => (pick(HEADINGS), prop::option::of(word())).prop_map(|(h, extra)| match extra {
            Some(w) => format!("{h}{w}"),
            None => h,
        }),
        1 => (1usize..8, word()).prop_map(|(n, w)| format!("{} {w}", "#".repeat(n))),
        5 => (0usize..4, pick(LABELS), value()).prop_map(|(indent, label, value)| {
            format!("{}- {label}: {value}", "  ".repeat(indent))
        }),
        2 => table(),
        1 => value(),
        1 => (word(), value(), any::<bool>()).prop_map(|(info, body, closed)| {
            format!("```{info}\n{body}\n{}", if closed { "```" } else { "" })
        }),
        1 => (pick(CODES), any::<bool>()).prop_map(|(code, file)| {
            format!("<!-- orch-ignore{} {code} -->", if file { "-file" } else { "" })
        }),
        1 => prop::sample::select(&["<!--", "<!-- x -->", "", "---", "***", "<details>", "[^1]: note"][..]).prop_map(str::to_string),
        1 => (1usize..200, prop::sample::select(&["> ", "- ", "* ", "1. ", "  ", "["][..]), word())
            .prop_map(|(n, unit, w)| format!("{}{w}", unit.repeat(n))),
        1 => unicode(24),
    ]
    .boxed()
}

/// How a document's lines end, and whether it carries a BOM.
fn finish(text: String, ends: u8, bom: bool) -> Vec<u8> {
    let text = match ends % 4 {
        0 => text,
        1 => text.replace('\n', "\r\n"),
        2 => text.replace('\n', "\r"),
        _ => text
            .split('\n')
            .enumerate()
            .map(|(i, l)| format!("{l}{}", ["\n", "\r\n", "\r"][i % 3]))
            .collect(),
    };
    let mut bytes = Vec::new();
    if bom {
        bytes.extend_from_slice("\u{feff}".as_bytes());
    }
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

fn structured_doc() -> BoxedStrategy<Vec<u8>> {
    (
        prop::option::weighted(0.9, front_matter()),
        prop::collection::vec(block(), 0..14),
        any::<u8>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(fm, blocks, ends, bom)| {
            let mut s = fm.unwrap_or_default();
            s.push('\n');
            s.push_str(&blocks.join("\n"));
            s.push('\n');
            finish(s, if ends < 200 { 0 } else { ends }, bom)
        })
        .boxed()
}

fn config_file() -> BoxedStrategy<FuzzFile> {
    let yaml = prop_oneof![
        prop::collection::vec(pick(SKILLS), 0..4).prop_map(|v| format!("skills: [{}]\n", v.join(", "))),
        (pick(CODES), prop::sample::select(&["error", "warning", "off", "maybe", "[x]"][..]))
            .prop_map(|(c, s)| format!("rules:\n  {c}: {s}\n")),
        pick(YAML_VALUES).prop_map(|v| format!("agent: {v}\n")),
        (pick(KEYS), pick(YAML_VALUES)).prop_map(|(k, v)| format!("{k}: {v}\n")),
        (glob(), glob()).prop_map(|(a, b)| {
            format!("align:\n  product_docs: [\"{a}\"]\n  governing:\n    - doc: {b}\n      paths: [\"{a}\"]\n")
        }),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ];
    prop::collection::vec(yaml, 0..4)
        .prop_map(|parts| FuzzFile {
            path: "config.yaml".to_string(),
            bytes: parts.concat().into_bytes(),
        })
        .boxed()
}

fn raw_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        prop::collection::vec(any::<u8>(), 0..1024).prop_map(|b| {
            let mut v = b"---\nkind: plan\n".to_vec();
            v.extend(b);
            v
        }),
        prop::collection::vec(any::<u8>(), 0..1024).prop_map(|b| {
            let mut v = b"---\nkind: ticket\nid: P1-CORE-01\n---\n".to_vec();
            v.extend(b);
            v
        }),
    ]
    .boxed()
}

fn program(doc: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<FuzzProgram> {
    (
        prop::collection::vec((pick(PATHS), doc), 1..=6),
        prop::option::weighted(0.3, config_file()),
    )
        .prop_map(|(files, config)| FuzzProgram {
            files: files
                .into_iter()
                .map(|(path, bytes)| FuzzFile { path, bytes })
                .collect(),
            config,
        })
        .boxed()
}

// ----------------------------------------------------------------- mutation

/// One edit to a seed file, at a position chosen by `at`.
#[derive(Clone, Debug)]
enum Edit {
    Insert(Index, String),
    Delete(Index, usize),
    Duplicate(Index, usize),
    Replace(Index, usize, String),
    Truncate(Index),
    Byte(Index, u8),
    SwapLines(Index, Index),
}

fn edit() -> BoxedStrategy<Edit> {
    let snippet = prop_oneof![
        3 => word(),
        2 => value(),
        2 => block().prop_map(|b| format!("\n{b}\n")),
        1 => pick(YAML_VALUES),
        1 => glob().prop_map(|g| format!("`{g}`")),
    ];
    prop_oneof![
        4 => (any::<Index>(), snippet.clone()).prop_map(|(i, s)| Edit::Insert(i, s)),
        2 => (any::<Index>(), 0usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), 0usize..200).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        3 => (any::<Index>(), 0usize..16, snippet).prop_map(|(i, n, s)| Edit::Replace(i, n, s)),
        1 => any::<Index>().prop_map(Edit::Truncate),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
    .boxed()
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(bytes: &[u8], edit: &Edit) -> Vec<u8> {
    // Edits work on text at character boundaries, except `Byte`; a file
    // that is already not UTF-8 is edited as bytes.
    let Ok(text) = std::str::from_utf8(bytes) else {
        let mut b = bytes.to_vec();
        if let Edit::Truncate(i) = edit {
            b.truncate(i.index(b.len() + 1));
        }
        return b;
    };
    let at = |i: &Index| floor_char(text, i.index(text.len() + 1));
    match edit {
        Edit::Insert(i, s) => {
            let p = at(i);
            format!("{}{s}{}", &text[..p], &text[p..]).into_bytes()
        }
        Edit::Delete(i, n) => {
            let p = at(i);
            let q = floor_char(text, p + n);
            format!("{}{}", &text[..p], &text[q..]).into_bytes()
        }
        Edit::Duplicate(i, n) => {
            let p = at(i);
            let q = floor_char(text, p + n);
            format!("{}{}{}", &text[..q], &text[p..q], &text[q..]).into_bytes()
        }
        Edit::Replace(i, n, s) => {
            let p = at(i);
            let q = floor_char(text, p + n);
            format!("{}{s}{}", &text[..p], &text[q..]).into_bytes()
        }
        Edit::Truncate(i) => bytes[..at(i)].to_vec(),
        Edit::Byte(i, b) => {
            let mut v = bytes.to_vec();
            if !v.is_empty() {
                let p = i.index(v.len());
                v[p] = *b;
            }
            v
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let (x, y) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(x, y);
            }
            lines.concat().into_bytes()
        }
    }
}

/// The valid programs mutations start from: the rule fixtures' base
/// program, and a slice of the bundled example.
fn seeds() -> Vec<FuzzProgram> {
    let read = |dir: &str, names: &[&str]| -> Option<FuzzProgram> {
        let base = crate::util::repo_path(dir);
        let mut files = Vec::new();
        let mut config = None;
        for name in names {
            let bytes = std::fs::read(base.join(name)).ok()?;
            let file = FuzzFile {
                path: (*name).to_string(),
                bytes,
            };
            if *name == "config.yaml" {
                config = Some(file);
            } else {
                files.push(file);
            }
        }
        Some(FuzzProgram { files, config })
    };
    let mut seeds = Vec::new();
    seeds.extend(read(
        "testdata/rules/file-invalid/pass",
        &[
            "plan.md",
            "ledger.md",
            "tickets/P1-CORE-01.md",
            "cards/P1-CORE-01.md",
        ],
    ));
    seeds.extend(read(
        ".orchestrator.example",
        &[
            "plan.md",
            "ledger.md",
            "tickets/P1-CORE-01.md",
            "cards/P1-CORE-01.md",
            "tickets/P2-UI-01.md",
            "sheets/G2.md",
            "config.yaml",
        ],
    ));
    assert!(!seeds.is_empty(), "no seed program found");
    seeds
}

#[derive(Clone, Debug)]
struct Mutation {
    seed: Index,
    edits: Vec<(Index, Edit)>,
    /// An edit to `config.yaml` too, when the seed has one.
    config_edit: Option<Edit>,
    extra: Vec<(String, Vec<u8>)>,
}

fn mutation() -> BoxedStrategy<Mutation> {
    (
        any::<Index>(),
        prop::collection::vec((any::<Index>(), edit()), 1..6),
        prop::option::weighted(0.15, edit()),
        prop::collection::vec((pick(PATHS), structured_doc()), 0..2),
    )
        .prop_map(|(seed, edits, config_edit, extra)| Mutation {
            seed,
            edits,
            config_edit,
            extra,
        })
        .boxed()
}

fn mutate(seeds: &[FuzzProgram], m: &Mutation) -> FuzzProgram {
    let mut p = seeds[m.seed.index(seeds.len())].clone();
    for (which, e) in &m.edits {
        let i = which.index(p.files.len());
        p.files[i].bytes = apply(&p.files[i].bytes, e);
    }
    if let (Some(e), Some(c)) = (&m.config_edit, p.config.as_mut()) {
        c.bytes = apply(&c.bytes, e);
    }
    for (path, bytes) in &m.extra {
        if p.files.len() < 6 {
            p.files.push(FuzzFile {
                path: path.clone(),
                bytes: bytes.clone(),
            });
        }
    }
    p
}

// -------------------------------------------------------------------- check

fn fail(msg: String, p: &FuzzProgram) -> TestCaseError {
    TestCaseError::fail(format!("{msg}\nprogram: {p:#?}"))
}

fn io(e: std::io::Error) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Write the program into a temporary folder and build it in-process from
/// the same bytes (one file per path, the first wins, in path order).
fn load(p: &FuzzProgram) -> Result<(tempfile::TempDir, Program), TestCaseError> {
    let tmp = tempfile::tempdir().map_err(io)?;
    let root = tmp.path();
    let dir = root.join(".orchestrator");
    let mut files: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for f in &p.files {
        files.entry(f.path.as_str()).or_insert(f.bytes.as_slice());
    }
    std::fs::create_dir_all(&dir).map_err(io)?;
    for (path, bytes) in &files {
        let abs = dir.join(path);
        std::fs::create_dir_all(abs.parent().expect("parent")).map_err(io)?;
        std::fs::write(&abs, bytes).map_err(io)?;
    }
    if let Some(c) = &p.config {
        std::fs::write(dir.join("config.yaml"), &c.bytes).map_err(io)?;
    }
    let input = |path: &str, bytes: &[u8]| Input {
        path: format!(".orchestrator/{path}"),
        abs_path: dir.join(path),
        bytes: Ok(bytes.to_vec()),
    };
    let inputs: Vec<Input> = files.iter().map(|(path, b)| input(path, b)).collect();
    let config = p.config.as_ref().map(|c| input("config.yaml", &c.bytes));
    let program = Program::from_inputs(root, &dir, inputs, config);
    Ok((tmp, program))
}

/// Lint the program in-process, check the spans, render every format, and
/// run the read-only views.
fn check(p: &FuzzProgram) -> Result<(), TestCaseError> {
    let (tmp, program) = load(p)?;
    let (root, dir) = (tmp.path(), program.dir.clone());
    let diagnostics = orch::rules::lint(&program);

    for d in &diagnostics {
        let places = std::iter::once((d.file, d.span, "span"))
            .chain(d.related.iter().map(|r| (r.file, r.span, "related span")));
        for (file, span, what) in places {
            let Some(source) = program.files.get(file.0 as usize) else {
                return Err(fail(
                    format!(
                        "{}: {what} names file #{} of {}",
                        d.code,
                        file.0,
                        program.files.len()
                    ),
                    p,
                ));
            };
            let text = &source.text;
            if span.start > span.end || span.end > text.len() {
                return Err(fail(
                    format!(
                        "{}: {what} {}..{} lies outside {} ({} bytes): {}",
                        d.code,
                        span.start,
                        span.end,
                        source.path,
                        text.len(),
                        d.message
                    ),
                    p,
                ));
            }
            if !text.is_char_boundary(span.start) || !text.is_char_boundary(span.end) {
                return Err(fail(
                    format!(
                        "{}: {what} {}..{} in {} splits a character: {}",
                        d.code, span.start, span.end, source.path, d.message
                    ),
                    p,
                ));
            }
        }
    }

    let report = Report {
        program: &program,
        diagnostics: &diagnostics,
        files: program.files.len(),
    };
    let formats = [
        (Format::Human, false),
        (Format::Human, true),
        (Format::Json, false),
        (Format::Github, false),
        (Format::Sarif, false),
        (Format::Markdown, false),
    ];
    for (format, color) in formats {
        let human = HumanOptions {
            color,
            width: if color { 60 } else { 100 },
            quiet: false,
        };
        let mut out = Vec::new();
        report::emit(format, &report, &human, &mut out)
            .map_err(|e| fail(format!("{format:?} failed: {e}"), p))?;
        if matches!(format, Format::Json | Format::Sarif) {
            serde_json::from_slice::<serde_json::Value>(&out)
                .map_err(|e| fail(format!("{format:?} is not JSON: {e}"), p))?;
        }
    }

    // Three of the read-only views, in-process, over the folder on disk,
    // chosen by the program's bytes (so a failing case replays): any outcome
    // is fine (an Err is exit 2); a panic fails the case.
    views(root, &dir, p);
    Ok(())
}

const VIEWS: &[&[&str]] = &[
    &["lint", "--format", "json"],
    &["status"],
    &["status", "--format", "json"],
    &["next"],
    &["graph"],
    &["graph", "--format", "dot"],
    &["graph", "--format", "json"],
    &["sheet"],
    &["sheet", "--format", "json"],
    &["show", "P1-CORE-01"],
];

fn views(root: &Path, dir: &Path, p: &FuzzProgram) {
    // FNV-1a over every byte of the program.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for f in p.files.iter().chain(&p.config) {
        for &b in f.path.as_bytes().iter().chain(&f.bytes) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    let first = (hash % VIEWS.len() as u64) as usize;
    for k in 0..3 {
        let args = VIEWS[(first + k * 3) % VIEWS.len()];
        let mut argv: Vec<std::ffi::OsString> = vec![
            "orch".into(),
            "--root".into(),
            root.into(),
            "--dir".into(),
            dir.into(),
        ];
        argv.extend(args.iter().map(Into::into));
        let cli =
            <orch::cli::Cli as clap::Parser>::try_parse_from(argv).expect("view arguments parse");
        let mut out = Vec::new();
        let _ = orch::cli::run_with(cli, &mut out);
    }
}

fn run(
    name: &str,
    default_cases: u32,
    strategy: BoxedStrategy<FuzzProgram>,
    test: fn(&FuzzProgram) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(config(default_cases));
    let started = std::time::Instant::now();
    let result = runner.run(&strategy, |p| test(&p));
    eprintln!(
        "{name}: {} cases in {:.1?}",
        runner.config().cases,
        started.elapsed()
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn fuzz_bytes() {
    run("fuzz_bytes", 128, program(raw_bytes()), check);
}

#[test]
fn fuzz_structured() {
    run("fuzz_structured", 192, program(structured_doc()), check);
}

#[test]
fn fuzz_mutated() {
    let seeds = seeds();
    let strategy = mutation().prop_map(move |m| mutate(&seeds, &m)).boxed();
    run("fuzz_mutated", 192, strategy, check);
}

/// Every file's bytes mapped through `f`, config included.
fn map_files(p: &FuzzProgram, f: impl Fn(&[u8]) -> Vec<u8>) -> FuzzProgram {
    let map = |file: &FuzzFile| FuzzFile {
        path: file.path.clone(),
        bytes: f(&file.bytes),
    };
    FuzzProgram {
        files: p.files.iter().map(map).collect(),
        config: p.config.as_ref().map(map),
    }
}

/// Code, file and line of every diagnostic, sorted.
fn findings(p: &FuzzProgram) -> Result<Vec<(String, String, usize)>, TestCaseError> {
    let (_tmp, program) = load(p)?;
    let mut out: Vec<_> = orch::rules::lint(&program)
        .iter()
        .map(|d| {
            let file = program.file(d.file);
            let (line, _) = file.line_col(d.span.start);
            (d.code.to_string(), file.path.clone(), line)
        })
        .collect();
    out.sort();
    Ok(out)
}

/// CRLF line ends are accepted (DESIGN 2): a program with LF line ends and
/// the same program with CRLF must get the same findings on the same lines.
fn same_with_crlf(p: &FuzzProgram) -> Result<(), TestCaseError> {
    let lf = map_files(p, |b| b.iter().copied().filter(|&c| c != b'\r').collect());
    let crlf = map_files(&lf, |b| {
        let mut v = Vec::with_capacity(b.len() + b.len() / 8);
        for &c in b {
            if c == b'\n' {
                v.push(b'\r');
            }
            v.push(c);
        }
        v
    });
    let (a, b) = (findings(&lf)?, findings(&crlf)?);
    if a != b {
        let only_lf: Vec<_> = a.iter().filter(|x| !b.contains(x)).collect();
        let only_crlf: Vec<_> = b.iter().filter(|x| !a.contains(x)).collect();
        return Err(fail(
            format!("LF and CRLF differ: only with LF {only_lf:?}, only with CRLF {only_crlf:?}"),
            &lf,
        ));
    }
    Ok(())
}

#[test]
fn fuzz_line_ends() {
    let seeds = seeds();
    let strategy = prop_oneof![
        mutation().prop_map(move |m| mutate(&seeds, &m)),
        program(structured_doc()),
    ]
    .boxed();
    run("fuzz_line_ends", 96, strategy, same_with_crlf);
}
