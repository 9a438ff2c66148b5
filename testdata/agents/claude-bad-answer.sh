#!/bin/sh
# Replays a Claude Code run that did its work, but whose structured answer
# breaks the completion report's schema (a result orch does not know, a
# missing field, an extra one). Arguments: the task ID, the prompt.
mkdir -p "work/$1"
echo "x" > "work/$1/out.txt"
cat <<JSON
{"type":"system","subtype":"init","session_id":"cl-3","cwd":"$(pwd)","model":"m","tools":["Bash"]}
{"type":"assistant","message":{"id":"msg_1","model":"m","content":[{"type":"tool_use","id":"tu_1","name":"Bash","input":{"command":"cargo test"}}],"usage":{"input_tokens":10,"output_tokens":5}}}
{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu_1","content":"ok"}]}}
{"type":"result","subtype":"success","is_error":false,"duration_ms":5,"duration_api_ms":5,"num_turns":2,"session_id":"cl-3","total_cost_usd":0.001,"usage":{"input_tokens":10,"output_tokens":5},"result":"done","structured_output":{"task":"$1","result":"done","evidence":"it works","mood":"great"}}
JSON
