// SPDX-License-Identifier: Apache-2.0
/*
 * The signal table, sample helpers and the arithmetic samplers share:
 * sample sanity checks, the PID limit and kubelet's memory.available.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conditions/quantity.h"
#include "conditions/signal.h"

static const struct signal_info signal_table[_SIGNAL_MAX] = {
	[SIGNAL_MEMORY_AVAILABLE] = { "memory.available", SIGNAL_UNIT_BYTES, true, false },
	[SIGNAL_MEMORY_STALL] = { "memory.stall", SIGNAL_UNIT_PERCENT, false, true },
	[SIGNAL_MEMORY_OOM_KILLS] = { "memory.oomKills", SIGNAL_UNIT_COUNT, false, true },
	[SIGNAL_NODEFS_AVAILABLE] = { "nodefs.available", SIGNAL_UNIT_BYTES, true, false },
	[SIGNAL_NODEFS_INODES_FREE] = { "nodefs.inodesFree", SIGNAL_UNIT_COUNT, true, false },
	[SIGNAL_IMAGEFS_AVAILABLE] = { "imagefs.available", SIGNAL_UNIT_BYTES, true, false },
	[SIGNAL_IMAGEFS_INODES_FREE] = { "imagefs.inodesFree", SIGNAL_UNIT_COUNT, true, false },
	[SIGNAL_DISK_LATENCY] = { "disk.latency", SIGNAL_UNIT_MILLISECONDS, false, true },
	[SIGNAL_DISK_ERRORS] = { "disk.errors", SIGNAL_UNIT_COUNT, false, true },
	[SIGNAL_PID_AVAILABLE] = { "pid.available", SIGNAL_UNIT_COUNT, true, false },
	[SIGNAL_NET_DROPS] = { "net.drops", SIGNAL_UNIT_PER_SECOND, false, true },
	[SIGNAL_NET_RETRANSMITS] = { "net.retransmits", SIGNAL_UNIT_PER_SECOND, false, true },
	[SIGNAL_NET_ROUTE_LINKS] = { "net.routeLinks", SIGNAL_UNIT_COUNT, false, false },
	[SIGNAL_NET_DEFAULT_ROUTE] = { "net.defaultRoute", SIGNAL_UNIT_BOOLEAN, false, false },
	[SIGNAL_KUBELET_HEALTHY] = { "kubelet.healthy", SIGNAL_UNIT_BOOLEAN, false, false },
	[SIGNAL_RUNTIME_HEALTHY] = { "runtime.healthy", SIGNAL_UNIT_BOOLEAN, false, false },
	[SIGNAL_APISERVER_REACHABLE] = { "apiserver.reachable", SIGNAL_UNIT_BOOLEAN, false, false },
};

static const char *const signal_unit_names[_SIGNAL_UNIT_MAX] = {
	[SIGNAL_UNIT_BYTES] = "bytes",		 [SIGNAL_UNIT_COUNT] = "count",
	[SIGNAL_UNIT_PERCENT] = "percent",	 [SIGNAL_UNIT_MILLISECONDS] = "milliseconds",
	[SIGNAL_UNIT_PER_SECOND] = "perSecond", [SIGNAL_UNIT_BOOLEAN] = "boolean",
};

const struct signal_info *signal_info_get(enum signal_id id)
{
	if (id < 0 || id >= _SIGNAL_MAX)
		return NULL;
	return &signal_table[id];
}

enum signal_id signal_from_name(const char *name)
{
	if (!name)
		return _SIGNAL_INVALID;

	for (int i = 0; i < _SIGNAL_MAX; i++)
		if (strcmp(signal_table[i].name, name) == 0)
			return (enum signal_id)i;
	return _SIGNAL_INVALID;
}

const char *signal_unit_name(enum signal_unit unit)
{
	if (unit < 0 || unit >= _SIGNAL_UNIT_MAX)
		return NULL;
	return signal_unit_names[unit];
}

void signal_sample_set_unobserved(struct signal_sample *s, const char *source, const char *fmt, ...)
{
	va_list ap;

	s->observed = false;
	s->value = 0;
	s->has_window_min = false;
	s->window_min = 0;
	snprintf(s->source, sizeof(s->source), "%s", source ? source : "");

	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
}

void signal_sample_set(struct signal_sample *s, const char *source, int64_t value)
{
	s->observed = true;
	s->value = value;
	snprintf(s->source, sizeof(s->source), "%s", source ? source : "");
	s->reason[0] = '\0';
}

int signal_sample_check(const struct signal_sample *s, char *reason, size_t reason_len)
{
	const struct signal_info *info = signal_info_get(s->id);
	const char *name = info ? info->name : "signal";

	if (!info) {
		snprintf(reason, reason_len, "sample has invalid signal id %d", (int)s->id);
		return -EINVAL;
	}
	if (!s->observed)
		return 0;

	if (s->value < 0) {
		snprintf(reason, reason_len, "impossible sample: %s is negative (%" PRId64 ")%s",
			 name, s->value, info->counter_like ? ", a counter went backwards" : "");
		return -EINVAL;
	}
	if (s->has_capacity && s->capacity < 0) {
		snprintf(reason, reason_len,
			 "impossible sample: %s capacity is negative (%" PRId64 ")", name,
			 s->capacity);
		return -EINVAL;
	}
	if (s->has_capacity && s->value > s->capacity) {
		snprintf(reason, reason_len,
			 "impossible sample: %s %" PRId64 " is above its capacity %" PRId64, name,
			 s->value, s->capacity);
		return -EINVAL;
	}
	if (s->has_window_min && (s->window_min < 0 || s->window_min > s->value)) {
		snprintf(reason, reason_len,
			 "impossible sample: %s minimum in the tick %" PRId64
			 " is outside [0, %" PRId64 "]",
			 name, s->window_min, s->value);
		return -EINVAL;
	}
	if (info->unit == SIGNAL_UNIT_PERCENT && s->value > 100000) {
		snprintf(reason, reason_len,
			 "impossible sample: %s %" PRId64 ".%03" PRId64 "%% is above 100%%", name,
			 s->value / 1000, s->value % 1000);
		return -EINVAL;
	}
	if (info->unit == SIGNAL_UNIT_BOOLEAN && s->value > 1) {
		snprintf(reason, reason_len,
			 "impossible sample: %s is %" PRId64 ", expected 0 or 1", name, s->value);
		return -EINVAL;
	}
	return 0;
}

/*
 * Formats bytes exactly when a binary suffix fits ("100Mi", "512Ki") and
 * otherwise to three significant digits ("25.2Gi", "83.7Mi"), so messages
 * stay readable; values below 1Mi that fit no suffix are printed whole.
 */
