/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loading. The file is parsed with libyaml into a document
 * tree and walked field by field. Unknown fields are rejected, as kubelet's
 * strict decoding does, so a misspelt field never silently keeps a default.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "conditions/quantity.h"
#include "conditions/threshold.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/yaml_doc.h"

#define NODE_NAME_EXPECTED \
	"expected a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.') of at most 253 characters, as Node names are"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool config_node_name_valid(const char *name)
{
	size_t len = strlen(name), label_len = 0;

	if (len == 0 || len > 253)
		return false;
	/* Each dot-separated label starts and ends with [a-z0-9] and has [a-z0-9-] inside. */
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '.' || c == '\0') {
			if (label_len == 0 || label_len > 63 || !is_lower_alnum(name[i - 1]))
				return false;
			label_len = 0;
			continue;
		}
		if (label_len == 0 && !is_lower_alnum(c))
			return false;
		if (!is_lower_alnum(c) && c != '-')
			return false;
		label_len++;
	}
	return true;
}

/* Context of one walk: the document and where errors go. */
struct walk {
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t err_len;
};

static int walk_error(struct walk *w, yaml_node_t *node, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int walk_error(struct walk *w, yaml_node_t *node, const char *path, const char *fmt, ...)
{
	char detail[CONFIG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);

	if (node)
		snprintf(w->err, w->err_len, "config: %s:%zu: %s: %s", w->name,
			 (size_t)node->start_mark.line + 1, path, detail);
	else
		snprintf(w->err, w->err_len, "config: %s: %s: %s", w->name, path, detail);
	return -EINVAL;
}

static const char *node_kind_name(yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static int scalar(struct walk *w, yaml_node_t *node, const char *path, const char **ret)
{
	if (node->type != YAML_SCALAR_NODE)
		return walk_error(w, node, path, "expected a string, found %s", node_kind_name(node));
	*ret = (const char *)node->data.scalar.value;
	return 0;
}

static int copy_string(struct walk *w, yaml_node_t *node, const char *path, char *dst, size_t len)
{
	const char *value = NULL;
	int r;

	r = scalar(w, node, path, &value);
	if (r < 0)
		return r;
	if (strlen(value) >= len)
		return walk_error(w, node, path, "value \"%.40s...\" is too long: at most %zu characters",
				  value, len - 1);
	strcpy(dst, value);
	return 0;
}

static int copy_path(struct walk *w, yaml_node_t *node, const char *path, char *dst, size_t len)
{
	int r;

	r = copy_string(w, node, path, dst, len);
	if (r < 0)
		return r;
	if (dst[0] != '\0' && dst[0] != '/')
		return walk_error(w, node, path, "invalid path \"%s\": expected an absolute path", dst);
	return 0;
}

static int parse_duration_field(struct walk *w, yaml_node_t *node, const char *path, int64_t *ret,
				int64_t min_ms)
{
	char detail[256];
	const char *value = NULL;
	int64_t ms;
	int r;

	r = scalar(w, node, path, &value);
	if (r < 0)
		return r;
	r = duration_parse(value, &ms, detail, sizeof(detail));
	if (r < 0)
		return walk_error(w, node, path, "%s", detail);
	if (ms < min_ms) {
		char min_text[32];

		duration_format(min_ms, min_text, sizeof(min_text));
		return walk_error(w, node, path, "invalid duration \"%s\": expected at least %s", value,
				  min_text);
	}
	*ret = ms;
	return 0;
}

static int parse_uint_field(struct walk *w, yaml_node_t *node, const char *path, unsigned *ret,
			    unsigned min, unsigned max)
{
	const char *value = NULL;
	unsigned long v;
	char *end;
	int r;

	r = scalar(w, node, path, &value);
	if (r < 0)
		return r;
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || !isdigit((unsigned char)value[0]) || v < min ||
	    v > max)
		return walk_error(w, node, path, "invalid value \"%s\": expected an integer from %u to %u",
				  value, min, max);
	*ret = (unsigned)v;
	return 0;
}

static bool is_null(yaml_node_t *node)
{
	const char *v = NULL;

	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)node->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

/* Calls fn for each key of a mapping; fn returns -ENOENT for an unknown key. */
typedef int (*field_fn)(struct walk *w, struct nodecond_config *cfg, const char *key,
			yaml_node_t *value, const char *path, void *userdata);

static int walk_mapping(struct walk *w, yaml_node_t *node, const char *path, struct nodecond_config *cfg,
			field_fn fn, void *userdata, const char *known)
{
	/* "conditions:" with nothing under it keeps the defaults. */
	if (is_null(node))
		return 0;
	if (node->type != YAML_MAPPING_NODE)
		return walk_error(w, node, path, "expected a mapping, found %s", node_kind_name(node));

	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top;
	     pair++) {
		yaml_node_t *key = yaml_document_get_node(w->doc, pair->key);
		yaml_node_t *value = yaml_document_get_node(w->doc, pair->value);
		char child[256];
		const char *name;
		int r;

		if (!key || !value || key->type != YAML_SCALAR_NODE)
			return walk_error(w, key, path, "expected string keys");
		name = (const char *)key->data.scalar.value;
		for (yaml_node_pair_t *earlier = node->data.mapping.pairs.start; earlier < pair; earlier++) {
			yaml_node_t *other = yaml_document_get_node(w->doc, earlier->key);

			if (other && other->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)other->data.scalar.value, name) == 0)
				return walk_error(w, key, path[0] ? path : "(top level)",
						  "field %s appears twice; keep one", name);
		}
		if (path[0])
			snprintf(child, sizeof(child), "%s.%s", path, name);
		else
			snprintf(child, sizeof(child), "%s", name);

		r = fn(w, cfg, name, value, child, userdata);
		if (r == -ENOENT)
			return walk_error(w, key, child, "unknown field; expected one of: %s", known);
		if (r < 0)
			return r;
	}
	return 0;
}


