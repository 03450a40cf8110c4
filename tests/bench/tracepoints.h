/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The tracepoints that nodecond's samplers use, for the benchmark's
 * reference objects (floor.bpf.c, counter.bpf.c). BENCH_TRACEPOINTS(X)
 * expands X(tracepoint, short name) once per tracepoint.
 */
#ifndef NODECOND_BENCH_TRACEPOINTS_H
#define NODECOND_BENCH_TRACEPOINTS_H

#define BENCH_TRACEPOINTS(X)                  \
	X(sched_process_fork, fork)           \
	X(sched_process_exec, exec)           \
	X(sched_process_exit, exit)           \
	X(sched_process_free, free)           \
	X(block_rq_issue, rq_issue)           \
	X(block_rq_complete, rq_complete)     \
	X(kfree_skb, kfree_skb)

#endif
