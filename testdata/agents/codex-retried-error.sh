#!/bin/sh
# Acts like `codex exec --json` whose stream dropped and was retried (an
# `error` event, as codex prints while it reconnects), then completes its
# turn: a pass. Writes a completion report to the last-message file.
# Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
cat <<JSON
{"type":"thread.started","thread_id":"th-retry"}
{"type":"turn.started"}
{"type":"error","message":"Reconnecting... 1/5 (stream disconnected before completion)"}
{"type":"item.completed","item":{"id":"i1","type":"file_change","changes":[{"path":"$(pwd)/work/$1/out.txt","kind":"add"}],"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"/bin/bash -lc 'cargo test'","aggregated_output":"test result: ok. 3 passed","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i3","type":"agent_message","text":"Done."}}
{"type":"turn.completed","usage":{"input_tokens":22857,"cached_input_tokens":20736,"output_tokens":250}}
JSON
cat > "$2" <<JSON
{"task":"$1","result":"pass","evidence":["cargo test: 3 passed"],"checks":[{"command":"cargo test","outcome":"pass"}],"unverified":[{"item":"behaviour on a slow disk","risk":"low: a slower first run","owner":"qa-test-engineer"}],"next_action":"none"}
JSON
