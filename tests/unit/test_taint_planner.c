// SPDX-License-Identifier: Apache-2.0
/*
 * Profiles and the taint planner. Every table row runs as its own cmocka
 * test named after the case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "taints/planner.h"
#include "taints/profile.h"
#include "taints/taint.h"

#define ROWS_MAX 64
#define LIST_MAX 8

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

#define TAINT(k, v, e, t) { .key = (k), .value = (v), .effect = TAINT_EFFECT_##e, .time_added_ms = (t) }

static void assert_taints(const struct taint *got, size_t n_got, const struct taint *want, size_t n_want)
{
	assert_int_equal(n_got, n_want);
	for (size_t i = 0; i < n_got; i++) {
		assert_string_equal(got[i].key, want[i].key);
		assert_string_equal(got[i].value, want[i].value);
		assert_string_equal(taint_effect_name(got[i].effect), taint_effect_name(want[i].effect));
		assert_int_equal(got[i].time_added_ms, want[i].time_added_ms);
	}
}

/* ---- built-in profiles ---- */

struct profile_row {
	const char *name;
	enum profile_name profile;
	enum condition_kind kind;
	const char *condition_type;
	struct taint taints[2];
	size_t n_taints;
};

static struct profile_row profile_rows[] = {
	{ "companion_memory", PROFILE_COMPANION, CONDITION_MEMORY_PRESSURE, "KernelMemoryPressure",
	  { TAINT("nodecond.io/memory-pressure", "", NO_SCHEDULE, 0) }, 1 },
	{ "companion_disk", PROFILE_COMPANION, CONDITION_DISK_PRESSURE, "KernelDiskPressure",
	  { TAINT("nodecond.io/disk-pressure", "", NO_SCHEDULE, 0) }, 1 },
	{ "companion_pid", PROFILE_COMPANION, CONDITION_PID_PRESSURE, "KernelPIDPressure",
	  { TAINT("nodecond.io/pid-pressure", "", NO_SCHEDULE, 0) }, 1 },
	{ "companion_network", PROFILE_COMPANION, CONDITION_NETWORK_UNAVAILABLE, "KernelNetworkUnavailable",
	  { TAINT("nodecond.io/network-unavailable", "", NO_SCHEDULE, 0) }, 1 },
	{ "companion_not_ready", PROFILE_COMPANION, CONDITION_NOT_READY, "KernelReady",
	  { TAINT("nodecond.io/not-ready", "", NO_SCHEDULE, 0) }, 1 },
	{ "companion_unreachable", PROFILE_COMPANION, CONDITION_UNREACHABLE, "KernelReady",
	  { TAINT("nodecond.io/unreachable", "", NO_SCHEDULE, 0) }, 1 },
	{ "standard_memory", PROFILE_STANDARD, CONDITION_MEMORY_PRESSURE, "MemoryPressure",
	  { TAINT("node.kubernetes.io/memory-pressure", "", NO_SCHEDULE, 0) }, 1 },
	{ "standard_disk", PROFILE_STANDARD, CONDITION_DISK_PRESSURE, "DiskPressure",
	  { TAINT("node.kubernetes.io/disk-pressure", "", NO_SCHEDULE, 0) }, 1 },
	{ "standard_pid", PROFILE_STANDARD, CONDITION_PID_PRESSURE, "PIDPressure",
	  { TAINT("node.kubernetes.io/pid-pressure", "", NO_SCHEDULE, 0) }, 1 },
	{ "standard_network", PROFILE_STANDARD, CONDITION_NETWORK_UNAVAILABLE, "NetworkUnavailable",
	  { TAINT("node.kubernetes.io/network-unavailable", "", NO_SCHEDULE, 0) }, 1 },
	{ "standard_not_ready", PROFILE_STANDARD, CONDITION_NOT_READY, "Ready",
	  { TAINT("node.kubernetes.io/not-ready", "", NO_SCHEDULE, 0),
	    TAINT("node.kubernetes.io/not-ready", "", NO_EXECUTE, 0) }, 2 },
	{ "standard_unreachable", PROFILE_STANDARD, CONDITION_UNREACHABLE, "Ready",
	  { TAINT("node.kubernetes.io/unreachable", "", NO_SCHEDULE, 0),
	    TAINT("node.kubernetes.io/unreachable", "", NO_EXECUTE, 0) }, 2 },
};

