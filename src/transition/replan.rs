//! The seed's re-planning rules (DESIGN 9), as `orch replan` applies them:
//! each rule reads the program and yields the decisions still open.
//! Decisions that need no human words carry the backlog rows to add and the
//! dependencies to rewire; applying them makes them no longer open, so a
//! second `--apply` finds nothing to do.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::Result;
use crate::model::views::FieldsView;
use crate::model::{Index, Outcome, Program, Task, TaskStatus, templates};
use crate::scope::{Budget, Overlap};

use super::{BacklogRow, Change, Draft, Place};

pub use crate::model::program::ROOT_CAUSE_SKILL;
pub const CRITERIA_SKILL: &str = "requirements-analyst";
pub const ARCHITECT_SKILL: &str = "solution-architect";
pub const RELEASE_SKILL: &str = "release-devops";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// pass: the dependents it unlocks are ready to start.
    Unlock,
    /// partial: the task needs a split (a human's call).
    Split,
    /// fail: a root-cause task the failed task depends on.
    RootCause,
    /// fail, root cause found: the task can be dispatched again.
    Redispatch,
    /// unclear acceptance criteria: a requirements-analyst task.
    Criteria,
    /// cross-module conflict: escalate to solution-architect.
    Conflict,
    /// release risk: a release-devops task that gates further dispatch.
    ReleaseRisk,
}

#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    pub kind: Kind,
    /// The task the evidence is about.
    pub task: String,
    pub message: String,
    /// A human must act (run the command); `--apply` leaves it open.
    pub needs_human: bool,
    /// The command a human runs, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The backlog row `--apply` adds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_task: Option<BacklogRow>,
    /// Tasks that `--apply` makes depend on the new task.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<String>,
    /// Where the new row goes: next to this task's row.
    #[serde(skip)]
    anchor: Option<(String, Place)>,
}

impl Decision {
    /// `--apply` writes something for this decision.
    pub fn writes(&self) -> bool {
        self.new_task.is_some()
    }
}

fn skill_of(task: &Task) -> &str {
    task.skill.as_ref().map_or("", |s| s.value.trim())
}

fn dep_ids(task: &Task) -> impl Iterator<Item = &str> {
    task.deps.iter().map(|d| d.value.trim())
}

fn open(status: TaskStatus) -> bool {
    !matches!(
        status,
        TaskStatus::Done | TaskStatus::Cancelled | TaskStatus::Split
    )
}

/// IDs handed out by one replan run, so two decisions never share one.
struct Ids<'i> {
    index: &'i Index,
    taken: BTreeSet<String>,
}

impl Ids<'_> {
    fn used(&self, id: &str) -> bool {
        self.index.task(id).is_some() || self.taken.contains(id)
    }

    /// A new ID next to `base`: the next free number of its phase and
    /// stream (`P2-CORE-02` → `P2-CORE-04`), else `<base>-<suffix>[n]`.
    fn next(&mut self, base: &str, suffix: &str) -> String {
        let id = match convention(base) {
            Some((prefix, width)) => {
                let max = self
                    .index
                    .tasks
                    .iter()
                    .map(|t| t.id.as_str())
                    .chain(self.taken.iter().map(String::as_str))
                    .filter_map(|id| {
                        let n = id.strip_prefix(prefix)?.strip_prefix('-')?;
                        (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                            .then(|| n.parse::<u64>().ok())
                            .flatten()
                    })
                    .max()
                    .unwrap_or(0);
                let mut n = max + 1;
                loop {
                    let id = format!("{prefix}-{n:0width$}");
                    if !self.used(&id) {
                        break id;
                    }
                    n += 1;
                }
            }
            None => {
                let mut id = format!("{base}-{suffix}");
                let mut n = 2;
                while self.used(&id) {
                    id = format!("{base}-{suffix}{n}");
                    n += 1;
                }
                id
            }
        };
        self.taken.insert(id.clone());
        id
    }
}

/// `P2-CORE-02` → (`P2-CORE`, 2): the prefix and the number's width.
fn convention(id: &str) -> Option<(&str, usize)> {
    let (prefix, num) = id.rsplit_once('-')?;
    let (phase, stream) = prefix.split_once('-')?;
    let phase_ok = phase.len() >= 2
        && phase.starts_with('P')
        && phase[1..].bytes().all(|b| b.is_ascii_digit());
    let stream_ok = !stream.is_empty() && stream.bytes().all(|b| b.is_ascii_alphanumeric());
    let num_ok = !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit());
    (phase_ok && stream_ok && num_ok).then_some((prefix, num.len()))
}

