// SPDX-License-Identifier: Apache-2.0
/*
 * Threshold expressions and the comparison of one sample with a threshold.
 * Comparisons are exact: both sides are scaled to a common integer unit in
 * 128-bit arithmetic instead of being divided.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conditions/threshold.h"

/* 100% in the thousandths of a percent that quantities and samples use. */
#define PERCENT_100 100000

static int threshold_error(char *err, size_t err_len, const char *expression, const char *hint,
			   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int threshold_error(char *err, size_t err_len, const char *expression, const char *hint,
			   const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	if (!err || err_len == 0)
		return -EINVAL;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);

	snprintf(err, err_len, "invalid threshold \"%s\": %s%s%s", expression, detail,
		 hint ? "; " : "", hint ? hint : "");
	return -EINVAL;
}

/* Copies s[0..len) without surrounding blanks. */
static void trimmed_copy(const char *s, size_t len, char *buf, size_t buf_len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	snprintf(buf, buf_len, "%.*s", (int)len, s);
}

static void signal_names_list(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < _SIGNAL_MAX && used < len; i++) {
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 signal_info_get(i)->name);
	}
}

static int threshold_check_limit(const struct threshold *t, const struct signal_info *info,
				 const char *expression, const char *limit, char *err,
				 size_t err_len)
{
	if (t->op == THRESHOLD_GREATER && !info->counter_like && info->unit != SIGNAL_UNIT_PERCENT)
		return threshold_error(
			err, err_len, expression, "'>' is only for rates, counts and stalls",
			"%s supports only '<', as in %s<%s", info->name, info->name, limit);

	if (t->limit.percent && !info->has_capacity && info->unit != SIGNAL_UNIT_PERCENT)
		return threshold_error(err, err_len, expression,
				       "give an absolute value such as disk.latency>2000",
				       "%s has no capacity, so a percentage cannot apply to it",
				       info->name);

	if (t->limit.milli < 0)
		return threshold_error(err, err_len, expression, NULL,
				       "the limit must not be negative");

	if ((t->limit.percent || info->unit == SIGNAL_UNIT_PERCENT) && t->limit.milli > PERCENT_100)
		return threshold_error(err, err_len, expression, NULL,
				       "a percentage must be between 0%% and 100%%");
	return 0;
}

int threshold_parse(const char *expression, struct threshold *ret, char *err, size_t err_len)
{
	char name[THRESHOLD_EXPRESSION_MAX], value[THRESHOLD_EXPRESSION_MAX], names[512];
	char quantity_err[256];
	const struct signal_info *info;
	struct threshold t = { 0 };
	const char *op;

	if (!expression)
		expression = "";
	if (strlen(expression) >= THRESHOLD_EXPRESSION_MAX)
		return threshold_error(err, err_len, expression, NULL, "longer than %d characters",
				       THRESHOLD_EXPRESSION_MAX - 1);

	op = strpbrk(expression, "<>");
	if (!op)
		return threshold_error(
			err, err_len, expression, NULL,
			"expected <signal><operator><quantity> such as memory.available<100Mi, where the operator is '<' or '>'");

	trimmed_copy(expression, (size_t)(op - expression), name, sizeof(name));
	trimmed_copy(op + 1, strlen(op + 1), value, sizeof(value));

	t.signal = signal_from_name(name);
	if (t.signal == _SIGNAL_INVALID) {
		signal_names_list(names, sizeof(names));
		return threshold_error(err, err_len, expression, NULL,
				       "unknown signal \"%s\"; expected one of %s", name, names);
	}
	info = signal_info_get(t.signal);
	t.op = *op == '<' ? THRESHOLD_LESS : THRESHOLD_GREATER;

	if (quantity_parse(value, &t.limit, quantity_err, sizeof(quantity_err)) < 0)
		return threshold_error(err, err_len, expression, NULL, "%s", quantity_err);

	if (threshold_check_limit(&t, info, expression, value, err, err_len) < 0)
		return -EINVAL;

	snprintf(t.expression, sizeof(t.expression), "%s", expression);
	*ret = t;
	return 0;
}

static bool threshold_is_share_of_capacity(const struct threshold *t)
{
	const struct signal_info *info = signal_info_get(t->signal);

	return t->limit.percent && info && info->unit != SIGNAL_UNIT_PERCENT;
}

enum threshold_result threshold_compare_value(const struct threshold *t, int64_t value,
					      bool has_capacity, int64_t capacity)
{
	const struct signal_info *info = signal_info_get(t->signal);
	__int128 observed, limit;
	bool met;

	if (!info)
		return THRESHOLD_UNAVAILABLE;

	if (threshold_is_share_of_capacity(t)) {
		if (!has_capacity || capacity <= 0)
			return THRESHOLD_UNAVAILABLE;
		observed = (__int128)value * PERCENT_100;
		limit = (__int128)capacity * t->limit.milli;
	} else if (info->unit == SIGNAL_UNIT_PERCENT) {
		observed = value;
		limit = t->limit.milli;
	} else {
		observed = (__int128)value * 1000;
		limit = t->limit.milli;
	}

	met = t->op == THRESHOLD_LESS ? observed < limit : observed > limit;
	return met ? THRESHOLD_MET : THRESHOLD_NOT_MET;
}

enum threshold_result threshold_compare(const struct threshold *t,
					const struct signal_sample *sample, int64_t *ret_observed)
{
	int64_t observed;

	if (!sample->observed)
		return THRESHOLD_UNAVAILABLE;

	observed = sample->value;
	if (t->op == THRESHOLD_LESS && sample->has_window_min)
		observed = sample->window_min;
	if (ret_observed)
		*ret_observed = observed;

	return threshold_compare_value(t, observed, sample->has_capacity, sample->capacity);
}

/* Divides a non-negative numerator, rounding up or down. */
static int64_t divide_rounded(__int128 numerator, __int128 denominator, bool round_up)
{
	__int128 q = numerator / denominator;

	if (round_up && q * denominator < numerator)
		q++;
	return (int64_t)q;
}

int threshold_limit(const struct threshold *t, bool has_capacity, int64_t capacity, int64_t *ret)
{
	const struct signal_info *info = signal_info_get(t->signal);
	bool round_up = t->op == THRESHOLD_LESS;

	if (!info)
		return -EINVAL;

	if (threshold_is_share_of_capacity(t)) {
		if (!has_capacity || capacity <= 0)
			return -ENODATA;
		*ret = divide_rounded((__int128)capacity * t->limit.milli, PERCENT_100, round_up);
	} else if (info->unit == SIGNAL_UNIT_PERCENT) {
		*ret = t->limit.milli;
	} else {
		*ret = divide_rounded(t->limit.milli, 1000, round_up);
	}
	return 0;
}
