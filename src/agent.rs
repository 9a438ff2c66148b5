//! How an agent is started for a task: the prompt built from its card (the
//! whole card: the seed's first line at its head, then the card as written,
//! how orch judges the task, the governing docs and the completion report),
//! and the configured argv (or the preset's) with its placeholders filled
//! from validated values only. Used by `orch sheet` (written into a script)
//! and `orch dispatch` (run directly).

use crate::config::{Budget, Config, Preset};
use crate::model::Program;
use crate::model::program::Task;
use crate::model::templates;
use crate::model::views::FieldsView;
use crate::source::{Spanned, Text};

/// What the prompt and argv are built from.
#[derive(Clone, Debug)]
pub struct TaskBrief {
    pub id: String,
    pub skill: String,
    pub goal: String,
    pub criteria: String,
    /// The card's path, relative to the work tree.
    pub card: String,
    /// The card's section (`## Codex Execution Card: <ID>` and its fields),
    /// as written.
    pub card_text: String,
    /// The allowed globs and prohibited areas, as written.
    pub allowed: Vec<String>,
    pub prohibited: Vec<String>,
    /// The card's "Commands to run" and "Tests/checks to run" entries.
    pub commands: Vec<String>,
    pub checks: Vec<String>,
    /// Governing docs for the task: the plan's, and those of
    /// `align.governing` whose paths its scope can touch.
    pub docs: Vec<String>,
    /// The card's front-matter `budget:`, else the config's.
    pub budget: Option<Budget>,
}

fn text(s: &Option<Spanned<Text>>) -> String {
    s.as_ref()
        .map(|s| s.value.trim().to_string())
        .unwrap_or_default()
}

/// The card's front-matter `budget: {tokens: N, usd: X}`; `Ok(None)` when
/// it has none.
pub fn card_budget(program: &Program, task: &Task) -> Result<Option<Budget>, String> {
    let Some(ci) = task.card else {
        return Ok(None);
    };
    let Some(node) = program.docs[ci].front().and_then(|fm| fm.get("budget")) else {
        return Ok(None);
    };
    Budget::from_front(&node.value)
        .map(Some)
        .map_err(|e| format!("`{}`'s card: {e}", task.id))
}

