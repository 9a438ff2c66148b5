#!/bin/sh
# Replays `claude -p --output-format stream-json --verbose --json-schema`:
# a Write inside the task's scope, the card's check run through Bash, the
# usage of two messages, and a result with its cost and the structured
# completion report (one unverified item). Arguments: the task ID, the prompt.
here=$(pwd)
mkdir -p "work/$1"
echo "fn main() {}" > "work/$1/main.rs"
cat <<JSON
{"type":"system","subtype":"init","session_id":"cl-1","cwd":"$here","model":"claude-sonnet-4-5","tools":["Bash","Write"],"mcp_servers":[],"permissionMode":"acceptEdits","apiKeySource":"none"}
{"type":"assistant","message":{"id":"msg_1","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Writing main.rs."},{"type":"tool_use","id":"tu_1","name":"Write","input":{"file_path":"$here/work/$1/main.rs","content":"fn main() {}"}}],"usage":{"input_tokens":900,"cache_read_input_tokens":3000,"cache_creation_input_tokens":100,"output_tokens":120},"stop_reason":"tool_use"},"session_id":"cl-1","parent_tool_use_id":null,"uuid":"u1"}
{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"tu_1","content":"File created"}]},"session_id":"cl-1","parent_tool_use_id":null,"uuid":"u2"}
{"type":"assistant","message":{"id":"msg_2","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"tu_2","name":"Bash","input":{"command":"cargo test","description":"Run the tests"}}],"usage":{"input_tokens":50,"output_tokens":30},"stop_reason":"tool_use"},"session_id":"cl-1","parent_tool_use_id":null,"uuid":"u3"}
{"type":"rate_limit_event","rate_limit_info":{"status":"allowed","resetsAt":1},"uuid":"u4","session_id":"cl-1"}
{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"tu_2","content":"test result: ok. 3 passed","is_error":false}]},"session_id":"cl-1","parent_tool_use_id":null,"uuid":"u5"}
{"type":"result","subtype":"success","is_error":false,"duration_ms":2100,"duration_api_ms":1800,"num_turns":3,"session_id":"cl-1","stop_reason":"end_turn","total_cost_usd":0.0421,"usage":{"input_tokens":950,"cache_read_input_tokens":3000,"cache_creation_input_tokens":100,"output_tokens":150},"result":"Done: main.rs written, cargo test passes.","structured_output":{"task":"$1","result":"pass","evidence":["cargo test: 3 passed"],"checks":[{"command":"cargo test","outcome":"pass"}],"unverified":[{"item":"main.rs on Windows","risk":"low: path separators","owner":"qa-test-engineer"}],"next_action":"none"},"permission_denials":[],"uuid":"u6"}
JSON
