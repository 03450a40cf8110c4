/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types that memstall.bpf.c shares with daemon/bpf_memstall.c.
 */
#ifndef NODECOND_BPF_MEMSTALL_H
#define NODECOND_BPF_MEMSTALL_H

/*
 * Stall time of one set of tasks (the node, or one memory cgroup).
 *
 * With atomic fetch instructions (union mode) the value is the union of
 * the stall intervals. nr_stalled counts the tasks stalled now. The task
 * that raises it from 0 adds -now to ns_offset, and the task that lowers it
 * to 0 adds +now. The stalled time since attach is then ns_offset, plus the
 * current time while nr_stalled > 0.
 *
 * Without them (sum mode) nr_stalled is unused and ns_offset is the sum of
 * the completed per-task stall intervals, so overlapping stalls count once
 * per task.
 */
struct memstall_union {
	__s64 nr_stalled;
	__s64 ns_offset;
};

/* Kind of stall, stored per task between begin and end. */
enum memstall_kind {
	MEMSTALL_DIRECT_RECLAIM = 1,
	MEMSTALL_DIRECT_COMPACTION = 2,
	MEMSTALL_MEMCG_RECLAIM = 3,
};

struct memstall_task {
	__u64 begin_ns;
	__u64 cgroup_id;	/* memory cgroup, for MEMSTALL_MEMCG_RECLAIM */
	__u32 kind;		/* enum memstall_kind */
	__u32 pad;
};

#define MEMSTALL_MAX_TASKS   16384
#define MEMSTALL_MAX_CGROUPS 8192

#endif