/// The brief the prompt is built from: the card's fields, falling back to
/// the plan row's objective and done criteria.
pub fn brief(program: &Program, task: &Task) -> Option<(TaskBrief, Vec<String>)> {
    let doc = &program.docs[task.card?];
    let file = program.file(doc.file);
    let view = FieldsView::of(doc, templates::CARD_HEADING);
    let field = |label: &str| {
        view.field(label)
            .map(|i| i.value.value.trim().to_string())
            .unwrap_or_default()
    };
    let entries = |label: &str| -> Vec<String> {
        view.field(label)
            .map(|i| {
                i.entries()
                    .into_iter()
                    .map(|e| e.value.trim().to_string())
                    .filter(|e| !e.is_empty() && !templates::is_none_marker(e))
                    .collect()
            })
            .unwrap_or_default()
    };
    let checks = entries("Tests/checks to run");
    let skill = Some(field("Skill"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text(&task.skill));
    let card_text = view
        .section
        .map(|s| {
            let end = s.blocks.last().map_or(s.span.end, |b| b.span.end);
            file.text
                .get(s.span.start..end)
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    let scope = crate::model::scope::CardScope::read(program, task);
    let globs = |v: Option<&Vec<crate::model::scope::Glob>>| -> Vec<String> {
        v.map(|g| g.iter().map(|g| g.text.value.trim().to_string()).collect())
            .unwrap_or_default()
    };
    let allowed = globs(scope.as_ref().map(|s| &s.allowed));
    let prohibited = globs(scope.as_ref().map(|s| &s.prohibited));
    let budget = card_budget(program, task)
        .ok()
        .flatten()
        .or(program.config.agent.budget);
    Some((
        TaskBrief {
            id: task.id.clone(),
            skill,
            goal: Some(field("Goal"))
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| text(&task.objective)),
            criteria: Some(field("Completion criteria"))
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| text(&task.done_criteria)),
            card: file.path.clone(),
            card_text,
            docs: governing_docs(program, &allowed),
            allowed,
            prohibited,
            commands: entries("Commands to run"),
            checks: checks.clone(),
            budget,
        },
        checks,
    ))
}

/// The plan's governing docs, and those of `align.governing` whose paths
/// one of `allowed` can touch.
fn governing_docs(program: &Program, allowed: &[String]) -> Vec<String> {
    use crate::scope::Pattern;
    let mut docs: Vec<String> = Vec::new();
    if let Some(plan) = program.plan() {
        for section in plan.sections() {
            for item in section.items() {
                let label = item.label.as_ref().map(|l| l.value.to_ascii_lowercase());
                if matches!(
                    label.as_deref(),
                    Some("governing docs" | "governing documents" | "governing")
                ) {
                    for e in item.entries() {
                        let d = e.value.trim().trim_start_matches("./").to_string();
                        if !d.is_empty() && !templates::is_none_marker(&d) {
                            docs.push(d);
                        }
                    }
                }
            }
        }
    }
    let mine: Vec<Pattern> = allowed
        .iter()
        .filter_map(|g| Pattern::parse(g).ok())
        .collect();
    for g in &program.config.align.governing {
        let touches = g
            .paths
            .iter()
            .filter_map(|p| Pattern::parse(p.trim()).ok())
            .any(|p| mine.iter().any(|m| m.may_intersect(&p)));
        if touches {
            docs.push(g.doc.trim().trim_start_matches("./").to_string());
        }
    }
    let mut seen = std::collections::HashSet::new();
    docs.retain(|d| seen.insert(d.clone()));
    docs
}

/// The seed's first line, at the head of every default prompt.
pub const DEFAULT_PROMPT: &str = "Use ${skill} to execute {task}: {goal} Done when: {criteria}";

/// How the agent learns the completion report's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportBy<'a> {
    /// Its command passes the schema (`--output-schema`, `--json-schema`):
    /// its final answer is held to it.
    Flag,
    /// The prompt carries the schema (this text).
    Prompt(&'a str),
}

/// Does the argv template hand the agent the completion report's schema?
pub fn passes_schema(command: &[String]) -> bool {
    command
        .iter()
        .any(|a| a.contains("{schema}") || a.contains("{schema_json}"))
}

fn quoted(list: &[String]) -> String {
    list.iter()
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The whole card and how orch judges the task: what `{brief}` expands to,
/// and what the default prompt holds after its first line.
pub fn brief_text(brief: &TaskBrief, report: ReportBy<'_>) -> String {
    let mut s = format!(
        "Your brief is the card `{}`, as written:\n\n{}\n\nHow orch judges this task:\n",
        brief.card, brief.card_text
    );
    if brief.allowed.is_empty() {
        s.push_str("- The card allows no path: change no file.\n");
    } else {
        s.push_str(&format!(
            "- Change files only inside {}",
            quoted(&brief.allowed)
        ));
        if !brief.prohibited.is_empty() {
            s.push_str(&format!(", never under {}", quoted(&brief.prohibited)));
        }
        s.push_str(
            ". A change to any other file, whatever made it, keeps the task from passing.\n",
        );
    }
    if !brief.commands.is_empty() {
        s.push_str(&format!(
            "- Commands to run: {}.\n",
            quoted(&brief.commands)
        ));
    }
    if brief.checks.is_empty() {
        s.push_str("- The card lists no check to run.\n");
    } else {
        s.push_str(&format!(
            "- Run every check and leave it passing: {}. A check orch does not see pass keeps the task from passing.\n",
            quoted(&brief.checks)
        ));
    }
    if !brief.docs.is_empty() {
        s.push_str(&format!(
            "- Governing docs to respect and keep true: {}.\n",
            quoted(&brief.docs)
        ));
    }
    if let Some(b) = brief.budget.filter(|b| !b.is_empty()) {
        let mut parts = Vec::new();
        if let Some(t) = b.tokens {
            parts.push(format!("{t} tokens"));
        }
        if let Some(u) = b.usd {
            parts.push(format!("${u}"));
        }
        s.push_str(&format!(
            "- Budget: {}; orch stops an agent past it.\n",
            parts.join(" and ")
        ));
    }
    s.push_str(
        "- Do not commit: orch records the result, and reviewers read your changes in the work tree.\n",
    );
    match report {
        ReportBy::Flag => s.push_str(&format!(
            "- Your final answer is the completion report, a JSON object held to the output schema you were given: `task` is `{}`; `result` pass, partial or fail; `evidence` what shows it; `checks` each check you ran with its `command` and `outcome`; `unverified` what you could not verify, each with its `risk` and `owner`; `next_action`. orch checks it against what it saw: a claim never raises its verdict.\n",
            brief.id
        )),
        ReportBy::Prompt(schema) => s.push_str(&format!(
            "- End your final message with the completion report: one JSON object, alone in a ```json block, that this JSON Schema accepts (`task` is `{}`; a claim never raises orch's verdict):\n\n```json\n{schema}\n```\n",
            brief.id
        )),
    }
    s
}

/// The agent's prompt for a task: the config's template, or the seed's first
/// line followed by the whole card and how orch judges the task.
pub fn prompt(config: &Config, brief: &TaskBrief, report: ReportBy<'_>) -> String {
    let goal = sentence(&brief.goal);
    let criteria = sentence(&brief.criteria);
    let body = brief_text(brief, report);
    let values = [
        ("skill", brief.skill.as_str()),
        ("task", &brief.id),
        ("goal", &goal),
        ("criteria", &criteria),
        ("card", &brief.card),
        ("brief", &body),
    ];
    match config.agent.prompt.as_deref() {
        Some(template) => fill(template, &values).0,
        None => format!("{}\n\n{body}", fill(DEFAULT_PROMPT, &values).0),
    }
}

/// What the argv's placeholders besides the task's own expand to.
pub struct ArgvInputs<'a> {
    /// The folder the agent works in.
    pub repo: &'a str,
    pub last_message: &'a str,
    /// The completion report's schema: its file, and its text.
    pub schema: &'a str,
    pub schema_json: &'a str,
}

/// The argv for a task: every `{name}` placeholder of the command (the
/// preset's when `agent.command` is unset) replaced, each argument staying
/// one argument (no shell is involved). With a preset, the flags the agent
/// has for the card are added (Claude: `--allowedTools` for the card's
/// commands and checks, `--max-budget-usd` for a USD budget).
///
/// Refused: a `{skill}` that is not one of `skills`, and a placeholder value
/// starting with `-` (the agent would read it as an option).
pub fn argv(
    config: &Config,
    brief: &TaskBrief,
    inputs: &ArgvInputs<'_>,
) -> Result<Vec<String>, String> {
    let command = config.agent.command();
    if command.is_empty() {
        return Err("the agent command is empty".into());
    }
    let schema_text = crate::dispatch::completion::schema_text(&[brief.id.as_str()]);
    let report = if passes_schema(&command) {
        ReportBy::Flag
    } else {
        ReportBy::Prompt(&schema_text)
    };
    let prompt = prompt(config, brief, report);
    let values = [
        ("repo", inputs.repo),
        ("task", brief.id.as_str()),
        ("skill", brief.skill.as_str()),
        ("prompt", &prompt),
        ("card", &brief.card),
        ("last_message", inputs.last_message),
        ("schema", inputs.schema),
        ("schema_json", inputs.schema_json),
    ];
    let mut used = std::collections::BTreeSet::new();
    let mut out: Vec<String> = command
        .iter()
        .map(|arg| {
            let (filled, names) = fill(arg, &values);
            used.extend(names);
            filled
        })
        .collect();
    if used.contains("skill") || used.contains("prompt") {
        check_skill(config, brief)?;
    }
    for (name, value) in values {
        if used.contains(name) && value.starts_with('-') {
            return Err(format!(
                "`{}`: the value of `{{{name}}}` starts with `-` (`{}`), which the agent would read as an option",
                brief.id,
                crate::util::clip_chars(&crate::util::one_line(value), 40)
            ));
        }
    }
    if config.agent.command.is_empty() && config.agent.preset == Some(Preset::Claude) {
        if let Some(usd) = brief.budget.and_then(|b| b.usd) {
            out.push("--max-budget-usd".into());
            out.push(format!("{usd}"));
        }
        let rules: Vec<String> = brief
            .commands
            .iter()
            .chain(&brief.checks)
            .map(|c| format!("Bash({}:*)", c.replace(')', "")))
            .collect();
        if !rules.is_empty() {
            out.push("--allowedTools".into());
            out.extend(rules);
        }
    }
    Ok(out)
}

/// The skill must be one the config knows: it lands in the agent's argv.
fn check_skill(config: &Config, brief: &TaskBrief) -> Result<(), String> {
    if config.skills.contains(&brief.skill) {
        return Ok(());
    }
    Err(format!(
        "`{}`'s skill `{}` is not one of the config's `skills`{}",
        brief.id,
        crate::util::clip_chars(&crate::util::one_line(&brief.skill), 40),
        crate::util::did_you_mean(crate::util::nearest(
            &brief.skill,
            config.skills.iter().map(String::as_str)
        ))
    ))
}

/// Replace `{name}` for each (name, value); unknown placeholders stay.
/// Returns the text and the names replaced.
fn fill<'n>(template: &str, values: &[(&'n str, &str)]) -> (String, Vec<&'n str>) {
    let mut out = String::with_capacity(template.len());
    let mut used = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            values
                .iter()
                .find(|(n, _)| *n == &after[..close])
                .map(|v| (v, close))
        }) {
            Some(((name, value), close)) => {
                out.push_str(value);
                used.push(*name);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, used)
}

