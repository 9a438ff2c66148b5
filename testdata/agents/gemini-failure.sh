#!/bin/sh
# Replays a Gemini CLI run that fails: an error event, then an error
# result. Arguments: the task ID, the prompt.
t=2026-01-01T00:00:00.000Z
cat <<JSON
{"type":"init","timestamp":"$t","session_id":"gm-2","model":"gemini-2.5-pro"}
{"type":"error","timestamp":"$t","severity":"error","message":"Quota exceeded for quota metric"}
{"type":"result","timestamp":"$t","status":"error","error":{"type":"FatalError","message":"Quota exceeded"},"stats":{"total_tokens":10,"input_tokens":10,"output_tokens":0,"cached":0,"input":10,"duration_ms":5,"tool_calls":0}}
JSON
exit 1
