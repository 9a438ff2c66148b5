#!/bin/sh
# Replays a Claude Code run whose API call failed: the result says
# subtype "success" but is_error true (gate on is_error), and it exits 0.
# Arguments: the task ID, the prompt.
cat <<JSON
{"type":"system","subtype":"init","session_id":"cl-2","cwd":"$(pwd)","model":"claude-sonnet-4-5","tools":[]}
{"type":"assistant","message":{"id":"msg_1","model":"claude-sonnet-4-5","content":[{"type":"text","text":"API Error: 500 Internal server error"}],"usage":{"input_tokens":10,"output_tokens":0}},"session_id":"cl-2","error":"server_error","uuid":"u1"}
{"type":"result","subtype":"success","is_error":true,"duration_ms":10,"duration_api_ms":0,"num_turns":1,"session_id":"cl-2","total_cost_usd":0,"usage":{"input_tokens":10,"output_tokens":0},"result":"API Error: 500 Internal server error","uuid":"u2"}
JSON
exit 0
