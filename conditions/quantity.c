// SPDX-License-Identifier: Apache-2.0
/*
 * Kubernetes quantities and Go durations, parsed with integer arithmetic
 * only so that "1.5Gi" or "0.1Ki" come out exact.
 *
 * A quantity is read as a decimal significand and a power of ten, then the
 * suffix scales it. Like resource.Quantity, a value more precise than a
 * thousandth of the unit is rounded up, away from zero ("0.1m" is 1m).
 * Unlike resource.Quantity, which caps at 2^63-1 of the base unit, a value
 * above INT64_MAX thousandths (about 8Pi) is rejected with -ERANGE.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conditions/quantity.h"

/*
 * Significant digits kept from the text. Any quantity that fits in int64
 * thousandths has at most 19 digits above the thousandths place, so a digit
 * beyond the 30th can only decide whether the value is rounded up.
 */
#define QUANTITY_DIGITS_MAX 30

/* Exponents beyond this already overflow or round any significand to 1m. */
#define QUANTITY_EXPONENT_MAX 1000

struct decimal {
	bool negative;
	__int128 significand;
	int exponent; /* value = significand * 10^exponent */
	bool inexact; /* nonzero digits were dropped from the significand */
};

struct suffix {
	const char *text;
	int exponent; /* power of ten */
	int binary;   /* power of 1024 */
};

static const struct suffix quantity_suffixes[] = {
	{ "", 0, 0 },	{ "m", -3, 0 }, { "k", 3, 0 },	{ "M", 6, 0 },	{ "G", 9, 0 },
	{ "T", 12, 0 }, { "P", 15, 0 }, { "E", 18, 0 }, { "Ki", 0, 1 }, { "Mi", 0, 2 },
	{ "Gi", 0, 3 }, { "Ti", 0, 4 }, { "Pi", 0, 5 }, { "Ei", 0, 6 },
};

static void decimal_push_digit(struct decimal *d, int digit, bool fraction, unsigned *n_digits)
{
	if (d->significand == 0 && digit == 0) {
		if (fraction)
			d->exponent--;
		return;
	}

	if (*n_digits < QUANTITY_DIGITS_MAX) {
		d->significand = d->significand * 10 + digit;
		(*n_digits)++;
		if (fraction)
			d->exponent--;
		return;
	}

	if (digit != 0)
		d->inexact = true;
	if (!fraction)
		d->exponent++;
}

/* Reads [+-]digits[.digits] and advances *p; returns false without a digit. */
static bool decimal_parse(const char **p, struct decimal *d)
{
	const char *s = *p;
	unsigned n_digits = 0;
	bool any_digit = false;

	*d = (struct decimal){ 0 };
	if (*s == '+' || *s == '-')
		d->negative = *s++ == '-';

	for (; isdigit((unsigned char)*s); s++, any_digit = true)
		decimal_push_digit(d, *s - '0', false, &n_digits);
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++, any_digit = true)
			decimal_push_digit(d, *s - '0', true, &n_digits);

	*p = s;
	return any_digit;
}

/* Parses the "e3", "E-2" decimal exponent form; returns false if malformed. */
static bool exponent_parse(const char *s, int *ret)
{
	bool negative = false;
	int value = 0;

	if (*s != 'e' && *s != 'E')
		return false;
	s++;
	if (*s == '+' || *s == '-')
		negative = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return false;

	for (; isdigit((unsigned char)*s); s++)
		if (value < QUANTITY_EXPONENT_MAX)
			value = value * 10 + (*s - '0');
	if (*s != '\0')
		return false;

	*ret = negative ? -value : value;
	return true;
}

static bool suffix_apply(const char *s, struct decimal *d)
{
	int exponent;

	for (size_t i = 0; i < sizeof(quantity_suffixes) / sizeof(quantity_suffixes[0]); i++) {
		const struct suffix *sfx = &quantity_suffixes[i];

		if (strcmp(s, sfx->text) != 0)
			continue;

		d->exponent += sfx->exponent;
		for (int j = 0; j < sfx->binary; j++) {
			d->significand *= 1024;
			while (d->significand >= (__int128)1000000000000000000 * 1000000000000) {
				if (d->significand % 10 != 0)
					d->inexact = true;
				d->significand /= 10;
				d->exponent++;
			}
		}
		return true;
	}

	if (!exponent_parse(s, &exponent))
		return false;
	d->exponent += exponent;
	return true;
}

