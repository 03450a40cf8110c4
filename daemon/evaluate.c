/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "daemon/evaluate.h"

int evaluate_plan_taints(const struct condition_engine *e, const struct taint_profile *p, int64_t now_ms,
			 struct evaluate_taints *taints, struct taint_plan_result *ret)
{
	struct condition conditions[_CONDITION_KIND_MAX];
	struct taint planned[EVALUATE_TAINTS_MAX];
	struct taint_plan_input input;
	size_t n = 0, max = taints->max < EVALUATE_TAINTS_MAX ? taints->max : EVALUATE_TAINTS_MAX;
	int r;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition *c = condition_engine_get(e, (enum condition_kind)k);

		if (c)
			conditions[n++] = *c;
	}
	taint_plan_input_from_conditions(&input, p, conditions, n);
	r = taint_plan(p, &input, taints->taints, taints->n, now_ms, planned, max, ret);
	if (r < 0)
		return r;
	if (ret->changed) {
		memcpy(taints->taints, planned, ret->n_taints * sizeof(planned[0]));
		taints->n = ret->n_taints;
	}
	return 0;
}

void evaluate_tick(struct condition_engine *e, const struct taint_profile *p, const struct signal_sample *samples,
		   const struct readiness_context *ready, int64_t now_ms, struct evaluate_taints *taints,
		   struct evaluate_result *ret)
{
	size_t n;

	memset(&ret->plan, 0, sizeof(ret->plan));
	n = condition_engine_update(e, samples, ready, now_ms, ret->transitions, EVALUATE_TRANSITIONS_MAX);
	ret->n_transitions = n < EVALUATE_TRANSITIONS_MAX ? n : EVALUATE_TRANSITIONS_MAX;
	ret->plan_error = evaluate_plan_taints(e, p, now_ms, taints, &ret->plan);
}
