#!/bin/sh
# Acts like `codex exec --json -o FILE`: edits files, reports them as
# file_change items with absolute paths (one outside the task's scope),
# and writes its final message to FILE.
# Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1" docs
echo "fn main() {}" > "work/$1/main.rs"
echo "notes" > docs/notes.md
here=$(pwd)
echo '{"type":"thread.started","thread_id":"th-2"}'
echo '{"type":"turn.started"}'
echo "{\"type\":\"item.completed\",\"item\":{\"id\":\"i1\",\"type\":\"file_change\",\"changes\":[{\"path\":\"$here/work/$1/main.rs\",\"kind\":\"add\"},{\"path\":\"$here/docs/notes.md\",\"kind\":\"add\"}],\"status\":\"completed\"}}"
echo '{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"cargo test","aggregated_output":"ok","exit_code":0,"status":"completed"}}'
echo '{"type":"item.completed","item":{"id":"i3","type":"agent_message","text":"Added main.rs."}}'
echo '{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":1}}'
printf 'Added main.rs; cargo test passes.\n' > "$2"
