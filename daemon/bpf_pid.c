/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "bpf/pidmon.h"
#include "bpf/pidmon.skel.h"
#include "daemon/bpf_loader.h"
#include "daemon/bpf_pid.h"
#include "daemon/log.h"

struct bpf_pid {
	struct pidmon_bpf *skel;
	bool exact_peak;
	/* Cumulative kernel counts at the end of the previous window. */
	uint64_t forks;
	uint64_t exits;
	uint64_t frees;
	/* Watched counts when bpf_pid_watch_parent() last started a watch. */
	struct bpf_pid_counts watch_start;
};

static int configure(void *userdata, const struct btf *vmlinux, char *reason, size_t reason_len)
{
	struct bpf_pid *p = userdata;
	struct pidmon_bpf *skel = p->skel;

	if (!bpf_loader_tracepoint_exists(vmlinux, "sched_process_fork")) {
		snprintf(reason, reason_len, "tracepoint sched/sched_process_fork not found");
		return -ENOENT;
	}
	if (!bpf_loader_tracepoint_exists(vmlinux, "sched_process_free")) {
		snprintf(reason, reason_len, "tracepoint sched/sched_process_free not found");
		return -ENOENT;
	}

	bpf_loader_autoload_tracepoint(skel->progs.process_exit, vmlinux, "pidmon", "sched_process_exit",
				       "exits not counted");

	p->exact_peak = bpf_loader_has_atomic_fetch();
	bpf_program__set_autoload(skel->progs.process_fork_exact, p->exact_peak);
	bpf_program__set_autoload(skel->progs.process_fork_approx, !p->exact_peak);
	if (!p->exact_peak)
		log_info("bpf: pidmon: no BPF atomic fetch instructions (before Linux 5.12); the in-window task peak may be a few tasks low");
	return 0;
}

int bpf_pid_open(struct bpf_pid **ret, char *reason, size_t reason_len)
{
	struct bpf_pid *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(reason, reason_len, "out of memory");
		return -ENOMEM;
	}

	p->skel = pidmon_bpf__open();
	r = bpf_loader_load_skeleton(p->skel ? p->skel->skeleton : NULL, !p->skel, configure, p,
				     reason, reason_len);
	if (r < 0) {
		bpf_pid_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void bpf_pid_free(struct bpf_pid *p)
{
	if (!p)
		return;
	if (p->skel)
		bpf_loader_forget(p->skel->obj);
	pidmon_bpf__destroy(p->skel);
	free(p);
}

bool bpf_pid_peak_is_exact(const struct bpf_pid *p)
{
	return p->exact_peak;
}

/*
 * Raises *value to at least floor with a cmpxchg loop, as the BPF side does.
 * The .bss map is memory shared with the kernel, so user-space atomics work
 * on it.
 */
static void atomic_raise(__s64 *value, __s64 floor)
{
	__s64 cur = __atomic_load_n(value, __ATOMIC_SEQ_CST);

	while (cur < floor &&
	       !__atomic_compare_exchange_n(value, &cur, floor, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST))
		;
}

/* Event counts summed over the kernel side's slots. */
struct pid_totals {
	uint64_t forks;
	uint64_t exits;
	uint64_t frees;
};

static void read_totals(const struct bpf_pid *p, struct pid_totals *ret)
{
	const struct pidmon_bpf__bss *bss = p->skel->bss;

	ret->forks = __atomic_load_n(&bss->shared.forks, __ATOMIC_RELAXED);
	ret->frees = __atomic_load_n(&bss->shared.frees, __ATOMIC_RELAXED);
	ret->exits = 0;
	for (int i = 0; i < PIDMON_CPU_SLOTS; i++)
		ret->exits += __atomic_load_n(&bss->cpus[i].exits, __ATOMIC_RELAXED);
}

static void read_watched(const struct bpf_pid *p, struct bpf_pid_counts *ret)
{
	const struct pidmon_bpf__bss *bss = p->skel->bss;

	ret->forks = __atomic_load_n(&bss->watched.forks, __ATOMIC_SEQ_CST);
	ret->exits = __atomic_load_n(&bss->watched.exits, __ATOMIC_SEQ_CST);
	ret->frees = __atomic_load_n(&bss->watched.frees, __ATOMIC_SEQ_CST);
}

int bpf_pid_read_window(struct bpf_pid *p, struct bpf_pid_window *ret)
{
	struct pidmon_bpf__bss *bss = p->skel->bss;
	struct pid_totals counts;
	int64_t start, peak, now;

	/* Swap the peak for the current count, then raise the new window's
	 * start to the count after the swap: forks in between raised the old
	 * peak, not the new one. */
	start = __atomic_load_n(&bss->shared.live_delta, __ATOMIC_SEQ_CST);
	peak = __atomic_exchange_n(&bss->shared.peak_delta, start, __ATOMIC_SEQ_CST);
	now = __atomic_load_n(&bss->shared.live_delta, __ATOMIC_SEQ_CST);
	atomic_raise(&bss->shared.peak_delta, now);

	read_totals(p, &counts);
	ret->forks = counts.forks - p->forks;
	ret->exits = counts.exits - p->exits;
	ret->frees = counts.frees - p->frees;
	p->forks = counts.forks;
	p->exits = counts.exits;
	p->frees = counts.frees;

	ret->current_delta = now;
	ret->peak_delta = peak > start ? peak : start;
	if (ret->peak_delta < now)
		ret->peak_delta = now;
	return 0;
}

uint64_t bpf_pid_peak_tasks(const struct bpf_pid_window *w, uint64_t tasks_now)
{
	int64_t above = w->peak_delta - w->current_delta;

	return above > 0 ? tasks_now + (uint64_t)above : tasks_now;
}

/* Sets the watched parent in the shared line and in every CPU slot. */
static void set_watch(struct bpf_pid *p, __u32 tgid)
{
	struct pidmon_bpf__bss *bss = p->skel->bss;

	__atomic_store_n(&bss->shared.watch_parent_tgid, tgid, __ATOMIC_SEQ_CST);
	for (int i = 0; i < PIDMON_CPU_SLOTS; i++)
		__atomic_store_n(&bss->cpus[i].watch_parent_tgid, tgid, __ATOMIC_SEQ_CST);
}

void bpf_pid_watch_parent(struct bpf_pid *p, pid_t tgid)
{
	set_watch(p, 0);
	read_watched(p, &p->watch_start);
	set_watch(p, (__u32)tgid);
}

void bpf_pid_read_watched(const struct bpf_pid *p, struct bpf_pid_counts *ret)
{
	struct bpf_pid_counts now;

	read_watched(p, &now);
	ret->forks = now.forks - p->watch_start.forks;
	ret->exits = now.exits - p->watch_start.exits;
	ret->frees = now.frees - p->watch_start.frees;
}
