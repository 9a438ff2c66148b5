#!/bin/sh
# Replays a Claude Code run that does its work and passes its check, but
# whose result reports a cost ($0.75) past the task's USD budget.
# Arguments: the task ID, the prompt.
here=$(pwd)
mkdir -p "work/$1"
echo "x" > "work/$1/out.txt"
cat <<JSON
{"type":"system","subtype":"init","session_id":"cl-8","cwd":"$here","model":"m","tools":["Bash","Write"]}
{"type":"assistant","message":{"id":"msg_1","model":"m","content":[{"type":"tool_use","id":"tu_1","name":"Write","input":{"file_path":"$here/work/$1/out.txt","content":"x"}},{"type":"tool_use","id":"tu_2","name":"Bash","input":{"command":"cargo test"}}],"usage":{"input_tokens":10,"output_tokens":5}}}
{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu_1","content":"ok"},{"type":"tool_result","tool_use_id":"tu_2","content":"test result: ok"}]}}
{"type":"result","subtype":"success","is_error":false,"duration_ms":5,"duration_api_ms":5,"num_turns":2,"session_id":"cl-8","total_cost_usd":0.75,"usage":{"input_tokens":10,"output_tokens":5},"result":"Done.","structured_output":{"task":"$1","result":"pass","evidence":["cargo test passes"],"checks":[{"command":"cargo test","outcome":"pass"}],"unverified":[],"next_action":"none"}}
JSON
