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
};

/* Loads and attaches the programs. Returns 0, or a negative errno with a one-line reason. */
int bpf_disk_open(struct bpf_disk **ret, char *reason, size_t reason_len);

void bpf_disk_free(struct bpf_disk *d);

/*
 * Watches these whole disks (user-space dev_t, as stat() and /sys/dev/block
 * give them), at most DISKLAT_MAX_DEVS; slot i is devs[i]. Starts a new
 * window for every slot. Returns 0 or -E2BIG.
 */
int bpf_disk_set_devices(struct bpf_disk *d, const dev_t *devs, size_t n);

/* Reads what slot completed since the previous read (or set_devices). */
int bpf_disk_read_window(struct bpf_disk *d, size_t slot, struct bpf_disk_window *ret);

/* Issues not timed because the kernel's request map was full, since open. */
uint64_t bpf_disk_lost(const struct bpf_disk *d);

#endif
