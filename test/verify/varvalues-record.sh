#!/bin/sh
# Records conftest verify --var-values (expected.txt), opa test --var-values (opa.txt) and opa
# test -v --var-values (opa-v.txt) on each case of test/fixtures/varvalues: the output, then
# the exit code; read by varvalues.test.ts. Needs conftest and opa (default ~/go/bin/conftest and
# ~/go/bin/opa, or $CONFTEST and $OPA). Run from the repository root.
set -eu
CONFTEST=${CONFTEST:-$HOME/go/bin/conftest}
OPA=${OPA:-$HOME/go/bin/opa}
for dir in test/fixtures/varvalues/*/; do
  (
    cd "$dir"
    code=0
    "$CONFTEST" verify -p . --var-values > expected.txt 2>&1 || code=$?
    printf 'exit %s\n' "$code" >> expected.txt
    code=0
    "$OPA" test --var-values . > opa.txt 2>&1 || code=$?
    printf 'exit %s\n' "$code" >> opa.txt
    code=0
    "$OPA" test -v --var-values . > opa-v.txt 2>&1 || code=$?
    printf 'exit %s\n' "$code" >> opa-v.txt
  )
done
