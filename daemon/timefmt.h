/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 3339 times, as the Kubernetes API writes them ("2026-12-04T20:21:22Z"). */
#ifndef NODECOND_DAEMON_TIMEFMT_H
#define NODECOND_DAEMON_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_RFC3339_MAX 32

/* Formats milliseconds since the Unix epoch in UTC, to the second, as Kubernetes does. */
void timefmt_rfc3339(int64_t ms, char *buf, size_t len);

/*
 * Parses an RFC 3339 time with a "Z" or "+hh:mm" offset and optional
 * fractional seconds. Returns 0 or -EINVAL.
 */
int timefmt_parse_rfc3339(const char *text, int64_t *ret_ms);

/* Formats a duration for people: "45s", "12m", "3h20m", "2d4h". */
void timefmt_age(int64_t ms, char *buf, size_t len);

#endif
