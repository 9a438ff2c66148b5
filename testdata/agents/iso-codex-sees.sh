#!/bin/sh
# Acts like `codex exec --json` in an isolated worktree: lists what it finds
# of its dependencies' work (every work/*/main.rs) into work/<ID>/saw.txt,
# with ORCH_BASE, then completes its turn.
# Arguments: the task ID, the last-message file, the prompt.
{ echo "base $ORCH_BASE"; for f in work/*/main.rs; do [ -f "$f" ] && echo "$f"; done; } > "work/$1/saw.txt"
cat <<JSON
{"type":"thread.started","thread_id":"th-iso-sees"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"cargo test","aggregated_output":"ok","exit_code":0,"status":"completed"}}
{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":0,"output_tokens":5}}
JSON
