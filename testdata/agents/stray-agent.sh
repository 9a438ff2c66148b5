#!/bin/sh
# Succeeds, but also writes a file outside its scope (stray/).
mkdir -p "work/$1" stray
echo "in scope" > "work/$1/out.txt"
echo "out of scope" > "stray/$1.txt"
echo "wrote a stray file"
