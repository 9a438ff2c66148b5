#!/bin/sh
# Acts like `codex exec --json` that takes its time (2 s), so that two of
# it run at the same time: an edit in its own scope, reported as a
# file_change, its check passing, a completed turn.
# Arguments: the task ID, the last-message file, the prompt.
echo '{"type":"thread.started","thread_id":"th-slow"}'
echo '{"type":"turn.started"}'
sleep 1
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
echo "{\"type\":\"item.completed\",\"item\":{\"id\":\"i1\",\"type\":\"file_change\",\"changes\":[{\"path\":\"$(pwd)/work/$1/out.txt\",\"kind\":\"add\"}],\"status\":\"completed\"}}"
sleep 1
echo '{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"/bin/bash -lc '"'"'cargo test'"'"'","aggregated_output":"ok","exit_code":0,"status":"completed"}}'
echo '{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":5}}'
