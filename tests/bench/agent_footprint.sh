#!/bin/bash
# Benchmark, not a test: starts the agent in local mode with the default
# configuration, lets it run for DURATION seconds (default 60), and reports
# its resident memory and the CPU time it used over that span.
# Usage: tests/bench/agent_footprint.sh BUILD/nodecond [DURATION]
set -eu
nodecond=$1
duration=${2:-60}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

"$nodecond" run --socket "$dir/nodecond.sock" --config /dev/null >"$dir/log" 2>&1 &
pid=$!
sleep 1
ticks_per_s=$(getconf CLK_TCK)
# Fields 14 and 15 of /proc/PID/stat are utime and stime in clock ticks.
read -r start_utime start_stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
sleep "$duration"
read -r end_utime end_stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
hwm_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
cpu_ticks=$(( (end_utime - start_utime) + (end_stime - start_stime) ))

echo "agent pid $pid, $duration s in local mode, BPF: $(grep -c 'loaded and attached' "$dir/log") samplers loaded"
awk -v rss="$rss_kib" -v hwm="$hwm_kib" 'BEGIN {printf "RSS %.1f MiB (peak %.1f MiB)\n", rss / 1024, hwm / 1024}'
awk -v t="$cpu_ticks" -v hz="$ticks_per_s" -v d="$duration" -v ut="$((end_utime - start_utime))" -v st="$((end_stime - start_stime))" \
	'BEGIN {printf "CPU %.2f s over %d s (%.3f%% of one core; user %.2f s, system %.2f s)\n", t / hz, d, 100 * t / hz / d, ut / hz, st / hz}'
