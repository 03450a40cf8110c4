// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Empty programs on every tracepoint that nodecond's samplers use, for
 * tests/bench/bpf_overhead.sh. The kernel's run time of a program includes
 * the statistics' own clock reads and the event's cold caches. An empty
 * program on the same tracepoint measures that floor, so the benchmark can
 * report each sampler's own cost above it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "tracepoints.h"

/* Defines the program floor_NAME that does nothing on tracepoint TP. */
#define EMPTY_PROGRAM(tp, name)      \
	SEC("tp_btf/" #tp)           \
	int BPF_PROG(floor_##name)   \
	{                            \
		return 0;            \
	}

BENCH_TRACEPOINTS(EMPTY_PROGRAM)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
