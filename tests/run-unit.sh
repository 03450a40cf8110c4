#!/bin/bash
# Runs each cmocka unit test binary given as an argument, adds up the tests
# they report, and prints one summary line: "unit: N passed, N failed".
set -u
passed=0
failed=0
for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	ran=$(printf '%s\n' "$out" | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\..*/\1/p' | awk '{s+=$1} END {print s+0}')
	bad=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		# The binary crashed or failed outside a test: count it as one failure.
		echo "FAILED: $bin exited with $rc" >&2
		bad=1
	fi
	passed=$((passed + ran - bad))
	failed=$((failed + bad))
done
[ "$passed" -lt 0 ] && passed=0
echo "${SUITE:-unit}: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
