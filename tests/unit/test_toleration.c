// SPDX-License-Identifier: Apache-2.0
/*
 * Toleration matching, validation, NoExecute eviction timing and the
 * tolerations Kubernetes adds by default. Every table row runs as its own
 * cmocka test named after the case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "taints/eviction.h"
#include "taints/profile.h"
#include "taints/taint.h"
#include "taints/toleration.h"

#define ROWS_MAX 64

/* A toleration as a row writes it; has_seconds 0 means no tolerationSeconds. */
struct tol_spec {
	const char *key;
	const char *op;
	const char *value;
	const char *effect;
	bool has_seconds;
	int64_t seconds;
};

struct taint_spec {
	const char *key;
	const char *value;
	enum taint_effect effect;
	int64_t time_added_ms;
};

#define SECONDS(s) .has_seconds = true, .seconds = (s)

static struct toleration make_toleration(const struct tol_spec *s)
{
	struct toleration t;

	assert_int_equal(toleration_init(&t, s->key, s->op, s->value, s->effect,
					 s->has_seconds ? &s->seconds : NULL, NULL, 0), 0);
	return t;
}

static struct taint make_taint(const struct taint_spec *s)
{
	struct taint t;

	memset(&t, 0, sizeof(t));
	snprintf(t.key, sizeof(t.key), "%s", s->key ? s->key : "");
	snprintf(t.value, sizeof(t.value), "%s", s->value ? s->value : "");
	t.effect = s->effect;
	t.time_added_ms = s->time_added_ms;
	return t;
}

