#!/bin/sh
# Acts like `codex exec --json` whose turn fails, yet exits 0.
echo '{"type":"thread.started","thread_id":"th-1"}'
echo '{"type":"turn.started"}'
echo '{"type":"item.completed","item":{"id":"i0","type":"agent_message","text":"Trying."}}'
echo '{"type":"turn.failed","error":{"message":"stream disconnected"}}'
echo "codex: progress goes to stderr" >&2
exit 0
