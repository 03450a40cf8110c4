// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conditions/condition.h"
#include "conditions/engine.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MI (1024LL * 1024)
#define GI (1024LL * MI)
#define SECOND 1000LL
#define MINUTE (60 * SECOND)

/* An arbitrary start, far from zero like a real clock. */
#define T0 1700000000000LL

static const struct readiness_context kubelet_node = { .kubelet_expected = true,
						       .samplers_running = true };

/* A node with every default threshold far from being met. */
static void samples_healthy(struct signal_sample s[_SIGNAL_MAX])
{
	static const struct {
		int64_t value;
		int64_t capacity; /* 0: the signal has none */
	} healthy[_SIGNAL_MAX] = {
		[SIGNAL_MEMORY_AVAILABLE] = { 8 * GI, 16 * GI },
		[SIGNAL_MEMORY_STALL] = { 0, 0 },
		[SIGNAL_MEMORY_OOM_KILLS] = { 0, 0 },
		[SIGNAL_NODEFS_AVAILABLE] = { 50 * GI, 100 * GI },
		[SIGNAL_NODEFS_INODES_FREE] = { 1000000, 2000000 },
		[SIGNAL_IMAGEFS_AVAILABLE] = { 50 * GI, 100 * GI },
		[SIGNAL_IMAGEFS_INODES_FREE] = { 1000000, 2000000 },
		[SIGNAL_DISK_LATENCY] = { 5, 0 },
		[SIGNAL_DISK_ERRORS] = { 0, 0 },
		[SIGNAL_PID_AVAILABLE] = { 4000000, 4194304 },
		[SIGNAL_NET_DROPS] = { 0, 0 },
		[SIGNAL_NET_RETRANSMITS] = { 0, 0 },
		[SIGNAL_NET_ROUTE_LINKS] = { 1, 0 },
		[SIGNAL_NET_DEFAULT_ROUTE] = { 1, 0 },
		[SIGNAL_KUBELET_HEALTHY] = { 1, 0 },
		[SIGNAL_RUNTIME_HEALTHY] = { 1, 0 },
		[SIGNAL_APISERVER_REACHABLE] = { 1, 0 },
	};

	memset(s, 0, sizeof(*s) * _SIGNAL_MAX);
	for (int i = 0; i < _SIGNAL_MAX; i++) {
		s[i].id = (enum signal_id)i;
		signal_sample_set(&s[i], "test", healthy[i].value);
		s[i].has_capacity = signal_info_get(i)->has_capacity;
		s[i].capacity = healthy[i].capacity;
	}
}

struct fixture {
	struct engine_config cfg;
	struct condition_engine engine;
	struct signal_sample samples[_SIGNAL_MAX];
	struct condition_transition transitions[_CONDITION_KIND_MAX];
	size_t n_transitions;
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	engine_config_init_defaults(&f->cfg);
	condition_engine_init(&f->engine, &f->cfg);
	samples_healthy(f->samples);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	free(*state);
	return 0;
}

static size_t tick_with(struct fixture *f, const struct readiness_context *ready, int64_t now_ms)
{
	f->n_transitions = condition_engine_update(&f->engine, f->samples, ready, now_ms,
						   f->transitions, ARRAY_SIZE(f->transitions));
	return f->n_transitions;
}

static size_t tick(struct fixture *f, int64_t now_ms)
{
	return tick_with(f, &kubelet_node, now_ms);
}

/* Returns the transition of a kind in the last tick, or NULL. */
static const struct condition_transition *transition_of(const struct fixture *f,
							enum condition_kind kind)
{
	for (size_t i = 0; i < f->n_transitions && i < ARRAY_SIZE(f->transitions); i++)
		if (f->transitions[i].kind == kind)
			return &f->transitions[i];
	return NULL;
}

static enum condition_status status_of(const struct fixture *f, enum condition_kind kind)
{
	const struct condition *c = condition_engine_get(&f->engine, kind);

	assert_non_null(c);
	return c->status;
}

static const char *reason_of(const struct fixture *f, enum condition_kind kind)
{
	const struct condition *c = condition_engine_get(&f->engine, kind);

	assert_non_null(c);
	return c->reason;
}

static const char *message_of(const struct fixture *f, enum condition_kind kind)
{
	const struct condition *c = condition_engine_get(&f->engine, kind);

	assert_non_null(c);
	return c->message;
}

static void set_value(struct fixture *f, enum signal_id id, int64_t value)
{
	signal_sample_set(&f->samples[id], "test", value);
}

/* Names */

static void condition_kind_names(void **state)
{
	static const char *const names[_CONDITION_KIND_MAX] = {
		"MemoryPressure",     "DiskPressure", "PIDPressure",
		"NetworkUnavailable", "NotReady",     "Unreachable",
	};

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		assert_string_equal(condition_kind_name(k), names[k]);
		assert_int_equal(condition_kind_from_name(names[k]), k);
	}
	assert_null(condition_kind_name(_CONDITION_KIND_MAX));
	assert_null(condition_kind_name(_CONDITION_KIND_INVALID));
	assert_int_equal(condition_kind_from_name("Ready"), _CONDITION_KIND_INVALID);
	assert_int_equal(condition_kind_from_name(NULL), _CONDITION_KIND_INVALID);
}

static void condition_status_names(void **state)
{
	enum condition_status status = CONDITION_STATUS_UNKNOWN;

	assert_string_equal(condition_status_name(CONDITION_STATUS_TRUE), "True");
	assert_string_equal(condition_status_name(CONDITION_STATUS_FALSE), "False");
	assert_string_equal(condition_status_name(CONDITION_STATUS_UNKNOWN), "Unknown");
	assert_string_equal(condition_status_name(_CONDITION_STATUS_MAX), "Unknown");

	assert_int_equal(condition_status_from_name("True", &status), 0);
	assert_int_equal(status, CONDITION_STATUS_TRUE);
	assert_int_equal(condition_status_from_name("False", &status), 0);
	assert_int_equal(status, CONDITION_STATUS_FALSE);
	assert_int_equal(condition_status_from_name("Unknown", &status), 0);
	assert_int_equal(status, CONDITION_STATUS_UNKNOWN);
	assert_int_equal(condition_status_from_name("true", &status), -EINVAL);
	assert_int_equal(condition_status_from_name(NULL, &status), -EINVAL);
}

/* Configuration */

struct default_threshold {
	enum condition_kind kind;
	const char *expression;
	int64_t for_ms;
	int64_t window_ms;
};

