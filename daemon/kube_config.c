/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubeconfig and in-cluster credentials. The kubeconfig is read with
 * libyaml's document API; fields nodecond does not use (exec plugins,
 * proxies, extensions) are ignored, as kubectl ignores fields it does not
 * know. Relative paths are relative to the kubeconfig's directory, as in
 * client-go.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "daemon/kube_config.h"
#include "daemon/yaml_doc.h"

#define KUBECONFIG_SIZE_MAX (4 * 1024 * 1024)
#define CREDENTIAL_FILE_MAX (1024 * 1024)

void kube_blob_clear(struct kube_blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void kube_credentials_clear(struct kube_credentials *creds)
{
	free(creds->token);
	kube_blob_clear(&creds->ca_data);
	kube_blob_clear(&creds->client_cert_data);
	kube_blob_clear(&creds->client_key_data);
	memset(creds, 0, sizeof(*creds));
}

int kube_blob_read_file(const char *path, size_t max, struct kube_blob *ret)
{
	struct kube_blob b = { 0 };
	size_t cap = 4096;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	b.data = malloc(cap);
	if (!b.data) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (b.len + 1 >= cap) {
			char *bigger;

			if (cap > max) {
				r = -EFBIG;
				break;
			}
			cap *= 2;
			bigger = realloc(b.data, cap);
			if (!bigger) {
				r = -ENOMEM;
				break;
			}
			b.data = bigger;
		}
		n = read(fd, b.data + b.len, cap - b.len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	close(fd);
	if (r == 0 && b.len > max)
		r = -EFBIG;
	if (r < 0) {
		kube_blob_clear(&b);
		return r;
	}
	b.data[b.len] = '\0';
	*ret = b;
	return 0;
}

int kube_base64_decode(const char *text, struct kube_blob *ret)
{
	size_t len = strlen(text), padding = 0;
	unsigned char *out;
	int n;

	if (len == 0 || len % 4 != 0 || len > INT32_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (c == '=') {
			/* Padding only at the end, at most two characters. */
			if (i < len - 2)
				return -EINVAL;
			padding++;
			continue;
		}
		if (padding > 0)
			return -EINVAL;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
		      c == '/'))
			return -EINVAL;
	}

	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	/* EVP_DecodeBlock counts padding as zero bytes; the check above makes the subtraction exact. */
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	if (n < 0 || (size_t)n < padding) {
		free(out);
		return -EINVAL;
	}
	ret->len = (size_t)n - padding;
	out[ret->len] = '\0';
	ret->data = (char *)out;
	return 0;
}

/* The document being read and where errors go. */
struct kubeconfig_doc {
	yaml_document_t doc;
	const char *name;
	const char *dir;
	char *err;
	size_t err_len;
};

static int kc_error(struct kubeconfig_doc *kc, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int kc_error(struct kubeconfig_doc *kc, const char *field, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(kc->err, kc->err_len, "kubeconfig %s: %s: %s", kc->name, field, detail);
	return -EINVAL;
}

static yaml_node_t *map_get(struct kubeconfig_doc *kc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&kc->doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&kc->doc, p->value);
	}
	return NULL;
}

/* Returns the scalar value of map[key], NULL when absent; a non-scalar value is an error. */
static int map_string(struct kubeconfig_doc *kc, yaml_node_t *map, const char *key, const char *field,
		      const char **ret)
{
	yaml_node_t *v = map_get(kc, map, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (v->type != YAML_SCALAR_NODE)
		return kc_error(kc, field, "expected a string");
	*ret = (const char *)v->data.scalar.value;
	if ((*ret)[0] == '\0')
		*ret = NULL;
	return 0;
}

/*
 * Finds the entry named name in a list such as clusters, and returns its
 * inner mapping (entry.cluster); index is its position, for messages.
 */
static int find_named(struct kubeconfig_doc *kc, yaml_node_t *root, const char *list, const char *inner,
		      const char *name, const char *referrer, yaml_node_t **ret, size_t *index)
{
	yaml_node_t *seq = map_get(kc, root, list);
	size_t i = 0;

	if (seq && seq->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
		     it++, i++) {
			yaml_node_t *entry = yaml_document_get_node(&kc->doc, *it);
			yaml_node_t *n = map_get(kc, entry, "name");

			if (!n || n->type != YAML_SCALAR_NODE || strcmp((const char *)n->data.scalar.value, name) != 0)
				continue;
			*ret = map_get(kc, entry, inner);
			*index = i;
			if (!*ret || (*ret)->type != YAML_MAPPING_NODE) {
				char field[96];

				snprintf(field, sizeof(field), "%s[%zu].%s", list, i, inner);
				return kc_error(kc, field, "missing or not a mapping");
			}
			return 0;
		}
	}
	return kc_error(kc, referrer, "no entry named \"%s\" in %s; add it or fix the reference", name, list);
}

