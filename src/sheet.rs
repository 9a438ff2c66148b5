//! Parallel groups (`orch sheet`): partition tasks so that no two tasks of a
//! group, and no task with one in progress, can touch a common path; at most
//! `jobs` per group; a task after every task it depends on. Pure: scopes
//! come compiled, and the result is deterministic (backlog order, first
//! group that fits). Also renders a group as the seed's command sheet.

use crate::agent::shell_quote;
use crate::scope::{Budget, CompiledScope, Overlap, overlap_compiled};

/// A task to place.
pub struct Candidate<'a> {
    pub id: &'a str,
    pub scope: &'a CompiledScope,
    /// Indexes of candidates this one depends on.
    pub deps: Vec<usize>,
}

/// A task already in progress, which no new group may overlap.
pub struct Running<'a> {
    pub id: &'a str,
    pub scope: &'a CompiledScope,
}

/// Why a candidate was left out of every group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    /// It can touch `path`, which the in-progress task `with` can too.
    Overlaps { with: String, path: String },
    /// Overlap with `with` could not be decided within the budget.
    Undecided { with: String },
    /// It depends on a held task.
    AfterHeld { dep: String },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partition {
    /// Each group's candidates (indexes), in placement order.
    pub groups: Vec<Vec<usize>>,
    pub held: Vec<(usize, Held)>,
}

/// Do two scopes possibly share a path? `TooComplex` counts as yes.
fn conflict(a: &CompiledScope, b: &CompiledScope, budget: &Budget) -> Option<Option<String>> {
    match overlap_compiled(a, b, budget) {
        Overlap::Disjoint => None,
        Overlap::Witness(path) => Some(Some(path)),
        Overlap::TooComplex => Some(None),
    }
}

