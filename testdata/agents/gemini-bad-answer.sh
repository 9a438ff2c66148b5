#!/bin/sh
# Replays `gemini --output-format stream-json` that does its work (an edit
# in scope, the card's check passing) but ends with a completion report
# that breaks the schema (Gemini has no schema flag; the prompt describes
# it): a result orch does not know, evidence as a string, a field the
# schema does not have, `checks` missing. Arguments: the task ID, the prompt.
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
t=2026-01-01T00:00:00.000Z
cat <<JSON
{"type":"init","timestamp":"$t","session_id":"gm-5","model":"gemini-2.5-pro"}
{"type":"tool_use","timestamp":"$t","tool_name":"write_file","tool_id":"w-1","parameters":{"file_path":"work/$1/out.txt","content":"done"}}
{"type":"tool_result","timestamp":"$t","tool_id":"w-1","status":"success","output":"Wrote work/$1/out.txt"}
{"type":"tool_use","timestamp":"$t","tool_name":"run_shell_command","tool_id":"s-1","parameters":{"command":"cargo test"}}
{"type":"tool_result","timestamp":"$t","tool_id":"s-1","status":"success","output":"test result: ok. 3 passed"}
{"type":"message","timestamp":"$t","role":"assistant","content":"Finished.\\n\`\`\`json\\n{\\"task\\":\\"$1\\",\\"result\\":\\"finished\\",\\"evidence\\":\\"tests pass\\",\\"unverified\\":[],\\"next_action\\":\\"none\\",\\"mood\\":\\"great\\"}\\n\`\`\`","delta":true}
{"type":"result","timestamp":"$t","status":"success","stats":{"total_tokens":1100,"input_tokens":1000,"output_tokens":100,"cached":0,"input":1000,"duration_ms":900,"tool_calls":2}}
JSON
