#!/bin/sh
# Hangs, after starting a child of its own that would outlive it.
sleep 100 &
echo "child=$!"
sleep 100
