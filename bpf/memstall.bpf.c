// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * memory.stall and memory.cgroupStall: time during which at least one user
 * task is stalled allocating memory.
 *
 * Node stall is global direct reclaim (try_to_free_pages() emits
 * mm_vmscan_direct_reclaim_begin/end), direct compaction
 * (mm_compaction_begin/end reached from try_to_compact_pages()) and reclaim
 * throttling (mm_vmscan_throttled). Reclaim forced by a cgroup's own limit
 * goes through try_to_free_mem_cgroup_pages(), which emits only
 * mm_vmscan_memcg_reclaim_begin/end. It is counted per memory cgroup and
 * never as node stall. Kernel threads (kswapd, kcompactd) are skipped.
 *
 * The per-task map pairs each begin with its end, so a begin that nests in
 * another stall of the same task (throttling inside reclaim) is ignored and
 * every increment of nr_stalled has exactly one decrement.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "memstall.h"

#define PF_KTHREAD 0x00200000	/* include/linux/sched.h */
#define EEXIST 17		/* include/uapi/asm-generic/errno-base.h */

/*
 * Every program comes in two variants and the loader loads one of them.
 * The _union variants use BPF_FETCH atomics (Linux 5.12) and count the
 * union of stall intervals. The _sum variants add up per-task intervals
 * instead: the verifier of older kernels rejects a program that contains a
 * fetch instruction at all, even in code it never reaches.
 */

/*
 * Set by the loader before load: true when mm_compaction_begin passes
 * struct compact_control as its first argument, whose direct_compaction
 * field identifies direct compaction.
 */
const volatile bool compaction_begin_has_cc = false;

struct memstall_union node_stall;

/* Begins not counted because the task or cgroup map was full. */
__u64 lost_task_map_full;
__u64 lost_cgroup_map_full;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEMSTALL_MAX_TASKS);
	__type(key, __u32);	/* thread id */
	__type(value, struct memstall_task);
} stalled_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEMSTALL_MAX_CGROUPS);
	__type(key, __u64);	/* memory cgroup id (kernfs node id) */
	__type(value, struct memstall_union);
} cgroup_stall SEC(".maps");

static __always_inline bool current_is_kthread(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, flags) & PF_KTHREAD;
}

/*
 * The id of the current task's memory cgroup: the cgroup whose limit, or
 * an ancestor's limit, forced the reclaim.
 */
