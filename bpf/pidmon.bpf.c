// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Task creation and release for pid.available: fork, exit and free counts,
 * and the peak number of live tasks since user space last read it.
 *
 * A task holds its PID and counts in nr_threads (the task count in
 * /proc/loadavg) from copy_process() until release_task() unhashes it, so
 * zombies still count. There is no tracepoint in release_task();
 * sched_process_free fires from delayed_put_task_struct(), one RCU grace
 * period later. live_delta therefore stays above the kernel's count by the
 * tasks released but not yet freed, so the peak errs on the high side and
 * pid.available on the low side. sched_process_exit (do_exit(), before the
 * task becomes a zombie) is only counted.
 *
 * No syscall tracepoints: they move every thread on the node to the slow
 * syscall path.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/*
 * The fork program comes in two variants and the loader loads one of them.
 * process_fork_exact uses BPF_FETCH and cmpxchg atomics (Linux 5.12).
 * process_fork_approx raises the peak with a plain compare and store, so two
 * CPUs forking at the same instant can leave it a few tasks low. It exists
 * because the verifier of older kernels rejects a program that contains a
 * fetch instruction at all, even in code it never reaches.
 */

__u64 forks;
__u64 exits;
__u64 frees;

/* forks - frees since attach; negative when tasks older than the attach exit. */
__s64 live_delta;

/* Max of live_delta since user space last exchanged it for the current value. */
__s64 peak_delta;

/*
 * Tasks whose parent process is watch_parent_tgid (0: none) are counted
 * apart, so a test can check exact counts on a busy node.
 */
__u32 watch_parent_tgid;
__u64 watched_forks;
__u64 watched_exits;
__u64 watched_frees;

static __always_inline bool parent_is_watched(struct task_struct *task)
{
	__u32 watched = watch_parent_tgid;

	return watched && BPF_CORE_READ(task, real_parent, tgid) == watched;
}

static __always_inline void raise_peak(__s64 live)
{
	__s64 cur = peak_delta;

	/* Each failed cmpxchg means another CPU raised the peak; bounded so
	 * the verifier accepts the loop. */
	for (int i = 0; i < 16 && live > cur; i++) {
		__s64 old = __sync_val_compare_and_swap(&peak_delta, cur, live);

		if (old == cur)
			break;
		cur = old;
	}
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork_exact, struct task_struct *parent, struct task_struct *child)
{
	__sync_fetch_and_add(&forks, 1);
	raise_peak(__sync_fetch_and_add(&live_delta, 1) + 1);
	if (parent_is_watched(child))
		__sync_fetch_and_add(&watched_forks, 1);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork_approx, struct task_struct *parent, struct task_struct *child)
{
	__s64 live;

	__sync_fetch_and_add(&forks, 1);
	__sync_fetch_and_add(&live_delta, 1);
	live = live_delta;
	if (live > peak_delta)
		peak_delta = live;
	if (parent_is_watched(child))
		__sync_fetch_and_add(&watched_forks, 1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *task)
{
	__sync_fetch_and_add(&exits, 1);
	if (parent_is_watched(task))
		__sync_fetch_and_add(&watched_exits, 1);
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(process_free, struct task_struct *task)
{
	__sync_fetch_and_add(&frees, 1);
	__sync_fetch_and_add(&live_delta, -1);
	if (parent_is_watched(task))
		__sync_fetch_and_add(&watched_frees, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
