/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/kube_reconciler.h"
#include "daemon/pod_json.h"
#include "daemon/render.h"
#include "daemon/timefmt.h"
#include "daemon/version.h"

void render_add_int64(cJSON *o, const char *name, int64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", (long long)value);
	cJSON_AddRawToObject(o, name, text);
}

static void add_time(cJSON *o, const char *name, int64_t ms)
{
	char t[TIMEFMT_RFC3339_MAX];

	if (ms <= 0) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	timefmt_rfc3339(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, name, t);
}

cJSON *render_condition(enum condition_kind kind, const struct condition *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", condition_kind_name(kind));
	cJSON_AddStringToObject(o, "type", c->type);
	cJSON_AddStringToObject(o, "status", condition_status_name(c->status));
	cJSON_AddStringToObject(o, "reason", c->reason);
	cJSON_AddStringToObject(o, "message", c->message);
	add_time(o, "lastHeartbeatTime", c->last_heartbeat_ms);
	add_time(o, "lastTransitionTime", c->last_transition_ms);
	return o;
}

static cJSON *conditions_array(const struct agent *a)
{
	cJSON *list = cJSON_CreateArray();

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition *c = condition_engine_get(&a->engine, (enum condition_kind)k);

		if (c)
			cJSON_AddItemToArray(list, render_condition((enum condition_kind)k, c));
	}
	return list;
}

cJSON *render_conditions(const struct agent *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "nodeName", a->cfg.node_name);
	cJSON_AddItemToObject(o, "conditions", conditions_array(a));
	return o;
}

cJSON *render_signal(const struct signal_sample *s)
{
	const struct signal_info *info = signal_info_get(s->id);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", info->name);
	cJSON_AddStringToObject(o, "unit", signal_unit_name(info->unit));
	cJSON_AddBoolToObject(o, "observed", s->observed);
	if (s->observed) {
		render_add_int64(o, "value", s->value);
		if (s->has_capacity)
			render_add_int64(o, "capacity", s->capacity);
		if (s->has_window_min)
			render_add_int64(o, "windowMin", s->window_min);
	}
	cJSON_AddStringToObject(o, "source", s->source);
	if (s->reason[0])
		cJSON_AddStringToObject(o, "reason", s->reason);
	if (s->detail[0])
		cJSON_AddStringToObject(o, "detail", s->detail);
	return o;
}

static cJSON *programs_array(const struct agent *a)
{
	struct sampler_program programs[SAMPLER_PROGRAMS_MAX];
	cJSON *list = cJSON_CreateArray();
	int n = a->sampler ? sampler_programs(a->sampler, programs, SAMPLER_PROGRAMS_MAX) : 0;

	for (int i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", programs[i].name);
		cJSON_AddBoolToObject(o, "loaded", programs[i].loaded);
		if (programs[i].reason[0])
			cJSON_AddStringToObject(o, "reason", programs[i].reason);
		cJSON_AddItemToArray(list, o);
	}
	return list;
}

cJSON *render_signals(const struct agent *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "signals");

	add_time(o, "sampleTime", a->last_sample_ms);
	if (a->ticks > 0)
		for (int i = 0; i < _SIGNAL_MAX; i++)
			cJSON_AddItemToArray(list, render_signal(&a->samples[i]));
	cJSON_AddItemToObject(o, "programs", programs_array(a));
	if (a->sampler)
		cJSON_AddItemToObject(o, "details", sampler_details_json(a->sampler));
	return o;
}

cJSON *render_event(const struct agent_event *ev)
{
	const struct condition_transition *t = &ev->transition;
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "type", "transition");
	add_time(e, "time", ev->time_ms);
	cJSON_AddStringToObject(e, "kind", condition_kind_name(t->kind));
	cJSON_AddStringToObject(e, "conditionType", t->condition.type);
	cJSON_AddStringToObject(e, "from", condition_status_name(t->from));
	cJSON_AddStringToObject(e, "to", condition_status_name(t->to));
	cJSON_AddStringToObject(e, "reason", t->condition.reason);
	cJSON_AddStringToObject(e, "message", t->condition.message);
	return e;
}

/* The agent's clock (see agent_now_ms()) at a CLOCK_MONOTONIC time. */
static int64_t mono_to_ms(const struct agent *a, uint64_t mono_ns)
{
	return a->wall_at_start_ms + ((int64_t)mono_ns - (int64_t)a->mono_at_start_ns) / 1000000;
}

cJSON *render_kernel_event(const struct agent *a, const struct sampler_event *ev)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "type", ev->type == SAMPLER_EVENT_OOM_KILL ? "oomKill" : "kubeletExit");
	add_time(e, "time", mono_to_ms(a, ev->mono_ns));
	cJSON_AddNumberToObject(e, "pid", ev->pid);
	cJSON_AddStringToObject(e, "command", ev->command);
	cJSON_AddStringToObject(e, "source", ev->source);
	if (ev->type == SAMPLER_EVENT_OOM_KILL) {
		cJSON_AddStringToObject(e, "scope", ev->cgroup_limit ? "cgroupLimit" : "system");
		cJSON_AddStringToObject(e, "classifiedBy", ev->classified_by);
		if (ev->cgroup_id)
			cJSON_AddNumberToObject(e, "cgroupId", (double)ev->cgroup_id);
		if (ev->cgroup[0])
			cJSON_AddStringToObject(e, "cgroup", ev->cgroup);
	} else {
		cJSON_AddNumberToObject(e, "exitStatus", ev->exit_code);
	}
	return e;
}

