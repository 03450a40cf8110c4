/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OOM kill reports from the kernel log (/dev/kmsg): the fallback source of
 * memory.oomKills, and the classifier that confirms the BPF events.
 *
 * The OOM killer prints, for every victim and without rate limit,
 * "Out of memory: Killed process PID (COMM) ..." for a system-wide kill
 * ("Out of memory (oom_kill_allocating_task): ..." with that sysctl set) or
 * "Memory cgroup out of memory: Killed process PID (COMM) ..." for a kill at
 * a cgroup's limit. The rate-limited report before it has
 * "oom-kill:constraint=CONSTRAINT_...,...,task=COMM,pid=PID,uid=UID".
 */
#ifndef NODECOND_DAEMON_KMSG_H
#define NODECOND_DAEMON_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KMSG_COMM_MAX 64

enum kmsg_oom_scope {
	KMSG_OOM_SYSTEM = 1,	/* no constraint, or a cpuset or memory policy constraint */
	KMSG_OOM_CGROUP = 2,	/* CONSTRAINT_MEMCG */
};

enum kmsg_oom_line {
	KMSG_OOM_KILLED = 1,	/* "...: Killed process PID (COMM)" */
	KMSG_OOM_CONSTRAINT = 2,	/* "oom-kill:constraint=..." */
};

struct kmsg_oom {
	enum kmsg_oom_line line;
	enum kmsg_oom_scope scope;
	pid_t pid;
	char comm[KMSG_COMM_MAX];
	char constraint[32];	/* CONSTRAINT_NONE, ...; "" for KMSG_OOM_KILLED */
};

/*
 * Parses one /dev/kmsg record ("PRI,SEQ,USEC,FLAGS;MESSAGE", continuation
 * lines after it) or a bare message. Returns 0 for an OOM line, -ENOENT for
 * any other record, -EINVAL for an OOM line that cannot be read.
 */
int kmsg_parse_oom(const char *record, struct kmsg_oom *ret);

/*
 * Opens /dev/kmsg non-blocking at its end, so only records written from now
 * on are read. Returns the descriptor or -errno (-EPERM without CAP_SYSLOG
 * when kernel.dmesg_restrict is 1).
 */
int kmsg_open(void);

typedef void (*kmsg_oom_fn)(const struct kmsg_oom *oom, void *userdata);

/*
 * Reads every record waiting on fd and calls fn for each OOM line. Returns
 * 0 when all were read, or -errno. Records the kernel overwrote before they
 * were read are counted in *lost.
 */
int kmsg_read_oom(int fd, kmsg_oom_fn fn, void *userdata, uint64_t *lost);

#endif