static int socket_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			const char *path, void *userdata)
{
	if (strcmp(key, "path") == 0) {
		int r = copy_path(w, value, path, cfg->socket_path, sizeof(cfg->socket_path));

		if (r == 0 && cfg->socket_path[0] == '\0')
			return walk_error(w, value, path, "empty path: expected an absolute path");
		return r;
	}
	if (strcmp(key, "group") == 0) {
		int r = copy_string(w, value, path, cfg->socket_group, sizeof(cfg->socket_group));

		if (r == 0 && cfg->socket_group[0] && !getgrnam(cfg->socket_group))
			return walk_error(w, value, path, "group \"%s\" not found; create it (groupadd %s) or leave "
					  "the field empty", cfg->socket_group, cfg->socket_group);
		return r;
	}
	return -ENOENT;
}

static int paths_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
		       const char *path, void *userdata)
{
	if (strcmp(key, "nodefs") == 0)
		return copy_path(w, value, path, cfg->nodefs_path, sizeof(cfg->nodefs_path));
	if (strcmp(key, "imagefs") == 0)
		return copy_path(w, value, path, cfg->imagefs_path, sizeof(cfg->imagefs_path));
	return -ENOENT;
}

static int kubelet_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			 const char *path, void *userdata)
{
	if (strcmp(key, "healthzURL") == 0) {
		int r = copy_string(w, value, path, cfg->kubelet_healthz_url, sizeof(cfg->kubelet_healthz_url));

		if (r == 0 && cfg->kubelet_healthz_url[0] && strncmp(cfg->kubelet_healthz_url, "http://", 7) != 0 &&
		    strncmp(cfg->kubelet_healthz_url, "https://", 8) != 0)
			return walk_error(w, value, path, "invalid URL \"%s\": expected http:// or https://",
					  cfg->kubelet_healthz_url);
		return r;
	}
	if (strcmp(key, "executable") == 0)
		return copy_path(w, value, path, cfg->kubelet_executable, sizeof(cfg->kubelet_executable));
	return -ENOENT;
}