static const struct default_threshold default_thresholds[] = {
	{ CONDITION_MEMORY_PRESSURE, "memory.available<100Mi", 0, 0 },
	{ CONDITION_MEMORY_PRESSURE, "memory.stall>40", 10 * SECOND, 0 },
	{ CONDITION_MEMORY_PRESSURE, "memory.oomKills>0", 0, 60 * SECOND },
	{ CONDITION_DISK_PRESSURE, "nodefs.available<10%", 0, 0 },
	{ CONDITION_DISK_PRESSURE, "nodefs.inodesFree<5%", 0, 0 },
	{ CONDITION_DISK_PRESSURE, "imagefs.available<15%", 0, 0 },
	{ CONDITION_DISK_PRESSURE, "imagefs.inodesFree<5%", 0, 0 },
	{ CONDITION_DISK_PRESSURE, "disk.latency>2000", 30 * SECOND, 0 },
	{ CONDITION_PID_PRESSURE, "pid.available<5%", 0, 0 },
	{ CONDITION_NETWORK_UNAVAILABLE, "net.defaultRoute<1", 0, 0 },
	{ CONDITION_NETWORK_UNAVAILABLE, "net.routeLinks<1", 0, 0 },
	{ CONDITION_NOT_READY, "kubelet.healthy<1", 10 * SECOND, 0 },
	{ CONDITION_NOT_READY, "runtime.healthy<1", 10 * SECOND, 0 },
};

static void config_defaults_match_design(void **state)
{
	static const char *const types[_CONDITION_KIND_MAX] = {
		"KernelMemoryPressure",	    "KernelDiskPressure", "KernelPIDPressure",
		"KernelNetworkUnavailable", "KernelReady",	  "KernelReady",
	};
	struct engine_config cfg;
	size_t seen[_CONDITION_KIND_MAX] = { 0 };

	engine_config_init_defaults(&cfg);
	assert_int_equal(cfg.missed_samples_before_unknown, 5);

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		assert_string_equal(cfg.rules[k].type, types[k]);
		assert_int_equal(cfg.rules[k].transition_period_ms, 5 * MINUTE);
		assert_int_equal(cfg.rules[k].enabled, k != CONDITION_UNREACHABLE);
	}

	for (size_t i = 0; i < ARRAY_SIZE(default_thresholds); i++) {
		const struct default_threshold *d = &default_thresholds[i];
		const struct threshold *t = &cfg.rules[d->kind].thresholds[seen[d->kind]++];

		assert_string_equal(t->expression, d->expression);
		assert_int_equal(t->for_ms, d->for_ms);
		assert_int_equal(t->window_ms, d->window_ms);
	}
	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		assert_int_equal(cfg.rules[k].n_thresholds, seen[k]);
}

static void config_add_threshold_errors(void **state)
{
	struct condition_rule rule = { 0 };
	char err[256];

	assert_int_equal(
		condition_rule_add_threshold(&rule, "memory.available>1Gi", 0, 0, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "supports only '<'"));

	assert_int_equal(
		condition_rule_add_threshold(&rule, "memory.stall>40", -1, 0, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err,
			    "threshold \"memory.stall>40\": for and window must not be negative");

	assert_int_equal(condition_rule_add_threshold(&rule, "memory.available<1Gi", 0, 60000, err,
						      sizeof(err)),
			 -EINVAL);
	assert_string_equal(
		err, "threshold \"memory.available<1Gi\": window counts events, so it applies only "
		     "to rates, counts and stalls");
	assert_int_equal(rule.n_thresholds, 0);

	for (int i = 0; i < CONDITION_THRESHOLDS_MAX; i++)
		assert_int_equal(
			condition_rule_add_threshold(&rule, "net.drops>100", 0, 0, NULL, 0), 0);
	assert_int_equal(
		condition_rule_add_threshold(&rule, "net.drops>100", 0, 0, err, sizeof(err)),
		-E2BIG);
	assert_string_equal(err, "too many thresholds: at most 8 per condition");
	assert_int_equal(condition_rule_add_threshold(&rule, "net.drops>100", 0, 0, NULL, 0),
			 -E2BIG);
	assert_int_equal(condition_rule_add_threshold(&rule, "x", -1, 0, NULL, 0), -E2BIG);

	rule.n_thresholds = 0;
	assert_int_equal(condition_rule_add_threshold(&rule, "net.drops>100", 0, -1, NULL, 0),
			 -EINVAL);
	assert_int_equal(condition_rule_add_threshold(&rule, "net.drops>100", 0, 1, NULL, 0), 0);
	assert_int_equal(condition_rule_add_threshold(&rule, "disk.latency<1", 0, 1, NULL, 0), 0);
	assert_int_equal(condition_rule_add_threshold(&rule, "pid.available<1", 0, 1, NULL, 0),
			 -EINVAL);
}

/* First evaluation */

static void engine_first_evaluation(void **state)
{
	struct fixture *f = *state;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		assert_null(condition_engine_get(&f->engine, k));

	assert_int_equal(tick(f, T0), 5);
	for (int k = 0; k < CONDITION_UNREACHABLE; k++) {
		const struct condition_transition *tr = transition_of(f, k);
		const struct condition *c = condition_engine_get(&f->engine, k);

		assert_non_null(tr);
		assert_int_equal(tr->from, CONDITION_STATUS_UNKNOWN);
		assert_int_equal(tr->to, c->status);
		assert_int_equal(c->last_transition_ms, T0);
		assert_int_equal(c->last_heartbeat_ms, T0);
	}
	assert_null(condition_engine_get(&f->engine, CONDITION_UNREACHABLE));
	assert_null(condition_engine_get(&f->engine, _CONDITION_KIND_MAX));

	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_FALSE);
	assert_string_equal(reason_of(f, CONDITION_MEMORY_PRESSURE), "KernelHasSufficientMemory");
	assert_string_equal(reason_of(f, CONDITION_DISK_PRESSURE), "KernelHasNoDiskPressure");
	assert_string_equal(reason_of(f, CONDITION_PID_PRESSURE), "KernelHasSufficientPID");
	assert_string_equal(reason_of(f, CONDITION_NETWORK_UNAVAILABLE), "KernelNetworkAvailable");
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_TRUE);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "KernelReady");
	assert_string_equal(condition_engine_get(&f->engine, CONDITION_NOT_READY)->type,
			    "KernelReady");

	assert_int_equal(tick(f, T0 + SECOND), 0);
	assert_int_equal(
		condition_engine_get(&f->engine, CONDITION_MEMORY_PRESSURE)->last_transition_ms,
		T0);
	assert_int_equal(
		condition_engine_get(&f->engine, CONDITION_MEMORY_PRESSURE)->last_heartbeat_ms,
		T0 + SECOND);
}

