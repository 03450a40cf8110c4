/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON views of the agent's state, in the Kubernetes style (camelCase keys,
 * RFC 3339 times), for the socket.
 */
#ifndef NODECOND_DAEMON_RENDER_H
#define NODECOND_DAEMON_RENDER_H

#include <cjson/cJSON.h>

#include "daemon/agent.h"

cJSON *render_conditions(const struct agent *a);
cJSON *render_signals(const struct agent *a);
cJSON *render_events(const struct agent *a);
cJSON *render_status(const struct agent *a);
cJSON *render_taints(const struct agent *a);

/* One recorded event, as /v1/events lists it and /v1/watch streams it. */
cJSON *render_event(const struct agent_event *ev);

/* One OOM kill or kubelet exit from the sampler, as /v1/events and /v1/record show it. */
struct sampler_event;
cJSON *render_kernel_event(const struct agent *a, const struct sampler_event *ev);

/* One signal's sample, as /v1/signals lists it and /v1/record streams it. */
cJSON *render_signal(const struct signal_sample *s);

/*
 * Adds an integer exactly: cJSON numbers are doubles, which lose integers
 * above 2^53 (a filesystem's byte count can get there).
 */
void render_add_int64(cJSON *o, const char *name, int64_t value);

/* One condition as the Kubernetes API writes it, plus nodecond's kind. */
cJSON *render_condition(enum condition_kind kind, const struct condition *c);

#endif
