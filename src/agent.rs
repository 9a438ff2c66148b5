//! How an agent is started for a task: the prompt built from its card, and
//! the configured argv with its placeholders filled. Used by `orch sheet`
//! (written into a script) and `orch dispatch` (run directly).

use crate::config::Config;
use crate::model::Program;
use crate::model::program::Task;
use crate::model::templates;
use crate::model::views::FieldsView;
use crate::source::Spanned;

/// What the prompt and argv are built from.
#[derive(Clone, Debug)]
pub struct TaskBrief {
    pub id: String,
    pub skill: String,
    pub goal: String,
    pub criteria: String,
    /// The card's path, relative to the work tree.
    pub card: String,
}

fn text(s: &Option<Spanned<String>>) -> String {
    s.as_ref()
        .map(|s| s.value.trim().to_string())
        .unwrap_or_default()
}

/// The brief the prompt is built from: the card's goal and completion
/// criteria, falling back to the plan row's objective and done criteria.
pub fn brief(program: &Program, task: &Task) -> Option<(TaskBrief, Vec<String>)> {
    let doc = &program.docs[task.card?];
    let view = FieldsView::of(doc, templates::CARD_HEADING);
    let field = |label: &str| {
        view.field(label)
            .map(|i| i.value.value.trim().to_string())
            .unwrap_or_default()
    };
    let checks = view
        .field("Tests/checks to run")
        .map(|i| {
            i.entries()
                .into_iter()
                .map(|e| e.value.trim().to_string())
                .filter(|e| !e.is_empty() && !templates::is_none_marker(e))
                .collect()
        })
        .unwrap_or_default();
    let skill = Some(field("Skill"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text(&task.skill));
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
            card: program.file(doc.file).path.clone(),
        },
        checks,
    ))
}

/// The default prompt, in the seed's form.
pub const DEFAULT_PROMPT: &str = "Use ${skill} to execute {task}: {goal} Done when: {criteria}";

/// The agent's prompt for a task: the config's template or the seed's form.
pub fn prompt(config: &Config, brief: &TaskBrief) -> String {
    let template = config.agent.prompt.as_deref().unwrap_or(DEFAULT_PROMPT);
    let goal = sentence(&brief.goal);
    let criteria = sentence(&brief.criteria);
    fill(
        template,
        &[
            ("skill", &brief.skill),
            ("task", &brief.id),
            ("goal", &goal),
            ("criteria", &criteria),
            ("card", &brief.card),
        ],
    )
}

/// The argv for a task: every `{name}` placeholder of the configured command
/// replaced (`{repo}`, `{task}`, `{skill}`, `{prompt}`, `{card}`,
/// `{last_message}`). Each argument stays one argument: no shell is involved.
pub fn argv(config: &Config, brief: &TaskBrief, repo: &str, last_message: &str) -> Vec<String> {
    let prompt = prompt(config, brief);
    config
        .agent
        .command
        .iter()
        .map(|arg| {
            fill(
                arg,
                &[
                    ("repo", repo),
                    ("task", &brief.id),
                    ("skill", &brief.skill),
                    ("prompt", &prompt),
                    ("card", &brief.card),
                    ("last_message", last_message),
                ],
            )
        })
        .collect()
}

/// Replace `{name}` for each (name, value); unknown placeholders stay.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').map(|close| (&after[..close], close)) {
            Some((name, close)) if values.iter().any(|(n, _)| *n == name) => {
                let value = values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("", |(_, v)| v);
                out.push_str(value);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
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
        }
    }

    #[test]
    fn the_default_prompt_follows_the_seed() {
        assert_eq!(
            prompt(&Config::default(), &brief()),
            "Use $development-implementer to execute P1-UI-01: Show the sync badge. Done when: badge tests pass."
        );
    }

    #[test]
    fn argv_fills_placeholders_and_keeps_the_prompt_one_argument() {
        let argv = argv(&Config::default(), &brief(), "/repo", "runs/x.md");
        assert_eq!(argv[0], "codex");
        assert!(argv.contains(&"/repo".to_string()));
        assert!(argv.contains(&"runs/x.md".to_string()));
        assert!(
            argv.last()
                .is_some_and(|p| p.starts_with("Use $development-implementer"))
        );
    }

    #[test]
    fn fill_leaves_unknown_and_unclosed_braces() {
        assert_eq!(fill("a {x} {task} {", &[("task", "T")]), "a {x} T {");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("plain-arg"), "plain-arg");
        assert_eq!(shell_quote("it's $HOME"), "'it'\\''s $HOME'");
        assert_eq!(shell_quote(""), "''");
    }
}
