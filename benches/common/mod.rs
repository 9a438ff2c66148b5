//! The synthetic program the `lint` and `scope` benches generate: a config,
//! a plan, a ledger, and a ticket and a card per task, deterministic for a
//! given size. A [`Layout`] names where the bench's modules live; the cards'
//! scopes and the tickets' Expected Artifacts come from the bench.
//!
//! Not a bench target itself: cargo only picks up `benches/*.rs`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

const PHASES: usize = 10;
const STREAMS: [&str; 5] = ["UI", "CORE", "INFRA", "TEST", "DOCS"];
/// The default owner skills (`config.yaml` unset).
const SKILLS: &[&str] = orch::config::DEFAULT_SKILLS;

/// Where a bench's generated modules live, and how its files name the bench.
pub struct Layout {
    /// Module `m`'s folder is `{dir_prefix}{m}`: `mod` gives `mod7`, `pkg/m`
    /// gives `pkg/m7`.
    pub dir_prefix: &'static str,
    /// Module `m`'s crate is `{crate_prefix}{m}`, as in `cargo test -p` and
    /// the names of its docs.
    pub crate_prefix: &'static str,
    /// The bench's name, for the comment atop `config.yaml`
    /// (`benches/{bench}.rs`).
    pub bench: &'static str,
    /// What the ledger's last Unverified Items row says is untimed on larger
    /// programs, such as `Scope times`.
    pub timed: &'static str,
}

impl Layout {
    /// Module `m`'s folder, without a trailing slash.
    fn dir(&self, m: usize) -> String {
        format!("{}{m}", self.dir_prefix)
    }

    /// Module `m`'s crate name.
    fn krate(&self, m: usize) -> String {
        format!("{}{m}", self.crate_prefix)
    }
}

/// splitmix64: deterministic, good enough to vary text and dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A task's status in the ledger's terms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Done,
    Partial,
    Failed,
    InProgress,
    Todo,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::InProgress => "in_progress",
            Status::Todo => "todo",
        }
    }
}

/// One task of the program: a backlog row, a ticket and a card.
pub struct Task {
    id: String,
    stream: &'static str,
    skill: &'static str,
    deps: Vec<usize>,
    status: Status,
    objective: String,
    criteria: String,
    /// What the task builds, one of [`THINGS`].
    pub thing: &'static str,
    /// A done task whose first attempt failed: a fail row before its pass row.
    reworked: bool,
}

/// What the tasks build, module by module.
pub const THINGS: [&str; 12] = [
    "change queue",
    "sync cursor",
    "conflict resolver",
    "search index",
    "export pipeline",
    "session cache",
    "audit trail",
    "retry scheduler",
    "permission model",
    "attachment store",
    "notification feed",
    "settings migration",
];

/// A task's objective, worded after its stream.
fn objective(rng: &mut Rng, stream: &str, thing: &str, m: usize) -> String {
    match stream {
        "UI" => format!(
            "Build the {thing} panel for module {m} so users can {} without leaving the editor",
            rng.pick(&[
                "review pending changes",
                "resolve conflicts",
                "see progress at a glance",
                "undo the last action"
            ])
        ),
        "CORE" => format!(
            "Implement the {thing} for module {m} with bounded memory and {}",
            rng.pick(&[
                "clear error reporting",
                "crash-safe writes",
                "stable ordering per note",
                "idempotent retries"
            ])
        ),
        "INFRA" => format!(
            "Run the module {m} {thing} suites in CI and deploy the service to {}",
            rng.pick(&["staging", "the canary pool", "the preview environment"])
        ),
        "TEST" => format!(
            "Cover the module {m} {thing} with property tests and {}",
            rng.pick(&[
                "end-to-end reconnect scenarios",
                "a fault-injection harness",
                "a 24-hour soak run"
            ])
        ),
        _ => format!(
            "Document the module {m} {thing} in the user guide and {}",
            rng.pick(&[
                "the operations runbook",
                "the release notes",
                "an architecture decision record"
            ])
        ),
    }
}

