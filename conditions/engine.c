// SPDX-License-Identifier: Apache-2.0
/*
 * The condition engine: per tick, every threshold of every enabled kind is
 * brought up to date from its sample, then each kind's status, reason and
 * message are derived from its thresholds and compared with the published
 * condition to find transitions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conditions/engine.h"

#define WINDOW_SLOTS (sizeof(((struct threshold_state *)0)->window_times_ms) / sizeof(int64_t))

#define REASON_SIGNAL_UNAVAILABLE "SignalUnavailable"
#define REASON_KERNEL_READY "KernelReady"
#define REASON_NO_KUBELET_EXPECTED "NoKubeletExpected"
#define REASON_KUBELET_UNHEALTHY "KubeletUnhealthy"
#define REASON_RUNTIME_UNHEALTHY "RuntimeUnhealthy"
#define REASON_KERNEL_NOT_READY "KernelNotReady"
#define REASON_SAMPLERS_FAILED "SamplersFailed"

/* Reasons of the pressure kinds, whose status is True under pressure. */
static const struct {
	const char *met;
	const char *not_met;
} pressure_reasons[_CONDITION_KIND_MAX] = {
	[CONDITION_MEMORY_PRESSURE] = { "KernelHasMemoryPressure", "KernelHasSufficientMemory" },
	[CONDITION_DISK_PRESSURE] = { "KernelHasDiskPressure", "KernelHasNoDiskPressure" },
	[CONDITION_PID_PRESSURE] = { "KernelHasInsufficientPID", "KernelHasSufficientPID" },
	[CONDITION_NETWORK_UNAVAILABLE] = { "KernelNetworkUnavailable", "KernelNetworkAvailable" },
};

/* A message under construction. Appends are cut at the end of the buffer. */
struct text {
	char *buf;
	size_t len;
	size_t used;
};

static void text_append(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_append(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used + 1 >= t->len)
		return;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);

	if (n > 0)
		t->used += (size_t)n < t->len - t->used ? (size_t)n : t->len - t->used - 1;
}

int condition_rule_add_threshold(struct condition_rule *rule, const char *expression,
				 int64_t for_ms, int64_t window_ms, char *err, size_t err_len)
{
	struct threshold t;
	int r;

	if (rule->n_thresholds >= CONDITION_THRESHOLDS_MAX) {
		if (err)
			snprintf(err, err_len, "too many thresholds: at most %d per condition",
				 CONDITION_THRESHOLDS_MAX);
		return -E2BIG;
	}

	r = threshold_parse(expression, &t, err, err_len);
	if (r < 0)
		return r;

	if (for_ms < 0 || window_ms < 0) {
		if (err)
			snprintf(err, err_len,
				 "threshold \"%s\": for and window must not be negative",
				 expression);
		return -EINVAL;
	}
	if (window_ms > 0 && !signal_info_get(t.signal)->counter_like) {
		if (err)
			snprintf(
				err, err_len,
				"threshold \"%s\": window counts events, so it applies only to rates, counts and stalls",
				expression);
		return -EINVAL;
	}

	t.for_ms = for_ms;
	t.window_ms = window_ms;
	rule->thresholds[rule->n_thresholds++] = t;
	return 0;
}

/* The companion profile's thresholds, as listed in docs/conditions.md. */
static const struct {
	enum condition_kind kind;
	const char *expression;
	int64_t for_ms;
	int64_t window_ms;
} default_thresholds[] = {
	{ CONDITION_MEMORY_PRESSURE, "memory.available<100Mi", 0, 0 },
	{ CONDITION_MEMORY_PRESSURE, "memory.stall>40", 10000, 0 },
	{ CONDITION_MEMORY_PRESSURE, "memory.oomKills>0", 0, 60000 },
	{ CONDITION_DISK_PRESSURE, "nodefs.available<10%", 0, 0 },
	{ CONDITION_DISK_PRESSURE, "nodefs.inodesFree<5%", 0, 0 },
	{ CONDITION_DISK_PRESSURE, "imagefs.available<15%", 0, 0 },
	{ CONDITION_DISK_PRESSURE, "imagefs.inodesFree<5%", 0, 0 },
	{ CONDITION_DISK_PRESSURE, "disk.latency>2000", 30000, 0 },
	{ CONDITION_PID_PRESSURE, "pid.available<5%", 0, 0 },
	{ CONDITION_NETWORK_UNAVAILABLE, "net.defaultRoute<1", 0, 0 },
	{ CONDITION_NETWORK_UNAVAILABLE, "net.routeLinks<1", 0, 0 },
	{ CONDITION_NOT_READY, "kubelet.healthy<1", 10000, 0 },
	{ CONDITION_NOT_READY, "runtime.healthy<1", 10000, 0 },
};

