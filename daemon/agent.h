/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent: one thread, one epoll loop. Timers drive the tick; the socket
 * server and signals are file descriptors in the same loop.
 */
#ifndef NODECOND_DAEMON_AGENT_H
#define NODECOND_DAEMON_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "conditions/engine.h"
#include "conditions/signal.h"
#include "daemon/config.h"
#include "daemon/sampler.h"
#include "taints/planner.h"

/* Transitions kept for /v1/events and the CLI; older ones are dropped. */
#define AGENT_EVENTS_MAX 256

/* Room for the Node's own taints plus every taint nodecond can own. */
#define AGENT_TAINTS_MAX (64 + TAINT_PLAN_OWNED_MAX)

/*
 * How long a stop signal waits for a pending node status write. It stays
 * well inside Kubernetes' default 30 s grace period and systemd's 90 s stop
 * timeout.
 */
#define AGENT_STOP_FLUSH_MS 3000
#define AGENT_STOP_POLL_MS 20

struct agent_event {
	int64_t time_ms;
	struct condition_transition transition;
};

struct loop;
struct loop_source;
struct server;
struct kube_reconciler;
struct recorder;

struct agent {
	struct nodecond_config cfg;
	struct config_flags flags;
	bool disable_bpf;
	bool force_standard_profile;  /* run the standard profile beside a kubelet that posts status */

	struct condition_engine engine;
	struct sampler *sampler;
	struct server *server;
	struct server *metrics_server;  /* /metrics over TCP, when metrics.address is set */

	struct signal_sample samples[_SIGNAL_MAX];
	int64_t last_sample_ms;
	uint64_t ticks;
	bool all_evaluated;           /* every enabled kind had its first evaluation */

	/*
	 * The node's taints as nodecond wants them. In local mode only the
	 * owned ones; with an API server the Node's list with owned keys
	 * planned.
	 */
	struct taint taints[AGENT_TAINTS_MAX];
	size_t n_taints;

	struct agent_event events[AGENT_EVENTS_MAX];
	unsigned events_head;         /* index of the oldest event */
	unsigned events_len;
	uint64_t events_dropped;
	uint64_t events_total;
	uint64_t transitions_total[_CONDITION_KIND_MAX][_CONDITION_STATUS_MAX];   /* by kind and new status */        /* events ever recorded; the newest has number events_total - 1 */

	int64_t start_ms;
	int64_t wall_at_start_ms;
	uint64_t mono_at_start_ns;

	char notified_status[512];    /* the last STATUS= sent to systemd */

	struct loop *loop;
	struct loop_source *tick_source;
	int signal_fd;

	/* Set when a stop signal came while a status write was pending. The agent stops once it is written. */
	bool stopping;
	uint64_t stop_deadline_ns;    /* time on CLOCK_MONOTONIC when the agent stops, written or not */
	struct loop_source *stop_timer;

	/* Each tick's samples for --record FILE and GET /v1/record. */
	struct recorder *recorder;

	/* The API server connection; NULL in local mode. */
	struct kube_reconciler *kube;
	bool kube_adopted;            /* the Node's conditions (or the state file's) were adopted */
};

/* Parses the flags of `nodecond run` and runs the agent until SIGTERM; returns the exit code. */
int agent_main(int argc, char **argv);

/*
 * Returns the event with number seq (counted from 0 since start), or NULL
 * when it is not recorded yet or was dropped from the ring.
 */
const struct agent_event *agent_event_get(const struct agent *a, uint64_t seq);

/*
 * Returns the agent's clock in milliseconds since the Unix epoch: the wall
 * time at start plus the monotonic time since, so it never jumps.
 */
int64_t agent_now_ms(const struct agent *a);

#endif
