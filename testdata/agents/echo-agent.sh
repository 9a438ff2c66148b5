#!/bin/sh
# A stand-in agent for tests: prints its task and prompt, then exits with
# the code in ORCH_TEST_EXIT (default 0).
echo "agent: task=$1"
echo "agent: prompt=$2"
exit "${ORCH_TEST_EXIT:-0}"
