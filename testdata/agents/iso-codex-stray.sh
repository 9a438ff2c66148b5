#!/bin/sh
# Acts like `codex exec --json` in an isolated worktree that edits inside
# its scope and, through a shell command, README.md outside it.
# Arguments: the task ID, the last-message file, the prompt.
echo "in scope" > "work/$1/out.txt"
echo "notes from $1" >> README.md
cat <<JSON
{"type":"thread.started","thread_id":"th-iso-stray"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"/bin/bash -lc 'echo notes >> README.md'","aggregated_output":"","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"cargo test","aggregated_output":"ok","exit_code":0,"status":"completed"}}
{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":0,"output_tokens":5}}
JSON
