// SPDX-License-Identifier: Apache-2.0
#include <stdint.h>

#include "taints/eviction.h"

static const char *const kind_names[_EVICTION_KIND_MAX] = {
	[EVICTION_NEVER] = "Never",
	[EVICTION_NOW] = "Now",
	[EVICTION_AT] = "At",
};

const char *eviction_kind_name(enum eviction_kind kind)
{
	if (kind < 0 || kind >= _EVICTION_KIND_MAX)
		return NULL;
	return kind_names[kind];
}

/* start_ms + seconds * 1000, saturating at INT64_MAX; seconds is positive. */
static int64_t add_seconds(int64_t start_ms, int64_t seconds)
{
	if (seconds > (INT64_MAX - (start_ms > 0 ? start_ms : 0)) / 1000)
		return INT64_MAX;
	return start_ms + seconds * 1000;
}

static struct eviction taint_eviction(const struct taint *taint, const struct toleration *used,
				      int64_t now_ms)
{
	struct eviction e = { .kind = EVICTION_NEVER };
	int64_t start_ms;

	if (taint->effect != TAINT_EFFECT_NO_EXECUTE)
		return e;
	if (!used || (used->has_toleration_seconds && used->toleration_seconds <= 0)) {
		e.kind = EVICTION_NOW;
		return e;
	}
	if (!used->has_toleration_seconds)
		return e;

	start_ms = taint->time_added_ms ? taint->time_added_ms : now_ms;
	e.kind = EVICTION_AT;
	e.at_ms = add_seconds(start_ms, used->toleration_seconds);
	return e;
}

/* Combines two evictions into the one that comes first. */
static struct eviction earliest(struct eviction a, struct eviction b)
{
	if (a.kind == EVICTION_NOW || b.kind == EVICTION_NEVER)
		return a;
	if (b.kind == EVICTION_NOW || a.kind == EVICTION_NEVER)
		return b;
	return a.at_ms <= b.at_ms ? a : b;
}

struct eviction eviction_evaluate(const struct taint *taints, size_t n_taints,
				  const struct toleration *tolerations, size_t n_tolerations,
				  int64_t now_ms, struct taint_verdict *verdicts)
{
	struct eviction pod = { .kind = EVICTION_NEVER };

	for (size_t i = 0; i < n_taints; i++) {
		ssize_t first = toleration_find_first(tolerations, n_tolerations, &taints[i]);
		const struct toleration *used = first >= 0 ? &tolerations[first] : NULL;
		struct eviction e = taint_eviction(&taints[i], used, now_ms);

		if (verdicts) {
			verdicts[i].tolerated = used != NULL;
			verdicts[i].toleration_index = first;
			verdicts[i].eviction = e;
		}
		pod = earliest(pod, e);
	}
	return pod;
}
