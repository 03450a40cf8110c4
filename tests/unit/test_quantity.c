// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conditions/quantity.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Fails with the table row's name when two integers differ. */
#define check_int(name, actual, expected)                                                       \
	do {                                                                                    \
		long long a_ = (long long)(actual), e_ = (long long)(expected);                 \
		if (a_ != e_)                                                                   \
			fail_msg("\"%s\": %s is %lld, expected %lld", (name), #actual, a_, e_); \
	} while (0)

struct quantity_case {
	const char *text;
	int ret;
	int64_t milli;
	bool percent;
};

static const struct quantity_case quantity_cases[] = {
	{ "0", 0, 0, false },
	{ "1", 0, 1000, false },
	{ "100Mi", 0, 104857600000, false },
	{ "1Gi", 0, 1073741824000, false },
	{ "1Ki", 0, 1024000, false },
	{ "1Ti", 0, 1099511627776000, false },
	{ "1Pi", 0, 1125899906842624000, false },
	{ "8Pi", 0, 9007199254740992000, false },
	{ "1Ei", -ERANGE, 0, false },
	{ "500M", 0, 500000000000, false },
	{ "1k", 0, 1000000, false },
	{ "1G", 0, 1000000000000, false },
	{ "1T", 0, 1000000000000000, false },
	{ "1P", 0, 1000000000000000000, false },
	{ "9P", 0, 9000000000000000000, false },
	{ "10P", -ERANGE, 0, false },
	{ "1E", -ERANGE, 0, false },
	{ "1.5G", 0, 1500000000000, false },
	{ "1.5Gi", 0, 1610612736000, false },
	{ "0.1Ki", 0, 102400, false },
	{ "0.0005Ki", 0, 512, false },
	{ "100m", 0, 100, false },
	{ "1m", 0, 1, false },
	{ "0.1m", 0, 1, false }, /* rounded up, as resource.Quantity does */
	{ "1.0001", 0, 1001, false },
	{ "-0.1m", 0, -1, false }, /* rounded away from zero */
	{ "1e3", 0, 1000000, false },
	{ "1E3", 0, 1000000, false },
	{ "1.5e3", 0, 1500000, false },
	{ "1e-3", 0, 1, false },
	{ "1e+3", 0, 1000000, false },
	{ "1e9999", -ERANGE, 0, false },
	{ "0e9999", 0, 0, false },
	{ "1e-9999", 0, 1, false },
	{ "+5", 0, 5000, false },
	{ "-5", 0, -5000, false },
	{ "5.", 0, 5000, false },
	{ ".5", 0, 500, false },
	{ "007", 0, 7000, false },
	{ "9223372036854775.807", 0, INT64_MAX, false },
	{ "9223372036854775.808", -ERANGE, 0, false },
	{ "9223372036854775807m", 0, INT64_MAX, false },
	{ "9223372036854775808m", -ERANGE, 0, false },
	{ "1.0000000000000000000000000000000000000001", 0, 1001, false },
	{ "1.0000000000000000000000000000000000000000", 0, 1000, false },
	{ "1000000000000000000000000000000000000000", -ERANGE, 0, false },
	{ "9999999999999999999999.9m", -ERANGE, 0, false },
	/* 30 significant digits times 2^60: digits dropped, the result rounded up */
	{ "0.000000000000000000123456789012345678901234567891Ei", 0, 143, false },
	{ "10%", 0, 10000, true },
	{ "2.5%", 0, 2500, true },
	{ "0%", 0, 0, true },
	{ "100%", 0, 100000, true },
	{ "", -EINVAL, 0, false },
	{ ".", -EINVAL, 0, false },
	{ "Mi", -EINVAL, 0, false },
	{ "10 Mi", -EINVAL, 0, false },
	{ " 10Mi", -EINVAL, 0, false },
	{ "10Mi ", -EINVAL, 0, false },
	{ "10mi", -EINVAL, 0, false },
	{ "10K", -EINVAL, 0, false },
	{ "10KiB", -EINVAL, 0, false },
	{ "10e", -EINVAL, 0, false },
	{ "10e+", -EINVAL, 0, false },
	{ "10e3x", -EINVAL, 0, false },
	{ "1.2.3", -EINVAL, 0, false },
	{ "--1", -EINVAL, 0, false },
	{ "10%%", -EINVAL, 0, false },
	{ "10Mi%", -EINVAL, 0, false },
	{ "abc", -EINVAL, 0, false },
};

static void quantity_parse_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(quantity_cases); i++) {
		const struct quantity_case *c = &quantity_cases[i];
		struct quantity q = { .milli = -42 };
		char err[256] = "";
		int r;

		r = quantity_parse(c->text, &q, err, sizeof(err));
		check_int(c->text, r, c->ret);
		if (r < 0) {
			assert_non_null(strstr(err, c->text));
			continue;
		}
		check_int(c->text, q.milli, c->milli);
		check_int(c->text, q.percent, c->percent);
	}
}

