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
#include "pidmon.h"

/*
 * The fork program comes in two variants and the loader loads one of them.
 * process_fork_exact uses BPF_FETCH and cmpxchg atomics (Linux 5.12).
 * process_fork_approx raises the peak with a plain compare and store, so two
 * CPUs forking at the same instant can leave it a few tasks low. It exists
 * because the verifier of older kernels rejects a program that contains a
 * fetch instruction at all, even in code it never reaches.
 */

struct pidmon_shared shared;
struct pidmon_cpu cpus[PIDMON_CPU_SLOTS];

/* Counts of the watched parent's children, so a test can check exact counts on a busy node. */
struct pidmon_watched watched;

static __always_inline bool parent_is_watched(__u32 watch, struct task_struct *task)
{
	/* tp_btf arguments are typed pointers: direct loads, no probe-read helper calls. */
	return watch && task->real_parent->tgid == watch;
}

static __always_inline void raise_peak(__s64 live)
{
	__s64 cur = shared.peak_delta;

	/* Each failed cmpxchg means another CPU raised the peak; bounded so
	 * the verifier accepts the loop. */
	for (int i = 0; i < 16 && live > cur; i++) {
		__s64 old = __sync_val_compare_and_swap(&shared.peak_delta, cur, live);

		if (old == cur)
			break;
		cur = old;
	}
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork_exact, struct task_struct *parent, struct task_struct *child)
{
	raise_peak(__sync_fetch_and_add(&shared.live_delta, 1) + 1);
	__sync_fetch_and_add(&shared.forks, 1);
	if (parent_is_watched(shared.watch_parent_tgid, child))
		__sync_fetch_and_add(&watched.forks, 1);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork_approx, struct task_struct *parent, struct task_struct *child)
{
	__s64 live;

	__sync_fetch_and_add(&shared.live_delta, 1);
	live = shared.live_delta;
	if (live > shared.peak_delta)
		shared.peak_delta = live;
	__sync_fetch_and_add(&shared.forks, 1);
	if (parent_is_watched(shared.watch_parent_tgid, child))
		__sync_fetch_and_add(&watched.forks, 1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *task)
{
	struct pidmon_cpu *cpu = &cpus[bpf_get_smp_processor_id() & (PIDMON_CPU_SLOTS - 1)];

	/*
	 * Atomic although the slot is this CPU's: a preemptible kernel can run
	 * this program for another task on the same CPU between a load and its
	 * store, and CPUs beyond PIDMON_CPU_SLOTS share slots.
	 */
	__sync_fetch_and_add(&cpu->exits, 1);
	if (parent_is_watched(cpu->watch_parent_tgid, task))
		__sync_fetch_and_add(&watched.exits, 1);
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(process_free, struct task_struct *task)
{
	__sync_fetch_and_add(&shared.live_delta, -1);
	__sync_fetch_and_add(&shared.frees, 1);
	if (parent_is_watched(shared.watch_parent_tgid, task))
		__sync_fetch_and_add(&watched.frees, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