/// Text ending in a full stop, so templates read as sentences.
fn sentence(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() || t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

/// Quote one argument for a POSIX shell (single quotes).
pub fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return arg.to_string();
    }
    format!("'{}'", arg.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief() -> TaskBrief {
        TaskBrief {
            id: "P1-UI-01".into(),
            skill: "development-implementer".into(),
            goal: "Show the sync badge".into(),
            criteria: "badge tests pass".into(),
            card: ".orchestrator/cards/P1-UI-01.md".into(),
            card_text: "## Codex Execution Card: P1-UI-01\n- Goal: Show the sync badge".into(),
            allowed: vec!["web/**".into()],
            prohibited: vec!["web/vendor/**".into()],
            commands: vec!["make".into()],
            checks: vec!["cargo test".into()],
            docs: vec!["docs/api.md".into()],
            budget: None,
        }
    }

    fn inputs() -> ArgvInputs<'static> {
        ArgvInputs {
            repo: "/repo",
            last_message: "runs/x.md",
            schema: "runs/x.schema.json",
            schema_json: "{}",
        }
    }

    #[test]
    fn the_default_prompt_is_the_seed_line_then_the_whole_card() {
        let p = prompt(&Config::default(), &brief(), ReportBy::Flag);
        assert!(
            p.starts_with(
                "Use $development-implementer to execute P1-UI-01: Show the sync badge. Done when: badge tests pass.\n\n"
            ),
            "{p}"
        );
        for part in [
            "`.orchestrator/cards/P1-UI-01.md`",
            "## Codex Execution Card: P1-UI-01",
            "inside `web/**`, never under `web/vendor/**`",
            "`make`",
            "leave it passing: `cargo test`",
            "`docs/api.md`",
            "completion report",
        ] {
            assert!(p.contains(part), "{part} in {p}");
        }
    }

    #[test]
    fn argv_fills_placeholders_and_keeps_the_prompt_one_argument() {
        let argv = argv(&Config::default(), &brief(), &inputs()).expect("argv");
        assert_eq!(
            argv[..5],
            ["codex", "exec", "--json", "--sandbox", "workspace-write"]
        );
        assert!(argv.contains(&"/repo".to_string()));
        assert!(argv.contains(&"runs/x.md".to_string()));
        assert!(argv.contains(&"runs/x.schema.json".to_string()));
        assert!(
            argv.last()
                .is_some_and(|p| p.starts_with("Use $development-implementer"))
        );
    }

    #[test]
    fn argv_refuses_unknown_skills_and_values_that_read_as_options() {
        let mut b = brief();
        b.skill = "--dangerously-bypass-approvals-and-sandbox".into();
        let e = argv(&Config::default(), &b, &inputs()).expect_err("unknown skill");
        assert!(e.contains("not one of the config's `skills`"), "{e}");
        let mut config = Config::default();
        config.agent.command = vec!["agent".into(), "{goal}".into(), "{card}".into()];
        config.agent.prompt = Some("{goal}".into());
        let mut b = brief();
        b.card = "-rf".into();
        let e = argv(&config, &b, &inputs()).expect_err("option-like value");
        assert!(e.contains("`{card}` starts with `-`"), "{e}");
    }

    #[test]
    fn the_claude_preset_adds_the_cards_flags() {
        let mut config = Config::default();
        config.agent.preset = Some(Preset::Claude);
        let mut b = brief();
        b.budget = Some(Budget {
            tokens: None,
            usd: Some(2.5),
        });
        let argv = argv(&config, &b, &inputs()).expect("argv");
        assert_eq!(argv[0], "claude");
        let at = argv
            .iter()
            .position(|a| a == "--max-budget-usd")
            .expect("budget flag");
        assert_eq!(argv[at + 1], "2.5");
        assert!(argv.ends_with(&[
            "--allowedTools".into(),
            "Bash(make:*)".into(),
            "Bash(cargo test:*)".into()
        ]));
        assert!(
            !argv
                .iter()
                .any(|a| a.contains("bypassPermissions") || a.contains("dangerously"))
        );
    }

    #[test]
    fn fill_leaves_unknown_and_unclosed_braces() {
        assert_eq!(fill("a {x} {task} {", &[("task", "T")]).0, "a {x} T {");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("plain-arg"), "plain-arg");
        assert_eq!(shell_quote("it's $HOME"), "'it'\\''s $HOME'");
        assert_eq!(shell_quote(""), "''");
    }
}
