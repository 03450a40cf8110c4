// SPDX-License-Identifier: Apache-2.0
/*
 * Replays hand-written histories through replay_run() and checks the exact
 * transitions: time, kind, old and new status, and the taints after them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/replay.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1767225600000LL   /* 2026-01-01T00:00:00Z */
#define TRANSITIONS_MAX 32

/* Only PIDPressure and MemoryPressure are enabled, so other kinds add no transitions. */
#define CONFIG_HEAD                                   \
	"sampleInterval: 1s\n"                        \
	"missedSamplesBeforeUnknown: 2\n"             \
	"conditions:\n"                               \
	"  DiskPressure: {enabled: false}\n"          \
	"  NetworkUnavailable: {enabled: false}\n"    \
	"  NotReady: {enabled: false}\n"

#define CONFIG_PID                                    \
	CONFIG_HEAD                                   \
	"  MemoryPressure: {enabled: false}\n"        \
	"  PIDPressure:\n"                            \
	"    transitionPeriod: 5s\n"                  \
	"    thresholds:\n"                           \
	"      - expression: pid.available<1000\n"

#define CONFIG_STALL                                  \
	CONFIG_HEAD                                   \
	"  PIDPressure: {enabled: false}\n"           \
	"  MemoryPressure:\n"                         \
	"    transitionPeriod: 5s\n"                  \
	"    thresholds:\n"                           \
	"      - expression: memory.stall>40\n"       \
	"        for: 10s\n"

#define CONFIG_READY                                  \
	"conditions:\n"                               \
	"  MemoryPressure: {enabled: false}\n"        \
	"  DiskPressure: {enabled: false}\n"          \
	"  PIDPressure: {enabled: false}\n"           \
	"  NetworkUnavailable: {enabled: false}\n"

struct seen {
	int64_t time_ms;
	size_t line;
	enum condition_kind kind;
	enum condition_status from;
	enum condition_status to;
	char reason[CONDITION_REASON_MAX];
	size_t n_taints;
	char first_taint[TAINT_KEY_MAX];
};

struct collected {
	struct seen t[TRANSITIONS_MAX];
	size_t n;
};

static void collect(const struct replay_transition *t, void *userdata)
{
	struct collected *c = userdata;
	struct seen *s;

	if (c->n >= TRANSITIONS_MAX)
		return;
	s = &c->t[c->n++];
	s->time_ms = t->time_ms;
	s->line = t->line;
	s->kind = t->transition->kind;
	s->from = t->transition->from;
	s->to = t->transition->to;
	snprintf(s->reason, sizeof(s->reason), "%s", t->transition->condition.reason);
	s->n_taints = t->n_taints;
	snprintf(s->first_taint, sizeof(s->first_taint), "%s", t->n_taints ? t->taints[0].key : "");
}

/* Replays history with the configuration; returns replay_run()'s result. */
static int replay(const char *config, const char *history, struct collected *out, char *err, size_t err_len)
{
	struct nodecond_config *cfg = malloc(sizeof(*cfg));
	struct replay_stats stats;
	char cfg_err[CONFIG_ERROR_MAX];
	FILE *in;
	int r;

	assert_non_null(cfg);
	config_init_defaults(cfg);
	r = config_load_string(cfg, config, strlen(config), "test.yaml", cfg_err, sizeof(cfg_err));
	if (r < 0)
		fail_msg("%s", cfg_err);
	assert_int_equal(config_apply_profile(cfg, cfg_err, sizeof(cfg_err)), 0);

	in = fmemopen((void *)history, strlen(history), "r");
	assert_non_null(in);
	memset(out, 0, sizeof(*out));
	r = replay_run(cfg, in, "history", collect, out, &stats, err, err_len);
	fclose(in);
	free(cfg);
	return r;
}

struct expected {
	int64_t offset_ms;            /* from T0 */
	enum condition_status from;
	enum condition_status to;
	const char *reason;
	const char *taint;            /* the first taint after it, "" for none */
};

struct history_case {
	const char *name;
	const char *config;
	const char *history;
	size_t n;
	struct expected t[4];
};

