/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"

static int max_level = LOG_INFO;
static bool journal_prefix;

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

int log_level_from_name(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", LOG_ERR },
		{ "warning", LOG_WARNING },
		{ "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0)
			return levels[i].level;
	return -EINVAL;
}

void log_open(void)
{
	journal_prefix = getenv("JOURNAL_STREAM") != NULL;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static void log_write(int level, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = (int)strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';

	if (journal_prefix) {
		fprintf(stderr, "<%d>%s\n", level, line);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %-7s %s\n", stamp, ts.tv_nsec / 1000000, level_name(level), line);
	}
}

void log_full(int level, const char *fmt, ...)
{
	va_list ap;
	int saved_errno = errno;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	log_write(level, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log_ratelimited(struct log_ratelimit *rl, int level, const char *fmt, ...)
{
	int64_t now = monotonic_ms();
	char line[1800];
	va_list ap;

	if (level > max_level)
		return;
	if (rl->last_ms != 0 && now - rl->last_ms < rl->interval_ms) {
		rl->suppressed++;
		return;
	}

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (rl->suppressed > 0)
		log_full(level, "%s (%u similar messages suppressed)", line, rl->suppressed);
	else
		log_full(level, "%s", line);
	rl->last_ms = now;
	rl->suppressed = 0;
}