static const char *const default_types[_CONDITION_KIND_MAX] = {
	[CONDITION_MEMORY_PRESSURE] = "KernelMemoryPressure",
	[CONDITION_DISK_PRESSURE] = "KernelDiskPressure",
	[CONDITION_PID_PRESSURE] = "KernelPIDPressure",
	[CONDITION_NETWORK_UNAVAILABLE] = "KernelNetworkUnavailable",
	[CONDITION_NOT_READY] = "KernelReady",
	[CONDITION_UNREACHABLE] = "KernelReady",
};

void engine_config_init_defaults(struct engine_config *cfg)
{
	*cfg = (struct engine_config){ .missed_samples_before_unknown = 5 };

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		struct condition_rule *rule = &cfg->rules[k];

		/* Only the controller sets Unreachable, from the Leases it watches. */
		rule->enabled = k != CONDITION_UNREACHABLE;
		rule->transition_period_ms = 5 * 60 * 1000;
		snprintf(rule->type, sizeof(rule->type), "%s", default_types[k]);
	}

	/* The expressions are constants that parse, so the results need no check. */
	for (size_t i = 0; i < sizeof(default_thresholds) / sizeof(default_thresholds[0]); i++)
		condition_rule_add_threshold(
			&cfg->rules[default_thresholds[i].kind], default_thresholds[i].expression,
			default_thresholds[i].for_ms, default_thresholds[i].window_ms, NULL, 0);
}

static void threshold_state_reset(struct threshold_state *ts)
{
	*ts = (struct threshold_state){ .last = THRESHOLD_UNAVAILABLE };
}

static void condition_state_reset(struct condition_state *cs, const struct condition_rule *rule)
{
	*cs = (struct condition_state){ 0 };
	snprintf(cs->condition.type, sizeof(cs->condition.type), "%s", rule->type);
	for (size_t i = 0; i < CONDITION_THRESHOLDS_MAX; i++)
		threshold_state_reset(&cs->thresholds[i]);
}

void condition_engine_init(struct condition_engine *e, const struct engine_config *cfg)
{
	memset(e, 0, sizeof(*e));
	e->config = *cfg;
	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		condition_state_reset(&e->states[k], &cfg->rules[k]);
}

static bool threshold_equal(const struct threshold *a, const struct threshold *b)
{
	return a->signal == b->signal && a->op == b->op && a->limit.milli == b->limit.milli &&
	       a->limit.percent == b->limit.percent && a->for_ms == b->for_ms &&
	       a->window_ms == b->window_ms;
}

void condition_engine_reconfigure(struct condition_engine *e, const struct engine_config *cfg)
{
	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition_rule *old = &e->config.rules[k], *new = &cfg->rules[k];
		struct condition_state *cs = &e->states[k];

		if (!new->enabled || !old->enabled || strcmp(old->type, new->type) != 0) {
			condition_state_reset(cs, new);
			continue;
		}

		/* A threshold that changed starts over, and the others keep their history. */
		for (size_t i = 0; i < CONDITION_THRESHOLDS_MAX; i++)
			if (i >= old->n_thresholds || i >= new->n_thresholds ||
			    !threshold_equal(&old->thresholds[i], &new->thresholds[i]))
				threshold_state_reset(&cs->thresholds[i]);
	}
	e->config = *cfg;
}