/* Converts to thousandths, rounding up away from zero; returns 0 or -ERANGE. */
static int decimal_to_milli(const struct decimal *d, int64_t *ret)
{
	int scale = d->exponent + 3;
	__int128 value = d->significand;

	if (value == 0) {
		*ret = 0;
		return 0;
	}

	if (scale >= 0) {
		for (int i = 0; i < scale; i++) {
			value *= 10;
			if (value > INT64_MAX)
				return -ERANGE;
		}
		if (value > INT64_MAX)
			return -ERANGE;
	} else {
		__int128 divisor = 1;
		bool remainder = d->inexact;

		if (-scale > 38) {
			value = 0;
			remainder = true;
		} else {
			for (int i = 0; i < -scale; i++)
				divisor *= 10;
			remainder = remainder || value % divisor != 0;
			value /= divisor;
		}
		if (remainder)
			value++;
		if (value > INT64_MAX)
			return -ERANGE;
	}

	*ret = (int64_t)(d->negative ? -value : value);
	return 0;
}

static int quantity_parse_strict(const char *text, struct quantity *ret)
{
	const char *s = text;
	struct decimal d;

	if (!decimal_parse(&s, &d))
		return -EINVAL;

	if (strcmp(s, "%") == 0) {
		ret->percent = true;
	} else {
		ret->percent = false;
		if (!suffix_apply(s, &d))
			return -EINVAL;
	}

	return decimal_to_milli(&d, &ret->milli);
}

static int error_set(int r, char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int error_set(int r, char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || err_len == 0)
		return r;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return r;
}

/* Returns the text without blanks when that is a valid quantity, for a hint. */
static const char *quantity_suggest(const char *text, char *buf, size_t len)
{
	struct quantity q;
	size_t n = 0;

	if (strlen(text) >= len)
		return "10Mi";

	for (const char *s = text; *s && n + 1 < len; s++)
		if (!isspace((unsigned char)*s))
			buf[n++] = *s;
	buf[n] = '\0';

	if (strcmp(buf, text) != 0 && quantity_parse_strict(buf, &q) == 0)
		return buf;
	return "10Mi";
}

int quantity_parse(const char *text, struct quantity *ret, char *err, size_t err_len)
{
	char hint[64];
	int r;

	if (!text)
		text = "";

	r = quantity_parse_strict(text, ret);
	if (r == -ERANGE)
		return error_set(
			r, err, err_len,
			"quantity \"%s\" is out of range: the largest accepted value is 9223372036854775807m (about 8Pi)",
			text);
	if (r < 0)
		return error_set(
			r, err, err_len,
			"invalid quantity \"%s\": expected a Kubernetes quantity such as %s, or a percentage such as 10%%",
			text, quantity_suggest(text, hint, sizeof(hint)));
	return 0;
}

/* Writes the absolute thousandths as "int.frac" with trailing zeros dropped. */
static void milli_format(uint64_t milli, char *buf, size_t len)
{
	uint64_t fraction = milli % 1000;
	char digits[4];
	int n = 3;

	if (fraction == 0) {
		snprintf(buf, len, "%" PRIu64, milli / 1000);
		return;
	}

	snprintf(digits, sizeof(digits), "%03" PRIu64, fraction);
	while (digits[n - 1] == '0')
		n--;
	snprintf(buf, len, "%" PRIu64 ".%.*s", milli / 1000, n, digits);
}

void quantity_format(const struct quantity *q, char *buf, size_t len)
{
	static const char *const binary[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	static const char *const decimal[] = { "", "k", "M", "G", "T", "P", "E" };
	const char *sign = q->milli < 0 ? "-" : "";
	uint64_t milli = q->milli < 0 ? -(uint64_t)q->milli : (uint64_t)q->milli;
	uint64_t value;
	char number[32];
	int b = 0, d = 0;

	if (q->percent) {
		milli_format(milli, number, sizeof(number));
		snprintf(buf, len, "%s%s%%", sign, number);
		return;
	}
	if (milli % 1000 != 0) {
		snprintf(buf, len, "%s%" PRIu64 "m", sign, milli);
		return;
	}

	value = milli / 1000;
	if (value == 0) {
		snprintf(buf, len, "0");
		return;
	}
	while (b < 6 && value % ((uint64_t)1 << (10 * (b + 1))) == 0)
		b++;
	if (b > 0) {
		snprintf(buf, len, "%s%" PRIu64 "%s", sign, value >> (10 * b), binary[b]);
		return;
	}

	for (uint64_t v = value; d < 6 && v % 1000 == 0; v /= 1000)
		d++;
	for (int i = 0; i < d; i++)
		value /= 1000;
	snprintf(buf, len, "%s%" PRIu64 "%s", sign, value, decimal[d]);
}

struct duration_unit {
	const char *text;
	int64_t ns;
};

static const struct duration_unit duration_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\u00b5s", 1000 }, /* micro sign */
	{ "\u03bcs", 1000 }, /* Greek small letter mu */
	{ "ms", 1000000 },
	{ "s", 1000000000 },
	{ "m", 60 * (int64_t)1000000000 },
	{ "h", 3600 * (int64_t)1000000000 },
};

