#!/bin/sh
# Acts like `codex exec --json` in an isolated worktree that edits only
# through shell commands: no file_change item, yet it renames its seed
# (git mv), deletes nothing else, appends to a new file and removes a
# scratch file it made. Its check passes and the turn completes.
# Arguments: the task ID, the last-message file, the prompt.
git mv "work/$1/seed.txt" "work/$1/renamed.txt"
echo "appended by $1" >> "work/$1/log.txt"
echo scratch > "work/$1/scratch.tmp"
rm "work/$1/scratch.tmp"
cat <<JSON
{"type":"thread.started","thread_id":"th-iso-shell"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"/bin/bash -lc 'git mv work/$1/seed.txt work/$1/renamed.txt'","aggregated_output":"","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"/bin/bash -lc 'cargo test'","aggregated_output":"test result: ok","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i3","type":"agent_message","text":"Renamed the seed."}}
{"type":"turn.completed","usage":{"input_tokens":12,"output_tokens":4}}
JSON
