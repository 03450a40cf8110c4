// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conditions/signal.h"
#include "conditions/threshold.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Fails with the table row's name when two integers differ. */
#define check_int(name, actual, expected)                                                       \
	do {                                                                                    \
		long long a_ = (long long)(actual), e_ = (long long)(expected);                 \
		if (a_ != e_)                                                                   \
			fail_msg("\"%s\": %s is %lld, expected %lld", (name), #actual, a_, e_); \
	} while (0)

struct parse_case {
	const char *expression;
	int ret;
	enum signal_id signal;
	enum threshold_op op;
	int64_t milli;
	bool percent;
	const char *message; /* error message, or NULL */
};

static const struct parse_case parse_cases[] = {
	{ "memory.available<100Mi", 0, SIGNAL_MEMORY_AVAILABLE, THRESHOLD_LESS, 104857600000, false,
	  NULL },
	{ "memory.available < 100Mi", 0, SIGNAL_MEMORY_AVAILABLE, THRESHOLD_LESS, 104857600000,
	  false, NULL },
	{ "nodefs.inodesFree<5%", 0, SIGNAL_NODEFS_INODES_FREE, THRESHOLD_LESS, 5000, true, NULL },
	{ "imagefs.available<15%", 0, SIGNAL_IMAGEFS_AVAILABLE, THRESHOLD_LESS, 15000, true, NULL },
	{ "nodefs.available<100%", 0, SIGNAL_NODEFS_AVAILABLE, THRESHOLD_LESS, 100000, true, NULL },
	{ "memory.stall>40", 0, SIGNAL_MEMORY_STALL, THRESHOLD_GREATER, 40000, false, NULL },
	{ "memory.stall>40%", 0, SIGNAL_MEMORY_STALL, THRESHOLD_GREATER, 40000, true, NULL },
	{ "memory.stall<100", 0, SIGNAL_MEMORY_STALL, THRESHOLD_LESS, 100000, false, NULL },
	{ "memory.oomKills>0", 0, SIGNAL_MEMORY_OOM_KILLS, THRESHOLD_GREATER, 0, false, NULL },
	{ "disk.latency>2000", 0, SIGNAL_DISK_LATENCY, THRESHOLD_GREATER, 2000000, false, NULL },
	{ "net.drops>1k", 0, SIGNAL_NET_DROPS, THRESHOLD_GREATER, 1000000, false, NULL },
	{ "net.defaultRoute<1", 0, SIGNAL_NET_DEFAULT_ROUTE, THRESHOLD_LESS, 1000, false, NULL },
	{ "kubelet.healthy<1", 0, SIGNAL_KUBELET_HEALTHY, THRESHOLD_LESS, 1000, false, NULL },
	{ "pid.available<5%", 0, SIGNAL_PID_AVAILABLE, THRESHOLD_LESS, 5000, true, NULL },
	{ "memory.available>1Gi", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"memory.available>1Gi\": memory.available supports only '<', as in "
	  "memory.available<1Gi; '>' is only for rates, counts and stalls" },
	{ "kubelet.healthy>0", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"kubelet.healthy>0\": kubelet.healthy supports only '<', as in "
	  "kubelet.healthy<0; '>' is only for rates, counts and stalls" },
	{ "disk.latency>10%", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"disk.latency>10%\": disk.latency has no capacity, so a percentage cannot "
	  "apply to it; give an absolute value such as disk.latency>2000" },
	{ "memory.available<-1", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"memory.available<-1\": the limit must not be negative" },
	{ "nodefs.available<100.001%", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"nodefs.available<100.001%\": a percentage must be between 0% and 100%" },
	{ "memory.stall>101", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"memory.stall>101\": a percentage must be between 0% and 100%" },
	{ "memory.available", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"memory.available\": expected <signal><operator><quantity> such as "
	  "memory.available<100Mi, where the operator is '<' or '>'" },
	{ "memory.available > 1Gi", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"memory.available > 1Gi\": memory.available supports only '<', as in "
	  "memory.available<1Gi; '>' is only for rates, counts and stalls" },
	{ "memory.available=1Gi", -EINVAL, 0, 0, 0, false, NULL },
	{ "memory.availble<1Gi", -EINVAL, 0, 0, 0, false, NULL },
	{ "<1Gi", -EINVAL, 0, 0, 0, false, NULL },
	{ "memory.available<10 Mi", -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"memory.available<10 Mi\": invalid quantity \"10 Mi\": expected a Kubernetes "
	  "quantity such as 10Mi, or a percentage such as 10%" },
	{ "memory.available<", -EINVAL, 0, 0, 0, false, NULL },
	{ "memory.available<100Mi<200Mi", -EINVAL, 0, 0, 0, false, NULL },
	{ "memory.available<1000000000000000000000000000000000000000000000000000000000000000000000000000000000Mi",
	  -EINVAL, 0, 0, 0, false,
	  "invalid threshold \"memory.available<1000000000000000000000000000000000000000000000000000000000000000000000000000000000Mi\": "
	  "longer than 95 characters" },
};

static void threshold_parse_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct threshold t;
		char err[512] = "";
		int r;

		r = threshold_parse(c->expression, &t, err, sizeof(err));
		check_int(c->expression, r, c->ret);
		if (r < 0) {
			assert_non_null(strstr(err, c->expression));
			if (c->message)
				assert_string_equal(err, c->message);
			continue;
		}
		check_int(c->expression, t.signal, c->signal);
		check_int(c->expression, t.op, c->op);
		check_int(c->expression, t.limit.milli, c->milli);
		check_int(c->expression, t.limit.percent, c->percent);
		check_int(c->expression, t.for_ms, 0);
		check_int(c->expression, t.window_ms, 0);
		assert_string_equal(t.expression, c->expression);
	}
}