static const char *row_name_test_profile(const void *row)
{
	return ((const struct profile_row *)row)->name;
}

static void test_profile(void **state)
{
	const struct profile_row *row = *state;
	struct taint_profile p;
	char msg[256];

	taint_profile_init(&p, row->profile);
	assert_int_equal(p.base, row->profile);
	assert_string_equal(p.kinds[row->kind].condition_type, row->condition_type);
	assert_taints(p.kinds[row->kind].taints, p.kinds[row->kind].n_taints, row->taints, row->n_taints);
	assert_int_equal(taint_profile_validate(&p, msg, sizeof(msg)), 0);
	assert_int_equal(taint_profile_kind_of_type(&p, row->condition_type),
			 row->kind == CONDITION_UNREACHABLE ? CONDITION_NOT_READY : row->kind);
}

static void test_profile_names(void **state)
{
	(void)state;
	assert_string_equal(profile_name_to_string(PROFILE_COMPANION), "companion");
	assert_string_equal(profile_name_to_string(PROFILE_STANDARD), "standard");
	assert_null(profile_name_to_string(_PROFILE_MAX));
	assert_null(profile_name_to_string(_PROFILE_INVALID));
	assert_int_equal(profile_name_from_string("companion"), PROFILE_COMPANION);
	assert_int_equal(profile_name_from_string("standard"), PROFILE_STANDARD);
	assert_int_equal(profile_name_from_string("Standard"), _PROFILE_INVALID);
	assert_int_equal(profile_name_from_string(NULL), _PROFILE_INVALID);
}

static void test_profile_owns_keys(void **state)
{
	struct taint_profile companion, standard;

	(void)state;
	taint_profile_init(&companion, PROFILE_COMPANION);
	taint_profile_init(&standard, PROFILE_STANDARD);

	assert_true(taint_profile_owns_key(&companion, "nodecond.io/memory-pressure"));
	assert_true(taint_profile_owns_key(&companion, "nodecond.io/unreachable"));
	assert_false(taint_profile_owns_key(&companion, "node.kubernetes.io/not-ready"));
	assert_false(taint_profile_owns_key(&companion, "nodecond.io/other"));
	assert_true(taint_profile_owns_key(&standard, "node.kubernetes.io/not-ready"));
	assert_false(taint_profile_owns_key(&standard, "node.kubernetes.io/unschedulable"));
	assert_false(taint_profile_owns_key(&standard, "nodecond.io/memory-pressure"));
	assert_int_equal(taint_profile_kind_of_type(&companion, "Ready"), _CONDITION_KIND_INVALID);
}

/* ---- profile overrides ---- */

struct override_row {
	const char *name;
	enum profile_name base;
	struct taint_profile_overrides overrides;
	int expected_rc;
	const char *expected_msg;
	/* Checked when expected_rc is 0: */
	enum condition_kind kind;
	const char *condition_type;
	const char *unreachable_type;
	struct taint taints[PROFILE_KIND_TAINTS_MAX];
	size_t n_taints;
};

/* A rejected build: the fields checked on success are left unset. */
#define REJECTED(msg) -EINVAL, (msg), _CONDITION_KIND_INVALID, NULL, NULL, { { .key = "" } }, 0