static void engine_messages(void **state)
{
	struct fixture *f = *state;

	set_value(f, SIGNAL_MEMORY_AVAILABLE, 50 * MI);
	tick(f, T0);
	assert_string_equal(message_of(f, CONDITION_MEMORY_PRESSURE),
			    "threshold met: memory.available<100Mi (observed 50Mi, limit 100Mi)");
	assert_string_equal(reason_of(f, CONDITION_MEMORY_PRESSURE), "KernelHasMemoryPressure");

	assert_string_equal(message_of(f, CONDITION_PID_PRESSURE),
			    "no threshold met: pid.available<5% (observed 4000000, limit 209716)");
	assert_string_equal(message_of(f, CONDITION_NOT_READY),
			    "no threshold met: kubelet.healthy<1 for 10s (observed 1, limit 1), "
			    "runtime.healthy<1 for 10s (observed 1, limit 1)");

	set_value(f, SIGNAL_MEMORY_AVAILABLE, 8 * GI);
	tick(f, T0 + 90 * SECOND);
	assert_string_equal(
		message_of(f, CONDITION_MEMORY_PRESSURE),
		"no threshold met for 1m30s; holding until none is met for 5m0s (transition period); "
		"last met: memory.available<100Mi (observed 50Mi, limit 100Mi)");
}

/* Boundaries of one threshold, through the engine */

struct boundary_case {
	const char *name;
	enum signal_id signal;
	int64_t value;
	enum condition_kind kind;
	enum condition_status status;
};

static const struct boundary_case boundary_cases[] = {
	{ "available equal to limit", SIGNAL_MEMORY_AVAILABLE, 100 * MI, CONDITION_MEMORY_PRESSURE,
	  CONDITION_STATUS_FALSE },
	{ "available one below", SIGNAL_MEMORY_AVAILABLE, 100 * MI - 1, CONDITION_MEMORY_PRESSURE,
	  CONDITION_STATUS_TRUE },
	{ "available one above", SIGNAL_MEMORY_AVAILABLE, 100 * MI + 1, CONDITION_MEMORY_PRESSURE,
	  CONDITION_STATUS_FALSE },
	{ "nodefs at 10%", SIGNAL_NODEFS_AVAILABLE, 10 * GI, CONDITION_DISK_PRESSURE,
	  CONDITION_STATUS_FALSE },
	{ "nodefs below 10%", SIGNAL_NODEFS_AVAILABLE, 10 * GI - 1, CONDITION_DISK_PRESSURE,
	  CONDITION_STATUS_TRUE },
	{ "imagefs at 15%", SIGNAL_IMAGEFS_AVAILABLE, 15 * GI, CONDITION_DISK_PRESSURE,
	  CONDITION_STATUS_FALSE },
	{ "imagefs below 15%", SIGNAL_IMAGEFS_AVAILABLE, 15 * GI - 1, CONDITION_DISK_PRESSURE,
	  CONDITION_STATUS_TRUE },
	{ "inodes at 5%", SIGNAL_NODEFS_INODES_FREE, 100000, CONDITION_DISK_PRESSURE,
	  CONDITION_STATUS_FALSE },
	{ "inodes below 5%", SIGNAL_NODEFS_INODES_FREE, 99999, CONDITION_DISK_PRESSURE,
	  CONDITION_STATUS_TRUE },
	{ "pids at limit", SIGNAL_PID_AVAILABLE, 209716, CONDITION_PID_PRESSURE,
	  CONDITION_STATUS_FALSE },
	{ "pids below limit", SIGNAL_PID_AVAILABLE, 209715, CONDITION_PID_PRESSURE,
	  CONDITION_STATUS_TRUE },
	{ "no default route", SIGNAL_NET_DEFAULT_ROUTE, 0, CONDITION_NETWORK_UNAVAILABLE,
	  CONDITION_STATUS_TRUE },
	{ "no route link", SIGNAL_NET_ROUTE_LINKS, 0, CONDITION_NETWORK_UNAVAILABLE,
	  CONDITION_STATUS_TRUE },
	{ "two route links", SIGNAL_NET_ROUTE_LINKS, 2, CONDITION_NETWORK_UNAVAILABLE,
	  CONDITION_STATUS_FALSE },
	{ "one oom kill", SIGNAL_MEMORY_OOM_KILLS, 1, CONDITION_MEMORY_PRESSURE,
	  CONDITION_STATUS_TRUE },
};

static void engine_boundaries(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(boundary_cases); i++) {
		const struct boundary_case *c = &boundary_cases[i];
		struct fixture *f;

		fixture_setup((void **)&f);
		set_value(f, c->signal, c->value);
		tick(f, T0);
		if (status_of(f, c->kind) != c->status)
			fail_msg("%s: status %s, expected %s", c->name,
				 condition_status_name(status_of(f, c->kind)),
				 condition_status_name(c->status));
		fixture_teardown((void **)&f);
	}
}

/* for: and window: */

struct step {
	int64_t at_ms; /* offset from T0 */
	int64_t value;
	enum condition_status status;
};

static void run_steps(const char *name, enum signal_id signal, enum condition_kind kind,
		      const struct step *steps, size_t n)
{
	struct fixture *f;

	fixture_setup((void **)&f);
	for (size_t i = 0; i < n; i++) {
		set_value(f, signal, steps[i].value);
		tick(f, T0 + steps[i].at_ms);
		if (status_of(f, kind) != steps[i].status)
			fail_msg("%s, step %zu at +%lldms: status %s, expected %s", name, i,
				 (long long)steps[i].at_ms,
				 condition_status_name(status_of(f, kind)),
				 condition_status_name(steps[i].status));
	}
	fixture_teardown((void **)&f);
}

static void engine_for_duration(void **state)
{
	static const struct step exactly_met[] = {
		{ 0, 41000, CONDITION_STATUS_FALSE },
		{ 9 * SECOND, 41000, CONDITION_STATUS_FALSE },
		{ 9999, 41000, CONDITION_STATUS_FALSE },
		{ 10 * SECOND, 41000, CONDITION_STATUS_TRUE },
	};
	static const struct step interrupted[] = {
		{ 0, 41000, CONDITION_STATUS_FALSE },
		{ 5 * SECOND, 40000, CONDITION_STATUS_FALSE }, /* equal to the limit: not met */
		{ 6 * SECOND, 41000, CONDITION_STATUS_FALSE },
		{ 15 * SECOND, 41000, CONDITION_STATUS_FALSE },
		{ 15999, 41000, CONDITION_STATUS_FALSE },
		{ 16 * SECOND, 41000, CONDITION_STATUS_TRUE },
	};

	run_steps("stall exactly 10s", SIGNAL_MEMORY_STALL, CONDITION_MEMORY_PRESSURE, exactly_met,
		  ARRAY_SIZE(exactly_met));
	run_steps("stall interrupted", SIGNAL_MEMORY_STALL, CONDITION_MEMORY_PRESSURE, interrupted,
		  ARRAY_SIZE(interrupted));
}