static int runtime_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			 const char *path, void *userdata)
{
	if (strcmp(key, "socket") == 0)
		return copy_path(w, value, path, cfg->runtime_socket, sizeof(cfg->runtime_socket));
	return -ENOENT;
}

static int kubernetes_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			    const char *path, void *userdata)
{
	if (strcmp(key, "kubeconfig") == 0)
		return copy_path(w, value, path, cfg->kubeconfig, sizeof(cfg->kubeconfig));
	if (strcmp(key, "heartbeatPeriod") == 0)
		return parse_duration_field(w, value, path, &cfg->heartbeat_period_ms, 1000);
	if (strcmp(key, "leaseDuration") == 0)
		return parse_duration_field(w, value, path, &cfg->lease_duration_ms, 1000);
	if (strcmp(key, "minResyncPeriod") == 0)
		return parse_duration_field(w, value, path, &cfg->min_resync_period_ms, 1000);
	return -ENOENT;
}

static int metrics_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			 const char *path, void *userdata)
{
	const char *colon;
	int r;

	if (strcmp(key, "bpfRunStats") == 0) {
		const char *v = NULL;

		r = scalar(w, value, path, &v);
		if (r < 0)
			return r;
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return walk_error(w, value, path, "invalid value \"%s\": expected true or false", v);
		cfg->metrics_bpf_run_stats = strcmp(v, "true") == 0;
		return 0;
	}
	if (strcmp(key, "address") != 0)
		return -ENOENT;
	r = copy_string(w, value, path, cfg->metrics_address, sizeof(cfg->metrics_address));
	if (r < 0 || cfg->metrics_address[0] == '\0')
		return r;
	colon = strrchr(cfg->metrics_address, ':');
	if (!colon || colon == cfg->metrics_address || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
		return walk_error(w, value, path,
				  "invalid address \"%s\": expected HOST:PORT such as 127.0.0.1:9101 or [::1]:9101",
				  cfg->metrics_address);
	return 0;
}

static int record_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			const char *path, void *userdata)
{
	struct quantity q;
	char detail[256];
	const char *v = NULL;
	int r;

	if (strcmp(key, "path") == 0)
		return copy_path(w, value, path, cfg->record_path, sizeof(cfg->record_path));
	if (strcmp(key, "maxFiles") == 0)
		return parse_uint_field(w, value, path, &cfg->record_max_files, CONFIG_RECORD_MIN_FILES,
					CONFIG_RECORD_MAX_FILES);
	if (strcmp(key, "maxSize") != 0)
		return -ENOENT;

	r = scalar(w, value, path, &v);
	if (r < 0)
		return r;
	r = quantity_parse(v, &q, detail, sizeof(detail));
	if (r < 0)
		return walk_error(w, value, path, "%s", detail);
	if (q.percent || q.milli % 1000 != 0 || q.milli / 1000 < CONFIG_RECORD_MIN_SIZE)
		return walk_error(w, value, path, "invalid size \"%s\": expected a whole number of bytes of at least "
				  "4Ki, such as 64Mi", v);
	cfg->record_max_size = q.milli / 1000;
	return 0;
}

static int taints_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			const char *path, void *userdata)
{
	const char *v = NULL;
	int r;

	if (strcmp(key, "writer") != 0)
		return -ENOENT;
	r = scalar(w, value, path, &v);
	if (r < 0)
		return r;
	if (strcmp(v, "controller") == 0)
		cfg->taints_writer = TAINTS_WRITER_CONTROLLER;
	else if (strcmp(v, "agent") == 0)
		cfg->taints_writer = TAINTS_WRITER_AGENT;
	else
		return walk_error(w, value, path, "invalid value \"%s\": expected controller or agent", v);
	return 0;
}

/* State for walking one threshold entry. */
struct threshold_walk {
	struct threshold *threshold;
	bool has_expression;
};