static struct override_row override_rows[] = {
	{ "memory_type_only", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = { .has_type = true, .condition_type = "NodeMemoryStall" } } },
	  0, "", CONDITION_MEMORY_PRESSURE, "NodeMemoryStall", "KernelReady",
	  { TAINT("nodecond.io/memory-pressure", "", NO_SCHEDULE, 0) }, 1 },
	{ "memory_opts_into_no_execute", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = { .has_taints = true, .n_taints = 2, .taints = {
		  TAINT("nodecond.io/memory-pressure", "", NO_SCHEDULE, 0),
		  TAINT("nodecond.io/memory-pressure", "", NO_EXECUTE, 0) } } } },
	  0, "", CONDITION_MEMORY_PRESSURE, "KernelMemoryPressure", "KernelReady",
	  { TAINT("nodecond.io/memory-pressure", "", NO_SCHEDULE, 0),
	    TAINT("nodecond.io/memory-pressure", "", NO_EXECUTE, 0) }, 2 },
	{ "disk_without_taints", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_DISK_PRESSURE] = { .has_taints = true, .n_taints = 0 } } },
	  0, "", CONDITION_DISK_PRESSURE, "DiskPressure", "Ready", { { .key = "" } }, 0 },
	{ "not_ready_type_sets_unreachable", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_NOT_READY] = { .has_type = true, .condition_type = "NodecondReady" } } },
	  0, "", CONDITION_NOT_READY, "NodecondReady", "NodecondReady",
	  { TAINT("nodecond.io/not-ready", "", NO_SCHEDULE, 0) }, 1 },
	{ "both_ready_types_equal", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_NOT_READY] = { .has_type = true, .condition_type = "R" },
		       [CONDITION_UNREACHABLE] = { .has_type = true, .condition_type = "R" } } },
	  0, "", CONDITION_NOT_READY, "R", "R", { TAINT("nodecond.io/not-ready", "", NO_SCHEDULE, 0) }, 1 },
	{ "unreachable_type_alone_rejected", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_UNREACHABLE] = { .has_type = true, .condition_type = "Reachable" } } },
	  REJECTED("conditions.Unreachable.type: invalid value \"Reachable\": must equal conditions.NotReady.type \"KernelReady\", because both are the Ready condition") },
	{ "type_of_other_kind_rejected", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_NETWORK_UNAVAILABLE] = { .has_type = true, .condition_type = "KernelDiskPressure" } } },
	  REJECTED("conditions.NetworkUnavailable.type: duplicate value \"KernelDiskPressure\": conditions.DiskPressure has the same type") },
	{ "ready_type_on_pressure_kind_rejected", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = { .has_type = true, .condition_type = "Ready" } } },
	  REJECTED("conditions.NotReady.type: duplicate value \"Ready\": conditions.MemoryPressure has the same type") },
	{ "empty_type_rejected", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_PID_PRESSURE] = { .has_type = true, .condition_type = "" } } },
	  REJECTED("conditions.PIDPressure.type: required value") },
	{ "invalid_key_rejected", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_NETWORK_UNAVAILABLE] = { .has_taints = true, .n_taints = 2, .taints = {
		  TAINT("nodecond.io/network-unavailable", "", NO_SCHEDULE, 0),
		  TAINT("nodecond.io/no route", "", NO_EXECUTE, 0) } } } },
	  REJECTED("conditions.NetworkUnavailable.taints[1].key: invalid value \"nodecond.io/no route\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character") },
	{ "invalid_value_rejected", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = { .has_taints = true, .n_taints = 1, .taints = {
		  TAINT("nodecond.io/memory-pressure", "high!", NO_SCHEDULE, 0) } } } },
	  REJECTED("conditions.MemoryPressure.taints[0].value: invalid value \"high!\": must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character") },
	{ "duplicate_within_kind_rejected", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = { .has_taints = true, .n_taints = 2, .taints = {
		  TAINT("nodecond.io/memory-pressure", "", NO_SCHEDULE, 0),
		  TAINT("nodecond.io/memory-pressure", "a", NO_SCHEDULE, 0) } } } },
	  REJECTED("conditions.MemoryPressure.taints[1]: duplicate value \"nodecond.io/memory-pressure:NoSchedule\": each key and effect pair may appear once in the profile") },
	{ "duplicate_across_kinds_rejected", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_PID_PRESSURE] = { .has_taints = true, .n_taints = 1, .taints = {
		  TAINT("nodecond.io/disk-pressure", "", NO_SCHEDULE, 0) } } } },
	  REJECTED("conditions.PIDPressure.taints[0]: duplicate value \"nodecond.io/disk-pressure:NoSchedule\": each key and effect pair may appear once in the profile") },
	{ "too_many_taints_rejected", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = { .has_taints = true, .n_taints = PROFILE_KIND_TAINTS_MAX + 1 } } },
	  REJECTED("conditions.MemoryPressure.taints: must have at most 4 items") },
	{ "invalid_base_rejected", _PROFILE_MAX, { .kinds = { { 0 } } },
	  REJECTED("profile: unsupported value 2: supported values: \"companion\", \"standard\"") },
};