cJSON *render_events(const struct agent *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "events");
	struct sampler_event *kernel = NULL;
	uint64_t kernel_dropped = 0;
	int n_kernel = 0, k = 0;

	if (a->sampler) {
		kernel = malloc(SAMPLER_EVENTS_MAX * sizeof(*kernel));
		if (kernel)
			n_kernel = sampler_events(a->sampler, kernel, SAMPLER_EVENTS_MAX, &kernel_dropped);
	}
	/* Both lists are in time order: merge them. */
	for (unsigned i = 0; i < a->events_len; i++) {
		const struct agent_event *ev = &a->events[(a->events_head + i) % AGENT_EVENTS_MAX];

		for (; k < n_kernel && mono_to_ms(a, kernel[k].mono_ns) <= ev->time_ms; k++)
			cJSON_AddItemToArray(list, render_kernel_event(a, &kernel[k]));
		cJSON_AddItemToArray(list, render_event(ev));
	}
	for (; k < n_kernel; k++)
		cJSON_AddItemToArray(list, render_kernel_event(a, &kernel[k]));
	free(kernel);
	cJSON_AddNumberToObject(o, "dropped", (double)a->events_dropped);
	cJSON_AddNumberToObject(o, "kernelEventsDropped", (double)kernel_dropped);
	return o;
}

/* The API server connection, or null in local mode. */
static cJSON *api_server_status(const struct agent *a)
{
	struct kube_reconciler_status st;
	cJSON *o;

	if (!a->kube)
		return cJSON_CreateNull();
	kube_reconciler_get_status(a->kube, &st);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "server", st.server);
	cJSON_AddStringToObject(o, "credentials", st.credentials);
	cJSON_AddStringToObject(o, "leaseNamespace", st.lease_namespace);
	cJSON_AddBoolToObject(o, "reachable", st.reachable);
	cJSON_AddBoolToObject(o, "nodeFound", st.node_found);
	add_time(o, "lastSuccessTime", st.last_success_ms);
	add_time(o, "lastErrorTime", st.last_error_ms);
	if (st.last_error[0])
		cJSON_AddStringToObject(o, "lastError", st.last_error);
	else
		cJSON_AddNullToObject(o, "lastError");
	add_time(o, "lastStatusWriteTime", st.last_status_write_ms);
	add_time(o, "lastLeaseRenewTime", st.last_lease_renew_ms);
	cJSON_AddNumberToObject(o, "pendingWrites", st.pending_writes);
	cJSON_AddStringToObject(o, "taintsWriter", st.taints_by_agent ? "agent" : "controller");
	if (st.taints_error[0])
		cJSON_AddStringToObject(o, "taintsError", st.taints_error);
	cJSON_AddNumberToObject(o, "requests", (double)st.requests);
	return o;
}

cJSON *render_status(const struct agent *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *signals = render_signals(a);

	cJSON_AddStringToObject(o, "nodeName", a->cfg.node_name);
	cJSON_AddStringToObject(o, "mode", a->kube ? "cluster" : "local");
	cJSON_AddStringToObject(o, "version", NODECOND_VERSION);
	cJSON_AddStringToObject(o, "profile", a->cfg.profile);
	add_time(o, "startTime", a->start_ms);
	cJSON_AddBoolToObject(o, "ready", a->all_evaluated);
	cJSON_AddBoolToObject(o, "kubeletExpected", a->sampler && sampler_kubelet_expected(a->sampler));
	cJSON_AddItemToObject(o, "conditions", conditions_array(a));
	add_time(o, "sampleTime", a->last_sample_ms);
	cJSON_AddItemToObject(o, "signals", cJSON_DetachItemFromObject(signals, "signals"));
	cJSON_AddItemToObject(o, "programs", cJSON_DetachItemFromObject(signals, "programs"));
	cJSON_AddItemToObject(o, "apiServer", api_server_status(a));
	cJSON_Delete(signals);
	return o;
}

cJSON *render_taints(const struct agent *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "taints");

	cJSON_AddStringToObject(o, "nodeName", a->cfg.node_name);
	cJSON_AddStringToObject(o, "profile", a->cfg.profile);
	cJSON_AddStringToObject(o, "writer", a->cfg.taints_writer == TAINTS_WRITER_AGENT ? "agent" : "controller");
	for (size_t i = 0; i < a->n_taints; i++)
		cJSON_AddItemToArray(list, pod_json_taint(&a->taints[i]));
	return o;
}
