/* SPDX-License-Identifier: Apache-2.0 */
/* Toleration checks in JSON: pods, specs and lists in, verdicts out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/pod_json.h"
#include "daemon/timefmt.h"

/* 2026-12-04T20:00:00Z */
#define NOW_MS 1796414400000LL

static cJSON *check(const char *body, const struct toleration_check_options *opts, const struct taint *taints,
		    size_t n, char *err, size_t err_len, int *ret)
{
	cJSON *verdict = NULL;

	*ret = pod_json_check(body, strlen(body), opts, taints, n, NOW_MS, &verdict, err, err_len);
	return verdict;
}

static const cJSON *verdict_at(const cJSON *verdict, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(verdict, "taints"), i);
}

static void request_shapes_accepted(void **state)
{
	static const char *const bodies[] = {
		("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"containers\":[],"
		 "\"tolerations\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}}"),
		"{\"containers\":[],\"tolerations\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}",
		"[{\"key\":\"a\",\"operator\":\"Exists\"}]",
		"{\"tolerations\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}",
	};
	struct toleration_request req;
	char err[POD_JSON_ERROR_MAX];

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		cJSON *root = cJSON_Parse(bodies[i]);

		assert_non_null(root);
		if (pod_json_parse_request(root, &req, err, sizeof(err)) != 0)
			fail_msg("body %zu rejected: %s", i, err);
		assert_int_equal(req.n_tolerations, 1);
		assert_string_equal(req.tolerations[0].key, "a");
		assert_string_equal(req.tolerations[0].operator, "Exists");
		cJSON_Delete(root);
	}
}

/* One row per invalid body: the text and the field path the error must name. */
static const struct invalid_case {
	const char *body;
	const char *expect;
} invalid_cases[] = {
	{ "{", "invalid JSON" },
	{ "42", "expected a Pod" },
	{ "{\"spec\":{\"tolerations\":{}}}", "spec.tolerations: expected a list" },
	{ "{\"spec\":{\"tolerations\":[3]}}", "spec.tolerations[0]: expected an object" },
	{ "{\"spec\":{\"tolerations\":[{\"key\":7}]}}", "spec.tolerations[0].key: expected a string" },
	{ "{\"spec\":{\"tolerations\":[{\"key\":\"a\",\"colour\":\"red\"}]}}", "spec.tolerations[0].colour: unknown field" },
	{ "{\"spec\":{\"tolerations\":[{\"key\":\"a\"},{\"operator\":\"Equal\"}]}}", "spec.tolerations[1].operator" },
	{ "[{\"key\":\"a\",\"tolerationSeconds\":1.5,\"effect\":\"NoExecute\"}]", "tolerations[0].tolerationSeconds" },
	{ "[{\"key\":\"a\",\"operator\":\"Exists\",\"value\":\"x\"}]", "tolerations[0]" },
	{ "{\"spec\":{\"hostNetwork\":\"yes\"}}", "spec.hostNetwork: expected true or false" },
	{ "{\"tolerations\":[],\"taints\":[{\"effect\":\"NoSchedule\"}]}", "taints[0].key: missing" },
	{ "{\"tolerations\":[],\"taints\":[{\"key\":\"a\"}]}", "taints[0].effect: missing" },
	{ "{\"tolerations\":[],\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\",\"timeAdded\":\"now\"}]}",
	  "taints[0].timeAdded" },
	{ "{\"tolerations\":[],\"taints\":[{\"key\":\"a\",\"effect\":\"Sometimes\"}]}", "taints[0]" },
	{ "{\"tolerations\":[],\"taints\":[{\"key\":\"a b\",\"effect\":\"NoSchedule\"}]}", "taints[0].key" },
};

static void invalid_requests_name_field(void **state)
{
	struct toleration_check_options opts = { 0 };

	for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		char err[POD_JSON_ERROR_MAX] = "";
		cJSON *verdict;
		int r;

		verdict = check(invalid_cases[i].body, &opts, NULL, 0, err, sizeof(err), &r);
		assert_null(verdict);
		if (r != -EINVAL)
			fail_msg("body %s: expected -EINVAL, got %d", invalid_cases[i].body, r);
		if (!strstr(err, invalid_cases[i].expect))
			fail_msg("body %s: error \"%s\" does not contain \"%s\"", invalid_cases[i].body, err,
				 invalid_cases[i].expect);
	}
}