static const char *row_name_test_override(const void *row)
{
	return ((const struct override_row *)row)->name;
}

static void test_override(void **state)
{
	const struct override_row *row = *state;
	struct taint_profile p;
	char msg[512] = "";

	assert_int_equal(taint_profile_build(&p, row->base, &row->overrides, msg, sizeof(msg)), row->expected_rc);
	assert_string_equal(msg, row->expected_msg);
	if (row->expected_rc != 0)
		return;

	assert_string_equal(p.kinds[row->kind].condition_type, row->condition_type);
	assert_string_equal(p.kinds[CONDITION_UNREACHABLE].condition_type, row->unreachable_type);
	assert_taints(p.kinds[row->kind].taints, p.kinds[row->kind].n_taints, row->taints, row->n_taints);
}

static void test_build_without_overrides(void **state)
{
	struct taint_profile built, plain;

	(void)state;
	assert_int_equal(taint_profile_build(&built, PROFILE_STANDARD, NULL, NULL, 0), 0);
	taint_profile_init(&plain, PROFILE_STANDARD);
	assert_memory_equal(&built, &plain, sizeof(built));
}

static void test_validate_rejects_oversized_count(void **state)
{
	struct taint_profile p;
	char msg[128];

	(void)state;
	taint_profile_init(&p, PROFILE_COMPANION);
	p.kinds[CONDITION_DISK_PRESSURE].n_taints = PROFILE_KIND_TAINTS_MAX + 1;
	assert_int_equal(taint_profile_validate(&p, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "conditions.DiskPressure.taints: must have at most 4 items");
}

/* ---- planner ---- */

#define T_OLD 1600000000000LL  /* timeAdded of taints already on the Node, ms */
#define NOW   1700000000000LL  /* the now argument, ms */

#define IS_TRUE    { .present = true, .status = CONDITION_STATUS_TRUE }
#define IS_FALSE   { .present = true, .status = CONDITION_STATUS_FALSE }
#define IS_UNKNOWN { .present = true, .status = CONDITION_STATUS_UNKNOWN }

#define FOREIGN_A   TAINT("example.com/dedicated", "gpu", NO_SCHEDULE, 0)
#define FOREIGN_B   TAINT("example.com/maintenance", "", NO_EXECUTE, T_OLD + 7)
#define K8S_NR_NS   TAINT("node.kubernetes.io/not-ready", "", NO_SCHEDULE, 0)
#define K8S_NR_NE   TAINT("node.kubernetes.io/not-ready", "", NO_EXECUTE, T_OLD)
#define K8S_UR_NS   TAINT("node.kubernetes.io/unreachable", "", NO_SCHEDULE, 0)
#define K8S_UR_NE   TAINT("node.kubernetes.io/unreachable", "", NO_EXECUTE, T_OLD)
#define K8S_MEM     TAINT("node.kubernetes.io/memory-pressure", "", NO_SCHEDULE, 0)
#define NC_MEM      TAINT("nodecond.io/memory-pressure", "", NO_SCHEDULE, 0)
#define NC_DISK     TAINT("nodecond.io/disk-pressure", "", NO_SCHEDULE, 0)
#define NC_PID      TAINT("nodecond.io/pid-pressure", "", NO_SCHEDULE, 0)
#define NC_NET      TAINT("nodecond.io/network-unavailable", "", NO_SCHEDULE, 0)
#define NC_NR       TAINT("nodecond.io/not-ready", "", NO_SCHEDULE, 0)
#define NC_UR       TAINT("nodecond.io/unreachable", "", NO_SCHEDULE, 0)

struct plan_row {
	const char *name;
	enum profile_name profile;
	struct taint_plan_input in;
	struct taint current[LIST_MAX];
	size_t n_current;
	struct taint expected[LIST_MAX];
	size_t n_expected;
	bool changed;
	unsigned added, removed, deferred;
};

static struct plan_row plan_rows[] = {
	{ "nothing_present_nothing_desired", PROFILE_COMPANION, { .kinds = { { 0 } } },
	  { { .key = "" } }, 0, { { .key = "" } }, 0, false, 0, 0, 0 },
	{ "memory_true_adds_taint", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_TRUE } },
	  { { .key = "" } }, 0, { NC_MEM }, 1, true, 1, 0, 0 },
	{ "memory_false_removes_taint", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_FALSE } },
	  { NC_MEM }, 1, { { .key = "" } }, 0, true, 0, 1, 0 },
	{ "memory_unknown_adds_nothing", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_UNKNOWN } },
	  { NC_MEM }, 1, { { .key = "" } }, 0, true, 0, 1, 0 },
	{ "memory_absent_removes_taint", PROFILE_COMPANION, { .kinds = { { 0 } } },
	  { NC_MEM }, 1, { { .key = "" } }, 0, true, 0, 1, 0 },
	{ "memory_true_taint_kept", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_TRUE } },
	  { NC_MEM }, 1, { NC_MEM }, 1, false, 0, 0, 0 },
	{ "all_pressure_kinds_in_profile_order", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_NETWORK_UNAVAILABLE] = IS_TRUE, [CONDITION_PID_PRESSURE] = IS_TRUE,
		       [CONDITION_DISK_PRESSURE] = IS_TRUE, [CONDITION_MEMORY_PRESSURE] = IS_TRUE,
		       [CONDITION_NOT_READY] = IS_TRUE } },
	  { { .key = "" } }, 0, { NC_MEM, NC_DISK, NC_PID, NC_NET }, 4, true, 4, 0, 0 },
	{ "foreign_taints_kept_in_place", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_DISK_PRESSURE] = IS_TRUE, [CONDITION_MEMORY_PRESSURE] = IS_FALSE } },
	  { FOREIGN_A, NC_MEM, FOREIGN_B }, 3, { FOREIGN_A, FOREIGN_B, NC_DISK }, 3, true, 1, 1, 0 },
	{ "foreign_taints_alone_unchanged", PROFILE_COMPANION, { .kinds = { { 0 } } },
	  { FOREIGN_B, FOREIGN_A }, 2, { FOREIGN_B, FOREIGN_A }, 2, false, 0, 0, 0 },
	{ "companion_leaves_upstream_keys", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_NOT_READY] = IS_FALSE } },
	  { K8S_NR_NS, K8S_NR_NE, K8S_MEM }, 3, { K8S_NR_NS, K8S_NR_NE, K8S_MEM, NC_NR }, 4, true, 1, 0, 0 },
	{ "companion_not_ready_no_schedule_only", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_NOT_READY] = IS_FALSE } },
	  { { .key = "" } }, 0, { NC_NR }, 1, true, 1, 0, 0 },
	{ "standard_not_ready_both_effects", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_FALSE } },
	  { FOREIGN_A }, 1,
	  { FOREIGN_A, K8S_NR_NS, TAINT("node.kubernetes.io/not-ready", "", NO_EXECUTE, NOW) }, 3, true, 2, 0, 0 },
	{ "owned_taint_keeps_time_added", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_FALSE } },
	  { K8S_NR_NE, FOREIGN_A, K8S_NR_NS }, 3, { K8S_NR_NE, FOREIGN_A, K8S_NR_NS }, 3, false, 0, 0, 0 },
	{ "removed_owned_taint_restored", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_FALSE } },
	  { K8S_NR_NS, FOREIGN_A }, 2,
	  { K8S_NR_NS, FOREIGN_A, TAINT("node.kubernetes.io/not-ready", "", NO_EXECUTE, NOW) }, 3, true, 1, 0, 0 },
	{ "swap_not_ready_to_unreachable", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_UNKNOWN }, .ready_unknown_set_by_controller = true },
	  { FOREIGN_A, K8S_NR_NS, K8S_NR_NE, FOREIGN_B }, 4,
	  { FOREIGN_A, FOREIGN_B, K8S_UR_NS, TAINT("node.kubernetes.io/unreachable", "", NO_EXECUTE, NOW) }, 4,
	  true, 2, 2, 0 },
	{ "swap_unreachable_to_not_ready", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_FALSE } },
	  { K8S_UR_NS, FOREIGN_A, K8S_UR_NE }, 3,
	  { FOREIGN_A, K8S_NR_NS, TAINT("node.kubernetes.io/not-ready", "", NO_EXECUTE, NOW) }, 3,
	  true, 2, 2, 0 },
	{ "companion_swap_to_unreachable", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_NOT_READY] = IS_UNKNOWN, [CONDITION_MEMORY_PRESSURE] = IS_TRUE },
	    .ready_unknown_set_by_controller = true },
	  { NC_MEM, NC_NR }, 2, { NC_MEM, NC_UR }, 2, true, 1, 1, 0 },
	{ "unreachable_kept_while_silent", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_UNKNOWN }, .ready_unknown_set_by_controller = true },
	  { K8S_UR_NS, K8S_UR_NE }, 2, { K8S_UR_NS, K8S_UR_NE }, 2, false, 0, 0, 0 },
	{ "ready_unknown_from_agent_no_family", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_UNKNOWN } },
	  { K8S_NR_NS, K8S_NR_NE }, 2, { { .key = "" } }, 0, true, 0, 2, 0 },
	{ "ready_true_removes_family", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_TRUE } },
	  { K8S_UR_NS, K8S_UR_NE, FOREIGN_A }, 3, { FOREIGN_A }, 1, true, 0, 2, 0 },
	{ "ready_absent_adds_nothing", PROFILE_STANDARD,
	  { .kinds = { { 0 } }, .ready_unknown_set_by_controller = true },
	  { { .key = "" } }, 0, { { .key = "" } }, 0, false, 0, 0, 0 },
	{ "unreachable_entry_not_read", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_UNREACHABLE] = IS_TRUE } },
	  { { .key = "" } }, 0, { { .key = "" } }, 0, false, 0, 0, 0 },
	{ "other_value_replaced", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_TRUE } },
	  { TAINT("nodecond.io/memory-pressure", "manual", NO_SCHEDULE, 0), FOREIGN_A }, 2,
	  { FOREIGN_A, NC_MEM }, 2, true, 1, 1, 0 },
	{ "other_effect_of_owned_key_removed", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_TRUE } },
	  { TAINT("nodecond.io/memory-pressure", "", NO_EXECUTE, T_OLD), NC_MEM }, 2,
	  { NC_MEM }, 1, true, 0, 1, 0 },
	{ "second_copy_dropped", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_TRUE } },
	  { NC_MEM, FOREIGN_A, NC_MEM }, 3, { NC_MEM, FOREIGN_A }, 2, true, 0, 1, 0 },
	{ "deferred_kind_not_added", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_TRUE, [CONDITION_DISK_PRESSURE] = IS_TRUE },
	    .defer_additions = { [CONDITION_MEMORY_PRESSURE] = true } },
	  { { .key = "" } }, 0, { NC_DISK }, 1, true, 1, 0, 1 },
	{ "deferred_kind_present_kept", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_TRUE },
	    .defer_additions = { [CONDITION_MEMORY_PRESSURE] = true } },
	  { NC_MEM }, 1, { NC_MEM }, 1, false, 0, 0, 0 },
	{ "deferred_kind_cleared_removed", PROFILE_COMPANION,
	  { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_FALSE },
	    .defer_additions = { [CONDITION_MEMORY_PRESSURE] = true } },
	  { NC_MEM }, 1, { { .key = "" } }, 0, true, 0, 1, 0 },
	{ "deferred_unreachable_removes_not_ready", PROFILE_STANDARD,
	  { .kinds = { [CONDITION_NOT_READY] = IS_UNKNOWN }, .ready_unknown_set_by_controller = true,
	    .defer_additions = { [CONDITION_UNREACHABLE] = true } },
	  { K8S_NR_NS, K8S_NR_NE }, 2, { { .key = "" } }, 0, true, 0, 2, 2 },
	{ "cleanup_removes_every_owned_taint", PROFILE_STANDARD, { .kinds = { { 0 } } },
	  { K8S_MEM, FOREIGN_A, K8S_UR_NS, K8S_UR_NE, FOREIGN_B,
	    TAINT("node.kubernetes.io/network-unavailable", "", NO_SCHEDULE, 0) }, 6,
	  { FOREIGN_A, FOREIGN_B }, 2, true, 0, 4, 0 },
};

