/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block devices behind a path, and /proc/diskstats: the fallback source of
 * disk.latency when BPF is unavailable.
 */
#ifndef NODECOND_DAEMON_DISKSTATS_H
#define NODECOND_DAEMON_DISKSTATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Cumulative counters of one device; times in ms. */
struct diskstats {
	uint64_t ios;		/* reads, writes, discards and flushes completed */
	uint64_t io_ms;		/* time those requests took, summed over requests */
};

/*
 * Finds the line of device major:minor in /proc/diskstats text and sums
 * its reads, writes, discards (Linux 4.18) and flushes (Linux 5.5). Returns
 * 0, -ENOENT when the device is not listed, -EINVAL for a malformed line.
 */
int diskstats_parse(const char *text, unsigned major, unsigned minor, struct diskstats *ret);

/*
 * Finds the whole disks that hold the filesystem of path: a partition maps
 * to its disk, and a device-mapper or md device to the disks below it
 * (/sys/dev/block/M:m/slaves, recursively). Writes up to max devices to ret
 * and their names ("vda") to names when it is not NULL. Returns how many,
 * 0 when the filesystem has no block device (tmpfs, overlay, NFS), or -errno.
 */
int diskstats_disks_of_path(const char *path, dev_t *ret, char (*names)[32], size_t max);

/*
 * Same as diskstats_disks_of_path() for a device number. sysfs_root is
 * "/sys" except in tests.
 */
int diskstats_disks_of_dev(const char *sysfs_root, dev_t dev, dev_t *ret, char (*names)[32], size_t max);

#endif
