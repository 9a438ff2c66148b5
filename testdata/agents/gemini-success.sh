#!/bin/sh
# Replays `gemini --output-format stream-json`: a write_file inside the
# task's scope, the card's check through run_shell_command, the final
# message streamed as deltas ending with the completion report in a ```json
# block (Gemini has no schema flag: the prompt describes it), and a result
# with its token stats. Arguments: the task ID, the prompt.
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
t=2026-01-01T00:00:00.000Z
cat <<JSON
{"type":"init","timestamp":"$t","session_id":"gm-1","model":"gemini-2.5-pro"}
{"type":"message","timestamp":"$t","role":"user","content":"the prompt"}
{"type":"tool_use","timestamp":"$t","tool_name":"write_file","tool_id":"w-1","parameters":{"file_path":"work/$1/out.txt","content":"done"}}
{"type":"tool_result","timestamp":"$t","tool_id":"w-1","status":"success","output":"Wrote work/$1/out.txt"}
{"type":"tool_use","timestamp":"$t","tool_name":"run_shell_command","tool_id":"s-1","parameters":{"command":"cargo test"}}
{"type":"tool_result","timestamp":"$t","tool_id":"s-1","status":"success","output":"test result: ok. 3 passed"}
{"type":"message","timestamp":"$t","role":"assistant","content":"Done.\\n\`\`\`json\\n{\\"task\\":\\"$1\\",\\"result\\":\\"pass\\",","delta":true}
{"type":"message","timestamp":"$t","role":"assistant","content":"\\"evidence\\":[\\"cargo test: 3 passed\\"],\\"checks\\":[{\\"command\\":\\"cargo test\\",\\"outcome\\":\\"pass\\"}],\\"unverified\\":[],\\"next_action\\":\\"none\\"}\\n\`\`\`","delta":true}
{"type":"result","timestamp":"$t","status":"success","stats":{"total_tokens":5200,"input_tokens":5000,"output_tokens":200,"cached":4000,"input":1000,"duration_ms":900,"tool_calls":2}}
JSON
