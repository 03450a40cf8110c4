#!/bin/bash
# Runs the kernel tests on several kernels: the host's own, then each kernel
# of tests/kernels/matrix booted under qemu (TCG) from a small initramfs.
# Each guest runs tests/kernel/run.sh and the agent, with and without its BPF
# samplers, and reports over the serial console. This script parses that
# output and prints one line per kernel and test:
#   ok - KERNEL (LAYOUT): TEST
#   not ok - KERNEL (LAYOUT): TEST: WHY
#   skip - KERNEL: TEST: WHY
# then a results table, and closes with "kernels: N passed, N failed,
# N skipped". A kernel whose package cannot be downloaded is skipped with the
# reason. Exits non-zero when any test failed.
#
# Usage: tests/kernels/run.sh [BUILD]    (BUILD defaults to build)
# Environment:
#   KERNELS          ids from the matrix to boot (default: all), e.g. "5.10 6.12"
#   KERNELS_TIMEOUT  seconds one guest may run before it counts as hung (default 300)
#   KERNELS_MIRROR   Debian mirror URI (default: the host's apt sources)
#   KERNELS_HOST=0   leave out the host kernel
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
work="$build/kernels"
timeout_s=${KERNELS_TIMEOUT:-300}
results="$work/results.tsv"
summary="$work/summary.tsv"

# Signals that the design gives no fallback source: without BPF they must be
# reported as not observed, with the reason.
no_fallback='["memory.cgroupStall", "disk.errors"]'

passed=0
failed=0
skipped=0

mkdir -p "$work"
: > "$results"
: > "$summary"

# report STATUS KERNEL LAYOUT TEST [DETAIL]: prints one result line and
# records it for the table. STATUS is ok, not-ok or skip.
report() {
	local status=$1 kernel=$2 layout=$3 name=$4 detail=${5:-}
	local label="$kernel ($layout)"

	case "$status" in
	ok)
		passed=$((passed + 1))
		echo "ok - $label: $name${detail:+ ($detail)}"
		;;
	not-ok)
		failed=$((failed + 1))
		echo "not ok - $label: $name: $detail"
		;;
	skip)
		skipped=$((skipped + 1))
		echo "skip - $label: $name: $detail"
		;;
	esac
	printf '%s\t%s\t%s\t%s\n' "$kernel" "$status" "$name" "$detail" >> "$results"
}

# Reports the "ok - ", "not ok - " and "skip - " lines of tests/kernel/run.sh.
# The test name is the text before any " (details)" or ": reason".
report_kernel_tests() {
	local kernel=$1 layout=$2 output=$3 line name rest detail status
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) rest=${line#ok - } status=ok ;;
		"not ok - "*) rest=${line#not ok - } status=not-ok ;;
		"skip - "*) rest=${line#skip - } status=skip ;;
		*) continue ;;
		esac
		name=${rest%%: *}
		name=${name%% (*}
		detail=${rest#"$name"}
		case "$detail" in
		": "*) detail=${detail#: } ;;
		" ("*")") detail=${detail# (} detail=${detail%)} ;;
		" "*) detail=${detail# } ;;
		esac
		report "$status" "$kernel" "$layout" "$name" "$detail"
	done <<< "$output"
}

host_layout() {
	case "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" in
	cgroup2fs) echo v2 ;;
	tmpfs) [ -d /sys/fs/cgroup/unified ] && echo hybrid || echo v1 ;;
	*) echo none ;;
	esac
}

run_host() {
	local kernel layout output status
	kernel="host $(uname -r)"
	layout=$(host_layout)
	output=$("$root/tests/kernel/run.sh" "$build/nodecond" 2>&1)
	status=$?
	report_kernel_tests "$kernel" "$layout" "$output"
	if [ "$status" -ne 0 ] && ! grep -q '^not ok - ' <<< "$output"; then
		report not-ok "$kernel" "$layout" "tests/kernel/run.sh" "exited with status $status: $(tail -n 3 <<< "$output" | tr '\n' ' ')"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kernel" "running kernel" "$layout" "-" "-" "-" >> "$summary"
}

# Prints the lines of a console log between "@@nodecond NAME" and the next
# marker line.
section() {
	awk -v start="@@nodecond $2" '
		index($0, "@@nodecond ") == 1 { inside = ($0 == start); next }
		inside { print }' "$1"
}

# Prints the value after "@@nodecond NAME ", or nothing.
marker_value() {
	sed -n "s/^@@nodecond $2 //p" "$1" | head -n 1
}