static int threshold_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			   const char *path, void *userdata)
{
	struct threshold_walk *tw = userdata;
	struct threshold *t = tw->threshold;

	if (strcmp(key, "expression") == 0) {
		struct threshold parsed;
		char detail[256];
		const char *text = NULL;
		int r;

		r = scalar(w, value, path, &text);
		if (r < 0)
			return r;
		r = threshold_parse(text, &parsed, detail, sizeof(detail));
		if (r < 0)
			return walk_error(w, value, path, "%s", detail);
		parsed.for_ms = t->for_ms;
		parsed.window_ms = t->window_ms;
		*t = parsed;
		tw->has_expression = true;
		return 0;
	}
	if (strcmp(key, "for") == 0)
		return parse_duration_field(w, value, path, &t->for_ms, 0);
	if (strcmp(key, "window") == 0)
		return parse_duration_field(w, value, path, &t->window_ms, 0);
	return -ENOENT;
}

static int parse_thresholds(struct walk *w, struct nodecond_config *cfg, yaml_node_t *node, const char *path,
			    struct condition_rule *rule)
{
	size_t n = 0;

	if (is_null(node) || (node->type == YAML_SEQUENCE_NODE &&
			      node->data.sequence.items.start == node->data.sequence.items.top))
		return walk_error(w, node, path,
				  "empty list: a condition needs at least one threshold; to turn it off, set enabled: false");
	if (node->type != YAML_SEQUENCE_NODE)
		return walk_error(w, node, path, "expected a list of thresholds, found %s", node_kind_name(node));

	for (yaml_node_item_t *item = node->data.sequence.items.start; item < node->data.sequence.items.top;
	     item++) {
		yaml_node_t *entry = yaml_document_get_node(w->doc, *item);
		struct threshold_walk tw;
		struct threshold t = { 0 };
		char child[256];
		int r;

		snprintf(child, sizeof(child), "%s[%zu]", path, n);
		if (n >= CONDITION_THRESHOLDS_MAX)
			return walk_error(w, entry, child, "too many thresholds: at most %d per condition",
					  CONDITION_THRESHOLDS_MAX);

		tw.threshold = &t;
		tw.has_expression = false;
		r = walk_mapping(w, entry, child, cfg, threshold_field, &tw, "expression, for, window");
		if (r < 0)
			return r;
		if (!tw.has_expression)
			return walk_error(w, entry, child, "missing field expression, such as memory.available<100Mi");
		if (t.window_ms > 0 && !signal_info_get(t.signal)->counter_like)
			return walk_error(w, entry, child,
					  "window is set but %s is not a count of events: window applies to "
					  "counters such as memory.oomKills", signal_info_get(t.signal)->name);
		rule->thresholds[n++] = t;
	}
	rule->n_thresholds = n;
	return 0;
}

static int taint_entry_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			     const char *path, void *userdata)
{
	struct config_taint *t = userdata;

	if (strcmp(key, "key") == 0)
		return copy_string(w, value, path, t->key, sizeof(t->key));
	if (strcmp(key, "value") == 0)
		return copy_string(w, value, path, t->value, sizeof(t->value));
	if (strcmp(key, "effect") == 0) {
		int r = copy_string(w, value, path, t->effect, sizeof(t->effect));

		if (r < 0)
			return r;
		if (strcmp(t->effect, "NoSchedule") != 0 && strcmp(t->effect, "PreferNoSchedule") != 0 &&
		    strcmp(t->effect, "NoExecute") != 0)
			return walk_error(w, value, path,
					  "invalid effect \"%s\": expected NoSchedule, PreferNoSchedule or NoExecute",
					  t->effect);
		return 0;
	}
	return -ENOENT;
}

static int parse_taints(struct walk *w, struct nodecond_config *cfg, yaml_node_t *node, const char *path,
			struct config_condition_taints *ct)
{
	size_t n = 0;

	ct->set = true;
	ct->n_taints = 0;
	if (is_null(node))
		return 0;
	if (node->type != YAML_SEQUENCE_NODE)
		return walk_error(w, node, path, "expected a list of taints, found %s", node_kind_name(node));

