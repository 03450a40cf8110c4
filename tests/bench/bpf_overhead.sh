#!/bin/bash
# Overhead of nodecond's BPF programs: a benchmark, not a timed test.
#
# As root: enables kernel.bpf_stats_enabled (the old value is restored on
# exit), creates a loop device on a file in /var/tmp, and runs three loads:
# fork+exec of /bin/true, direct 4 KiB I/O on the loop device, and UDP
# datagrams over loopback (half received, half dropped at a closed port).
# Each load runs PAIRS times with every sampler attached and PAIRS times
# detached, alternating the order (ABBA), and the script prints
#   - per program: run count and average ns per run (kernel BPF stats),
#   - per load: throughput attached / throughput detached, median and mean
#     of the pairs,
#   - Debian's libbpf-tools biolatency on the same block loop, with its
#     programs' average ns per run beside ours,
#   - the floor: empty programs on the same tracepoints (floor.bpf.c), whose
#     ns per run is what the statistics and the event's cold caches cost by
#     themselves, and each of our programs' own cost above it,
#   - reference counters on the same tracepoints (counter.bpf.c), each one
#     atomic add to one global, beside each of our programs.
#
# Usage: tests/bench/bpf_overhead.sh [BUILD]
# Environment: PAIRS, FORKS, IOS, PACKETS, and LOADS (default
# "forkexec blockio packets") to run only some of the loads.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
pairs=${PAIRS:-10}
forks=${FORKS:-2000}
ios=${IOS:-20000}
packets=${PACKETS:-50000}
loads=${LOADS:-forkexec blockio packets}
helper="$build/tests/bench/bpf_overhead_helper"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: the benchmark needs root"
	exit 0
fi
command -v bpftool >/dev/null || { echo "bpftool is missing (apt-get install bpftool)"; exit 1; }
command -v jq >/dev/null || { echo "jq is missing (apt-get install jq)"; exit 1; }

cd "$root" || exit 1
make -s BUILD="$build" "$build/libnodecond-daemon.a" "$build/libnodecond-logic.a" || exit 1
mkdir -p "$(dirname "$helper")"
# shellcheck disable=SC2046
cc -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -I. -I"$build" \
	$(pkg-config --cflags libbpf) -o "$helper" tests/bench/bpf_overhead_helper.c \
	"$build/libnodecond-daemon.a" "$build/libnodecond-logic.a" \
	$(pkg-config --libs libbpf libelf zlib libcurl libcjson yaml-0.1 libmicrohttpd) -lm || exit 1

for name in floor counter; do
	clang -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_"$(uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')" \
		-Ibpf -c "tests/bench/$name.bpf.c" -o "$build/tests/bench/$name.bpf.o" || exit 1
done

work=$(mktemp -d /var/tmp/nodecond-bench-XXXXXX)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
loopdev=""
helper_pid=""
cleanup() {
	[ -n "$helper_pid" ] && stop_helper
	[ -n "$loopdev" ] && losetup --detach "$loopdev"
	sysctl -q -w kernel.bpf_stats_enabled="$old_stats"
	rm -rf "$work"
}
trap cleanup EXIT
sysctl -q -w kernel.bpf_stats_enabled=1

# The kubelet program watches a file that the loads never execute.
cp /bin/true "$work/kubelet"
truncate -s 256M "$work/image"
loopdev=$(losetup --find --show "$work/image") || exit 1

# Prints "id name run_cnt run_time_ns" for every BPF program of the tracing kinds.
prog_stats() {
	bpftool prog show -j | jq -r '.[] | select(.type == "tracing" or .type == "raw_tracepoint" or .type == "tracepoint" or .type == "kprobe") | "\(.id) \(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"'
}

# Starts the helper with its arguments ("attach" or "floor") and records the
# ids of the programs it loaded in $work/ours.
start_helper() {
	prog_stats | awk '{print $1}' | sort > "$work/before"
	coproc HELPER { "$helper" "$@"; }
	helper_pid=$HELPER_PID
	helper_in=${HELPER[1]}
	read -r line <&"${HELPER[0]}"
	[ "$line" = ready ] || { echo "helper failed to attach"; exit 1; }
	prog_stats | awk '{print $1}' | sort > "$work/after"
	comm -13 "$work/before" "$work/after" > "$work/ours"
}

# Closing the helper's stdin detaches and unloads every program.
stop_helper() {
	eval "exec $helper_in>&-"
	wait "$helper_pid"
	helper_pid=""
}

# Prints "name runs ns_per_run" for each program name in a totals file,
# summing the lines of the same name (0 ns for a program that never ran).
average_by_name() {
	awk '{ cnt[$1] += $2; ns[$1] += $3 } END { for (p in cnt) print p, cnt[p], cnt[p] ? ns[p] / cnt[p] : 0 }' "$1"
}

# Adds the run counts of the helper's programs to the per-name totals in $1.
collect_ours() {
	prog_stats | awk 'NR == FNR { ours[$1] = 1; next } ($1 in ours) { print $2, $3, $4 }' "$work/ours" - >> "$1"
}

