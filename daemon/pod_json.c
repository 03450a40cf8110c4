/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/pod_json.h"
#include "daemon/timefmt.h"

/* Largest integer that a JSON number (an IEEE double) represents exactly. */
#define JSON_INTEGER_MAX 9007199254740991.0

static int field_error(char *err, size_t err_len, const char *prefix, const char *field, const char *what)
{
	snprintf(err, err_len, "%s.%s: %s", prefix, field, what);
	return -EINVAL;
}

/* Reads an optional string member; absent or null leaves *ret NULL. */
static int optional_string(const cJSON *o, const char *name, const char **ret, const char *prefix, char *err,
			   size_t err_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	char field[320];

	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		snprintf(field, sizeof(field), "%s", name);
		return field_error(err, err_len, prefix, field, "expected a string");
	}
	*ret = v->valuestring;
	return 0;
}

static int check_known_fields(const cJSON *o, const char *const *known, const char *prefix, char *err,
			      size_t err_len)
{
	const cJSON *member;

	cJSON_ArrayForEach(member, o) {
		bool found = false;

		for (size_t i = 0; known[i]; i++)
			found = found || strcmp(member->string, known[i]) == 0;
		if (!found) {
			snprintf(err, err_len, "%s.%s: unknown field", prefix, member->string);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Checks that o is an object with only the known fields, and reads the
 * optional string fields named in names into values (NULL when absent).
 */
static int read_object(const cJSON *o, const char *const *known, const char *const *names, const char **values,
		       const char *prefix, char *err, size_t err_len)
{
	int r;

	if (!cJSON_IsObject(o)) {
		snprintf(err, err_len, "%s: expected an object", prefix);
		return -EINVAL;
	}
	r = check_known_fields(o, known, prefix, err, err_len);
	for (size_t i = 0; r == 0 && names[i]; i++)
		r = optional_string(o, names[i], &values[i], prefix, err, err_len);
	return r;
}

static int parse_toleration(const cJSON *o, struct toleration *t, const char *prefix, char *err, size_t err_len)
{
	static const char *const known[] = { "key", "operator", "value", "effect", "tolerationSeconds", NULL };
	static const char *const strings[] = { "key", "operator", "value", "effect", NULL };
	const char *fields[4];
	const char *key, *op, *value, *effect;
	const cJSON *seconds;
	int64_t seconds_value;
	char detail[POD_JSON_ERROR_MAX];
	int r;

	r = read_object(o, known, strings, fields, prefix, err, err_len);
	if (r < 0)
		return r;
	key = fields[0];
	op = fields[1];
	value = fields[2];
	effect = fields[3];

	seconds = cJSON_GetObjectItemCaseSensitive(o, "tolerationSeconds");
	if (seconds && !cJSON_IsNull(seconds)) {
		double d = seconds->valuedouble;

		if (!cJSON_IsNumber(seconds) || d != floor(d) || fabs(d) > JSON_INTEGER_MAX) {
			char what[160];

			if (cJSON_IsNumber(seconds))
				snprintf(what, sizeof(what), "invalid value %.17g: expected an integer number of seconds "
					 "of at most 2^53", d);
			else
				snprintf(what, sizeof(what), "expected an integer number of seconds");
			return field_error(err, err_len, prefix, "tolerationSeconds", what);
		}
		seconds_value = (int64_t)d;
	}

	r = toleration_init(t, key, op, value, effect, seconds && !cJSON_IsNull(seconds) ? &seconds_value : NULL,
			    detail, sizeof(detail));
	if (r < 0) {
		snprintf(err, err_len, "%s.%s", prefix, detail);
		return -EINVAL;
	}
	return 0;
}

static int parse_tolerations(const cJSON *list, struct toleration_request *req, const char *path, char *err,
			     size_t err_len)
{
	char detail[POD_JSON_ERROR_MAX];
	const cJSON *item;
	size_t n = 0;
	int r;

	if (!cJSON_IsArray(list)) {
		snprintf(err, err_len, "%s: expected a list of tolerations", path);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, list) {
		char prefix[96];

		if (n >= POD_JSON_TOLERATIONS_MAX) {
			snprintf(err, err_len, "%s: more than %d tolerations", path, POD_JSON_TOLERATIONS_MAX);
			return -E2BIG;
		}
		snprintf(prefix, sizeof(prefix), "%s[%zu]", path, n);
		r = parse_toleration(item, &req->tolerations[n], prefix, err, err_len);
		if (r < 0)
			return r;
		n++;
	}
	req->n_tolerations = n;

	r = toleration_list_validate(req->tolerations, n, detail, sizeof(detail));
	if (r < 0) {
		/* The validator names fields as "tolerations[i]...", relative to the spec. */
		const char *base = strcmp(path, "tolerations") == 0 ? "" : path;
		size_t base_len = strlen(base) >= strlen("tolerations") ? strlen(base) - strlen("tolerations") : 0;

		snprintf(err, err_len, "%.*s%s", (int)base_len, base, detail);
		return -EINVAL;
	}
	return 0;
}

static int parse_taint(const cJSON *o, struct taint *t, const char *prefix, char *err, size_t err_len)
{
	static const char *const known[] = { "key", "value", "effect", "timeAdded", NULL };
	const char *fields[4];
	const char *key, *value, *effect, *time_added;
	char detail[POD_JSON_ERROR_MAX];
	int64_t added_ms = 0;
	int r;

	/* Every known field of a taint is a string. */
	r = read_object(o, known, known, fields, prefix, err, err_len);
	if (r < 0)
		return r;
	key = fields[0];
	value = fields[1];
	effect = fields[2];
	time_added = fields[3];
	if (!key || !key[0])
		return field_error(err, err_len, prefix, "key", "missing: a taint needs a key");
	if (!effect || !effect[0])
		return field_error(err, err_len, prefix, "effect",
				   "missing: expected NoSchedule, PreferNoSchedule or NoExecute");
	if (time_added && timefmt_parse_rfc3339(time_added, &added_ms) < 0)
		return field_error(err, err_len, prefix, "timeAdded",
				   "expected an RFC 3339 time such as 2026-01-02T15:04:05Z");

	r = taint_init(t, key, value, effect, added_ms, detail, sizeof(detail));
	if (r == 0)
		r = taint_validate(t, detail, sizeof(detail));
	if (r < 0) {
		snprintf(err, err_len, "%s.%s", prefix, detail);
		return -EINVAL;
	}
	return 0;
}

int pod_json_parse_taints(const cJSON *root, struct taint *out, size_t max, size_t *n, char *err, size_t err_len)
{
	const cJSON *list = root, *item;
	const char *path = "";
	size_t count = 0;
	int r;

	if (cJSON_IsObject(root)) {
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(root, "spec");

		if (cJSON_IsObject(spec)) {
			list = cJSON_GetObjectItemCaseSensitive(spec, "taints");
			path = "spec.taints";
			if (!list) {
				*n = 0; /* a Node without taints */
				return 0;
			}
		} else {
			list = cJSON_GetObjectItemCaseSensitive(root, "taints");
			path = "taints";
		}
	}
	if (!cJSON_IsArray(list)) {
		snprintf(err, err_len, "%s: expected a list of taints, a Node, or an object with \"taints\"",
			 path[0] ? path : "input");
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, list) {
		char prefix[96];

		if (count >= max) {
			snprintf(err, err_len, "%s: more than %zu taints", path[0] ? path : "input", max);
			return -E2BIG;
		}
		snprintf(prefix, sizeof(prefix), "%s[%zu]", path[0] ? path : "taints", count);
		r = parse_taint(item, &out[count], prefix, err, err_len);
		if (r < 0)
			return r;
		count++;
	}
	*n = count;
	return 0;
}

int pod_json_parse_request(const cJSON *root, struct toleration_request *req, char *err, size_t err_len)
{
	const cJSON *spec = root, *tolerations, *host_network, *taints;
	const char *path = "tolerations";
	int r;

	memset(req, 0, sizeof(*req));
	if (cJSON_IsArray(root))
		return parse_tolerations(root, req, "tolerations", err, err_len);
	if (!cJSON_IsObject(root)) {
		snprintf(err, err_len, "expected a Pod, a PodSpec, a list of tolerations, or an object with "
			 "\"tolerations\"");
		return -EINVAL;
	}

	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "spec"))) {
		const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(root, "metadata");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(metadata, "name");

		spec = cJSON_GetObjectItemCaseSensitive(root, "spec");
		path = "spec.tolerations";
		if (cJSON_IsString(name))
			snprintf(req->name, sizeof(req->name), "%s", name->valuestring);
	}

	tolerations = cJSON_GetObjectItemCaseSensitive(spec, "tolerations");
	if (tolerations && !cJSON_IsNull(tolerations)) {
		r = parse_tolerations(tolerations, req, path, err, err_len);
		if (r < 0)
			return r;
	}

	host_network = cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork");
	if (host_network && !cJSON_IsBool(host_network)) {
		snprintf(err, err_len, "%s: expected true or false", spec == root ? "hostNetwork" : "spec.hostNetwork");
		return -EINVAL;
	}
	req->host_network = cJSON_IsTrue(host_network);

	taints = cJSON_GetObjectItemCaseSensitive(root, "taints");
	if (taints) {
		r = pod_json_parse_taints(taints, req->taints, POD_JSON_TAINTS_MAX, &req->n_taints, err, err_len);
		if (r < 0)
			return r;
		req->has_taints = true;
	}
	return 0;
}

