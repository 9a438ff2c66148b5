#!/bin/sh
# Acts like `codex exec --json` that commits its own work (git commit) and
# reports no file_change: the committed files, one outside the task's
# scope (docs/notes.md), are seen from HEAD having moved.
# Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1" docs
echo "committed" > "work/$1/lib.rs"
echo "notes" > docs/notes.md
git add "work/$1/lib.rs" docs/notes.md
git -c user.name=Agent -c user.email=agent@example.com commit -q -m "agent work" >/dev/null
cat <<JSON
{"type":"thread.started","thread_id":"th-commit"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"git commit -m 'agent work'","aggregated_output":"","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"cargo test","aggregated_output":"ok","exit_code":0,"status":"completed"}}
{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":0,"output_tokens":5}}
JSON
