/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types and the latency histogram layout that disklat.bpf.c shares with
 * daemon/bpf_disk.c.
 *
 * The histogram is log-linear over microseconds: buckets 0 to 7 hold 0 to
 * 7 us exactly, and every power of two above that is split into
 * DISKLAT_SUB_BUCKETS equal buckets, so a bucket is at most 1/8 of its
 * lower bound wide (1100 ms and 2000 ms land 5 buckets apart). The last
 * bucket also holds everything above its lower bound (about 60 s).
 */
#ifndef NODECOND_BPF_DISKLAT_H
#define NODECOND_BPF_DISKLAT_H

#define DISKLAT_MAX_DEVS 8
#define DISKLAT_SUB_BITS 3
#define DISKLAT_SUB_BUCKETS (1 << DISKLAT_SUB_BITS)
#define DISKLAT_MAX_LOG2 25	/* 2^25 us is about 33.5 s */
#define DISKLAT_BUCKETS ((DISKLAT_MAX_LOG2 - DISKLAT_SUB_BITS + 2) * DISKLAT_SUB_BUCKETS)
/* Capacity of the agent's map of issue times, in requests in flight. */
#define DISKLAT_MAX_REQUESTS 10240

/* Counters of one watched device, indexed like disklat_devs. */
struct disklat_dev_stats {
	__u64 hist[DISKLAT_BUCKETS];
	__u64 completions;
	__u64 errors;
	__u64 lost;	/* issues not timed because the request map was full */
};

#endif