static const char *row_name_test_plan(const void *row)
{
	return ((const struct plan_row *)row)->name;
}

static void test_plan(void **state)
{
	const struct plan_row *row = *state;
	struct taint_profile p;
	struct taint out[LIST_MAX + TAINT_PLAN_OWNED_MAX];
	struct taint_plan_result r;

	taint_profile_init(&p, row->profile);
	assert_int_equal(taint_plan(&p, &row->in, row->current, row->n_current, NOW, out,
				    sizeof(out) / sizeof(out[0]), &r), 0);
	assert_taints(out, r.n_taints, row->expected, row->n_expected);
	assert_int_equal(r.changed, row->changed);
	assert_int_equal(r.added, row->added);
	assert_int_equal(r.removed, row->removed);
	assert_int_equal(r.deferred, row->deferred);
}

static void test_plan_is_level_triggered(void **state)
{
	const struct taint current[] = { FOREIGN_A, K8S_NR_NS };
	struct taint_plan_input in = { .kinds = { [CONDITION_NOT_READY] = IS_FALSE } };
	struct taint first[LIST_MAX], second[LIST_MAX];
	struct taint_plan_result r1, r2;
	struct taint_profile p;

	(void)state;
	taint_profile_init(&p, PROFILE_STANDARD);
	assert_int_equal(taint_plan(&p, &in, current, 2, NOW, first, LIST_MAX, &r1), 0);
	assert_true(r1.changed);

	/* Planning again on the result, later, changes nothing: timeAdded stays. */
	assert_int_equal(taint_plan(&p, &in, first, r1.n_taints, NOW + 60000, second, LIST_MAX, &r2), 0);
	assert_false(r2.changed);
	assert_int_equal(r2.added, 0);
	assert_taints(second, r2.n_taints, first, r1.n_taints);
}