/// The position of a task's latest ledger row with a result, and that result.
fn latest(index: &Index, task: &Task) -> Option<(usize, Outcome)> {
    task.rows
        .iter()
        .rev()
        .find_map(|&i| index.ledger[i].result.map(|r| (i, r)))
}

/// Every decision still open, in backlog order within each rule.
pub fn decide(program: &Program, index: &Index) -> Vec<Decision> {
    let mut out = Vec::new();
    let mut ids = Ids {
        index,
        taken: BTreeSet::new(),
    };
    unlocks(index, &mut out);
    splits(index, &mut out);
    failures(index, &mut ids, &mut out);
    criteria(program, index, &mut ids, &mut out);
    conflicts(program, index, &mut ids, &mut out);
    release_risks(index, &mut ids, &mut out);
    out
}

/// pass: report the dependents this unlocks (ready and not started).
fn unlocks(index: &Index, out: &mut Vec<Decision>) {
    for t in &index.tasks {
        if t.status != TaskStatus::Done || latest(index, t).map(|l| l.1) != Some(Outcome::Pass) {
            continue;
        }
        let ready: Vec<&str> = index
            .tasks
            .iter()
            .filter(|o| {
                index.is_ready(o) && dep_ids(o).any(|d| d == t.id || is_parent_of(d, &t.id))
            })
            .map(|o| o.id.as_str())
            .collect();
        if ready.is_empty() {
            continue;
        }
        out.push(Decision {
            kind: Kind::Unlock,
            task: t.id.clone(),
            message: format!("`{}` passed: {} ready to start", t.id, ready.join(", ")),
            needs_human: true,
            command: Some(format!("orch start {}", ready.join(" "))),
            new_task: None,
            gates: Vec::new(),
            anchor: None,
        });
    }
}