void condition_engine_adopt(struct condition_engine *e, const struct condition *existing, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
			const struct condition_rule *rule = &e->config.rules[k];
			struct condition_state *cs = &e->states[k];

			if (!rule->enabled || cs->evaluated ||
			    strcmp(existing[i].type, rule->type) != 0)
				continue;
			cs->condition = existing[i];
			cs->adopted = true;
		}
}

/* Drops window entries older than the trailing window (now - window, now]. */
static void window_expire(struct threshold_state *ts, int64_t now_ms, int64_t window_ms)
{
	while (ts->window_len > 0 && ts->window_times_ms[ts->window_head] <= now_ms - window_ms) {
		ts->window_head = (ts->window_head + 1) % WINDOW_SLOTS;
		ts->window_len--;
	}
}

/*
 * Records the events of one tick. Ticks that fall in the same slice of
 * window / (WINDOW_SLOTS - 1) share an entry stamped with the later tick,
 * so the ring never overflows.
 * NOTE: with ticks closer together than that slice, an event can stay in
 * the window up to one slice longer than the window (at most one second
 * for windows up to 63 s).
 */
static void window_add(struct threshold_state *ts, int64_t now_ms, int64_t count, int64_t window_ms)
{
	int64_t slice = (window_ms + (int64_t)WINDOW_SLOTS - 2) / ((int64_t)WINDOW_SLOTS - 1);
	size_t newest, slot;

	window_expire(ts, now_ms, window_ms);
	if (count <= 0)
		return;

	if (ts->window_len > 0) {
		/* The ring fills only if the clock went backwards. */
		newest = (ts->window_head + ts->window_len - 1) % WINDOW_SLOTS;
		if (ts->window_times_ms[newest] / slice == now_ms / slice ||
		    ts->window_len == WINDOW_SLOTS) {
			if (__builtin_add_overflow(ts->window_counts[newest], count,
						   &ts->window_counts[newest]))
				ts->window_counts[newest] = INT64_MAX;
			ts->window_times_ms[newest] = now_ms;
			return;
		}
	}

	slot = (ts->window_head + ts->window_len) % WINDOW_SLOTS;
	ts->window_times_ms[slot] = now_ms;
	ts->window_counts[slot] = count;
	ts->window_len++;
}

static int64_t window_sum(const struct threshold_state *ts)
{
	__int128 sum = 0;

	for (size_t i = 0; i < ts->window_len; i++)
		sum += ts->window_counts[(ts->window_head + i) % WINDOW_SLOTS];
	return sum > INT64_MAX ? INT64_MAX : (int64_t)sum;
}

/* Keeps the last result for up to max_missed ticks, then gives up on it. */
static enum threshold_result threshold_state_miss(struct threshold_state *ts, unsigned max_missed,
						  const char *missing_reason)
{
	if (ts->missed < UINT32_MAX)
		ts->missed++;
	snprintf(ts->reason, sizeof(ts->reason), "%s", missing_reason);

	if (ts->missed > max_missed) {
		ts->last = THRESHOLD_UNAVAILABLE;
		ts->holding = false;
		ts->met_since_ms = 0;
	}
	return ts->last;
}

/*
 * Brings one threshold up to date with the tick's sample. usable is false
 * for a sample without observation or an impossible one, and
 * missing_reason then explains it.
 */
static enum threshold_result threshold_state_update(struct threshold_state *ts,
						    const struct threshold *t,
						    const struct signal_sample *s, bool usable,
						    const char *missing_reason, unsigned max_missed,
						    int64_t now_ms)
{
	enum threshold_result raw;

	if (!usable)
		return threshold_state_miss(ts, max_missed, missing_reason);

	ts->missed = 0;
	ts->reason[0] = '\0';
	ts->has_limit = threshold_limit(t, s->has_capacity, s->capacity, &ts->limit) == 0;

	if (t->window_ms > 0) {
		window_add(ts, now_ms, s->value, t->window_ms);
		ts->last_observed = window_sum(ts);
		raw = threshold_compare_value(t, ts->last_observed, s->has_capacity, s->capacity);
	} else {
		raw = threshold_compare(t, s, &ts->last_observed);
	}

	if (raw == THRESHOLD_UNAVAILABLE) {
		snprintf(ts->reason, sizeof(ts->reason), "%s",
			 s->has_capacity
				 ? "capacity is zero, so a percentage cannot apply"
				 : "the sample has no capacity, so a percentage cannot apply");
		ts->holding = false;
		ts->met_since_ms = 0;
		ts->last = THRESHOLD_UNAVAILABLE;
		return ts->last;
	}

	if (raw == THRESHOLD_NOT_MET) {
		ts->holding = false;
		ts->met_since_ms = 0;
		ts->last = THRESHOLD_NOT_MET;
		return ts->last;
	}

	if (!ts->holding) {
		ts->holding = true;
		ts->met_since_ms = now_ms;
	}
	ts->last = now_ms - ts->met_since_ms >= t->for_ms ? THRESHOLD_MET : THRESHOLD_NOT_MET;
	return ts->last;
}