static int resolve_path(struct kubeconfig_doc *kc, const char *path, const char *field, char *dst, size_t len)
{
	int n;

	if (path[0] == '/')
		n = snprintf(dst, len, "%s", path);
	else
		n = snprintf(dst, len, "%s/%s", kc->dir, path);
	if (n < 0 || (size_t)n >= len)
		return kc_error(kc, field, "path is longer than %zu characters", len - 1);
	return 0;
}

/* Reads path (a file field) or decodes data (its -data twin) into blob, checking the file is readable. */
static int load_file_or_data(struct kubeconfig_doc *kc, yaml_node_t *map, const char *prefix, const char *key,
			     char *file_dst, size_t file_len, struct kube_blob *blob)
{
	char field[160], data_key[64];
	const char *path = NULL, *data = NULL;
	struct kube_blob check = { 0 };
	int r;

	snprintf(data_key, sizeof(data_key), "%s-data", key);
	snprintf(field, sizeof(field), "%s.%s", prefix, data_key);
	r = map_string(kc, map, data_key, field, &data);
	if (r < 0)
		return r;
	if (data) {
		r = kube_base64_decode(data, blob);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return kc_error(kc, field, "invalid base64; expected the PEM file encoded with base64 -w0");
		return 0;
	}

	snprintf(field, sizeof(field), "%s.%s", prefix, key);
	r = map_string(kc, map, key, field, &path);
	if (r < 0 || !path)
		return r;
	r = resolve_path(kc, path, field, file_dst, file_len);
	if (r < 0)
		return r;
	r = kube_blob_read_file(file_dst, CREDENTIAL_FILE_MAX, &check);
	if (r < 0)
		return kc_error(kc, field, "cannot read %s: %s; fix the path or the file's permissions", file_dst,
				strerror(-r));
	kube_blob_clear(&check);
	return 0;
}

static int check_server(struct kubeconfig_doc *kc, const char *server, const char *field,
			struct kube_credentials *creds)
{
	const char *host;
	size_t len;

	if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
		return kc_error(kc, field, "invalid server \"%.100s\": expected a URL such as https://10.0.0.1:6443",
				server);
	len = strlen(server);
	if (len >= sizeof(creds->server))
		return kc_error(kc, field, "server URL is longer than %zu characters", sizeof(creds->server) - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)server[i] <= ' ' || server[i] == '?' || server[i] == '#')
			return kc_error(kc, field, "invalid server \"%.100s\": expected a URL without spaces, query or fragment",
					server);
	host = strstr(server, "://") + 3;
	if (*host == '\0' || *host == '/')
		return kc_error(kc, field, "invalid server \"%.100s\": the host is missing", server);
	strcpy(creds->server, server);
	while (len > 0 && creds->server[len - 1] == '/')
		creds->server[--len] = '\0';
	return 0;
}

static int read_cluster(struct kubeconfig_doc *kc, yaml_node_t *cluster, size_t index,
			struct kube_credentials *creds)
{
	char prefix[64], field[128];
	const char *server = NULL, *insecure = NULL;
	int r;

	snprintf(prefix, sizeof(prefix), "clusters[%zu].cluster", index);
	snprintf(field, sizeof(field), "%s.server", prefix);
	r = map_string(kc, cluster, "server", field, &server);
	if (r < 0)
		return r;
	if (!server)
		return kc_error(kc, field, "missing; set the API server URL, such as https://10.0.0.1:6443");
	r = check_server(kc, server, field, creds);
	if (r < 0)
		return r;

	snprintf(field, sizeof(field), "%s.insecure-skip-tls-verify", prefix);
	r = map_string(kc, cluster, "insecure-skip-tls-verify", field, &insecure);
	if (r < 0)
		return r;
	if (insecure && strcmp(insecure, "true") == 0)
		creds->insecure_skip_tls_verify = true;
	else if (insecure && strcmp(insecure, "false") != 0)
		return kc_error(kc, field, "invalid value \"%s\": expected true or false", insecure);

	return load_file_or_data(kc, cluster, prefix, "certificate-authority", creds->ca_file,
				 sizeof(creds->ca_file), &creds->ca_data);
}

