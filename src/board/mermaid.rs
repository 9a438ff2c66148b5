//! Mermaid flowcharts of the dependency graph, as GitHub renders them: one
//! node per task in a subgraph per phase, status as a class (`orch graph`,
//! `orch status --format markdown`), or, for a program too large for
//! GitHub's renderer, one node per phase with its counts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use super::{Board, Card, Column};

/// Status classes: (class, mermaid style, dot fill colour). Text is dark on
/// every fill, so the graph reads in GitHub's dark theme too.
pub const STYLES: &[(&str, &str, &str)] = &[
    (
        "done",
        "fill:#d3f9d8,stroke:#2b8a3e,color:#1f2328",
        "#d3f9d8",
    ),
    (
        "in_progress",
        "fill:#d0ebff,stroke:#1c7ed6,color:#1f2328",
        "#d0ebff",
    ),
    (
        "ready",
        "fill:#fff3bf,stroke:#e67700,color:#1f2328",
        "#fff3bf",
    ),
    (
        "todo",
        "fill:#f8f9fa,stroke:#868e96,color:#1f2328",
        "#f8f9fa",
    ),
    (
        "partial",
        "fill:#ffe8cc,stroke:#d9480f,color:#1f2328",
        "#ffe8cc",
    ),
    (
        "failed",
        "fill:#ffe3e3,stroke:#c92a2a,color:#1f2328",
        "#ffe3e3",
    ),
    (
        "blocked",
        "fill:#f3d9fa,stroke:#9c36b5,color:#1f2328",
        "#f3d9fa",
    ),
    (
        "split",
        "fill:#e9ecef,stroke:#495057,stroke-dasharray:4,color:#1f2328",
        "#e9ecef",
    ),
    (
        "cancelled",
        "fill:#e9ecef,stroke:#adb5bd,color:#495057",
        "#e9ecef",
    ),
];

/// GitHub renders at most 500 edges and about 50,000 characters of
/// mermaid; past these the Markdown status draws phases instead of tasks.
pub const MAX_TASKS: usize = 150;
pub const MAX_EDGES: usize = 400;
pub const MAX_BYTES: usize = 40_000;

/// A card's class: `ready` for a ready task, else its status.
pub fn class(card: &Card) -> &'static str {
    if card.column == Column::Ready {
        "ready"
    } else {
        card.status.as_str()
    }
}

/// Words mermaid's parser gives a meaning to, unusable as node ids.
const KEYWORDS: &[&str] = &[
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "style",
    "classdef",
    "class",
    "click",
    "linkstyle",
    "direction",
    "call",
    "href",
];

/// Node ids for every card: the ID with `-` and `.` as `_` (`P1_UI_01`),
/// made unique with the card's position where two IDs map to one, and
/// prefixed where it would be a keyword.
pub fn node_ids(board: &Board) -> Vec<String> {
    let simple: Vec<String> = board
        .cards
        .iter()
        .map(|c| {
            c.id.chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
                .collect()
        })
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for s in &simple {
        *seen.entry(s.as_str()).or_default() += 1;
    }
    let phases: HashSet<&str> = board.phases.iter().map(|p| p.id.as_str()).collect();
    simple
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let clash = seen[s.as_str()] > 1 || phases.contains(s.as_str());
            let keyword = KEYWORDS.contains(&s.to_ascii_lowercase().as_str());
            match (clash, keyword) {
                (false, false) => s.clone(),
                (false, true) => format!("t_{s}"),
                (true, _) => format!("t_{s}_{i}"),
            }
        })
        .collect()
}

/// Text for a quoted mermaid label: quotes, angle brackets, `&`, `#` and
/// backticks as mermaid's entity codes, control characters and line breaks
/// as spaces.
pub fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Phase subgraph ids are the phase IDs (`P1`), non-alphanumerics as `_`.
fn phase_id(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn class_defs(s: &mut String) {
    for (class, style, _) in STYLES {
        let _ = writeln!(s, "  classDef {class} {style}");
    }
}

/// Every task in a subgraph per phase, every dependency an edge.
pub fn flowchart(board: &Board) -> String {
    let ids = node_ids(board);
    let mut s = String::from("flowchart LR\n");
    let mut by_cluster: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, c) in board.cards.iter().enumerate() {
        by_cluster.entry(c.cluster).or_default().push(i);
    }
    for (cluster, cards) in &by_cluster {
        let phase = board.phases.get(*cluster);
        let indent = if phase.is_some() { "    " } else { "  " };
        if let Some(p) = phase {
            let _ = writeln!(
                s,
                "  subgraph {}[\"{}: {}\"]",
                phase_id(&p.id),
                label(&p.id),
                label(&p.name)
            );
        }
        for &i in cards {
            let c = &board.cards[i];
            let _ = writeln!(
                s,
                "{indent}{}[\"{}<br/>{}\"]:::{}",
                ids[i],
                label(&c.id),
                label(&crate::util::clip_chars(&c.objective, 60)),
                class(c)
            );
        }
        if phase.is_some() {
            s.push_str("  end\n");
        }
    }
    for &(from, to) in &board.edges {
        let _ = writeln!(s, "  {} --> {}", ids[from], ids[to]);
    }
    class_defs(&mut s);
    s
}