/* The inputs of one tick, shared by every kind. */
struct tick {
	const struct signal_sample *samples;
	const bool *usable;
	const char *const *missing_reasons;
	const struct readiness_context *ready;
	unsigned max_missed;
	int64_t now_ms;
};

/* Results of a kind's thresholds in one tick. */
struct kind_result {
	size_t n_considered;
	size_t n_met;
	size_t n_evaluable;
	enum signal_id first_met_signal;
	enum threshold_result results[CONDITION_THRESHOLDS_MAX];
	bool skipped[CONDITION_THRESHOLDS_MAX];
};

static bool threshold_needs_kubelet(const struct threshold *t)
{
	return t->signal == SIGNAL_KUBELET_HEALTHY || t->signal == SIGNAL_RUNTIME_HEALTHY;
}

static void kind_evaluate_thresholds(struct condition_state *cs, const struct condition_rule *rule,
				     enum condition_kind kind, const struct tick *tick,
				     struct kind_result *kr)
{
	*kr = (struct kind_result){ .first_met_signal = _SIGNAL_INVALID };

	for (size_t i = 0; i < rule->n_thresholds && i < CONDITION_THRESHOLDS_MAX; i++) {
		const struct threshold *t = &rule->thresholds[i];
		struct threshold_state *ts = &cs->thresholds[i];
		enum threshold_result r;

		if (kind == CONDITION_NOT_READY && !tick->ready->kubelet_expected &&
		    threshold_needs_kubelet(t)) {
			threshold_state_reset(ts);
			kr->skipped[i] = true;
			continue;
		}

		r = threshold_state_update(
			ts, t, &tick->samples[t->signal], tick->usable[t->signal],
			tick->missing_reasons[t->signal], tick->max_missed, tick->now_ms);
		kr->results[i] = r;
		kr->n_considered++;
		if (r != THRESHOLD_UNAVAILABLE)
			kr->n_evaluable++;
		if (r == THRESHOLD_MET && kr->n_met++ == 0)
			kr->first_met_signal = t->signal;
	}
}

static void value_format(enum signal_id id, int64_t value, char *buf, size_t len)
{
	signal_value_format(signal_info_get(id)->unit, value, buf, len);
}

/* Appends "<expression>[ for 10s][ over 60s]". */
static void text_append_expression(struct text *m, const struct threshold *t)
{
	char d[32];

	text_append(m, "%s", t->expression);
	if (t->for_ms > 0) {
		duration_format(t->for_ms, d, sizeof(d));
		text_append(m, " for %s", d);
	}
	if (t->window_ms > 0) {
		duration_format(t->window_ms, d, sizeof(d));
		text_append(m, " over %s", d);
	}
}

static void text_append_observation(struct text *m, const struct threshold *t,
				    const struct threshold_state *ts)
{
	char observed[48], limit[48];

	value_format(t->signal, ts->last_observed, observed, sizeof(observed));
	text_append(m, "observed %s", observed);
	if (ts->has_limit) {
		value_format(t->signal, ts->limit, limit, sizeof(limit));
		text_append(m, ", limit %s", limit);
	}
}

/* Lists the thresholds with the given result, each with its value or reason. */
static void text_append_thresholds(struct text *m, const struct condition_state *cs,
				   const struct condition_rule *rule, const struct kind_result *kr,
				   enum threshold_result which, int64_t now_ms)
{
	bool first = true;
	char d[32], f[32];

