/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles: which condition type each kind is published as and which taints
 * follow from it.
 *
 *   companion (default)  KernelMemoryPressure ... KernelReady, and
 *                        nodecond.io/<kind>:NoSchedule taints. kubelet and
 *                        the node lifecycle controller leave these alone.
 *   standard             the upstream names: MemoryPressure ... Ready, and
 *                        node.kubernetes.io/<kind> taints, with NoSchedule
 *                        and NoExecute for not-ready and unreachable. Only
 *                        for clusters where nothing else writes them.
 *
 * The NotReady and Unreachable kinds are two states of one condition, the
 * Ready kind (False and Unknown), so they share one condition type.
 * Every type and taint list can be overridden one by one.
 */
#ifndef NODECOND_TAINTS_PROFILE_H
#define NODECOND_TAINTS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "conditions/condition.h"
#include "taints/taint.h"

#define PROFILE_KIND_TAINTS_MAX 4

enum profile_name {
	PROFILE_COMPANION,
	PROFILE_STANDARD,
	_PROFILE_MAX,
	_PROFILE_INVALID = -1,
};

/* The condition type and taints of one condition kind. */
struct profile_kind {
	char condition_type[CONDITION_TYPE_MAX];
	/* Taints the kind puts on the Node while its condition is met (time_added_ms unused). */
	struct taint taints[PROFILE_KIND_TAINTS_MAX];
	size_t n_taints;
};

struct taint_profile {
	enum profile_name base;
	struct profile_kind kinds[_CONDITION_KIND_MAX];  /* indexed by enum condition_kind */
};

/*
 * Per-kind settings from the configuration (conditions.<Kind>.type and
 * .taints); a field applies only when its has_ flag is set. An empty taint
 * list (has_taints with n_taints 0) publishes the condition without taints.
 */
struct profile_kind_override {
	bool has_type;
	char condition_type[CONDITION_TYPE_MAX];
	bool has_taints;
	struct taint taints[PROFILE_KIND_TAINTS_MAX];
	size_t n_taints;
};

struct taint_profile_overrides {
	struct profile_kind_override kinds[_CONDITION_KIND_MAX];
};

/* Returns "companion" or "standard", or NULL for an invalid name. */
const char *profile_name_to_string(enum profile_name name);

/* Returns the profile for its configuration name, or _PROFILE_INVALID. */
enum profile_name profile_name_from_string(const char *s);

/* Fills p with a built-in profile. */
void taint_profile_init(struct taint_profile *p, enum profile_name name);

/*
 * Builds a profile from a built-in one and the configuration's overrides
 * (NULL: none), then validates it. Overriding the NotReady type alone also
 * sets the Unreachable type, because both are the Ready kind. Returns 0, or
 * -EINVAL with msg naming the configuration field, such as
 * `conditions.MemoryPressure.taints[1].key: invalid value ...`.
 */
int taint_profile_build(struct taint_profile *ret, enum profile_name base,
			const struct taint_profile_overrides *overrides, char *msg,
			size_t msg_size);

/*
 * Validates a profile:
 *   - every condition type is non-empty and belongs to one kind only,
 *     except that NotReady and Unreachable must share theirs;
 *   - every taint is valid;
 *   - no key and effect pair appears twice, because the API server rejects
 *     a Node with duplicate pairs.
 * Returns 0 or -EINVAL with msg naming the configuration field.
 */
int taint_profile_validate(const struct taint_profile *p, char *msg, size_t msg_size);

/*
 * Returns whether the profile can produce a taint with this key. nodecond
 * owns every such taint, whatever its effect and value, and leaves every
 * other taint alone.
 */
bool taint_profile_owns_key(const struct taint_profile *p, const char *key);

/*
 * Returns the kind whose condition has this type, or _CONDITION_KIND_INVALID.
 * For the Ready type it returns CONDITION_NOT_READY.
 */
enum condition_kind taint_profile_kind_of_type(const struct taint_profile *p, const char *type);

#endif
