/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/disklat.h"
#include "bpf/disklat.skel.h"
#include "daemon/bpf_disk.h"
#include "daemon/bpf_loader.h"
#include "daemon/log.h"

struct bpf_disk {
	struct disklat_bpf *skel;
	uint32_t max_requests;	/* entries of the started map */
	/* Cumulative kernel counters at the previous read, per slot. */
	struct disklat_dev_stats prev[DISKLAT_MAX_DEVS];
};

static int configure(void *userdata, const struct btf *vmlinux, char *reason, size_t reason_len)
{
	struct bpf_disk *d = userdata;
	bool single_arg;
	int r;

	if (!bpf_loader_tracepoint_exists(vmlinux, "block_rq_issue") ||
	    !bpf_loader_tracepoint_exists(vmlinux, "block_rq_complete")) {
		snprintf(reason, reason_len, "tracepoints block/block_rq_issue and block_rq_complete not found");
		return -ENOENT;
	}
	/* Linux 5.11 dropped the request_queue argument of block_rq_issue. */
	single_arg = bpf_loader_tracepoint_arg_is_struct(vmlinux, "block_rq_issue", 0, "request");
	bpf_program__set_autoload(d->skel->progs.block_rq_issue, single_arg);
	bpf_program__set_autoload(d->skel->progs.block_rq_issue_with_queue, !single_arg);

	r = bpf_map__set_max_entries(d->skel->maps.started, d->max_requests);
	if (r < 0) {
		snprintf(reason, reason_len, "setting the request map's capacity to %u failed: %s",
			 d->max_requests, strerror(-r));
		return r;
	}
	return 0;
}

int bpf_disk_open(struct bpf_disk **ret, char *reason, size_t reason_len)
{
	return bpf_disk_open_with_capacity(ret, DISKLAT_MAX_REQUESTS, reason, reason_len);
}

int bpf_disk_open_with_capacity(struct bpf_disk **ret, uint32_t max_requests, char *reason,
				size_t reason_len)
{
	struct bpf_disk *d;
	int r;

	if (max_requests == 0) {
		snprintf(reason, reason_len, "invalid request map capacity 0: expected at least 1");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(reason, reason_len, "out of memory");
		return -ENOMEM;
	}
	d->max_requests = max_requests;
	d->skel = disklat_bpf__open();
	r = bpf_loader_load_skeleton(d->skel ? d->skel->skeleton : NULL, !d->skel, configure, d, reason,
				     reason_len);
	if (r < 0) {
		bpf_disk_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

void bpf_disk_free(struct bpf_disk *d)
{
	if (!d)
		return;
	if (d->skel)
		bpf_loader_forget(d->skel->obj);
	disklat_bpf__destroy(d->skel);
	free(d);
}

/* Copies one slot's counters; each counter is read atomically, the set is not. */
static void snapshot(const struct disklat_dev_stats *kernel, struct disklat_dev_stats *ret)
{
	for (size_t i = 0; i < DISKLAT_BUCKETS; i++)
		ret->hist[i] = __atomic_load_n(&kernel->hist[i], __ATOMIC_RELAXED);
	ret->completions = __atomic_load_n(&kernel->completions, __ATOMIC_RELAXED);
	ret->errors = __atomic_load_n(&kernel->errors, __ATOMIC_RELAXED);
	ret->lost = __atomic_load_n(&kernel->lost, __ATOMIC_RELAXED);
}

int bpf_disk_set_devices(struct bpf_disk *d, const dev_t *devs, size_t n)
{
	struct disklat_bpf__bss *bss = d->skel->bss;

	if (n > DISKLAT_MAX_DEVS)
		return -E2BIG;
	/* Stop matching first, so no completion counts into a slot that changes meaning. */
	__atomic_store_n(&bss->disklat_ndevs, 0, __ATOMIC_SEQ_CST);
	for (size_t i = 0; i < n; i++)
		__atomic_store_n(&bss->disklat_devs[i], (major(devs[i]) << 20) | minor(devs[i]),
				 __ATOMIC_SEQ_CST);
	for (size_t i = 0; i < DISKLAT_MAX_DEVS; i++)
		snapshot(&bss->disklat_stats[i], &d->prev[i]);
	__atomic_store_n(&bss->disklat_ndevs, (__u32)n, __ATOMIC_SEQ_CST);
	return 0;
}

int bpf_disk_read_window(struct bpf_disk *d, size_t slot, struct bpf_disk_window *ret)
{
	struct disklat_dev_stats now;

	if (slot >= DISKLAT_MAX_DEVS)
		return -EINVAL;
	snapshot(&d->skel->bss->disklat_stats[slot], &now);
	for (size_t i = 0; i < DISKLAT_BUCKETS; i++)
		ret->hist[i] = now.hist[i] - d->prev[slot].hist[i];
	ret->completions = now.completions - d->prev[slot].completions;
	ret->errors = now.errors - d->prev[slot].errors;
	ret->lost = now.lost - d->prev[slot].lost;
	d->prev[slot] = now;
	return 0;
}

uint64_t bpf_disk_lost(const struct bpf_disk *d)
{
	uint64_t lost = 0;

	/* Each slot's counter only grows, whichever disk the slot watched, so the sum counts since open. */
	for (size_t i = 0; i < DISKLAT_MAX_DEVS; i++)
		lost += __atomic_load_n(&d->skel->bss->disklat_stats[i].lost, __ATOMIC_RELAXED);
	return lost;
}

uint32_t bpf_disk_capacity(const struct bpf_disk *d)
{
	return d->max_requests;
}
