#!/bin/sh
# Acts like `codex exec --json` that edits only through shell commands
# (sed -i, echo >>): no file_change item, yet the files change, one of them
# outside the task's scope (README.md). Its check passes and the turn
# completes. Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1"
printf 'old\n' > "work/$1/lib.rs"
sed -i 's/old/new/' "work/$1/lib.rs"
echo "notes from $1" >> README.md
cat <<JSON
{"type":"thread.started","thread_id":"th-shell"}
{"type":"turn.started"}
{"type":"item.started","item":{"id":"i1","type":"command_execution","command":"/bin/bash -lc 'sed -i s/old/new/ work/$1/lib.rs'","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"/bin/bash -lc 'sed -i s/old/new/ work/$1/lib.rs'","aggregated_output":"","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"/bin/bash -lc 'echo notes >> README.md'","aggregated_output":"","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i3","type":"command_execution","command":"/bin/bash -lc 'cargo test'","aggregated_output":"test result: ok","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i4","type":"agent_message","text":"Edited lib.rs."}}
{"type":"turn.completed","usage":{"input_tokens":1200,"cached_input_tokens":1000,"output_tokens":80}}
JSON