	for (size_t i = 0; i < rule->n_thresholds && i < CONDITION_THRESHOLDS_MAX; i++) {
		const struct threshold *t = &rule->thresholds[i];
		const struct threshold_state *ts = &cs->thresholds[i];

		if (kr->skipped[i] || kr->results[i] != which)
			continue;

		text_append(m, "%s", first ? "" : ", ");
		first = false;
		text_append_expression(m, t);

		if (which == THRESHOLD_UNAVAILABLE) {
			text_append(m, " (%s)", ts->reason[0] ? ts->reason : "no observation yet");
			continue;
		}
		text_append(m, " (");
		text_append_observation(m, t, ts);
		if (which == THRESHOLD_NOT_MET && ts->holding && t->for_ms > 0) {
			duration_format(now_ms - ts->met_since_ms, d, sizeof(d));
			duration_format(t->for_ms, f, sizeof(f));
			text_append(m, ", met for %s of %s", d, f);
		}
		if (ts->missed > 0)
			text_append(m, ", kept from an earlier tick: %s", ts->reason);
		text_append(m, ")");
	}
}

static void text_append_unknown(struct text *m, const struct condition_state *cs,
				const struct condition_rule *rule, const struct kind_result *kr,
				int64_t now_ms)
{
	if (kr->n_considered == kr->n_evaluable)
		return;
	text_append(m, "; unknown: ");
	text_append_thresholds(m, cs, rule, kr, THRESHOLD_UNAVAILABLE, now_ms);
}

/* Updates cs->active: met now, or met within the transition period. */
static void kind_update_activity(struct condition_state *cs, const struct condition_rule *rule,
				 const struct kind_result *kr, int64_t now_ms)
{
	if (kr->n_met > 0) {
		cs->active = true;
		cs->last_met_ms = now_ms;
		return;
	}
	if (cs->active && now_ms - cs->last_met_ms >= rule->transition_period_ms)
		cs->active = false;
}

/*
 * Writes the message of an active kind: the thresholds met now, or, while
 * the transition period keeps the status, what was last met and when.
 */
static void kind_message_active(struct condition_state *cs, const struct condition_rule *rule,
				const struct kind_result *kr, int64_t now_ms, struct text *m)
{
	struct text last = { cs->last_met, sizeof(cs->last_met), 0 };
	char ago[32], period[32];

	if (kr->n_met > 0) {
		text_append_thresholds(&last, cs, rule, kr, THRESHOLD_MET, now_ms);
		text_append(m, "threshold met: %s", cs->last_met);
	} else {
		duration_format(now_ms - cs->last_met_ms, ago, sizeof(ago));
		duration_format(rule->transition_period_ms, period, sizeof(period));
		text_append(
			m,
			"no threshold met for %s; holding until none is met for %s (transition period)",
			ago, period);
		if (cs->last_met[0])
			text_append(m, "; last met: %s", cs->last_met);
	}
	text_append_unknown(m, cs, rule, kr, now_ms);
}

static void kind_message_inactive(struct condition_state *cs, const struct condition_rule *rule,
				  const struct kind_result *kr, int64_t now_ms, struct text *m)
{
	if (kr->n_evaluable > 0) {
		text_append(m, "no threshold met: ");
		text_append_thresholds(m, cs, rule, kr, THRESHOLD_NOT_MET, now_ms);
		text_append_unknown(m, cs, rule, kr, now_ms);
		return;
	}
	text_append(m, "no threshold can be evaluated: ");
	text_append_thresholds(m, cs, rule, kr, THRESHOLD_UNAVAILABLE, now_ms);
}

