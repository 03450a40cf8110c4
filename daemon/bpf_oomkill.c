/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/oomkill.skel.h"
#include "daemon/bpf_loader.h"
#include "daemon/bpf_oomkill.h"
#include "daemon/log.h"

#define MEMSW_V1_FILE "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"

struct bpf_oomkill {
	struct oomkill_bpf *skel;
	struct ring_buffer *ring;
	bpf_oomkill_event_fn fn;
	void *userdata;
};

static int configure(void *userdata, const struct btf *vmlinux, char *reason, size_t reason_len)
{
	struct bpf_oomkill *o = userdata;
	bool has_task;

	if (!bpf_loader_tracepoint_exists(vmlinux, "mark_victim")) {
		snprintf(reason, reason_len, "tracepoint oom/mark_victim not found");
		return -ENOENT;
	}
	has_task = bpf_loader_tracepoint_arg_is_struct(vmlinux, "mark_victim", 0, "task_struct");
	o->skel->rodata->mark_victim_has_task = has_task;
	bpf_program__set_autoload(o->skel->progs.mark_victim_task, has_task);
	bpf_program__set_autoload(o->skel->progs.mark_victim_pid, !has_task);
	if (!has_task)
		log_info("bpf: oomkill: mark_victim passes only the pid on this kernel; the victim's command comes from /dev/kmsg");
	/* NOTE: the memsw counter is checked only where the v1 hierarchy is
	 * mounted at its usual place. */
	o->skel->rodata->memsw_accounting = access(MEMSW_V1_FILE, F_OK) == 0;
	return 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct bpf_oomkill *o = ctx;

	if (size < sizeof(struct oomkill_event))
		return 0;
	o->fn(data, o->userdata);
	return 0;
}

int bpf_oomkill_open(struct bpf_oomkill **ret, bpf_oomkill_event_fn fn, void *userdata, char *reason,
		     size_t reason_len)
{
	struct bpf_oomkill *o;
	int r;

	o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(reason, reason_len, "out of memory");
		return -ENOMEM;
	}
	o->fn = fn;
	o->userdata = userdata;

	o->skel = oomkill_bpf__open();
	r = bpf_loader_load_skeleton(o->skel ? o->skel->skeleton : NULL, !o->skel, configure, o, reason,
				     reason_len);
	if (r < 0)
		goto err_out;

	o->ring = ring_buffer__new(bpf_map__fd(o->skel->maps.oom_events), on_sample, o, NULL);
	if (!o->ring) {
		r = -errno;
		snprintf(reason, reason_len, "creating the ring buffer reader failed: %s", strerror(-r));
		goto err_out;
	}
	*ret = o;
	return 0;

err_out:
	bpf_oomkill_free(o);
	return r;
}

void bpf_oomkill_free(struct bpf_oomkill *o)
{
	if (!o)
		return;
	ring_buffer__free(o->ring);
	if (o->skel)
		bpf_loader_forget(o->skel->obj);
	oomkill_bpf__destroy(o->skel);
	free(o);
}

int bpf_oomkill_fd(const struct bpf_oomkill *o)
{
	return ring_buffer__epoll_fd(o->ring);
}

int bpf_oomkill_consume(struct bpf_oomkill *o)
{
	return ring_buffer__consume(o->ring);
}

uint64_t bpf_oomkill_lost(const struct bpf_oomkill *o)
{
	return __atomic_load_n(&o->skel->bss->lost_events, __ATOMIC_RELAXED);
}
