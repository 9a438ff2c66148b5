//! Typed views of each kind's body: the plan's goal, phases and backlog,
//! a ticket's or card's fields, the ledger's tables. Views borrow the
//! document and are cheap to build.

use crate::parse::markdown::{Cell, Item, Row, Table};
use crate::source::{Span, Spanned, Text};

use super::document::{Columns, Document, Section, heading_prefix};
use super::templates::{self, same_label};

/// A table with its expected columns located by header.
#[derive(Clone, Debug)]
pub struct TableView<'d> {
    pub table: &'d Table,
    pub columns: Columns,
}

impl<'d> TableView<'d> {
    pub fn new(table: &'d Table, expected: &[&str]) -> TableView<'d> {
        TableView {
            table,
            columns: Columns::find(table, expected),
        }
    }

    /// The cell of `row` in expected column `col`.
    pub fn cell<'r>(&self, row: &'r Row, col: usize) -> Option<&'r Cell> {
        let i = (*self.columns.index.get(col)?)?;
        row.cells.get(i)
    }
}

pub struct Phase<'d> {
    /// `P1`, with the span of that text in the heading.
    pub id: Spanned<Text>,
    pub name: String,
    pub section: Section<'d>,
}

/// A heading that starts like a phase (`## Phase 1: Load plugins`,
/// `## Phase P2 - Sandbox`) but does not read `## Phase P<n>: <name>`.
pub struct OddPhase<'d> {
    pub section: Section<'d>,
    /// The phase it most likely means (`P1`), when its number is there.
    pub id: Option<String>,
    /// The name after the number and its separator.
    pub name: String,
}

impl OddPhase<'_> {
    /// The heading as the template writes it.
    pub fn fixed(&self) -> String {
        let name = if self.name.is_empty() {
            "<name>"
        } else {
            &self.name
        };
        format!(
            "{} Phase {}: {name}",
            "#".repeat(self.section.level.into()),
            self.id.as_deref().unwrap_or("P<n>")
        )
    }
}

/// A heading read as a phase.
enum PhaseHeading<'h> {
    /// `Phase P1: <name>`: the ID and the name as written.
    Phase(&'h str, &'h str),
    /// Numbered like a phase but written otherwise: the ID it means, the
    /// name.
    Odd(Option<String>, String),
}

/// Read a heading as a phase; `None` for any other heading.
fn phase_heading(h: &str) -> Option<PhaseHeading<'_>> {
    let lower = h.to_ascii_lowercase();
    let rest = lower.strip_prefix("phase")?;
    if rest.starts_with(|c: char| c.is_alphabetic()) {
        return None; // `Phases`, `Phased rollout`
    }
    let rest = &h[h.len() - rest.len()..];
    if let Some(r) = rest.strip_prefix(' ') {
        let (id, name) = r.split_once(':').unwrap_or((r, ""));
        let id = id.trim();
        if id.len() >= 2
            && id.starts_with(['P', 'p'])
            && id[1..].chars().all(|c| c.is_ascii_digit())
        {
            return Some(PhaseHeading::Phase(id, name));
        }
    }
    // Written otherwise: find the number and the name after it.
    let r = rest.trim_start_matches([' ', '-', '_', ':', '#']);
    let token_end = r
        .find(|c: char| c == ':' || c.is_whitespace() || matches!(c, '—' | '–'))
        .unwrap_or(r.len());
    let token = &r[..token_end];
    let digits = token.trim_start_matches(['P', 'p']);
    let id = (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("P{digits}"));
    // `Phase Tree`, `Phase one`: not a numbered phase, not a phase heading.
    id.as_ref()?;
    let name = r[token_end..]
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '-' | '—' | '–' | '.'))
        .trim()
        .to_string();
    Some(PhaseHeading::Odd(id, name))
}

pub struct PlanView<'d> {
    pub goal: Option<Section<'d>>,
    pub phase_tree: Option<Section<'d>>,
    pub phases: Vec<Phase<'d>>,
    /// Headings that start like a phase but are not written as one.
    pub odd_phases: Vec<OddPhase<'d>>,
    pub backlog_section: Option<Section<'d>>,
    pub backlog: Option<TableView<'d>>,
}

impl<'d> PlanView<'d> {
    pub fn of(doc: &'d Document) -> PlanView<'d> {
        let sections = doc.sections();
        let find = |name: &str| {
            sections
                .iter()
                .find(|s| same_label(&s.heading.value, name))
                .copied()
        };
        let mut odd_phases = Vec::new();
        let phases = sections
            .iter()
            .filter_map(|s| {
                let h = &s.heading.value;
                let (id, name) = match phase_heading(h)? {
                    PhaseHeading::Phase(id, name) => (id, name),
                    PhaseHeading::Odd(id, name) => {
                        odd_phases.push(OddPhase {
                            section: *s,
                            id,
                            name,
                        });
                        return None;
                    }
                };
                let off = h.find(id).unwrap_or(0);
                let start = s.heading.span.start + off;
                Some(Phase {
                    id: Spanned::new(
                        id.to_ascii_uppercase().into(),
                        Span::new(start, start + id.len()),
                    ),
                    name: name.trim().to_string(),
                    section: *s,
                })
            })
            .collect();
        let backlog_section = find(templates::BACKLOG_HEADING);
        let backlog = backlog_section
            .and_then(|s| s.table())
            .map(|t| TableView::new(t, templates::BACKLOG_COLUMNS));
        PlanView {
            goal: find(templates::GOAL_HEADING),
            phase_tree: find(templates::PHASE_TREE_HEADING),
            phases,
            odd_phases,
            backlog_section,
            backlog,
        }
    }
}

/// A ticket's or a card's titled section: `## Dispatch Ticket: <ID>`.
pub struct FieldsView<'d> {
    pub section: Option<Section<'d>>,
    /// The ID written in the heading.
    pub heading_id: Option<Spanned<Text>>,
}

impl<'d> FieldsView<'d> {
    pub fn of(doc: &'d Document, heading: &str) -> FieldsView<'d> {
        match doc.titled(heading) {
            Some((section, heading_id)) => FieldsView {
                section: Some(section),
                heading_id,
            },
            None => FieldsView {
                section: None,
                heading_id: None,
            },
        }
    }

    pub fn field(&self, label: &str) -> Option<&'d Item> {
        self.section?.item(label)
    }
}

pub struct LedgerView<'d> {
    pub section: Option<Section<'d>>,
    pub rows: Option<TableView<'d>>,
    pub unverified_section: Option<Section<'d>>,
    pub unverified: Option<TableView<'d>>,
}

impl<'d> LedgerView<'d> {
    pub fn of(doc: &'d Document) -> LedgerView<'d> {
        let section = doc.section(|h| same_label(h, templates::LEDGER_HEADING));
        let unverified_section = doc.section(|h| same_label(h, templates::UNVERIFIED_HEADING));
        LedgerView {
            rows: section
                .and_then(|s| s.table())
                .map(|t| TableView::new(t, templates::LEDGER_COLUMNS)),
            unverified: unverified_section
                .and_then(|s| s.table())
                .map(|t| TableView::new(t, templates::UNVERIFIED_COLUMNS)),
            section,
            unverified_section,
        }
    }
}

/// Whether a heading names the template section `name` followed by an ID.
pub fn is_titled(heading: &str, name: &str) -> bool {
    heading_prefix(heading, name).is_some()
}
