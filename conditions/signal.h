/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signals: named measurements with a unit, an optional capacity and a source.
 *
 * Samplers in daemon/ fill one struct signal_sample per signal every tick;
 * the condition engine reads them. This header is shared by both sides and
 * includes nothing but libc.
 */
#ifndef NODECOND_CONDITIONS_SIGNAL_H
#define NODECOND_CONDITIONS_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum signal_id {
	SIGNAL_MEMORY_AVAILABLE,
	SIGNAL_MEMORY_STALL,
	SIGNAL_MEMORY_OOM_KILLS,
	SIGNAL_NODEFS_AVAILABLE,
	SIGNAL_NODEFS_INODES_FREE,
	SIGNAL_IMAGEFS_AVAILABLE,
	SIGNAL_IMAGEFS_INODES_FREE,
	SIGNAL_DISK_LATENCY,
	SIGNAL_DISK_ERRORS,
	SIGNAL_PID_AVAILABLE,
	SIGNAL_NET_DROPS,
	SIGNAL_NET_RETRANSMITS,
	SIGNAL_NET_ROUTE_LINKS,
	SIGNAL_NET_DEFAULT_ROUTE,
	SIGNAL_KUBELET_HEALTHY,
	SIGNAL_RUNTIME_HEALTHY,
	SIGNAL_APISERVER_REACHABLE,
	_SIGNAL_MAX,
	_SIGNAL_INVALID = -1,
};

/*
 * Units. Values are integers in the unit named here. SIGNAL_UNIT_PERCENT is
 * the one exception: its values are thousandths of a percent (40% is 40000),
 * so a stall of 40.5% is representable and compares exactly.
 */
enum signal_unit {
	SIGNAL_UNIT_BYTES,
	SIGNAL_UNIT_COUNT,          /* inodes, PIDs, links, events in a tick */
	SIGNAL_UNIT_PERCENT,        /* thousandths of a percent */
	SIGNAL_UNIT_MILLISECONDS,
	SIGNAL_UNIT_PER_SECOND,
	SIGNAL_UNIT_BOOLEAN,        /* 0 or 1 */
	_SIGNAL_UNIT_MAX,
};

/* Maximum length of a source or reason string, terminator included. */
#define SIGNAL_SOURCE_MAX 32
#define SIGNAL_REASON_MAX 256

/*
 * One observation of one signal in one tick.
 *
 * observed == false means "no observation": the source failed, and reason
 * says why. No observation is never pressure.
 *
 * has_capacity is false for signals without a capacity (stall, latency,
 * booleans). A capacity of zero with has_capacity true (a filesystem that
 * reports no inodes) is valid input and makes percentage thresholds
 * unavailable.
 *
 * has_window_min is set when the source also knows the lowest value reached
 * inside the tick (pid.available from the fork tracepoint); thresholds with
 * '<' compare against that minimum so a burst between ticks is not missed.
 */
struct signal_sample {
	enum signal_id id;
	bool observed;
	int64_t value;
	bool has_capacity;
	int64_t capacity;
	bool has_window_min;
	int64_t window_min;
	char source[SIGNAL_SOURCE_MAX];   /* "bpf", "procfs", "statvfs", ... */
	char reason[SIGNAL_REASON_MAX];   /* why there is no observation, or a note */
	char detail[SIGNAL_REASON_MAX];   /* optional: which mount, device or file */
};

struct signal_info {
	const char *name;          /* "memory.available" */
	enum signal_unit unit;
	bool has_capacity;
	bool counter_like;         /* '>' thresholds make sense: rates, counts, stalls */
};

/* Returns the static description of a signal, or NULL for an invalid id. */
const struct signal_info *signal_info_get(enum signal_id id);

/* Returns the id for a name such as "memory.available", or _SIGNAL_INVALID. */
enum signal_id signal_from_name(const char *name);

/* Returns the unit's name as shown on the socket: "bytes", "percent", ... */
const char *signal_unit_name(enum signal_unit unit);

/* Marks a sample as "no observation" with a printf-style reason. */
void signal_sample_set_unobserved(struct signal_sample *s, const char *source,
				  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills a sample with an observation. */
void signal_sample_set(struct signal_sample *s, const char *source,
		       int64_t value);

/*
 * Checks that an observed sample is possible: no negative value, count or
 * capacity, no value above its capacity, a window minimum between 0 and the
 * value, a percentage no higher than 100% and a boolean of 0 or 1. Returns 0,
 * or -EINVAL with the reason written to reason. An unobserved sample passes.
 */
int signal_sample_check(const struct signal_sample *s, char *reason, size_t reason_len);

/*
 * Formats a value in a unit for messages: bytes as a quantity ("100Mi"),
 * percent from thousandths ("40.5%"), "250ms", "12/s", other units as an
 * integer.
 */
void signal_value_format(enum signal_unit unit, int64_t value, char *buf, size_t len);

/*
 * Computes the node's PID limit as kubelet does: the smaller of
 * kernel.pid_max and kernel.threads-max. A value that could not be read or
 * is not positive is left out. Returns 0, or -ENODATA when neither is usable,
 * so the limit is never zero.
 */
int signal_pid_limit(bool has_pid_max, int64_t pid_max, bool has_threads_max, int64_t threads_max,
		     int64_t *ret);

/*
 * Computes pid.available as limit minus tasks. The task count may exceed
 * 65535 and the limit, so the result may be negative (the engine rejects
 * such a sample). Returns 0, or -EINVAL for a limit that is not positive or
 * a negative task count.
 */
int signal_pid_available(int64_t limit, int64_t tasks, int64_t *ret);

/*
 * Computes a cgroup's working set as kubelet does: usage minus inactive
 * file pages, or 0 when the inactive pages are at least the usage.
 */
int64_t signal_memory_working_set(int64_t usage, int64_t inactive_file);

/*
 * Computes memory.available as capacity minus working set, in signed 64-bit
 * bytes. The result may be negative. Returns 0 or -ERANGE on overflow.
 */
int signal_memory_available(int64_t capacity, int64_t working_set, int64_t *ret);

#endif
