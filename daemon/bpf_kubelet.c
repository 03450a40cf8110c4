/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/kubelet.skel.h"
#include "daemon/bpf_kubelet.h"
#include "daemon/bpf_loader.h"

struct bpf_kubelet {
	struct kubelet_bpf *skel;
	struct ring_buffer *ring;
	bpf_kubelet_exit_fn fn;
	void *userdata;
};

static int configure(void *userdata, const struct btf *vmlinux, char *reason, size_t reason_len)
{
	if (!bpf_loader_tracepoint_exists(vmlinux, "sched_process_exit")) {
		snprintf(reason, reason_len, "tracepoint sched/sched_process_exit not found");
		return -ENOENT;
	}
	if (!bpf_loader_tracepoint_exists(vmlinux, "sched_process_exec")) {
		snprintf(reason, reason_len, "tracepoint sched/sched_process_exec not found");
		return -ENOENT;
	}
	return 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct bpf_kubelet *k = ctx;

	if (size >= sizeof(struct kubelet_exit_event))
		k->fn(data, k->userdata);
	return 0;
}

int bpf_kubelet_open(struct bpf_kubelet **ret, bpf_kubelet_exit_fn fn, void *userdata, char *reason,
		     size_t reason_len)
{
	struct bpf_kubelet *k;
	int r;

	k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(reason, reason_len, "out of memory");
		return -ENOMEM;
	}
	k->fn = fn;
	k->userdata = userdata;

	k->skel = kubelet_bpf__open();
	r = bpf_loader_load_skeleton(k->skel ? k->skel->skeleton : NULL, !k->skel, configure, k, reason,
				     reason_len);
	if (r < 0)
		goto err_out;
	k->ring = ring_buffer__new(bpf_map__fd(k->skel->maps.kubelet_events), on_sample, k, NULL);
	if (!k->ring) {
		r = -errno;
		snprintf(reason, reason_len, "creating the ring buffer reader failed: %s", strerror(-r));
		goto err_out;
	}
	*ret = k;
	return 0;

err_out:
	bpf_kubelet_free(k);
	return r;
}

void bpf_kubelet_free(struct bpf_kubelet *k)
{
	if (!k)
		return;
	ring_buffer__free(k->ring);
	if (k->skel)
		bpf_loader_forget(k->skel->obj);
	kubelet_bpf__destroy(k->skel);
	free(k);
}

int bpf_kubelet_set_executable(struct bpf_kubelet *k, const char *path)
{
	struct kubelet_bpf__bss *bss = k->skel->bss;
	struct stat st;

	if (!path[0] || stat(path, &st) < 0) {
		int r = path[0] ? -errno : -ENOENT;

		__atomic_store_n(&bss->exe_ino, 0, __ATOMIC_SEQ_CST);
		return r;
	}
	/* The kernel's internal dev_t: 12 bits of major above 20 bits of minor. */
	__atomic_store_n(&bss->exe_dev, (major(st.st_dev) << 20) | minor(st.st_dev), __ATOMIC_SEQ_CST);
	__atomic_store_n(&bss->exe_ino, (__u64)st.st_ino, __ATOMIC_SEQ_CST);
	return 0;
}

int bpf_kubelet_watch_pid(struct bpf_kubelet *k, pid_t pid)
{
	__u32 *pids = k->skel->bss->kubelet_pids;
	int free_slot = -1;

	for (int i = 0; i < KUBELET_MAX_PROCESSES; i++) {
		__u32 cur = __atomic_load_n(&pids[i], __ATOMIC_RELAXED);

		if (cur == (__u32)pid)
			return 0;
		if (cur == 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	__atomic_store_n(&pids[free_slot], (__u32)pid, __ATOMIC_SEQ_CST);
	return 0;
}

int bpf_kubelet_fd(const struct bpf_kubelet *k)
{
	return ring_buffer__epoll_fd(k->ring);
}

int bpf_kubelet_consume(struct bpf_kubelet *k)
{
	return ring_buffer__consume(k->ring);
}
