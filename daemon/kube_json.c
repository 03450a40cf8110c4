/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/kube_json.h"
#include "daemon/timefmt.h"

void kube_node_clear(struct kube_node *node)
{
	cJSON_Delete(node->raw_taints);
	memset(node, 0, sizeof(*node));
}

static const char *string_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool copy_field(const cJSON *o, const char *name, char *dst, size_t len)
{
	const char *v = string_field(o, name);

	if (!v || strlen(v) >= len)
		return false;
	strcpy(dst, v);
	return true;
}

static int64_t time_field(const cJSON *o, const char *name)
{
	const char *v = string_field(o, name);
	int64_t ms;

	if (!v || timefmt_parse_rfc3339(v, &ms) < 0)
		return 0;
	return ms;
}

/* Reads one condition; returns false for an entry that is not a well-formed condition. */
static bool parse_condition(const cJSON *o, struct condition *c)
{
	const char *status = string_field(o, "status");

	memset(c, 0, sizeof(*c));
	if (!copy_field(o, "type", c->type, sizeof(c->type)) || !status ||
	    condition_status_from_name(status, &c->status) < 0)
		return false;
	/* reason and message are optional in the API; a too long one cannot be ours, so it counts as changed. */
	if (string_field(o, "reason") && !copy_field(o, "reason", c->reason, sizeof(c->reason)))
		snprintf(c->reason, sizeof(c->reason), "(too long)");
	if (string_field(o, "message") && !copy_field(o, "message", c->message, sizeof(c->message)))
		snprintf(c->message, sizeof(c->message), "(too long)");
	c->last_heartbeat_ms = time_field(o, "lastHeartbeatTime");
	c->last_transition_ms = time_field(o, "lastTransitionTime");
	return true;
}

static void parse_conditions(struct kube_node *node, const cJSON *list, const struct taint_profile *profile)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, list) {
		struct condition c;

		if (node->n_conditions >= KUBE_NODE_CONDITIONS_MAX)
			break;
		if (!parse_condition(item, &c))
			continue;
		if (taint_profile_kind_of_type(profile, c.type) == _CONDITION_KIND_INVALID)
			continue;
		if (kube_node_condition(node, c.type))
			continue;
		node->conditions[node->n_conditions++] = c;
	}
}

static bool parse_taints(struct kube_node *node, const cJSON *list)
{
	const cJSON *item;
	char msg[128];

	cJSON_ArrayForEach(item, list) {
		struct taint *t;
		int64_t added;

		if (node->n_taints >= KUBE_NODE_TAINTS_MAX || !cJSON_IsObject(item))
			return false;
		t = &node->taints[node->n_taints];
		added = time_field(item, "timeAdded");
		if (taint_init(t, string_field(item, "key"), string_field(item, "value"), string_field(item, "effect"),
			       added, msg, sizeof(msg)) < 0)
			return false;
		node->n_taints++;
	}
	return true;
}

int kube_node_parse(struct kube_node *node, const cJSON *object, const struct taint_profile *profile, char *err,
		    size_t err_len)
{
	const cJSON *metadata, *spec, *status, *conditions, *taints;

	memset(node, 0, sizeof(*node));
	metadata = cJSON_GetObjectItemCaseSensitive(object, "metadata");
	if (!cJSON_IsObject(object) || !cJSON_IsObject(metadata)) {
		snprintf(err, err_len, "metadata: missing; expected a Node object");
		return -EINVAL;
	}
	if (!copy_field(metadata, "resourceVersion", node->resource_version, sizeof(node->resource_version))) {
		snprintf(err, err_len, "metadata.resourceVersion: missing or longer than %d characters",
			 KUBE_RESOURCE_VERSION_MAX - 1);
		return -EINVAL;
	}
	copy_field(metadata, "uid", node->uid, sizeof(node->uid));

	status = cJSON_GetObjectItemCaseSensitive(object, "status");
	conditions = cJSON_GetObjectItemCaseSensitive(status, "conditions");
	if (cJSON_IsArray(conditions))
		parse_conditions(node, conditions, profile);

	spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
	taints = cJSON_GetObjectItemCaseSensitive(spec, "taints");
	node->taints_valid = true;
	if (cJSON_IsArray(taints)) {
		node->taints_valid = parse_taints(node, taints);
		node->raw_taints = cJSON_Duplicate(taints, true);
		if (!node->raw_taints)
			node->taints_valid = false;
	} else if (taints && !cJSON_IsNull(taints)) {
		node->taints_valid = false;
	}
	return 0;
}

