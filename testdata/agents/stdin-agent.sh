#!/bin/sh
# Reads stdin: with /dev/null it sees end of file at once.
if read -r line; then
  echo "stdin had: $line"
else
  echo "stdin: EOF"
fi
