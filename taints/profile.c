// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "taints/message.h"
#include "taints/profile.h"

struct builtin_taint {
	const char *key;
	enum taint_effect effect;
};

struct builtin_kind {
	const char *condition_type;
	struct builtin_taint taints[PROFILE_KIND_TAINTS_MAX];
	size_t n_taints;
};

#define NO_SCHEDULE(k) { .key = (k), .effect = TAINT_EFFECT_NO_SCHEDULE }
#define NO_EXECUTE(k)  { .key = (k), .effect = TAINT_EFFECT_NO_EXECUTE }

static const struct builtin_kind builtin[_PROFILE_MAX][_CONDITION_KIND_MAX] = {
	[PROFILE_COMPANION] = {
		[CONDITION_MEMORY_PRESSURE] = { "KernelMemoryPressure", { NO_SCHEDULE("nodecond.io/memory-pressure") }, 1 },
		[CONDITION_DISK_PRESSURE] = { "KernelDiskPressure", { NO_SCHEDULE("nodecond.io/disk-pressure") }, 1 },
		[CONDITION_PID_PRESSURE] = { "KernelPIDPressure", { NO_SCHEDULE("nodecond.io/pid-pressure") }, 1 },
		[CONDITION_NETWORK_UNAVAILABLE] = { "KernelNetworkUnavailable", { NO_SCHEDULE("nodecond.io/network-unavailable") }, 1 },
		[CONDITION_NOT_READY] = { "KernelReady", { NO_SCHEDULE("nodecond.io/not-ready") }, 1 },
		[CONDITION_UNREACHABLE] = { "KernelReady", { NO_SCHEDULE("nodecond.io/unreachable") }, 1 },
	},
	[PROFILE_STANDARD] = {
		[CONDITION_MEMORY_PRESSURE] = { "MemoryPressure", { NO_SCHEDULE(TAINT_KEY_MEMORY_PRESSURE) }, 1 },
		[CONDITION_DISK_PRESSURE] = { "DiskPressure", { NO_SCHEDULE(TAINT_KEY_DISK_PRESSURE) }, 1 },
		[CONDITION_PID_PRESSURE] = { "PIDPressure", { NO_SCHEDULE(TAINT_KEY_PID_PRESSURE) }, 1 },
		[CONDITION_NETWORK_UNAVAILABLE] = { "NetworkUnavailable", { NO_SCHEDULE(TAINT_KEY_NETWORK_UNAVAILABLE) }, 1 },
		[CONDITION_NOT_READY] = { "Ready",
			{ NO_SCHEDULE(TAINT_KEY_NOT_READY), NO_EXECUTE(TAINT_KEY_NOT_READY) }, 2 },
		[CONDITION_UNREACHABLE] = { "Ready",
			{ NO_SCHEDULE(TAINT_KEY_UNREACHABLE), NO_EXECUTE(TAINT_KEY_UNREACHABLE) }, 2 },
	},
};

static const char *const profile_names[_PROFILE_MAX] = {
	[PROFILE_COMPANION] = "companion",
	[PROFILE_STANDARD] = "standard",
};

const char *profile_name_to_string(enum profile_name name)
{
	if (name < 0 || name >= _PROFILE_MAX)
		return NULL;
	return profile_names[name];
}

enum profile_name profile_name_from_string(const char *s)
{
	if (!s)
		return _PROFILE_INVALID;
	for (int i = 0; i < _PROFILE_MAX; i++)
		if (strcmp(s, profile_names[i]) == 0)
			return i;
	return _PROFILE_INVALID;
}

void taint_profile_init(struct taint_profile *p, enum profile_name name)
{
	memset(p, 0, sizeof(*p));
	p->base = name;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct builtin_kind *b = &builtin[name][k];
		struct profile_kind *kind = &p->kinds[k];

		snprintf(kind->condition_type, sizeof(kind->condition_type), "%s",
			 b->condition_type);
		for (size_t i = 0; i < b->n_taints; i++) {
			snprintf(kind->taints[i].key, sizeof(kind->taints[i].key), "%s",
				 b->taints[i].key);
			kind->taints[i].effect = b->taints[i].effect;
		}
		kind->n_taints = b->n_taints;
	}
}

/* Guards the checks below against strings a loader filled to the last byte. */
static void terminate_strings(struct profile_kind *kind)
{
	for (size_t i = 0; i < PROFILE_KIND_TAINTS_MAX; i++) {
		kind->taints[i].key[TAINT_KEY_MAX - 1] = '\0';
		kind->taints[i].value[TAINT_VALUE_MAX - 1] = '\0';
	}
}