const struct condition *kube_node_condition(const struct kube_node *node, const char *type)
{
	for (size_t i = 0; i < node->n_conditions; i++)
		if (strcmp(node->conditions[i].type, type) == 0)
			return &node->conditions[i];
	return NULL;
}

bool kube_condition_same(const struct condition *a, const struct condition *b)
{
	return strcmp(a->type, b->type) == 0 && a->status == b->status && strcmp(a->reason, b->reason) == 0 &&
	       strcmp(a->message, b->message) == 0 && a->last_transition_ms / 1000 == b->last_transition_ms / 1000;
}

bool kube_condition_changed(const struct condition *a, const struct condition *b)
{
	return strcmp(a->type, b->type) != 0 || a->status != b->status || strcmp(a->reason, b->reason) != 0 ||
	       a->last_transition_ms / 1000 != b->last_transition_ms / 1000;
}

static void add_time(cJSON *o, const char *name, int64_t ms)
{
	char t[TIMEFMT_RFC3339_MAX];

	if (ms <= 0)
		return;
	timefmt_rfc3339(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, name, t);
}

/* Prints and frees root; NULL when any allocation failed on the way. */
static char *print_and_free(cJSON *root)
{
	char *text = root ? cJSON_PrintUnformatted(root) : NULL;

	cJSON_Delete(root);
	return text;
}

static cJSON *status_conditions(cJSON **root)
{
	cJSON *status;

	*root = cJSON_CreateObject();
	status = cJSON_AddObjectToObject(*root, "status");
	return cJSON_AddArrayToObject(status, "conditions");
}

char *kube_json_status_patch(const struct condition *conditions, size_t n)
{
	cJSON *root, *list = status_conditions(&root);

	for (size_t i = 0; list && i < n; i++) {
		const struct condition *c = &conditions[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "type", c->type);
		cJSON_AddStringToObject(o, "status", condition_status_name(c->status));
		add_time(o, "lastHeartbeatTime", c->last_heartbeat_ms);
		add_time(o, "lastTransitionTime", c->last_transition_ms);
		cJSON_AddStringToObject(o, "reason", c->reason);
		cJSON_AddStringToObject(o, "message", c->message);
		cJSON_AddItemToArray(list, o);
	}
	return print_and_free(root);
}

char *kube_json_status_delete(const char *const *types, size_t n)
{
	cJSON *root, *list = status_conditions(&root);

	for (size_t i = 0; list && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "$patch", "delete");
		cJSON_AddStringToObject(o, "type", types[i]);
		cJSON_AddItemToArray(list, o);
	}
	return print_and_free(root);
}

static cJSON *taint_to_json(const struct taint *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "key", t->key);
	if (t->value[0])
		cJSON_AddStringToObject(o, "value", t->value);
	cJSON_AddStringToObject(o, "effect", taint_effect_name(t->effect));
	add_time(o, "timeAdded", t->time_added_ms);
	return o;
}

char *kube_json_taints_patch(const struct kube_node *node, const struct taint *taints, size_t n)
{
	cJSON *root = cJSON_CreateArray(), *test = cJSON_CreateObject(), *add = cJSON_CreateObject(), *list;

	cJSON_AddItemToArray(root, test);
	cJSON_AddItemToArray(root, add);
	cJSON_AddStringToObject(test, "op", "test");
	cJSON_AddStringToObject(test, "path", "/metadata/resourceVersion");
	cJSON_AddStringToObject(test, "value", node->resource_version);
	cJSON_AddStringToObject(add, "op", "add");
	cJSON_AddStringToObject(add, "path", "/spec/taints");
	list = cJSON_AddArrayToObject(add, "value");

	for (size_t i = 0; list && i < n; i++) {
		cJSON *entry = NULL;

		for (size_t j = 0; j < node->n_taints && node->raw_taints; j++)
			if (taint_equal(&taints[i], &node->taints[j])) {
				entry = cJSON_Duplicate(cJSON_GetArrayItem(node->raw_taints, (int)j), true);
				break;
			}
		cJSON_AddItemToArray(list, entry ? entry : taint_to_json(&taints[i]));
	}
	return print_and_free(root);
}

