/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "bpf/memstall.h"
#include "bpf/memstall.skel.h"
#include "daemon/bpf_loader.h"
#include "daemon/bpf_memstall.h"
#include "daemon/log.h"

/*
 * A read that races with an update in the kernel is off by about the
 * CLOCK_MONOTONIC value (the time since boot), so a total above the time
 * since attach plus this margin is such a race and is read again. The margin
 * covers throttling intervals, which may begin up to 100 ms before attach.
 */
#define READ_MARGIN_NS 1000000000ULL
#define READ_TRIES 64

struct bpf_memstall {
	struct memstall_bpf *skel;
	bool union_mode;
	bool cgroup_stall;
	uint64_t attach_ns;
	uint64_t last_node_ns;
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * One tracepoint and its two programs (see memstall.bpf.c): the _union
 * variant needs BPF atomic fetch instructions, the _sum variant does not.
 */
struct hook {
	const char *tracepoint;
	struct bpf_program *union_prog;
	struct bpf_program *sum_prog;
};

static void hook_set_autoload(const struct hook *hook, bool load, bool union_mode)
{
	bpf_program__set_autoload(hook->union_prog, load && union_mode);
	bpf_program__set_autoload(hook->sum_prog, load && !union_mode);
}

/* Loads both hooks of a begin and end pair, or neither; returns whether it loads them. */
static bool hook_pair_enable(const struct btf *vmlinux, const struct hook *begin,
			     const struct hook *end, bool union_mode)
{
	bool found = bpf_loader_tracepoint_exists(vmlinux, begin->tracepoint) &&
		     bpf_loader_tracepoint_exists(vmlinux, end->tracepoint);

	hook_set_autoload(begin, found, union_mode);
	hook_set_autoload(end, found, union_mode);
	return found;
}

#define HOOK(tp, prog) { tp, skel->progs.prog##_union, skel->progs.prog##_sum }

/* Chooses the programs and read-only settings for the running kernel. */
static int configure(void *userdata, const struct btf *vmlinux, char *reason, size_t reason_len)
{
	struct bpf_memstall *m = userdata;
	struct memstall_bpf *skel = m->skel;
	const struct hook direct_reclaim_begin =
		HOOK("mm_vmscan_direct_reclaim_begin", direct_reclaim_begin);
	const struct hook direct_reclaim_end =
		HOOK("mm_vmscan_direct_reclaim_end", direct_reclaim_end);
	const struct hook memcg_reclaim_begin =
		HOOK("mm_vmscan_memcg_reclaim_begin", memcg_reclaim_begin);
	const struct hook memcg_reclaim_end =
		HOOK("mm_vmscan_memcg_reclaim_end", memcg_reclaim_end);
	const struct hook compaction_begin = HOOK("mm_compaction_begin", compaction_begin);
	const struct hook compaction_end = HOOK("mm_compaction_end", compaction_end);
	const struct hook throttled = HOOK("mm_vmscan_throttled", vmscan_throttled);
	bool found;

	m->union_mode = bpf_loader_has_atomic_fetch();
	if (!m->union_mode)
		log_info("bpf: memstall: no BPF atomic fetch instructions (before Linux 5.12); stall time is summed per task, not a union");

	if (!hook_pair_enable(vmlinux, &direct_reclaim_begin, &direct_reclaim_end, m->union_mode)) {
		snprintf(reason, reason_len,
			 "tracepoints vmscan/mm_vmscan_direct_reclaim_begin and _end not found");
		return -ENOENT;
	}

	m->cgroup_stall = hook_pair_enable(vmlinux, &memcg_reclaim_begin, &memcg_reclaim_end,
					   m->union_mode);
	if (!m->cgroup_stall)
		log_info("bpf: memstall: tracepoints vmscan/mm_vmscan_memcg_reclaim_begin and _end not found; memory.cgroupStall unavailable");

	if (!hook_pair_enable(vmlinux, &compaction_begin, &compaction_end, m->union_mode))
		log_info("bpf: memstall: tracepoints compaction/mm_compaction_begin and _end not found; direct compaction not counted");
	skel->rodata->compaction_begin_has_cc =
		bpf_loader_tracepoint_arg_is_struct(vmlinux, "mm_compaction_begin", 0,
						    "compact_control");

	/* mm_vmscan_throttled appeared in Linux 5.16 with reclaim_throttle(). */
	found = bpf_loader_tracepoint_exists(vmlinux, throttled.tracepoint);
	hook_set_autoload(&throttled, found, m->union_mode);
	if (!found)
		log_info("bpf: memstall: tracepoint vmscan/mm_vmscan_throttled not found; reclaim throttling is counted only inside reclaim");
	return 0;
}

int bpf_memstall_open(struct bpf_memstall **ret, char *reason, size_t reason_len)
{
	struct bpf_memstall *m;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(reason, reason_len, "out of memory");
		return -ENOMEM;
	}

