// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Reference counters for tests/bench/bpf_overhead.sh: one atomic add to one
 * global on every tracepoint that nodecond's samplers use, each counter in a
 * cache line of its own. A sampler program that costs about as much as the
 * counter on its tracepoint does no work that a counter could avoid.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "tracepoints.h"

struct line {
	__u64 count;
} __attribute__((aligned(64)));

/* Defines a global NAME_count and the program counter_NAME that adds one to it on tracepoint TP. */
#define COUNTER(tp, name)                                        \
	struct line name##_count;                                \
	SEC("tp_btf/" #tp)                                       \
	int BPF_PROG(counter_##name)                             \
	{                                                        \
		__sync_fetch_and_add(&name##_count.count, 1);    \
		return 0;                                        \
	}

BENCH_TRACEPOINTS(COUNTER)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
