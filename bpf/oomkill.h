/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types that oomkill.bpf.c shares with daemon/bpf_oomkill.c.
 */
#ifndef NODECOND_BPF_OOMKILL_H
#define NODECOND_BPF_OOMKILL_H

#define OOMKILL_COMM_LEN 16

/* Where the OOM killer looked for a victim, as far as the program can tell. */
enum oomkill_scope {
	OOMKILL_SCOPE_SYSTEM = 1,	/* no memory cgroup at its limit holds the allocating task */
	OOMKILL_SCOPE_CGROUP = 2,	/* a memory cgroup at its limit holds the allocating task and the victim */
};

/* One oom:mark_victim event, sent through the oom_events ring buffer. */
struct oomkill_event {
	__u64 victim_cgroup_id;		/* the victim's memory cgroup (kernfs id); 0 when unknown */
	__u64 limit_cgroup_id;		/* the memory cgroup found at its limit; 0 for OOMKILL_SCOPE_SYSTEM */
	__u32 victim_pid;		/* thread group id */
	__u32 trigger_pid;		/* thread group id of the task whose allocation failed */
	__u32 scope;			/* enum oomkill_scope */
	__u32 has_task;			/* 0 when the tracepoint passed only the pid (older kernels) */
	char victim_comm[OOMKILL_COMM_LEN];
	char trigger_comm[OOMKILL_COMM_LEN];
};

#endif