	for (yaml_node_item_t *item = node->data.sequence.items.start; item < node->data.sequence.items.top;
	     item++) {
		yaml_node_t *entry = yaml_document_get_node(w->doc, *item);
		struct config_taint t = { 0 };
		char child[256];
		int r;

		snprintf(child, sizeof(child), "%s[%zu]", path, n);
		if (n >= CONFIG_TAINTS_MAX)
			return walk_error(w, entry, child, "too many taints: at most %d per condition",
					  CONFIG_TAINTS_MAX);
		r = walk_mapping(w, entry, child, cfg, taint_entry_field, &t, "key, value, effect");
		if (r < 0)
			return r;
		if (t.key[0] == '\0')
			return walk_error(w, entry, child, "missing field key, such as nodecond.io/memory-pressure");
		if (t.effect[0] == '\0')
			return walk_error(w, entry, child, "missing field effect: NoSchedule, PreferNoSchedule or NoExecute");
		ct->taints[n++] = t;
	}
	ct->n_taints = n;
	return 0;
}

static int condition_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			   const char *path, void *userdata)
{
	enum condition_kind kind = *(enum condition_kind *)userdata;
	struct condition_rule *rule = &cfg->engine.rules[kind];

	if (strcmp(key, "type") == 0) {
		int r = copy_string(w, value, path, rule->type, sizeof(rule->type));

		if (r == 0 && rule->type[0] == '\0')
			return walk_error(w, value, path, "empty condition type: expected a name such as KernelMemoryPressure");
		if (r == 0)
			cfg->condition_type_set[kind] = true;
		return r;
	}
	if (strcmp(key, "taints") == 0)
		return parse_taints(w, cfg, value, path, &cfg->condition_taints[kind]);
	if (kind == CONDITION_UNREACHABLE)
		return walk_error(w, value, path,
				  "Unreachable has only type and taints: the controller sets it, the agent never does");
	if (strcmp(key, "thresholds") == 0)
		return parse_thresholds(w, cfg, value, path, rule);
	if (strcmp(key, "transitionPeriod") == 0)
		return parse_duration_field(w, value, path, &rule->transition_period_ms, 0);
	if (strcmp(key, "enabled") == 0) {
		const char *v = NULL;
		int r = scalar(w, value, path, &v);

		if (r < 0)
			return r;
		if (strcmp(v, "true") == 0)
			rule->enabled = true;
		else if (strcmp(v, "false") == 0)
			rule->enabled = false;
		else
			return walk_error(w, value, path, "invalid value \"%s\": expected true or false", v);
		return 0;
	}
	return -ENOENT;
}

static int conditions_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
			    const char *path, void *userdata)
{
	enum condition_kind kind = condition_kind_from_name(key);

	if (kind == _CONDITION_KIND_INVALID)
		return -ENOENT;
	return walk_mapping(w, value, path, cfg, condition_field, &kind,
			    "type, taints, thresholds, transitionPeriod, enabled");
}

