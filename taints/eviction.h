/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When a node's NoExecute taints evict a pod, decided as Kubernetes' taint
 * eviction controller (pkg/controller/tainteviction) decides it:
 *   - for each NoExecute taint, the first of the pod's tolerations that
 *     matches it is the one used; later matches are ignored, even stricter
 *     ones;
 *   - a NoExecute taint that no toleration matches evicts at once;
 *   - otherwise the smallest tolerationSeconds among the used tolerations
 *     applies: none set, never; zero or negative, at once.
 * Taints with other effects never evict, so their verdict only records
 * whether they are tolerated.
 *
 * The time is counted from each taint's timeAdded, or from now_ms when the
 * taint has none, and the pod's eviction is the earliest of its taints'.
 * NOTE: the controller itself counts from when it first scheduled the
 * eviction, and does not move an eviction it already scheduled when more
 * NoExecute taints arrive. Both agree when the NoExecute taints appeared
 * together, as the not-ready or unreachable pair does. Otherwise this
 * result is an estimate of what the controller will do.
 */
#ifndef NODECOND_TAINTS_EVICTION_H
#define NODECOND_TAINTS_EVICTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "taints/taint.h"
#include "taints/toleration.h"

enum eviction_kind {
	EVICTION_NEVER,  /* tolerated for good, or not a NoExecute taint */
	EVICTION_NOW,    /* not tolerated, or tolerationSeconds <= 0 */
	EVICTION_AT,     /* at at_ms, which may already be past */
	_EVICTION_KIND_MAX,
};

struct eviction {
	enum eviction_kind kind;
	int64_t at_ms;  /* EVICTION_AT only; INT64_MAX when the sum overflows */
};

/* The verdict on one taint for a pod's tolerations. */
struct taint_verdict {
	bool tolerated;              /* some toleration matches the taint */
	ssize_t toleration_index;    /* the first matching toleration, or -1 */
	struct eviction eviction;    /* EVICTION_NEVER for effects other than NoExecute */
};

/* Returns "Never", "Now" or "At", or NULL for an invalid kind. */
const char *eviction_kind_name(enum eviction_kind kind);

/*
 * Computes the verdict for every taint and returns the pod's eviction: NOW
 * when any NoExecute taint is untolerated or has a used tolerationSeconds
 * <= 0, else AT the earliest time among the taints, else NEVER. verdicts
 * has n_taints entries, or is NULL when only the overall result matters.
 */
struct eviction eviction_evaluate(const struct taint *taints, size_t n_taints,
				  const struct toleration *tolerations, size_t n_tolerations,
				  int64_t now_ms, struct taint_verdict *verdicts);

#endif
