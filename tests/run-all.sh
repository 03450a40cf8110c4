#!/bin/bash
# Runs every test suite and prints one closing line that adds them up:
# "total: N passed, N failed, N skipped". Exits non-zero when any failed.
# Usage: tests/run-all.sh BUILD_DIR
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
# A suite that fails before printing its summary (a build error, a crash)
# still counts as one failure in the total.
summary='^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$'
run_suite() {
	local before code
	echo "=== $1"
	shift
	before=$(grep -cE "$summary" "$log")
	"$@" 2>&1 | tee -a "$log"
	code=${PIPESTATUS[0]}
	if [ "$code" -ne 0 ]; then
		status=1
		if [ "$(grep -cE "$summary" "$log")" -eq "$before" ]; then
			echo "suite-error: 0 passed, 1 failed" | tee -a "$log"
		fi
	fi
}

run_suite "unit tests" make --no-print-directory BUILD="$build" test-unit
run_suite "unit tests under AddressSanitizer and UBSan" make --no-print-directory asan
run_suite "replay of hand-written histories" /usr/bin/python3 "$here/replay/run.py" "$build/nodecond"
if [ -x "$here/kernel/run.sh" ]; then
	run_suite "kernel tests" "$here/kernel/run.sh" "$build/nodecond"
fi
run_suite "end-to-end tests" "$here/e2e/run.sh" "$build/nodecond"
run_suite "integration tests against the test API server" "$here/integration/run.sh" "$build/nodecond"

# Sum the "SUITE: N passed, N failed[, N skipped]" lines of the suites.
read -r passed failed skipped < <(sed -n -E 's/^[a-z0-9-]+: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\1 \2 \4/p' "$log" |
	awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
echo "total: $passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ]; then
	status=1
fi
exit $status