static int top_field(struct walk *w, struct nodecond_config *cfg, const char *key, yaml_node_t *value,
		     const char *path, void *userdata)
{
	const char *v = NULL;
	int r;

	if (strcmp(key, "apiVersion") == 0) {
		r = scalar(w, value, path, &v);
		if (r == 0 && strcmp(v, CONFIG_API_VERSION) != 0)
			return walk_error(w, value, path, "unsupported apiVersion \"%s\": expected %s", v,
					  CONFIG_API_VERSION);
		return r;
	}
	if (strcmp(key, "kind") == 0) {
		r = scalar(w, value, path, &v);
		if (r == 0 && strcmp(v, CONFIG_KIND) != 0)
			return walk_error(w, value, path, "unsupported kind \"%s\": expected %s", v, CONFIG_KIND);
		return r;
	}
	if (strcmp(key, "nodeName") == 0) {
		r = copy_string(w, value, path, cfg->node_name, sizeof(cfg->node_name));
		if (r == 0 && cfg->node_name[0] && !config_node_name_valid(cfg->node_name))
			return walk_error(w, value, path, "invalid node name \"%s\": %s", cfg->node_name,
					  NODE_NAME_EXPECTED);
		return r;
	}
	if (strcmp(key, "socket") == 0)
		return walk_mapping(w, value, path, cfg, socket_field, NULL, "path, group");
	if (strcmp(key, "sampleInterval") == 0)
		return parse_duration_field(w, value, path, &cfg->sample_interval_ms, 100);
	if (strcmp(key, "missedSamplesBeforeUnknown") == 0)
		return parse_uint_field(w, value, path, &cfg->engine.missed_samples_before_unknown, 0, 3600);
	if (strcmp(key, "stateFile") == 0)
		return copy_path(w, value, path, cfg->state_file, sizeof(cfg->state_file));
	if (strcmp(key, "paths") == 0)
		return walk_mapping(w, value, path, cfg, paths_field, NULL, "nodefs, imagefs");
	if (strcmp(key, "kubelet") == 0)
		return walk_mapping(w, value, path, cfg, kubelet_field, NULL, "healthzURL, executable");
	if (strcmp(key, "runtime") == 0)
		return walk_mapping(w, value, path, cfg, runtime_field, NULL, "socket");
	if (strcmp(key, "kubernetes") == 0)
		return walk_mapping(w, value, path, cfg, kubernetes_field, NULL,
				    "kubeconfig, heartbeatPeriod, leaseDuration, minResyncPeriod");
	if (strcmp(key, "taints") == 0)
		return walk_mapping(w, value, path, cfg, taints_field, NULL, "writer");
	if (strcmp(key, "metrics") == 0)
		return walk_mapping(w, value, path, cfg, metrics_field, NULL, "address, bpfRunStats");
	if (strcmp(key, "record") == 0)
		return walk_mapping(w, value, path, cfg, record_field, NULL, "path, maxSize, maxFiles");
	if (strcmp(key, "profile") == 0) {
		r = copy_string(w, value, path, cfg->profile, sizeof(cfg->profile));
		if (r == 0 && strcmp(cfg->profile, "companion") != 0 && strcmp(cfg->profile, "standard") != 0)
			return walk_error(w, value, path, "invalid profile \"%s\": expected companion or standard",
					  cfg->profile);
		return r;
	}
	if (strcmp(key, "logLevel") == 0) {
		r = copy_string(w, value, path, cfg->log_level, sizeof(cfg->log_level));
		if (r == 0 && log_level_from_name(cfg->log_level) < 0)
			return walk_error(w, value, path,
					  "invalid log level \"%s\": expected error, warning, info or debug",
					  cfg->log_level);
		return r;
	}
	if (strcmp(key, "conditions") == 0)
		return walk_mapping(w, value, path, cfg, conditions_field, NULL,
				    "MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable, NotReady, Unreachable");
	return -ENOENT;
}

void config_init_defaults(struct nodecond_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "/run/nodecond/nodecond.sock");
	cfg->sample_interval_ms = 1000;
	snprintf(cfg->state_file, sizeof(cfg->state_file), "/var/lib/nodecond/state.json");
	snprintf(cfg->nodefs_path, sizeof(cfg->nodefs_path), "/var/lib/kubelet");
	snprintf(cfg->imagefs_path, sizeof(cfg->imagefs_path), "/var/lib/containerd");
	snprintf(cfg->kubelet_healthz_url, sizeof(cfg->kubelet_healthz_url), "http://127.0.0.1:10248/healthz");
	snprintf(cfg->kubelet_executable, sizeof(cfg->kubelet_executable), "/usr/bin/kubelet");
	snprintf(cfg->runtime_socket, sizeof(cfg->runtime_socket), "/run/containerd/containerd.sock");
	cfg->heartbeat_period_ms = 5 * 60 * 1000;
	cfg->lease_duration_ms = 40 * 1000;
	cfg->min_resync_period_ms = 12 * 60 * 60 * 1000LL;
	cfg->taints_writer = TAINTS_WRITER_CONTROLLER;
	snprintf(cfg->profile, sizeof(cfg->profile), "companion");
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	cfg->record_max_size = 64 * 1024 * 1024;
	cfg->record_max_files = 3;
	engine_config_init_defaults(&cfg->engine);
	taint_profile_init(&cfg->taint_profile, PROFILE_COMPANION);
}


