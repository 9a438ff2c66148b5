#!/bin/sh
# Replays `gemini --output-format stream-json` whose card check fails (the
# shell tool reports `Exit Code: 101`) while the completion report in its
# final message claims `pass` and the check passing.
# Arguments: the task ID, the prompt.
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
t=2026-01-01T00:00:00.000Z
cat <<JSON
{"type":"init","timestamp":"$t","session_id":"gm-6","model":"gemini-2.5-pro"}
{"type":"tool_use","timestamp":"$t","tool_name":"write_file","tool_id":"w-1","parameters":{"file_path":"work/$1/out.txt","content":"done"}}
{"type":"tool_result","timestamp":"$t","tool_id":"w-1","status":"success","output":"Wrote work/$1/out.txt"}
{"type":"tool_use","timestamp":"$t","tool_name":"run_shell_command","tool_id":"s-1","parameters":{"command":"cargo test"}}
{"type":"tool_result","timestamp":"$t","tool_id":"s-1","status":"success","output":"Command: cargo test\\nStdout: test foo ... FAILED\\nExit Code: 101"}
{"type":"message","timestamp":"$t","role":"assistant","content":"All good.\\n\`\`\`json\\n{\\"task\\":\\"$1\\",\\"result\\":\\"pass\\",\\"evidence\\":[\\"cargo test: all passed\\"],\\"checks\\":[{\\"command\\":\\"cargo test\\",\\"outcome\\":\\"pass\\"}],\\"unverified\\":[],\\"next_action\\":\\"none\\"}\\n\`\`\`"}
{"type":"result","timestamp":"$t","status":"success","stats":{"total_tokens":1100,"input_tokens":1000,"output_tokens":100,"cached":0,"input":1000,"duration_ms":900,"tool_calls":2}}
JSON
