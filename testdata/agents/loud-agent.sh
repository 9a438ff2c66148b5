#!/bin/sh
# Prints 200 MiB to stdout (and a line to stderr).
echo "start" >&2
dd if=/dev/zero bs=1048576 count=200 2>/dev/null