int taint_profile_build(struct taint_profile *ret, enum profile_name base,
			const struct taint_profile_overrides *overrides, char *msg,
			size_t msg_size)
{
	if (!profile_name_to_string(base)) {
		message_set(msg, msg_size,
			    "profile: unsupported value %d: supported values: \"companion\", \"standard\"",
			    (int)base);
		return -EINVAL;
	}
	taint_profile_init(ret, base);
	if (!overrides)
		return taint_profile_validate(ret, msg, msg_size);

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct profile_kind_override *o = &overrides->kinds[k];
		struct profile_kind *kind = &ret->kinds[k];

		if (o->has_type) {
			memcpy(kind->condition_type, o->condition_type,
			       sizeof(kind->condition_type));
			kind->condition_type[sizeof(kind->condition_type) - 1] = '\0';
		}
		if (o->has_taints) {
			if (o->n_taints > PROFILE_KIND_TAINTS_MAX) {
				message_set(msg, msg_size, "conditions.%s.taints: must have at most %d items",
					    condition_kind_name(k), PROFILE_KIND_TAINTS_MAX);
				return -EINVAL;
			}
			memcpy(kind->taints, o->taints, sizeof(kind->taints));
			kind->n_taints = o->n_taints;
			terminate_strings(kind);
		}
	}

	if (overrides->kinds[CONDITION_NOT_READY].has_type &&
	    !overrides->kinds[CONDITION_UNREACHABLE].has_type)
		memcpy(ret->kinds[CONDITION_UNREACHABLE].condition_type,
		       ret->kinds[CONDITION_NOT_READY].condition_type,
		       sizeof(ret->kinds[CONDITION_UNREACHABLE].condition_type));

	return taint_profile_validate(ret, msg, msg_size);
}

/* Returns whether a taint with the same key and effect comes earlier in the profile. */
static bool duplicate_before(const struct taint_profile *p, int kind, size_t index)
{
	const struct taint *t = &p->kinds[kind].taints[index];

	for (int k = 0; k <= kind; k++) {
		size_t end = k == kind ? index : p->kinds[k].n_taints;

		for (size_t i = 0; i < end; i++)
			if (taint_matches_key_effect(&p->kinds[k].taints[i], t))
				return true;
	}
	return false;
}

/* Returns the earlier kind that publishes the same condition type, or _CONDITION_KIND_INVALID. */
static enum condition_kind type_used_before(const struct taint_profile *p, int kind)
{
	for (int k = 0; k < kind; k++) {
		bool ready_pair = k == CONDITION_NOT_READY && kind == CONDITION_UNREACHABLE;

		if (!ready_pair &&
		    strcmp(p->kinds[k].condition_type, p->kinds[kind].condition_type) == 0)
			return k;
	}
	return _CONDITION_KIND_INVALID;
}

int taint_profile_validate(const struct taint_profile *p, char *msg, size_t msg_size)
{
	const char *ready_type, *unreachable_type;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct profile_kind *kind = &p->kinds[k];
		const char *kind_name = condition_kind_name(k);
		enum condition_kind other;

		if (strnlen(kind->condition_type, sizeof(kind->condition_type)) == 0) {
			message_set(msg, msg_size, "conditions.%s.type: required value", kind_name);
			return -EINVAL;
		}
		other = type_used_before(p, k);
		if (other != _CONDITION_KIND_INVALID) {
			message_set(msg, msg_size,
				    "conditions.%s.type: duplicate value \"%s\": conditions.%s has the same type",
				    kind_name, kind->condition_type, condition_kind_name(other));
			return -EINVAL;
		}
		if (kind->n_taints > PROFILE_KIND_TAINTS_MAX) {
			message_set(msg, msg_size, "conditions.%s.taints: must have at most %d items",
				    kind_name, PROFILE_KIND_TAINTS_MAX);
			return -EINVAL;
		}

		for (size_t i = 0; i < kind->n_taints; i++) {
			char reason[256];

			if (taint_validate(&kind->taints[i], reason, sizeof(reason)) < 0) {
				message_set(msg, msg_size, "conditions.%s.taints[%zu].%s", kind_name, i, reason);
				return -EINVAL;
			}
			if (duplicate_before(p, k, i)) {
				message_set(msg, msg_size,
					    "conditions.%s.taints[%zu]: duplicate value \"%s:%s\": each key and effect pair may appear once in the profile",
					    kind_name, i, kind->taints[i].key,
					    taint_effect_name(kind->taints[i].effect));
				return -EINVAL;
			}
		}
	}

	ready_type = p->kinds[CONDITION_NOT_READY].condition_type;
	unreachable_type = p->kinds[CONDITION_UNREACHABLE].condition_type;
	if (strcmp(ready_type, unreachable_type) != 0) {
		message_set(msg, msg_size,
			    "conditions.Unreachable.type: invalid value \"%s\": must equal conditions.NotReady.type \"%s\", because both are the Ready condition",
			    unreachable_type, ready_type);
		return -EINVAL;
	}
	return 0;
}

bool taint_profile_owns_key(const struct taint_profile *p, const char *key)
{
	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		for (size_t i = 0; i < p->kinds[k].n_taints; i++)
			if (strcmp(p->kinds[k].taints[i].key, key) == 0)
				return true;
	return false;
}

enum condition_kind taint_profile_kind_of_type(const struct taint_profile *p, const char *type)
{
	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		if (strcmp(p->kinds[k].condition_type, type) == 0)
			return k;
	return _CONDITION_KIND_INVALID;
}