#define PID(v) "{\"name\":\"pid.available\",\"value\":" #v ",\"capacity\":100000}"
#define TICK(s) "{\"signals\":[" s "]}\n"
#define FIRST(s) "{\"time\":\"2026-01-01T00:00:00Z\",\"signals\":[" s "]}\n"
#define STALL(v) "{\"name\":\"memory.stall\",\"value\":" #v "}"

static const struct history_case cases[] = {
	{
		"value exactly at threshold is not met",
		CONFIG_PID,
		FIRST(PID(1000)) TICK(PID(1000)) TICK(PID(1000)),
		1,
		{ { 0, CONDITION_STATUS_UNKNOWN, CONDITION_STATUS_FALSE, "KernelHasSufficientPID", "" } },
	},
	{
		"value one unit past threshold is met",
		CONFIG_PID,
		FIRST(PID(1000)) TICK(PID(999)) TICK(PID(999)),
		2,
		{ { 0, CONDITION_STATUS_UNKNOWN, CONDITION_STATUS_FALSE, "KernelHasSufficientPID", "" },
		  { 1000, CONDITION_STATUS_FALSE, CONDITION_STATUS_TRUE, "KernelHasInsufficientPID",
		    "nodecond.io/pid-pressure" } },
	},
	{
		"duration met exactly after 10s",
		CONFIG_STALL,
		/* 40.001% from T0; "for: 10s" holds at T0 + 10s and not a tick before. */
		FIRST(STALL(40001)) TICK(STALL(40001)) TICK(STALL(40001)) TICK(STALL(40001))
		TICK(STALL(40001)) TICK(STALL(40001)) TICK(STALL(40001)) TICK(STALL(40001))
		TICK(STALL(40001)) TICK(STALL(40001)) TICK(STALL(40001)) TICK(STALL(40001)),
		2,
		{ { 0, CONDITION_STATUS_UNKNOWN, CONDITION_STATUS_FALSE, "KernelHasSufficientMemory", "" },
		  { 10000, CONDITION_STATUS_FALSE, CONDITION_STATUS_TRUE, "KernelHasMemoryPressure",
		    "nodecond.io/memory-pressure" } },
	},
	{
		"duration one millisecond short",
		CONFIG_STALL,
		FIRST(STALL(40001))
		"{\"time\":\"2026-01-01T00:00:09.999Z\",\"signals\":[" STALL(40001) "]}\n"
		"{\"time\":\"2026-01-01T00:00:10.000Z\",\"signals\":[" STALL(40000) "]}\n",
		1,
		{ { 0, CONDITION_STATUS_UNKNOWN, CONDITION_STATUS_FALSE, "KernelHasSufficientMemory", "" } },
	},
	{
		"oscillating signal gives two transitions",
		CONFIG_PID,
		/* Crosses the threshold every second for 6 s, then stays clear for 6 s (period 5 s). */
		FIRST(PID(5000)) TICK(PID(999)) TICK(PID(5000)) TICK(PID(999)) TICK(PID(5000))
		TICK(PID(999)) TICK(PID(5000)) TICK(PID(5000)) TICK(PID(5000)) TICK(PID(5000))
		TICK(PID(5000)) TICK(PID(5000)) TICK(PID(5000)),
		3,
		{ { 0, CONDITION_STATUS_UNKNOWN, CONDITION_STATUS_FALSE, "KernelHasSufficientPID", "" },
		  { 1000, CONDITION_STATUS_FALSE, CONDITION_STATUS_TRUE, "KernelHasInsufficientPID",
		    "nodecond.io/pid-pressure" },
		  /* last met at T0 + 5 s, so clear from T0 + 10 s */
		  { 10000, CONDITION_STATUS_TRUE, CONDITION_STATUS_FALSE, "KernelHasSufficientPID", "" } },
	},
	{
		"missing observations give Unknown",
		CONFIG_PID,
		/* missedSamplesBeforeUnknown is 2: the third tick without observation gives up. */
		FIRST(PID(5000))
		TICK("{\"name\":\"pid.available\",\"observed\":false,\"reason\":\"procfs unreadable\"}")
		TICK("{\"name\":\"pid.available\",\"observed\":false}")
		TICK("{\"name\":\"pid.available\",\"observed\":false}")
		TICK("{\"name\":\"pid.available\",\"observed\":false}"),
		2,
		{ { 0, CONDITION_STATUS_UNKNOWN, CONDITION_STATUS_FALSE, "KernelHasSufficientPID", "" },
		  { 3000, CONDITION_STATUS_FALSE, CONDITION_STATUS_UNKNOWN, "SignalUnavailable", "" } },
	},
	{
		"impossible sample is ignored",
		CONFIG_PID,
		/* A negative count and one above capacity would be pressure if believed. */
		FIRST(PID(5000)) TICK(PID(-5))
		TICK("{\"name\":\"pid.available\",\"value\":500,\"capacity\":100}") TICK(PID(5000)),
		1,
		{ { 0, CONDITION_STATUS_UNKNOWN, CONDITION_STATUS_FALSE, "KernelHasSufficientPID", "" } },
	},
	{
		"Ready without kubelet follows samplersRunning",
		CONFIG_READY,
		"{\"time\":\"2026-01-01T00:00:00Z\",\"kubeletExpected\":false}\n"
		"{\"samplersRunning\":false}\n"
		"{\"samplersRunning\":true}\n",
		3,
		{ { 0, CONDITION_STATUS_UNKNOWN, CONDITION_STATUS_TRUE, "NoKubeletExpected", "" },
		  { 1000, CONDITION_STATUS_TRUE, CONDITION_STATUS_FALSE, "SamplersFailed", "nodecond.io/not-ready" },
		  { 2000, CONDITION_STATUS_FALSE, CONDITION_STATUS_TRUE, "NoKubeletExpected", "" } },
	},
};

