// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "conditions/condition.h"

static const char *const condition_kind_names[_CONDITION_KIND_MAX] = {
	[CONDITION_MEMORY_PRESSURE] = "MemoryPressure",
	[CONDITION_DISK_PRESSURE] = "DiskPressure",
	[CONDITION_PID_PRESSURE] = "PIDPressure",
	[CONDITION_NETWORK_UNAVAILABLE] = "NetworkUnavailable",
	[CONDITION_NOT_READY] = "NotReady",
	[CONDITION_UNREACHABLE] = "Unreachable",
};

static const char *const condition_status_names[_CONDITION_STATUS_MAX] = {
	[CONDITION_STATUS_UNKNOWN] = "Unknown",
	[CONDITION_STATUS_TRUE] = "True",
	[CONDITION_STATUS_FALSE] = "False",
};

const char *condition_kind_name(enum condition_kind kind)
{
	if (kind < 0 || kind >= _CONDITION_KIND_MAX)
		return NULL;
	return condition_kind_names[kind];
}

enum condition_kind condition_kind_from_name(const char *name)
{
	if (!name)
		return _CONDITION_KIND_INVALID;

	for (int i = 0; i < _CONDITION_KIND_MAX; i++)
		if (strcmp(condition_kind_names[i], name) == 0)
			return (enum condition_kind)i;
	return _CONDITION_KIND_INVALID;
}

const char *condition_status_name(enum condition_status status)
{
	if (status < 0 || status >= _CONDITION_STATUS_MAX)
		return "Unknown";
	return condition_status_names[status];
}

int condition_status_from_name(const char *name, enum condition_status *ret)
{
	if (!name)
		return -EINVAL;

	for (int i = 0; i < _CONDITION_STATUS_MAX; i++)
		if (strcmp(condition_status_names[i], name) == 0) {
			*ret = (enum condition_status)i;
			return 0;
		}
	return -EINVAL;
}
