// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "taints/message.h"
#include "taints/taint.h"

static const char *const effect_names[_TAINT_EFFECT_MAX] = {
	[TAINT_EFFECT_NO_SCHEDULE] = "NoSchedule",
	[TAINT_EFFECT_PREFER_NO_SCHEDULE] = "PreferNoSchedule",
	[TAINT_EFFECT_NO_EXECUTE] = "NoExecute",
};

const char *taint_effect_name(enum taint_effect effect)
{
	if (effect < 0 || effect >= _TAINT_EFFECT_MAX)
		return NULL;
	return effect_names[effect];
}

enum taint_effect taint_effect_from_name(const char *name)
{
	if (!name)
		return _TAINT_EFFECT_INVALID;
	for (int i = 0; i < _TAINT_EFFECT_MAX; i++)
		if (strcmp(name, effect_names[i]) == 0)
			return i;
	return _TAINT_EFFECT_INVALID;
}

int taint_init(struct taint *t, const char *key, const char *value, const char *effect,
	       int64_t time_added_ms, char *msg, size_t msg_size)
{
	memset(t, 0, sizeof(*t));
	if (!key)
		key = "";
	if (!value)
		value = "";

	if (strlen(key) >= sizeof(t->key)) {
		message_set(msg, msg_size, "key: must be no more than %d characters",
			    TAINT_KEY_MAX - 1);
		return -ENAMETOOLONG;
	}
	if (strlen(value) >= sizeof(t->value)) {
		message_set(msg, msg_size, "value: must be no more than %d characters",
			    TAINT_VALUE_MAX_LEN);
		return -ENAMETOOLONG;
	}
	t->effect = taint_effect_from_name(effect);
	if (t->effect == _TAINT_EFFECT_INVALID) {
		message_set(msg, msg_size,
			    "effect: unsupported value \"%s\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
			    effect);
		return -EINVAL;
	}

	strcpy(t->key, key);
	strcpy(t->value, value);
	t->time_added_ms = time_added_ms;
	return 0;
}

bool taint_matches_key_effect(const struct taint *a, const struct taint *b)
{
	return a->effect == b->effect && strcmp(a->key, b->key) == 0;
}

bool taint_equal(const struct taint *a, const struct taint *b)
{
	return taint_matches_key_effect(a, b) && strcmp(a->value, b->value) == 0 &&
	       a->time_added_ms == b->time_added_ms;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * The name part of a qualified name and a non-empty label value share one
 * syntax: alphanumerics, '-', '_' and '.', starting and ending with an
 * alphanumeric character.
 */
static bool is_qualified_name_part(const char *s, size_t len)
{
	if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/*
 * A lowercase RFC 1123 subdomain: dot-separated labels of [a-z0-9-], each
 * starting and ending with [a-z0-9].
 */
static bool is_dns1123_subdomain(const char *s, size_t len)
{
	size_t label_start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!is_lower_alnum(s[i]) && s[i] != '-')
				return false;
			continue;
		}
		if (i == label_start || !is_lower_alnum(s[label_start]) ||
		    !is_lower_alnum(s[i - 1]))
			return false;
		label_start = i + 1;
	}
	return true;
}

const char *taint_key_check(const char *key)
{
	const char *slash = strchr(key, '/');
	const char *name = key;
	size_t name_len;

	if (slash) {
		size_t prefix_len = (size_t)(slash - key);

		if (strchr(slash + 1, '/'))
			return "must be a name with an optional DNS subdomain prefix and '/', such as example.com/my-name";
		if (prefix_len == 0)
			return "prefix part must be non-empty";
		if (prefix_len > TAINT_KEY_PREFIX_MAX_LEN)
			return "prefix part must be no more than 253 characters";
		if (!is_dns1123_subdomain(key, prefix_len))
			return "prefix part must be a lowercase RFC 1123 subdomain: lowercase alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character";
		name = slash + 1;
	}

	name_len = strlen(name);
	if (name_len == 0)
		return "name part must be non-empty";
	if (name_len > TAINT_KEY_NAME_MAX_LEN)
		return "name part must be no more than 63 characters";
	if (!is_qualified_name_part(name, name_len))
		return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
	return NULL;
}

const char *taint_value_check(const char *value)
{
	size_t len = strlen(value);

	if (len == 0)
		return NULL;
	if (len > TAINT_VALUE_MAX_LEN)
		return "must be no more than 63 characters";
	if (!is_qualified_name_part(value, len))
		return "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
	return NULL;
}

int taint_validate(const struct taint *t, char *msg, size_t msg_size)
{
	const char *reason;

	if (t->key[0] == '\0') {
		message_set(msg, msg_size, "key: required value");
		return -EINVAL;
	}
	reason = taint_key_check(t->key);
	if (reason) {
		message_set(msg, msg_size, "key: invalid value \"%s\": %s", t->key, reason);
		return -EINVAL;
	}
	reason = taint_value_check(t->value);
	if (reason) {
		message_set(msg, msg_size, "value: invalid value \"%s\": %s", t->value, reason);
		return -EINVAL;
	}
	if (!taint_effect_name(t->effect)) {
		message_set(msg, msg_size,
			    "effect: unsupported value %d: supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
			    (int)t->effect);
		return -EINVAL;
	}
	return 0;
}
