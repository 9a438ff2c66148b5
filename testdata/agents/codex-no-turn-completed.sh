#!/bin/sh
# Acts like `codex exec --json` whose stream stops before its turn
# completes (no turn.completed), yet exits 0: the check it was asked to run
# never ran. Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1"
echo "half" > "work/$1/out.txt"
cat <<JSON
{"type":"thread.started","thread_id":"th-cut"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i1","type":"file_change","changes":[{"path":"work/$1/out.txt","kind":"add"}],"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"agent_message","text":"Working on it."}}
JSON
exit 0
