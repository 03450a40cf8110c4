/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Free space and inodes of the filesystem that holds a path. A path that
 * does not exist (no /var/lib/kubelet on a bare-metal host) is measured on
 * the filesystem that would hold it: its nearest existing ancestor.
 */
#ifndef NODECOND_DAEMON_FS_USAGE_H
#define NODECOND_DAEMON_FS_USAGE_H

#include <limits.h>
#include <stdint.h>

struct fs_usage {
	int64_t bytes_available;   /* for unprivileged users, as df shows */
	int64_t bytes_capacity;
	int64_t inodes_free;
	int64_t inodes_capacity;   /* 0 on filesystems without inode counts */
	char measured_path[PATH_MAX];   /* the existing path that was measured */
	char mount_point[PATH_MAX];     /* the mount holding it, "" if unknown */
};

/* Measures the filesystem holding path. Returns 0 or -errno. */
int fs_usage_measure(const char *path, struct fs_usage *ret);

/*
 * Returns the mount point in mountinfo text that holds path (longest
 * matching prefix), copied into buf; -ENOENT when none matches.
 */
int fs_usage_find_mount(const char *mountinfo, const char *path, char *buf, size_t len);

#endif
