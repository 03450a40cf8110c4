/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The condition engine: samples in, conditions and transitions out.
 *
 * Pure logic. Time is an argument (milliseconds since the Unix epoch, from a
 * clock that does not jump; the daemon derives it from CLOCK_MONOTONIC).
 */
#ifndef NODECOND_CONDITIONS_ENGINE_H
#define NODECOND_CONDITIONS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conditions/condition.h"
#include "conditions/signal.h"
#include "conditions/threshold.h"

#define CONDITION_THRESHOLDS_MAX 8

/* The evaluation rule of one kind: its condition type, thresholds and transition period. */
struct condition_rule {
	bool enabled;                 /* false: never evaluated nor published */
	char type[CONDITION_TYPE_MAX];
	struct threshold thresholds[CONDITION_THRESHOLDS_MAX];
	size_t n_thresholds;
	int64_t transition_period_ms;
};

struct engine_config {
	struct condition_rule rules[_CONDITION_KIND_MAX];
	unsigned missed_samples_before_unknown;
};

/* Fills cfg with the defaults of the companion profile. */
void engine_config_init_defaults(struct engine_config *cfg);

/* Per-threshold state the engine keeps between ticks. */
struct threshold_state {
	enum threshold_result last;   /* last result that counted */
	unsigned missed;              /* consecutive ticks without observation */
	int64_t met_since_ms;         /* when the raw comparison started to hold; 0: not */
	int64_t last_observed;        /* value compared, in the signal's unit */
	/* window thresholds: event counts per tick over the trailing window */
	int64_t window_times_ms[64];
	int64_t window_counts[64];
	size_t window_head;
	size_t window_len;
	bool holding;                 /* the raw comparison is true since met_since_ms */
	bool has_limit;               /* limit is valid */
	int64_t limit;                /* integer limit from threshold_limit(), signal's unit */
	char reason[SIGNAL_REASON_MAX]; /* why the last tick had no result; empty when it had one */
};

struct condition_state {
	struct condition condition;
	bool evaluated;               /* has had its first own evaluation */
	bool adopted;                 /* condition came from the Node or state file */
	int64_t last_met_ms;          /* last tick at which any threshold was met */
	struct threshold_state thresholds[CONDITION_THRESHOLDS_MAX];
	bool active;                  /* a threshold was met within the transition period */
	char last_met[CONDITION_MESSAGE_MAX / 2]; /* what was met at last_met_ms, for the message */
};

struct condition_transition {
	enum condition_kind kind;
	enum condition_status from;
	enum condition_status to;
	struct condition condition;   /* the condition after the transition */
};

struct condition_engine {
	struct engine_config config;
	struct condition_state states[_CONDITION_KIND_MAX];
	/* per signal: why the last sample was rejected as impossible; empty if it was not */
	char sample_problems[_SIGNAL_MAX][SIGNAL_REASON_MAX];
};

void condition_engine_init(struct condition_engine *e, const struct engine_config *cfg);

/*
 * Replaces the configuration (SIGHUP) while keeping each kind's published
 * condition, so a reload never flaps a status.
 */
void condition_engine_reconfigure(struct condition_engine *e, const struct engine_config *cfg);

/*
 * Adopts conditions read from the Node or the state file: for each owned
 * type, the status and lastTransitionTime are kept until the first own
 * evaluation, and lastTransitionTime survives when that evaluation gives
 * the same status. Conditions of other types are ignored.
 */
void condition_engine_adopt(struct condition_engine *e, const struct condition *existing, size_t n);

/*
 * Facts about the node that are not signals but decide the Ready kind: on a
 * host where no kubelet is expected, the Ready kind is True with reason
 * NoKubeletExpected while the samplers run, and False when they fail.
 */
struct readiness_context {
	bool kubelet_expected;
	bool samplers_running;
};

/*
 * Evaluates one tick. samples is indexed by enum signal_id and has
 * _SIGNAL_MAX entries. Writes up to max transitions to out and returns how
 * many happened. A first evaluation that differs from an adopted status is
 * a transition. A first evaluation without adoption is one too, from
 * Unknown, even when its status is Unknown.
 *
 * Statuses are the published ones: for CONDITION_NOT_READY a met threshold
 * makes the Ready-kind type (KernelReady) False and none met makes it True.
 * Kinds without thresholds (Unreachable, which only the controller sets)
 * are never evaluated here.
 */
size_t condition_engine_update(struct condition_engine *e, const struct signal_sample *samples,
			       const struct readiness_context *ready, int64_t now_ms, struct condition_transition *out, size_t max);

/* Returns the current condition of a kind, or NULL before its first evaluation. */
const struct condition *condition_engine_get(const struct condition_engine *e, enum condition_kind kind);

/*
 * Returns why the last sample of a signal given to condition_engine_update()
 * was rejected as impossible ("impossible sample: memory.available is
 * negative (-5)"), or NULL when it was accepted or had no observation.
 */
const char *condition_engine_sample_problem(const struct condition_engine *e, enum signal_id id);

/*
 * Adds a threshold to a rule. Returns 0, -E2BIG when the rule already has
 * CONDITION_THRESHOLDS_MAX thresholds, or the error of threshold_parse()
 * with its message in err.
 */
int condition_rule_add_threshold(struct condition_rule *rule, const char *expression, int64_t for_ms,
				 int64_t window_ms, char *err, size_t err_len);

#endif
