/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one logging function. Lines go to stderr; under systemd
 * (JOURNAL_STREAM set) they carry "<N>" priority prefixes so journald keeps
 * the level.
 */
#ifndef NODECOND_DAEMON_LOG_H
#define NODECOND_DAEMON_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Levels are syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
void log_set_max_level(int level);
int log_get_max_level(void);

/* Parses "error", "warning", "info" or "debug"; returns the level or -EINVAL. */
int log_level_from_name(const char *name);

/* Decides once, from JOURNAL_STREAM, whether lines get "<N>" prefixes. */
void log_open(void);

void log_full(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Logs at most one line per interval for one kind of repeated failure and
 * counts the lines it suppressed; the next line that passes says how many.
 */
struct log_ratelimit {
	int64_t interval_ms;
	int64_t last_ms;
	unsigned suppressed;
};

#define LOG_RATELIMIT_INIT(ms) { .interval_ms = (ms), .last_ms = 0, .suppressed = 0 }

void log_ratelimited(struct log_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)

#endif
