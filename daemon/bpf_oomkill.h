/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OOM kills from the oom:mark_victim tracepoint (bpf/oomkill.bpf.c), one
 * ring-buffer event per victim, with a first guess at whether the kill was
 * system-wide or at a memory cgroup's limit (see struct oomkill_event).
 */
#ifndef NODECOND_DAEMON_BPF_OOMKILL_H
#define NODECOND_DAEMON_BPF_OOMKILL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/oomkill.h"

struct bpf_oomkill;

typedef void (*bpf_oomkill_event_fn)(const struct oomkill_event *e, void *userdata);

/*
 * Loads and attaches the program. fn is called from bpf_oomkill_consume()
 * for every event. Returns 0, or a negative errno with a one-line reason.
 */
int bpf_oomkill_open(struct bpf_oomkill **ret, bpf_oomkill_event_fn fn, void *userdata, char *reason,
		     size_t reason_len);

void bpf_oomkill_free(struct bpf_oomkill *o);

/* A descriptor that becomes readable when events wait; for the event loop. */
int bpf_oomkill_fd(const struct bpf_oomkill *o);

/* Calls the event function for every waiting event; returns how many, or -errno. */
int bpf_oomkill_consume(struct bpf_oomkill *o);

/* Events lost because the ring buffer was full, since open. */
uint64_t bpf_oomkill_lost(const struct bpf_oomkill *o);

#endif
