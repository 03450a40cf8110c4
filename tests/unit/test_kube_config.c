// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/kube_backoff.h"
#include "daemon/kube_config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A kubeconfig whose fields the cases fill in; /dev/null is a readable file for path fields. */
#define KUBECONFIG(current, cluster, user)                                                        \
	"apiVersion: v1\nkind: Config\n" current "clusters:\n- name: c\n  cluster:\n" cluster        \
	"contexts:\n- name: t\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user:\n" user

struct kubeconfig_case {
	const char *name;
	const char *text;
	int ret;
	const char *error;          /* a substring of the message; NULL for success */
	const char *server;
	bool insecure;
};

static const struct kubeconfig_case kubeconfig_cases[] = {
	{ "token and CA file",
	  KUBECONFIG("current-context: t\n", "    server: https://10.0.0.1:6443/\n    certificate-authority: /dev/null\n",
		     "    token: abc\n"),
	  1, NULL, "https://10.0.0.1:6443", false },
	{ "insecure skip verify",
	  KUBECONFIG("current-context: t\n", "    server: https://h:6443\n    insecure-skip-tls-verify: true\n",
		     "    token: abc\n"),
	  1, NULL, "https://h:6443", true },
	{ "inline CA data",
	  KUBECONFIG("current-context: t\n", "    server: https://h\n    certificate-authority-data: aGVsbG8=\n",
		     "    token: abc\n"),
	  1, NULL, "https://h", false },
	{ "no current context",
	  KUBECONFIG("", "    server: https://h\n", "    token: abc\n"),
	  -22, "current-context: missing", NULL, false },
	{ "unknown current context",
	  KUBECONFIG("current-context: other\n", "    server: https://h\n", "    token: abc\n"),
	  -22, "no entry named \"other\" in contexts", NULL, false },
	{ "server missing",
	  KUBECONFIG("current-context: t\n", "    insecure-skip-tls-verify: false\n", "    token: abc\n"),
	  -22, "clusters[0].cluster.server: missing", NULL, false },
	{ "server not a URL",
	  KUBECONFIG("current-context: t\n", "    server: 10.0.0.1:6443\n", "    token: abc\n"),
	  -22, "clusters[0].cluster.server: invalid server", NULL, false },
	{ "server without host",
	  KUBECONFIG("current-context: t\n", "    server: https:///x\n", "    token: abc\n"),
	  -22, "the host is missing", NULL, false },
	{ "bad base64 CA",
	  KUBECONFIG("current-context: t\n", "    server: https://h\n    certificate-authority-data: '!!!'\n",
		     "    token: abc\n"),
	  -22, "clusters[0].cluster.certificate-authority-data: invalid base64", NULL, false },
	{ "unreadable CA file",
	  KUBECONFIG("current-context: t\n", "    server: https://h\n    certificate-authority: /nonexistent/ca.crt\n",
		     "    token: abc\n"),
	  -22, "clusters[0].cluster.certificate-authority: cannot read /nonexistent/ca.crt", NULL, false },
	{ "missing token file",
	  KUBECONFIG("current-context: t\n", "    server: https://h\n", "    tokenFile: /nonexistent/token\n"),
	  -22, "users[0].user.tokenFile: cannot read /nonexistent/token", NULL, false },
	{ "certificate without key",
	  KUBECONFIG("current-context: t\n", "    server: https://h\n", "    client-certificate-data: aGVsbG8=\n"),
	  -22, "client-certificate is set without client-key", NULL, false },
	{ "bad insecure value",
	  KUBECONFIG("current-context: t\n", "    server: https://h\n    insecure-skip-tls-verify: maybe\n",
		     "    token: abc\n"),
	  -22, "expected true or false", NULL, false },
	{ "invalid YAML", "clusters: [", -22, "invalid YAML", NULL, false },
};

static void kube_config_kubeconfig_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(kubeconfig_cases); i++) {
		const struct kubeconfig_case *c = &kubeconfig_cases[i];
		struct kube_credentials creds;
		char err[512] = "";
		int r;

		r = kube_credentials_from_kubeconfig(&creds, "test.conf", "/tmp", c->text, strlen(c->text), err,
						     sizeof(err));
		if (r != c->ret || (c->error && !strstr(err, c->error)))
			fail_msg("%s: returned %d (expected %d), message \"%s\"", c->name, r, c->ret, err);
		if (c->error) {
			assert_non_null(strstr(err, "kubeconfig test.conf"));
			continue;
		}
		assert_string_equal(creds.server, c->server);
		assert_int_equal(creds.insecure_skip_tls_verify, c->insecure);
		kube_credentials_clear(&creds);
	}
}

