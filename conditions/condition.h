/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node conditions: the six kinds nodecond evaluates, their Kubernetes
 * status values, and the condition record that is published.
 */
#ifndef NODECOND_CONDITIONS_CONDITION_H
#define NODECOND_CONDITIONS_CONDITION_H

#include <stdbool.h>
#include <stdint.h>

enum condition_kind {
	CONDITION_MEMORY_PRESSURE,
	CONDITION_DISK_PRESSURE,
	CONDITION_PID_PRESSURE,
	CONDITION_NETWORK_UNAVAILABLE,
	CONDITION_NOT_READY,
	CONDITION_UNREACHABLE,
	_CONDITION_KIND_MAX,
	_CONDITION_KIND_INVALID = -1,
};

enum condition_status {
	CONDITION_STATUS_UNKNOWN,
	CONDITION_STATUS_TRUE,
	CONDITION_STATUS_FALSE,
	_CONDITION_STATUS_MAX,
};

#define CONDITION_TYPE_MAX    64
#define CONDITION_REASON_MAX  64
#define CONDITION_MESSAGE_MAX 512

/*
 * One condition as Kubernetes stores it in Node.status.conditions. Times are
 * milliseconds since the Unix epoch; 0 means unset.
 */
struct condition {
	char type[CONDITION_TYPE_MAX];
	enum condition_status status;
	char reason[CONDITION_REASON_MAX];
	char message[CONDITION_MESSAGE_MAX];
	int64_t last_heartbeat_ms;
	int64_t last_transition_ms;
};

/* Returns "MemoryPressure", ... for a kind, or NULL for an invalid one. */
const char *condition_kind_name(enum condition_kind kind);

/* Returns the kind for its configuration name, or _CONDITION_KIND_INVALID. */
enum condition_kind condition_kind_from_name(const char *name);

/* Returns "True", "False" or "Unknown". */
const char *condition_status_name(enum condition_status status);

/* Parses "True", "False" or "Unknown"; returns 0 or -EINVAL. */
int condition_status_from_name(const char *name, enum condition_status *ret);

#endif
