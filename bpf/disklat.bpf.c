// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * disk.latency and disk.errors: device service time, from the request's
 * issue to the driver (block_rq_issue) to its completion
 * (block_rq_complete), for the watched disks only, as a log-linear
 * histogram per disk (see disklat.h), and the failed completions.
 *
 * Requests carry the whole disk (struct gendisk), not the partition, so
 * user space watches the disks behind the nodefs and imagefs filesystems.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "disklat.h"

/* Watched disks, kernel dev_t encoding (major << 20 | minor), written by user space. */
__u32 disklat_devs[DISKLAT_MAX_DEVS];
__u32 disklat_ndevs;

struct disklat_dev_stats disklat_stats[DISKLAT_MAX_DEVS];

struct start {
	__u64 ns;
	__u32 slot;
	__u32 pad;
};

/*
 * Issue times of the requests in flight, by request address: inserted at
 * issue and deleted at completion, so the map contains only requests in
 * flight. An entry kept per request address and updated in place cost 30%
 * less. It was dropped because a node's disks can own more request structs
 * than the map has entries (an NVMe disk with a queue per CPU). An LRU map
 * then evicted entries of requests still in flight, losing their
 * completions. The loader sets max_entries before load (DISKLAT_MAX_REQUESTS
 * in the agent). An issue that finds the map full is not timed and is
 * counted in its slot's lost counter.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DISKLAT_MAX_REQUESTS);
	__type(key, __u64);	/* struct request address */
	__type(value, struct start);
} started SEC(".maps");

/* struct request before Linux 5.17, which removed rq_disk (use rq->q->disk). */
struct request___with_rq_disk {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *request_disk(struct request *rq)
{
	struct request___with_rq_disk *old = (void *)rq;

	/* tp_btf arguments are typed pointers: direct loads, no probe-read helper calls. */
	if (bpf_core_field_exists(old->rq_disk))
		return old->rq_disk;
	return rq->q->disk;
}

static __always_inline int watched_slot(struct request *rq)
{
	struct gendisk *disk = request_disk(rq);
	__u32 n = disklat_ndevs, dev;

	if (!disk || n == 0)
		return -1;
	dev = ((__u32)disk->major << 20) | (__u32)disk->first_minor;
	for (int i = 0; i < DISKLAT_MAX_DEVS; i++) {
		if (i >= n)
			break;
		if (disklat_devs[i] == dev)
			return i;
	}
	return -1;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static __always_inline __u32 latency_bucket(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 log, bucket;

	if (us < DISKLAT_SUB_BUCKETS)
		return (__u32)us;
	log = log2_u64(us);
	bucket = (log - DISKLAT_SUB_BITS + 1) * DISKLAT_SUB_BUCKETS +
		 (__u32)((us >> (log - DISKLAT_SUB_BITS)) & (DISKLAT_SUB_BUCKETS - 1));
	return bucket < DISKLAT_BUCKETS ? bucket : DISKLAT_BUCKETS - 1;
}

static __always_inline void issue(struct request *rq)
{
	struct start s = {};
	__u64 key = (__u64)rq;
	int slot = watched_slot(rq);

	if (slot < 0 || slot >= DISKLAT_MAX_DEVS)
		return;
	s.ns = bpf_ktime_get_ns();
	s.slot = (__u32)slot;
	if (bpf_map_update_elem(&started, &key, &s, BPF_ANY))
		__sync_fetch_and_add(&disklat_stats[slot].lost, 1);
}

/* Linux 5.11 and later: block_rq_issue(struct request *rq). */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue, struct request *rq)
{
	issue(rq);
	return 0;
}

/*
 * Before Linux 5.11: block_rq_issue(struct request_queue *q, struct request *rq).
 * The loader checks the first argument in kernel BTF and loads one of the two.
 */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue_with_queue, struct request_queue *q, struct request *rq)
{
	issue(rq);
	return 0;
}

/*
 * The error argument is an errno (int) on older kernels and a blk_status_t
 * on newer ones. Both are 0 on success, so it is read as an int.
 * blk_update_request() emits this tracepoint for every completion, failed
 * ones included. Newer kernels also emit block_rq_error for failures, which
 * is not attached because it would count each failure twice.
 */
SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error)
{
	struct disklat_dev_stats *stats;
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();
	struct start *s;
	__u32 slot, bucket;

	s = bpf_map_lookup_elem(&started, &key);
	if (!s)
		return 0;
	slot = s->slot;
	if (slot >= DISKLAT_MAX_DEVS) {
		bpf_map_delete_elem(&started, &key);
		return 0;
	}
	bucket = latency_bucket(now - s->ns);
	/* The compiler drops the clamp inside latency_bucket() on some paths;
	 * the barrier keeps this check, which the verifier needs. */
	asm volatile("" : "+r"(bucket));
	if (bucket >= DISKLAT_BUCKETS) {
		bpf_map_delete_elem(&started, &key);
		return 0;
	}
	stats = &disklat_stats[slot];
	__sync_fetch_and_add(&stats->hist[bucket], 1);
	__sync_fetch_and_add(&stats->completions, 1);
	if (error)
		__sync_fetch_and_add(&stats->errors, 1);
	bpf_map_delete_elem(&started, &key);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