static const char *not_ready_reason(const struct condition_state *cs, const struct kind_result *kr)
{
	if (kr->first_met_signal == SIGNAL_KUBELET_HEALTHY)
		return REASON_KUBELET_UNHEALTHY;
	if (kr->first_met_signal == SIGNAL_RUNTIME_HEALTHY)
		return REASON_RUNTIME_UNHEALTHY;
	if (kr->first_met_signal != _SIGNAL_INVALID)
		return REASON_KERNEL_NOT_READY;

	/* Held by the transition period: keep the reason of the last threshold met. */
	if ((cs->evaluated || cs->adopted) && cs->condition.status == CONDITION_STATUS_FALSE &&
	    (strcmp(cs->condition.reason, REASON_KUBELET_UNHEALTHY) == 0 ||
	     strcmp(cs->condition.reason, REASON_RUNTIME_UNHEALTHY) == 0))
		return cs->condition.reason;
	return REASON_KERNEL_NOT_READY;
}

/* Derives the Ready kind's published status: True when no threshold is met. */
static void kind_derive_ready(struct condition_state *cs, const struct condition_rule *rule,
			      const struct kind_result *kr, const struct tick *tick,
			      struct condition *c)
{
	struct text m = { c->message, sizeof(c->message), 0 };
	const char *reason;

	if (!tick->ready->samplers_running) {
		c->status = CONDITION_STATUS_FALSE;
		reason = REASON_SAMPLERS_FAILED;
		text_append(
			&m,
			"the agent's samplers are not running, so node health cannot be measured");
	} else if (cs->active) {
		c->status = CONDITION_STATUS_FALSE;
		reason = not_ready_reason(cs, kr);
		kind_message_active(cs, rule, kr, tick->now_ms, &m);
	} else if (!tick->ready->kubelet_expected &&
		   (kr->n_considered == 0 || kr->n_evaluable > 0)) {
		c->status = CONDITION_STATUS_TRUE;
		reason = REASON_NO_KUBELET_EXPECTED;
		text_append(&m, "no kubelet is expected on this host and the samplers are running");
		if (kr->n_considered > 0) {
			text_append(&m, "; ");
			kind_message_inactive(cs, rule, kr, tick->now_ms, &m);
		}
	} else if (kr->n_evaluable > 0) {
		c->status = CONDITION_STATUS_TRUE;
		reason = REASON_KERNEL_READY;
		kind_message_inactive(cs, rule, kr, tick->now_ms, &m);
	} else {
		c->status = CONDITION_STATUS_UNKNOWN;
		reason = REASON_SIGNAL_UNAVAILABLE;
		kind_message_inactive(cs, rule, kr, tick->now_ms, &m);
	}
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
}

/* Derives a pressure kind's status: True under pressure. */
static void kind_derive_pressure(struct condition_state *cs, const struct condition_rule *rule,
				 enum condition_kind kind, const struct kind_result *kr,
				 int64_t now_ms, struct condition *c)
{
	struct text m = { c->message, sizeof(c->message), 0 };
	const char *reason;

	if (cs->active) {
		c->status = CONDITION_STATUS_TRUE;
		reason = pressure_reasons[kind].met;
		kind_message_active(cs, rule, kr, now_ms, &m);
	} else if (kr->n_evaluable > 0) {
		c->status = CONDITION_STATUS_FALSE;
		reason = pressure_reasons[kind].not_met;
		kind_message_inactive(cs, rule, kr, now_ms, &m);
	} else {
		c->status = CONDITION_STATUS_UNKNOWN;
		reason = REASON_SIGNAL_UNAVAILABLE;
		kind_message_inactive(cs, rule, kr, now_ms, &m);
	}
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
}

/*
 * An adopted condition that was under pressure (or not ready) when the
 * agent stopped counts as met at the first evaluation. The transition period
 * then keeps it, so a restart does not flap it while "for" durations build
 * up again.
 */
static void kind_resume_adopted(struct condition_state *cs, enum condition_kind kind,
				int64_t now_ms)
{
	char reason[CONDITION_REASON_MAX];
	bool was_active;

	if (kind == CONDITION_NOT_READY)
		was_active = cs->condition.status == CONDITION_STATUS_FALSE &&
			     strcmp(cs->condition.reason, REASON_SAMPLERS_FAILED) != 0;
	else
		was_active = cs->condition.status == CONDITION_STATUS_TRUE;

	if (!was_active)
		return;

	cs->active = true;
	cs->last_met_ms = now_ms;
	/* A copy, because GCC's -Wrestrict cannot tell the two fields of cs apart. */
	memcpy(reason, cs->condition.reason, sizeof(reason));
	reason[sizeof(reason) - 1] = '\0';
	snprintf(cs->last_met, sizeof(cs->last_met), "%s (%s, before the agent restarted)", reason,
		 condition_status_name(cs->condition.status));
}

