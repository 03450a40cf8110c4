/* SPDX-License-Identifier: Apache-2.0 */
/*
 * disk.latency and disk.errors from the block request tracepoints
 * (bpf/disklat.bpf.c): per watched disk, a latency histogram of device
 * service time (issue to the driver until completion) and failed requests.
 */
#ifndef NODECOND_DAEMON_BPF_DISK_H
#define NODECOND_DAEMON_BPF_DISK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "bpf/disklat.h"

struct bpf_disk;

/* One disk's requests completed between two reads. */
struct bpf_disk_window {
	uint64_t hist[DISKLAT_BUCKETS];
	uint64_t completions;
	uint64_t errors;
	uint64_t lost;	/* issues not timed because the request map was full */
};

/*
 * Loads and attaches the programs, with room for DISKLAT_MAX_REQUESTS
 * requests in flight. Returns 0, or a negative errno with a one-line reason.
 */
int bpf_disk_open(struct bpf_disk **ret, char *reason, size_t reason_len);

/*
 * Same as bpf_disk_open() with room for max_requests requests in flight
 * (at least 1), so tests can fill the map. Returns -EINVAL for 0.
 */
int bpf_disk_open_with_capacity(struct bpf_disk **ret, uint32_t max_requests, char *reason,
				size_t reason_len);

void bpf_disk_free(struct bpf_disk *d);

/*
 * Watches these whole disks (user-space dev_t, as stat() and /sys/dev/block
 * give them), at most DISKLAT_MAX_DEVS; slot i is devs[i]. Starts a new
 * window for every slot. Returns 0 or -E2BIG.
 */
int bpf_disk_set_devices(struct bpf_disk *d, const dev_t *devs, size_t n);

/* Reads what slot completed since the previous read (or set_devices). */
int bpf_disk_read_window(struct bpf_disk *d, size_t slot, struct bpf_disk_window *ret);

/*
 * Returns the requests not timed since open because the kernel's request
 * map was full: requests to the watched disks only, all disks together.
 */
uint64_t bpf_disk_lost(const struct bpf_disk *d);

/* Returns the capacity of the kernel's request map, in requests in flight. */
uint32_t bpf_disk_capacity(const struct bpf_disk *d);

#endif
