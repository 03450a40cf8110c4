/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sampler: one struct signal_sample per signal every tick, from the BPF
 * programs where they loaded and from the fallbacks otherwise.
 */
#ifndef NODECOND_DAEMON_SAMPLER_H
#define NODECOND_DAEMON_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "conditions/signal.h"
#include "daemon/config.h"

#define SAMPLER_PROGRAMS_MAX 16

/* The state of one BPF sampler object, for `nodecond version` and /v1/signals. */
struct sampler_program {
	const char *name;             /* "memstall", "pid" */
	bool loaded;
	char reason[SIGNAL_REASON_MAX];   /* why it is disabled, or "" */
};

struct sampler;
struct loop;
struct cJSON;

struct sampler_options {
	bool disable_bpf;             /* use the fallbacks only */
	bool api_server_configured;
	const char *proc_net_dir;     /* fallback network counters; NULL: /proc/net */
	uint32_t disk_max_requests;   /* capacity of disklat's request map; 0: DISKLAT_MAX_REQUESTS */
	int64_t disk_warning_interval_ms; /* minimum interval between untimed-request warnings; 0: 10 minutes */
};

/* Kernel events kept for /v1/events; older ones are dropped and counted. */
#define SAMPLER_EVENTS_MAX 256

enum sampler_event_type {
	SAMPLER_EVENT_OOM_KILL,
	SAMPLER_EVENT_KUBELET_EXIT,
};

/* One discrete kernel event. */
struct sampler_event {
	enum sampler_event_type type;
	uint64_t mono_ns;             /* CLOCK_MONOTONIC when the agent received it */
	int pid;                      /* the victim, or the kubelet process */
	char command[64];
	char source[16];              /* "bpf" or "kmsg" */
	/* OOM kills */
	bool cgroup_limit;            /* at a memory cgroup's limit, not system-wide */
	char classified_by[16];       /* "kmsg" (the kernel's own report) or "bpf" (limit check) */
	uint64_t cgroup_id;           /* the victim's memory cgroup, 0 when unknown */
	char cgroup[256];             /* its path in the memory hierarchy, "" when unknown */
	/* kubelet exits */
	int exit_code;                /* wait() status */
};

/* Called when a discrete kernel event requests an immediate re-evaluation. */
typedef void (*sampler_wake_fn)(void *userdata);

/* Opens the samplers; BPF failures are logged and never fatal. */
int sampler_new(struct sampler **ret, const struct nodecond_config *cfg, const struct sampler_options *opts);

/*
 * Registers the ring buffers, /dev/kmsg and the kubelet probe with the
 * event loop. wake is called after an OOM kill or a kubelet exit was
 * classified or probed, so the agent re-evaluates at once. Without this,
 * kernel events are read at each tick and kubelet.healthy has no value.
 */
int sampler_attach_loop(struct sampler *s, struct loop *l, sampler_wake_fn wake, void *userdata);

/* Points the sampler at a new configuration after a reload. */
void sampler_reconfigure(struct sampler *s, const struct nodecond_config *cfg);

/*
 * Takes one sample of every signal. out has _SIGNAL_MAX entries, indexed by
 * enum signal_id. now_ns is CLOCK_MONOTONIC.
 */
void sampler_collect(struct sampler *s, uint64_t now_ns, struct signal_sample *out);

/*
 * Sets *ret to the block requests to the watched disks that disklat could
 * not time since the agent started, because more requests were in flight
 * than its map has entries. Returns false when disklat is not loaded.
 */
bool sampler_disk_untimed_requests(const struct sampler *s, uint64_t *ret);

/* Whether a kubelet is expected on this host, as last determined. */
bool sampler_kubelet_expected(const struct sampler *s);

/* Lists the BPF sampler objects and their state; returns how many. */
int sampler_programs(const struct sampler *s, struct sampler_program *out, int max);

/*
 * Copies the kernel events, oldest first, into out (up to max). Returns how
 * many; *ret_dropped counts those let go when the buffer was full.
 */
int sampler_events(const struct sampler *s, struct sampler_event *out, int max, uint64_t *ret_dropped);

/*
 * Returns the per-cgroup and per-reason views behind the signals, which are
 * shown but never node pressure: memory.cgroupStall, pid.cgroupForkFailures,
 * drops by reason, the watched disks, each signal's source and why. The
 * caller owns the object.
 */
struct cJSON *sampler_details_json(const struct sampler *s);

void sampler_free(struct sampler *s);

#endif