/// `parent` is `<child>` minus its last `.<n>`.
fn is_parent_of(parent: &str, child: &str) -> bool {
    child
        .strip_prefix(parent)
        .and_then(|r| r.strip_prefix('.'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// partial: the task needs a split until `orch split` gives its children.
fn splits(index: &Index, out: &mut Vec<Decision>) {
    for t in &index.tasks {
        if t.status != TaskStatus::Partial || index.children(&t.id).next().is_some() {
            continue;
        }
        let hint = index
            .last_row(t)
            .and_then(|r| r.next.as_ref())
            .map(|n| n.value.trim().to_string())
            .filter(|n| !n.is_empty())
            .map(|n| format!(" (the ledger says: {n})"))
            .unwrap_or_default();
        out.push(Decision {
            kind: Kind::Split,
            task: t.id.clone(),
            message: format!(
                "`{}` is partial: split it into the remaining work{hint}",
                t.id
            ),
            needs_human: true,
            command: Some(format!(
                "orch split {} --into \"<first part>\" --into \"<second part>\"",
                t.id
            )),
            new_task: None,
            gates: Vec::new(),
            anchor: None,
        });
    }
}

/// A decision a human takes, with the command that starts it.
fn by_hand(kind: Kind, task: &Task, message: String, command: String) -> Decision {
    Decision {
        kind,
        task: task.id.clone(),
        message,
        needs_human: true,
        command: Some(command),
        new_task: None,
        gates: Vec::new(),
        anchor: None,
    }
}

/// fail: a root-cause task for debug-troubleshooter that the failed task
/// depends on; once it passed, the failed task can be dispatched again
/// (`orch next` lists it, `orch dispatch` takes it). A root-cause task
/// that fails, or a failed task whose root-cause task failed or was
/// cancelled, gets no new root-cause task: a human decides.
fn failures(index: &Index, ids: &mut Ids<'_>, out: &mut Vec<Decision>) {
    for t in &index.tasks {
        if t.status != TaskStatus::Failed {
            continue;
        }
        let Some((fail_row, Outcome::Fail)) = latest(index, t) else {
            continue;
        };
        if crate::model::program::is_root_cause(t) {
            let parents: Vec<&str> = index
                .tasks
                .iter()
                .filter(|p| dep_ids(p).any(|d| d == t.id))
                .map(|p| p.id.as_str())
                .collect();
            let for_whom = if parents.is_empty() {
                String::new()
            } else {
                format!(" (for {})", parents.join(", "))
            };
            out.push(by_hand(
                Kind::RootCause,
                t,
                format!(
                    "root-cause task `{}`{for_whom} failed: it gets no root-cause task of its own; retry it with what its evidence found, or cancel it and re-plan by hand",
                    t.id
                ),
                format!("orch start {}", t.id),
            ));
            continue;
        }
        if let Some(rc) = index.retry_after(t) {
            out.push(by_hand(
                Kind::Redispatch,
                t,
                format!(
                    "`{}` failed and its root cause `{}` passed: dispatch it again",
                    t.id, rc.id
                ),
                format!("orch dispatch {}", t.id),
            ));
            continue;
        }
        let root_causes: Vec<&Task> = dep_ids(t)
            .filter_map(|d| index.task(d))
            .filter(|d| skill_of(d) == ROOT_CAUSE_SKILL)
            .collect();
        if root_causes.iter().any(|d| {
            !matches!(
                d.status,
                TaskStatus::Done | TaskStatus::Failed | TaskStatus::Cancelled
            )
        }) {
            continue; // waiting on its root cause
        }
        if let Some(rc) = root_causes
            .iter()
            .find(|d| matches!(d.status, TaskStatus::Failed | TaskStatus::Cancelled))
        {
            out.push(by_hand(
                Kind::RootCause,
                t,
                format!(
                    "`{}` failed and its root-cause task `{}` is {}: no new root-cause task is added; remove `{}` from its Dependencies to retry it, or cancel it",
                    t.id, rc.id, rc.status, rc.id
                ),
                format!("orch show {}", t.id),
            ));
            continue;
        }
        let evidence = index.ledger[fail_row]
            .evidence
            .as_ref()
            .map(|e| e.value.trim().to_string())
            .unwrap_or_default();
        let id = ids.next(&t.id, "RC");
        let objective = if evidence.is_empty() {
            format!("Find the root cause of the {} failure", t.id)
        } else {
            format!(
                "Find the root cause of the {} failure: {}",
                t.id,
                crate::util::clip_chars(&evidence, 160)
            )
        };
        out.push(Decision {
            kind: Kind::RootCause,
            task: t.id.clone(),
            message: format!(
                "`{}` failed: add root-cause task `{id}` for {ROOT_CAUSE_SKILL}, which `{}` then depends on",
                t.id, t.id
            ),
            needs_human: false,
            command: None,
            new_task: Some(BacklogRow {
                id: id.clone(),
                objective,
                skill: ROOT_CAUSE_SKILL.into(),
                dependencies: Vec::new(),
                done_criteria: format!(
                    "The cause of the {} failure is recorded in the ledger, and a test reproduces it",
                    t.id
                ),
            }),
            gates: vec![t.id.clone()],
            anchor: Some((t.id.clone(), Place::After)),
        });
    }
}

/// unclear acceptance criteria: Done Criteria (plan), Exit Criteria
/// (ticket) or Completion criteria (card) empty or a placeholder.
fn criteria(program: &Program, index: &Index, ids: &mut Ids<'_>, out: &mut Vec<Decision>) {
    let unclear = |v: Option<&str>| v.is_none_or(templates::is_placeholder);
    for t in &index.tasks {
        if !open(t.status) || skill_of(t) == CRITERIA_SKILL {
            continue;
        }
        let mut fields = Vec::new();
        if t.done_criteria.is_some() && unclear(t.done_criteria.as_ref().map(|c| c.value.as_str()))
        {
            fields.push("Done Criteria");
        }
        if let Some(ti) = t.ticket {
            let view = FieldsView::of(&program.docs[ti], templates::TICKET_HEADING);
            if let Some(item) = view.field("Exit Criteria")
                && (item.is_empty()
                    || (item.children.is_empty() && unclear(Some(&item.value.value))))
            {
                fields.push("Exit Criteria");
            }
        }
        if let Some(ci) = t.card {
            let view = FieldsView::of(&program.docs[ci], templates::CARD_HEADING);
            if let Some(item) = view.field("Completion criteria")
                && (item.is_empty()
                    || (item.children.is_empty() && unclear(Some(&item.value.value))))
            {
                fields.push("Completion criteria");
            }
        }
        if fields.is_empty() {
            continue;
        }
        // Already asked: a requirements-analyst task it depends on, or one
        // that names it (a task in progress is not rewired: it would then
        // wait on work not done).
        let asked = index.tasks.iter().any(|d| {
            skill_of(d) == CRITERIA_SKILL
                && d.status != TaskStatus::Cancelled
                && (dep_ids(t).any(|x| x == d.id)
                    || d.objective.as_ref().is_some_and(|o| names(&o.value, &t.id)))
        });
        if asked {
            continue;
        }
        let id = ids.next(&t.id, "AC");
        out.push(Decision {
            kind: Kind::Criteria,
            task: t.id.clone(),
            message: format!(
                "`{}` has unclear acceptance criteria ({}): add `{id}` for {CRITERIA_SKILL}, which `{}` then depends on",
                t.id,
                fields.join(", "),
                t.id
            ),
            needs_human: false,
            command: None,
            new_task: Some(BacklogRow {
                id: id.clone(),
                objective: format!("Write testable acceptance criteria for {}", t.id),
                skill: CRITERIA_SKILL.into(),
                dependencies: Vec::new(),
                done_criteria: format!(
                    "{}'s done, exit and completion criteria are testable and signed off",
                    t.id
                ),
            }),
            gates: if t.status == TaskStatus::InProgress {
                Vec::new()
            } else {
                vec![t.id.clone()]
            },
            anchor: Some((t.id.clone(), Place::After)),
        });
    }
}

/// `text` names the task `id` as a whole word.
fn names(text: &str, id: &str) -> bool {
    text.match_indices(id).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + id.len()..].chars().next();
        let part = |c: Option<char>| {
            c.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        };
        // `.` ends a sentence; `.1` would make it a child ID.
        let child = text[i + id.len()..]
            .strip_prefix('.')
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
        !part(before) && !part(after) && !child
    })
}

