#!/bin/sh
# Acts like `codex exec --json -o FILE` that does its work (an edit in
# scope, the card's check passing, a completed turn) but writes a final
# answer that breaks the completion report's schema: a result orch does not
# know, evidence as a string, a check without its outcome, a field the
# schema does not have, `next_action` missing.
# Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
cat <<JSON
{"type":"thread.started","thread_id":"th-bad"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"file_change","changes":[{"path":"$(pwd)/work/$1/out.txt","kind":"add"}],"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"/bin/bash -lc 'cargo test'","aggregated_output":"test result: ok. 3 passed","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i3","type":"agent_message","text":"Done."}}
{"type":"turn.completed","usage":{"input_tokens":900,"cached_input_tokens":0,"output_tokens":40}}
JSON
cat > "$2" <<JSON
{"task":"$1","result":"done","evidence":"it works","checks":[{"command":"cargo test"}],"unverified":[],"confidence":"high"}
JSON