static void kube_config_inline_data_decoded(void **state)
{
	const char *text = KUBECONFIG("current-context: t\n", "    server: https://h\n",
				      "    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n");
	struct kube_credentials creds;
	char err[512];

	assert_int_equal(kube_credentials_from_kubeconfig(&creds, "k", "/tmp", text, strlen(text), err, sizeof(err)), 1);
	assert_int_equal(creds.client_cert_data.len, 4);
	assert_memory_equal(creds.client_cert_data.data, "cert", 4);
	assert_int_equal(creds.client_key_data.len, 3);
	assert_memory_equal(creds.client_key_data.data, "key", 3);
	assert_null(creds.token);
	kube_credentials_clear(&creds);
}

struct base64_case {
	const char *text;
	int ret;
	const char *decoded;
};

static const struct base64_case base64_cases[] = {
	{ "aGVsbG8=", 0, "hello" }, { "aGk=", 0, "hi" },    { "YWJj", 0, "abc" },
	{ "aGVsbG8", -22, NULL },   { "aG=k", -22, NULL },  { "", -22, NULL },
	{ "a b=", -22, NULL },      { "====", -22, NULL },
};

static void kube_config_base64_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(base64_cases); i++) {
		const struct base64_case *c = &base64_cases[i];
		struct kube_blob b = { 0 };
		int r = kube_base64_decode(c->text, &b);

		if (r != c->ret)
			fail_msg("\"%s\": returned %d, expected %d", c->text, r, c->ret);
		if (c->decoded) {
			assert_int_equal(b.len, strlen(c->decoded));
			assert_string_equal(b.data, c->decoded);
		}
		kube_blob_clear(&b);
	}
}

static void kube_config_local_mode_without_api(void **state)
{
	struct kube_credentials creds;
	char err[256];

	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kube_credentials_resolve(&creds, "", err, sizeof(err)), 0);
}

static void kube_config_in_cluster_missing_token(void **state)
{
	struct kube_credentials creds;
	char err[512] = "";

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv(KUBE_SERVICEACCOUNT_DIR_ENV, "/nonexistent/sa", 1);
	assert_int_equal(kube_credentials_resolve(&creds, NULL, err, sizeof(err)), -2);
	assert_non_null(strstr(err, "/nonexistent/sa/token"));
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv(KUBE_SERVICEACCOUNT_DIR_ENV);
}

static void kube_backoff_doubles_with_jitter(void **state)
{
	struct kube_backoff b = { 0 };
	const int64_t bases[] = { 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };

	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		int64_t low = kube_backoff_next(&(struct kube_backoff){ .failures = (unsigned)i }, -1, 0);
		int64_t high = kube_backoff_next(&(struct kube_backoff){ .failures = (unsigned)i }, -1, UINT64_MAX);

		assert_int_equal(low, bases[i] / 2);
		assert_true(high < bases[i]);
		assert_true(high >= bases[i] / 2);
	}
	kube_backoff_next(&b, -1, 0);
	kube_backoff_next(&b, -1, 0);
	assert_int_equal(b.failures, 2);
	kube_backoff_reset(&b);
	assert_int_equal(kube_backoff_next(&b, -1, 0), 250);
}

static void kube_backoff_honours_retry_after(void **state)
{
	struct kube_backoff b = { 0 };

	assert_int_equal(kube_backoff_next(&b, 5000, 0), 5000);
	/* A shorter Retry-After never shortens the backoff. */
	assert_int_equal(kube_backoff_next(&(struct kube_backoff){ .failures = 6 }, 1000, 0), 15000);
	assert_int_equal(kube_backoff_next(&b, 24LL * 3600 * 1000, 0), KUBE_RETRY_AFTER_MAX_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kube_config_kubeconfig_table),
		cmocka_unit_test(kube_config_inline_data_decoded),
		cmocka_unit_test(kube_config_base64_table),
		cmocka_unit_test(kube_config_local_mode_without_api),
		cmocka_unit_test(kube_config_in_cluster_missing_token),
		cmocka_unit_test(kube_backoff_doubles_with_jitter),
		cmocka_unit_test(kube_backoff_honours_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