static void add_time(cJSON *o, const char *name, int64_t ms)
{
	char t[TIMEFMT_RFC3339_MAX];

	timefmt_rfc3339(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, name, t);
}

cJSON *pod_json_taint(const struct taint *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "key", t->key);
	if (t->value[0])
		cJSON_AddStringToObject(o, "value", t->value);
	cJSON_AddStringToObject(o, "effect", taint_effect_name(t->effect));
	if (t->time_added_ms > 0)
		add_time(o, "timeAdded", t->time_added_ms);
	return o;
}

cJSON *pod_json_toleration(const struct toleration *t)
{
	cJSON *o = cJSON_CreateObject();

	if (t->key[0])
		cJSON_AddStringToObject(o, "key", t->key);
	if (t->operator[0])
		cJSON_AddStringToObject(o, "operator", t->operator);
	if (t->value[0])
		cJSON_AddStringToObject(o, "value", t->value);
	if (t->effect[0])
		cJSON_AddStringToObject(o, "effect", t->effect);
	if (t->has_toleration_seconds) {
		char seconds[24];

		/* Written as an integer literal: a double would print 1e+15, which int64 decoders reject. */
		snprintf(seconds, sizeof(seconds), "%lld", (long long)t->toleration_seconds);
		cJSON_AddRawToObject(o, "tolerationSeconds", seconds);
	}
	return o;
}