/// cross-module conflict: two tasks in progress, or two open tasks of
/// different groups both in progress or about to be, whose scopes overlap.
/// Escalated to solution-architect; the one not started waits on it.
fn conflicts(program: &Program, index: &Index, ids: &mut Ids<'_>, out: &mut Vec<Decision>) {
    let budget = Budget::default();
    let candidates: Vec<(&Task, crate::scope::Scope)> = index
        .tasks
        .iter()
        .filter(|t| t.card.is_some() && matches!(t.status, TaskStatus::InProgress))
        .filter_map(|t| {
            crate::model::scope::effective_scope(program, t)
                .ok()
                .map(|s| (t, s))
        })
        .collect();
    for (i, (a, sa)) in candidates.iter().enumerate() {
        for (b, sb) in &candidates[i + 1..] {
            let Overlap::Witness(path) = crate::scope::overlap(sa, sb, &budget) else {
                continue;
            };
            let escalated = index.tasks.iter().any(|t| {
                skill_of(t) == ARCHITECT_SKILL
                    && t.objective
                        .as_ref()
                        .is_some_and(|o| names(&o.value, &a.id) && names(&o.value, &b.id))
            });
            if escalated {
                continue;
            }
            let id = ids.next(&a.id, "ARCH");
            out.push(Decision {
                kind: Kind::Conflict,
                task: a.id.clone(),
                message: format!(
                    "`{}` and `{}` are both in progress and can both touch `{path}`: escalate to {ARCHITECT_SKILL} as `{id}`",
                    a.id, b.id
                ),
                needs_human: false,
                command: None,
                new_task: Some(BacklogRow {
                    id: id.clone(),
                    objective: format!(
                        "Resolve the scope conflict between {} and {} (both can touch {path})",
                        a.id, b.id
                    ),
                    skill: ARCHITECT_SKILL.into(),
                    dependencies: Vec::new(),
                    done_criteria: format!(
                        "The cards of {} and {} have disjoint scopes, or one waits on the other",
                        a.id, b.id
                    ),
                }),
                gates: Vec::new(),
                anchor: Some((b.id.clone(), Place::After)),
            });
        }
    }
}