/// A task's done criteria.
fn criteria(rng: &mut Rng, layout: &Layout, thing: &str, m: usize) -> String {
    format!(
        "The {thing} in `{dir}/src/lib.rs` handles all {} documented cases, `cargo test -p {krate}` passes and the reviewer signed off",
        6 + rng.below(20),
        dir = layout.dir(m),
        krate = layout.krate(m),
    )
}

/// Mostly the skill a stream calls for, sometimes any of the seven.
fn skill_for(rng: &mut Rng, stream: &str) -> &'static str {
    if rng.below(10) < 3 {
        return SKILLS[rng.below(SKILLS.len())];
    }
    match stream {
        "UI" | "CORE" => "development-implementer",
        "INFRA" => "release-devops",
        "TEST" => "qa-test-engineer",
        _ => "technical-writer",
    }
}

/// The tasks of a program of `n` tasks, statuses consistent with a ledger.
pub fn plan_tasks(layout: &Layout, n: usize) -> Vec<Task> {
    let mut rng = Rng(0x5EED_0000 ^ n as u64);
    let per_phase = n.div_ceil(PHASES);
    let mut tasks: Vec<Task> = Vec::with_capacity(n);
    for i in 0..n {
        let phase = i / per_phase + 1;
        let j = i % per_phase;
        let stream = STREAMS[j % STREAMS.len()];
        let id = format!("P{phase}-{stream}-{:02}", j / STREAMS.len() + 1);
        let m = i + 1;
        let thing = THINGS[rng.below(THINGS.len())];
        let ndeps = if i == 0 { 0 } else { rng.below(3).min(i) };
        let mut deps = Vec::new();
        while deps.len() < ndeps {
            // Mostly recent work, like a real backlog.
            let back = 1 + rng.below(i.min(60));
            let d = i - back;
            if !deps.contains(&d) {
                deps.push(d);
            }
        }
        deps.sort_unstable();
        tasks.push(Task {
            id,
            stream,
            skill: skill_for(&mut rng, stream),
            deps,
            status: Status::Todo,
            objective: objective(&mut rng, stream, thing, m),
            criteria: criteria(&mut rng, layout, thing, m),
            thing,
            reworked: false,
        });
    }
    // Statuses: the first 40% done (deps are earlier, so done too), then a
    // few partial and failed, a handful in progress on done deps, the rest
    // todo.
    let done = n * 2 / 5;
    let few = (n / 250).clamp(1, 20);
    for (i, t) in tasks.iter_mut().enumerate() {
        t.status = if i < done {
            t.reworked = i % 37 == 11;
            Status::Done
        } else if i < done + few {
            Status::Partial
        } else if i < done + 2 * few {
            Status::Failed
        } else {
            Status::Todo
        };
    }
    let mut started = 0;
    let mut i = done + 2 * few;
    while started < 5 && i < n {
        if tasks[i]
            .deps
            .iter()
            .all(|&d| tasks[d].status == Status::Done)
        {
            tasks[i].status = Status::InProgress;
            started += 1;
            i += 7;
        } else {
            i += 1;
        }
    }
    tasks
}

/// The name of phase `p` (1-based).
fn phase_name(p: usize) -> &'static str {
    [
        "Requirements and foundations",
        "Storage and schema",
        "Core engine",
        "Transport and retries",
        "User interface",
        "Conflict handling",
        "Observability",
        "Performance",
        "Hardening",
        "Release",
    ][(p - 1) % PHASES]
}

/// `config.yaml` after its first line: the defaults, spelled out.
const CONFIG_SETTINGS: &str = "\
skills:
  - development-implementer
  - qa-test-engineer
  - technical-writer
  - debug-troubleshooter
  - requirements-analyst
  - solution-architect
  - release-devops

agent:
  timeout: 30m
  idle_timeout: 5m
  jobs: 3
  evidence:
    - '^test result: '

