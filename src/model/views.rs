//! Typed views of each kind's body: the plan's goal, phases and backlog,
//! a ticket's or card's fields, the ledger's tables. Views borrow the
//! document and are cheap to build.

use crate::parse::markdown::{Cell, Item, Row, Table};
use crate::source::{Span, Spanned};

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
    pub id: Spanned<String>,
    pub name: String,
    pub section: Section<'d>,
}

pub struct PlanView<'d> {
    pub goal: Option<Section<'d>>,
    pub phase_tree: Option<Section<'d>>,
    pub phases: Vec<Phase<'d>>,
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
        let phases = sections
            .iter()
            .filter_map(|s| {
                let h = &s.heading.value;
                let rest = h
                    .strip_prefix("Phase ")
                    .or_else(|| h.strip_prefix("phase "))?;
                let (id, name) = rest.split_once(':').unwrap_or((rest, ""));
                let id = id.trim();
                let valid = id.len() >= 2
                    && id.starts_with(['P', 'p'])
                    && id[1..].chars().all(|c| c.is_ascii_digit());
                if !valid {
                    return None;
                }
                let off = h.find(id).unwrap_or(0);
                let start = s.heading.span.start + off;
                Some(Phase {
                    id: Spanned::new(id.to_ascii_uppercase(), Span::new(start, start + id.len())),
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
            backlog_section,
            backlog,
        }
    }
}

/// A ticket's or a card's titled section: `## Dispatch Ticket: <ID>`.
pub struct FieldsView<'d> {
    pub section: Option<Section<'d>>,
    /// The ID written in the heading.
    pub heading_id: Option<Spanned<String>>,
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
