/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's metrics in the Prometheus text format. */
#ifndef NODECOND_DAEMON_METRICS_H
#define NODECOND_DAEMON_METRICS_H

#include "daemon/agent.h"

/* Returns the exposition text (malloc'd, the caller frees it), or NULL when out of memory. */
char *metrics_render(const struct agent *a);

#endif