/* Runs fn once per row, each as a test named after the row. */
static int run_rows(const char *group, void (*fn)(void **), void *rows, size_t row_size,
		    size_t n, const char *(*row_name)(const void *))
{
	struct CMUnitTest tests[ROWS_MAX];

	assert_true(n <= ROWS_MAX);
	for (size_t i = 0; i < n; i++) {
		void *row = (char *)rows + i * row_size;

		tests[i] = (struct CMUnitTest){
			.name = row_name(row),
			.test_func = fn,
			.initial_state = row,
		};
	}
	return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

#define RUN_ROWS(group, fn, rows) \
	run_rows(group, fn, rows, sizeof(rows[0]), sizeof(rows) / sizeof(rows[0]), row_name_##fn)

/* ---- matching ---- */

struct match_row {
	const char *name;
	struct tol_spec tol;
	struct taint_spec taint;
	bool expected;
};

static struct match_row match_rows[] = {
	{ "equal_same_key_value_effect", { .key = "example.com/gpu", .op = "Equal", .value = "true", .effect = "NoSchedule" },
	  { .key = "example.com/gpu", .value = "true", .effect = TAINT_EFFECT_NO_SCHEDULE }, true },
	{ "equal_value_differs", { .key = "example.com/gpu", .op = "Equal", .value = "true", .effect = "NoSchedule" },
	  { .key = "example.com/gpu", .value = "false", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "equal_empty_values", { .key = "example.com/gpu", .op = "Equal", .value = "", .effect = "NoSchedule" },
	  { .key = "example.com/gpu", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE }, true },
	{ "empty_operator_compares_values", { .key = "example.com/gpu", .op = "", .value = "true", .effect = "NoSchedule" },
	  { .key = "example.com/gpu", .value = "true", .effect = TAINT_EFFECT_NO_SCHEDULE }, true },
	{ "empty_operator_value_differs", { .key = "example.com/gpu", .op = "", .value = "true", .effect = "NoSchedule" },
	  { .key = "example.com/gpu", .value = "yes", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "exists_ignores_value", { .key = "example.com/gpu", .op = "Exists", .value = "", .effect = "NoSchedule" },
	  { .key = "example.com/gpu", .value = "anything", .effect = TAINT_EFFECT_NO_SCHEDULE }, true },
	{ "exists_key_differs", { .key = "example.com/gpu", .op = "Exists", .value = "", .effect = "NoSchedule" },
	  { .key = "example.com/fpga", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "equal_key_differs", { .key = "example.com/gpu", .op = "Equal", .value = "true", .effect = "NoSchedule" },
	  { .key = "example.com/fpga", .value = "true", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "empty_key_exists_matches_any_key", { .key = "", .op = "Exists", .value = "", .effect = "" },
	  { .key = "nodecond.io/not-ready", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE }, true },
	{ "empty_key_exists_effect_differs", { .key = "", .op = "Exists", .value = "", .effect = "NoSchedule" },
	  { .key = "nodecond.io/not-ready", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE }, false },
	{ "empty_key_equal_matches_empty_value", { .key = "", .op = "Equal", .value = "", .effect = "" },
	  { .key = "nodecond.io/not-ready", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE }, true },
	{ "empty_key_equal_value_differs", { .key = "", .op = "Equal", .value = "", .effect = "" },
	  { .key = "example.com/gpu", .value = "true", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "empty_effect_matches_no_schedule", { .key = "k", .op = "Exists", .value = "", .effect = "" },
	  { .key = "k", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE }, true },
	{ "empty_effect_matches_prefer_no_schedule", { .key = "k", .op = "Exists", .value = "", .effect = "" },
	  { .key = "k", .value = "", .effect = TAINT_EFFECT_PREFER_NO_SCHEDULE }, true },
	{ "empty_effect_matches_no_execute", { .key = "k", .op = "Exists", .value = "", .effect = "" },
	  { .key = "k", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE }, true },
	{ "effect_differs", { .key = "k", .op = "Exists", .value = "", .effect = "NoExecute" },
	  { .key = "k", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "effect_prefer_no_schedule_exact", { .key = "k", .op = "Exists", .value = "", .effect = "PreferNoSchedule" },
	  { .key = "k", .value = "", .effect = TAINT_EFFECT_PREFER_NO_SCHEDULE }, true },
	{ "unknown_effect_matches_nothing", { .key = "k", .op = "Exists", .value = "", .effect = "NoScheduleNoAdmit" },
	  { .key = "k", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "unknown_operator_matches_nothing", { .key = "k", .op = "In", .value = "v", .effect = "" },
	  { .key = "k", .value = "v", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "gt_is_unknown_operator", { .key = "example.com/sla", .op = "Gt", .value = "5", .effect = "" },
	  { .key = "example.com/sla", .value = "10", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "lt_is_unknown_operator", { .key = "example.com/sla", .op = "Lt", .value = "50", .effect = "" },
	  { .key = "example.com/sla", .value = "10", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "operator_is_case_sensitive", { .key = "k", .op = "exists", .value = "", .effect = "" },
	  { .key = "k", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
	{ "empty_key_unknown_operator", { .key = "", .op = "Gt", .value = "", .effect = "" },
	  { .key = "k", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE }, false },
};

static const char *row_name_test_match(const void *row)
{
	return ((const struct match_row *)row)->name;
}

static void test_match(void **state)
{
	const struct match_row *row = *state;
	struct toleration tol = make_toleration(&row->tol);
	struct taint taint = make_taint(&row->taint);

	assert_int_equal(toleration_tolerates(&tol, &taint), row->expected);
	assert_int_equal(taint_tolerated_by(&taint, &tol, 1), row->expected);
	assert_int_equal(toleration_find_first(&tol, 1, &taint), row->expected ? 0 : -1);
}

/* ---- list helpers and parsing ---- */

static void test_find_first_returns_earliest_match(void **state)
{
	struct toleration list[3];
	struct taint taint = make_taint(&(struct taint_spec){ .key = "k", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE });

	(void)state;
	list[0] = make_toleration(&(struct tol_spec){ .key = "other", .op = "Exists" });
	list[1] = make_toleration(&(struct tol_spec){ .key = "k", .op = "Exists", SECONDS(60) });
	list[2] = make_toleration(&(struct tol_spec){ .key = "", .op = "Exists" });
	assert_int_equal(toleration_find_first(list, 3, &taint), 1);
	assert_int_equal(toleration_find_first(list, 1, &taint), -1);
	assert_int_equal(toleration_find_first(list, 0, &taint), -1);
	assert_false(taint_tolerated_by(&taint, list, 1));
}

static void test_toleration_init_rejects_long_key(void **state)
{
	char key[TAINT_KEY_MAX + 1];
	char value[TAINT_VALUE_MAX + 1];
	char msg[128];
	struct toleration t;

	(void)state;
	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';

	assert_int_equal(toleration_init(&t, key, "Exists", NULL, NULL, NULL, msg, sizeof(msg)), -ENAMETOOLONG);
	assert_string_equal(msg, "key: must be no more than 317 characters");
	assert_int_equal(toleration_init(&t, "k", "Equal", value, NULL, NULL, msg, sizeof(msg)), -ENAMETOOLONG);
	assert_string_equal(msg, "value: must be no more than 63 characters");
}

static void test_toleration_init_keeps_absent_fields_empty(void **state)
{
	struct toleration t;
	int64_t seconds = -5;

	(void)state;
	assert_int_equal(toleration_init(&t, NULL, NULL, NULL, NULL, NULL, NULL, 0), 0);
	assert_string_equal(t.key, "");
	assert_string_equal(t.operator, "");
	assert_string_equal(t.value, "");
	assert_string_equal(t.effect, "");
	assert_false(t.has_toleration_seconds);

	assert_int_equal(toleration_init(&t, "k", "Exists", NULL, "NoExecute", &seconds, NULL, 0), 0);
	assert_true(t.has_toleration_seconds);
	assert_int_equal(t.toleration_seconds, -5);
}

static void test_toleration_init_truncates_long_operator(void **state)
{
	struct toleration t;
	struct taint taint = make_taint(&(struct taint_spec){ .key = "k", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE });

	(void)state;
	assert_int_equal(toleration_init(&t, "k", "ExistsButLongerThanAnyOperatorCanBe", NULL,
					 NULL, NULL, NULL, 0), 0);
	assert_int_equal(strlen(t.operator), TOLERATION_OPERATOR_MAX - 1);
	assert_false(toleration_tolerates(&t, &taint));
}

static void test_taint_init_parses_fields(void **state)
{
	char key[TAINT_KEY_MAX + 1];
	char value[TAINT_VALUE_MAX + 1];
	char msg[160];
	struct taint t;

	(void)state;
	assert_int_equal(taint_init(&t, "nodecond.io/not-ready", NULL, "NoExecute", 1234, msg, sizeof(msg)), 0);
	assert_string_equal(t.key, "nodecond.io/not-ready");
	assert_string_equal(t.value, "");
	assert_int_equal(t.effect, TAINT_EFFECT_NO_EXECUTE);
	assert_int_equal(t.time_added_ms, 1234);

	assert_int_equal(taint_init(&t, "k", "v", "NoAdmit", 0, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "effect: unsupported value \"NoAdmit\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"");

	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(taint_init(&t, key, "", "NoSchedule", 0, msg, sizeof(msg)), -ENAMETOOLONG);
	assert_string_equal(msg, "key: must be no more than 317 characters");

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	assert_int_equal(taint_init(&t, NULL, value, "NoSchedule", 0, msg, sizeof(msg)), -ENAMETOOLONG);
	assert_string_equal(msg, "value: must be no more than 63 characters");
}

static void test_taint_effect_names(void **state)
{
	(void)state;
	assert_string_equal(taint_effect_name(TAINT_EFFECT_NO_SCHEDULE), "NoSchedule");
	assert_string_equal(taint_effect_name(TAINT_EFFECT_PREFER_NO_SCHEDULE), "PreferNoSchedule");
	assert_string_equal(taint_effect_name(TAINT_EFFECT_NO_EXECUTE), "NoExecute");
	assert_null(taint_effect_name(_TAINT_EFFECT_MAX));
	assert_null(taint_effect_name(_TAINT_EFFECT_INVALID));
	assert_int_equal(taint_effect_from_name("NoExecute"), TAINT_EFFECT_NO_EXECUTE);
	assert_int_equal(taint_effect_from_name("noexecute"), _TAINT_EFFECT_INVALID);
	assert_int_equal(taint_effect_from_name(NULL), _TAINT_EFFECT_INVALID);
}

/* ---- validation ---- */

struct validate_row {
	const char *name;
	struct tol_spec tol;
	int expected_rc;
	const char *expected_msg;
};

#define MSG_NAME_PART "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"

static struct validate_row validate_rows[] = {
	{ "valid_equal", { .key = "example.com/gpu", .op = "Equal", .value = "true", .effect = "NoSchedule" }, 0, "" },
	{ "valid_empty_operator", { .key = "gpu", .op = "", .value = "true", .effect = "" }, 0, "" },
	{ "valid_exists_every_key", { .key = "", .op = "Exists", .value = "", .effect = "" }, 0, "" },
	{ "valid_seconds_with_no_execute", { .key = "nodecond.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(300) }, 0, "" },
	{ "valid_negative_seconds", { .key = "k", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(-1) }, 0, "" },
	{ "valid_key_with_underscore_and_dots", { .key = "a.b-c/x_y.z", .op = "Exists", .value = "", .effect = "" }, 0, "" },
	{ "empty_key_with_equal", { .key = "", .op = "Equal", .value = "", .effect = "" }, -EINVAL,
	  "operator: invalid value \"Equal\": operator must be Exists when key is empty, which means \"match all values and all keys\"" },
	{ "empty_key_with_empty_operator", { .key = "", .op = "", .value = "", .effect = "" }, -EINVAL,
	  "operator: invalid value \"\": operator must be Exists when key is empty, which means \"match all values and all keys\"" },
	{ "exists_with_value", { .key = "k", .op = "Exists", .value = "x", .effect = "" }, -EINVAL,
	  "value: invalid value \"x\": value must be empty when operator is Exists" },
	{ "seconds_with_no_schedule", { .key = "k", .op = "Exists", .value = "", .effect = "NoSchedule", SECONDS(60) }, -EINVAL,
	  "effect: invalid value \"NoSchedule\": effect must be NoExecute when tolerationSeconds is set" },
	{ "seconds_with_empty_effect", { .key = "k", .op = "Exists", .value = "", .effect = "", SECONDS(60) }, -EINVAL,
	  "effect: invalid value \"\": effect must be NoExecute when tolerationSeconds is set" },
	{ "unknown_operator_gt", { .key = "example.com/sla", .op = "Gt", .value = "5", .effect = "" }, -EINVAL,
	  "operator: unsupported value \"Gt\": supported values: \"Equal\", \"Exists\"" },
	{ "unknown_effect", { .key = "k", .op = "Exists", .value = "", .effect = "NoAdmit" }, -EINVAL,
	  "effect: unsupported value \"NoAdmit\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"" },
	{ "key_with_space", { .key = "bad key", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"bad key\": name part " MSG_NAME_PART },
	{ "key_empty_prefix", { .key = "/name", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"/name\": prefix part must be non-empty" },
	{ "key_empty_name", { .key = "example.com/", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"example.com/\": name part must be non-empty" },
	{ "key_two_slashes", { .key = "a/b/c", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"a/b/c\": must be a name with an optional DNS subdomain prefix and '/', such as example.com/my-name" },
	{ "key_uppercase_prefix", { .key = "Example.com/x", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"Example.com/x\": prefix part must be a lowercase RFC 1123 subdomain: lowercase alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character" },
	{ "key_prefix_empty_label", { .key = "example..com/x", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"example..com/x\": prefix part must be a lowercase RFC 1123 subdomain: lowercase alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character" },
	{ "key_prefix_label_ends_with_dash", { .key = "example-.com/x", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"example-.com/x\": prefix part must be a lowercase RFC 1123 subdomain: lowercase alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character" },
	{ "key_name_starts_with_dash", { .key = "-x", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"-x\": name part " MSG_NAME_PART },
	{ "key_name_64_characters", { .key = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", .op = "Exists", .value = "", .effect = "" }, -EINVAL,
	  "key: invalid value \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": name part must be no more than 63 characters" },
	{ "value_starts_with_dash", { .key = "k", .op = "Equal", .value = "-bad", .effect = "" }, -EINVAL,
	  "value: invalid value \"-bad\": " MSG_NAME_PART },
	{ "value_with_slash", { .key = "k", .op = "", .value = "a/b", .effect = "" }, -EINVAL,
	  "value: invalid value \"a/b\": " MSG_NAME_PART },
	{ "every_problem_reported", { .key = "", .op = "Equal", .value = "-x", .effect = "NoSchedule", SECONDS(1) }, -EINVAL,
	  "operator: invalid value \"Equal\": operator must be Exists when key is empty, which means \"match all values and all keys\"; "
	  "effect: invalid value \"NoSchedule\": effect must be NoExecute when tolerationSeconds is set; "
	  "value: invalid value \"-x\": " MSG_NAME_PART },
};

static const char *row_name_test_validate(const void *row)
{
	return ((const struct validate_row *)row)->name;
}

static void test_validate(void **state)
{
	const struct validate_row *row = *state;
	struct toleration tol = make_toleration(&row->tol);
	char msg[1024];

	assert_int_equal(toleration_validate(&tol, msg, sizeof(msg)), row->expected_rc);
	assert_string_equal(msg, row->expected_msg);
	assert_int_equal(toleration_validate(&tol, NULL, 0), row->expected_rc);
}

static void test_validate_key_prefix_limits(void **state)
{
	char key[TAINT_KEY_MAX];
	struct toleration tol;
	char msg[512];

	(void)state;
	/* 253-character prefix made of 63-character labels, then "/k": valid. */
	snprintf(key, sizeof(key), "%.63s.%.63s.%.63s.%.61s/k",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(strchr(key, '/') - key, 253);
	assert_int_equal(toleration_init(&tol, key, "Exists", NULL, NULL, NULL, NULL, 0), 0);
	assert_int_equal(toleration_validate(&tol, msg, sizeof(msg)), 0);

	/* One more character in the prefix: invalid. */
	memmove(key + 1, key, strlen(key) + 1);
	assert_int_equal(toleration_init(&tol, key, "Exists", NULL, NULL, NULL, NULL, 0), 0);
	assert_int_equal(toleration_validate(&tol, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "prefix part must be no more than 253 characters"));
}

static void test_validate_list_names_index(void **state)
{
	struct toleration list[3];
	char msg[512];

	(void)state;
	list[0] = make_toleration(&(struct tol_spec){ .key = "k", .op = "Exists" });
	list[1] = make_toleration(&(struct tol_spec){ .key = "", .op = "Equal" });
	list[2] = make_toleration(&(struct tol_spec){ .key = "k", .op = "Exists", .value = "v" });

	assert_int_equal(toleration_list_validate(list, 1, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	assert_int_equal(toleration_list_validate(list, 3, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg,
			    "tolerations[1].operator: invalid value \"Equal\": operator must be Exists when key is empty, which means \"match all values and all keys\"; "
			    "tolerations[2].value: invalid value \"v\": value must be empty when operator is Exists");
}

static void test_validate_truncates_message(void **state)
{
	struct toleration tol = make_toleration(&(struct tol_spec){ .key = "", .op = "Equal", .value = "-x", .effect = "NoSchedule", SECONDS(1) });
	char msg[24];

	(void)state;
	assert_int_equal(toleration_validate(&tol, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "operator: invalid value");
}

static void test_taint_validate(void **state)
{
	struct taint t = make_taint(&(struct taint_spec){ .key = "nodecond.io/not-ready", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE });
	char msg[256];

	(void)state;
	assert_int_equal(taint_validate(&t, msg, sizeof(msg)), 0);

	t.key[0] = '\0';
	assert_int_equal(taint_validate(&t, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "key: required value");

	t = make_taint(&(struct taint_spec){ .key = "a b", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE });
	assert_int_equal(taint_validate(&t, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "key: invalid value \"a b\": name part " MSG_NAME_PART);

	t = make_taint(&(struct taint_spec){ .key = "k", .value = "bad value", .effect = TAINT_EFFECT_NO_SCHEDULE });
	assert_int_equal(taint_validate(&t, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "value: invalid value \"bad value\": " MSG_NAME_PART);

	t = make_taint(&(struct taint_spec){ .key = "k", .value = "", .effect = _TAINT_EFFECT_MAX });
	assert_int_equal(taint_validate(&t, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "effect: unsupported value 3: supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"");
}

static void test_taint_value_check_lengths(void **state)
{
	(void)state;
	assert_null(taint_value_check(""));
	assert_null(taint_value_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_string_equal(taint_value_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
			    "must be no more than 63 characters");
}

/* ---- NoExecute eviction timing ---- */

#define T0  1700000000000LL  /* timeAdded of the taints, ms */
#define NOW 1700000500000LL  /* the now argument, 500 s later */

struct verdict_spec {
	bool tolerated;
	ssize_t toleration_index;
	enum eviction_kind kind;
	int64_t at_ms;
};

struct eviction_row {
	const char *name;
	struct taint_spec taints[3];
	size_t n_taints;
	struct tol_spec tols[3];
	size_t n_tols;
	enum eviction_kind expected_kind;
	int64_t expected_at_ms;
	struct verdict_spec verdicts[3];
};

#define NOT_READY_NE(t)   { .key = "node.kubernetes.io/not-ready", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE, .time_added_ms = (t) }
#define UNREACHABLE_NE(t) { .key = "node.kubernetes.io/unreachable", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE, .time_added_ms = (t) }

static struct eviction_row eviction_rows[] = {
	{ "no_taints_never", { { 0 } }, 0, { { 0 } }, 0, EVICTION_NEVER, 0, { { 0 } } },
	{ "untolerated_no_execute_now",
	  { NOT_READY_NE(T0) }, 1, { { 0 } }, 0,
	  EVICTION_NOW, 0, { { false, -1, EVICTION_NOW, 0 } } },
	{ "other_key_toleration_now",
	  { NOT_READY_NE(T0) }, 1, { { .key = "example.com/gpu", .op = "Exists" } }, 1,
	  EVICTION_NOW, 0, { { false, -1, EVICTION_NOW, 0 } } },
	{ "tolerated_without_seconds_never",
	  { NOT_READY_NE(T0) }, 1, { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute" } }, 1,
	  EVICTION_NEVER, 0, { { true, 0, EVICTION_NEVER, 0 } } },
	{ "seconds_counted_from_time_added",
	  { NOT_READY_NE(T0) }, 1, { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(300) } }, 1,
	  EVICTION_AT, T0 + 300000, { { true, 0, EVICTION_AT, T0 + 300000 } } },
	{ "unset_time_added_counts_from_now",
	  { NOT_READY_NE(0) }, 1, { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(300) } }, 1,
	  EVICTION_AT, NOW + 300000, { { true, 0, EVICTION_AT, NOW + 300000 } } },
	{ "time_in_past_stays_at",
	  { NOT_READY_NE(T0) }, 1, { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(60) } }, 1,
	  EVICTION_AT, T0 + 60000, { { true, 0, EVICTION_AT, T0 + 60000 } } },
	{ "zero_seconds_now",
	  { NOT_READY_NE(T0) }, 1, { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(0) } }, 1,
	  EVICTION_NOW, 0, { { true, 0, EVICTION_NOW, 0 } } },
	{ "negative_seconds_now",
	  { NOT_READY_NE(T0) }, 1, { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(-10) } }, 1,
	  EVICTION_NOW, 0, { { true, 0, EVICTION_NOW, 0 } } },
	{ "first_match_forever_beats_later_seconds",
	  { NOT_READY_NE(T0) }, 1,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute" },
	    { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(10) } }, 2,
	  EVICTION_NEVER, 0, { { true, 0, EVICTION_NEVER, 0 } } },
	{ "first_match_seconds_beats_later_forever",
	  { NOT_READY_NE(T0) }, 1,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(600) },
	    { .key = "", .op = "Exists" } }, 2,
	  EVICTION_AT, T0 + 600000, { { true, 0, EVICTION_AT, T0 + 600000 } } },
	{ "first_match_skips_non_matching",
	  { NOT_READY_NE(T0) }, 1,
	  { { .key = "node.kubernetes.io/unreachable", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(1) },
	    { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(120) } }, 2,
	  EVICTION_AT, T0 + 120000, { { true, 1, EVICTION_AT, T0 + 120000 } } },
	{ "minimum_of_used_seconds",
	  { NOT_READY_NE(T0), UNREACHABLE_NE(T0) }, 2,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(300) },
	    { .key = "node.kubernetes.io/unreachable", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(60) } }, 2,
	  EVICTION_AT, T0 + 60000,
	  { { true, 0, EVICTION_AT, T0 + 300000 }, { true, 1, EVICTION_AT, T0 + 60000 } } },
	{ "forever_and_seconds_gives_seconds",
	  { NOT_READY_NE(T0), UNREACHABLE_NE(T0) }, 2,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute" },
	    { .key = "node.kubernetes.io/unreachable", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(60) } }, 2,
	  EVICTION_AT, T0 + 60000,
	  { { true, 0, EVICTION_NEVER, 0 }, { true, 1, EVICTION_AT, T0 + 60000 } } },
	{ "one_untolerated_taint_evicts_now",
	  { NOT_READY_NE(T0), { .key = "example.com/maintenance", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE, .time_added_ms = T0 } }, 2,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute" } }, 1,
	  EVICTION_NOW, 0,
	  { { true, 0, EVICTION_NEVER, 0 }, { false, -1, EVICTION_NOW, 0 } } },
	{ "each_taint_counts_from_own_time_added",
	  { NOT_READY_NE(T0), UNREACHABLE_NE(T0 + 100000) }, 2,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(600) },
	    { .key = "node.kubernetes.io/unreachable", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(100) } }, 2,
	  EVICTION_AT, T0 + 200000,
	  { { true, 0, EVICTION_AT, T0 + 600000 }, { true, 1, EVICTION_AT, T0 + 200000 } } },
	{ "blanket_toleration_seconds_apply_to_each",
	  { NOT_READY_NE(T0), UNREACHABLE_NE(T0) }, 2,
	  { { .key = "", .op = "Exists", .value = "", .effect = "", SECONDS(30) } }, 1,
	  EVICTION_AT, T0 + 30000,
	  { { true, 0, EVICTION_AT, T0 + 30000 }, { true, 0, EVICTION_AT, T0 + 30000 } } },
	{ "no_schedule_never_evicts",
	  { { .key = "nodecond.io/memory-pressure", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE, .time_added_ms = 0 },
	    { .key = "nodecond.io/disk-pressure", .value = "", .effect = TAINT_EFFECT_PREFER_NO_SCHEDULE, .time_added_ms = 0 } }, 2,
	  { { .key = "nodecond.io/memory-pressure", .op = "Exists" } }, 1,
	  EVICTION_NEVER, 0,
	  { { true, 0, EVICTION_NEVER, 0 }, { false, -1, EVICTION_NEVER, 0 } } },
	{ "huge_seconds_saturate",
	  { NOT_READY_NE(T0) }, 1, { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(INT64_MAX) } }, 1,
	  EVICTION_AT, INT64_MAX, { { true, 0, EVICTION_AT, INT64_MAX } } },
	{ "gt_toleration_does_not_protect",
	  { { .key = "example.com/sla", .value = "10", .effect = TAINT_EFFECT_NO_EXECUTE, .time_added_ms = T0 } }, 1,
	  { { .key = "example.com/sla", .op = "Gt", .value = "5", .effect = "NoExecute" } }, 1,
	  EVICTION_NOW, 0, { { false, -1, EVICTION_NOW, 0 } } },
};

static const char *row_name_test_eviction(const void *row)
{
	return ((const struct eviction_row *)row)->name;
}

static void test_eviction(void **state)
{
	const struct eviction_row *row = *state;
	struct taint taints[3];
	struct toleration tols[3];
	struct taint_verdict verdicts[3];
	struct eviction pod;

	for (size_t i = 0; i < row->n_taints; i++)
		taints[i] = make_taint(&row->taints[i]);
	for (size_t i = 0; i < row->n_tols; i++)
		tols[i] = make_toleration(&row->tols[i]);

	pod = eviction_evaluate(taints, row->n_taints, tols, row->n_tols, NOW, verdicts);
	assert_string_equal(eviction_kind_name(pod.kind), eviction_kind_name(row->expected_kind));
	if (row->expected_kind == EVICTION_AT)
		assert_int_equal(pod.at_ms, row->expected_at_ms);

	for (size_t i = 0; i < row->n_taints; i++) {
		const struct verdict_spec *want = &row->verdicts[i];

		assert_int_equal(verdicts[i].tolerated, want->tolerated);
		assert_int_equal(verdicts[i].toleration_index, want->toleration_index);
		assert_string_equal(eviction_kind_name(verdicts[i].eviction.kind), eviction_kind_name(want->kind));
		if (want->kind == EVICTION_AT)
			assert_int_equal(verdicts[i].eviction.at_ms, want->at_ms);
	}

	pod = eviction_evaluate(taints, row->n_taints, tols, row->n_tols, NOW, NULL);
	assert_int_equal(pod.kind, row->expected_kind);
}

static void test_eviction_kind_names(void **state)
{
	(void)state;
	assert_string_equal(eviction_kind_name(EVICTION_NEVER), "Never");
	assert_string_equal(eviction_kind_name(EVICTION_NOW), "Now");
	assert_string_equal(eviction_kind_name(EVICTION_AT), "At");
	assert_null(eviction_kind_name(_EVICTION_KIND_MAX));
}

/* ---- DaemonSet defaults ---- */

#define DS_NOT_READY      { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute" }
#define DS_UNREACHABLE    { .key = "node.kubernetes.io/unreachable", .op = "Exists", .value = "", .effect = "NoExecute" }
#define DS_DISK           { .key = "node.kubernetes.io/disk-pressure", .op = "Exists", .value = "", .effect = "NoSchedule" }
#define DS_MEMORY         { .key = "node.kubernetes.io/memory-pressure", .op = "Exists", .value = "", .effect = "NoSchedule" }
#define DS_PID            { .key = "node.kubernetes.io/pid-pressure", .op = "Exists", .value = "", .effect = "NoSchedule" }
#define DS_UNSCHEDULABLE  { .key = "node.kubernetes.io/unschedulable", .op = "Exists", .value = "", .effect = "NoSchedule" }
#define DS_NETWORK        { .key = "node.kubernetes.io/network-unavailable", .op = "Exists", .value = "", .effect = "NoSchedule" }

struct list_row {
	const char *name;
	struct tol_spec in[9];
	size_t n_in;
	size_t max;
	bool host_network;
	int expected_rc;
	struct tol_spec out[9];
	size_t n_out;
};

static struct list_row daemonset_rows[] = {
	{ "empty_pod_gets_six", { { 0 } }, 0, 9, false, 0,
	  { DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID, DS_UNSCHEDULABLE }, 6 },
	{ "host_network_adds_network_unavailable", { { 0 } }, 0, 9, true, 0,
	  { DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID, DS_UNSCHEDULABLE, DS_NETWORK }, 7 },
	{ "own_tolerations_stay_first", { { .key = "example.com/gpu", .op = "Exists" } }, 1, 9, false, 0,
	  { { .key = "example.com/gpu", .op = "Exists" }, DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID,
	    DS_UNSCHEDULABLE }, 7 },
	{ "identical_entry_kept_in_place", { { .key = "example.com/gpu", .op = "Exists" }, DS_MEMORY }, 2, 9, false, 0,
	  { { .key = "example.com/gpu", .op = "Exists" }, DS_MEMORY, DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_PID,
	    DS_UNSCHEDULABLE }, 7 },
	{ "seconds_replaced_in_place",
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(300) }, { .key = "example.com/gpu", .op = "Exists" } }, 2,
	  9, false, 0,
	  { DS_NOT_READY, { .key = "example.com/gpu", .op = "Exists" }, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID,
	    DS_UNSCHEDULABLE }, 7 },
	{ "every_same_entry_replaced",
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(1) },
	    { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(2) } }, 2,
	  9, false, 0,
	  { DS_NOT_READY, DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID, DS_UNSCHEDULABLE }, 7 },
	{ "identical_entry_among_others_keeps_all",
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(1) }, DS_NOT_READY }, 2,
	  9, false, 0,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(1) }, DS_NOT_READY,
	    DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID, DS_UNSCHEDULABLE }, 7 },
	{ "other_operator_is_other_entry",
	  { { .key = "node.kubernetes.io/unreachable", .op = "Equal", .value = "", .effect = "NoExecute", SECONDS(5) } }, 1, 9, false, 0,
	  { { .key = "node.kubernetes.io/unreachable", .op = "Equal", .value = "", .effect = "NoExecute", SECONDS(5) }, DS_NOT_READY,
	    DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID, DS_UNSCHEDULABLE }, 7 },
	{ "no_room_leaves_list_unchanged", { { .key = "example.com/gpu", .op = "Exists" } }, 1, 6, false, -ENOSPC,
	  { { .key = "example.com/gpu", .op = "Exists" } }, 1 },
	{ "replacements_need_no_room",
	  { DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID,
	    { .key = "node.kubernetes.io/unschedulable", .op = "Exists", .value = "", .effect = "NoSchedule" } }, 6, 6, false, 0,
	  { DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID, DS_UNSCHEDULABLE }, 6 },
};

static const char *row_name_test_daemonset_defaults(const void *row)
{
	return ((const struct list_row *)row)->name;
}

static void assert_list(const struct toleration *list, size_t n, const struct tol_spec *want, size_t n_want)
{
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++) {
		struct toleration w = make_toleration(&want[i]);

		assert_string_equal(list[i].key, w.key);
		assert_string_equal(list[i].operator, w.operator);
		assert_string_equal(list[i].value, w.value);
		assert_string_equal(list[i].effect, w.effect);
		assert_int_equal(list[i].has_toleration_seconds, w.has_toleration_seconds);
		assert_int_equal(list[i].toleration_seconds, w.toleration_seconds);
	}
}

static void test_daemonset_defaults(void **state)
{
	const struct list_row *row = *state;
	struct toleration list[9];
	size_t n = row->n_in;

	for (size_t i = 0; i < n; i++)
		list[i] = make_toleration(&row->in[i]);

	assert_int_equal(toleration_add_daemonset_defaults(list, &n, row->max, row->host_network), row->expected_rc);
	assert_list(list, n, row->out, row->n_out);
}

/* ---- DefaultTolerationSeconds admission ---- */

#define ADM_NOT_READY   { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(300) }
#define ADM_UNREACHABLE { .key = "node.kubernetes.io/unreachable", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(300) }

static struct list_row admission_rows[] = {
	{ "empty_pod_gets_both", { { 0 } }, 0, 9, false, 0, { ADM_NOT_READY, ADM_UNREACHABLE }, 2 },
	{ "own_not_ready_kept",
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(60) } }, 1, 9, false, 0,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoExecute", SECONDS(60) }, ADM_UNREACHABLE }, 2 },
	{ "empty_effect_covers_no_execute",
	  { { .key = "node.kubernetes.io/unreachable", .op = "Equal", .value = "x", .effect = "" } }, 1, 9, false, 0,
	  { { .key = "node.kubernetes.io/unreachable", .op = "Equal", .value = "x", .effect = "" }, ADM_NOT_READY }, 2 },
	{ "blanket_toleration_covers_both", { { .key = "", .op = "Exists" } }, 1, 9, false, 0, { { .key = "", .op = "Exists" } }, 1 },
	{ "blanket_no_schedule_covers_neither", { { .key = "", .op = "Exists", .value = "", .effect = "NoSchedule" } }, 1, 9, false, 0,
	  { { .key = "", .op = "Exists", .value = "", .effect = "NoSchedule" }, ADM_NOT_READY, ADM_UNREACHABLE }, 3 },
	{ "no_schedule_for_key_does_not_cover",
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoSchedule" } }, 1, 9, false, 0,
	  { { .key = "node.kubernetes.io/not-ready", .op = "Exists", .value = "", .effect = "NoSchedule" }, ADM_NOT_READY, ADM_UNREACHABLE }, 3 },
	{ "daemonset_pod_gets_nothing",
	  { DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID, DS_UNSCHEDULABLE }, 6, 9, false, 0,
	  { DS_NOT_READY, DS_UNREACHABLE, DS_DISK, DS_MEMORY, DS_PID, DS_UNSCHEDULABLE }, 6 },
	{ "no_room_leaves_list_unchanged", { { .key = "example.com/gpu", .op = "Exists" } }, 1, 2, false, -ENOSPC,
	  { { .key = "example.com/gpu", .op = "Exists" } }, 1 },
};

static const char *row_name_test_default_seconds(const void *row)
{
	return ((const struct list_row *)row)->name;
}

static void test_default_seconds(void **state)
{
	const struct list_row *row = *state;
	struct toleration list[9];
	size_t n = row->n_in;

	for (size_t i = 0; i < n; i++)
		list[i] = make_toleration(&row->in[i]);

	assert_int_equal(toleration_add_default_seconds(list, &n, row->max, TOLERATION_DEFAULT_SECONDS,
							TOLERATION_DEFAULT_SECONDS), row->expected_rc);
	assert_list(list, n, row->out, row->n_out);
}

static void test_default_seconds_configured_values(void **state)
{
	struct toleration list[2];
	size_t n = 0;

	(void)state;
	assert_int_equal(toleration_add_default_seconds(list, &n, 2, 60, 120), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].toleration_seconds, 60);
	assert_int_equal(list[1].toleration_seconds, 120);
}

/* ---- defaults against the profiles' taints ---- */

struct profile_tolerance_row {
	const char *name;
	enum profile_name profile;
	bool host_network;
	/* For each kind's taints in profile order: tolerated by the DaemonSet defaults. */
	bool tolerated[_CONDITION_KIND_MAX][PROFILE_KIND_TAINTS_MAX];
};

static struct profile_tolerance_row profile_tolerance_rows[] = {
	{ "companion_pod_network", PROFILE_COMPANION, false, { { false } } },
	{ "companion_host_network", PROFILE_COMPANION, true, { { false } } },
	{ "standard_pod_network", PROFILE_STANDARD, false, {
		[CONDITION_MEMORY_PRESSURE] = { true },
		[CONDITION_DISK_PRESSURE] = { true },
		[CONDITION_PID_PRESSURE] = { true },
		[CONDITION_NETWORK_UNAVAILABLE] = { false },
		[CONDITION_NOT_READY] = { false, true },    /* NoSchedule, NoExecute */
		[CONDITION_UNREACHABLE] = { false, true },
	} },
	{ "standard_host_network", PROFILE_STANDARD, true, {
		[CONDITION_MEMORY_PRESSURE] = { true },
		[CONDITION_DISK_PRESSURE] = { true },
		[CONDITION_PID_PRESSURE] = { true },
		[CONDITION_NETWORK_UNAVAILABLE] = { true },
		[CONDITION_NOT_READY] = { false, true },
		[CONDITION_UNREACHABLE] = { false, true },
	} },
};

static const char *row_name_test_daemonset_profile(const void *row)
{
	return ((const struct profile_tolerance_row *)row)->name;
}

static void test_daemonset_profile(void **state)
{
	const struct profile_tolerance_row *row = *state;
	struct taint_profile p;
	struct toleration list[9];
	size_t n = 0;

	taint_profile_init(&p, row->profile);
	assert_int_equal(toleration_add_daemonset_defaults(list, &n, 9, row->host_network), 0);

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		for (size_t i = 0; i < p.kinds[k].n_taints; i++) {
			struct taint_verdict verdict;
			struct eviction pod;

			pod = eviction_evaluate(&p.kinds[k].taints[i], 1, list, n, NOW, &verdict);
			assert_int_equal(verdict.tolerated, row->tolerated[k][i]);
			/* The DaemonSet's NoExecute tolerations have no seconds: never evicted. */
			if (p.kinds[k].taints[i].effect == TAINT_EFFECT_NO_EXECUTE)
				assert_int_equal(pod.kind, EVICTION_NEVER);
		}
	}
}

static void test_ordinary_pod_evicted_after_300_seconds(void **state)
{
	struct toleration list[2];
	struct taint taints[2];
	size_t n = 0;
	struct eviction pod;

	(void)state;
	assert_int_equal(toleration_add_default_seconds(list, &n, 2, TOLERATION_DEFAULT_SECONDS,
							TOLERATION_DEFAULT_SECONDS), 0);
	taints[0] = make_taint(&(struct taint_spec)NOT_READY_NE(T0));
	taints[1] = make_taint(&(struct taint_spec){ .key = "node.kubernetes.io/not-ready", .value = "", .effect = TAINT_EFFECT_NO_SCHEDULE });

	pod = eviction_evaluate(taints, 2, list, n, NOW, NULL);
	assert_int_equal(pod.kind, EVICTION_AT);
	assert_int_equal(pod.at_ms, T0 + 300000);

	/* A companion NoExecute taint has no default toleration: evicted at once. */
	taints[0] = make_taint(&(struct taint_spec){ .key = "nodecond.io/not-ready", .value = "", .effect = TAINT_EFFECT_NO_EXECUTE, .time_added_ms = T0 });
	pod = eviction_evaluate(taints, 1, list, n, NOW, NULL);
	assert_int_equal(pod.kind, EVICTION_NOW);
}

int main(void)
{
	const struct CMUnitTest single[] = {
		cmocka_unit_test(test_find_first_returns_earliest_match),
		cmocka_unit_test(test_toleration_init_rejects_long_key),
		cmocka_unit_test(test_toleration_init_keeps_absent_fields_empty),
		cmocka_unit_test(test_toleration_init_truncates_long_operator),
		cmocka_unit_test(test_taint_init_parses_fields),
		cmocka_unit_test(test_taint_effect_names),
		cmocka_unit_test(test_validate_key_prefix_limits),
		cmocka_unit_test(test_validate_list_names_index),
		cmocka_unit_test(test_validate_truncates_message),
		cmocka_unit_test(test_taint_validate),
		cmocka_unit_test(test_taint_value_check_lengths),
		cmocka_unit_test(test_eviction_kind_names),
		cmocka_unit_test(test_default_seconds_configured_values),
		cmocka_unit_test(test_ordinary_pod_evicted_after_300_seconds),
	};
	int failed = 0;

	failed += RUN_ROWS("toleration matching", test_match, match_rows);
	failed += RUN_ROWS("toleration validation", test_validate, validate_rows);
	failed += RUN_ROWS("NoExecute eviction timing", test_eviction, eviction_rows);
	failed += RUN_ROWS("DaemonSet default tolerations", test_daemonset_defaults, daemonset_rows);
	failed += RUN_ROWS("DefaultTolerationSeconds admission", test_default_seconds, admission_rows);
	failed += RUN_ROWS("DaemonSet defaults against profile taints", test_daemonset_profile,
			   profile_tolerance_rows);
	failed += cmocka_run_group_tests_name("toleration helpers", single, NULL, NULL);
	return failed ? 1 : 0;
}