static void engine_for_message(void **state)
{
	struct fixture *f = *state;

	set_value(f, SIGNAL_MEMORY_STALL, 52500);
	tick(f, T0);
	tick(f, T0 + 3 * SECOND);
	assert_string_equal(
		message_of(f, CONDITION_MEMORY_PRESSURE),
		"no threshold met: memory.available<100Mi (observed 8Gi, limit 100Mi), "
		"memory.stall>40 for 10s (observed 52.5%, limit 40%, met for 3s of 10s), "
		"memory.oomKills>0 over 1m0s (observed 0, limit 0)");
}

static void engine_transition_period(void **state)
{
	static const struct step steps[] = {
		{ 0, 50 * MI, CONDITION_STATUS_TRUE },
		{ 1 * SECOND, 8 * GI, CONDITION_STATUS_TRUE },
		{ 5 * MINUTE - 1, 8 * GI, CONDITION_STATUS_TRUE },
		{ 5 * MINUTE, 8 * GI, CONDITION_STATUS_FALSE },
		{ 5 * MINUTE + 1, 50 * MI, CONDITION_STATUS_TRUE },
	};

	run_steps("memory clears after 5m", SIGNAL_MEMORY_AVAILABLE, CONDITION_MEMORY_PRESSURE,
		  steps, ARRAY_SIZE(steps));
}

static void engine_oscillation_two_transitions(void **state)
{
	struct fixture *f = *state;
	size_t transitions = 0;
	int64_t now = T0;

	tick(f, now);
	for (int i = 0; i < 600; i++) {
		now += SECOND;
		set_value(f, SIGNAL_MEMORY_AVAILABLE, i % 2 ? 100 * MI : 100 * MI - 1);
		tick(f, now);
		transitions += transition_of(f, CONDITION_MEMORY_PRESSURE) != NULL;
	}
	assert_int_equal(transitions, 1);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_TRUE);

	for (int i = 0; i < 600; i++) {
		now += SECOND;
		set_value(f, SIGNAL_MEMORY_AVAILABLE, 100 * MI);
		tick(f, now);
		transitions += transition_of(f, CONDITION_MEMORY_PRESSURE) != NULL;
	}
	assert_int_equal(transitions, 2);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_FALSE);
}

static void engine_window_counts_events(void **state)
{
	struct fixture *f = *state;
	const struct threshold_state *oom =
		&f->engine.states[CONDITION_MEMORY_PRESSURE].thresholds[2];

	for (int64_t s = 0; s <= 99; s++) {
		set_value(f, SIGNAL_MEMORY_OOM_KILLS, s == 40 ? 1 : 0);
		tick(f, T0 + s * SECOND);
	}
	/* At 99 s the kill at 40 s is inside the trailing window (39 s, 99 s]. */
	assert_int_equal(oom->last, THRESHOLD_MET);
	assert_int_equal(oom->last_observed, 1);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_TRUE);

	/* At 100 s it is not inside (40 s, 100 s], but the transition period keeps the status. */
	tick(f, T0 + 100 * SECOND);
	assert_int_equal(oom->last, THRESHOLD_NOT_MET);
	assert_int_equal(oom->last_observed, 0);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_TRUE);
	assert_int_equal(
		condition_engine_get(&f->engine, CONDITION_MEMORY_PRESSURE)->last_transition_ms,
		T0 + 40 * SECOND);
}

static void engine_window_expires_at_edge(void **state)
{
	struct fixture *f = *state;
	const struct threshold_state *oom =
		&f->engine.states[CONDITION_MEMORY_PRESSURE].thresholds[2];

	set_value(f, SIGNAL_MEMORY_OOM_KILLS, 2);
	tick(f, T0);
	set_value(f, SIGNAL_MEMORY_OOM_KILLS, 3);
	tick(f, T0 + 30 * SECOND);
	assert_int_equal(oom->last_observed, 5);

	set_value(f, SIGNAL_MEMORY_OOM_KILLS, 0);
	tick(f, T0 + 60 * SECOND - 1);
	assert_int_equal(oom->last_observed, 5);
	tick(f, T0 + 60 * SECOND);
	assert_int_equal(oom->last_observed, 3);
	tick(f, T0 + 90 * SECOND);
	assert_int_equal(oom->last_observed, 0);
	assert_int_equal(oom->last, THRESHOLD_NOT_MET);
}

/* Ticks closer than a window slice share a slot, and the ring never overflows. */
static void engine_window_many_ticks(void **state)
{
	struct fixture *f = *state;
	const struct threshold_state *oom =
		&f->engine.states[CONDITION_MEMORY_PRESSURE].thresholds[2];

	set_value(f, SIGNAL_MEMORY_OOM_KILLS, 1);
	for (int64_t i = 0; i < 600; i++)
		tick(f, T0 + i * 100);
	assert_int_equal(oom->last_observed, 600);
	assert_true(oom->window_len <= 64);

	f->samples[SIGNAL_MEMORY_OOM_KILLS].value = INT64_MAX;
	tick(f, T0 + 60000);
	tick(f, T0 + 60001);
	assert_int_equal(oom->last_observed, INT64_MAX);
}

static void engine_window_clock_backwards(void **state)
{
	struct fixture *f = *state;
	const struct threshold_state *oom = &f->engine.states[CONDITION_MEMORY_PRESSURE].thresholds[2];

	set_value(f, SIGNAL_MEMORY_OOM_KILLS, 1);
	for (int64_t i = 0; i < 100; i++)
		tick(f, T0 + (i % 2 ? 30 * SECOND : 0) - i);
	assert_int_equal(oom->window_len, 64);
	assert_int_equal(oom->last_observed, 100);
}

/* Missing and impossible samples */

