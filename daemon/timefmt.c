/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/timefmt.h"

void timefmt_rfc3339(int64_t ms, char *buf, size_t len)
{
	time_t seconds;
	struct tm tm;

	if (ms > TIMEFMT_RFC3339_LAST_MS)
		ms = TIMEFMT_RFC3339_LAST_MS;
	if (ms < TIMEFMT_RFC3339_FIRST_MS)
		ms = TIMEFMT_RFC3339_FIRST_MS;
	seconds = (time_t)(ms / 1000);

	if (!gmtime_r(&seconds, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "invalid");
}

int timefmt_parse_rfc3339(const char *text, int64_t *ret_ms)
{
	struct tm tm = { 0 };
	const char *p;
	int64_t ms = 0, offset_s = 0;
	time_t seconds;

	p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		int64_t scale = 100;

		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			ms += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hours, minutes;
		int sign = *p == '-' ? -1 : 1;

		if (sscanf(p + 1, "%2d:%2d", &hours, &minutes) != 2 || hours > 23 || minutes > 59)
			return -EINVAL;
		offset_s = sign * (hours * 3600 + minutes * 60);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;

	seconds = timegm(&tm);
	if (seconds == (time_t)-1)
		return -EINVAL;
	ms += ((int64_t)seconds - offset_s) * 1000;
	if (ms < TIMEFMT_RFC3339_FIRST_MS || ms > TIMEFMT_RFC3339_LAST_MS)
		return -EINVAL;
	*ret_ms = ms;
	return 0;
}

void timefmt_age(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}
