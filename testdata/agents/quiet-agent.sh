#!/bin/sh
# Prints one line, then nothing for a long time.
echo "thinking"
sleep 100
