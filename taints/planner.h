/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The taint planner: computes the desired taint list of a Node from the
 * current conditions and the Node's current taints.
 *
 *   kind                   taints (from the profile) while
 *   MemoryPressure, DiskPressure,
 *   PIDPressure,
 *   NetworkUnavailable     its condition is True
 *   NotReady               the Ready condition is False
 *   Unreachable            the Ready condition is Unknown and the controller
 *                          set it so because the node stopped reporting
 *
 * NotReady and Unreachable are states of one condition, so their taints
 * never coexist: a change from one to the other replaces the family in one
 * result.
 *
 * Level-triggered: the result depends only on the input, never on what the
 * planner returned before, so an owned taint someone removed is put back
 * and a stale one goes.
 */
#ifndef NODECOND_TAINTS_PLANNER_H
#define NODECOND_TAINTS_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conditions/condition.h"
#include "taints/profile.h"
#include "taints/taint.h"

/* The maximum number of owned taints a profile can desire at once. */
#define TAINT_PLAN_OWNED_MAX (_CONDITION_KIND_MAX * PROFILE_KIND_TAINTS_MAX)

/* The reason the controller writes when it sets the Ready condition to Unknown. */
#define TAINT_REASON_NODE_STATUS_UNKNOWN "NodeStatusUnknown"

/* The current state of one kind's condition on the Node. */
struct taint_kind_status {
	bool present;                   /* false: not published (yet), or local mode */
	enum condition_status status;
};

struct taint_plan_input {
	/*
	 * Indexed by enum condition_kind. The CONDITION_NOT_READY entry is the
	 * Ready condition (KernelReady or Ready). The CONDITION_UNREACHABLE
	 * entry is not read, because Unreachable is the Ready condition with
	 * status Unknown and ready_unknown_set_by_controller.
	 */
	struct taint_kind_status kinds[_CONDITION_KIND_MAX];

	/*
	 * The Ready condition is Unknown because the controller found the node
	 * silent (reason NodeStatusUnknown), not because the agent could not
	 * evaluate it (reason SignalUnavailable, which adds no taint).
	 */
	bool ready_unknown_set_by_controller;

	/*
	 * Kinds whose missing taints must wait, for the controller's rate
	 * limits and caps. Taints of such a kind that are present and still
	 * desired stay, the others go, and missing ones are not added.
	 */
	bool defer_additions[_CONDITION_KIND_MAX];
};

struct taint_plan_result {
	size_t n_taints;    /* entries written to the output */
	bool changed;       /* the output differs from the current list */
	unsigned added;     /* owned taints appended */
	unsigned removed;   /* owned taints dropped */
	unsigned deferred;  /* desired taints not added because of defer_additions */
};

/*
 * Fills an input from the Node's conditions, finding each kind's condition
 * by the profile's type. ready_unknown_set_by_controller is set when the
 * Ready condition is Unknown with reason NodeStatusUnknown. Conditions of
 * other types are ignored, and defer_additions is cleared.
 */
void taint_plan_input_from_conditions(struct taint_plan_input *in, const struct taint_profile *p,
				      const struct condition *conditions, size_t n);

/*
 * Computes the new taint list into out (room for max_out entries, not
 * aliasing current):
 *   - every taint whose key the profile does not own is kept unchanged,
 *     in its place;
 *   - an owned taint that is still desired (same key, effect and value) is
 *     kept unchanged, timeAdded included;
 *   - any other owned taint, or a second copy of a desired one, is dropped;
 *   - desired taints that are missing are appended in the profile's order,
 *     with timeAdded now_ms for NoExecute (as the API server sets it) and
 *     unset for other effects.
 * With every kind absent the result removes all owned taints, which is what
 * uninstalling needs. Returns 0, or -ENOSPC when out is too small;
 * n_current + TAINT_PLAN_OWNED_MAX entries are always enough.
 */
int taint_plan(const struct taint_profile *p, const struct taint_plan_input *in,
	       const struct taint *current, size_t n_current, int64_t now_ms,
	       struct taint *out, size_t max_out, struct taint_plan_result *ret);

#endif
