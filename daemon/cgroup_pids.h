/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pid.cgroupForkFailures: forks refused by a cgroup's pids.max, read from
 * the "max" line of pids.events in every cgroup of the pids hierarchy
 * (cgroup v1 "pids" hierarchy or cgroup v2). Shown per cgroup, never node
 * pressure, because a pod hitting its own PID limit is no sign of a node
 * running out of PIDs.
 */
#ifndef NODECOND_DAEMON_CGROUP_PIDS_H
#define NODECOND_DAEMON_CGROUP_PIDS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_PIDS_LIST_MAX 64
#define CGROUP_PIDS_SCAN_MAX 8192	/* directories walked per scan */

struct cgroup_pids_entry {
	char path[256];		/* relative to the hierarchy's root, "/" for the root */
	uint64_t failures;	/* the "max" count of pids.events */
	uint64_t new_failures;	/* since the previous scan; 0 at the first */
};

struct cgroup_pids;

/* Remembers the hierarchy mounted at root ("/sys/fs/cgroup/pids"). */
int cgroup_pids_new(struct cgroup_pids **ret, const char *root);

void cgroup_pids_free(struct cgroup_pids *p);

const char *cgroup_pids_root(const struct cgroup_pids *p);

/*
 * Walks the hierarchy and lists the cgroups with a non-zero failure count,
 * at most CGROUP_PIDS_LIST_MAX, those with new failures first. Cgroups
 * removed since the previous scan are forgotten. Returns the number listed,
 * or -errno when the root cannot be read. *ret_new_total is the sum of
 * new_failures over every cgroup walked.
 */
int cgroup_pids_scan(struct cgroup_pids *p, struct cgroup_pids_entry *list, uint64_t *ret_new_total);

#endif
