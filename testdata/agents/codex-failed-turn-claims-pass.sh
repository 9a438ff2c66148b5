#!/bin/sh
# Acts like `codex exec --json -o FILE` whose turn fails (`turn.failed`)
# after its check passed, yet it exits 0 and its final answer claims
# `pass`. Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1"
echo "half" > "work/$1/out.txt"
cat <<JSON
{"type":"thread.started","thread_id":"th-fc"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"file_change","changes":[{"path":"$(pwd)/work/$1/out.txt","kind":"add"}],"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"/bin/bash -lc 'cargo test'","aggregated_output":"test result: ok","exit_code":0,"status":"completed"}}
{"type":"turn.failed","error":{"message":"stream disconnected before completion"}}
JSON
cat > "$2" <<JSON
{"task":"$1","result":"pass","evidence":["cargo test passes"],"checks":[{"command":"cargo test","outcome":"pass"}],"unverified":[],"next_action":"none"}
JSON
exit 0