static void engine_missed_samples_then_unknown(void **state)
{
	struct fixture *f = *state;
	enum signal_id memory[] = { SIGNAL_MEMORY_AVAILABLE, SIGNAL_MEMORY_STALL,
				    SIGNAL_MEMORY_OOM_KILLS };

	tick(f, T0);
	for (size_t i = 0; i < ARRAY_SIZE(memory); i++)
		signal_sample_set_unobserved(&f->samples[memory[i]], "procfs", "cannot read %s",
					     "/proc/meminfo");

	for (int i = 1; i <= 5; i++) {
		assert_int_equal(tick(f, T0 + i * SECOND), 0);
		assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_FALSE);
	}
	assert_int_equal(tick(f, T0 + 6 * SECOND), 1);
	assert_int_equal(f->transitions[0].from, CONDITION_STATUS_FALSE);
	assert_int_equal(f->transitions[0].to, CONDITION_STATUS_UNKNOWN);
	assert_string_equal(reason_of(f, CONDITION_MEMORY_PRESSURE), "SignalUnavailable");
	assert_string_equal(
		message_of(f, CONDITION_MEMORY_PRESSURE),
		"no threshold can be evaluated: memory.available<100Mi (cannot read /proc/meminfo), "
		"memory.stall>40 for 10s (cannot read /proc/meminfo), "
		"memory.oomKills>0 over 1m0s (cannot read /proc/meminfo)");
	assert_int_equal(
		condition_engine_get(&f->engine, CONDITION_MEMORY_PRESSURE)->last_transition_ms,
		T0 + 6 * SECOND);

	set_value(f, SIGNAL_MEMORY_AVAILABLE, 8 * GI);
	assert_int_equal(tick(f, T0 + 7 * SECOND), 1);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_FALSE);
	assert_non_null(strstr(message_of(f, CONDITION_MEMORY_PRESSURE),
			       "; unknown: memory.stall>40 for 10s (cannot read /proc/meminfo), "));
}

static void engine_missed_samples_keep_met(void **state)
{
	struct fixture *f = *state;

	set_value(f, SIGNAL_NET_DEFAULT_ROUTE, 0);
	tick(f, T0);
	assert_int_equal(status_of(f, CONDITION_NETWORK_UNAVAILABLE), CONDITION_STATUS_TRUE);

	signal_sample_set_unobserved(&f->samples[SIGNAL_NET_DEFAULT_ROUTE], "rtnetlink", "%s", "");
	tick(f, T0 + 5 * SECOND);
	assert_int_equal(f->engine.states[CONDITION_NETWORK_UNAVAILABLE].thresholds[0].last,
			 THRESHOLD_MET);
	assert_non_null(strstr(
		message_of(f, CONDITION_NETWORK_UNAVAILABLE),
		"net.defaultRoute<1 (observed 0, limit 1, kept from an earlier tick: no observation)"));
	for (int i = 6; i <= 10; i++)
		tick(f, T0 + i * SECOND);
	assert_int_equal(f->engine.states[CONDITION_NETWORK_UNAVAILABLE].thresholds[0].last,
			 THRESHOLD_UNAVAILABLE);
	/* The kind stays True for the transition period after the last kept result. */
	assert_int_equal(status_of(f, CONDITION_NETWORK_UNAVAILABLE), CONDITION_STATUS_TRUE);
	assert_non_null(strstr(message_of(f, CONDITION_NETWORK_UNAVAILABLE),
			       "; unknown: net.defaultRoute<1 (no observation)"));
	tick(f, T0 + 9 * SECOND + 5 * MINUTE);
	assert_int_equal(status_of(f, CONDITION_NETWORK_UNAVAILABLE), CONDITION_STATUS_FALSE);
}

struct invalid_case {
	const char *name;
	enum signal_id signal;
	int64_t value;
	int64_t capacity;
	const char *problem;
};

static const struct invalid_case invalid_cases[] = {
	{ "negative available", SIGNAL_MEMORY_AVAILABLE, -1, 16 * GI,
	  "impossible sample: memory.available is negative (-1)" },
	{ "available above capacity", SIGNAL_MEMORY_AVAILABLE, 16 * GI + 1, 16 * GI,
	  "impossible sample: memory.available 17179869185 is above its capacity 17179869184" },
	{ "counter went backwards", SIGNAL_MEMORY_OOM_KILLS, -3, 0,
	  "impossible sample: memory.oomKills is negative (-3), a counter went backwards" },
	{ "stall above 100%", SIGNAL_MEMORY_STALL, 100001, 0,
	  "impossible sample: memory.stall 100.001% is above 100%" },
};

static void engine_invalid_samples(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		struct fixture *f;
		const char *problem;

		fixture_setup((void **)&f);
		tick(f, T0);
		set_value(f, c->signal, c->value);
		f->samples[c->signal].capacity = c->capacity;
		for (int s = 1; s <= 10; s++) {
			tick(f, T0 + s * SECOND);
			if (status_of(f, CONDITION_MEMORY_PRESSURE) != CONDITION_STATUS_FALSE)
				fail_msg("%s: the impossible sample changed the status", c->name);
		}
		problem = condition_engine_sample_problem(&f->engine, c->signal);
		assert_non_null(problem);
		assert_string_equal(problem, c->problem);
		assert_non_null(strstr(message_of(f, CONDITION_MEMORY_PRESSURE), c->problem));

		set_value(f, c->signal, 0);
		f->samples[c->signal].capacity = 16 * GI;
		tick(f, T0 + 11 * SECOND);
		assert_null(condition_engine_sample_problem(&f->engine, c->signal));
		fixture_teardown((void **)&f);
	}
}

static void engine_sample_problem_bounds(void **state)
{
	struct fixture *f = *state;

	assert_null(condition_engine_sample_problem(&f->engine, _SIGNAL_MAX));
	assert_null(condition_engine_sample_problem(&f->engine, _SIGNAL_INVALID));
	tick(f, T0);
	assert_null(condition_engine_sample_problem(&f->engine, SIGNAL_MEMORY_AVAILABLE));
}

static void engine_zero_capacity_unavailable(void **state)
{
	struct fixture *f = *state;

	f->samples[SIGNAL_NODEFS_INODES_FREE].value = 0;
	f->samples[SIGNAL_NODEFS_INODES_FREE].capacity = 0;
	tick(f, T0);
	assert_int_equal(f->engine.states[CONDITION_DISK_PRESSURE].thresholds[1].last,
			 THRESHOLD_UNAVAILABLE);
	assert_int_equal(status_of(f, CONDITION_DISK_PRESSURE), CONDITION_STATUS_FALSE);
	assert_non_null(strstr(
		message_of(f, CONDITION_DISK_PRESSURE),
		"; unknown: nodefs.inodesFree<5% (capacity is zero, so a percentage cannot apply)"));

	f->samples[SIGNAL_PID_AVAILABLE].value = 0;
	f->samples[SIGNAL_PID_AVAILABLE].capacity = 0;
	tick(f, T0 + SECOND);
	assert_int_equal(status_of(f, CONDITION_PID_PRESSURE), CONDITION_STATUS_UNKNOWN);
	assert_string_equal(reason_of(f, CONDITION_PID_PRESSURE), "SignalUnavailable");

	f->samples[SIGNAL_PID_AVAILABLE].has_capacity = false;
	tick(f, T0 + 2 * SECOND);
	assert_string_equal(
		message_of(f, CONDITION_PID_PRESSURE),
		"no threshold can be evaluated: pid.available<5% (the sample has no capacity, so a "
		"percentage cannot apply)");
}

