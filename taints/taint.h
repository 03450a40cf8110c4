/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node taints as Kubernetes core/v1 defines them, the well-known keys, and
 * the syntax checks the API server applies to taint keys and values.
 *
 * Pure logic: no I/O, no clock. Times are milliseconds since the Unix epoch.
 */
#ifndef NODECOND_TAINTS_TAINT_H
#define NODECOND_TAINTS_TAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A key is a qualified name: an optional DNS subdomain prefix of at most 253
 * characters and "/", then a name of at most 63 characters. A value is at
 * most 63 characters. Both sizes include the terminating NUL.
 */
#define TAINT_KEY_PREFIX_MAX_LEN 253
#define TAINT_KEY_NAME_MAX_LEN   63
#define TAINT_VALUE_MAX_LEN      63
#define TAINT_KEY_MAX            (TAINT_KEY_PREFIX_MAX_LEN + 1 + TAINT_KEY_NAME_MAX_LEN + 1)
#define TAINT_VALUE_MAX          (TAINT_VALUE_MAX_LEN + 1)

/* Keys that Kubernetes' node lifecycle controller and kubelet use. */
#define TAINT_KEY_NOT_READY           "node.kubernetes.io/not-ready"
#define TAINT_KEY_UNREACHABLE         "node.kubernetes.io/unreachable"
#define TAINT_KEY_MEMORY_PRESSURE     "node.kubernetes.io/memory-pressure"
#define TAINT_KEY_DISK_PRESSURE       "node.kubernetes.io/disk-pressure"
#define TAINT_KEY_PID_PRESSURE        "node.kubernetes.io/pid-pressure"
#define TAINT_KEY_NETWORK_UNAVAILABLE "node.kubernetes.io/network-unavailable"
#define TAINT_KEY_UNSCHEDULABLE       "node.kubernetes.io/unschedulable"

/*
 * The three effects the API server accepts on a Node. It rejects any other
 * value, so a taint read from a Node always has one of them.
 */
enum taint_effect {
	TAINT_EFFECT_NO_SCHEDULE,
	TAINT_EFFECT_PREFER_NO_SCHEDULE,
	TAINT_EFFECT_NO_EXECUTE,
	_TAINT_EFFECT_MAX,
	_TAINT_EFFECT_INVALID = -1,
};

/* One entry of Node.spec.taints. */
struct taint {
	char key[TAINT_KEY_MAX];
	char value[TAINT_VALUE_MAX];
	enum taint_effect effect;
	int64_t time_added_ms;  /* timeAdded; 0: unset */
};

/* Returns "NoSchedule", "PreferNoSchedule" or "NoExecute", or NULL for an invalid effect. */
const char *taint_effect_name(enum taint_effect effect);

/* Returns the effect for its API name (case-sensitive), or _TAINT_EFFECT_INVALID. */
enum taint_effect taint_effect_from_name(const char *name);

/*
 * Fills a taint from strings, as a JSON or YAML parser has them; a NULL key
 * or value is empty. Returns 0, -ENAMETOOLONG when key or value does not
 * fit (no valid taint is that long), or -EINVAL for an unknown effect. On
 * error, msg names the field.
 */
int taint_init(struct taint *t, const char *key, const char *value, const char *effect,
	       int64_t time_added_ms, char *msg, size_t msg_size);

/* Returns true when both taints have the same key and effect (Kubernetes' MatchTaint). */
bool taint_matches_key_effect(const struct taint *a, const struct taint *b);

/* Returns true when key, value, effect and timeAdded are all equal. */
bool taint_equal(const struct taint *a, const struct taint *b);

/*
 * Checks a taint or toleration key against the Kubernetes qualified-name
 * rules. Returns NULL when the key is valid, or a static string saying why
 * it is not. An empty key is invalid here.
 */
const char *taint_key_check(const char *key);

/* Checks a label value (empty allowed); returns NULL or the reason. */
const char *taint_value_check(const char *value);

/*
 * Validates a taint as the API server does for Node.spec.taints: key
 * required and a qualified name, value a label value, a known effect.
 * Returns 0 or -EINVAL with msg naming the field ("key: ...").
 */
int taint_validate(const struct taint *t, char *msg, size_t msg_size);

#endif