#define DURATION_HINT \
	"expected a Go duration such as 10s, 1m30s or 300ms (units ns, us, ms, s, m, h)"

static const struct duration_unit *duration_unit_find(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
		if (strlen(duration_units[i].text) == len &&
		    strncmp(duration_units[i].text, s, len) == 0)
			return &duration_units[i];
	return NULL;
}

/*
 * Parses one "<digits>[.<digits>]<unit>" element at *p and adds its length
 * in nanoseconds to *total. Like Go, a fraction below one nanosecond is cut
 * off, but here it makes *inexact true so that the caller rejects it.
 */
static int duration_element_parse(const char **p, __int128 *total, bool *inexact, char *unit_text,
				  size_t unit_len)
{
	const char *s = *p;
	const struct duration_unit *unit;
	__int128 integer = 0, fraction = 0, scale = 1;
	bool any_digit = false;
	size_t n;

	for (; isdigit((unsigned char)*s); s++, any_digit = true) {
		integer = integer * 10 + (*s - '0');
		if (integer > INT64_MAX)
			return -ERANGE;
	}
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++, any_digit = true) {
			if (scale < (__int128)1000000000000000000) {
				fraction = fraction * 10 + (*s - '0');
				scale *= 10;
			} else if (*s != '0') {
				*inexact = true;
			}
		}
	if (!any_digit)
		return -EINVAL;

	for (n = 0; s[n] && s[n] != '.' && !isdigit((unsigned char)s[n]); n++)
		;
	snprintf(unit_text, unit_len, "%.*s", (int)n, s);
	unit = duration_unit_find(s, n);
	if (!unit)
		return -ENOENT;

	if ((fraction * unit->ns) % scale != 0)
		*inexact = true;
	*total += integer * unit->ns + fraction * unit->ns / scale;
	if (*total > INT64_MAX)
		return -ERANGE;

	*p = s + n;
	return 0;
}

int duration_parse(const char *text, int64_t *ret_ms, char *err, size_t err_len)
{
	const char *s;
	__int128 total = 0;
	bool inexact = false;
	char unit[32];

	if (!text)
		text = "";
	s = text;

	if (*s == '-')
		return error_set(-EINVAL, err, err_len,
				 "invalid duration \"%s\": must not be negative", text);
	if (*s == '+')
		s++;
	if (strcmp(s, "0") == 0) {
		*ret_ms = 0;
		return 0;
	}
	if (*s == '\0')
		return error_set(-EINVAL, err, err_len, "invalid duration \"%s\": %s", text,
				 DURATION_HINT);

	while (*s) {
		int r = duration_element_parse(&s, &total, &inexact, unit, sizeof(unit));

		if (r == -ERANGE)
			return error_set(
				-ERANGE, err, err_len,
				"duration \"%s\" is out of range: the maximum is 2562047h47m16.854s",
				text);
		if (r == -ENOENT && unit[0] == '\0')
			return error_set(-EINVAL, err, err_len,
					 "invalid duration \"%s\": missing unit; %s", text,
					 DURATION_HINT);
		if (r == -ENOENT)
			return error_set(-EINVAL, err, err_len,
					 "invalid duration \"%s\": unknown unit \"%s\"; %s", text,
					 unit, DURATION_HINT);
		if (r < 0)
			return error_set(-EINVAL, err, err_len, "invalid duration \"%s\": %s", text,
					 DURATION_HINT);
	}

	if (inexact || total % 1000000 != 0)
		return error_set(
			-EINVAL, err, err_len,
			"invalid duration \"%s\": nodecond counts time in whole milliseconds; use a multiple of 1ms",
			text);

	*ret_ms = (int64_t)(total / 1000000);
	return 0;
}

void duration_format(int64_t ms, char *buf, size_t len)
{
	uint64_t abs_ms = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
	const char *sign = ms < 0 ? "-" : "";
	uint64_t hours, minutes;
	char seconds[32];

	if (abs_ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	if (abs_ms < 1000) {
		snprintf(buf, len, "%s%" PRIu64 "ms", sign, abs_ms);
		return;
	}

	hours = abs_ms / 3600000;
	minutes = abs_ms / 60000 % 60;
	milli_format(abs_ms % 60000, seconds, sizeof(seconds));
	if (hours > 0)
		snprintf(buf, len, "%s%" PRIu64 "h%" PRIu64 "m%ss", sign, hours, minutes, seconds);
	else if (minutes > 0)
		snprintf(buf, len, "%s%" PRIu64 "m%ss", sign, minutes, seconds);
	else
		snprintf(buf, len, "%s%ss", sign, seconds);
}
