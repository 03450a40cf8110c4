// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * memory.oomKills: one ring-buffer event per OOM victim, from oom:mark_victim.
 *
 * The tracepoint does not say whether the kill was system-wide or at a memory
 * cgroup's limit, and without kprobes oom_kill_process() cannot be read. The
 * OOM killer runs in the task whose allocation or charge failed, so this
 * program classifies a kill as cgroup-confined when a memory cgroup that
 * contains that task and the victim has its usage within
 * LIMIT_MARGIN_PAGES of its limit. User space confirms it with the kernel's
 * own "Memory cgroup out of memory" or "Out of memory" line in /dev/kmsg when
 * it can read that file.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "oomkill.h"

/*
 * A charge fails when usage + nr_pages > max, with nr_pages up to a huge
 * page (512 pages on x86-64), and usage may shrink a little between the
 * failure and the kill.
 */
#define LIMIT_MARGIN_PAGES 1024
/* PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE; anything this large is "no limit". */
#define NO_LIMIT_PAGES (1ULL << 50)
#define MAX_DEPTH 16

/*
 * Set by the loader before load: true when mark_victim passes the victim's
 * struct task_struct (newer kernels) rather than only its pid.
 */
const volatile bool mark_victim_has_task = false;
/* Set by the loader: cgroup v1 with memory+swap accounting (memory.memsw.*). */
const volatile bool memsw_accounting = false;

__u64 lost_events;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} oom_events SEC(".maps");

static __always_inline struct mem_cgroup *task_memcg(struct task_struct *task)
{
	struct cgroup_subsys_state *css;
	struct css_set *cset;
	int subsys_id;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return NULL;
	subsys_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	cset = BPF_CORE_READ(task, cgroups);
	if (!cset || bpf_core_read(&css, sizeof(css), &cset->subsys[subsys_id]) || !css)
		return NULL;
	return (struct mem_cgroup *)((void *)css - bpf_core_field_offset(struct mem_cgroup, css));
}

static __always_inline struct mem_cgroup *memcg_parent(struct mem_cgroup *memcg)
{
	struct cgroup_subsys_state *parent = BPF_CORE_READ(memcg, css.parent);

	if (!parent)
		return NULL;
	return (struct mem_cgroup *)((void *)parent - bpf_core_field_offset(struct mem_cgroup, css));
}

static __always_inline __u64 memcg_id(struct mem_cgroup *memcg)
{
	return memcg ? BPF_CORE_READ(memcg, css.cgroup, kn, id) : 0;
}

static __always_inline bool counter_at_limit(struct page_counter *counter)
{
	long usage = 0;
	unsigned long max = 0;

	bpf_core_read(&usage, sizeof(usage), &counter->usage.counter);
	bpf_core_read(&max, sizeof(max), &counter->max);
	if (max >= NO_LIMIT_PAGES)
		return false;
	return usage > 0 && (unsigned long)usage + LIMIT_MARGIN_PAGES >= max;
}

static __always_inline bool memcg_at_limit(struct mem_cgroup *memcg)
{
	if (counter_at_limit(&memcg->memory))
		return true;
	/* The v1 memory+swap counter shares a union with the v2 swap counter
	 * (Linux 5.8 and later), which never fails a charge. */
	if (memsw_accounting && bpf_core_field_exists(memcg->memsw))
		return counter_at_limit(&memcg->memsw);
	return false;
}

/* Returns the nearest memory cgroup at its limit that contains memcg, or NULL. */
static __always_inline struct mem_cgroup *limited_ancestor(struct mem_cgroup *memcg)
{
	for (int i = 0; i < MAX_DEPTH && memcg; i++) {
		struct mem_cgroup *parent = memcg_parent(memcg);

		/* The root memory cgroup has no limit. */
		if (!parent)
			return NULL;
		if (memcg_at_limit(memcg))
			return memcg;
		memcg = parent;
	}
	return NULL;
}

static __always_inline bool memcg_contains(struct mem_cgroup *ancestor, struct mem_cgroup *memcg)
{
	for (int i = 0; i < MAX_DEPTH && memcg; i++) {
		if (memcg == ancestor)
			return true;
		memcg = memcg_parent(memcg);
	}
	return false;
}

static __always_inline void emit(struct task_struct *victim, __u32 victim_pid)
{
	struct task_struct *current = (struct task_struct *)bpf_get_current_task();
	struct mem_cgroup *limited = limited_ancestor(task_memcg(current));
	struct mem_cgroup *victim_memcg = NULL;
	struct oomkill_event *e;

	if (victim)
		victim_memcg = task_memcg(victim);
	/* A victim outside the limited cgroup means the kill searched wider. */
	if (limited && victim && !memcg_contains(limited, victim_memcg))
		limited = NULL;

	e = bpf_ringbuf_reserve(&oom_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost_events, 1);
		return;
	}
	e->victim_pid = victim ? BPF_CORE_READ(victim, tgid) : victim_pid;
	e->victim_cgroup_id = memcg_id(victim_memcg);
	e->limit_cgroup_id = memcg_id(limited);
	e->scope = limited ? OOMKILL_SCOPE_CGROUP : OOMKILL_SCOPE_SYSTEM;
	e->trigger_pid = bpf_get_current_pid_tgid() >> 32;
	e->has_task = victim != NULL;
	__builtin_memset(e->victim_comm, 0, sizeof(e->victim_comm));
	if (victim)
		BPF_CORE_READ_STR_INTO(&e->victim_comm, victim, comm);
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	bpf_ringbuf_submit(e, 0);
}

/* Newer kernels: mark_victim(struct task_struct *task, uid_t uid). */
SEC("tp_btf/mark_victim")
int BPF_PROG(mark_victim_task, struct task_struct *task)
{
	emit(task, 0);
	return 0;
}

/*
 * Older kernels, Linux 5.8 included: mark_victim(int pid). The loader checks
 * the tracepoint's first argument in kernel BTF and loads one of the two.
 */
SEC("tp_btf/mark_victim")
int BPF_PROG(mark_victim_pid, int pid)
{
	emit(NULL, (__u32)pid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
