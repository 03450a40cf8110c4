// SPDX-License-Identifier: Apache-2.0
#include <stdint.h>
#include <string.h>

#include "conditions/readiness.h"

const struct condition *readiness_find(const struct condition *conditions, size_t n,
				       const char *type)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(conditions[i].type, type) == 0)
			return &conditions[i];
	return NULL;
}

static bool condition_is_true(const struct condition *conditions, size_t n, const char *type)
{
	const struct condition *c = readiness_find(conditions, n, type);

	return c && c->status == CONDITION_STATUS_TRUE;
}

bool readiness_node_ready(const struct condition *conditions, size_t n, const char *ready_type)
{
	return condition_is_true(conditions, n, ready_type);
}

bool readiness_pod_ready(const struct condition *conditions, size_t n)
{
	return condition_is_true(conditions, n, "Ready");
}

bool readiness_pod_available(const struct condition *conditions, size_t n,
			     int64_t min_ready_seconds, int64_t now_ms)
{
	const struct condition *ready = readiness_find(conditions, n, "Ready");

	if (!ready || ready->status != CONDITION_STATUS_TRUE)
		return false;
	if (min_ready_seconds <= 0)
		return true;
	if (ready->last_transition_ms == 0 || min_ready_seconds > INT64_MAX / 1000)
		return false;

	/* Written as a difference so that a late transition time cannot overflow. */
	return now_ms - ready->last_transition_ms > min_ready_seconds * 1000;
}

bool readiness_job_finished(const struct condition *conditions, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((strcmp(conditions[i].type, "Complete") == 0 ||
		     strcmp(conditions[i].type, "Failed") == 0) &&
		    conditions[i].status == CONDITION_STATUS_TRUE)
			return true;
	return false;
}

int64_t readiness_resync_period(int64_t min_ms, uint64_t random)
{
	unsigned __int128 period;

	if (min_ms <= 0)
		return 0;

	/* min + min * random / 2^64, which is below 2 * min for every random. */
	period = (unsigned __int128)min_ms + (((unsigned __int128)random * (uint64_t)min_ms) >> 64);
	return period > INT64_MAX ? INT64_MAX : (int64_t)period;
}