void kube_format_micro_time(int64_t ms, char *buf, size_t len)
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;
	char stamp[32];

	if (!gmtime_r(&seconds, &tm) || strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "invalid");
		return;
	}
	snprintf(buf, len, "%s.%06dZ", stamp, (int)(ms % 1000) * 1000);
}

static void add_micro_time(cJSON *o, const char *name, int64_t ms)
{
	char t[40];

	kube_format_micro_time(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, name, t);
}

char *kube_json_lease_patch(const char *holder, int64_t duration_s, int64_t now_ms)
{
	cJSON *root = cJSON_CreateObject(), *spec = cJSON_AddObjectToObject(root, "spec");

	cJSON_AddStringToObject(spec, "holderIdentity", holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)duration_s);
	add_micro_time(spec, "renewTime", now_ms);
	return print_and_free(root);
}

char *kube_json_lease(const char *name, const char *namespace, const char *node_uid, int64_t duration_s,
		      int64_t now_ms)
{
	cJSON *root = cJSON_CreateObject(), *metadata, *spec;

	cJSON_AddStringToObject(root, "apiVersion", "coordination.k8s.io/v1");
	cJSON_AddStringToObject(root, "kind", "Lease");
	metadata = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(metadata, "name", name);
	cJSON_AddStringToObject(metadata, "namespace", namespace);
	if (node_uid && node_uid[0]) {
		/* As kubelet does for its own Lease: deleting the Node deletes the Lease. */
		cJSON *owners = cJSON_AddArrayToObject(metadata, "ownerReferences"), *owner = cJSON_CreateObject();

		cJSON_AddStringToObject(owner, "apiVersion", "v1");
		cJSON_AddStringToObject(owner, "kind", "Node");
		cJSON_AddStringToObject(owner, "name", name);
		cJSON_AddStringToObject(owner, "uid", node_uid);
		cJSON_AddItemToArray(owners, owner);
	}
	spec = cJSON_AddObjectToObject(root, "spec");
	cJSON_AddStringToObject(spec, "holderIdentity", name);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)duration_s);
	add_micro_time(spec, "acquireTime", now_ms);
	add_micro_time(spec, "renewTime", now_ms);
	return print_and_free(root);
}

char *kube_json_event(const struct kube_event *ev, const char *node_name, const char *node_uid)
{
	cJSON *root = cJSON_CreateObject(), *metadata, *object, *source;

	cJSON_AddStringToObject(root, "apiVersion", "v1");
	cJSON_AddStringToObject(root, "kind", "Event");
	metadata = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(metadata, "name", ev->name);
	cJSON_AddStringToObject(metadata, "namespace", "default");
	object = cJSON_AddObjectToObject(root, "involvedObject");
	cJSON_AddStringToObject(object, "apiVersion", "v1");
	cJSON_AddStringToObject(object, "kind", "Node");
	cJSON_AddStringToObject(object, "name", node_name);
	/* kubelet's node events use the node name as the UID; do the same when the UID is unknown. */
	cJSON_AddStringToObject(object, "uid", node_uid && node_uid[0] ? node_uid : node_name);
	cJSON_AddStringToObject(root, "reason", ev->reason);
	cJSON_AddStringToObject(root, "message", ev->message);
	cJSON_AddStringToObject(root, "type", ev->warning ? "Warning" : "Normal");
	source = cJSON_AddObjectToObject(root, "source");
	cJSON_AddStringToObject(source, "component", "nodecond");
	cJSON_AddStringToObject(source, "host", node_name);
	add_time(root, "firstTimestamp", ev->first_ms);
	add_time(root, "lastTimestamp", ev->last_ms);
	cJSON_AddNumberToObject(root, "count", ev->count);
	cJSON_AddStringToObject(root, "reportingComponent", "nodecond");
	cJSON_AddStringToObject(root, "reportingInstance", node_name);
	return print_and_free(root);
}

char *kube_json_event_patch(const struct kube_event *ev)
{
	cJSON *root = cJSON_CreateObject();

	cJSON_AddNumberToObject(root, "count", ev->count);
	add_time(root, "lastTimestamp", ev->last_ms);
	return print_and_free(root);
}