static void threshold_parse_unknown_signal_lists_names(void **state)
{
	struct threshold t;
	char err[1024];

	assert_int_equal(threshold_parse("memory.availble<1Gi", &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(
		err, "unknown signal \"memory.availble\"; expected one of memory.available, "));
	assert_non_null(strstr(err, "apiserver.reachable"));
	assert_int_equal(threshold_parse(NULL, &t, NULL, 0), -EINVAL);
}

struct compare_case {
	const char *name;
	const char *expression;
	bool observed;
	int64_t value;
	bool has_capacity;
	int64_t capacity;
	bool has_window_min;
	int64_t window_min;
	enum threshold_result result;
	int64_t compared;
};

#define MI (1024 * 1024)

static const struct compare_case compare_cases[] = {
	{ "bytes equal to limit", "memory.available<100Mi", true, 100 * MI, true, 1LL << 34, false,
	  0, THRESHOLD_NOT_MET, 100 * MI },
	{ "bytes one below limit", "memory.available<100Mi", true, 100 * MI - 1, true, 1LL << 34,
	  false, 0, THRESHOLD_MET, 100 * MI - 1 },
	{ "bytes one above limit", "memory.available<100Mi", true, 100 * MI + 1, true, 1LL << 34,
	  false, 0, THRESHOLD_NOT_MET, 100 * MI + 1 },
	{ "milli limit below one byte", "memory.available<100m", true, 0, true, 10, false, 0,
	  THRESHOLD_MET, 0 },
	{ "milli limit above zero", "memory.available<100m", true, 1, true, 10, false, 0,
	  THRESHOLD_NOT_MET, 1 },
	{ "stall equal", "memory.stall>40", true, 40000, false, 0, false, 0, THRESHOLD_NOT_MET,
	  40000 },
	{ "stall one above", "memory.stall>40", true, 40001, false, 0, false, 0, THRESHOLD_MET,
	  40001 },
	{ "stall one below", "memory.stall>40", true, 39999, false, 0, false, 0, THRESHOLD_NOT_MET,
	  39999 },
	{ "stall percent sign", "memory.stall>40%", true, 40001, false, 0, false, 0, THRESHOLD_MET,
	  40001 },
	{ "stall fraction equal", "memory.stall>40.5", true, 40500, false, 0, false, 0,
	  THRESHOLD_NOT_MET, 40500 },
	{ "stall fraction above", "memory.stall>40.5", true, 40501, false, 0, false, 0,
	  THRESHOLD_MET, 40501 },
	{ "percent equal", "nodefs.available<10%", true, 100, true, 1000, false, 0,
	  THRESHOLD_NOT_MET, 100 },
	{ "percent one below", "nodefs.available<10%", true, 99, true, 1000, false, 0,
	  THRESHOLD_MET, 99 },
	{ "percent one above", "nodefs.available<10%", true, 101, true, 1000, false, 0,
	  THRESHOLD_NOT_MET, 101 },
	{ "percent fraction of limit", "nodefs.available<10%", true, 100, true, 1001, false, 0,
	  THRESHOLD_MET, 100 },
	{ "percent fraction above", "nodefs.available<10%", true, 101, true, 1001, false, 0,
	  THRESHOLD_NOT_MET, 101 },
	{ "fractional percent equal", "nodefs.available<2.5%", true, 25, true, 1000, false, 0,
	  THRESHOLD_NOT_MET, 25 },
	{ "fractional percent below", "nodefs.available<2.5%", true, 24, true, 1000, false, 0,
	  THRESHOLD_MET, 24 },
	{ "percent of zero capacity", "nodefs.inodesFree<5%", true, 0, true, 0, false, 0,
	  THRESHOLD_UNAVAILABLE, 0 },
	{ "percent without capacity", "nodefs.inodesFree<5%", true, 0, false, 0, false, 0,
	  THRESHOLD_UNAVAILABLE, 0 },
	{ "absolute with zero capacity", "nodefs.inodesFree<1", true, 0, true, 0, false, 0,
	  THRESHOLD_MET, 0 },
	{ "largest capacity", "nodefs.available<100%", true, INT64_MAX - 1, true, INT64_MAX, false,
	  0, THRESHOLD_MET, INT64_MAX - 1 },
	{ "window minimum met", "pid.available<5%", true, 300000, true, 4194304, true, 209715,
	  THRESHOLD_MET, 209715 },
	{ "window minimum not met", "pid.available<5%", true, 300000, true, 4194304, true, 209716,
	  THRESHOLD_NOT_MET, 209716 },
	{ "greater ignores minimum", "disk.latency>2000", true, 2001, false, 0, true, 5,
	  THRESHOLD_MET, 2001 },
	{ "boolean false", "net.defaultRoute<1", true, 0, false, 0, false, 0, THRESHOLD_MET, 0 },
	{ "boolean true", "net.defaultRoute<1", true, 1, false, 0, false, 0, THRESHOLD_NOT_MET, 1 },
	{ "count above zero", "memory.oomKills>0", true, 1, false, 0, false, 0, THRESHOLD_MET, 1 },
	{ "count zero", "memory.oomKills>0", true, 0, false, 0, false, 0, THRESHOLD_NOT_MET, 0 },
	{ "no observation", "memory.available<100Mi", false, 0, false, 0, false, 0,
	  THRESHOLD_UNAVAILABLE, -1 },
};

static void threshold_compare_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(compare_cases); i++) {
		const struct compare_case *c = &compare_cases[i];
		struct signal_sample s = {
			.observed = c->observed,
			.value = c->value,
			.has_capacity = c->has_capacity,
			.capacity = c->capacity,
			.has_window_min = c->has_window_min,
			.window_min = c->window_min,
		};
		struct threshold t;
		int64_t compared = -1;

		assert_int_equal(threshold_parse(c->expression, &t, NULL, 0), 0);
		s.id = t.signal;
		check_int(c->name, threshold_compare(&t, &s, &compared), c->result);
		check_int(c->name, compared, c->compared);
	}
}