static void test_history_transitions(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct history_case *c = &cases[i];
		struct collected got;
		char err[REPLAY_ERROR_MAX] = "";
		int r;

		print_message("case: %s\n", c->name);
		r = replay(c->config, c->history, &got, err, sizeof(err));
		if (r < 0)
			fail_msg("%s: %s", c->name, err);
		assert_int_equal(got.n, c->n);
		for (size_t j = 0; j < c->n; j++) {
			assert_int_equal(got.t[j].time_ms, T0 + c->t[j].offset_ms);
			assert_int_equal(got.t[j].from, c->t[j].from);
			assert_int_equal(got.t[j].to, c->t[j].to);
			assert_string_equal(got.t[j].reason, c->t[j].reason);
			assert_string_equal(got.t[j].first_taint, c->t[j].taint);
		}
	}
}

struct bad_line_case {
	const char *line;             /* written as line 2, after one valid tick */
	const char *field;            /* expected in the message after "history:2: " */
};

static const struct bad_line_case bad_lines[] = {
	{ "{\"signals\":[{\"name\":\"pid.available\",\"value\":\"many\"}]}", "field signals[0].value: expected an integer" },
	{ "{\"signals\":[{\"name\":\"pid.availble\",\"value\":1}]}", "field signals[0].name: unknown signal" },
	{ "{\"signals\":[{\"name\":\"pid.available\",\"value\":1.5}]}", "field signals[0].value: invalid value" },
	{ "{\"signals\":[{\"name\":\"pid.available\"}]}", "field signals[0].value: missing" },
	{ "{\"signals\":[{\"name\":\"pid.available\",\"observed\":false,\"value\":3}]}", "field signals[0].value: given" },
	{ "{\"signals\":[{\"name\":\"pid.available\",\"value\":3,\"unit\":\"bytes\"}]}", "field signals[0].unit" },
	{ "{\"signals\":[{\"name\":\"pid.available\",\"value\":3,\"colour\":1}]}", "field signals[0].colour: unknown field" },
	{ "{\"signals\":[" PID(1) "," PID(2) "]}", "field signals[1].name: pid.available is listed twice" },
	{ "{\"signals\":{}}", "field signals: expected a list" },
	{ "{\"tiem\":\"2026-01-01T00:00:01Z\"}", "field tiem: unknown field" },
	{ "{\"time\":\"2025-12-31T23:59:59Z\"}", "field time: 2025-12-31T23:59:59.000Z is earlier" },
	{ "{\"time\":\"yesterday\"}", "field time: invalid time" },
	{ "{\"kubeletExpected\":\"yes\"}", "field kubeletExpected: expected true or false" },
	{ "{\"type\":\"sample\"}", "field type: unknown type" },
	{ "{\"signals\":[", "invalid JSON" },
	{ "[1, 2]", "expected a JSON object" },
};

