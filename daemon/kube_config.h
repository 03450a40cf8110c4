/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials for the Kubernetes API server, resolved as client-go does:
 * a kubeconfig file (its current context), then the in-cluster service
 * account, otherwise none (local mode).
 */
#ifndef NODECOND_DAEMON_KUBE_CONFIG_H
#define NODECOND_DAEMON_KUBE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* The service account directory of a pod; NODECOND_SERVICEACCOUNT_DIR overrides it. */
#define KUBE_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_SERVICEACCOUNT_DIR_ENV "NODECOND_SERVICEACCOUNT_DIR"

/* The Lease namespace when neither POD_NAMESPACE nor the service account names one. */
#define KUBE_DEFAULT_NAMESPACE "nodecond"

#define KUBE_URL_MAX 512
#define KUBE_NAMESPACE_MAX 64

/* Bytes read from a file or decoded from base64; data is NUL-terminated. */
struct kube_blob {
	char *data;
	size_t len;
};

struct kube_credentials {
	char source[PATH_MAX + 32];     /* "kubeconfig /etc/x.conf" or "in-cluster", for messages */
	char server[KUBE_URL_MAX];      /* scheme://host:port[/prefix], no trailing slash */
	bool insecure_skip_tls_verify;

	/* At most one of token and token_file; token_file is re-read when it changes. */
	char *token;
	char token_file[PATH_MAX];

	char ca_file[PATH_MAX];
	struct kube_blob ca_data;
	char client_cert_file[PATH_MAX];
	struct kube_blob client_cert_data;
	char client_key_file[PATH_MAX];
	struct kube_blob client_key_data;

	/* The namespace of the agent's Lease. */
	char lease_namespace[KUBE_NAMESPACE_MAX];
};

/*
 * Resolves credentials: kubeconfig_path when it is non-empty, otherwise the
 * in-cluster service account when KUBERNETES_SERVICE_HOST is set. Returns
 * 1 with creds filled, 0 when no API server is configured (local mode), or
 * -errno with err naming the file, the field and the fix. Every file the
 * credentials name is read once here, so a missing file fails at start.
 */
int kube_credentials_resolve(struct kube_credentials *creds, const char *kubeconfig_path, char *err,
			     size_t err_len);

/* Parses a kubeconfig given as text; dir resolves relative paths. Same returns as above, never 0. */
int kube_credentials_from_kubeconfig(struct kube_credentials *creds, const char *name, const char *dir,
				     const char *text, size_t len, char *err, size_t err_len);

/* Frees what the credentials allocated; the struct may be resolved again. */
void kube_credentials_clear(struct kube_credentials *creds);

/* Decodes standard base64 (padding required, no whitespace). Returns 0 or -EINVAL. */
int kube_base64_decode(const char *text, struct kube_blob *ret);

/* Reads a whole file of at most max bytes. Returns 0 or -errno (-EFBIG when larger). */
int kube_blob_read_file(const char *path, size_t max, struct kube_blob *ret);

void kube_blob_clear(struct kube_blob *b);

#endif
