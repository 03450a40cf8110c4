// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conditions/readiness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define T0 1700000000000LL

#define TRUE_ CONDITION_STATUS_TRUE
#define FALSE_ CONDITION_STATUS_FALSE
#define UNKNOWN_ CONDITION_STATUS_UNKNOWN

struct node_case {
	const char *name;
	struct condition conditions[3];
	size_t n;
	const char *ready_type;
	bool ready;
};

static const struct node_case node_cases[] = {
	{ "kernel ready true",
	  { { .type = "KernelReady", .status = TRUE_ } },
	  1,
	  "KernelReady",
	  true },
	{ "kernel ready false",
	  { { .type = "KernelReady", .status = FALSE_ } },
	  1,
	  "KernelReady",
	  false },
	{ "kernel ready unknown",
	  { { .type = "KernelReady", .status = UNKNOWN_ } },
	  1,
	  "KernelReady",
	  false },
	{ "absent",
	  { { .type = "KernelMemoryPressure", .status = TRUE_ } },
	  1,
	  "KernelReady",
	  false },
	{ "empty list", { { .type = "" } }, 0, "KernelReady", false },
	{ "kubelet ready only",
	  { { .type = "Ready", .status = TRUE_ }, { .type = "KernelReady", .status = FALSE_ } },
	  2,
	  "KernelReady",
	  false },
	{ "standard profile",
	  { { .type = "MemoryPressure", .status = FALSE_ }, { .type = "Ready", .status = TRUE_ } },
	  2,
	  "Ready",
	  true },
};

static void readiness_node_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(node_cases); i++) {
		const struct node_case *c = &node_cases[i];

		if (readiness_node_ready(c->conditions, c->n, c->ready_type) != c->ready)
			fail_msg("%s: expected %s", c->name, c->ready ? "ready" : "not ready");
	}
}

struct pod_case {
	const char *name;
	struct condition conditions[3];
	size_t n;
	int64_t min_ready_seconds;
	int64_t now_ms;
	bool ready;
	bool available;
};

static const struct pod_case pod_cases[] = {
	{ "ready, no minReadySeconds",
	  { { .type = "Ready", .status = TRUE_, .last_transition_ms = T0 } },
	  1,
	  0,
	  T0,
	  true,
	  true },
	{ "ready just now",
	  { { .type = "Ready", .status = TRUE_, .last_transition_ms = T0 } },
	  1,
	  10,
	  T0,
	  true,
	  false },
	{ "ready exactly minReadySeconds",
	  { { .type = "Ready", .status = TRUE_, .last_transition_ms = T0 } },
	  1,
	  10,
	  T0 + 10000,
	  true,
	  false },
	{ "ready one ms after",
	  { { .type = "Ready", .status = TRUE_, .last_transition_ms = T0 } },
	  1,
	  10,
	  T0 + 10001,
	  true,
	  true },
	{ "ready without transition time",
	  { { .type = "Ready", .status = TRUE_ } },
	  1,
	  10,
	  T0,
	  true,
	  false },
	{ "huge minReadySeconds",
	  { { .type = "Ready", .status = TRUE_, .last_transition_ms = T0 } },
	  1,
	  INT64_MAX,
	  T0,
	  true,
	  false },
	{ "negative minReadySeconds",
	  { { .type = "Ready", .status = TRUE_, .last_transition_ms = T0 } },
	  1,
	  -1,
	  T0,
	  true,
	  true },
	{ "not ready",
	  { { .type = "Ready", .status = FALSE_, .last_transition_ms = T0 } },
	  1,
	  0,
	  T0 + 60000,
	  false,
	  false },
	{ "ready unknown", { { .type = "Ready", .status = UNKNOWN_ } }, 1, 0, T0, false, false },
	{ "no ready condition",
	  { { .type = "PodScheduled", .status = TRUE_ },
	    { .type = "ContainersReady", .status = TRUE_ } },
	  2,
	  0,
	  T0,
	  false,
	  false },
	{ "first ready condition wins",
	  { { .type = "Ready", .status = FALSE_ }, { .type = "Ready", .status = TRUE_ } },
	  2,
	  0,
	  T0,
	  false,
	  false },
	{ "no conditions", { { .type = "" } }, 0, 0, T0, false, false },
};

