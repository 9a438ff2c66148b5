//! The GitHub Actions workflow `orch workflow write` writes
//! (`.github/workflows/orch-dispatch.yml`): a first job that plans the
//! run (`orch workflow plan`: the group checked, its tasks claimed and
//! marked `in_progress` on a run branch `orch-run/<RUN>`), one job per
//! task from its output (`orch run-task`, the branch pushed, the facts and
//! log uploaded), and a last job, always, that harvests from the branches,
//! integrates, pushes the run branch and opens or updates one pull request
//! whose body is the run report.
//!
//! Every `${{ }}` expression sits in `env:`, `if:`, `with:`, `outputs:`
//! or `strategy:`, never inside a script: text from a comment or an input
//! reaches a script only as an environment variable. Actions are pinned
//! to a commit, with the version beside it. Secrets are referenced, never
//! written. No permission is granted workflow-wide; each job asks for what
//! it needs.

use std::path::Path;

use crate::error::Result;

/// Where the workflow goes, relative to the work tree's top.
pub const PATH: &str = ".github/workflows/orch-dispatch.yml";

/// The most jobs one matrix may have (GitHub's limit).
pub const MATRIX_LIMIT: usize = 256;

/// Where orch's source is, when its package names it (`--orch-git`
/// otherwise must).
pub const ORCH_GIT: &str = env!("CARGO_PKG_REPOSITORY");

const CHECKOUT: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2";
const CACHE: &str = "actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3";
const UPLOAD: &str = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2";
const DOWNLOAD: &str =
    "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0";

/// What a written workflow is made of.
#[derive(Clone, Debug)]
pub struct Options {
    /// The orchestrator folder, relative to the work tree (`.orchestrator`).
    pub dir: String,
    /// Task jobs at once, per task job (`max-parallel`).
    pub jobs: usize,
    /// Task jobs, each a matrix of at most [`MATRIX_LIMIT`] tasks.
    pub chunks: usize,
    /// Also start from a `/orch dispatch <GROUP>` comment.
    pub on_comment: bool,
    /// Where orch is installed from (a git URL).
    pub orch_git: String,
    pub orch_ref: String,
    /// A task job's `timeout-minutes`.
    pub timeout_minutes: u64,
}

/// A task job's `timeout-minutes`: the agent's timeout plus 30 minutes for
/// checkout, installs and the seal; 6 hours (GitHub's most for a hosted
/// runner) without one.
pub fn timeout_minutes(agent: Option<std::time::Duration>) -> u64 {
    agent.map_or(360, |d| (d.as_secs().div_ceil(60) + 30).min(360))
}

/// Double-quoted YAML scalar.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The steps every job starts with: the checkout (at `ref_expr` when
/// given), orch installed (cached by its source and ref), a git identity.
fn preamble(ref_expr: Option<&str>) -> String {
    let with_ref = ref_expr
        .map(|r| format!("          ref: {r}\n"))
        .unwrap_or_default();
    format!(
        r#"      - uses: {CHECKOUT}
        with:
{with_ref}          # Full history: branches are judged against their base.
          fetch-depth: 0
      - uses: {CACHE}
        with:
          path: ~/.cargo/bin/orch
          key: orch-${{{{ runner.os }}}}-${{{{ env.ORCH_GIT }}}}-${{{{ env.ORCH_REF }}}}
      - name: Install orch
        shell: bash
        run: |
          set -euo pipefail
          if ! command -v orch >/dev/null 2>&1; then
            ref=()
            case "$ORCH_REF" in
              "") ;;
              v[0-9]*) ref=(--tag "$ORCH_REF") ;;
              *) if [[ "$ORCH_REF" =~ ^[0-9a-f]{{40}}$ ]]; then ref=(--rev "$ORCH_REF"); else ref=(--branch "$ORCH_REF"); fi ;;
            esac
            cargo install --locked --git "$ORCH_GIT" "${{ref[@]}}" orch
          fi
          orch --version
      - name: Git identity
        shell: bash
        run: |
          set -euo pipefail
          git config user.name "github-actions[bot]"
          git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
"#
    )
}