/* Evaluates one kind. Returns true and fills tr when its status changed. */
static bool kind_update(struct condition_engine *e, enum condition_kind kind,
			const struct tick *tick, struct condition_transition *tr)
{
	const struct condition_rule *rule = &e->config.rules[kind];
	struct condition_state *cs = &e->states[kind];
	enum condition_status from = CONDITION_STATUS_UNKNOWN;
	struct condition c = { 0 };
	struct kind_result kr;
	bool changed;

	if (!cs->evaluated && cs->adopted)
		kind_resume_adopted(cs, kind, tick->now_ms);

	kind_evaluate_thresholds(cs, rule, kind, tick, &kr);
	kind_update_activity(cs, rule, &kr, tick->now_ms);

	snprintf(c.type, sizeof(c.type), "%s", rule->type);
	if (kind == CONDITION_NOT_READY)
		kind_derive_ready(cs, rule, &kr, tick, &c);
	else
		kind_derive_pressure(cs, rule, kind, &kr, tick->now_ms, &c);

	if (cs->evaluated || cs->adopted)
		from = cs->condition.status;
	changed = !(cs->evaluated || cs->adopted) || from != c.status;

	c.last_heartbeat_ms = tick->now_ms;
	c.last_transition_ms = changed || cs->condition.last_transition_ms == 0
				       ? tick->now_ms
				       : cs->condition.last_transition_ms;
	cs->condition = c;
	cs->evaluated = true;

	if (changed)
		*tr = (struct condition_transition){
			.kind = kind, .from = from, .to = c.status, .condition = c
		};
	return changed;
}

size_t condition_engine_update(struct condition_engine *e, const struct signal_sample *samples,
			       const struct readiness_context *ready, int64_t now_ms,
			       struct condition_transition *out, size_t max)
{
	static const struct readiness_context ready_default = { .kubelet_expected = true,
								.samplers_running = true };
	bool usable[_SIGNAL_MAX];
	const char *missing_reasons[_SIGNAL_MAX];
	struct tick tick = {
		.samples = samples,
		.usable = usable,
		.missing_reasons = missing_reasons,
		.ready = ready ? ready : &ready_default,
		.max_missed = e->config.missed_samples_before_unknown,
		.now_ms = now_ms,
	};
	size_t n = 0;

	for (int i = 0; i < _SIGNAL_MAX; i++) {
		struct signal_sample s = samples[i];

		s.id = (enum signal_id)i;
		e->sample_problems[i][0] = '\0';
		usable[i] = s.observed && signal_sample_check(&s, e->sample_problems[i],
							      sizeof(e->sample_problems[i])) == 0;
		if (e->sample_problems[i][0])
			missing_reasons[i] = e->sample_problems[i];
		else if (!s.observed && samples[i].reason[0])
			missing_reasons[i] = samples[i].reason;
		else
			missing_reasons[i] = "no observation";
	}

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition_rule *rule = &e->config.rules[k];
		struct condition_transition tr;

		if (!rule->enabled || rule->n_thresholds == 0)
			continue;
		if (kind_update(e, (enum condition_kind)k, &tick, &tr)) {
			if (n < max)
				out[n] = tr;
			n++;
		}
	}
	return n;
}

const struct condition *condition_engine_get(const struct condition_engine *e,
					     enum condition_kind kind)
{
	if (kind < 0 || kind >= _CONDITION_KIND_MAX)
		return NULL;
	if (!e->config.rules[kind].enabled || !e->states[kind].evaluated)
		return NULL;
	return &e->states[kind].condition;
}

const char *condition_engine_sample_problem(const struct condition_engine *e, enum signal_id id)
{
	if (id < 0 || id >= _SIGNAL_MAX || e->sample_problems[id][0] == '\0')
		return NULL;
	return e->sample_problems[id];
}