align:
  product_docs: [\"README.md\", \"docs/**\"]
  deployment_paths: [\"deploy/**\"]
  release_notes: CHANGELOG.md

rules: {}
";

/// `config.yaml`, naming the bench that wrote it.
fn render_config(layout: &Layout) -> String {
    format!(
        "# Generated by benches/{}.rs: the defaults, spelled out.\n{CONFIG_SETTINGS}",
        layout.bench
    )
}

/// `plan.md`: the goal, ten phases and the backlog of every task.
fn render_plan(layout: &Layout, tasks: &[Task]) -> String {
    let mut s = String::with_capacity(tasks.len() * 300 + 8000);
    let n = tasks.len();
    let _ = write!(
        s,
        "---\nkind: plan\nid: bench-program\ntitle: Synthetic program with {n} tasks\nstatus: active\n---\n\n\
# Program Goal\n\
- Goal: Every module of the synthetic product works offline, syncs without loss and ships behind a feature flag with a tested rollback.\n\
- Scope: The modules under `{first}/` to `{last}/`, the CI workflows in `.github/workflows/`, the deployment in `deploy/` and the guides in `docs/`.\n\
- Non-goals: Real-time collaboration, native mobile apps and attachments larger than 10 MB.\n\n\
# Phase Tree\n",
        first = layout.dir(1),
        last = layout.dir(n),
    );
    for p in 1..=PHASES {
        let name = phase_name(p);
        let _ = write!(
            s,
            "## Phase P{p}: {name}\n\
- Outcome: {name} is complete for every module planned in phase {p}, with tests, CI and documentation in place.\n\
- Workstreams:\n\
\x20\x20- UI: Panels and dialogs for phase {p} under `web/src/ui/p{p}/`.\n\
\x20\x20- Core: Engine work for phase {p} in the modules' `src/` folders.\n\
\x20\x20- Infrastructure: CI suites and staging deployment for phase {p} from `deploy/p{p}/`.\n\
\x20\x20- Test: Property, end-to-end and soak tests for phase {p}.\n\
\x20\x20- Docs: Guides, runbooks and release notes for phase {p} under `docs/p{p}/`.\n\n"
        );
    }
    s.push_str("## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n");
    for t in tasks {
        let deps = if t.deps.is_empty() {
            "-".to_string()
        } else {
            t.deps
                .iter()
                .map(|&d| tasks[d].id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {deps} | {} |",
            t.id, t.objective, t.skill, t.criteria
        );
    }
    s
}

/// Code spans, comma-separated.
fn spans(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ticket of task `t` (module `m`), listing `artifacts`.
fn render_ticket(
    rng: &mut Rng,
    layout: &Layout,
    t: &Task,
    m: usize,
    artifacts: &[String],
) -> String {
    let risk = rng.pick(&[
        "shares the SQLite connection with the editor, so long transactions could stall typing",
        "depends on an upstream API still in review that may rename fields before the release",
        "was only measured on the small fixture; accounts with more than 1 GB are unmeasured",
        "has flaky network tests that could hide a real ordering bug; rerun failures before recording",
    ]);
    format!(
        "---\nkind: ticket\nid: {id}\nstatus: {status}\n---\n\n\
## Dispatch Ticket: {id}\n\
- Objective: {obj}\n\
- Owner Skill: {skill}\n\
- Inputs: `docs/requirements/{krate}.md` (acceptance criteria), `docs/adr/{adr:04}-{krate}-{stream}.md`, `{dir}/src/lib.rs`\n\
- Commands/Checks: `cargo test -p {krate}`, `cargo clippy -p {krate} -- -D warnings`, `cargo fmt --check`\n\
- Expected Artifacts: {artifacts}\n\
- Risks: The {thing} {risk}\n\
- Exit Criteria: {crit}\n",
        id = t.id,
        status = t.status.as_str(),
        obj = t.objective,
        skill = t.skill,
        krate = layout.krate(m),
        dir = layout.dir(m),
        adr = 1 + m % 97,
        stream = t.stream.to_ascii_lowercase(),
        artifacts = spans(artifacts),
        thing = t.thing,
        crit = t.criteria,
    )
}

/// A card's group and scope.
pub struct CardScope {
    /// The group ID, such as `G1`.
    pub group: String,
    /// The Files/paths patterns.
    pub allowed: Vec<String>,
    /// The Prohibited areas patterns.
    pub prohibited: Vec<String>,
}

impl CardScope {
    /// The usual scope: task `i`'s own module `m`, its generated code
    /// prohibited, in groups of `size` cards.
    #[allow(dead_code)] // not every bench uses it
    pub fn module(i: usize, m: usize, size: usize) -> CardScope {
        CardScope {
            group: format!("G{}", i / size + 1),
            allowed: vec![format!("mod{m}/**")],
            prohibited: vec![format!("mod{m}/gen/**")],
        }
    }
}

/// The usual Expected Artifacts: module `m`'s `lib.rs` and a source file
/// named after the task's thing.
#[allow(dead_code)] // not every bench uses it
pub fn lib_and_source(t: &Task, m: usize) -> Vec<String> {
    let file = t.thing.replace(' ', "_");
    vec![
        format!("mod{m}/src/lib.rs"),
        format!("mod{m}/src/{file}.rs"),
    ]
}

/// The card of task `t` (module `m`), in the group and scope `sc`.
fn render_card(layout: &Layout, t: &Task, m: usize, sc: &CardScope) -> String {
    format!(
        "---\nkind: card\nid: {id}\ngroup: {group}\n---\n\n\
## Codex Execution Card: {id}\n\
- Skill: {skill}\n\
- Goal: {obj}\n\
- Allowed Scope:\n\
\x20\x20- Files/paths: {allowed}\n\
\x20\x20- Prohibited areas: {prohibited}\n\
- Commands to run: `cargo build -p {krate}`, `cargo clippy -p {krate} -- -D warnings`\n\
- Tests/checks to run: `cargo test -p {krate}`, `cargo test -p {krate} --test {file}`\n\
- Evidence to capture: The `test result:` lines, the diff stat of `{dir}/` and the final message\n\
- Completion criteria: {crit}\n\n\
Governing doc: follow `docs/adr/{adr:04}-{krate}-{stream}.md`; cite the section you relied on in the final message. \
Generated code under `{dir}/gen/` is rebuilt by the build script and must not be edited by hand.\n",
        id = t.id,
        group = sc.group,
        skill = t.skill,
        obj = t.objective,
        allowed = spans(&sc.allowed),
        prohibited = spans(&sc.prohibited),
        krate = layout.krate(m),
        dir = layout.dir(m),
        file = t.thing.replace(' ', "_"),
        crit = t.criteria,
        adr = 1 + m % 97,
        stream = t.stream.to_ascii_lowercase(),
    )
}

/// `ledger.md`: pass, partial and fail rows for the tasks that have them,
/// and the Unverified Items.
fn render_ledger(rng: &mut Rng, layout: &Layout, tasks: &[Task]) -> String {
    let mut s = String::with_capacity(tasks.len() * 200 + 2000);
    s.push_str("---\nkind: ledger\nplan: bench-program\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n");
    let mut unverified = Vec::new();
    for (i, t) in tasks.iter().enumerate() {
        let m = i + 1;
        let (dir, krate) = (layout.dir(m), layout.krate(m));
        let passed = 8 + rng.below(60);
        let pr = 400 + i;
        match t.status {
            Status::Done => {
                if t.reworked {
                    let _ = writeln!(
                        s,
                        "| {} | {} | `cargo test -p {krate}` 2 of {passed} failed: the {} loses the last write on restart; log `.orchestrator/logs/{}.log` | fail | redispatch after fixing the flush order |",
                        t.id, t.skill, t.thing, t.id
                    );
                }
                let _ = writeln!(
                    s,
                    "| {} | {} | `cargo test -p {krate}` {passed} passed; diff `{dir}/src/lib.rs`; reviewed in PR {pr} | pass | unlock the dependents of {} |",
                    t.id, t.skill, t.id
                );
            }
            Status::Partial => {
                let _ = writeln!(
                    s,
                    "| {} | {} | `cargo test -p {krate}` {passed} passed; the large-account case of the {} is not implemented | partial | split out the large-account case |",
                    t.id, t.skill, t.thing
                );
                unverified.push(format!(
                    "| The {} of module {m} on accounts larger than 1 GB ({}) | medium: only the small fixture was measured; large accounts may time out | {} |",
                    t.thing, t.id, t.skill
                ));
            }
            Status::Failed => {
                let _ = writeln!(
                    s,
                    "| {} | {} | `cargo test -p {krate}` 3 of {passed} failed: requests time out after 30 s; log `.orchestrator/logs/{}.log` | fail | root cause with debug-troubleshooter |",
                    t.id, t.skill, t.id
                );
            }
            Status::InProgress | Status::Todo => {}
        }
    }
    s.push_str("\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n");
    let _ = writeln!(
        s,
        "| {} on programs larger than this one | low: tooling only; no user data at risk | release-devops |",
        layout.timed
    );
    for row in unverified {
        s.push_str(&row);
        s.push('\n');
    }
    s
}

/// The files of a program of `n` tasks: (path relative to the orchestrator
/// folder, content), config first. Task `i` (module `m = i + 1`) gets the
/// card scope `card(i, m)` and the Expected Artifacts `artifacts(task, m)`.
pub fn program(
    layout: &Layout,
    n: usize,
    card: &dyn Fn(usize, usize) -> CardScope,
    artifacts: &dyn Fn(&Task, usize) -> Vec<String>,
) -> Vec<(String, String)> {
    program_of(layout, plan_tasks(layout, n), card, artifacts)
}

/// [`program`] with every task `todo` and without dependencies: all `n`
/// are ready, as `orch sheet` sees them (the ledger has no rows).
#[allow(dead_code)] // used by the lint bench only
pub fn program_all_ready(
    layout: &Layout,
    n: usize,
    card: &dyn Fn(usize, usize) -> CardScope,
    artifacts: &dyn Fn(&Task, usize) -> Vec<String>,
) -> Vec<(String, String)> {
    let mut tasks = plan_tasks(layout, n);
    for t in &mut tasks {
        t.deps.clear();
        t.status = Status::Todo;
        t.reworked = false;
    }
    program_of(layout, tasks, card, artifacts)
}

fn program_of(
    layout: &Layout,
    tasks: Vec<Task>,
    card: &dyn Fn(usize, usize) -> CardScope,
    artifacts: &dyn Fn(&Task, usize) -> Vec<String>,
) -> Vec<(String, String)> {
    let n = tasks.len();
    let mut rng = Rng(0xC0FF_EE00 ^ n as u64);
    let mut files = vec![
        ("config.yaml".to_string(), render_config(layout)),
        ("plan.md".to_string(), render_plan(layout, &tasks)),
        (
            "ledger.md".to_string(),
            render_ledger(&mut rng, layout, &tasks),
        ),
    ];
    for (i, t) in tasks.iter().enumerate() {
        let m = i + 1;
        files.push((
            format!("tickets/{}.md", t.id),
            render_ticket(&mut rng, layout, t, m, &artifacts(t, m)),
        ));
        files.push((
            format!("cards/{}.md", t.id),
            render_card(layout, t, m, &card(i, m)),
        ));
    }
    files
}

/// Write the files of [`program`] into `dir` (the orchestrator folder).
pub fn write_program(dir: &Path, files: &[(String, String)]) -> std::io::Result<()> {
    fs::create_dir_all(dir.join("tickets"))?;
    fs::create_dir_all(dir.join("cards"))?;
    for (path, text) in files {
        fs::write(dir.join(path), text)?;
    }
    Ok(())
}

/// The `.md` files and `config.yaml` under `dir`, relative, sorted.
pub fn program_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(base.join(rel)) else {
            return;
        };
        for e in entries.flatten() {
            let path = rel.join(e.file_name());
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                walk(base, &path, out);
            } else if path.extension().is_some_and(|x| x == "md")
                || path.as_os_str() == "config.yaml"
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out);
    out.sort();
    out
}