static void readiness_pod_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(pod_cases); i++) {
		const struct pod_case *c = &pod_cases[i];

		if (readiness_pod_ready(c->conditions, c->n) != c->ready)
			fail_msg("%s: expected %s", c->name, c->ready ? "ready" : "not ready");
		if (readiness_pod_available(c->conditions, c->n, c->min_ready_seconds, c->now_ms) !=
		    c->available)
			fail_msg("%s: expected %s", c->name,
				 c->available ? "available" : "not available");
	}
}

struct job_case {
	const char *name;
	struct condition conditions[3];
	size_t n;
	bool finished;
};

static const struct job_case job_cases[] = {
	{ "complete", { { .type = "Complete", .status = TRUE_ } }, 1, true },
	{ "failed", { { .type = "Failed", .status = TRUE_ } }, 1, true },
	{ "complete false", { { .type = "Complete", .status = FALSE_ } }, 1, false },
	{ "failed unknown", { { .type = "Failed", .status = UNKNOWN_ } }, 1, false },
	{ "success criteria met only",
	  { { .type = "SuccessCriteriaMet", .status = TRUE_ } },
	  1,
	  false },
	{ "failure target only", { { .type = "FailureTarget", .status = TRUE_ } }, 1, false },
	{ "failure target then failed",
	  { { .type = "FailureTarget", .status = TRUE_ }, { .type = "Failed", .status = TRUE_ } },
	  2,
	  true },
	{ "suspended", { { .type = "Suspended", .status = TRUE_ } }, 1, false },
	{ "no conditions", { { .type = "" } }, 0, false },
};

static void readiness_job_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(job_cases); i++) {
		const struct job_case *c = &job_cases[i];

		if (readiness_job_finished(c->conditions, c->n) != c->finished)
			fail_msg("%s: expected %s", c->name,
				 c->finished ? "finished" : "not finished");
	}
}

struct resync_case {
	const char *name;
	int64_t min_ms;
	uint64_t random;
	int64_t period_ms;
};

static const struct resync_case resync_cases[] = {
	{ "lowest random", 12 * 3600 * 1000LL, 0, 12 * 3600 * 1000LL },
	{ "middle random", 12 * 3600 * 1000LL, 1ULL << 63, 18 * 3600 * 1000LL },
	{ "highest random", 12 * 3600 * 1000LL, UINT64_MAX, 24 * 3600 * 1000LL - 1 },
	{ "one millisecond", 1, UINT64_MAX, 1 },
	{ "zero minimum", 0, 12345, 0 },
	{ "negative minimum", -5, 12345, 0 },
	{ "half of int64", INT64_MAX / 2, UINT64_MAX, 2 * (INT64_MAX / 2) - 1 },
	{ "clamped to int64", INT64_MAX - 10, UINT64_MAX, INT64_MAX },
};

static void readiness_resync_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(resync_cases); i++) {
		const struct resync_case *c = &resync_cases[i];
		int64_t period = readiness_resync_period(c->min_ms, c->random);

		if (period != c->period_ms)
			fail_msg("%s: period %lld, expected %lld", c->name, (long long)period,
				 (long long)c->period_ms);
	}
}

/* Every random number lands in [min, 2 * min). */
static void readiness_resync_range(void **state)
{
	uint64_t x = 88172645463325252ULL;

	for (int i = 0; i < 100000; i++) {
		int64_t period;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		period = readiness_resync_period(1000, x);
		assert_true(period >= 1000);
		assert_true(period < 2000);
	}
}

static void readiness_find_first(void **state)
{
	const struct condition conditions[] = {
		{ .type = "Ready", .status = FALSE_ },
		{ .type = "Ready", .status = TRUE_ },
	};

	assert_ptr_equal(readiness_find(conditions, 2, "Ready"), &conditions[0]);
	assert_null(readiness_find(conditions, 2, "PodScheduled"));
	assert_null(readiness_find(NULL, 0, "Ready"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(readiness_node_table),	  cmocka_unit_test(readiness_pod_table),
		cmocka_unit_test(readiness_job_table),	  cmocka_unit_test(readiness_resync_table),
		cmocka_unit_test(readiness_resync_range), cmocka_unit_test(readiness_find_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