static void test_bad_line_names_line_and_field(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_lines); i++) {
		char history[512], err[REPLAY_ERROR_MAX] = "", expected[256];
		struct collected got;
		int r;

		snprintf(history, sizeof(history), "%s%s\n%s", FIRST(PID(5000)), bad_lines[i].line, TICK(PID(1)));
		snprintf(expected, sizeof(expected), "history:2: %s", bad_lines[i].field);
		r = replay(CONFIG_PID, history, &got, err, sizeof(err));
		if (r != -EINVAL)
			fail_msg("line %s: replay returned %d, expected -EINVAL", bad_lines[i].line, r);
		if (strncmp(err, expected, strlen(expected)) != 0)
			fail_msg("line %s: expected \"%s...\", got \"%s\"", bad_lines[i].line, expected, err);
		/* The replay stops at the bad line: the tick after it is never evaluated. */
		assert_int_equal(got.n, 1);
	}
}

static void test_reader_defaults_and_carry_over(void **state)
{
	struct replay_reader rd;
	enum replay_line_type type;
	char err[REPLAY_ERROR_MAX];

	replay_reader_init(&rd, 250);
	assert_int_equal(replay_reader_parse(&rd, "{\"signals\":[" PID(7) "]}", &type, err, sizeof(err)), 0);
	assert_int_equal(type, REPLAY_LINE_TICK);
	assert_int_equal(rd.time_ms, REPLAY_DEFAULT_START_MS);
	assert_true(rd.samples[SIGNAL_PID_AVAILABLE].observed);
	assert_int_equal(rd.samples[SIGNAL_PID_AVAILABLE].value, 7);
	assert_true(rd.samples[SIGNAL_PID_AVAILABLE].has_capacity);
	assert_false(rd.samples[SIGNAL_MEMORY_AVAILABLE].observed);
	assert_false(rd.ready.kubelet_expected);
	assert_true(rd.ready.samplers_running);

	/* A tick without the signal keeps its sample; a tick without a time steps by the interval. */
	assert_int_equal(replay_reader_parse(&rd, "{}", &type, err, sizeof(err)), 0);
	assert_int_equal(rd.time_ms, REPLAY_DEFAULT_START_MS + 250);
	assert_int_equal(rd.samples[SIGNAL_PID_AVAILABLE].value, 7);

	assert_int_equal(replay_reader_parse(&rd, "  # a comment", &type, err, sizeof(err)), 0);
	assert_int_equal(type, REPLAY_LINE_IGNORED);
	assert_int_equal(replay_reader_parse(&rd, "", &type, err, sizeof(err)), 0);
	assert_int_equal(type, REPLAY_LINE_IGNORED);
	assert_int_equal(replay_reader_parse(&rd, "{\"type\":\"oomKill\",\"time\":\"2026-01-01T00:00:00.5Z\",\"pid\":4}",
					     &type, err, sizeof(err)), 0);
	assert_int_equal(type, REPLAY_LINE_KERNEL_EVENT);
	assert_int_equal(replay_reader_parse(&rd, "{\"type\":\"dropped\",\"count\":3}", &type, err, sizeof(err)), 0);
	assert_int_equal(type, REPLAY_LINE_DROPPED);
	assert_int_equal(rd.dropped, 3);

	/* A failed line leaves the state as it was. */
	assert_int_equal(replay_reader_parse(&rd, "{\"signals\":[" PID(9) ", 5]}", &type, err, sizeof(err)), -EINVAL);
	assert_int_equal(rd.samples[SIGNAL_PID_AVAILABLE].value, 7);
	assert_int_equal(rd.time_ms, REPLAY_DEFAULT_START_MS + 250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_history_transitions),
		cmocka_unit_test(test_bad_line_names_line_and_field),
		cmocka_unit_test(test_reader_defaults_and_carry_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