static __always_inline __u64 current_memcg_id(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct cgroup_subsys_state *css;
	struct css_set *cset;
	int subsys_id;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	subsys_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

	cset = BPF_CORE_READ(task, cgroups);
	if (bpf_core_read(&css, sizeof(css), &cset->subsys[subsys_id]) || !css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

static __always_inline void union_enter(struct memstall_union *u, __u64 now, bool fetch)
{
	if (!fetch)
		return;
	if (__sync_fetch_and_add(&u->nr_stalled, 1) == 0)
		__sync_fetch_and_add(&u->ns_offset, -(__s64)now);
}

static __always_inline void union_exit(struct memstall_union *u, __u64 begin, __u64 now,
				       bool fetch)
{
	if (!fetch) {
		__sync_fetch_and_add(&u->ns_offset, (__s64)(now - begin));
		return;
	}
	if (__sync_fetch_and_add(&u->nr_stalled, -1) == 1)
		__sync_fetch_and_add(&u->ns_offset, (__s64)now);
}

static __always_inline struct memstall_union *cgroup_union(__u64 cgroup_id)
{
	struct memstall_union zero = {};
	struct memstall_union *u;

	u = bpf_map_lookup_elem(&cgroup_stall, &cgroup_id);
	if (u)
		return u;
	bpf_map_update_elem(&cgroup_stall, &cgroup_id, &zero, BPF_NOEXIST);
	u = bpf_map_lookup_elem(&cgroup_stall, &cgroup_id);
	if (!u)
		__sync_fetch_and_add(&lost_cgroup_map_full, 1);
	return u;
}

static __always_inline void stall_begin(enum memstall_kind kind, bool fetch)
{
	struct memstall_task task = { .kind = kind };
	struct memstall_union *u = &node_stall;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	long err;

	if (current_is_kthread())
		return;

	if (kind == MEMSTALL_MEMCG_RECLAIM) {
		task.cgroup_id = current_memcg_id();
		u = cgroup_union(task.cgroup_id);
		if (!u)
			return;
	}

	task.begin_ns = bpf_ktime_get_ns();
	err = bpf_map_update_elem(&stalled_tasks, &tid, &task, BPF_NOEXIST);
	if (err) {
		/* -EEXIST: nested in a stall of this task that is counted. */
		if (err != -EEXIST)
			__sync_fetch_and_add(&lost_task_map_full, 1);
		return;
	}
	union_enter(u, task.begin_ns, fetch);
}

static __always_inline void stall_end(enum memstall_kind kind, bool fetch)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct memstall_union *u = &node_stall;
	struct memstall_task *entry;
	struct memstall_task task;

	entry = bpf_map_lookup_elem(&stalled_tasks, &tid);
	if (!entry || entry->kind != kind)
		return;
	task = *entry;
	bpf_map_delete_elem(&stalled_tasks, &tid);

	if (kind == MEMSTALL_MEMCG_RECLAIM) {
		u = bpf_map_lookup_elem(&cgroup_stall, &task.cgroup_id);
		if (!u)
			return;
	}
	union_exit(u, task.begin_ns, bpf_ktime_get_ns(), fetch);
}

/*
 * The end programs come first because the skeleton attaches programs in the
 * order of the object file. A begin that fired before its end program was
 * attached would leave nr_stalled raised until the task stalls again.
 */
SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(direct_reclaim_end_union)
{
	stall_end(MEMSTALL_DIRECT_RECLAIM, true);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(direct_reclaim_end_sum)
{
	stall_end(MEMSTALL_DIRECT_RECLAIM, false);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(memcg_reclaim_end_union)
{
	stall_end(MEMSTALL_MEMCG_RECLAIM, true);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(memcg_reclaim_end_sum)
{
	stall_end(MEMSTALL_MEMCG_RECLAIM, false);
	return 0;
}

SEC("tp_btf/mm_compaction_end")
int BPF_PROG(compaction_end_union)
{
	stall_end(MEMSTALL_DIRECT_COMPACTION, true);
	return 0;
}

SEC("tp_btf/mm_compaction_end")
int BPF_PROG(compaction_end_sum)
{
	stall_end(MEMSTALL_DIRECT_COMPACTION, false);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(direct_reclaim_begin_union)
{
	stall_begin(MEMSTALL_DIRECT_RECLAIM, true);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(direct_reclaim_begin_sum)
{
	stall_begin(MEMSTALL_DIRECT_RECLAIM, false);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memcg_reclaim_begin_union)
{
	stall_begin(MEMSTALL_MEMCG_RECLAIM, true);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memcg_reclaim_begin_sum)
{
	stall_begin(MEMSTALL_MEMCG_RECLAIM, false);
	return 0;
}

/*
 * compact_zone() emits mm_compaction_begin for direct compaction, for
 * kcompactd (a kernel thread) and for writes to /proc/sys/vm/compact_memory
 * or /sys/devices/system/node/nodeN/compact. Where the tracepoint passes
 * struct compact_control, cc->direct_compaction selects the first. Older
 * tracepoints pass only pfns.
 * NOTE: on those kernels a compaction requested through the sysctl or
 * sysfs file counts as stall of the task that wrote it.
 */
static __always_inline void compaction_begin(struct compact_control *cc, bool fetch)
{
	if (compaction_begin_has_cc && !BPF_CORE_READ(cc, direct_compaction))
		return;
	stall_begin(MEMSTALL_DIRECT_COMPACTION, fetch);
}

SEC("tp_btf/mm_compaction_begin")
int BPF_PROG(compaction_begin_union, struct compact_control *cc)
{
	compaction_begin(cc, true);
	return 0;
}

SEC("tp_btf/mm_compaction_begin")
int BPF_PROG(compaction_begin_sum, struct compact_control *cc)
{
	compaction_begin(cc, false);
	return 0;
}

/*
 * reclaim_throttle() emits mm_vmscan_throttled after the sleep, with the
 * time actually slept in usec_delayed (jiffy resolution), so the interval
 * is [now - usec_delayed, now]. Its callers run inside reclaim
 * (mm/vmscan.c) or page isolation for compaction and alloc_contig_range()
 * (mm/compaction.c), so it usually nests in a stall counted already and is
 * ignored. A throttle outside one, for example in alloc_contig_range() or
 * in reclaim that began before this program attached, is counted as its own
 * interval.
 * NOTE: such an interval is entered in the union at the time of the event,
 * so its overlap with other stalls can be counted twice or missed, by at
 * most usec_delayed (100 ms for writeback throttling).
 */
static __always_inline void vmscan_throttled(int usec_delayed, bool fetch)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now, begin;

	if (usec_delayed <= 0 || current_is_kthread())
		return;
	if (bpf_map_lookup_elem(&stalled_tasks, &tid))
		return;

	now = bpf_ktime_get_ns();
	begin = now - (__u64)usec_delayed * 1000;
	union_enter(&node_stall, begin, fetch);
	union_exit(&node_stall, begin, now, fetch);
}

SEC("tp_btf/mm_vmscan_throttled")
int BPF_PROG(vmscan_throttled_union, int nid, int usec_timeout, int usec_delayed)
{
	vmscan_throttled(usec_delayed, true);
	return 0;
}

SEC("tp_btf/mm_vmscan_throttled")
int BPF_PROG(vmscan_throttled_sum, int nid, int usec_timeout, int usec_delayed)
{
	vmscan_throttled(usec_delayed, false);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
