/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes quantities ("100Mi", "1.5G", "100m", "1e3", "10%") and Go
 * durations ("10s", "1m30s"), parsed exactly.
 */
#ifndef NODECOND_CONDITIONS_QUANTITY_H
#define NODECOND_CONDITIONS_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A parsed quantity. milli is the value in thousandths of the base unit
 * ("100Mi" is 104857600000, "100m" is 100), so every quantity whose
 * absolute value is below 2^63 / 1000 (about 8 Pi) is exact. As in
 * Kubernetes, a value more precise than a thousandth is rounded up, away
 * from zero ("0.1m" is 1m). A percentage
 * ("10%", "2.5%") has percent set and milli in thousandths of a percent
 * (10% is 10000).
 */
struct quantity {
	int64_t milli;
	bool percent;
};

/*
 * Parses a Kubernetes quantity or a percentage. Returns 0, or -EINVAL for
 * malformed text and -ERANGE for a value that does not fit; on error err
 * (when not NULL) gets a message that names the text and what was expected.
 */
int quantity_parse(const char *text, struct quantity *ret, char *err, size_t err_len);

/* Formats a quantity the way it would be written in a configuration. */
void quantity_format(const struct quantity *q, char *buf, size_t len);

/*
 * Parses a Go duration ("300ms", "10s", "1m30s", "1h") into milliseconds.
 * Returns 0, -EINVAL or -ERANGE, with a message in err as above. Negative
 * durations are rejected.
 */
int duration_parse(const char *text, int64_t *ret_ms, char *err, size_t err_len);

/* Formats milliseconds as a Go duration: "1m30s", "500ms", "0s". */
void duration_format(int64_t ms, char *buf, size_t len);

#endif
