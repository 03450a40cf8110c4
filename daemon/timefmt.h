/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 3339 times, as the Kubernetes API writes them ("2026-12-04T20:21:22Z"). */
#ifndef NODECOND_DAEMON_TIMEFMT_H
#define NODECOND_DAEMON_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_RFC3339_MAX 32

/* 9999-12-31T23:59:59Z and 1970-01-01T00:00:00Z: the range these functions accept, in ms. */
#define TIMEFMT_RFC3339_LAST_MS 253402300799000LL
#define TIMEFMT_RFC3339_FIRST_MS 0LL

/*
 * Formats milliseconds since the Unix epoch in UTC, to the second, as
 * Kubernetes does. Times outside 1970 to 9999 are clamped to those ends.
 */
void timefmt_rfc3339(int64_t ms, char *buf, size_t len);

/*
 * Parses an RFC 3339 time with a "Z" or "+hh:mm" offset and optional
 * fractional seconds, from 1970 to 9999. Returns 0 or -EINVAL.
 */
int timefmt_parse_rfc3339(const char *text, int64_t *ret_ms);

/* Formats a duration for people: "45s", "12m", "3h20m", "2d4h". */
void timefmt_age(int64_t ms, char *buf, size_t len);

#endif