struct limit_case {
	const char *expression;
	bool has_capacity;
	int64_t capacity;
	int ret;
	int64_t limit;
};

static const struct limit_case limit_cases[] = {
	{ "memory.available<100Mi", true, 1LL << 34, 0, 100 * MI },
	{ "memory.available<100m", true, 10, 0, 1 },
	{ "disk.latency>1.5", false, 0, 0, 1 },
	{ "memory.stall>40.5", false, 0, 0, 40500 },
	{ "nodefs.available<10%", true, 1000, 0, 100 },
	{ "nodefs.available<10%", true, 1001, 0, 101 },
	{ "nodefs.available<10%", true, 0, -ENODATA, 0 },
	{ "nodefs.available<10%", false, 0, -ENODATA, 0 },
};

static void threshold_limit_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(limit_cases); i++) {
		const struct limit_case *c = &limit_cases[i];
		struct threshold t;
		int64_t limit = 0;

		assert_int_equal(threshold_parse(c->expression, &t, NULL, 0), 0);
		check_int(c->expression, threshold_limit(&t, c->has_capacity, c->capacity, &limit),
			  c->ret);
		check_int(c->expression, limit, c->limit);
	}
}

/* The integer limit must compare like the threshold at every value near it. */
static void threshold_limit_agrees_with_compare(void **state)
{
	static const char *const expressions[] = { "nodefs.available<10%", "disk.latency>1.5",
						   "memory.available<100m", "pid.available<2.5%" };

	for (size_t i = 0; i < ARRAY_SIZE(expressions); i++) {
		struct threshold t;
		int64_t limit;

		assert_int_equal(threshold_parse(expressions[i], &t, NULL, 0), 0);
		assert_int_equal(threshold_limit(&t, true, 1001, &limit), 0);
		for (int64_t v = limit - 2 > 0 ? limit - 2 : 0; v <= limit + 2; v++) {
			bool met = threshold_compare_value(&t, v, true, 1001) == THRESHOLD_MET;
			bool by_limit = t.op == THRESHOLD_LESS ? v < limit : v > limit;

			check_int(expressions[i], met, by_limit);
		}
	}
}

