/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers for the kernel's text files. Each parser takes the text, so tests
 * feed it fixtures; procfs_read_file() does the reading.
 */
#ifndef NODECOND_DAEMON_PROCFS_H
#define NODECOND_DAEMON_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads a whole small file into buf and terminates it; returns bytes or -errno. */
ssize_t procfs_read_file(const char *path, char *buf, size_t len);

/* Reads a file holding one decimal integer; returns 0 or -errno. */
int procfs_read_int64(const char *path, int64_t *ret);

/* Fields of /proc/meminfo, in bytes; has_* says whether the line was there. */
struct meminfo {
	int64_t mem_total;
	int64_t mem_free;
	int64_t mem_available;
	int64_t inactive_file;
	bool has_mem_total;
	bool has_mem_free;
	bool has_mem_available;
	bool has_inactive_file;
};

int procfs_parse_meminfo(const char *text, struct meminfo *ret);

/* Returns the value of "key N" in a cgroup v1 memory.stat; -ENOENT if absent. */
int procfs_parse_keyed_int64(const char *text, const char *key, int64_t *ret);

/* Parses "total=N" of the "some" line of a /proc/pressure file (microseconds). */
int procfs_parse_psi_some_total(const char *text, uint64_t *ret_us);

/* Parses the task count ("running/total" fourth field) of /proc/loadavg. */
int procfs_parse_loadavg_tasks(const char *text, int64_t *ret);

/*
 * Finds in /proc/self/mountinfo text the mount point of the cgroup v1
 * hierarchy with controller (for example "memory"), or of the cgroup2
 * hierarchy when controller is NULL. Returns 0, or -ENOENT with buf "".
 */
int procfs_find_cgroup_mount(const char *mountinfo, const char *controller, char *buf, size_t len);

#endif
