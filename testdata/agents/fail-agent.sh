#!/bin/sh
# Fails: prints to stderr and exits 1.
echo "working on $1"
echo "error: the build broke" >&2
exit 1