static void engine_window_minimum(void **state)
{
	struct fixture *f = *state;

	f->samples[SIGNAL_PID_AVAILABLE].has_window_min = true;
	f->samples[SIGNAL_PID_AVAILABLE].window_min = 209715;
	tick(f, T0);
	assert_int_equal(status_of(f, CONDITION_PID_PRESSURE), CONDITION_STATUS_TRUE);
	assert_string_equal(message_of(f, CONDITION_PID_PRESSURE),
			    "threshold met: pid.available<5% (observed 209715, limit 209716)");
}

/* Restart and adoption */

static void engine_restart_during_true_period(void **state)
{
	struct fixture *f = *state, *g;
	struct condition published[_CONDITION_KIND_MAX];
	size_t n = 0;

	/* The first agent observes the stall for 10 s, so MemoryPressure turns True. */
	set_value(f, SIGNAL_MEMORY_STALL, 60000);
	for (int s = 0; s <= 10; s++)
		tick(f, T0 + s * SECOND);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_TRUE);
	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		if (condition_engine_get(&f->engine, k))
			published[n++] = *condition_engine_get(&f->engine, k);

	/* A second agent adopts them; the stall goes on, but its 10 s start over. */
	fixture_setup((void **)&g);
	condition_engine_adopt(&g->engine, published, n);
	assert_null(condition_engine_get(&g->engine, CONDITION_MEMORY_PRESSURE));
	set_value(g, SIGNAL_MEMORY_STALL, 60000);
	for (int s = 30; s <= 45; s++) {
		assert_int_equal(tick(g, T0 + s * SECOND), 0);
		assert_int_equal(status_of(g, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_TRUE);
		assert_int_equal(condition_engine_get(&g->engine, CONDITION_MEMORY_PRESSURE)
					 ->last_transition_ms,
				 T0 + 10 * SECOND);
	}
	assert_int_equal(condition_engine_get(&g->engine, CONDITION_NOT_READY)->last_transition_ms,
			 T0);

	/* The stall ends at 46 s: False 5 minutes after the last met tick at 45 s. */
	set_value(g, SIGNAL_MEMORY_STALL, 0);
	assert_int_equal(tick(g, T0 + 45 * SECOND + 5 * MINUTE - 1), 0);
	assert_int_equal(tick(g, T0 + 45 * SECOND + 5 * MINUTE), 1);
	assert_int_equal(g->transitions[0].from, CONDITION_STATUS_TRUE);
	assert_int_equal(g->transitions[0].to, CONDITION_STATUS_FALSE);
	fixture_teardown((void **)&g);
}

static void engine_restart_after_pressure_ended(void **state)
{
	struct fixture *f = *state;
	struct condition adopted = {
		.type = "KernelMemoryPressure",
		.status = CONDITION_STATUS_TRUE,
		.reason = "KernelHasMemoryPressure",
		.last_transition_ms = T0 - MINUTE,
	};

	condition_engine_adopt(&f->engine, &adopted, 1);
	assert_int_equal(tick(f, T0), 4);
	assert_null(transition_of(f, CONDITION_MEMORY_PRESSURE));
	assert_non_null(
		strstr(message_of(f, CONDITION_MEMORY_PRESSURE),
		       "last met: KernelHasMemoryPressure (True, before the agent restarted)"));
	assert_int_equal(tick(f, T0 + 5 * MINUTE), 1);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_FALSE);
}

struct adopt_case {
	const char *name;
	const char *type;
	enum condition_status adopted;
	const char *adopted_reason;
	int64_t adopted_transition_ms;
	enum condition_kind kind;
	size_t transitions; /* of that kind at the first tick */
	enum condition_status from;
	int64_t transition_ms;
};

static const struct adopt_case adopt_cases[] = {
	{ "same status keeps time", "KernelDiskPressure", CONDITION_STATUS_FALSE,
	  "KernelHasNoDiskPressure", T0 - MINUTE, CONDITION_DISK_PRESSURE, 0,
	  CONDITION_STATUS_FALSE, T0 - MINUTE },
	{ "other status changes", "KernelDiskPressure", CONDITION_STATUS_UNKNOWN,
	  "AgentNotReporting", T0 - MINUTE, CONDITION_DISK_PRESSURE, 1, CONDITION_STATUS_UNKNOWN,
	  T0 },
	{ "missing time is set", "KernelPIDPressure", CONDITION_STATUS_FALSE,
	  "KernelHasSufficientPID", 0, CONDITION_PID_PRESSURE, 0, CONDITION_STATUS_FALSE, T0 },
	{ "ready kept", "KernelReady", CONDITION_STATUS_TRUE, "KernelReady", T0 - MINUTE,
	  CONDITION_NOT_READY, 0, CONDITION_STATUS_TRUE, T0 - MINUTE },
	{ "not ready held", "KernelReady", CONDITION_STATUS_FALSE, "KubeletUnhealthy", T0 - MINUTE,
	  CONDITION_NOT_READY, 0, CONDITION_STATUS_FALSE, T0 - MINUTE },
	{ "samplers failed not held", "KernelReady", CONDITION_STATUS_FALSE, "SamplersFailed",
	  T0 - MINUTE, CONDITION_NOT_READY, 1, CONDITION_STATUS_FALSE, T0 },
	{ "foreign type ignored", "MemoryPressure", CONDITION_STATUS_TRUE,
	  "KubeletHasInsufficientMemory", T0 - MINUTE, CONDITION_MEMORY_PRESSURE, 1,
	  CONDITION_STATUS_UNKNOWN, T0 },
};

static void engine_adopt_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(adopt_cases); i++) {
		const struct adopt_case *c = &adopt_cases[i];
		struct condition adopted = { .status = c->adopted,
					     .last_transition_ms = c->adopted_transition_ms };
		const struct condition_transition *tr;
		struct fixture *f;

		strcpy(adopted.type, c->type);
		strcpy(adopted.reason, c->adopted_reason);
		fixture_setup((void **)&f);
		condition_engine_adopt(&f->engine, &adopted, 1);
		tick(f, T0);

		tr = transition_of(f, c->kind);
		if ((tr != NULL) != (c->transitions == 1))
			fail_msg("%s: %s transition", c->name, tr ? "unexpected" : "missing");
		if (tr && tr->from != c->from)
			fail_msg("%s: from %s, expected %s", c->name,
				 condition_status_name(tr->from), condition_status_name(c->from));
		if (condition_engine_get(&f->engine, c->kind)->last_transition_ms !=
		    c->transition_ms)
			fail_msg("%s: lastTransitionTime %lld, expected %lld", c->name,
				 (long long)condition_engine_get(&f->engine, c->kind)
					 ->last_transition_ms,
				 (long long)c->transition_ms);
		fixture_teardown((void **)&f);
	}
}