/// release risk: an unverified item whose risk is high. A release-devops
/// task is added and every task not started yet waits on it.
fn release_risks(index: &Index, ids: &mut Ids<'_>, out: &mut Vec<Decision>) {
    for item in &index.unverified {
        let risk = item.risk.value.trim().to_ascii_lowercase();
        let high = risk
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .is_some_and(|w| w == "high" || w == "critical");
        if !high {
            continue;
        }
        let what = one_line_plain(&item.item.value);
        if what.is_empty() {
            continue;
        }
        let gated = index.tasks.iter().any(|t| {
            skill_of(t) == RELEASE_SKILL
                && t.objective
                    .as_ref()
                    .is_some_and(|o| one_line_plain(&o.value).contains(&what))
        });
        if gated {
            continue;
        }
        let gates: Vec<&Task> = index
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Todo)
            .collect();
        let base = gates
            .first()
            .map(|t| t.id.clone())
            .or_else(|| index.tasks.last().map(|t| t.id.clone()))
            .unwrap_or_else(|| "RELEASE".into());
        let id = ids.next(&base, "REL");
        let gate_ids: Vec<String> = gates.iter().map(|t| t.id.clone()).collect();
        out.push(Decision {
            kind: Kind::ReleaseRisk,
            task: base.clone(),
            message: format!(
                "unverified item with high risk ({what}): add `{id}` for {RELEASE_SKILL}, gating {} task(s) not started",
                gate_ids.len()
            ),
            needs_human: false,
            command: None,
            new_task: Some(BacklogRow {
                id: id.clone(),
                objective: format!("Clear the release risk: {what}"),
                skill: RELEASE_SKILL.into(),
                dependencies: Vec::new(),
                done_criteria: "The risk is verified or mitigated and the unverified item is updated in the ledger".into(),
            }),
            anchor: gates
                .first()
                .map(|t| (t.id.clone(), Place::Before))
                .or_else(|| index.tasks.last().map(|t| (t.id.clone(), Place::After))),
            gates: gate_ids,
        });
    }
}

/// Text as one line without Markdown code marks, for comparisons.
fn one_line_plain(text: &str) -> String {
    super::one_line(&text.replace('`', ""))
}

/// The change `--apply` writes: new rows and rewired dependencies for every
/// decision that needs no human words. Empty when there is none.
pub fn apply(program: &Program, index: &Index, decisions: &[Decision]) -> Result<Change> {
    let mut draft = Draft::default();
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut trailers = Vec::new();
    let mut added = Vec::new();
    for d in decisions.iter().filter(|d| d.writes()) {
        let (Some(row), Some((anchor, place))) = (&d.new_task, &d.anchor) else {
            continue;
        };
        let anchor = super::task(index, anchor)?;
        super::insert_backlog(
            &mut draft,
            program,
            anchor,
            *place,
            std::slice::from_ref(row),
        )?;
        for g in &d.gates {
            deps.entry(g.clone()).or_default().push(row.id.clone());
        }
        added.push(row.id.clone());
        trailers.push(("Orch-Task".to_string(), row.id.clone()));
        trailers.push((
            "Orch-Decision".to_string(),
            format!("{} {} -> {}", kebab(d.kind), d.task, row.id),
        ));
    }
    super::add_dependencies(&mut draft, program, &deps, index)?;
    let subject = match added.as_slice() {
        [] => "orch(replan): nothing to apply".to_string(),
        [one] => format!("orch(replan): add {one}"),
        many => format!("orch(replan): add {}", many.join(", ")),
    };
    let mut change = draft.into_change(program, subject)?;
    change.body = decisions
        .iter()
        .filter(|d| d.writes())
        .map(|d| d.message.replace('`', ""))
        .collect();
    change.trailers = trailers;
    Ok(change)
}

pub fn kebab(kind: Kind) -> &'static str {
    match kind {
        Kind::Unlock => "unlock",
        Kind::Split => "split",
        Kind::RootCause => "root-cause",
        Kind::Redispatch => "redispatch",
        Kind::Criteria => "criteria",
        Kind::Conflict => "conflict",
        Kind::ReleaseRisk => "release-risk",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_ids() {
        assert_eq!(convention("P2-CORE-02"), Some(("P2-CORE", 2)));
        assert_eq!(convention("P10-UI-1"), Some(("P10-UI", 1)));
        assert_eq!(convention("task-1"), None);
        assert_eq!(convention("P1-TEST-01.1"), None);
        assert!(is_parent_of("P1-A-01", "P1-A-01.2"));
        assert!(!is_parent_of("P1-A-01", "P1-A-012"));
        assert!(names("Write criteria for P1-A-01.", "P1-A-01"));
        assert!(!names("for P1-A-011", "P1-A-01"));
        assert!(!names("for P1-A-01.2", "P1-A-01"));
    }
}
