/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent reconciler: keeps the agent's own Node in the API server in
 * line with the condition engine. It writes the owned conditions by
 * strategic merge patch (changes within a second, otherwise once per
 * heartbeat period), renews the agent's Lease, watches the Node to repair
 * owned conditions someone else changed, posts one Event per transition,
 * and with taints.writer=agent writes the owned taints by JSON patch.
 * Everything runs on the agent's loop; no call blocks.
 */
#ifndef NODECOND_DAEMON_KUBE_RECONCILER_H
#define NODECOND_DAEMON_KUBE_RECONCILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conditions/engine.h"
#include "daemon/kube_config.h"
#include "taints/profile.h"

/* A change is written this long after it is seen, so one tick's transitions share a write. */
#define KUBE_STATUS_COALESCE_MS 100
/* Status writes start at least this far apart; bursts in between share the next write. */
#define KUBE_STATUS_MIN_INTERVAL_MS 1000
/* Events of the same reason within this window are aggregated into one by count. */
#define KUBE_EVENT_AGGREGATE_MS (10 * 60 * 1000)
#define KUBE_EVENTS_PENDING_MAX 16
/* How long the agent waits for the Node at start before evaluating without adopting it. */
#define KUBE_ADOPTION_WAIT_MS 10000

struct loop;
struct kube_reconciler;

struct kube_reconciler_options {
	const char *node_name;
	int64_t heartbeat_period_ms;
	int64_t lease_duration_ms;      /* renewed every quarter of it: 10 s for 40 s */
	int64_t min_resync_period_ms;
	bool write_taints;              /* taints.writer: agent */
	const struct taint_profile *profile;
};

/*
 * Creates the reconciler and starts reading the Node. creds is moved into
 * the reconciler (the caller's copy is cleared). Returns 0 or -errno.
 */
int kube_reconciler_new(struct kube_reconciler **ret, struct loop *l, struct kube_credentials *creds,
			const struct kube_reconciler_options *opts);

/* Applies a reloaded configuration; node name and credentials stay. */
void kube_reconciler_reconfigure(struct kube_reconciler *r, const struct kube_reconciler_options *opts);

void kube_reconciler_free(struct kube_reconciler *r);

enum kube_adoption {
	KUBE_ADOPTION_PENDING,          /* the Node has not been read yet */
	KUBE_ADOPTION_FROM_NODE,        /* the Node was read; its owned conditions are available */
	KUBE_ADOPTION_NO_NODE,          /* the Node is not registered */
};

/* Returns the adoption state; with FROM_NODE, *ret and *n are the Node's owned conditions. */
enum kube_adoption kube_reconciler_adoption(const struct kube_reconciler *r, const struct condition **ret,
					    size_t *n);

/*
 * Gives the current conditions after a tick, indexed by enum condition_kind
 * (NULL before a kind's first evaluation). Cheap when nothing changed.
 */
void kube_reconciler_update(struct kube_reconciler *r, const struct condition *const conditions[_CONDITION_KIND_MAX]);

/* Records a transition for an Event. */
void kube_reconciler_transition(struct kube_reconciler *r, const struct condition_transition *t, int64_t now_ms);

/* The state of the status write, as kube_reconciler_flush_status() reports it. */
enum kube_flush {
	KUBE_FLUSH_DONE,        /* no status write is pending */
	KUBE_FLUSH_PENDING,     /* a status write is pending or in flight */
	KUBE_FLUSH_NO_NODE,     /* a write is pending, but the Node is not read or not registered */
	KUBE_FLUSH_REJECTED,    /* the API server rejected the write with a status that a retry will not change */
	KUBE_FLUSH_DEFERRED,    /* the API server asked, with Retry-After, for a wait longer than the caller's */
};

/*
 * Starts the pending status write at once, for a shutdown in which the
 * caller waits at most wait_ms. The first call skips the coalescing delay,
 * the minimum interval and the backoff of a retry, unless the server asked
 * for the wait with Retry-After. Later calls only report, so a caller that
 * polls does not hammer a failing server. With NO_NODE, REJECTED and
 * DEFERRED, why describes what happened.
 */
enum kube_flush kube_reconciler_flush_status(struct kube_reconciler *r, int64_t wait_ms, char *why,
					     size_t why_len);

/* Whether the last request reached the API server (any HTTP status). */
bool kube_reconciler_reachable(const struct kube_reconciler *r);

/* The connection's state for the socket's /v1/status. */
struct kube_reconciler_status {
	const char *server;
	const char *credentials;        /* "kubeconfig PATH" or "in-cluster" */
	const char *lease_namespace;
	bool node_found;
	bool reachable;
	int64_t last_success_ms;        /* 0: never */
	int64_t last_error_ms;
	char last_error[512];
	int64_t last_status_write_ms;
	int64_t last_lease_renew_ms;
	unsigned pending_writes;        /* status, taints and events waiting to be written */
	bool taints_by_agent;
	char taints_error[256];         /* why the agent cannot write taints (403), or "" */
	uint64_t requests;
};

void kube_reconciler_get_status(const struct kube_reconciler *r, struct kube_reconciler_status *ret);

/* Returns the HTTP client, for its request counts. */
const struct kube_client *kube_reconciler_client(const struct kube_reconciler *r);

#endif
