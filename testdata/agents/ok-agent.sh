#!/bin/sh
# Succeeds and writes one file inside its scope (work/<task>/).
# Arguments: the task ID, then the prompt.
mkdir -p "work/$1"
echo "done: $1" > "work/$1/out.txt"
echo "prompt: $2"
echo "test result: ok. 3 passed; 0 failed"