static void threshold_invalid_signal_unavailable(void **state)
{
	struct threshold t = { .signal = _SIGNAL_MAX };
	int64_t limit;

	assert_int_equal(threshold_compare_value(&t, 1, false, 0), THRESHOLD_UNAVAILABLE);
	assert_int_equal(threshold_limit(&t, false, 0, &limit), -EINVAL);
}

/* Signals */

struct signal_case {
	const char *name;
	enum signal_id id;
	enum signal_unit unit;
	bool has_capacity;
	bool counter_like;
};

static const struct signal_case signal_cases[] = {
	{ "memory.available", SIGNAL_MEMORY_AVAILABLE, SIGNAL_UNIT_BYTES, true, false },
	{ "memory.stall", SIGNAL_MEMORY_STALL, SIGNAL_UNIT_PERCENT, false, true },
	{ "memory.oomKills", SIGNAL_MEMORY_OOM_KILLS, SIGNAL_UNIT_COUNT, false, true },
	{ "nodefs.available", SIGNAL_NODEFS_AVAILABLE, SIGNAL_UNIT_BYTES, true, false },
	{ "nodefs.inodesFree", SIGNAL_NODEFS_INODES_FREE, SIGNAL_UNIT_COUNT, true, false },
	{ "imagefs.available", SIGNAL_IMAGEFS_AVAILABLE, SIGNAL_UNIT_BYTES, true, false },
	{ "imagefs.inodesFree", SIGNAL_IMAGEFS_INODES_FREE, SIGNAL_UNIT_COUNT, true, false },
	{ "disk.latency", SIGNAL_DISK_LATENCY, SIGNAL_UNIT_MILLISECONDS, false, true },
	{ "disk.errors", SIGNAL_DISK_ERRORS, SIGNAL_UNIT_COUNT, false, true },
	{ "pid.available", SIGNAL_PID_AVAILABLE, SIGNAL_UNIT_COUNT, true, false },
	{ "net.drops", SIGNAL_NET_DROPS, SIGNAL_UNIT_PER_SECOND, false, true },
	{ "net.retransmits", SIGNAL_NET_RETRANSMITS, SIGNAL_UNIT_PER_SECOND, false, true },
	{ "net.routeLinks", SIGNAL_NET_ROUTE_LINKS, SIGNAL_UNIT_COUNT, false, false },
	{ "net.defaultRoute", SIGNAL_NET_DEFAULT_ROUTE, SIGNAL_UNIT_BOOLEAN, false, false },
	{ "kubelet.healthy", SIGNAL_KUBELET_HEALTHY, SIGNAL_UNIT_BOOLEAN, false, false },
	{ "runtime.healthy", SIGNAL_RUNTIME_HEALTHY, SIGNAL_UNIT_BOOLEAN, false, false },
	{ "apiserver.reachable", SIGNAL_APISERVER_REACHABLE, SIGNAL_UNIT_BOOLEAN, false, false },
};