int config_load_string(struct nodecond_config *cfg, const char *text, size_t len, const char *name, char *err,
		       size_t err_len)
{
	struct nodecond_config *copy;
	yaml_document_t doc;
	yaml_node_t *root;
	struct walk w = { .doc = &doc, .name = name, .err = err, .err_len = err_len };
	int r;

	r = yaml_doc_load(&doc, text, len, "config: ", name, err, err_len);
	if (r < 0)
		return r;

	copy = malloc(sizeof(*copy));
	if (!copy) {
		yaml_document_delete(&doc);
		return -ENOMEM;
	}
	*copy = *cfg;

	root = yaml_document_get_root_node(&doc);
	if (!root || is_null(root))
		r = 0; /* an empty file keeps every default */
	else
		r = walk_mapping(&w, root, "", copy, top_field, NULL,
				 "apiVersion, kind, nodeName, socket, sampleInterval, missedSamplesBeforeUnknown, "
				 "stateFile, paths, kubelet, runtime, kubernetes, taints, metrics, record, profile, "
				 "logLevel, conditions");
	if (r == 0)
		*cfg = *copy;

	free(copy);
	yaml_document_delete(&doc);
	return r;
}

int config_load_file(struct nodecond_config *cfg, const char *path, char *err, size_t err_len)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		snprintf(err, err_len, "config: cannot open %s: %s", path, strerror(errno));
		return r;
	}
	for (;;) {
		size_t n;

		if (len + 4096 > cap) {
			char *bigger;

			if (cap >= 4 * 1024 * 1024) {
				snprintf(err, err_len, "config: %s: file is larger than 4 MiB", path);
				free(text);
				fclose(f);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 8192;
			bigger = realloc(text, cap);
			if (!bigger) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = bigger;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, err_len, "config: cannot read %s: %s", path, strerror(errno));
		free(text);
		fclose(f);
		return -EIO;
	}
	fclose(f);

	r = config_load_string(cfg, text ? text : "", len, path, err, err_len);
	free(text);
	return r;
}

