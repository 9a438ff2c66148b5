//! Dependency rules: every dependency names a task, and there are no cycles.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::util::{did_you_mean, is_valid_id, nearest};

use super::{Context, rule};

rule!(
    DepUnknown,
    "dep-unknown",
    Error,
    "a dependency names no task",
    r#"## What it does
Reports an entry of a backlog row's Dependencies cell that is not the ID of
a backlog row. The cell holds task IDs separated by commas, semicolons,
`and` or spaces, in code spans or not; `-`, `—`, `none` or an empty cell
mean none. An ID-shaped entry (one with a digit) that names no task is
reported here; other words are `dep-unreadable`.

## Why it matters
A task waiting on a task that does not exist is never ready: it sits in the
backlog forever while `orch next` never offers it.

## Example
```markdown
| P1-UI-02 | Conflict banner | development-implementer | P1-UI-1 | ... |
                                                          ^^^^^^^ `P1-UI-01`?
```
"#,
    check_dep_unknown
);

fn check_dep_unknown(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(plan) = cx.program.plan() else {
        return;
    };
    let ids = || cx.index.tasks.iter().map(|t| t.id.as_str());
    for task in &cx.index.tasks {
        for dep in &task.deps {
            let d = dep.value.trim();
            if !is_valid_id(d) || cx.index.task(d).is_some() {
                continue;
            }
            let near = nearest(d, ids());
            let found = Diagnostic::new(
                "",
                plan.file,
                dep.span,
                format!("`{}` depends on `{d}`, which is not a task", task.id),
            )
            .help(format!(
                "name a Branch ID from the backlog{}",
                did_you_mean(near)
            ));
            out.push(super::rename(cx.program, found, dep.span, d, near));
        }
    }
}

rule!(
    DepUnreadable,
    "dep-unreadable",
    Error,
    "a Dependencies cell holds text that is not a task ID",
    r#"## What it does
Reports text in a backlog row's Dependencies cell that is not a task ID: a
remark in parentheses (`(after review)`), a condition in words (`once Dana
signs off`), a word that names no task. orch reads every ID in the cell
(commas, semicolons, `and` or spaces between them, code spans or not) and
reports the rest rather than drop it.

## Why it matters
A dependency is a promise orch keeps: the task is not ready until every
task it names is done. A condition in words is one orch cannot keep, so
the task would be offered while the condition is still open.

## Example
```markdown
| P2-UI-01 | ... | P2-CORE-01 (after review) | ... |
                              ^^^^^^^^^^^^^^ make the review a task (`P2-QA-01`) and
                                             depend on it, or move the note to the objective
```
"#,
    check_dep_unreadable
);

fn check_dep_unreadable(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(plan) = cx.program.plan() else {
        return;
    };
    let ids = || cx.index.tasks.iter().map(|t| t.id.as_str());
    for task in &cx.index.tasks {
        for prose in &task.dep_prose {
            let text = prose.value.trim();
            let near = nearest(text.trim_matches(['(', ')']), ids())
                .map(|n| format!("; if it is a task, its ID is `{n}`"))
                .unwrap_or_default();
            out.push(
                Diagnostic::new(
                    "",
                    plan.file,
                    prose.span,
                    format!(
                        "`{}`'s Dependencies hold `{}`, which is not a task ID: orch cannot wait on it",
                        task.id,
                        crate::util::clip_chars(text, 60)
                    ),
                )
                .label("not a task ID")
                .help(format!(
                    "make the condition a task and name its ID, or move the remark out of the cell (the Objective or Done Criteria){near}; {}",
                    super::ids::DEP_SEPARATORS
                )),
            );
        }
    }
}

rule!(
    DepCycle,
    "dep-cycle",
    Error,
    "dependencies form a cycle; the message lists the cycle",
    r#"## What it does
Reports dependencies that form a cycle (`A` needs `B`, `B` needs `A`,
directly or through other tasks), listing the cycle.

## Why it matters
No task in a cycle can ever become ready, so the whole chain and everything
after it stalls.

## Example
```markdown
| P1-CORE-01 | ... | P1-CORE-02 | ... |
| P1-CORE-02 | ... | P1-CORE-01 | ... |
```
Break the cycle: one of the two does not really need the other.
"#,
    check_dep_cycle
);

fn check_dep_cycle(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(plan) = cx.program.plan() else {
        return;
    };
    let tasks = &cx.index.tasks;
    let pos: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    // Edges: task -> (dependency index, entry index in its deps).
    let edges: Vec<Vec<(usize, usize)>> = tasks
        .iter()
        .map(|t| {
            t.deps
                .iter()
                .enumerate()
                .filter_map(|(k, d)| pos.get(d.value.trim()).map(|&j| (j, k)))
                .collect()
        })
        .collect();
    // Iterative DFS with colours; each back edge closes one cycle, reported
    // once per strongly connected set of tasks.
    let n = tasks.len();
    let mut colour = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut reported: Vec<Vec<usize>> = Vec::new();
    for start in 0..n {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        let mut path: Vec<usize> = vec![start];
        colour[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if *next < edges[node].len() {
                let (dep, _) = edges[node][*next];
                *next += 1;
                match colour[dep] {
                    0 => {
                        colour[dep] = 1;
                        stack.push((dep, 0));
                        path.push(dep);
                    }
                    1 => {
                        let from = path.iter().position(|&p| p == dep).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[from..].to_vec();
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if reported.contains(&key) {
                            continue;
                        }
                        reported.push(key);
                        // Start the cycle at its first task in backlog order.
                        let min = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|&(_, &t)| t)
                            .map_or(0, |(i, _)| i);
                        cycle.rotate_left(min);
                        let names: Vec<&str> = cycle
                            .iter()
                            .chain(cycle.first())
                            .map(|&i| tasks[i].id.as_str())
                            .collect();
                        let first = cycle[0];
                        let second = *cycle.get(1).unwrap_or(&first);
                        let entry = |a: usize, b: usize| {
                            edges[a]
                                .iter()
                                .find(|(j, _)| *j == b)
                                .map(|&(_, k)| tasks[a].deps[k].span)
                        };
                        let span = entry(first, second).unwrap_or(tasks[first].at.span);
                        let mut d = Diagnostic::new("", plan.file, span, format!("dependency cycle: {}", names.join(" -> ")))
                            .help("remove one dependency of the cycle; no task in it can ever become ready");
                        for w in 1..cycle.len() {
                            let a = cycle[w];
                            let b = cycle[(w + 1) % cycle.len()];
                            if let Some(s) = entry(a, b) {
                                d = d.related(
                                    plan.file,
                                    s,
                                    format!("`{}` depends on `{}`", tasks[a].id, tasks[b].id),
                                );
                            }
                        }
                        out.push(d);
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
                path.pop();
            }
        }
    }
}