pub fn partition(
    candidates: &[Candidate<'_>],
    running: &[Running<'_>],
    jobs: usize,
    budget: &Budget,
) -> Partition {
    let jobs = jobs.max(1);
    let mut out = Partition::default();
    // group of each placed candidate
    let mut placed: Vec<Option<usize>> = vec![None; candidates.len()];
    let mut held: Vec<bool> = vec![false; candidates.len()];
    // Dependencies first: visit in an order where every dependency precedes
    // its dependents (backlog order otherwise), so placement sees them.
    for i in topological(candidates) {
        let c = &candidates[i];
        if let Some(&d) = c.deps.iter().find(|&&d| held[d]) {
            held[i] = true;
            out.held.push((
                i,
                Held::AfterHeld {
                    dep: candidates[d].id.to_string(),
                },
            ));
            continue;
        }
        let blocked = running
            .iter()
            .find_map(|r| conflict(c.scope, r.scope, budget).map(|p| (r, p)));
        if let Some((r, path)) = blocked {
            held[i] = true;
            let reason = match path {
                Some(path) => Held::Overlaps {
                    with: r.id.to_string(),
                    path,
                },
                None => Held::Undecided {
                    with: r.id.to_string(),
                },
            };
            out.held.push((i, reason));
            continue;
        }
        let earliest = c
            .deps
            .iter()
            .filter_map(|&d| placed[d])
            .map(|g| g + 1)
            .max()
            .unwrap_or(0);
        let fits = |g: &Vec<usize>| {
            g.len() < jobs
                && g.iter()
                    .all(|&m| conflict(c.scope, candidates[m].scope, budget).is_none())
        };
        let group = (earliest..out.groups.len()).find(|&g| fits(&out.groups[g]));
        let g = group.unwrap_or_else(|| {
            out.groups.push(Vec::new());
            out.groups.len() - 1
        });
        out.groups[g].push(i);
        placed[i] = Some(g);
    }
    out
}

/// Candidate indexes with dependencies first, otherwise in input order. A
/// dependency cycle (which lint reports) is broken at input order.
fn topological(candidates: &[Candidate<'_>]) -> Vec<usize> {
    let mut order = Vec::with_capacity(candidates.len());
    let mut state = vec![0u8; candidates.len()]; // 0 new, 1 visiting, 2 done
    for start in 0..candidates.len() {
        let mut stack = vec![(start, 0usize)];
        while let Some((node, next)) = stack.pop() {
            if next == 0 {
                if state[node] != 0 {
                    continue;
                }
                state[node] = 1;
            }
            match candidates[node].deps.get(next) {
                Some(&dep) => {
                    stack.push((node, next + 1));
                    if state[dep] == 0 {
                        stack.push((dep, 0));
                    }
                }
                None => {
                    state[node] = 2;
                    order.push(node);
                }
            }
        }
    }
    order
}

/// One task of a rendered sheet.
pub struct SheetTask {
    pub id: String,
    pub allowed: Vec<String>,
    pub prohibited: Vec<String>,
    pub argv: Vec<String>,
    /// The log file, relative to the work tree.
    pub log: String,
}

/// Stands for the repository's top in an argv: the script expands it to
/// `"$REPO"` (the folder it runs in), never a literal.
pub const REPO: &str = "\u{1}REPO\u{1}";

/// Quote an argument for the script, `{repo}` as `"$REPO"`.
fn quote(arg: &str) -> String {
    if !arg.contains(REPO) {
        return shell_quote(arg);
    }
    arg.split(REPO)
        .enumerate()
        .map(|(i, piece)| {
            let q = if piece.is_empty() {
                String::new()
            } else {
                shell_quote(piece)
            };
            if i == 0 { q } else { format!("\"$REPO\"{q}") }
        })
        .collect()
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in text.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Where the script puts things (relative to the repository's top), and the
/// completion report's schema it writes for the agents.
pub struct Script<'a> {
    pub logs_dir: &'a str,
    pub runs_dir: &'a str,
    /// The schema file (relative) and its text.
    pub schema: Option<(&'a str, &'a str)>,
}

/// The seed's Parallel Dispatch Command Sheet for one group, with front
/// matter, whose Commands section is a runnable bash script. Shell
/// variables are numbered per task (`pid_1`, `rc_1`), so IDs that differ
/// only in `.` and `-` never share one.
pub fn render(group: &str, tasks: &[SheetTask], script: &Script<'_>) -> String {
    let list = tasks
        .iter()
        .map(|t| t.id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let code = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut s = format!(
        "---\nkind: sheet\ngroup: {group}\ntasks: [{list}]\n---\n\n# Group tasks by no-overlap scope\n## Group {group} (parallel)\n"
    );
    for t in tasks {
        s.push_str(&format!(
            "- {} path scope: {}; prohibited: {}\n",
            t.id,
            code(&t.allowed),
            code(&t.prohibited)
        ));
    }
    let head = s.len();
    s.push_str("#!/usr/bin/env bash\n# Generated by `orch sheet --write`. Run it from the repository's top.\nset -u\nREPO=$(pwd -P)\n");
    s.push_str(&format!(
        "mkdir -p {} {}\n",
        shell_quote(script.logs_dir),
        shell_quote(script.runs_dir)
    ));
    if let Some((path, text)) = script.schema {
        s.push_str(&format!(
            "cat > {} <<'ORCH_SCHEMA'\n{text}\nORCH_SCHEMA\n",
            shell_quote(path)
        ));
    }
    for (i, t) in tasks.iter().enumerate() {
        let argv = t
            .argv
            .iter()
            .map(|a| quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        s.push_str(&format!(
            "# {}\nORCH_TASK={} {argv} > {} 2>&1 < /dev/null &\npid_{}=$!\n",
            t.id,
            shell_quote(&t.id),
            shell_quote(&t.log),
            i + 1
        ));
    }
    s.push('\n');
    for i in 1..=tasks.len() {
        s.push_str(&format!("wait \"$pid_{i}\"; rc_{i}=$?\n"));
    }
    let summary = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{}=$rc_{}", t.id, i + 1))
        .collect::<Vec<_>>()
        .join(" ");
    s.push_str(&format!("echo \"{summary}\"\n"));
    // The prompts hold the card's Markdown (code fences too): fence the
    // script with more backticks than any run inside it.
    let longest = longest_run(&s[head..], '`');
    let fence = "`".repeat(longest.max(2) + 1);
    s.insert_str(head, &format!("\n## Commands\n{fence}bash\n"));
    s.push_str(&format!("{fence}\n\n## Harvest\n- Extract evidence snippets from each log.\n- Mark pass/partial/fail by task.\n- Re-plan from failed or partial tasks.\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{Pattern, Scope};

    fn compiled(allowed: &[&str]) -> CompiledScope {
        let pats = allowed
            .iter()
            .map(|g| Pattern::parse(g).expect("glob"))
            .collect();
        CompiledScope::new(&Scope::new(pats, Vec::new()), &Budget::default()).expect("compiles")
    }

    #[test]
    fn overlapping_tasks_go_to_separate_groups_and_jobs_caps_a_group() {
        let a = compiled(&["src/ui/**"]);
        let b = compiled(&["src/**/*.rs"]);
        let c = compiled(&["docs/**"]);
        let d = compiled(&["tests/**"]);
        let cands = [
            Candidate {
                id: "A",
                scope: &a,
                deps: vec![],
            },
            Candidate {
                id: "B",
                scope: &b,
                deps: vec![],
            },
            Candidate {
                id: "C",
                scope: &c,
                deps: vec![],
            },
            Candidate {
                id: "D",
                scope: &d,
                deps: vec![],
            },
        ];
        let p = partition(&cands, &[], 2, &Budget::default());
        assert_eq!(p.groups, vec![vec![0, 2], vec![1, 3]]);
    }

    #[test]
    fn dependencies_come_in_earlier_groups_and_running_tasks_hold_back() {
        let a = compiled(&["a/**"]);
        let b = compiled(&["b/**"]);
        let c = compiled(&["c/**"]);
        let r = compiled(&["c/x/**"]);
        let cands = [
            Candidate {
                id: "B",
                scope: &b,
                deps: vec![1],
            },
            Candidate {
                id: "A",
                scope: &a,
                deps: vec![],
            },
            Candidate {
                id: "C",
                scope: &c,
                deps: vec![],
            },
        ];
        let running = [Running { id: "R", scope: &r }];
        let p = partition(&cands, &running, 4, &Budget::default());
        assert_eq!(p.groups, vec![vec![1], vec![0]]);
        assert_eq!(p.held.len(), 1);
        assert!(
            matches!(&p.held[0], (2, Held::Overlaps { with, path }) if with == "R" && path.starts_with("c/x/"))
        );
    }

    #[test]
    fn the_sheet_script_quotes_every_argument() {
        let t = SheetTask {
            id: "P1-UI-01".into(),
            allowed: vec!["web/**".into()],
            prohibited: vec![],
            argv: vec![
                "codex".into(),
                "exec".into(),
                "Use $x to execute P1-UI-01: it's done.".into(),
            ],
            log: ".orchestrator/logs/P1-UI-01.log".into(),
        };
        let mut t2 = SheetTask {
            id: "P1-UI.01".into(),
            allowed: vec![],
            prohibited: vec![],
            argv: vec!["agent".into(), format!("{REPO}/x"), REPO.into()],
            log: ".orchestrator/logs/P1-UI.01.log".into(),
        };
        t2.argv.push("--cd".into());
        let script = Script {
            logs_dir: ".orchestrator/logs",
            runs_dir: ".orchestrator/runs",
            schema: None,
        };
        let s = render("G1", &[t, t2], &script);
        assert!(s.contains("ORCH_TASK=P1-UI-01 codex exec 'Use $x to execute P1-UI-01: it'\\''s done.' > .orchestrator/logs/P1-UI-01.log 2>&1 < /dev/null &"));
        assert!(s.contains("agent \"$REPO\"/x \"$REPO\" --cd > "), "{s}");
        assert!(s.contains("mkdir -p .orchestrator/logs .orchestrator/runs"));
        assert!(s.contains("echo \"P1-UI-01=$rc_1 P1-UI.01=$rc_2\""), "{s}");
    }
}
