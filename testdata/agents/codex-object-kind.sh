#!/bin/sh
# Acts like a newer `codex exec --json`: a file_change whose kind is an
# object ({"type":"update"}) carrying a unified diff, an item.updated, and
# event and item types orch does not know. Arguments: the task ID, the
# last-message file, the prompt.
mkdir -p "work/$1"
echo "new" > "work/$1/lib.rs"
cat <<JSON
{"type":"thread.started","thread_id":"th-obj"}
{"type":"turn.started"}
{"type":"item.started","item":{"id":"t1","type":"todo_list","items":[{"text":"edit","completed":false}]}}
{"type":"item.updated","item":{"id":"t1","type":"todo_list","items":[{"text":"edit","completed":true}]}}
{"type":"item.completed","item":{"id":"i1","type":"file_change","changes":[{"path":"work/$1/lib.rs","kind":{"type":"update"},"diff":"@@ -1 +1 @@\n-old\n+new\n"}],"status":"completed"}}
{"type":"item.plan.delta","item_id":"p","delta":"x"}
{"type":"some.future.event","payload":{"a":1}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"/bin/bash -lc 'cargo test'","aggregated_output":"ok","exit_code":0,"status":"completed"}}
{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":5}}
JSON