static int read_user(struct kubeconfig_doc *kc, yaml_node_t *user, size_t index, struct kube_credentials *creds)
{
	char prefix[64], field[128];
	const char *token = NULL, *token_file = NULL;
	struct kube_blob check = { 0 };
	int r;

	snprintf(prefix, sizeof(prefix), "users[%zu].user", index);
	snprintf(field, sizeof(field), "%s.token", prefix);
	r = map_string(kc, user, "token", field, &token);
	if (r < 0)
		return r;
	snprintf(field, sizeof(field), "%s.tokenFile", prefix);
	r = map_string(kc, user, "tokenFile", field, &token_file);
	if (r < 0)
		return r;
	if (token) {
		creds->token = strdup(token);
		if (!creds->token)
			return -ENOMEM;
	} else if (token_file) {
		r = resolve_path(kc, token_file, field, creds->token_file, sizeof(creds->token_file));
		if (r < 0)
			return r;
		r = kube_blob_read_file(creds->token_file, CREDENTIAL_FILE_MAX, &check);
		if (r < 0)
			return kc_error(kc, field, "cannot read %s: %s; fix the path or the file's permissions",
					creds->token_file, strerror(-r));
		kube_blob_clear(&check);
	}

	r = load_file_or_data(kc, user, prefix, "client-certificate", creds->client_cert_file,
			      sizeof(creds->client_cert_file), &creds->client_cert_data);
	if (r == 0)
		r = load_file_or_data(kc, user, prefix, "client-key", creds->client_key_file,
				      sizeof(creds->client_key_file), &creds->client_key_data);
	if (r < 0)
		return r;

	bool has_cert = creds->client_cert_file[0] || creds->client_cert_data.data;
	bool has_key = creds->client_key_file[0] || creds->client_key_data.data;

	if (has_cert != has_key)
		return kc_error(kc, prefix, "%s is set without %s; set both or neither",
				has_cert ? "client-certificate" : "client-key",
				has_cert ? "client-key" : "client-certificate");
	if (map_get(kc, user, "exec") || map_get(kc, user, "auth-provider"))
		if (!creds->token && !creds->token_file[0] && !has_cert)
			return kc_error(kc, prefix,
					"exec and auth-provider plugins are not supported; use a token, tokenFile or client certificate");
	return 0;
}

static int read_kubeconfig(struct kubeconfig_doc *kc, struct kube_credentials *creds)
{
	yaml_node_t *root = yaml_document_get_root_node(&kc->doc), *context, *cluster, *user;
	const char *current = NULL, *cluster_name = NULL, *user_name = NULL;
	char field[96];
	size_t index;
	int r;

	if (!root || root->type != YAML_MAPPING_NODE)
		return kc_error(kc, "(document)", "expected a mapping with clusters, contexts and users");
	r = map_string(kc, root, "current-context", "current-context", &current);
	if (r < 0)
		return r;
	if (!current)
		return kc_error(kc, "current-context", "missing; set it with kubectl config use-context NAME");

	r = find_named(kc, root, "contexts", "context", current, "current-context", &context, &index);
	if (r < 0)
		return r;
	snprintf(field, sizeof(field), "contexts[%zu].context.cluster", index);
	r = map_string(kc, context, "cluster", field, &cluster_name);
	if (r == 0 && !cluster_name)
		r = kc_error(kc, field, "missing; name an entry of clusters");
	if (r < 0)
		return r;
	snprintf(field, sizeof(field), "contexts[%zu].context.user", index);
	r = map_string(kc, context, "user", field, &user_name);
	if (r < 0)
		return r;

	r = find_named(kc, root, "clusters", "cluster", cluster_name, field, &cluster, &index);
	if (r == 0)
		r = read_cluster(kc, cluster, index, creds);
	if (r < 0 || !user_name)
		return r;
	r = find_named(kc, root, "users", "user", user_name, field, &user, &index);
	if (r == 0)
		r = read_user(kc, user, index, creds);
	return r;
}

int kube_credentials_from_kubeconfig(struct kube_credentials *creds, const char *name, const char *dir,
				     const char *text, size_t len, char *err, size_t err_len)
{
	struct kubeconfig_doc kc = { .name = name, .dir = dir, .err = err, .err_len = err_len };
	int r;

	memset(creds, 0, sizeof(*creds));
	snprintf(creds->source, sizeof(creds->source), "kubeconfig %s", name);
	r = yaml_doc_load(&kc.doc, text, len, "kubeconfig ", name, err, err_len);
	if (r < 0)
		return r;

	r = read_kubeconfig(&kc, creds);
	yaml_document_delete(&kc.doc);
	if (r < 0) {
		kube_credentials_clear(creds);
		return r;
	}
	return 1;
}

