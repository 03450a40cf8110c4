/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readiness rules of Kubernetes objects, applied to their conditions: node
 * ready, pod ready and available, job finished, and the jittered resync
 * period of a watch. Pure logic: time and randomness are arguments.
 */
#ifndef NODECOND_CONDITIONS_READINESS_H
#define NODECOND_CONDITIONS_READINESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conditions/condition.h"

/*
 * Returns the first condition of a type in a list, or NULL when the list
 * has none.
 */
const struct condition *readiness_find(const struct condition *conditions, size_t n,
				       const char *type);

/*
 * Tests whether a node is ready: its condition of ready_type ("KernelReady"
 * for nodecond's Ready kind, "Ready" for kubelet's) is present and True.
 */
bool readiness_node_ready(const struct condition *conditions, size_t n, const char *ready_type);

/* Tests whether a pod is ready: its "Ready" condition is present and True. */
bool readiness_pod_ready(const struct condition *conditions, size_t n);

/*
 * Tests whether a pod is available in the sense of minReadySeconds
 * (Deployments, DaemonSets): ready, and with min_ready_seconds above zero,
 * ready since strictly before now_ms - min_ready_seconds. With
 * min_ready_seconds above zero, a Ready condition without
 * lastTransitionTime never makes the pod available.
 */
bool readiness_pod_available(const struct condition *conditions, size_t n,
			     int64_t min_ready_seconds, int64_t now_ms);

/*
 * Tests whether a Job has finished: a "Complete" or "Failed" condition is
 * True. A Job that only reached "SuccessCriteriaMet" or "FailureTarget" is
 * still terminating its pods and has not finished.
 */
bool readiness_job_finished(const struct condition *conditions, size_t n);

/*
 * Computes a resync period in [min_ms, 2 * min_ms) from a uniformly random
 * 64-bit number, so that watchers across a fleet do not re-list at the same
 * moment. Returns 0 when min_ms is not positive, and at most INT64_MAX.
 */
int64_t readiness_resync_period(int64_t min_ms, uint64_t random);

#endif