/// The workflow's text.
pub fn render(o: &Options) -> String {
    let chunks = o.chunks.max(1);
    let comment_trigger = if o.on_comment {
        "  # `/orch dispatch <GROUP>` in a comment by an owner, member or\n  # collaborator starts a run from the default branch.\n  issue_comment:\n    types: [created]\n"
    } else {
        ""
    };
    let plan_if = if o.on_comment {
        "github.event_name == 'workflow_dispatch' || (startsWith(github.event.comment.body, '/orch dispatch ') && contains(fromJSON('[\"OWNER\",\"MEMBER\",\"COLLABORATOR\"]'), github.event.comment.author_association))"
    } else {
        "github.event_name == 'workflow_dispatch'"
    };
    let orch_git = quoted(&o.orch_git);
    let mut chunk_outputs = String::new();
    for k in 1..=chunks {
        chunk_outputs.push_str(&format!(
            "      tasks-{k}: ${{{{ steps.plan.outputs.tasks-{k} }}}}\n"
        ));
    }
    let mut s = format!(
        r#"# Written by `orch workflow write` (orch {version}); run it again to rewrite.
# Dispatches a group of tasks as GitHub Actions jobs, one per task, each
# on its own branch orch/<ID>, then harvests and integrates them on the
# run branch orch-run/<RUN> and opens or updates one pull request whose
# body is the run report. Set-up, costs, following and resuming a run:
# docs/github.md. Start a run with `orch dispatch --engine github <GROUP>`
# or from the Actions tab.
name: Dispatch with orch

on:
  workflow_dispatch:
    inputs:
      group:
        description: "The group to dispatch (`orch sheet --write` names them), or task IDs separated by spaces."
        required: true
        type: string
      run:
        description: "The run id (default: the UTC time and the group, such as 20261124T193000Z-G2)."
        type: string
        default: ""
      agent:
        description: "The agent: config (config.yaml's), codex, claude or gemini."
        type: choice
        options: [config, codex, claude, gemini]
        default: config
{comment_trigger}
# No permission workflow-wide: each job asks for what it needs.
permissions: {{}}

env:
  ORCH_DIR: {dir}
  ORCH_REF: {orch_ref}

jobs:
  plan:
    name: plan
    if: {plan_if}
    runs-on: ubuntu-latest
    permissions:
      contents: write # the marking commit on orch-run/<RUN>, the claims
    outputs:
      run: ${{{{ steps.plan.outputs.run }}}}
      base: ${{{{ steps.plan.outputs.base }}}}
      package: ${{{{ steps.plan.outputs.package }}}}
      prefix: ${{{{ steps.plan.outputs.prefix }}}}
{chunk_outputs}    env:
      # orch's source, installed on each runner (cached by source and ref).
      ORCH_GIT: {orch_git}
      ORCH_GROUP_INPUT: ${{{{ inputs.group }}}}
      ORCH_RUN_INPUT: ${{{{ inputs.run }}}}
      ORCH_AGENT_INPUT: ${{{{ inputs.agent }}}}
      ORCH_COMMENT: ${{{{ github.event.comment.body }}}}
      # Claims are taken at the remote too: a task runs once.
      ORCH_CLAIMS_REMOTE: origin
    steps:
{preamble}      - name: Plan the run
        id: plan
        shell: bash
        run: |
          set -euo pipefail
          group="$ORCH_GROUP_INPUT"
          if [ -z "$group" ]; then
            # `/orch dispatch <GROUP>`: the third word of the comment.
            read -r _ _ group _ <<<"$ORCH_COMMENT" || true
          fi
          # Task IDs separated by spaces are separate arguments.
          read -r -a targets <<<"$group"
          orch --dir "$ORCH_DIR" workflow plan "${{targets[@]}}" --run "$ORCH_RUN_INPUT" \
            --agent "${{ORCH_AGENT_INPUT:-config}}" --chunks {chunks} | tee -a "$GITHUB_OUTPUT"
      - name: Push the run branch
        shell: bash
        env:
          ORCH_RUN: ${{{{ steps.plan.outputs.run }}}}
        run: |
          set -euo pipefail
          git push origin "HEAD:refs/heads/orch-run/$ORCH_RUN"
"#,
        version = env!("CARGO_PKG_VERSION"),
        dir = quoted(&o.dir),
        orch_ref = quoted(&o.orch_ref),
        preamble = preamble(None),
    );
    let mut needs = vec!["plan".to_string()];
    for k in 1..=chunks {
        needs.push(format!("task-{k}"));
        s.push_str(&format!(
            r#"
  task-{k}:
    name: task ${{{{ matrix.task }}}}
    needs: plan
    if: needs.plan.outputs.tasks-{k} != ''
    runs-on: ubuntu-latest
    timeout-minutes: {timeout}
    permissions:
      contents: write # push orch/<ID>
    strategy:
      fail-fast: false
      max-parallel: {jobs}
      matrix:
        task: ${{{{ fromJSON(needs.plan.outputs.tasks-{k}) }}}}
    env:
      ORCH_GIT: {orch_git}
      ORCH_TASK: ${{{{ matrix.task }}}}
      ORCH_RUN: ${{{{ needs.plan.outputs.run }}}}
      ORCH_BASE_SHA: ${{{{ needs.plan.outputs.base }}}}
      ORCH_PACKAGE: ${{{{ needs.plan.outputs.package }}}}
      ORCH_PREFIX: ${{{{ needs.plan.outputs.prefix }}}}
      ORCH_AGENT_INPUT: ${{{{ inputs.agent }}}}
      # The agent's key, from the repository's secrets (docs/github.md).
      OPENAI_API_KEY: ${{{{ secrets.OPENAI_API_KEY }}}}
      ANTHROPIC_API_KEY: ${{{{ secrets.ANTHROPIC_API_KEY }}}}
      GEMINI_API_KEY: ${{{{ secrets.GEMINI_API_KEY }}}}
    steps:
{preamble}      - name: Install the agent
        if: needs.plan.outputs.package != ''
        shell: bash
        run: |
          set -euo pipefail
          npm install --global "$ORCH_PACKAGE"
      - name: Run the task
        id: task
        shell: bash
        run: |
          set -uo pipefail
          code=0
          orch --dir "$ORCH_DIR" run-task "$ORCH_TASK" --run "$ORCH_RUN" --base "$ORCH_BASE_SHA" \
            --agent "${{ORCH_AGENT_INPUT:-config}}" || code=$?
          echo "code=$code" >> "$GITHUB_OUTPUT"
      - name: Push the task's branch
        if: always()
        shell: bash
        run: |
          set -euo pipefail
          branch="$ORCH_PREFIX$ORCH_TASK"
          if git rev-parse --verify --quiet "refs/heads/$branch" >/dev/null; then
            # Created only if absent: a branch left by an earlier run is not overwritten.
            git push --force-with-lease="refs/heads/$branch:" origin "refs/heads/$branch:refs/heads/$branch"
          else
            echo "::warning::$ORCH_TASK has no branch: it did not start (its run file says why)"
          fi
      - uses: {UPLOAD}
        if: always()
        with:
          name: orch-${{{{ needs.plan.outputs.run }}}}-${{{{ matrix.task }}}}
          path: |
            ${{{{ env.ORCH_DIR }}}}/runs/${{{{ needs.plan.outputs.run }}}}/
            ${{{{ env.ORCH_DIR }}}}/logs/
          include-hidden-files: true
          if-no-files-found: warn
          retention-days: 14
      - name: The task's verdict
        shell: bash
        env:
          CODE: ${{{{ steps.task.outputs.code }}}}
        run: |
          # 0 pass, 1 not a pass, 2 refused (harvest below judges every task).
          exit "${{CODE:-2}}"
"#,
            timeout = o.timeout_minutes,
            orch_git = orch_git,
            jobs = o.jobs.max(1),
            preamble = preamble(Some("${{ needs.plan.outputs.base }}")),
        ));
    }
    s.push_str(&format!(
        r#"
  harvest:
    name: harvest and integrate
    needs: [{needs}]
    if: always() && needs.plan.result == 'success'
    runs-on: ubuntu-latest
    permissions:
      contents: write # fetch the task branches, push the run branch, release claims
      pull-requests: write # open or update the run's pull request
    env:
      ORCH_GIT: {orch_git}
      ORCH_RUN: ${{{{ needs.plan.outputs.run }}}}
      ORCH_TARGET: ${{{{ github.event_name == 'issue_comment' && github.event.repository.default_branch || github.ref_name }}}}
      ORCH_CLAIMS_REMOTE: origin
      GH_TOKEN: ${{{{ github.token }}}}
    steps:
{preamble}      - uses: {DOWNLOAD}
        with:
          pattern: orch-${{{{ needs.plan.outputs.run }}}}-*
          merge-multiple: true
          path: ${{{{ env.ORCH_DIR }}}}
      - name: Harvest from the branches
        id: harvest
        shell: bash
        run: |
          set -uo pipefail
          code=0
          orch --dir "$ORCH_DIR" harvest --from-branches "$ORCH_RUN" --remote origin --record || code=$?
          echo "code=$code" >> "$GITHUB_OUTPUT"
      - name: Integrate
        id: integrate
        shell: bash
        run: |
          set -uo pipefail
          code=0
          orch --dir "$ORCH_DIR" integrate "$ORCH_RUN" || code=$?
          echo "code=$code" >> "$GITHUB_OUTPUT"
      - name: Push the run branch
        shell: bash
        run: |
          set -euo pipefail
          git push origin "HEAD:refs/heads/orch-run/$ORCH_RUN"
      - name: Pull request
        shell: bash
        run: |
          set -euo pipefail
          report="$ORCH_DIR/runs/$ORCH_RUN.md"
          body="$RUNNER_TEMP/orch-pr-body.md"
          # A pull request's body holds at most 65,536 characters.
          head -c 60000 "$report" > "$body"
          cat "$report" >> "$GITHUB_STEP_SUMMARY"
          number=$(gh pr list --head "orch-run/$ORCH_RUN" --state open --json number --jq '.[0].number // empty')
          if [ -n "$number" ]; then
            gh pr edit "$number" --body-file "$body"
          else
            gh pr create --head "orch-run/$ORCH_RUN" --base "$ORCH_TARGET" \
              --title "orch run $ORCH_RUN" --body-file "$body"
          fi
      - name: The run's verdict
        shell: bash
        env:
          HARVEST: ${{{{ steps.harvest.outputs.code }}}}
          INTEGRATE: ${{{{ steps.integrate.outputs.code }}}}
        run: |
          # Red unless every task passed and every branch was integrated.
          [ "${{HARVEST:-2}}" = 0 ] && [ "${{INTEGRATE:-2}}" = 0 ]
"#,
        needs = needs.join(", "),
        orch_git = orch_git,
        preamble = preamble(Some("orch-run/${{ needs.plan.outputs.run }}")),
    ));
    s
}

/// Write the workflow (atomically, never through a link, inside the
/// repository).
pub fn write_file(root: &Path, target: &Path, text: &str) -> Result<()> {
    crate::fsx::write_inside(root, target, text.as_bytes(), true)
}