static void verdict_against_node_taints(void **state)
{
	struct toleration_check_options opts = { 0 };
	struct taint taints[2];
	char err[POD_JSON_ERROR_MAX];
	const cJSON *v;
	cJSON *verdict;
	int r;

	assert_int_equal(taint_init(&taints[0], "nodecond.io/memory-pressure", NULL, "NoSchedule", 0, err, sizeof(err)), 0);
	assert_int_equal(taint_init(&taints[1], "node.kubernetes.io/not-ready", NULL, "NoExecute", NOW_MS - 60000, err,
				    sizeof(err)),
			 0);
	verdict = check("[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
			"\"tolerationSeconds\":300}]",
			&opts, taints, 2, err, sizeof(err), &r);
	assert_int_equal(r, 0);
	assert_non_null(verdict);

	v = verdict_at(verdict, 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "tolerated")));
	assert_null(cJSON_GetObjectItemCaseSensitive(v, "eviction"));
	v = verdict_at(verdict, 1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "tolerated")));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(v, "tolerationIndex")->valueint, 0);
	/* Added a minute ago, tolerated for 300 s: evicted at 20:04:00. */
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v, "eviction"), "time")
				    ->valuestring,
			    "2026-12-04T20:04:00Z");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "schedulable")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(verdict, "eviction"), "when")
				    ->valuestring,
			    "At");
	cJSON_Delete(verdict);
}

static void request_taints_override_node(void **state)
{
	struct toleration_check_options opts = { 0 };
	struct taint node_taint;
	char err[POD_JSON_ERROR_MAX];
	cJSON *verdict;
	int r;

	assert_int_equal(taint_init(&node_taint, "from-node", NULL, "NoSchedule", 0, err, sizeof(err)), 0);
	verdict = check("{\"tolerations\":[],\"taints\":[{\"key\":\"given\",\"effect\":\"NoExecute\"}]}", &opts,
			&node_taint, 1, err, sizeof(err), &r);
	assert_int_equal(r, 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(verdict, "taints")), 1);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(verdict_at(verdict, 0), "taint"),
							     "key")
				    ->valuestring,
			    "given");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(verdict, "eviction"), "when")
				    ->valuestring,
			    "Immediately");
	cJSON_Delete(verdict);
}

static void defaults_added_on_request(void **state)
{
	struct toleration_check_options admission = { .admission_defaults = true };
	struct toleration_check_options daemonset = { .daemonset = true, .admission_defaults = true };
	struct taint taints[2];
	char err[POD_JSON_ERROR_MAX];
	cJSON *verdict;
	int r;

	assert_int_equal(taint_init(&taints[0], "node.kubernetes.io/unreachable", NULL, "NoExecute", NOW_MS, err,
				    sizeof(err)),
			 0);
	assert_int_equal(taint_init(&taints[1], "node.kubernetes.io/memory-pressure", NULL, "NoSchedule", 0, err,
				    sizeof(err)),
			 0);

	/* An ordinary pod: the admission default tolerates unreachable for 300 s. */
	verdict = check("[]", &admission, taints, 2, err, sizeof(err), &r);
	assert_int_equal(r, 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(verdict, "eviction"), "time")
				    ->valuestring,
			    "2026-12-04T20:05:00Z");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "schedulable")));
	cJSON_Delete(verdict);

	/* A DaemonSet pod: never evicted, and memory pressure is tolerated. */
	verdict = check("[]", &daemonset, taints, 2, err, sizeof(err), &r);
	assert_int_equal(r, 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(verdict, "eviction"), "when")
				    ->valuestring,
			    "Never");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "schedulable")));
	cJSON_Delete(verdict);
}

static void taints_input_shapes(void **state)
{
	static const char *const bodies[] = {
		"[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]",
		"{\"kind\":\"Node\",\"spec\":{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]}}",
		"{\"nodeName\":\"n\",\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]}",
	};
	struct taint taints[4];
	char err[POD_JSON_ERROR_MAX];
	size_t n;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		cJSON *root = cJSON_Parse(bodies[i]);

		if (pod_json_parse_taints(root, taints, 4, &n, err, sizeof(err)) != 0)
			fail_msg("body %zu rejected: %s", i, err);
		assert_int_equal(n, 1);
		assert_string_equal(taints[0].key, "a");
		cJSON_Delete(root);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_shapes_accepted),
		cmocka_unit_test(invalid_requests_name_field),
		cmocka_unit_test(verdict_against_node_taints),
		cmocka_unit_test(request_taints_override_node),
		cmocka_unit_test(defaults_added_on_request),
		cmocka_unit_test(taints_input_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