/// One node per phase with its counts, an edge per pair of phases joined
/// by dependencies (labelled with how many): for programs too large to
/// draw task by task.
pub fn phase_flowchart(board: &Board) -> String {
    let outside = board.phases.len();
    let mut s = String::from("flowchart LR\n");
    let name = |c: usize| -> (String, String) {
        match board.phases.get(c) {
            Some(p) => (phase_id(&p.id), format!("{}: {}", p.id, p.name)),
            None => ("no_phase".into(), "outside every phase".into()),
        }
    };
    for cluster in 0..=outside {
        let cards: Vec<&Card> = board
            .cards
            .iter()
            .filter(|c| c.cluster == cluster)
            .collect();
        if cards.is_empty() {
            continue;
        }
        let counts: Vec<String> = Column::ALL
            .iter()
            .filter_map(|&col| {
                let n = cards.iter().filter(|c| c.column == col).count();
                (n > 0).then(|| format!("{n} {}", col.title().to_lowercase()))
            })
            .collect();
        let finished =
            |c: &&Card| matches!(c.column, Column::Done | Column::Split | Column::Cancelled);
        let class = if cards.iter().all(finished) {
            "done"
        } else if cards.iter().any(|c| c.column == Column::Failed) {
            "failed"
        } else if cards
            .iter()
            .any(|c| matches!(c.column, Column::InProgress | Column::Partial))
        {
            "in_progress"
        } else if cards.iter().any(|c| c.column == Column::Ready) {
            "ready"
        } else {
            "todo"
        };
        let (id, title) = name(cluster);
        let _ = writeln!(
            s,
            "  {id}[\"{}<br/>{} tasks: {}\"]:::{class}",
            label(&crate::util::clip_chars(&title, 60)),
            cards.len(),
            label(&counts.join(", "))
        );
    }
    let mut between: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for &(from, to) in &board.edges {
        let (a, b) = (board.cards[from].cluster, board.cards[to].cluster);
        if a != b {
            *between.entry((a, b)).or_default() += 1;
        }
    }
    for ((a, b), n) in between {
        let _ = writeln!(s, "  {} -->|\"{n}\"| {}", name(a).0, name(b).0);
    }
    class_defs(&mut s);
    s
}

/// The task graph when GitHub can draw it, else the phase graph; and
/// whether it is the task graph.
pub fn for_github(board: &Board) -> (String, bool) {
    if board.cards.len() <= MAX_TASKS && board.edges.len() <= MAX_EDGES {
        let full = flowchart(board);
        if full.len() <= MAX_BYTES {
            return (full, true);
        }
    }
    (phase_flowchart(board), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TaskStatus;

    fn card(id: &str, cluster: usize) -> Card {
        Card {
            id: id.into(),
            status: TaskStatus::Todo,
            column: Column::Ready,
            objective: "Do \"it\" <now> & #1 `x`".into(),
            owner: String::new(),
            group: None,
            phase: None,
            cluster,
            has_card: false,
            allowed: Vec::new(),
            prohibited: Vec::new(),
            deps: Vec::new(),
            waiting: Vec::new(),
            note: None,
            last_row: None,
            last_run: None,
        }
    }

    #[test]
    fn labels_use_entity_codes() {
        assert_eq!(
            label("a \"b\" <c> & #d `e`\nf"),
            "a #quot;b#quot; #lt;c#gt; #amp; #35;d #96;e#96; f"
        );
    }

    #[test]
    fn node_ids_are_unique_and_never_keywords() {
        let board = Board {
            cards: vec![
                card("P1-UI-01", 0),
                card("P1.UI.01", 0),
                card("end", 0),
                card("P1", 0),
                card("P2-X", 0),
            ],
            phases: vec![super::super::Phase {
                id: "P1".into(),
                name: "One".into(),
            }],
            ..Board::default()
        };
        let ids = node_ids(&board);
        assert_eq!(
            ids,
            ["t_P1_UI_01_0", "t_P1_UI_01_1", "t_end", "t_P1_3", "P2_X"]
        );
    }

    #[test]
    fn large_programs_get_the_phase_graph() {
        let mut board = Board::default();
        for p in 0..3 {
            board.phases.push(super::super::Phase {
                id: format!("P{}", p + 1),
                name: format!("Phase {p}"),
            });
        }
        for i in 0..300 {
            board.cards.push(card(&format!("T{i}"), i / 100));
            if i > 0 {
                board.edges.push((i - 1, i));
            }
        }
        let (text, tasks) = for_github(&board);
        assert!(!tasks);
        assert!(
            text.contains("P1[\"P1: Phase 0<br/>100 tasks: 100 ready\"]:::ready"),
            "{text}"
        );
        assert!(text.contains("P1 -->|\"1\"| P2"), "{text}");
        board.cards.truncate(10);
        board.edges.truncate(9);
        let (text, tasks) = for_github(&board);
        assert!(tasks);
        assert_eq!(text.lines().filter(|l| l.contains("-->")).count(), 9);
    }
}
