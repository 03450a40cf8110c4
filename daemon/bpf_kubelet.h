/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kubelet process exiting (bpf/kubelet.bpf.c): one ring-buffer event
 * when the last thread of a watched process exits. A process is watched when
 * it executes the configured kubelet binary, compared by device and inode,
 * or when bpf_kubelet_watch_pid() adds it.
 */
#ifndef NODECOND_DAEMON_BPF_KUBELET_H
#define NODECOND_DAEMON_BPF_KUBELET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "bpf/kubelet.h"

struct bpf_kubelet;

typedef void (*bpf_kubelet_exit_fn)(const struct kubelet_exit_event *e, void *userdata);

/* Loads and attaches the programs. Returns 0, or a negative errno with a one-line reason. */
int bpf_kubelet_open(struct bpf_kubelet **ret, bpf_kubelet_exit_fn fn, void *userdata, char *reason,
		     size_t reason_len);

void bpf_kubelet_free(struct bpf_kubelet *k);

/*
 * Watches processes that execute path from now on. Returns 0, or -errno from
 * stat(); a missing file watches nothing by exec until called again.
 * NOTE: the kernel compares the superblock's device, which differs from
 * stat()'s st_dev on btrfs subvolumes; there only bpf_kubelet_watch_pid() works.
 */
int bpf_kubelet_set_executable(struct bpf_kubelet *k, const char *path);

/* Watches a running process, found by its /proc/PID/exe; -ENOSPC when KUBELET_MAX_PROCESSES are watched. */
int bpf_kubelet_watch_pid(struct bpf_kubelet *k, pid_t pid);

int bpf_kubelet_fd(const struct bpf_kubelet *k);
int bpf_kubelet_consume(struct bpf_kubelet *k);

#endif