static void engine_adopt_after_evaluation_ignored(void **state)
{
	struct fixture *f = *state;
	struct condition adopted = { .type = "KernelMemoryPressure",
				     .status = CONDITION_STATUS_TRUE };

	tick(f, T0);
	condition_engine_adopt(&f->engine, &adopted, 1);
	assert_int_equal(tick(f, T0 + SECOND), 0);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_FALSE);
}

/* The Ready kind */

static void engine_kubelet_unhealthy(void **state)
{
	struct fixture *f = *state;

	tick(f, T0);
	set_value(f, SIGNAL_KUBELET_HEALTHY, 0);
	assert_int_equal(tick(f, T0 + SECOND), 0);
	assert_int_equal(tick(f, T0 + 11 * SECOND - 1), 0);
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_TRUE);

	assert_int_equal(tick(f, T0 + 11 * SECOND), 1);
	assert_int_equal(f->transitions[0].kind, CONDITION_NOT_READY);
	assert_int_equal(f->transitions[0].from, CONDITION_STATUS_TRUE);
	assert_int_equal(f->transitions[0].to, CONDITION_STATUS_FALSE);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "KubeletUnhealthy");
	assert_string_equal(message_of(f, CONDITION_NOT_READY),
			    "threshold met: kubelet.healthy<1 for 10s (observed 0, limit 1)");

	/* Recovered kubelet: held False with the same reason for the transition period. */
	set_value(f, SIGNAL_KUBELET_HEALTHY, 1);
	tick(f, T0 + 12 * SECOND);
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_FALSE);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "KubeletUnhealthy");
	tick(f, T0 + 11 * SECOND + 5 * MINUTE);
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_TRUE);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "KernelReady");
}

static void engine_runtime_unhealthy(void **state)
{
	struct fixture *f = *state;

	set_value(f, SIGNAL_RUNTIME_HEALTHY, 0);
	tick(f, T0);
	tick(f, T0 + 10 * SECOND);
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_FALSE);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "RuntimeUnhealthy");
}

static void engine_kubelet_restart_inside_for(void **state)
{
	struct fixture *f = *state;
	size_t transitions = 0;

	tick(f, T0);
	for (int s = 1; s <= 30; s++) {
		set_value(f, SIGNAL_KUBELET_HEALTHY, s >= 5 && s < 14 ? 0 : 1);
		transitions += tick(f, T0 + s * SECOND);
	}
	assert_int_equal(transitions, 0);
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_TRUE);
}

static void engine_other_ready_threshold(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(condition_rule_add_threshold(&f->cfg.rules[CONDITION_NOT_READY],
						      "apiserver.reachable<1", 0, 0, NULL, 0),
			 0);
	condition_engine_init(&f->engine, &f->cfg);
	set_value(f, SIGNAL_APISERVER_REACHABLE, 0);
	tick(f, T0);
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_FALSE);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "KernelNotReady");

	set_value(f, SIGNAL_APISERVER_REACHABLE, 1);
	tick(f, T0 + SECOND);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "KernelNotReady");

	/* Without a kubelet, the other thresholds still count. */
	set_value(f, SIGNAL_APISERVER_REACHABLE, 1);
	tick_with(
		f,
		&(struct readiness_context){ .kubelet_expected = false, .samplers_running = true },
		T0 + 10 * MINUTE);
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_TRUE);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "NoKubeletExpected");
	assert_string_equal(message_of(f, CONDITION_NOT_READY),
			    "no kubelet is expected on this host and the samplers are running; "
			    "no threshold met: apiserver.reachable<1 (observed 1, limit 1)");
}

struct readiness_case {
	const char *name;
	bool kubelet_expected;
	bool samplers_running;
	bool kubelet_healthy;
	bool kubelet_observed;
	enum condition_status status;
	const char *reason;
};

static const struct readiness_case readiness_cases[] = {
	{ "kubelet healthy", true, true, true, true, CONDITION_STATUS_TRUE, "KernelReady" },
	{ "kubelet down", true, true, false, true, CONDITION_STATUS_FALSE, "KubeletUnhealthy" },
	{ "kubelet not measured", true, true, true, false, CONDITION_STATUS_UNKNOWN,
	  "SignalUnavailable" },
	{ "samplers failed", true, false, true, true, CONDITION_STATUS_FALSE, "SamplersFailed" },
	{ "no kubelet expected", false, true, false, true, CONDITION_STATUS_TRUE,
	  "NoKubeletExpected" },
	{ "no kubelet, not measured", false, true, true, false, CONDITION_STATUS_TRUE,
	  "NoKubeletExpected" },
	{ "no kubelet, samplers failed", false, false, true, true, CONDITION_STATUS_FALSE,
	  "SamplersFailed" },
};

static void engine_readiness_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(readiness_cases); i++) {
		const struct readiness_case *c = &readiness_cases[i];
		struct readiness_context ready = { c->kubelet_expected, c->samplers_running };
		struct fixture *f;

		fixture_setup((void **)&f);
		set_value(f, SIGNAL_KUBELET_HEALTHY, c->kubelet_healthy);
		set_value(f, SIGNAL_RUNTIME_HEALTHY, c->kubelet_healthy);
		if (!c->kubelet_observed) {
			signal_sample_set_unobserved(&f->samples[SIGNAL_KUBELET_HEALTHY], "http",
						     "connection refused");
			signal_sample_set_unobserved(&f->samples[SIGNAL_RUNTIME_HEALTHY], "connect",
						     "no socket");
		}
		for (int s = 0; s <= 10; s++)
			tick_with(f, &ready, T0 + s * SECOND);
		if (status_of(f, CONDITION_NOT_READY) != c->status)
			fail_msg("%s: status %s, expected %s", c->name,
				 condition_status_name(status_of(f, CONDITION_NOT_READY)),
				 condition_status_name(c->status));
		if (strcmp(reason_of(f, CONDITION_NOT_READY), c->reason) != 0)
			fail_msg("%s: reason %s, expected %s", c->name,
				 reason_of(f, CONDITION_NOT_READY), c->reason);
		fixture_teardown((void **)&f);
	}
}