# Runs one load and prints its throughput in operations per second.
run_load() {
	case "$1" in
	forkexec) "$helper" forkexec "$forks" ;;
	blockio) "$helper" blockio "$loopdev" "$ios" ;;
	packets) "$helper" packets "$packets" ;;
	esac | awk '{ printf "%.3f\n", $1 / $2 }'
}

: > "$work/prog_totals"
for load in $loads; do
	: > "$work/ratios_$load"
	for pair in $(seq 1 "$pairs"); do
		if [ $((pair % 2)) -eq 1 ]; then order="attached detached"; else order="detached attached"; fi
		for mode in $order; do
			if [ "$mode" = attached ]; then
				start_helper attach "$loopdev" "$work/kubelet"
				rate=$(run_load "$load")
				collect_ours "$work/prog_totals"
				stop_helper
				echo "$rate" > "$work/att"
			else
				run_load "$load" > "$work/det"
			fi
		done
		awk -v a="$(cat "$work/att")" -v d="$(cat "$work/det")" 'BEGIN { printf "%.4f %s %s\n", a / d, a, d }' >> "$work/ratios_$load"
	done
done

# The empty programs, then the reference counters, each object attached
# alone, on three runs of each load.
for phase in floor counter; do
	: > "$work/${phase}_totals"
	start_helper floor "$build/tests/bench/$phase.bpf.o"
	for load in $loads; do
		for _ in 1 2 3; do run_load "$load" > /dev/null; done
	done
	collect_ours "$work/${phase}_totals"
	stop_helper
done

echo "== machine"
echo "kernel $(uname -r), $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "pairs $pairs, forks $forks, block I/Os $ios, packets $packets (x2) per run; loop device $loopdev on $(df --output=source /var/tmp | tail -1)"
echo
echo "== throughput attached / detached (median, mean, min, max of $pairs pairs)"
for load in $loads; do
	sort -n "$work/ratios_$load" | awk -v load="$load" '{ r[NR] = $1; s += $1; a += $2; d += $3 } END {
		m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
		printf "%-9s median %.4f  mean %.4f  min %.4f  max %.4f  (%.0f/s attached, %.0f/s detached)\n", load, m, s / NR, r[1], r[NR], a / NR, d / NR }'
done
echo
echo "== nodecond programs: runs and average ns per run, all attached phases together"
average_by_name "$work/prog_totals" | awk '{ printf "%-16s %10d runs  %8.1f ns/run\n", $1, $2, $3 }' | sort

echo
echo "== libbpf-tools biolatency on the same block loop"
if [[ " $loads " != *" blockio "* ]]; then
	echo "not run: LOADS has no blockio"
elif [ -x /usr/sbin/biolatency ]; then
	prog_stats | awk '{print $1}' | sort > "$work/before"
	/usr/sbin/biolatency -d "$(basename "$loopdev")" 30 1 > "$work/biolatency.out" 2>&1 &
	bio_pid=$!
	sleep 2
	prog_stats | awk '{print $1}' | sort > "$work/after"
	comm -13 "$work/before" "$work/after" > "$work/ours"
	for _ in 1 2 3; do run_load blockio > /dev/null; done
	prog_stats | awk 'NR == FNR { ours[$1] = 1; next } ($1 in ours) { printf "%-16s %10d runs  %8.1f ns/run\n", $2, $3, $3 ? $4 / $3 : 0 }' "$work/ours" -
	kill -INT "$bio_pid" 2>/dev/null
	wait "$bio_pid" 2>/dev/null
else
	echo "biolatency not found: apt-get install libbpf-tools"
fi

echo
echo "== own cost: ns per run above an empty program on the same tracepoint,"
echo "== and the reference counter's time there (one atomic add to one global)"
average_by_name "$work/floor_totals" > "$work/floor"
average_by_name "$work/counter_totals" > "$work/counter"
average_by_name "$work/prog_totals" |
	awk 'BEGIN {
		tp["process_fork_exact"] = "fork"; tp["process_fork_approx"] = "fork"
		tp["process_exit"] = "exit"; tp["kubelet_exit"] = "exit"
		tp["process_free"] = "free"; tp["kubelet_exec"] = "exec"
		tp["block_rq_issue"] = "rq_issue"; tp["block_rq_complete"] = "rq_complete"
		tp["kfree_skb"] = "kfree_skb"
	}
	FILENAME == ARGV[1] { sub(/^floor_/, "", $1); floor[$1] = $3; next }
	FILENAME == ARGV[2] { sub(/^counter_/, "", $1); counter[$1] = $3; next }
	($1 in tp) && (tp[$1] in floor) && (tp[$1] in counter) {
		printf "%-20s %8.1f ns/run, empty program %8.1f ns/run, own cost %8.1f ns, reference counter %8.1f ns/run\n", $1, $3, floor[tp[$1]], $3 - floor[tp[$1]], counter[tp[$1]]
	}' "$work/floor" "$work/counter" - | sort
