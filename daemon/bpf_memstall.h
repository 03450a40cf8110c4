/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memory.stall and memory.cgroupStall from the vmscan and compaction
 * tracepoints (bpf/memstall.bpf.c).
 *
 * memory.stall is the time during which at least one user task was stalled
 * in global direct reclaim, direct compaction or reclaim throttling, as PSI
 * "some" counts it: eight tasks stalled during the same second count one
 * second. Reclaim forced by a memory cgroup's own limit is counted per
 * cgroup instead and never as node stall.
 */
#ifndef NODECOND_DAEMON_BPF_MEMSTALL_H
#define NODECOND_DAEMON_BPF_MEMSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_memstall;

/*
 * Loads and attaches the programs. Returns 0, or a negative errno with a
 * one-line reason in reason; the caller logs it and uses the PSI fallback.
 * Hooks that only some kernels have (reclaim throttling, compaction, memcg
 * reclaim) are skipped with an info line when missing.
 */
int bpf_memstall_open(struct bpf_memstall **ret, char *reason, size_t reason_len);

void bpf_memstall_free(struct bpf_memstall *m);

/*
 * Reads the node's stalled time since open, in ns of CLOCK_MONOTONIC,
 * including a stall that is still going on. The value never decreases, so
 * the per-tick percentage is its change divided by the tick length.
 * Returns -EAGAIN when every retry raced with an update in the kernel.
 */
int bpf_memstall_read(struct bpf_memstall *m, uint64_t *ret_stalled_ns);

/*
 * True when stall time is the union of intervals. False on kernels without
 * BPF atomic fetch instructions (before Linux 5.12), where the value is the
 * sum over tasks. There concurrent stalls count once per task, so a change
 * per tick can exceed the tick, and a stall is counted only when it ends.
 */
bool bpf_memstall_is_union(const struct bpf_memstall *m);

/* False when the kernel has no memcg reclaim tracepoints. */
bool bpf_memstall_has_cgroup_stall(const struct bpf_memstall *m);

/*
 * Calls fn for every memory cgroup that has stalled in reclaim forced by its
 * own limit, or an ancestor's, since open. cgroup_id is the id of the
 * stalled task's memory cgroup: the inode number of its directory in the
 * memory hierarchy (/sys/fs/cgroup/memory/... on v1, /sys/fs/cgroup/... on
 * v2). stalled_ns is cumulative, like bpf_memstall_read(). Returns 0 or a
 * negative errno; entries that raced with the kernel on every retry are
 * skipped.
 */
typedef void (*bpf_memstall_cgroup_fn)(uint64_t cgroup_id, uint64_t stalled_ns, void *userdata);
int bpf_memstall_foreach_cgroup(struct bpf_memstall *m, bpf_memstall_cgroup_fn fn, void *userdata);

/* Reads one cgroup's stalled ns; -ENOENT when it has not stalled since open. */
int bpf_memstall_read_cgroup(struct bpf_memstall *m, uint64_t cgroup_id, uint64_t *ret_stalled_ns);

/*
 * Drops a cgroup's entry, for cgroups that no longer exist. The kernel map
 * has room for MEMSTALL_MAX_CGROUPS (bpf/memstall.h) and stops counting new
 * cgroups when full.
 */
int bpf_memstall_forget_cgroup(struct bpf_memstall *m, uint64_t cgroup_id);

/* Stall begins not counted because a kernel map was full, since open. */
struct bpf_memstall_lost {
	uint64_t task_map_full;
	uint64_t cgroup_map_full;
};

void bpf_memstall_read_lost(const struct bpf_memstall *m, struct bpf_memstall_lost *ret);

#endif
