#!/bin/sh
# Acts like `codex exec --json` whose file_change carries a 2 MiB diff on
# one event line, for a file outside the task's scope (docs/big.md).
# Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1" docs
echo "in scope" > "work/$1/out.txt"
head -c 2097152 /dev/zero | tr '\0' 'x' > docs/big.md
echo '{"type":"thread.started","thread_id":"th-big"}'
echo '{"type":"turn.started"}'
printf '{"type":"item.completed","item":{"id":"i1","type":"file_change","changes":[{"path":"work/%s/out.txt","kind":"add"},{"path":"docs/big.md","kind":{"type":"add"},"diff":"+' "$1"
cat docs/big.md
printf '"}],"status":"completed"}}\n'
echo '{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"cargo test","aggregated_output":"ok","exit_code":0,"status":"completed"}}'
echo '{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":0,"output_tokens":5}}'