static void test_plan_reports_no_room(void **state)
{
	const struct taint current[] = { FOREIGN_A, FOREIGN_B };
	struct taint_plan_input in = { .kinds = { [CONDITION_MEMORY_PRESSURE] = IS_TRUE } };
	struct taint out[2];
	struct taint_plan_result r;
	struct taint_profile p;

	(void)state;
	taint_profile_init(&p, PROFILE_COMPANION);
	assert_int_equal(taint_plan(&p, &in, current, 2, NOW, out, 2, &r), -ENOSPC);
	assert_int_equal(taint_plan(&p, &in, current, 2, NOW, out, 1, &r), -ENOSPC);
}

/* ---- input from the Node's conditions ---- */

static struct condition make_condition(const char *type, enum condition_status status, const char *reason)
{
	struct condition c;

	memset(&c, 0, sizeof(c));
	snprintf(c.type, sizeof(c.type), "%s", type);
	snprintf(c.reason, sizeof(c.reason), "%s", reason);
	c.status = status;
	return c;
}

static void test_input_from_conditions(void **state)
{
	struct condition conditions[4];
	struct taint_plan_input in;
	struct taint_profile p;

	(void)state;
	taint_profile_init(&p, PROFILE_COMPANION);
	conditions[0] = make_condition("Ready", CONDITION_STATUS_FALSE, "KubeletNotReady");
	conditions[1] = make_condition("KernelMemoryPressure", CONDITION_STATUS_TRUE, "MemoryStall");
	conditions[2] = make_condition("KernelReady", CONDITION_STATUS_UNKNOWN, "NodeStatusUnknown");
	conditions[3] = make_condition("KernelPIDPressure", CONDITION_STATUS_FALSE, "EnoughPIDs");

	memset(&in, 0xff, sizeof(in));
	taint_plan_input_from_conditions(&in, &p, conditions, 4);
	assert_true(in.kinds[CONDITION_MEMORY_PRESSURE].present);
	assert_int_equal(in.kinds[CONDITION_MEMORY_PRESSURE].status, CONDITION_STATUS_TRUE);
	assert_false(in.kinds[CONDITION_DISK_PRESSURE].present);
	assert_true(in.kinds[CONDITION_PID_PRESSURE].present);
	assert_int_equal(in.kinds[CONDITION_PID_PRESSURE].status, CONDITION_STATUS_FALSE);
	assert_false(in.kinds[CONDITION_NETWORK_UNAVAILABLE].present);
	assert_true(in.kinds[CONDITION_NOT_READY].present);
	assert_int_equal(in.kinds[CONDITION_NOT_READY].status, CONDITION_STATUS_UNKNOWN);
	assert_true(in.ready_unknown_set_by_controller);
	assert_false(in.kinds[CONDITION_UNREACHABLE].present);
	assert_false(in.defer_additions[CONDITION_MEMORY_PRESSURE]);

	conditions[2] = make_condition("KernelReady", CONDITION_STATUS_UNKNOWN, "SignalUnavailable");
	taint_plan_input_from_conditions(&in, &p, conditions, 4);
	assert_false(in.ready_unknown_set_by_controller);

	conditions[2] = make_condition("KernelReady", CONDITION_STATUS_FALSE, "NodeStatusUnknown");
	taint_plan_input_from_conditions(&in, &p, conditions, 4);
	assert_false(in.ready_unknown_set_by_controller);
	assert_int_equal(in.kinds[CONDITION_NOT_READY].status, CONDITION_STATUS_FALSE);
}

int main(void)
{
	const struct CMUnitTest single[] = {
		cmocka_unit_test(test_profile_names),
		cmocka_unit_test(test_profile_owns_keys),
		cmocka_unit_test(test_build_without_overrides),
		cmocka_unit_test(test_validate_rejects_oversized_count),
		cmocka_unit_test(test_plan_is_level_triggered),
		cmocka_unit_test(test_plan_reports_no_room),
		cmocka_unit_test(test_input_from_conditions),
	};
	int failed = 0;

	failed += RUN_ROWS("built-in profiles", test_profile, profile_rows);
	failed += RUN_ROWS("profile overrides", test_override, override_rows);
	failed += RUN_ROWS("taint planner", test_plan, plan_rows);
	failed += cmocka_run_group_tests_name("profile and planner helpers", single, NULL, NULL);
	return failed ? 1 : 0;
}
