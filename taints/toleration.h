/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod tolerations with the Kubernetes core/v1 semantics: matching a taint,
 * validating as the API server does, and the tolerations the DaemonSet
 * controller and the DefaultTolerationSeconds admission plugin add.
 *
 * Operator and effect are kept as the strings the pod carries. A value this
 * code does not know therefore survives parsing and matches nothing,
 * instead of being mistaken for a known one. "Gt" and "Lt" are such values:
 * Kubernetes 1.35 has them as alpha, behind the
 * TaintTolerationComparisonOperators feature gate.
 */
#ifndef NODECOND_TAINTS_TOLERATION_H
#define NODECOND_TAINTS_TOLERATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "taints/taint.h"

#define TOLERATION_OP_EQUAL  "Equal"
#define TOLERATION_OP_EXISTS "Exists"

/*
 * Sizes of the operator and effect strings, NUL included. A longer string
 * is truncated by toleration_init(); the truncated string is still longer
 * than any known operator or effect, so it still matches nothing.
 */
#define TOLERATION_OPERATOR_MAX 32
#define TOLERATION_EFFECT_MAX   32

/* The tolerationSeconds DefaultTolerationSeconds adds unless configured otherwise. */
#define TOLERATION_DEFAULT_SECONDS 300

/* One entry of Pod.spec.tolerations. */
struct toleration {
	char key[TAINT_KEY_MAX];                /* empty: every key (operator must be Exists) */
	char operator[TOLERATION_OPERATOR_MAX]; /* "Equal", "Exists", empty (Equal) or unknown */
	char value[TAINT_VALUE_MAX];
	char effect[TOLERATION_EFFECT_MAX];     /* empty: every effect */
	bool has_toleration_seconds;
	int64_t toleration_seconds;             /* only with has_toleration_seconds */
};

/*
 * Fills a toleration from strings, as a JSON parser has them; NULL means an
 * absent field (empty string), toleration_seconds NULL means unset. Returns
 * 0, or -ENAMETOOLONG with msg naming the field when key or value is longer
 * than any taint's, because truncating them could create a false match.
 */
int toleration_init(struct toleration *t, const char *key, const char *operator, const char *value,
		    const char *effect, const int64_t *toleration_seconds, char *msg,
		    size_t msg_size);

/*
 * Returns whether the toleration tolerates the taint, as core/v1
 * Toleration.ToleratesTaint decides:
 *   - an empty effect matches every effect, otherwise the effects must be equal;
 *   - an empty key matches every key, otherwise the keys must be equal;
 *   - "Equal" or an empty operator compares the values, "Exists" ignores
 *     the value, and any other operator (Gt and Lt included) matches nothing.
 */
bool toleration_tolerates(const struct toleration *t, const struct taint *taint);

/*
 * Returns the index of the first toleration in the list that tolerates the
 * taint, or -1 when none does. The taint eviction controller uses this
 * first match for NoExecute timing.
 */
ssize_t toleration_find_first(const struct toleration *list, size_t n, const struct taint *taint);

/* Returns whether any toleration in the list tolerates the taint. */
bool taint_tolerated_by(const struct taint *taint, const struct toleration *list, size_t n);

/*
 * Validates one toleration with the API server's rules for
 * Pod.spec.tolerations:
 *   - a non-empty key must be a qualified name;
 *   - an empty key requires operator Exists;
 *   - tolerationSeconds requires effect NoExecute;
 *   - Equal or empty operator: the value must be a label value;
 *   - Exists: the value must be empty;
 *   - any other operator is unsupported (Gt and Lt too, as with the
 *     TaintTolerationComparisonOperators gate off);
 *   - a non-empty effect must be NoSchedule, PreferNoSchedule or NoExecute.
 * Returns 0, or -EINVAL with every problem in msg, separated by "; ", each
 * starting with the field: `operator: invalid value "Equal": ...`.
 */
int toleration_validate(const struct toleration *t, char *msg, size_t msg_size);

/*
 * Validates a list. Each problem is prefixed with "tolerations[INDEX]." and
 * problems are separated by "; ". Returns 0 or -EINVAL.
 */
int toleration_list_validate(const struct toleration *list, size_t n, char *msg, size_t msg_size);

/*
 * Adds the tolerations the DaemonSet controller puts into every DaemonSet
 * pod (Kubernetes AddOrUpdateDaemonPodTolerations), in its order, all with
 * operator Exists and the node.kubernetes.io/ keys:
 *   - not-ready and unreachable with NoExecute and no tolerationSeconds;
 *   - disk-pressure, memory-pressure, pid-pressure and unschedulable with
 *     NoSchedule;
 *   - network-unavailable with NoSchedule, only when host_network.
 *
 * Each is added or updated as Kubernetes' AddOrUpdateTolerationInPodSpec
 * does. When an entry with the same key, operator, value and effect also
 * has the same tolerationSeconds, nothing changes. Otherwise every entry
 * with the same key, operator, value and effect is replaced in place, and
 * when there is none the toleration is appended.
 *
 * list has room for max entries and *n are in use. Returns 0, or -ENOSPC
 * with the list unchanged when the result would not fit.
 */
int toleration_add_daemonset_defaults(struct toleration *list, size_t *n, size_t max,
				      bool host_network);

/*
 * Adds what the DefaultTolerationSeconds admission plugin adds to a pod:
 * "node.kubernetes.io/not-ready" Exists NoExecute for not_ready_seconds,
 * and "node.kubernetes.io/unreachable" likewise for unreachable_seconds.
 * Each is skipped when some toleration has that key or an empty key,
 * together with effect NoExecute or an empty effect, whatever its operator
 * and value. Added tolerations are appended, not merged. The plugin's
 * default for both is TOLERATION_DEFAULT_SECONDS.
 * Returns 0, or -ENOSPC with the list unchanged.
 */
int toleration_add_default_seconds(struct toleration *list, size_t *n, size_t max,
				   int64_t not_ready_seconds, int64_t unreachable_seconds);

#endif
