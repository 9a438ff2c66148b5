#!/bin/sh
# Appends start and end marks to $ORCH_TEST_MARKS, sleeping between them
# for $ORCH_TEST_SLEEP seconds (default 1).
echo "start $1" >> "$ORCH_TEST_MARKS"
sleep "${ORCH_TEST_SLEEP:-1}"
echo "end $1" >> "$ORCH_TEST_MARKS"
echo "marked $1"
