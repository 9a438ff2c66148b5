#!/bin/sh
# Replays a Claude Code run that claims `pass` and a passing check, while
# the stream shows the check failing (exit code 101).
# Arguments: the task ID, the prompt.
here=$(pwd)
mkdir -p "work/$1"
echo "x" > "work/$1/out.txt"
cat <<JSON
{"type":"system","subtype":"init","session_id":"cl-4","cwd":"$here","model":"m","tools":["Bash","Edit"]}
{"type":"assistant","message":{"id":"msg_1","model":"m","content":[{"type":"tool_use","id":"tu_1","name":"Edit","input":{"file_path":"$here/work/$1/out.txt","old_string":"","new_string":"x"}},{"type":"tool_use","id":"tu_2","name":"Bash","input":{"command":"cargo test"}}],"usage":{"input_tokens":10,"output_tokens":5}}}
{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu_1","content":"ok"},{"type":"tool_result","tool_use_id":"tu_2","content":"Exit code 101\ntest foo ... FAILED","is_error":true}]}}
{"type":"result","subtype":"success","is_error":false,"duration_ms":5,"duration_api_ms":5,"num_turns":2,"session_id":"cl-4","total_cost_usd":0.002,"usage":{"input_tokens":10,"output_tokens":5},"result":"All good.","structured_output":{"task":"$1","result":"pass","evidence":["all tests pass"],"checks":[{"command":"cargo test","outcome":"pass"}],"unverified":[],"next_action":"none"}}
JSON
