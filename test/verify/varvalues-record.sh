#!/bin/sh
# Records conftest verify --var-values on each case of test/fixtures/varvalues (expected.txt:
# stdout, then the exit code), read by varvalues.test.ts. Needs conftest (default
# ~/go/bin/conftest, or $CONFTEST). Run from the repository root.
set -eu
CONFTEST=${CONFTEST:-$HOME/go/bin/conftest}
for dir in test/fixtures/varvalues/*/; do
  (
    cd "$dir"
    code=0
    "$CONFTEST" verify -p . --var-values > expected.txt 2>&1 || code=$?
    printf 'exit %s\n' "$code" >> expected.txt
  )
done
