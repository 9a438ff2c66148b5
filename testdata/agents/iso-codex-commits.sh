#!/bin/sh
# Acts like `codex exec --json` in an isolated worktree that commits part
# of its work itself (git commit, deleting its seed) and leaves another
# file uncommitted: both end on its branch, the commit kept as it made it.
# Arguments: the task ID, the last-message file, the prompt.
git rm -q "work/$1/seed.txt"
mkdir -p "work/$1"
echo "committed by $1" > "work/$1/lib.rs"
git add "work/$1/lib.rs"
git -c user.name=Agent -c user.email=agent@example.com commit -q -m "agent work on $1" >/dev/null
echo "left by $1" > "work/$1/left.txt"
cat <<JSON
{"type":"thread.started","thread_id":"th-iso-commit"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"git commit -m 'agent work'","aggregated_output":"","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"cargo test","aggregated_output":"ok","exit_code":0,"status":"completed"}}
{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":0,"output_tokens":5}}
JSON