int config_resolve_node_name(struct nodecond_config *cfg, char *err, size_t err_len)
{
	const char *env = getenv("NODE_NAME");
	char host[256];

	if (cfg->node_name[0] == '\0' && env && env[0]) {
		if (strlen(env) >= sizeof(cfg->node_name)) {
			snprintf(err, err_len, "NODE_NAME is longer than %zu characters", sizeof(cfg->node_name) - 1);
			return -EINVAL;
		}
		strcpy(cfg->node_name, env);
	}
	if (cfg->node_name[0] == '\0') {
		if (gethostname(host, sizeof(host)) < 0) {
			snprintf(err, err_len, "cannot read the host name: %s; set --node-name or NODE_NAME",
				 strerror(errno));
			return -errno;
		}
		host[sizeof(host) - 1] = '\0';
		for (char *p = host; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(cfg->node_name, sizeof(cfg->node_name), "%.253s", host);
	}
	if (!config_node_name_valid(cfg->node_name)) {
		snprintf(err, err_len, "node name \"%s\" is invalid: %s; set --node-name, NODE_NAME or nodeName",
			 cfg->node_name, NODE_NAME_EXPECTED);
		return -EINVAL;
	}
	return 0;
}

int config_build(struct nodecond_config *cfg, const struct config_flags *flags, char *err, size_t err_len)
{
	int r;

	config_init_defaults(cfg);
	if (flags->config_path) {
		r = config_load_file(cfg, flags->config_path, err, err_len);
		if (r < 0)
			return r;
	}

	if (flags->socket_path) {
		if (flags->socket_path[0] != '/' || strlen(flags->socket_path) >= sizeof(cfg->socket_path)) {
			snprintf(err, err_len, "--socket: invalid path \"%s\": expected an absolute path shorter than %zu characters",
				 flags->socket_path, sizeof(cfg->socket_path));
			return -EINVAL;
		}
		strcpy(cfg->socket_path, flags->socket_path);
	}
	if (flags->node_name)
		snprintf(cfg->node_name, sizeof(cfg->node_name), "%s", flags->node_name);
	if (flags->record_path) {
		if (flags->record_path[0] == '\0' || strlen(flags->record_path) >= sizeof(cfg->record_path)) {
			snprintf(err, err_len, "--record: invalid path \"%s\": expected a file path shorter than %zu characters",
				 flags->record_path, sizeof(cfg->record_path));
			return -EINVAL;
		}
		strcpy(cfg->record_path, flags->record_path);
	}
	if (flags->kubeconfig)
		snprintf(cfg->kubeconfig, sizeof(cfg->kubeconfig), "%s", flags->kubeconfig);
	if (flags->profile) {
		if (strcmp(flags->profile, "companion") != 0 && strcmp(flags->profile, "standard") != 0) {
			snprintf(err, err_len, "--profile: invalid profile \"%s\": expected companion or standard",
				 flags->profile);
			return -EINVAL;
		}
		snprintf(cfg->profile, sizeof(cfg->profile), "%s", flags->profile);
	}
	if (flags->log_level) {
		if (log_level_from_name(flags->log_level) < 0) {
			snprintf(err, err_len, "--log-level: invalid level \"%s\": expected error, warning, info or debug",
				 flags->log_level);
			return -EINVAL;
		}
		snprintf(cfg->log_level, sizeof(cfg->log_level), "%s", flags->log_level);
	}

	r = config_apply_profile(cfg, err, err_len);
	if (r < 0)
		return r;
	return config_resolve_node_name(cfg, err, err_len);
}

int config_apply_profile(struct nodecond_config *cfg, char *err, size_t err_len)
{
	struct taint_profile_overrides *overrides;
	char detail[CONFIG_ERROR_MAX];
	enum profile_name base;
	int r;

	base = profile_name_from_string(cfg->profile);
	if (base == _PROFILE_INVALID) {
		snprintf(err, err_len, "config: profile: invalid value \"%s\": expected companion or standard",
			 cfg->profile);
		return -EINVAL;
	}

	overrides = calloc(1, sizeof(*overrides));
	if (!overrides)
		return -ENOMEM;
	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct config_condition_taints *ct = &cfg->condition_taints[k];
		struct profile_kind_override *o = &overrides->kinds[k];

		if (cfg->condition_type_set[k]) {
			o->has_type = true;
			snprintf(o->condition_type, sizeof(o->condition_type), "%s", cfg->engine.rules[k].type);
		}
		if (!ct->set)
			continue;
		o->has_taints = true;
		o->n_taints = ct->n_taints;
		for (size_t i = 0; i < ct->n_taints; i++) {
			char path[96];

			snprintf(path, sizeof(path), "conditions.%s.taints[%zu]", condition_kind_name(k), i);
			r = taint_init(&o->taints[i], ct->taints[i].key, ct->taints[i].value, ct->taints[i].effect, 0,
				       detail, sizeof(detail));
			if (r < 0) {
				snprintf(err, err_len, "config: %s: %s", path, detail);
				free(overrides);
				return -EINVAL;
			}
		}
	}

	r = taint_profile_build(&cfg->taint_profile, base, overrides, detail, sizeof(detail));
	free(overrides);
	if (r < 0) {
		snprintf(err, err_len, "config: %s", detail);
		return -EINVAL;
	}
	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		snprintf(cfg->engine.rules[k].type, sizeof(cfg->engine.rules[k].type), "%s",
			 cfg->taint_profile.kinds[k].condition_type);
	return 0;
}
