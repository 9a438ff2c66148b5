#!/bin/sh
# Acts like a `codex exec --json` thread that keeps taking turns: each
# `turn.completed` carries the thread's usage so far, growing, and it never
# ends on its own (orch must stop it at the task's token budget).
# Arguments: the task ID, the last-message file, the prompt.
echo '{"type":"thread.started","thread_id":"th-budget"}'
n=1
while [ $n -le 600 ]; do
  echo '{"type":"turn.started"}'
  echo "{\"type\":\"item.completed\",\"item\":{\"id\":\"i$n\",\"type\":\"agent_message\",\"text\":\"turn $n\"}}"
  echo "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":$((n * 400)),\"cached_input_tokens\":0,\"output_tokens\":$((n * 100))}}"
  n=$((n + 1))
  sleep 0.05
done