static void engine_samplers_recover(void **state)
{
	struct fixture *f = *state;
	struct readiness_context ready = { .kubelet_expected = false, .samplers_running = false };

	tick_with(f, &ready, T0);
	assert_string_equal(
		message_of(f, CONDITION_NOT_READY),
		"the agent's samplers are not running, so node health cannot be measured");
	ready.samplers_running = true;
	assert_int_equal(tick_with(f, &ready, T0 + SECOND), 1);
	assert_int_equal(status_of(f, CONDITION_NOT_READY), CONDITION_STATUS_TRUE);
	assert_string_equal(message_of(f, CONDITION_NOT_READY),
			    "no kubelet is expected on this host and the samplers are running");
	/* No context means a kubelet is expected: still True, with another reason. */
	assert_int_equal(tick_with(f, NULL, T0 + 2 * SECOND), 0);
	assert_string_equal(reason_of(f, CONDITION_NOT_READY), "KernelReady");
}

/* Reconfiguration and limits */

static void engine_reconfigure_keeps_conditions(void **state)
{
	struct fixture *f = *state;
	struct engine_config cfg = f->cfg;

	set_value(f, SIGNAL_MEMORY_AVAILABLE, 50 * MI);
	tick(f, T0);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_TRUE);

	/* A stricter limit: the signal no longer meets it, but the status is held. */
	cfg.rules[CONDITION_MEMORY_PRESSURE].n_thresholds = 0;
	assert_int_equal(condition_rule_add_threshold(&cfg.rules[CONDITION_MEMORY_PRESSURE],
						      "memory.available<10Mi", 0, 0, NULL, 0),
			 0);
	cfg.rules[CONDITION_PID_PRESSURE].enabled = false;
	snprintf(cfg.rules[CONDITION_NETWORK_UNAVAILABLE].type, CONDITION_TYPE_MAX, "%s",
		 "NetworkDown");
	condition_engine_reconfigure(&f->engine, &cfg);

	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_TRUE);
	assert_null(condition_engine_get(&f->engine, CONDITION_PID_PRESSURE));
	assert_null(condition_engine_get(&f->engine, CONDITION_NETWORK_UNAVAILABLE));

	tick(f, T0 + SECOND);
	assert_null(transition_of(f, CONDITION_MEMORY_PRESSURE));
	assert_int_equal(
		condition_engine_get(&f->engine, CONDITION_MEMORY_PRESSURE)->last_transition_ms,
		T0);
	assert_non_null(transition_of(f, CONDITION_NETWORK_UNAVAILABLE));
	assert_string_equal(condition_engine_get(&f->engine, CONDITION_NETWORK_UNAVAILABLE)->type,
			    "NetworkDown");
	assert_null(condition_engine_get(&f->engine, CONDITION_PID_PRESSURE));
	assert_int_equal(f->engine.states[CONDITION_MEMORY_PRESSURE].thresholds[0].last,
			 THRESHOLD_NOT_MET);

	tick(f, T0 + 5 * MINUTE);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_FALSE);
}

static void engine_reconfigure_same_keeps_for(void **state)
{
	struct fixture *f = *state;

	set_value(f, SIGNAL_MEMORY_STALL, 60000);
	tick(f, T0);
	condition_engine_reconfigure(&f->engine, &f->cfg);
	tick(f, T0 + 10 * SECOND);
	assert_int_equal(status_of(f, CONDITION_MEMORY_PRESSURE), CONDITION_STATUS_TRUE);
}

static void engine_transitions_beyond_max(void **state)
{
	struct fixture *f = *state;
	struct condition_transition out[2];

	assert_int_equal(condition_engine_update(&f->engine, f->samples, &kubelet_node, T0, out, 2),
			 5);
	assert_int_equal(out[0].kind, CONDITION_MEMORY_PRESSURE);
	assert_int_equal(out[1].kind, CONDITION_DISK_PRESSURE);
	assert_int_equal(
		condition_engine_update(&f->engine, f->samples, &kubelet_node, T0 + 1, NULL, 0), 0);
}

static void engine_unreachable_never_evaluated(void **state)
{
	struct fixture *f = *state;

	f->cfg.rules[CONDITION_UNREACHABLE].enabled = true;
	condition_engine_init(&f->engine, &f->cfg);
	tick(f, T0);
	assert_null(condition_engine_get(&f->engine, CONDITION_UNREACHABLE));
	assert_null(transition_of(f, CONDITION_UNREACHABLE));
}

static void engine_message_truncated(void **state)
{
	struct fixture *f = *state;
	struct condition_rule *rule = &f->cfg.rules[CONDITION_DISK_PRESSURE];

	rule->n_thresholds = 0;
	for (int i = 0; i < CONDITION_THRESHOLDS_MAX; i++)
		assert_int_equal(condition_rule_add_threshold(rule, "nodefs.available<0.001%",
							      123456789, 0, NULL, 0),
				 0);
	condition_engine_init(&f->engine, &f->cfg);
	for (int i = 0; i < _SIGNAL_MAX; i++)
		signal_sample_set_unobserved(
			&f->samples[i], "test",
			"a long reason that repeats itself to fill the message buffer quickly");
	tick(f, T0);
	assert_int_equal(strlen(message_of(f, CONDITION_DISK_PRESSURE)), CONDITION_MESSAGE_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(condition_kind_names),
		cmocka_unit_test(condition_status_names),
		cmocka_unit_test(config_defaults_match_design),
		cmocka_unit_test(config_add_threshold_errors),
		cmocka_unit_test_setup_teardown(engine_first_evaluation, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_messages, fixture_setup, fixture_teardown),
		cmocka_unit_test(engine_boundaries),
		cmocka_unit_test(engine_for_duration),
		cmocka_unit_test_setup_teardown(engine_for_message, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(engine_transition_period),
		cmocka_unit_test_setup_teardown(engine_oscillation_two_transitions, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_window_counts_events, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_window_expires_at_edge, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_window_many_ticks, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_window_clock_backwards, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_missed_samples_then_unknown, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_missed_samples_keep_met, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(engine_invalid_samples),
		cmocka_unit_test_setup_teardown(engine_sample_problem_bounds, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_zero_capacity_unavailable, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_window_minimum, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_restart_during_true_period, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_restart_after_pressure_ended, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(engine_adopt_table),
		cmocka_unit_test_setup_teardown(engine_adopt_after_evaluation_ignored,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_kubelet_unhealthy, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_runtime_unhealthy, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_kubelet_restart_inside_for, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_other_ready_threshold, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(engine_readiness_table),
		cmocka_unit_test_setup_teardown(engine_samplers_recover, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_reconfigure_keeps_conditions, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_reconfigure_same_keeps_for, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_transitions_beyond_max, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_unreachable_never_evaluated, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(engine_message_truncated, fixture_setup,
						fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