static void signal_table_matches_design(void **state)
{
	assert_int_equal(ARRAY_SIZE(signal_cases), _SIGNAL_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(signal_cases); i++) {
		const struct signal_case *c = &signal_cases[i];
		const struct signal_info *info = signal_info_get(c->id);

		assert_non_null(info);
		assert_string_equal(info->name, c->name);
		check_int(c->name, signal_from_name(c->name), c->id);
		check_int(c->name, info->unit, c->unit);
		check_int(c->name, info->has_capacity, c->has_capacity);
		check_int(c->name, info->counter_like, c->counter_like);
	}
	assert_null(signal_info_get(_SIGNAL_MAX));
	assert_null(signal_info_get(_SIGNAL_INVALID));
	assert_int_equal(signal_from_name("memory"), _SIGNAL_INVALID);
	assert_int_equal(signal_from_name(NULL), _SIGNAL_INVALID);
}

static void signal_unit_names(void **state)
{
	assert_string_equal(signal_unit_name(SIGNAL_UNIT_BYTES), "bytes");
	assert_string_equal(signal_unit_name(SIGNAL_UNIT_COUNT), "count");
	assert_string_equal(signal_unit_name(SIGNAL_UNIT_PERCENT), "percent");
	assert_string_equal(signal_unit_name(SIGNAL_UNIT_MILLISECONDS), "milliseconds");
	assert_string_equal(signal_unit_name(SIGNAL_UNIT_PER_SECOND), "perSecond");
	assert_string_equal(signal_unit_name(SIGNAL_UNIT_BOOLEAN), "boolean");
	assert_null(signal_unit_name(_SIGNAL_UNIT_MAX));
}

static void signal_sample_setters(void **state)
{
	struct signal_sample s = { .id = SIGNAL_MEMORY_AVAILABLE,
				   .has_window_min = true,
				   .window_min = 3 };

	signal_sample_set_unobserved(&s, "procfs", "open /proc/meminfo: %s",
				     "No such file or directory");
	assert_false(s.observed);
	assert_false(s.has_window_min);
	assert_string_equal(s.source, "procfs");
	assert_string_equal(s.reason, "open /proc/meminfo: No such file or directory");

	signal_sample_set(&s, "bpf", 42);
	assert_true(s.observed);
	assert_int_equal(s.value, 42);
	assert_string_equal(s.source, "bpf");
	assert_string_equal(s.reason, "");

	signal_sample_set(&s, NULL, 1);
	assert_string_equal(s.source, "");
}

struct check_case {
	const char *name;
	enum signal_id id;
	bool observed;
	int64_t value;
	bool has_capacity;
	int64_t capacity;
	bool has_window_min;
	int64_t window_min;
	const char *reason; /* NULL: the sample is possible */
};