static int from_kubeconfig_file(struct kube_credentials *creds, const char *path, char *err, size_t err_len)
{
	struct kube_blob text = { 0 };
	char dir[PATH_MAX];
	int r;

	r = kube_blob_read_file(path, KUBECONFIG_SIZE_MAX, &text);
	if (r < 0) {
		snprintf(err, err_len, "kubeconfig %s: cannot read: %s; fix --kubeconfig or kubernetes.kubeconfig",
			 path, strerror(-r));
		return r;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	r = kube_credentials_from_kubeconfig(creds, path, dirname(dir), text.data, text.len, err, err_len);
	kube_blob_clear(&text);
	return r;
}

static int from_service_account(struct kube_credentials *creds, const char *host, char *err, size_t err_len)
{
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv(KUBE_SERVICEACCOUNT_DIR_ENV);
	struct kube_blob check = { 0 };
	int r, n;

	memset(creds, 0, sizeof(*creds));
	if (!dir || !dir[0])
		dir = KUBE_SERVICEACCOUNT_DIR;
	snprintf(creds->source, sizeof(creds->source), "in-cluster");
	if (!port || !port[0] || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5) {
		snprintf(err, err_len, "in-cluster: KUBERNETES_SERVICE_PORT: invalid value \"%.16s\": expected a port number",
			 port ? port : "");
		return -EINVAL;
	}
	if (strspn(host, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:-") != strlen(host)) {
		snprintf(err, err_len, "in-cluster: KUBERNETES_SERVICE_HOST: invalid value \"%.64s\"", host);
		return -EINVAL;
	}
	/* An IPv6 address needs brackets in a URL. */
	if (strchr(host, ':'))
		n = snprintf(creds->server, sizeof(creds->server), "https://[%s]:%s", host, port);
	else
		n = snprintf(creds->server, sizeof(creds->server), "https://%s:%s", host, port);
	if (n < 0 || (size_t)n >= sizeof(creds->server)) {
		snprintf(err, err_len, "in-cluster: KUBERNETES_SERVICE_HOST: invalid value \"%.64s\"", host);
		return -EINVAL;
	}

	snprintf(creds->token_file, sizeof(creds->token_file), "%s/token", dir);
	snprintf(creds->ca_file, sizeof(creds->ca_file), "%s/ca.crt", dir);
	r = kube_blob_read_file(creds->token_file, CREDENTIAL_FILE_MAX, &check);
	if (r < 0) {
		snprintf(err, err_len, "in-cluster: cannot read the service account token %s: %s; "
			 "mount the service account (automountServiceAccountToken) or pass --kubeconfig",
			 creds->token_file, strerror(-r));
		return r;
	}
	kube_blob_clear(&check);
	r = kube_blob_read_file(creds->ca_file, CREDENTIAL_FILE_MAX, &check);
	if (r < 0) {
		snprintf(err, err_len, "in-cluster: cannot read the cluster CA %s: %s", creds->ca_file, strerror(-r));
		return r;
	}
	kube_blob_clear(&check);
	return 1;
}

/* POD_NAMESPACE, then the service account's namespace file, then nodecond. */
static void resolve_lease_namespace(struct kube_credentials *creds)
{
	const char *env = getenv("POD_NAMESPACE");
	const char *dir = getenv(KUBE_SERVICEACCOUNT_DIR_ENV);
	struct kube_blob file = { 0 };
	char path[PATH_MAX];

	snprintf(creds->lease_namespace, sizeof(creds->lease_namespace), "%s", KUBE_DEFAULT_NAMESPACE);
	if (env && env[0] && strlen(env) < sizeof(creds->lease_namespace)) {
		snprintf(creds->lease_namespace, sizeof(creds->lease_namespace), "%s", env);
		return;
	}
	snprintf(path, sizeof(path), "%s/namespace", dir && dir[0] ? dir : KUBE_SERVICEACCOUNT_DIR);
	if (kube_blob_read_file(path, 256, &file) < 0)
		return;
	file.data[strcspn(file.data, " \t\r\n")] = '\0';
	if (file.data[0] && strlen(file.data) < sizeof(creds->lease_namespace))
		snprintf(creds->lease_namespace, sizeof(creds->lease_namespace), "%s", file.data);
	kube_blob_clear(&file);
}

int kube_credentials_resolve(struct kube_credentials *creds, const char *kubeconfig_path, char *err,
			     size_t err_len)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	int r;

	if (kubeconfig_path && kubeconfig_path[0])
		r = from_kubeconfig_file(creds, kubeconfig_path, err, err_len);
	else if (host && host[0])
		r = from_service_account(creds, host, err, err_len);
	else
		return 0;
	if (r <= 0) {
		kube_credentials_clear(creds);
		return r;
	}
	resolve_lease_namespace(creds);
	return 1;
}
