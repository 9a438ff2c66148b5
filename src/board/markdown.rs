//! `orch status --format markdown`: the program's state for a pull-request
//! comment or `$GITHUB_STEP_SUMMARY`: counts per column, the tasks that
//! need someone (every task, for a small program), the open re-planning
//! decisions, and a mermaid graph GitHub draws (tasks, or phases when the
//! program is too large for GitHub's renderer). The whole stays under a
//! comment's 65,536 characters.

use std::fmt::Write as _;

use super::{Board, Card, Column, mermaid};

/// The whole text stays under this (a comment allows 65,536 characters).
pub const MAX_BYTES: usize = 60_000;
/// A program this small lists every task.
const ALL_TASKS: usize = 60;

/// A table cell: no pipes, line breaks or raw HTML (`<` and `>` are
/// entities outside code spans; inside one GitHub shows them as written).
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut code = false;
    for ch in s.chars() {
        match ch {
            '`' => {
                code = !code;
                out.push(ch);
            }
            '|' => out.push_str("\\|"),
            '<' if !code => out.push_str("&lt;"),
            '>' if !code => out.push_str("&gt;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn note(card: &Card) -> String {
    let mut parts: Vec<String> = card.note.iter().cloned().collect();
    if !card.waiting.is_empty() {
        let list: Vec<String> = card
            .waiting
            .iter()
            .map(|(id, status)| format!("`{id}` ({})", status.replace('_', " ")))
            .collect();
        let lead = if card.status == crate::model::TaskStatus::Todo {
            "waiting on"
        } else {
            "depends on, unfinished:"
        };
        parts.push(format!("{lead} {}", list.join(", ")));
    }
    parts.join("; ")
}

/// The counts line: `20 tasks: 7 done · 2 in progress · ...`.
pub fn counts(board: &Board) -> String {
    let parts: Vec<String> = Column::ALL
        .iter()
        .filter_map(|&c| {
            let n = board.count(c);
            (n > 0).then(|| format!("{n} {}", c.title().to_lowercase()))
        })
        .collect();
    format!(
        "{} tasks: {}",
        board.cards.len(),
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(" · ")
        }
    )
}

pub fn render(board: &Board) -> String {
    let title = if board.title.is_empty() {
        "orch status".to_string()
    } else {
        format!("orch status: {}", cell(&board.title))
    };
    let mut s = format!("## {title}\n\n**{}**\n\n", counts(board));
    if board.lint_errors > 0 {
        let _ = writeln!(
            s,
            "> [!WARNING]\n> The program has {} lint error(s); this status may be incomplete (`orch lint` lists them).\n",
            board.lint_errors
        );
    }
    let (graph, tasks_drawn) = mermaid::for_github(board);
    let graph = format!(
        "### Dependency graph\n\n{}```mermaid\n{graph}```\n",
        if tasks_drawn {
            String::new()
        } else {
            "Phases, with how many dependencies join them (the program is too large to draw task by task here; `orch board` draws every task).\n\n".to_string()
        }
    );
    let budget = MAX_BYTES.saturating_sub(graph.len() + s.len() + 400);

    let small = board.cards.len() <= ALL_TASKS;
    let listed: Vec<&Card> = board
        .cards
        .iter()
        .filter(|c| {
            small
                || matches!(
                    c.column,
                    Column::Ready
                        | Column::InProgress
                        | Column::Partial
                        | Column::Failed
                        | Column::Blocked
                )
        })
        .collect();
    let mut body = String::new();
    if !listed.is_empty() {
        body.push_str(if small {
            "| Task | Status | Owner | Group | Note |\n|---|---|---|---|---|\n"
        } else {
            "Tasks that need someone:\n\n| Task | Status | Owner | Group | Note |\n|---|---|---|---|---|\n"
        });
        let mut left = 0;
        for c in &listed {
            let row = format!(
                "| `{}` | {} | {} | {} | {} |\n",
                c.id,
                c.column.title().to_lowercase(),
                cell(&c.owner),
                c.group.as_deref().map_or("-".to_string(), cell),
                cell(&crate::util::clip_chars(&note(c), 300))
            );
            if left > 0 || body.len() + row.len() > budget * 2 / 3 {
                left += 1;
                continue;
            }
            body.push_str(&row);
        }
        if left > 0 {
            let _ = writeln!(
                body,
                "\n…and {left} more (`orch status` lists every task, `orch board` shows them)."
            );
        }
        body.push('\n');
    }
    if !small {
        let others: Vec<String> = [
            Column::Waiting,
            Column::Done,
            Column::Split,
            Column::Cancelled,
        ]
        .iter()
        .filter_map(|&c| {
            let n = board.count(c);
            (n > 0).then(|| format!("{n} {}", c.title().to_lowercase()))
        })
        .collect();
        if !others.is_empty() {
            let _ = writeln!(
                body,
                "Not listed: {} (`orch status` lists every task).\n",
                others.join(", ")
            );
        }
    }
    if !board.decisions.is_empty() {
        body.push_str("### Open re-planning decisions\n\n");
        let mut left = 0;
        for d in &board.decisions {
            let mut line = format!(
                "- **{}** `{}`: {}",
                crate::transition::replan::kebab(d.kind),
                d.task,
                cell(&d.message)
            );
            if let Some(c) = &d.command {
                let _ = write!(line, " (run `{}`)", c.replace('`', "'"));
            } else if d.writes() {
                line.push_str(" (`orch replan --apply` writes it)");
            }
            line.push('\n');
            if left > 0 || body.len() + line.len() > budget {
                left += 1;
                continue;
            }
            body.push_str(&line);
        }
        if left > 0 {
            let _ = writeln!(body, "- …and {left} more (`orch replan` lists them)");
        }
        body.push('\n');
    }
    s.push_str(&body);
    s.push_str(&graph);
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_escape_pipes_and_markup_outside_code() {
        assert_eq!(
            super::cell("a <b> | `x <y> | z`\nc"),
            "a &lt;b&gt; \\| `x <y> \\| z` c"
        );
    }
}
