/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON the agent exchanges with the API server: the Node it reads, and
 * the bodies it sends (condition and taint patches, the Lease, Events).
 * No I/O; every builder returns a string to free(), or NULL when out of
 * memory.
 */
#ifndef NODECOND_DAEMON_KUBE_JSON_H
#define NODECOND_DAEMON_KUBE_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conditions/condition.h"
#include "taints/profile.h"
#include "taints/taint.h"

#define KUBE_NODE_CONDITIONS_MAX 16
/* Far above what any cluster puts on one Node; more makes the taint list unwritable for the agent. */
#define KUBE_NODE_TAINTS_MAX 128
#define KUBE_RESOURCE_VERSION_MAX 64
#define KUBE_UID_MAX 64

/* The fields of a Node object the agent uses. */
struct kube_node {
	char resource_version[KUBE_RESOURCE_VERSION_MAX];
	char uid[KUBE_UID_MAX];

	/* Conditions of the types the profile owns, each type once (the first wins). */
	struct condition conditions[KUBE_NODE_CONDITIONS_MAX];
	size_t n_conditions;

	/* spec.taints; taints_valid is false when an entry could not be parsed or there were too many. */
	struct taint taints[KUBE_NODE_TAINTS_MAX];
	size_t n_taints;
	bool taints_valid;
	cJSON *raw_taints;      /* spec.taints as received, so kept entries are sent back unchanged */
};

/*
 * Reads a Node object. Returns 0, or -EINVAL with err saying which field is
 * wrong. Malformed conditions of owned types are skipped; node is always
 * left valid (empty on error) and must be cleared with kube_node_clear().
 */
int kube_node_parse(struct kube_node *node, const cJSON *object, const struct taint_profile *profile, char *err,
		    size_t err_len);

void kube_node_clear(struct kube_node *node);

/* Returns the node's condition of a type, or NULL. */
const struct condition *kube_node_condition(const struct kube_node *node, const char *type);

/*
 * Compares the fields a reader of the Node uses: type, status, reason,
 * message and lastTransitionTime to the second. lastHeartbeatTime is left out.
 */
bool kube_condition_same(const struct condition *a, const struct condition *b);

/*
 * Compares what makes a write due at once: type, status, reason and
 * lastTransitionTime. A message that only updates observed values waits
 * for the next heartbeat.
 */
bool kube_condition_changed(const struct condition *a, const struct condition *b);

/*
 * The strategic merge patch for nodes/NAME/status:
 * {"status":{"conditions":[...]}} with the given conditions, in the field
 * order the API server writes them.
 */
char *kube_json_status_patch(const struct condition *conditions, size_t n);

/* The same patch removing the given types with "$patch": "delete". */
char *kube_json_status_delete(const char *const *types, size_t n);

/*
 * The JSON patch for a Node's taints: a test of /metadata/resourceVersion,
 * then an add of the whole /spec/taints list. Entries equal to one of
 * node's taints are copied from node->raw_taints byte for byte.
 */
char *kube_json_taints_patch(const struct kube_node *node, const struct taint *taints, size_t n);

/* The Lease renewal, a merge patch of spec: holderIdentity, leaseDurationSeconds, renewTime. */
char *kube_json_lease_patch(const char *holder, int64_t duration_s, int64_t now_ms);

/* A new Lease named after the node; node_uid, when known, makes the Node its owner. */
char *kube_json_lease(const char *name, const char *namespace, const char *node_uid, int64_t duration_s,
		      int64_t now_ms);

struct kube_event {
	char name[320];         /* NODE.<hex nanoseconds>, unique per node */
	char reason[CONDITION_TYPE_MAX + 16];
	char message[CONDITION_MESSAGE_MAX + 128];
	bool warning;           /* type Warning, otherwise Normal */
	int64_t first_ms;
	int64_t last_ms;
	unsigned count;
};

/* A new Event in namespace default about the Node. */
char *kube_json_event(const struct kube_event *ev, const char *node_name, const char *node_uid);

/* The strategic merge patch that aggregates a repeat: count and lastTimestamp. */
char *kube_json_event_patch(const struct kube_event *ev);

/* Formats a metav1.MicroTime: "2026-01-02T15:04:05.000000Z". */
void kube_format_micro_time(int64_t ms, char *buf, size_t len);

#endif