	m->skel = memstall_bpf__open();
	/* Counted from before load: the read margin covers the load time. */
	m->attach_ns = monotonic_ns();
	r = bpf_loader_load_skeleton(m->skel ? m->skel->skeleton : NULL, !m->skel, configure, m,
				     reason, reason_len);
	if (r < 0) {
		bpf_memstall_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

void bpf_memstall_free(struct bpf_memstall *m)
{
	if (!m)
		return;
	if (m->skel)
		bpf_loader_forget(m->skel->obj);
	memstall_bpf__destroy(m->skel);
	free(m);
}

bool bpf_memstall_is_union(const struct bpf_memstall *m)
{
	return m->union_mode;
}

bool bpf_memstall_has_cgroup_stall(const struct bpf_memstall *m)
{
	return m->cgroup_stall;
}

/*
 * Turns one struct memstall_union into stalled ns since attach. Returns
 * -EAGAIN for a value read between the two atomic updates of one stall
 * transition (see struct memstall_union).
 */
static int union_to_ns(const struct bpf_memstall *m, int64_t nr_stalled, int64_t ns_offset,
		       uint64_t now, uint64_t *ret)
{
	int64_t total = ns_offset;

	if (m->union_mode && nr_stalled > 0)
		total += (int64_t)now;
	if (total < 0)
		return -EAGAIN;
	if (m->union_mode && (uint64_t)total > now - m->attach_ns + READ_MARGIN_NS)
		return -EAGAIN;

	*ret = (uint64_t)total;
	return 0;
}

int bpf_memstall_read(struct bpf_memstall *m, uint64_t *ret_stalled_ns)
{
	struct memstall_union *node = &m->skel->bss->node_stall;

	for (int i = 0; i < READ_TRIES; i++) {
		int64_t nr = __atomic_load_n(&node->nr_stalled, __ATOMIC_ACQUIRE);
		int64_t offset = __atomic_load_n(&node->ns_offset, __ATOMIC_ACQUIRE);
		uint64_t total;

		if (union_to_ns(m, nr, offset, monotonic_ns(), &total) < 0)
			continue;

		/* Clock reads on different CPUs can put a total a few ns
		 * behind the previous one. */
		if (total < m->last_node_ns)
			total = m->last_node_ns;
		m->last_node_ns = total;
		*ret_stalled_ns = total;
		return 0;
	}
	return -EAGAIN;
}

int bpf_memstall_read_cgroup(struct bpf_memstall *m, uint64_t cgroup_id, uint64_t *ret_stalled_ns)
{
	struct bpf_map *map = m->skel->maps.cgroup_stall;
	struct memstall_union value;

	for (int i = 0; i < READ_TRIES; i++) {
		int r = bpf_map__lookup_elem(map, &cgroup_id, sizeof(cgroup_id), &value,
					     sizeof(value), 0);

		if (r < 0)
			return r;
		if (union_to_ns(m, value.nr_stalled, value.ns_offset, monotonic_ns(),
				ret_stalled_ns) == 0)
			return 0;
	}
	return -EAGAIN;
}

int bpf_memstall_foreach_cgroup(struct bpf_memstall *m, bpf_memstall_cgroup_fn fn, void *userdata)
{
	struct bpf_map *map = m->skel->maps.cgroup_stall;
	uint64_t key, next, stalled_ns;
	uint64_t *prev = NULL;
	int r;

	for (;;) {
		r = bpf_map__get_next_key(map, prev, &next, sizeof(next));
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		key = next;
		prev = &key;

		r = bpf_memstall_read_cgroup(m, key, &stalled_ns);
		if (r == -ENOENT || r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		fn(key, stalled_ns, userdata);
	}
}

int bpf_memstall_forget_cgroup(struct bpf_memstall *m, uint64_t cgroup_id)
{
	return bpf_map__delete_elem(m->skel->maps.cgroup_stall, &cgroup_id, sizeof(cgroup_id), 0);
}

void bpf_memstall_read_lost(const struct bpf_memstall *m, struct bpf_memstall_lost *ret)
{
	ret->task_map_full = __atomic_load_n(&m->skel->bss->lost_task_map_full, __ATOMIC_RELAXED);
	ret->cgroup_map_full = __atomic_load_n(&m->skel->bss->lost_cgroup_map_full,
					       __ATOMIC_RELAXED);
}
