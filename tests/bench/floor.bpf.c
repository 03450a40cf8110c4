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

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_fork)
{
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(floor_exec)
{
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(floor_exit)
{
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(floor_free)
{
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(floor_rq_issue)
{
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(floor_rq_complete)
{
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(floor_kfree_skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