static void quantity_parse_messages(void **state)
{
	struct quantity q;
	char err[256];

	assert_int_equal(quantity_parse("10 Mi", &q, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err,
		"invalid quantity \"10 Mi\": expected a Kubernetes quantity such as 10Mi, or a percentage such as 10%");

	assert_int_equal(quantity_parse("lots", &q, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err,
		"invalid quantity \"lots\": expected a Kubernetes quantity such as 10Mi, or a percentage such as 10%");

	assert_int_equal(quantity_parse("100E", &q, err, sizeof(err)), -ERANGE);
	assert_string_equal(
		err,
		"quantity \"100E\" is out of range: the largest accepted value is 9223372036854775807m (about 8Pi)");

	/* A hint longer than its buffer would be cut, so the generic one is used. */
	assert_int_equal(
		quantity_parse(
			"1 000000000000000000000000000000000000000000000000000000000000000000000000",
			&q, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "such as 10Mi, or"));

	assert_int_equal(quantity_parse(NULL, &q, NULL, 0), -EINVAL);
	assert_int_equal(quantity_parse("1Gi", &q, NULL, 0), 0);
}

struct format_case {
	int64_t milli;
	bool percent;
	const char *text;
};

static const struct format_case format_cases[] = {
	{ 0, false, "0" },
	{ 1000, false, "1" },
	{ 1024000, false, "1Ki" },
	{ 104857600000, false, "100Mi" },
	{ 1610612736000, false, "1536Mi" },
	{ 1000000, false, "1k" },
	{ 1500000000000, false, "1500M" },
	{ 2048000000, false, "2000Ki" },
	{ 1023000, false, "1023" },
	{ 100, false, "100m" },
	{ -5000, false, "-5" },
	{ -1024000, false, "-1Ki" },
	{ 10000, true, "10%" },
	{ 2500, true, "2.5%" },
	{ 40500, true, "40.5%" },
	{ 1, true, "0.001%" },
	{ INT64_MIN, false, "-9223372036854775808m" },
};

static void quantity_format_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_cases); i++) {
		struct quantity q = { .milli = format_cases[i].milli,
				      .percent = format_cases[i].percent };
		char buf[64];

		quantity_format(&q, buf, sizeof(buf));
		assert_string_equal(buf, format_cases[i].text);
	}
}

static void quantity_format_round_trip(void **state)
{
	static const char *const texts[] = {
		"100Mi", "1536Mi", "1500M", "2.5%", "100m", "8Pi", "0"
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct quantity q;
		char buf[64];

		assert_int_equal(quantity_parse(texts[i], &q, NULL, 0), 0);
		quantity_format(&q, buf, sizeof(buf));
		assert_string_equal(buf, texts[i]);
	}
}

struct duration_case {
	const char *text;
	int ret;
	int64_t ms;
};

