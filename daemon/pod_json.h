/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON input and output for toleration checks: pods, pod specs, lists of
 * tolerations and taints in, per-taint verdicts out. Used by the socket's
 * POST /v1/tolerations and by `nodecond tolerates`.
 */
#ifndef NODECOND_DAEMON_POD_JSON_H
#define NODECOND_DAEMON_POD_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taints/eviction.h"
#include "taints/taint.h"
#include "taints/toleration.h"

#define POD_JSON_TOLERATIONS_MAX 128
#define POD_JSON_TAINTS_MAX 128
#define POD_JSON_ERROR_MAX 512

/* The input of a toleration check: tolerations and, optionally, taints. */
struct toleration_request {
	struct toleration tolerations[POD_JSON_TOLERATIONS_MAX];
	size_t n_tolerations;
	bool host_network;            /* from the pod spec */
	bool has_taints;              /* the input carried its own taints */
	struct taint taints[POD_JSON_TAINTS_MAX];
	size_t n_taints;
	char name[254];               /* metadata.name of a Pod, or "" */
};

/*
 * Parses a Pod, a PodSpec, a list of tolerations, or an object with
 * "tolerations" and optionally "taints". Tolerations are validated as the
 * API server validates them. Returns 0, or -EINVAL with err naming the
 * field ("spec.tolerations[2].operator: ...").
 */
int pod_json_parse_request(const cJSON *root, struct toleration_request *ret, char *err, size_t err_len);

/*
 * Parses a list of taints, a Node (spec.taints), or an object with
 * "taints" (the output of GET /v1/taints). Returns 0 or -EINVAL with err
 * naming the field.
 */
int pod_json_parse_taints(const cJSON *root, struct taint *out, size_t max, size_t *n, char *err, size_t err_len);

/* Renders one taint in the Kubernetes form, timeAdded included when set. */
cJSON *pod_json_taint(const struct taint *t);

/* Renders one toleration in the Kubernetes form. */
cJSON *pod_json_toleration(const struct toleration *t);

/*
 * Renders the verdicts for taints against the request's tolerations:
 * {"taints": [{taint, tolerated, toleration, eviction}], "schedulable",
 * "eviction"}.
 */
cJSON *pod_json_verdict(const struct toleration_request *req, const struct taint *taints, size_t n_taints,
			int64_t now_ms);

/* Options for the defaults Kubernetes would add to the pod before it runs. */
struct toleration_check_options {
	bool daemonset;              /* the DaemonSet controller's tolerations */
	bool admission_defaults;     /* DefaultTolerationSeconds: 300 s for not-ready and unreachable */
};

/*
 * Parses a request body, adds the defaults the options ask for, and
 * renders the verdict against the request's own taints or, when it has
 * none, node_taints. Returns 0 with *ret set, or a negative errno with err
 * saying what is wrong in the body.
 */
int pod_json_check(const char *body, size_t len, const struct toleration_check_options *opts,
		   const struct taint *node_taints, size_t n_node_taints, int64_t now_ms, cJSON **ret, char *err,
		   size_t err_len);

#endif