# Succeeds when $1 is a /v1/signals body: an object with a signals array
# and a programs array. jq alone succeeds on empty input.
is_signals_json() {
	[ -n "$1" ] && jq -e '(.signals | type) == "array" and (.programs | type) == "array"' > /dev/null 2>&1 <<< "$1"
}

# Checks what the agent reported inside one guest: the BPF samplers that
# loaded and their variant, and every signal again from its fallback.
check_agent() {
	local kernel=$1 layout=$2 log=$3 fetch=$4 expected_disabled=$5
	local bpf_json fallback_json bpf_log disabled loaded notes variant missing

	bpf_json=$(section "$log" "agent-bpf signals" | grep '^{' | head -n 1)
	fallback_json=$(section "$log" "agent-fallback signals" | grep '^{' | head -n 1)
	bpf_log=$(section "$log" "agent-bpf log")

	if ! is_signals_json "$bpf_json"; then
		report not-ok "$kernel" "$layout" "agent loads BPF samplers" \
			"no /v1/signals JSON from the agent (signals-status $(marker_value "$log" "agent-bpf signals-status"))"
	else
		disabled=$(jq -r '[.programs[] | select(.loaded | not) | .name] | sort | join(",")' <<< "$bpf_json")
		loaded=$(jq -r '[.programs[] | select(.loaded) | .name] | join(", ")' <<< "$bpf_json")
		notes=$(grep -o 'tracepoints\? [a-z_/]* [a-z_ ]*not found' <<< "$bpf_log" | sort -u | paste -s -d ';' | sed 's/;/; /g')
		if [ "${disabled:--}" != "$expected_disabled" ]; then
			report not-ok "$kernel" "$layout" "agent loads BPF samplers" \
				"disabled: ${disabled:-none}, expected: $expected_disabled; $(jq -r '[.programs[] | select(.loaded | not) | "\(.name): \(.reason)"] | join("; ")' <<< "$bpf_json")"
		else
			report ok "$kernel" "$layout" "agent loads BPF samplers" "loaded: ${loaded:-none}${notes:+; $notes}"
		fi

		# The agent logs one line per sampler that loads the variant for
		# kernels without BPF atomic fetch instructions (before 5.12).
		variant=$(grep -c 'no BPF atomic fetch instructions' <<< "$bpf_log")
		if [ "$fetch" = no ] && [ "$variant" -eq 0 ]; then
			report not-ok "$kernel" "$layout" "agent picks program variant" \
				"expected the variants without atomic fetch, but the agent loaded the others"
		elif [ "$fetch" = yes ] && [ "$variant" -gt 0 ]; then
			report not-ok "$kernel" "$layout" "agent picks program variant" \
				"expected the atomic fetch variants, but the agent found no atomic fetch"
		else
			report ok "$kernel" "$layout" "agent picks program variant" \
				"$([ "$fetch" = yes ] && echo "atomic fetch" || echo "without atomic fetch")"
		fi

		missing=$(jq -r '[.signals[] | select(.source == "bpf" and (.observed | not)) | .name] | join(", ")' <<< "$bpf_json")
		if [ -n "$missing" ]; then
			report not-ok "$kernel" "$layout" "agent observes BPF signals" "no observation: $missing"
		else
			report ok "$kernel" "$layout" "agent observes BPF signals" \
				"$(jq -r '[.signals[] | select(.source == "bpf") | .name] | join(", ")' <<< "$bpf_json")"
		fi
	fi

	if ! is_signals_json "$fallback_json"; then
		report not-ok "$kernel" "$layout" "fallback disables BPF samplers" \
			"no /v1/signals JSON from the agent without BTF (signals-status $(marker_value "$log" "agent-fallback signals-status"))"
	else
		loaded=$(jq -r '[.programs[] | select(.loaded or ((.reason // "") == "")) | .name] | join(", ")' <<< "$fallback_json")
		if [ -n "$loaded" ]; then
			report not-ok "$kernel" "$layout" "fallback disables BPF samplers" "still loaded or disabled without a reason: $loaded"
		else
			report ok "$kernel" "$layout" "fallback disables BPF samplers" \
				"$(jq -r '.programs[0].reason // "no programs"' <<< "$fallback_json")"
		fi
	fi

	# Every signal the agent observed with BPF must be observed again without
	# it, from a source other than BPF, unless it has no fallback: then it
	# must be reported as not observed, with a reason.
	if is_signals_json "$bpf_json" && is_signals_json "$fallback_json"; then
		missing=$(jq -r --argjson with "$bpf_json" --argjson none "$no_fallback" '
			[$with.signals[] | select(.observed) | .name] as $wanted
			| [.signals[] | select(.name | IN($wanted[]))
			   | select(if (.name | IN($none[]))
			            then (.observed or ((.reason // "") == ""))
			            else ((.observed | not) or .source == "bpf") end)
			   | "\(.name) (\(.source): \(.reason // "observed"))"]
			| join(", ")' <<< "$fallback_json")
		if [ -n "$missing" ]; then
			report not-ok "$kernel" "$layout" "fallback reports every signal" "$missing"
		else
			report ok "$kernel" "$layout" "fallback reports every signal" \
				"$(jq -r --argjson with "$bpf_json" '
					[$with.signals[] | select(.source == "bpf") | .name] as $bpf
					| [.signals[] | select(.name | IN($bpf[]))
					   | if .observed then "\(.name) from \(.source)" else "\(.name) none (no fallback)" end]
					| join(", ")' <<< "$fallback_json")"
		fi
	fi

	local bpf_exit fallback_exit
	bpf_exit=$(marker_value "$log" "agent-bpf exit-status")
	fallback_exit=$(marker_value "$log" "agent-fallback exit-status")
	if [ "$bpf_exit" != 0 ] || [ "$fallback_exit" != 0 ]; then
		report not-ok "$kernel" "$layout" "agent stops on SIGTERM" \
			"exit status with BPF ${bpf_exit:-missing}, without BTF ${fallback_exit:-missing}"
	else
		report ok "$kernel" "$layout" "agent stops on SIGTERM"
	fi
}

# boot_kernel ID SUITE PACKAGE LAYOUT ATOMIC_FETCH DISABLED CPU ARGUMENTS
boot_kernel() {
	local id=$1 suite=$2 package=$3 layout=$4 fetch=$5 expected_disabled=$6 cpu=$7 extra=$8
	local kdir="$work/$id" output rc release log start elapsed status guest_uptime

	[ "$extra" = - ] && extra=""
	output=$("$here/fetch.sh" "$work" "$id" "$suite" "$package" 2>&1)
	rc=$?
	if [ "$rc" -eq 3 ]; then
		report skip "$id" "$layout" "kernel package" "$(tail -n 1 <<< "$output")"
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "not downloaded" "$layout" "$cpu" "-" "-" >> "$summary"
		return
	elif [ "$rc" -ne 0 ]; then
		report not-ok "$id" "$layout" "kernel package" "$(tail -n 2 <<< "$output" | tr '\n' ' ')"
		return
	fi
	release=$(cat "$kdir/release")

	if ! output=$("$here/initramfs.sh" "$kdir" "$build" 2>&1); then
		report not-ok "$id" "$layout" "initramfs" "$(tail -n 2 <<< "$output" | tr '\n' ' ')"
		return
	fi

	log="$kdir/console.log"
	for attempt in 1 2 3; do
		# /var in the guest: an ext4 scratch disk, sparse on the host.
		rm -f "$kdir/scratch.img"
		truncate -s 2G "$kdir/scratch.img"
		mkfs.ext4 -q -F -L nodecond-var "$kdir/scratch.img"

		start=$(date +%s)
		timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu "$cpu" -smp 2 -m 1024 \
			-nographic -no-reboot -nic none \
			-kernel "$kdir/root/boot/vmlinuz-$release" -initrd "$kdir/initramfs.cpio.gz" \
			-drive "file=$kdir/scratch.img,if=virtio,format=raw" \
			-append "console=ttyS0 panic=-1 loglevel=4 nodecond.layout=$layout $extra" \
			< /dev/null 2>&1 | tr -d '\r' | sed 's/.*@@nodecond /@@nodecond /' > "$log"
		rc=${PIPESTATUS[0]}
		elapsed=$(($(date +%s) - start))
		rm -f "$kdir/scratch.img"

		# A kernel that crashes before it starts init never ran nodecond's
		# code. Under TCG that happens now and then: 6.12 once hit an int3
		# oops in sched_clock_cpu() while patching its own text at boot.
		grep -q '^@@nodecond boot ' "$log" && break
		grep -qE 'Kernel panic|Oops' "$log" || break
		[ "$attempt" -lt 3 ] || break
		cp "$log" "$kdir/console-crash-$attempt.log"
		echo "# $id: the kernel crashed before init (attempt $attempt: $(grep -m 1 -E 'Oops|Kernel panic' "$log" | sed 's/^\[[ 0-9.]*\] //')); booting again, see $kdir/console-crash-$attempt.log"
	done

	if ! grep -q '^@@nodecond boot ' "$log"; then
		report not-ok "$id" "$layout" "guest boots" \
			"no boot marker after ${elapsed}s (qemu status $rc); last console lines: $(tail -n 3 "$log" | tr '\n' ' '); see $log"
		return
	fi
	if ! grep -q '^@@nodecond done$' "$log"; then
		local why="stopped before the end"
		[ "$rc" -eq 124 ] && why="hung: killed after ${timeout_s}s"
		grep -q 'Kernel panic' "$log" && why="kernel panic: $(grep -m 1 'Kernel panic' "$log")"
		report not-ok "$id" "$layout" "guest runs to the end" "$why; see $log"
	else
		report ok "$id" "$layout" "guest runs to the end" "$(cat "$kdir/package"), ${elapsed}s"
	fi
	grep '^@@nodecond setup-failed' "$log" | while read -r _ _ what; do
		echo "# $id: guest setup step failed: $what"
	done

	output=$(section "$log" "kernel-tests begin")
	report_kernel_tests "$id" "$layout" "$output"
	status=$(marker_value "$log" "kernel-tests status")
	if [ "${status:-x}" != 0 ] && ! grep -q '^not ok - ' <<< "$output"; then
		report not-ok "$id" "$layout" "tests/kernel/run.sh" "exited with status ${status:-missing}: $(tail -n 3 <<< "$output" | tr '\n' ' ')"
	fi

	check_agent "$id" "$layout" "$log" "$fetch" "$expected_disabled"

	guest_uptime=$(marker_value "$log" uptime)
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$(cat "$kdir/package")" "$layout" "$cpu" "${elapsed}s" "${guest_uptime:--}" >> "$summary"
}

# Prints the results as Markdown: one row per test, one column per kernel.
print_table() {
	local kernels
	kernels=$(cut -f 1 "$results" | awk '!seen[$0]++')
	awk -F '\t' -v kernels="$kernels" '
		BEGIN {
			n = split(kernels, k, "\n")
			printf "| test |"
			for (i = 1; i <= n; i++) printf " %s |", k[i]
			printf "\n|---|"
			for (i = 1; i <= n; i++) printf "---|"
			printf "\n"
		}
		{
			if (!($3 in order)) { order[$3] = ++tests; name[tests] = $3 }
			word = ($2 == "ok") ? "pass" : ($2 == "skip") ? "skip" : "FAIL"
			key = $3 SUBSEP $1
			if (key in cell)
				word = cell[key] "/" word
			cell[key] = word
		}
		END {
			for (t = 1; t <= tests; t++) {
				printf "| %s |", name[t]
				for (i = 1; i <= n; i++) printf " %s |", ((name[t], k[i]) in cell) ? cell[name[t], k[i]] : "-"
				printf "\n"
			}
		}' "$results"
}

echo "=== building nodecond"
if ! make -C "$root" --no-print-directory -s BUILD="$build" "$build/nodecond"; then
	echo "not ok - build: make failed"
	echo "kernels: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

if [ "${KERNELS_HOST:-1}" != 0 ]; then
	echo "=== host kernel $(uname -r)"
	run_host
fi
if [ ! -x "$build/tests/kernel/test_bpf_samplers" ]; then
	# tests/kernel/run.sh builds the test binaries the guests run.
	"$root/tests/kernel/run.sh" "$build/nodecond" > /dev/null 2>&1
fi

while read -r id suite package layout fetch disabled cpu extra; do
	case "$id" in '#'* | '') continue ;; esac
	if [ -n "${KERNELS:-}" ] && ! grep -qw -- "$id" <<< "$KERNELS"; then
		continue
	fi
	echo "=== kernel $id ($suite, $layout)"
	boot_kernel "$id" "$suite" "$package" "$layout" "$fetch" "$disabled" "$cpu" "$extra"
done < "$here/matrix"

echo "=== results"
print_table | tee "$work/results.md"
echo
echo "| kernel | package | cgroup layout | qemu -cpu | wall time | guest uptime at end |" | tee -a "$work/results.md"
echo "|---|---|---|---|---|---|" | tee -a "$work/results.md"
awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$summary" | tee -a "$work/results.md"
echo "kernels: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
