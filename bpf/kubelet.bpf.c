// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The kubelet process exiting, for an immediate kubelet healthz probe.
 *
 * A process is watched when it executes the configured kubelet binary
 * (sched_process_exec, compared by device and inode, never by command name,
 * which any process can set) or when user space adds its pid after scanning
 * /proc/PID/exe. sched_process_exit fires for every thread; the event is
 * sent once, by the thread that ends the thread group (signal->live reached
 * zero before the tracepoint).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "kubelet.h"

/* The configured executable, written by user space; 0/0 watches nothing by exec. */
__u32 exe_dev;	/* kernel encoding: major << 20 | minor */
__u64 exe_ino;

__u64 lost_events;

/*
 * Thread group ids of the watched processes, 0 for a free slot. A small
 * array scanned in a loop costs less per exit than a hash map lookup, and
 * sched_process_exit runs for every thread on the node.
 */
__u32 kubelet_pids[KUBELET_MAX_PROCESSES];

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
} kubelet_events SEC(".maps");

static __always_inline int find_pid(__u32 tgid)
{
	for (int i = 0; i < KUBELET_MAX_PROCESSES; i++)
		if (kubelet_pids[i] == tgid)
			return i;
	return -1;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(kubelet_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = task->tgid;
	struct inode *inode;
	int slot;

	if (!exe_ino)
		return 0;
	/* tp_btf arguments are typed pointers: direct loads, no probe-read helper calls. */
	inode = bprm->file->f_inode;
	slot = find_pid(tgid);
	if (inode->i_ino == exe_ino && inode->i_sb->s_dev == exe_dev) {
		if (slot < 0)
			slot = find_pid(0);
		/* NOTE: two kubelets exec'ing at the same instant may take one slot. */
		if (slot >= 0 && slot < KUBELET_MAX_PROCESSES)
			kubelet_pids[slot] = tgid;
	} else if (slot >= 0 && slot < KUBELET_MAX_PROCESSES) {
		/* A watched process replaced its image with another program. */
		kubelet_pids[slot] = 0;
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(kubelet_exit, struct task_struct *task)
{
	struct kubelet_exit_event *e;
	__u32 tgid;
	int slot;

	/*
	 * do_exit() lowers signal->live before the tracepoint, in every kernel.
	 * This runs for every thread on the node, so it uses direct loads.
	 */
	if (task->signal->live.counter != 0)
		return 0;
	tgid = task->tgid;
	slot = find_pid(tgid);
	if (slot < 0 || slot >= KUBELET_MAX_PROCESSES)
		return 0;
	kubelet_pids[slot] = 0;

	e = bpf_ringbuf_reserve(&kubelet_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost_events, 1);
		return 0;
	}
	e->pid = tgid;
	e->exit_code = task->signal->group_exit_code;
	if (!e->exit_code)
		e->exit_code = task->exit_code;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