static cJSON *eviction_json(const struct eviction *e)
{
	static const char *const kinds[] = {
		[EVICTION_NEVER] = "Never",
		[EVICTION_NOW] = "Immediately",
		[EVICTION_AT] = "At",
	};
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "when", kinds[e->kind]);
	/* RFC 3339 ends at year 9999; a later time is left out, as "too far to show". */
	if (e->kind == EVICTION_AT && e->at_ms <= TIMEFMT_RFC3339_LAST_MS)
		add_time(o, "time", e->at_ms);
	return o;
}

cJSON *pod_json_verdict(const struct toleration_request *req, const struct taint *taints, size_t n_taints,
			int64_t now_ms)
{
	struct taint_verdict verdicts[POD_JSON_TAINTS_MAX];
	struct eviction overall;
	cJSON *o = cJSON_CreateObject(), *list;
	bool schedulable = true;

	if (n_taints > POD_JSON_TAINTS_MAX)
		n_taints = POD_JSON_TAINTS_MAX;
	overall = eviction_evaluate(taints, n_taints, req->tolerations, req->n_tolerations, now_ms, verdicts);

	if (req->name[0])
		cJSON_AddStringToObject(o, "pod", req->name);
	list = cJSON_AddArrayToObject(o, "taints");
	for (size_t i = 0; i < n_taints; i++) {
		cJSON *v = cJSON_CreateObject();

		cJSON_AddItemToObject(v, "taint", pod_json_taint(&taints[i]));
		cJSON_AddBoolToObject(v, "tolerated", verdicts[i].tolerated);
		if (verdicts[i].toleration_index >= 0) {
			cJSON_AddNumberToObject(v, "tolerationIndex", (double)verdicts[i].toleration_index);
			cJSON_AddItemToObject(v, "toleration",
					      pod_json_toleration(&req->tolerations[verdicts[i].toleration_index]));
		}
		if (taints[i].effect == TAINT_EFFECT_NO_EXECUTE)
			cJSON_AddItemToObject(v, "eviction", eviction_json(&verdicts[i].eviction));
		/* PreferNoSchedule only steers the scheduler; NoSchedule and NoExecute block placement. */
		if (!verdicts[i].tolerated && taints[i].effect != TAINT_EFFECT_PREFER_NO_SCHEDULE)
			schedulable = false;
		cJSON_AddItemToArray(list, v);
	}
	cJSON_AddBoolToObject(o, "schedulable", schedulable);
	cJSON_AddItemToObject(o, "eviction", eviction_json(&overall));
	return o;
}

int pod_json_check(const char *body, size_t len, const struct toleration_check_options *opts,
		   const struct taint *node_taints, size_t n_node_taints, int64_t now_ms, cJSON **ret, char *err,
		   size_t err_len)
{
	struct toleration_request *req;
	cJSON *root;
	int r;

	root = cJSON_ParseWithLength(body, len);
	if (!root) {
		snprintf(err, err_len, "invalid JSON near byte %td", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - body : 0);
		return -EINVAL;
	}
	req = malloc(sizeof(*req));
	if (!req) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	r = pod_json_parse_request(root, req, err, err_len);
	cJSON_Delete(root);

	if (r == 0 && opts->daemonset)
		r = toleration_add_daemonset_defaults(req->tolerations, &req->n_tolerations, POD_JSON_TOLERATIONS_MAX,
						      req->host_network);
	if (r == 0 && opts->admission_defaults)
		r = toleration_add_default_seconds(req->tolerations, &req->n_tolerations, POD_JSON_TOLERATIONS_MAX,
						   TOLERATION_DEFAULT_SECONDS, TOLERATION_DEFAULT_SECONDS);
	if (r == -ENOSPC)
		snprintf(err, err_len, "more than %d tolerations with the defaults added", POD_JSON_TOLERATIONS_MAX);
	if (r == 0) {
		if (req->has_taints)
			*ret = pod_json_verdict(req, req->taints, req->n_taints, now_ms);
		else
			*ret = pod_json_verdict(req, node_taints, n_node_taints, now_ms);
	}
	free(req);
	return r;
}