static const struct duration_case duration_cases[] = {
	{ "0", 0, 0 },
	{ "0s", 0, 0 },
	{ "+10s", 0, 10000 },
	{ "300ms", 0, 300 },
	{ "10s", 0, 10000 },
	{ "1m30s", 0, 90000 },
	{ "1h", 0, 3600000 },
	{ "5m", 0, 300000 },
	{ "1.5s", 0, 1500 },
	{ "1.s", 0, 1000 },
	{ ".5s", 0, 500 },
	{ "1h2m3s4ms", 0, 3723004 },
	{ "2h45m", 0, 9900000 },
	{ "1000000us", 0, 1000 },
	{ "1000\u00b5s", 0, 1 },
	{ "1000\u03bcs", 0, 1 },
	{ "1000000ns", 0, 1 },
	{ "0.001s", 0, 1 },
	{ "0.0005s", -EINVAL, 0 },
	{ "1500us", -EINVAL, 0 },
	{ "1ns", -EINVAL, 0 },
	{ "0.5ns", -EINVAL, 0 },
	{ "1000000.5ns", -EINVAL, 0 },
	{ "0.00005m", 0, 3 },
	{ "1.0000000000000000000000001s", -EINVAL, 0 },
	{ "1.0000000000000000000000000s", 0, 1000 },
	{ "2562047h47m16.854s", 0, 9223372036854 },
	{ "2562047h47m16.855s", -ERANGE, 0 },
	{ "2562048h", -ERANGE, 0 },
	{ "99999999999999999999h", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "10", -EINVAL, 0 },
	{ "10x", -EINVAL, 0 },
	{ "s", -EINVAL, 0 },
	{ ".s", -EINVAL, 0 },
	{ "-10s", -EINVAL, 0 },
	{ "-0", -EINVAL, 0 },
	{ "10 s", -EINVAL, 0 },
	{ "1d", -EINVAL, 0 },
	{ "1m30", -EINVAL, 0 },
	{ "+", -EINVAL, 0 },
};

static void duration_parse_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(duration_cases); i++) {
		const struct duration_case *c = &duration_cases[i];
		char err[256] = "";
		int64_t ms = -42;
		int r;

		r = duration_parse(c->text, &ms, err, sizeof(err));
		check_int(c->text, r, c->ret);
		if (r < 0) {
			assert_non_null(strstr(err, c->text));
			continue;
		}
		check_int(c->text, ms, c->ms);
	}
}

static void duration_parse_messages(void **state)
{
	char err[256];
	int64_t ms;

	assert_int_equal(duration_parse("10", &ms, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "invalid duration \"10\": missing unit; expected a Go duration such as 10s, "
		     "1m30s or 300ms (units ns, us, ms, s, m, h)");

	assert_int_equal(duration_parse("3d", &ms, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err,
		"invalid duration \"3d\": unknown unit \"d\"; expected a Go duration such as 10s, "
		"1m30s or 300ms (units ns, us, ms, s, m, h)");

	assert_int_equal(duration_parse("-1s", &ms, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid duration \"-1s\": must not be negative");

	assert_int_equal(duration_parse("1ns", &ms, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "invalid duration \"1ns\": nodecond counts time in whole milliseconds; "
			    "use a multiple of 1ms");

	assert_int_equal(duration_parse("3000000h", &ms, err, sizeof(err)), -ERANGE);
	assert_string_equal(
		err, "duration \"3000000h\" is out of range: the maximum is 2562047h47m16.854s");

	assert_int_equal(duration_parse(NULL, &ms, NULL, 0), -EINVAL);
	assert_int_equal(duration_parse("1s", &ms, NULL, 0), 0);
}

struct duration_format_case {
	int64_t ms;
	const char *text;
};

static const struct duration_format_case duration_format_cases[] = {
	{ 0, "0s" },	    { 1, "1ms" },	   { 500, "500ms" },	      { 999, "999ms" },
	{ 1000, "1s" },	    { 1500, "1.5s" },	   { 10000, "10s" },	      { 90000, "1m30s" },
	{ 300000, "5m0s" }, { 3600000, "1h0m0s" }, { 3723004, "1h2m3.004s" }, { -1500, "-1.5s" },
};

static void duration_format_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(duration_format_cases); i++) {
		char buf[64];
		int64_t back;

		duration_format(duration_format_cases[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, duration_format_cases[i].text);
		if (duration_format_cases[i].ms >= 0) {
			assert_int_equal(duration_parse(buf, &back, NULL, 0), 0);
			assert_int_equal(back, duration_format_cases[i].ms);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quantity_parse_table),
		cmocka_unit_test(quantity_parse_messages),
		cmocka_unit_test(quantity_format_table),
		cmocka_unit_test(quantity_format_round_trip),
		cmocka_unit_test(duration_parse_table),
		cmocka_unit_test(duration_parse_messages),
		cmocka_unit_test(duration_format_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
