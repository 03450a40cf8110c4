// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "taints/message.h"
#include "taints/toleration.h"

/* Copies src into a buffer of size dst_size, truncating; NULL copies as "". */
static void copy_truncated(char *dst, size_t dst_size, const char *src)
{
	snprintf(dst, dst_size, "%s", src ? src : "");
}

int toleration_init(struct toleration *t, const char *key, const char *operator, const char *value,
		    const char *effect, const int64_t *toleration_seconds, char *msg,
		    size_t msg_size)
{
	memset(t, 0, sizeof(*t));

	if (key && strlen(key) >= sizeof(t->key)) {
		message_set(msg, msg_size, "key: must be no more than %d characters", TAINT_KEY_MAX - 1);
		return -ENAMETOOLONG;
	}
	if (value && strlen(value) >= sizeof(t->value)) {
		message_set(msg, msg_size, "value: must be no more than %d characters",
			    TAINT_VALUE_MAX_LEN);
		return -ENAMETOOLONG;
	}

	copy_truncated(t->key, sizeof(t->key), key);
	copy_truncated(t->operator, sizeof(t->operator), operator);
	copy_truncated(t->value, sizeof(t->value), value);
	copy_truncated(t->effect, sizeof(t->effect), effect);
	if (toleration_seconds) {
		t->has_toleration_seconds = true;
		t->toleration_seconds = *toleration_seconds;
	}
	return 0;
}

bool toleration_tolerates(const struct toleration *t, const struct taint *taint)
{
	const char *taint_effect = taint_effect_name(taint->effect);

	if (t->effect[0] != '\0' && (!taint_effect || strcmp(t->effect, taint_effect) != 0))
		return false;
	if (t->key[0] != '\0' && strcmp(t->key, taint->key) != 0)
		return false;

	if (t->operator[0] == '\0' || strcmp(t->operator, TOLERATION_OP_EQUAL) == 0)
		return strcmp(t->value, taint->value) == 0;
	if (strcmp(t->operator, TOLERATION_OP_EXISTS) == 0)
		return true;

	/*
	 * NOTE: Kubernetes 1.35 compares integer values for "Gt" and "Lt" when
	 * the alpha TaintTolerationComparisonOperators gate is on. nodecond
	 * treats them as unknown operators, so they match nothing.
	 */
	return false;
}

ssize_t toleration_find_first(const struct toleration *list, size_t n, const struct taint *taint)
{
	for (size_t i = 0; i < n; i++)
		if (toleration_tolerates(&list[i], taint))
			return (ssize_t)i;
	return -1;
}

bool taint_tolerated_by(const struct taint *taint, const struct toleration *list, size_t n)
{
	return toleration_find_first(list, n, taint) >= 0;
}

/* Appends every problem of one toleration to msg, each field prefixed; returns the number found. */
static unsigned validate_one(const struct toleration *t, const char *prefix, char *msg,
			     size_t msg_size)
{
	bool op_equal = t->operator[0] == '\0' || strcmp(t->operator, TOLERATION_OP_EQUAL) == 0;
	bool op_exists = strcmp(t->operator, TOLERATION_OP_EXISTS) == 0;
	unsigned problems = 0;
	const char *reason;

	if (t->key[0] != '\0') {
		reason = taint_key_check(t->key);
		if (reason) {
			message_append(msg, msg_size, "%skey: invalid value \"%s\": %s", prefix, t->key, reason);
			problems++;
		}
	} else if (!op_exists) {
		message_append(msg, msg_size,
			       "%soperator: invalid value \"%s\": operator must be Exists when key is empty, which means \"match all values and all keys\"",
			       prefix, t->operator);
		problems++;
	}

	if (t->has_toleration_seconds && strcmp(t->effect, "NoExecute") != 0) {
		message_append(msg, msg_size,
			       "%seffect: invalid value \"%s\": effect must be NoExecute when tolerationSeconds is set",
			       prefix, t->effect);
		problems++;
	}

	/*
	 * Kubernetes reports the two value problems below under the field path
	 * "operator". Naming "value" points the user to the field to change.
	 */
	if (op_equal) {
		reason = taint_value_check(t->value);
		if (reason) {
			message_append(msg, msg_size, "%svalue: invalid value \"%s\": %s", prefix, t->value, reason);
			problems++;
		}
	} else if (op_exists) {
		if (t->value[0] != '\0') {
			message_append(msg, msg_size,
				       "%svalue: invalid value \"%s\": value must be empty when operator is Exists",
				       prefix, t->value);
			problems++;
		}
	} else {
		message_append(msg, msg_size,
			       "%soperator: unsupported value \"%s\": supported values: \"Equal\", \"Exists\"",
			       prefix, t->operator);
		problems++;
	}

	if (t->effect[0] != '\0' && taint_effect_from_name(t->effect) == _TAINT_EFFECT_INVALID) {
		message_append(msg, msg_size,
			       "%seffect: unsupported value \"%s\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
			       prefix, t->effect);
		problems++;
	}
	return problems;
}

int toleration_validate(const struct toleration *t, char *msg, size_t msg_size)
{
	message_set(msg, msg_size, "%s", "");
	return validate_one(t, "", msg, msg_size) ? -EINVAL : 0;
}

int toleration_list_validate(const struct toleration *list, size_t n, char *msg, size_t msg_size)
{
	unsigned problems = 0;

	message_set(msg, msg_size, "%s", "");
	for (size_t i = 0; i < n; i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "tolerations[%zu].", i);
		problems += validate_one(&list[i], prefix, msg, msg_size);
	}
	return problems ? -EINVAL : 0;
}
