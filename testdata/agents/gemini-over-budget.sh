#!/bin/sh
# Replays a Gemini CLI run that succeeds but reports, only in its final
# stats, more tokens than the task's budget. Arguments: the task ID, the prompt.
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
t=2026-01-01T00:00:00.000Z
cat <<JSON
{"type":"init","timestamp":"$t","session_id":"gm-3","model":"gemini-2.5-pro"}
{"type":"tool_use","timestamp":"$t","tool_name":"run_shell_command","tool_id":"s-1","parameters":{"command":"cargo test"}}
{"type":"tool_result","timestamp":"$t","tool_id":"s-1","status":"success","output":"ok"}
{"type":"message","timestamp":"$t","role":"assistant","content":"Done."}
{"type":"result","timestamp":"$t","status":"success","stats":{"total_tokens":250000,"input_tokens":240000,"output_tokens":10000,"cached":0,"input":240000,"duration_ms":900,"tool_calls":1}}
JSON
