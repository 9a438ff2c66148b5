#!/bin/sh
# Acts like `codex exec --json -o FILE` whose card check fails in the
# stream (`cargo test` exits 101) while its completion report claims
# `pass` and the check passing. Arguments: the task ID, the last-message
# file, the prompt.
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
cat <<JSON
{"type":"thread.started","thread_id":"th-contra"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"file_change","changes":[{"path":"$(pwd)/work/$1/out.txt","kind":"add"}],"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"/bin/bash -lc 'cargo test'","aggregated_output":"test foo ... FAILED\ntest result: FAILED. 2 passed; 1 failed","exit_code":101,"status":"failed"}}
{"type":"item.completed","item":{"id":"i3","type":"agent_message","text":"All tests pass."}}
{"type":"turn.completed","usage":{"input_tokens":900,"cached_input_tokens":0,"output_tokens":40}}
JSON
cat > "$2" <<JSON
{"task":"$1","result":"pass","evidence":["cargo test: all passed"],"checks":[{"command":"cargo test","outcome":"pass"}],"unverified":[],"next_action":"none"}
JSON
