/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fork and exit counts and the peak live-task count per window, from the
 * sched_process_fork, sched_process_exit and sched_process_free tracepoints
 * (bpf/pidmon.bpf.c), for pid.available and its in-window minimum.
 *
 * The kernel side keeps a task count relative to attach (live_delta) and its
 * maximum since the last window. User space anchors it to the absolute count:
 * read the task count from /proc/loadavg (the number after '/'), then call
 * bpf_pid_read_window() at once, and take bpf_pid_peak_tasks().
 */
#ifndef NODECOND_DAEMON_BPF_PID_H
#define NODECOND_DAEMON_BPF_PID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_pid;

/* One window: from the previous bpf_pid_read_window() (or open) to this one. */
struct bpf_pid_window {
	uint64_t forks;		/* tasks (processes and threads) created in the window */
	uint64_t exits;		/* tasks that entered do_exit() in the window */
	uint64_t frees;		/* tasks freed in the window */
	int64_t current_delta;	/* tasks created minus tasks freed since open, at the read */
	int64_t peak_delta;	/* max of current_delta inside the window */
};

/* Counts for tasks whose parent process is the watched one; see bpf_pid_watch_parent(). */
struct bpf_pid_counts {
	uint64_t forks;
	uint64_t exits;
	uint64_t frees;
};

/*
 * Loads and attaches the programs. Returns 0, or a negative errno with a
 * one-line reason in reason; the caller logs it and falls back to the task
 * count in /proc/loadavg.
 */
int bpf_pid_open(struct bpf_pid **ret, char *reason, size_t reason_len);

void bpf_pid_free(struct bpf_pid *p);

/*
 * Reads the counters and the peak of the window that ends now, and starts
 * the next window at the current count. The first window starts at open.
 */
int bpf_pid_read_window(struct bpf_pid *p, struct bpf_pid_window *ret);

/*
 * Returns the peak absolute task count inside window w, given the task
 * count tasks_now read from /proc/loadavg just before the window was read.
 * Never less than tasks_now.
 */
uint64_t bpf_pid_peak_tasks(const struct bpf_pid_window *w, uint64_t tasks_now);

/*
 * False on kernels without BPF atomic fetch and cmpxchg (before Linux 5.12),
 * where concurrent forks on several CPUs can leave the peak a few tasks low.
 */
bool bpf_pid_peak_is_exact(const struct bpf_pid *p);

/*
 * Counts, apart from the totals, the tasks whose parent process is tgid
 * (0 stops), and resets those counts. Threads take their creator's parent,
 * so only child processes of tgid are counted. Used by tests to check exact
 * counts on a busy node.
 */
void bpf_pid_watch_parent(struct bpf_pid *p, pid_t tgid);

/* Reads the counts since the last bpf_pid_watch_parent(). */
void bpf_pid_read_watched(const struct bpf_pid *p, struct bpf_pid_counts *ret);

#endif