static const struct check_case check_cases[] = {
	{ "available within capacity", SIGNAL_MEMORY_AVAILABLE, true, 10, true, 100, false, 0,
	  NULL },
	{ "available equal to capacity", SIGNAL_MEMORY_AVAILABLE, true, 100, true, 100, false, 0,
	  NULL },
	{ "available above capacity", SIGNAL_MEMORY_AVAILABLE, true, 101, true, 100, false, 0,
	  "impossible sample: memory.available 101 is above its capacity 100" },
	{ "negative available", SIGNAL_MEMORY_AVAILABLE, true, -5, true, 100, false, 0,
	  "impossible sample: memory.available is negative (-5)" },
	{ "negative capacity", SIGNAL_NODEFS_AVAILABLE, true, 0, true, -1, false, 0,
	  "impossible sample: nodefs.available capacity is negative (-1)" },
	{ "counter went backwards", SIGNAL_MEMORY_OOM_KILLS, true, -1, false, 0, false, 0,
	  "impossible sample: memory.oomKills is negative (-1), a counter went backwards" },
	{ "zero capacity zero value", SIGNAL_NODEFS_INODES_FREE, true, 0, true, 0, false, 0, NULL },
	{ "minimum above value", SIGNAL_PID_AVAILABLE, true, 10, true, 100, true, 11,
	  "impossible sample: pid.available minimum in the tick 11 is outside [0, 10]" },
	{ "negative minimum", SIGNAL_PID_AVAILABLE, true, 10, true, 100, true, -1,
	  "impossible sample: pid.available minimum in the tick -1 is outside [0, 10]" },
	{ "minimum equal to value", SIGNAL_PID_AVAILABLE, true, 10, true, 100, true, 10, NULL },
	{ "stall of 100%", SIGNAL_MEMORY_STALL, true, 100000, false, 0, false, 0, NULL },
	{ "stall above 100%", SIGNAL_MEMORY_STALL, true, 100001, false, 0, false, 0,
	  "impossible sample: memory.stall 100.001% is above 100%" },
	{ "boolean of 2", SIGNAL_KUBELET_HEALTHY, true, 2, false, 0, false, 0,
	  "impossible sample: kubelet.healthy is 2, expected 0 or 1" },
	{ "boolean of 1", SIGNAL_KUBELET_HEALTHY, true, 1, false, 0, false, 0, NULL },
	{ "no observation", SIGNAL_MEMORY_AVAILABLE, false, -5, true, 100, false, 0, NULL },
	{ "invalid id", _SIGNAL_MAX, true, 1, false, 0, false, 0,
	  "sample has invalid signal id 17" },
};

static void signal_sample_check_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(check_cases); i++) {
		const struct check_case *c = &check_cases[i];
		struct signal_sample s = {
			.id = c->id,
			.observed = c->observed,
			.value = c->value,
			.has_capacity = c->has_capacity,
			.capacity = c->capacity,
			.has_window_min = c->has_window_min,
			.window_min = c->window_min,
		};
		char reason[SIGNAL_REASON_MAX] = "";

		check_int(c->name, signal_sample_check(&s, reason, sizeof(reason)),
			  c->reason ? -EINVAL : 0);
		assert_string_equal(reason, c->reason ? c->reason : "");
	}
}

struct format_case {
	enum signal_unit unit;
	int64_t value;
	const char *text;
};

static const struct format_case format_cases[] = {
	{ SIGNAL_UNIT_BYTES, 100 * MI, "100Mi" },
	{ SIGNAL_UNIT_BYTES, 52428801, "50Mi" },
	{ SIGNAL_UNIT_BYTES, 27055317402, "25.2Gi" },
	{ SIGNAL_UNIT_BYTES, 512 * 1024, "512Ki" },
	{ SIGNAL_UNIT_BYTES, 1000, "1000" },
	{ SIGNAL_UNIT_BYTES, 1048575, "1048575" },
	{ SIGNAL_UNIT_BYTES, INT64_MAX, "8Ei" },
	{ SIGNAL_UNIT_PERCENT, 40500, "40.5%" },
	{ SIGNAL_UNIT_MILLISECONDS, 2500, "2500ms" },
	{ SIGNAL_UNIT_PER_SECOND, 12, "12/s" },
	{ SIGNAL_UNIT_COUNT, 4194304, "4194304" },
	{ SIGNAL_UNIT_BOOLEAN, 1, "1" },
};

