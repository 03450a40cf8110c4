// SPDX-License-Identifier: Apache-2.0
/*
 * The tolerations Kubernetes adds to pods on its own: the DaemonSet
 * controller's (pkg/controller/daemon/util) and the DefaultTolerationSeconds
 * admission plugin's (plugin/pkg/admission/defaulttolerationseconds).
 */
#include <errno.h>
#include <string.h>

#include "taints/toleration.h"

static struct toleration exists_toleration(const char *key, const char *effect)
{
	struct toleration t;

	toleration_init(&t, key, TOLERATION_OP_EXISTS, NULL, effect, NULL, NULL, 0);
	return t;
}

/*
 * Kubernetes' MatchToleration: two tolerations are the same entry when key,
 * operator, value and effect are equal.
 */
static bool same_entry(const struct toleration *a, const struct toleration *b)
{
	return strcmp(a->key, b->key) == 0 && strcmp(a->operator, b->operator) == 0 &&
	       strcmp(a->value, b->value) == 0 && strcmp(a->effect, b->effect) == 0;
}

static bool same_seconds(const struct toleration *a, const struct toleration *b)
{
	if (a->has_toleration_seconds != b->has_toleration_seconds)
		return false;
	return !a->has_toleration_seconds || a->toleration_seconds == b->toleration_seconds;
}

/*
 * Kubernetes' AddOrUpdateTolerationInPodSpec. Returns the number of entries
 * the list gains (0 or 1) without changing it when dry_run is set.
 */
static size_t add_or_update(struct toleration *list, size_t *n, const struct toleration *add,
			    bool dry_run)
{
	bool matched = false;

	for (size_t i = 0; i < *n; i++) {
		if (!same_entry(&list[i], add))
			continue;
		if (same_seconds(&list[i], add))
			return 0;
		matched = true;
	}
	if (matched) {
		for (size_t i = 0; i < *n && !dry_run; i++)
			if (same_entry(&list[i], add))
				list[i] = *add;
		return 0;
	}

	if (!dry_run)
		list[(*n)++] = *add;
	return 1;
}

int toleration_add_daemonset_defaults(struct toleration *list, size_t *n, size_t max,
				      bool host_network)
{
	struct toleration defaults[] = {
		exists_toleration(TAINT_KEY_NOT_READY, "NoExecute"),
		exists_toleration(TAINT_KEY_UNREACHABLE, "NoExecute"),
		exists_toleration(TAINT_KEY_DISK_PRESSURE, "NoSchedule"),
		exists_toleration(TAINT_KEY_MEMORY_PRESSURE, "NoSchedule"),
		exists_toleration(TAINT_KEY_PID_PRESSURE, "NoSchedule"),
		exists_toleration(TAINT_KEY_UNSCHEDULABLE, "NoSchedule"),
		exists_toleration(TAINT_KEY_NETWORK_UNAVAILABLE, "NoSchedule"),
	};
	size_t n_defaults = host_network ? 7 : 6;
	size_t needed = 0;

	/*
	 * The defaults have distinct keys or effects, so adding one never
	 * changes whether another matches an entry: counting first is exact.
	 */
	for (size_t i = 0; i < n_defaults; i++)
		needed += add_or_update(list, n, &defaults[i], true);
	if (*n + needed > max)
		return -ENOSPC;

	for (size_t i = 0; i < n_defaults; i++)
		add_or_update(list, n, &defaults[i], false);
	return 0;
}

/* The admission plugin's test: the key matches or is empty, the effect is NoExecute or empty. */
static bool covers_no_execute(const struct toleration *list, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		bool key_covered = list[i].key[0] == '\0' || strcmp(list[i].key, key) == 0;
		bool effect_covered = list[i].effect[0] == '\0' || strcmp(list[i].effect, "NoExecute") == 0;

		if (key_covered && effect_covered)
			return true;
	}
	return false;
}

int toleration_add_default_seconds(struct toleration *list, size_t *n, size_t max,
				   int64_t not_ready_seconds, int64_t unreachable_seconds)
{
	bool add_not_ready = !covers_no_execute(list, *n, TAINT_KEY_NOT_READY);
	bool add_unreachable = !covers_no_execute(list, *n, TAINT_KEY_UNREACHABLE);

	if (*n + add_not_ready + add_unreachable > max)
		return -ENOSPC;

	if (add_not_ready)
		toleration_init(&list[(*n)++], TAINT_KEY_NOT_READY, TOLERATION_OP_EXISTS, NULL,
				"NoExecute", &not_ready_seconds, NULL, 0);
	if (add_unreachable)
		toleration_init(&list[(*n)++], TAINT_KEY_UNREACHABLE, TOLERATION_OP_EXISTS, NULL,
				"NoExecute", &unreachable_seconds, NULL, 0);
	return 0;
}
