#!/bin/bash
# Builds and runs the kernel tests: the BPF samplers on the running kernel,
# as root. Prints one summary line, "kernel: N passed, N failed, N skipped",
# and exits nonzero when a test failed.
#
# Usage: tests/kernel/run.sh [BUILD/nodecond]   (BUILD defaults to build)
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(dirname "${1:-build/nodecond}")
case "$build" in /*) ;; *) build="$root/$build" ;; esac
bin="$build/tests/kernel/test_bpf_samplers"

cd "$root" || exit 1
make -s BUILD="$build" "$build/bpf/memstall.skel.h" "$build/bpf/pidmon.skel.h" || exit 1
mkdir -p "$(dirname "$bin")"
# shellcheck disable=SC2046
cc -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -D_GNU_SOURCE \
	-I. -I"$build" $(pkg-config --cflags libbpf) -o "$bin" \
	tests/kernel/test_bpf_samplers.c daemon/bpf_loader.c daemon/bpf_memstall.c \
	daemon/bpf_pid.c daemon/log.c daemon/procfs.c $(pkg-config --libs libbpf) || exit 1

# The signal tests use the whole sampler, so they link the daemon library.
signals_bin="$build/tests/kernel/test_kernel_signals"
make -s BUILD="$build" "$build/libnodecond-daemon.a" "$build/libnodecond-logic.a" || exit 1
# shellcheck disable=SC2046
cc -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
	-D_GNU_SOURCE -I. -I"$build" $(pkg-config --cflags libbpf libcjson) -o "$signals_bin" \
	tests/kernel/test_kernel_signals.c "$build/libnodecond-daemon.a" "$build/libnodecond-logic.a" \
	$(pkg-config --libs libbpf libelf zlib libcurl libcjson yaml-0.1 libmicrohttpd) -lm || exit 1

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" | tee "$out"
status=${PIPESTATUS[0]}
"$signals_bin" | tee -a "$out"
signals_status=${PIPESTATUS[0]}
[ "$status" -ne 0 ] || status=$signals_status

passed=$(grep -c '^ok - ' "$out")
failed=$(grep -c '^not ok - ' "$out")
skipped=$(grep -c '^skip - ' "$out")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "not ok - test_bpf_samplers exited with status $status"
	failed=1
fi
echo "kernel: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
