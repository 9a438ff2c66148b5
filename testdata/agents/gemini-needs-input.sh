#!/bin/sh
# Replays a Gemini CLI run that stops to ask a person (ask_user), then
# waits for an answer that never comes. Arguments: the task ID, the prompt.
t=2026-01-01T00:00:00.000Z
cat <<JSON
{"type":"init","timestamp":"$t","session_id":"gm-4","model":"gemini-2.5-pro"}
{"type":"tool_use","timestamp":"$t","tool_name":"ask_user","tool_id":"a-1","parameters":{"questions":[{"question":"Which database should the sync use?","header":"DB"}]}}
JSON
sleep 100
