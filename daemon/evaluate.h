/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One tick's evaluation: the condition engine on the tick's samples, then
 * the taint planner on the conditions that result. The agent and
 * `nodecond replay` both call it, so a replay takes the same steps as the
 * agent did.
 */
#ifndef NODECOND_DAEMON_EVALUATE_H
#define NODECOND_DAEMON_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "conditions/engine.h"
#include "conditions/signal.h"
#include "taints/planner.h"
#include "taints/profile.h"

/* Room for the Node's own taints plus every taint nodecond can own. */
#define EVALUATE_TAINTS_MAX (64 + TAINT_PLAN_OWNED_MAX)

/* At most two transitions per kind fit; the engine makes at most one. */
#define EVALUATE_TRANSITIONS_MAX (_CONDITION_KIND_MAX * 2)

/* The taint list a tick plans on, and its capacity. */
struct evaluate_taints {
	struct taint *taints;
	size_t n;
	size_t max;                   /* at most EVALUATE_TAINTS_MAX entries are used */
};

struct evaluate_result {
	struct condition_transition transitions[EVALUATE_TRANSITIONS_MAX];
	size_t n_transitions;
	struct taint_plan_result plan;
	int plan_error;               /* 0, or the -errno of taint_plan(); the taints are unchanged then */
};

/*
 * Replans taints from the engine's current conditions. taints is replaced
 * with the plan when it changed. Returns 0 or the -errno of taint_plan()
 * (-ENOSPC when taints->max is too small).
 */
int evaluate_plan_taints(const struct condition_engine *e, const struct taint_profile *p, int64_t now_ms,
			 struct evaluate_taints *taints, struct taint_plan_result *ret);

/*
 * Evaluates one tick: condition_engine_update() on samples (_SIGNAL_MAX
 * entries, indexed by enum signal_id) at now_ms, then
 * evaluate_plan_taints(). Fills ret with the transitions and the plan.
 */
void evaluate_tick(struct condition_engine *e, const struct taint_profile *p, const struct signal_sample *samples,
		   const struct readiness_context *ready, int64_t now_ms, struct evaluate_taints *taints,
		   struct evaluate_result *ret);

#endif
