/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types that pidmon.bpf.c shares with daemon/bpf_pid.c.
 *
 * Each program touches one cache line on the node's hot paths. Fork and
 * free update the shared line, because the live-task count needs a
 * node-wide word. Exit updates a line of its own CPU. On the benchmark
 * machine, a second cold line per event cost 20 to 40 ns more.
 */
#ifndef NODECOND_BPF_PIDMON_H
#define NODECOND_BPF_PIDMON_H

/* Number of exit count slots. Higher CPU ids share slots, and their counts stay exact. */
#define PIDMON_CPU_SLOTS 256

/* Counts written by fork and free. */
struct pidmon_shared {
	/* forks minus frees since attach, negative when tasks older than the attach exit */
	__s64 live_delta;
	/* maximum of live_delta since user space last exchanged it for the current value */
	__s64 peak_delta;
	__u64 forks;
	__u64 frees;
	__u32 watch_parent_tgid;	/* copy of the watched parent, or 0 */
} __attribute__((aligned(64)));

/* Counts written by exit, one per CPU slot. */
struct pidmon_cpu {
	__u64 exits;
	__u32 watch_parent_tgid;	/* copy of the watched parent, or 0 */
} __attribute__((aligned(64)));

/* Counts of the watched parent's children only, for tests. */
struct pidmon_watched {
	__u64 forks;
	__u64 exits;
	__u64 frees;
} __attribute__((aligned(64)));

#endif
