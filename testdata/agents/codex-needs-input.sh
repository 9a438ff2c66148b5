#!/bin/sh
# Acts like `codex exec --json` that stops to ask a person
# (`request_user_input`), waits for an answer that does not come, then ends
# its turn without having run the card's check.
# Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1"
echo "draft" > "work/$1/out.txt"
cat <<JSON
{"type":"thread.started","thread_id":"th-ask"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"file_change","changes":[{"path":"$(pwd)/work/$1/out.txt","kind":"add"}],"status":"completed"}}
{"type":"request_user_input","id":"r1","call_id":"c1","questions":[{"id":"q1","header":"Scope","question":"May I change the public API of the sync module?"}]}
JSON
sleep 3
cat <<JSON
{"type":"item.completed","item":{"id":"i2","type":"agent_message","text":"Waiting for an answer about the API."}}
{"type":"turn.completed","usage":{"input_tokens":300,"cached_input_tokens":0,"output_tokens":20}}
JSON
