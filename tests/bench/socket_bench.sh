#!/bin/bash
# Benchmark, not a test: /v1/status throughput and latency from 1 and 8
# concurrent clients, then the instructions per request under callgrind,
# which machine noise does not change.
# Usage: tests/bench/socket_bench.sh BUILD/nodecond [SECONDS]
set -eu
nodecond=$(realpath "$1")
seconds=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

cc -O2 -Wall -Wextra -Werror -pthread -o "$dir/socket_bench" "$here/socket_bench.c"
printf 'stateFile: ""\n' >"$dir/config.yaml"

start_agent() {
	"$@" run --config "$dir/config.yaml" --socket "$dir/nodecond.sock" --no-bpf >"$dir/agent.log" 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		curl -sf --unix-socket "$dir/nodecond.sock" http://localhost/readyz >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "the agent did not become ready:" >&2
	cat "$dir/agent.log" >&2
	return 1
}

echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
start_agent "$nodecond"
for clients in 1 8; do
	"$dir/socket_bench" "$dir/nodecond.sock" "$clients" "$seconds" /v1/status
done
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""

# Count instructions only inside libmicrohttpd's request processing (which
# includes rendering the answer), and divide by the requests it served.
start_agent valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
	--collect-atstart=no --toggle-collect=MHD_run "$nodecond"
before=$(curl -s --unix-socket "$dir/nodecond.sock" http://localhost/metrics | awk '/^nodecond_socket_requests_total/ {s += $2} END {print s + 0}')
"$dir/socket_bench" "$dir/nodecond.sock" 1 "$seconds" /v1/status
after=$(curl -s --unix-socket "$dir/nodecond.sock" http://localhost/metrics | awk '/^nodecond_socket_requests_total/ {s += $2} END {print s + 0}')
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""
total=$(callgrind_annotate "$dir/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
served=$((after - before))
awk -v t="$total" -v n="$served" 'BEGIN {printf "callgrind: %d requests, %.0f instructions per request (inside MHD_run)\n", n, t / n}'