static void signal_value_format_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_cases); i++) {
		char buf[64];

		signal_value_format(format_cases[i].unit, format_cases[i].value, buf, sizeof(buf));
		assert_string_equal(buf, format_cases[i].text);
	}
}

struct pid_limit_case {
	const char *name;
	bool has_pid_max;
	int64_t pid_max;
	bool has_threads_max;
	int64_t threads_max;
	int ret;
	int64_t limit;
};

static const struct pid_limit_case pid_limit_cases[] = {
	{ "pid_max smaller", true, 32768, true, 127000, 0, 32768 },
	{ "threads-max smaller", true, 4194304, true, 127000, 0, 127000 },
	{ "equal", true, 65536, true, 65536, 0, 65536 },
	{ "only pid_max", true, 4194304, false, 0, 0, 4194304 },
	{ "only threads-max", false, 0, true, 127000, 0, 127000 },
	{ "neither", false, 0, false, 0, -ENODATA, -1 },
	{ "zero pid_max ignored", true, 0, true, 127000, 0, 127000 },
	{ "both zero", true, 0, true, 0, -ENODATA, -1 },
	{ "negative threads-max ignored", true, 32768, true, -1, 0, 32768 },
};

static void signal_pid_limit_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(pid_limit_cases); i++) {
		const struct pid_limit_case *c = &pid_limit_cases[i];
		int64_t limit = -1;

		check_int(c->name,
			  signal_pid_limit(c->has_pid_max, c->pid_max, c->has_threads_max,
					   c->threads_max, &limit),
			  c->ret);
		check_int(c->name, limit, c->limit);
	}
}

static void signal_pid_available_counts(void **state)
{
	int64_t available = 0;

	assert_int_equal(signal_pid_available(4194304, 70000, &available), 0);
	assert_int_equal(available, 4124304);
	assert_int_equal(signal_pid_available(32768, 40000, &available), 0);
	assert_int_equal(available, -7232);
	assert_int_equal(signal_pid_available(0, 1, &available), -EINVAL);
	assert_int_equal(signal_pid_available(10, -1, &available), -EINVAL);
}

struct working_set_case {
	int64_t usage;
	int64_t inactive_file;
	int64_t working_set;
};

static const struct working_set_case working_set_cases[] = {
	{ 1000, 300, 700 }, { 1000, 1000, 0 }, { 1000, 1001, 0 }, { 1000, 0, 1000 },
	{ 1000, -5, 1000 }, { 0, 0, 0 },       { -1, 0, 0 },	  { INT64_MAX, 1, INT64_MAX - 1 },
};

static void signal_memory_arithmetic(void **state)
{
	int64_t available = 0;

	for (size_t i = 0; i < ARRAY_SIZE(working_set_cases); i++)
		assert_int_equal(signal_memory_working_set(working_set_cases[i].usage,
							   working_set_cases[i].inactive_file),
				 working_set_cases[i].working_set);

	assert_int_equal(signal_memory_available(8LL << 30, 6LL << 30, &available), 0);
	assert_int_equal(available, 2LL << 30);
	assert_int_equal(signal_memory_available(1LL << 30, 2LL << 30, &available), 0);
	assert_int_equal(available, -(1LL << 30));
	assert_int_equal(signal_memory_available(INT64_MIN, 1, &available), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threshold_parse_table),
		cmocka_unit_test(threshold_parse_unknown_signal_lists_names),
		cmocka_unit_test(threshold_compare_table),
		cmocka_unit_test(threshold_limit_table),
		cmocka_unit_test(threshold_limit_agrees_with_compare),
		cmocka_unit_test(threshold_invalid_signal_unavailable),
		cmocka_unit_test(signal_table_matches_design),
		cmocka_unit_test(signal_unit_names),
		cmocka_unit_test(signal_sample_setters),
		cmocka_unit_test(signal_sample_check_table),
		cmocka_unit_test(signal_value_format_table),
		cmocka_unit_test(signal_pid_limit_table),
		cmocka_unit_test(signal_pid_available_counts),
		cmocka_unit_test(signal_memory_arithmetic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