static void bytes_format(int64_t value, char *buf, size_t len)
{
	static const char *const suffixes[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	int64_t magnitude = value < 0 ? -value : value;
	double scaled = (double)value;
	int i = -1;

	for (int k = 5; k >= 0; k--) {
		int64_t unit = (int64_t)1 << (10 * (k + 1));

		if (magnitude >= unit && value % unit == 0) {
			snprintf(buf, len, "%" PRId64 "%s", value / unit, suffixes[k]);
			return;
		}
	}
	if (magnitude < 1024 * 1024 || value == INT64_MIN) {
		snprintf(buf, len, "%" PRId64, value);
		return;
	}
	while (i < 5 && (scaled >= 1024 || scaled <= -1024)) {
		scaled /= 1024;
		i++;
	}
	snprintf(buf, len, "%.3g%s", scaled, suffixes[i]);
}

void signal_value_format(enum signal_unit unit, int64_t value, char *buf, size_t len)
{
	struct quantity q = { .milli = 0 };

	switch (unit) {
	case SIGNAL_UNIT_BYTES:
		bytes_format(value, buf, len);
		return;
	case SIGNAL_UNIT_PERCENT:
		q.milli = value;
		q.percent = true;
		quantity_format(&q, buf, len);
		return;
	case SIGNAL_UNIT_MILLISECONDS:
		snprintf(buf, len, "%" PRId64 "ms", value);
		return;
	case SIGNAL_UNIT_PER_SECOND:
		snprintf(buf, len, "%" PRId64 "/s", value);
		return;
	default:
		snprintf(buf, len, "%" PRId64, value);
		return;
	}
}

int signal_pid_limit(bool has_pid_max, int64_t pid_max, bool has_threads_max, int64_t threads_max,
		     int64_t *ret)
{
	bool use_pid_max = has_pid_max && pid_max > 0;
	bool use_threads_max = has_threads_max && threads_max > 0;

	if (use_pid_max && use_threads_max)
		*ret = pid_max < threads_max ? pid_max : threads_max;
	else if (use_pid_max)
		*ret = pid_max;
	else if (use_threads_max)
		*ret = threads_max;
	else
		return -ENODATA;
	return 0;
}

int signal_pid_available(int64_t limit, int64_t tasks, int64_t *ret)
{
	if (limit <= 0 || tasks < 0)
		return -EINVAL;
	*ret = limit - tasks;
	return 0;
}

int64_t signal_memory_working_set(int64_t usage, int64_t inactive_file)
{
	if (usage <= 0 || inactive_file >= usage)
		return 0;
	if (inactive_file <= 0)
		return usage;
	return usage - inactive_file;
}

int signal_memory_available(int64_t capacity, int64_t working_set, int64_t *ret)
{
	if (__builtin_sub_overflow(capacity, working_set, ret))
		return -ERANGE;
	return 0;
}
