#!/bin/sh
# Acts like `codex exec --json -o FILE` in an isolated worktree: edits its
# seed file and adds one, reported as a file_change item with absolute
# paths, writes the environment orch gave it (ORCH_TASK, ORCH_RUN,
# ORCH_BASE, the folder it runs in) to work/<ID>/env.txt, runs its check,
# and writes its final message to FILE. Nothing is committed: orch seals it.
# Arguments: the task ID, the last-message file, the prompt.
here=$(pwd)
printf 'seed of %s\nline two, edited\nline three\n' "$1" > "work/$1/seed.txt"
echo "fn main() {}" > "work/$1/main.rs"
printf '%s %s %s %s\n' "$ORCH_TASK" "$ORCH_RUN" "$ORCH_BASE" "$here" > "work/$1/env.txt"
echo '{"type":"thread.started","thread_id":"th-iso-1"}'
echo '{"type":"turn.started"}'
echo "{\"type\":\"item.completed\",\"item\":{\"id\":\"i1\",\"type\":\"file_change\",\"changes\":[{\"path\":\"$here/work/$1/seed.txt\",\"kind\":\"update\"},{\"path\":\"$here/work/$1/main.rs\",\"kind\":\"add\"}],\"status\":\"completed\"}}"
echo '{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"cargo test","aggregated_output":"test result: ok","exit_code":0,"status":"completed"}}'
echo '{"type":"item.completed","item":{"id":"i3","type":"agent_message","text":"Edited the seed, added main.rs."}}'
echo '{"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":5}}'
printf 'Edited the seed and added main.rs; cargo test passes.\n' > "$2"
