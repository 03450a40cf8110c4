// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "taints/planner.h"

struct desired_taint {
	const struct taint *taint;  /* in the profile */
	enum condition_kind kind;
	bool present;               /* already on the Node */
};

void taint_plan_input_from_conditions(struct taint_plan_input *in, const struct taint_profile *p,
				      const struct condition *conditions, size_t n)
{
	memset(in, 0, sizeof(*in));

	for (size_t i = 0; i < n; i++) {
		enum condition_kind kind = taint_profile_kind_of_type(p, conditions[i].type);

		if (kind == _CONDITION_KIND_INVALID)
			continue;
		in->kinds[kind].present = true;
		in->kinds[kind].status = conditions[i].status;
		if (kind == CONDITION_NOT_READY)
			in->ready_unknown_set_by_controller =
				conditions[i].status == CONDITION_STATUS_UNKNOWN &&
				strcmp(conditions[i].reason, TAINT_REASON_NODE_STATUS_UNKNOWN) == 0;
	}
}

static bool kind_condition_met(const struct taint_plan_input *in, enum condition_kind kind)
{
	const struct taint_kind_status *ready = &in->kinds[CONDITION_NOT_READY];

	switch (kind) {
	case CONDITION_NOT_READY:
		return ready->present && ready->status == CONDITION_STATUS_FALSE;
	case CONDITION_UNREACHABLE:
		return ready->present && ready->status == CONDITION_STATUS_UNKNOWN &&
		       in->ready_unknown_set_by_controller;
	default:
		return in->kinds[kind].present && in->kinds[kind].status == CONDITION_STATUS_TRUE;
	}
}

static size_t collect_desired(const struct taint_profile *p, const struct taint_plan_input *in,
			      struct desired_taint *desired)
{
	size_t n = 0;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		if (!kind_condition_met(in, k))
			continue;
		for (size_t i = 0; i < p->kinds[k].n_taints && i < PROFILE_KIND_TAINTS_MAX; i++)
			desired[n++] = (struct desired_taint){
				.taint = &p->kinds[k].taints[i],
				.kind = k,
			};
	}
	return n;
}

/* Returns the first desired taint not yet on the Node with the same key, effect and value. */
static struct desired_taint *find_desired(struct desired_taint *desired, size_t n,
					  const struct taint *t)
{
	for (size_t i = 0; i < n; i++)
		if (!desired[i].present && taint_matches_key_effect(desired[i].taint, t) &&
		    strcmp(desired[i].taint->value, t->value) == 0)
			return &desired[i];
	return NULL;
}

static bool lists_equal(const struct taint *a, size_t n_a, const struct taint *b, size_t n_b)
{
	if (n_a != n_b)
		return false;
	for (size_t i = 0; i < n_a; i++)
		if (!taint_equal(&a[i], &b[i]))
			return false;
	return true;
}

int taint_plan(const struct taint_profile *p, const struct taint_plan_input *in,
	       const struct taint *current, size_t n_current, int64_t now_ms,
	       struct taint *out, size_t max_out, struct taint_plan_result *ret)
{
	struct desired_taint desired[TAINT_PLAN_OWNED_MAX];
	size_t n_desired = collect_desired(p, in, desired);
	struct taint_plan_result r = { 0 };

	for (size_t i = 0; i < n_current; i++) {
		const struct taint *t = &current[i];

		if (taint_profile_owns_key(p, t->key)) {
			struct desired_taint *w = find_desired(desired, n_desired, t);

			if (!w) {
				r.removed++;
				continue;
			}
			w->present = true;
		}
		if (r.n_taints >= max_out)
			return -ENOSPC;
		out[r.n_taints++] = *t;
	}

	for (size_t i = 0; i < n_desired; i++) {
		struct taint *added;

		if (desired[i].present)
			continue;
		if (in->defer_additions[desired[i].kind]) {
			r.deferred++;
			continue;
		}
		if (r.n_taints >= max_out)
			return -ENOSPC;
		added = &out[r.n_taints++];
		*added = *desired[i].taint;
		added->time_added_ms = added->effect == TAINT_EFFECT_NO_EXECUTE ? now_ms : 0;
		r.added++;
	}

	r.changed = !lists_equal(current, n_current, out, r.n_taints);
	*ret = r;
	return 0;
}
