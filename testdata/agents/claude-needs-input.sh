#!/bin/sh
# Replays a Claude Code run that was denied a permission it needed (a
# person must grant it): the result lists the denial.
# Arguments: the task ID, the prompt.
mkdir -p "work/$1"
echo "x" > "work/$1/out.txt"
cat <<JSON
{"type":"system","subtype":"init","session_id":"cl-6","cwd":"$(pwd)","model":"m","tools":["Bash"]}
{"type":"assistant","message":{"id":"msg_1","model":"m","content":[{"type":"tool_use","id":"tu_1","name":"Bash","input":{"command":"cargo test"}}],"usage":{"input_tokens":10,"output_tokens":5}}}
{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu_1","content":"ok"}]}}
{"type":"assistant","message":{"id":"msg_2","model":"m","content":[{"type":"tool_use","id":"tu_2","name":"Bash","input":{"command":"npm install left-pad"}}],"usage":{"input_tokens":10,"output_tokens":5}}}
{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu_2","content":"Claude requested permissions to use Bash, but you haven't granted it yet.","is_error":true}]}}
{"type":"result","subtype":"success","is_error":false,"duration_ms":5,"duration_api_ms":5,"num_turns":3,"session_id":"cl-6","total_cost_usd":0.003,"usage":{"input_tokens":20,"output_tokens":10},"result":"I need permission to run npm install.","permission_denials":[{"tool_name":"Bash","tool_use_id":"tu_2","tool_input":{"command":"npm install left-pad"}}]}
JSON
