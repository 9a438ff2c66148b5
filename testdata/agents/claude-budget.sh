#!/bin/sh
# Replays a Claude Code run that keeps spending: each assistant message
# reports more usage, and it never ends on its own (orch must stop it at
# the task's token budget). Arguments: the task ID, the prompt.
echo '{"type":"system","subtype":"init","session_id":"cl-5","cwd":"/","model":"m","tools":[]}'
n=1
while [ $n -le 600 ]; do
  echo "{\"type\":\"assistant\",\"message\":{\"id\":\"msg_$n\",\"model\":\"m\",\"content\":[{\"type\":\"text\",\"text\":\"thinking $n\"}],\"usage\":{\"input_tokens\":400,\"output_tokens\":100}}}"
  n=$((n + 1))
  sleep 0.05
done
