// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/kube_json.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

static struct taint_profile profile;

static int setup(void **state)
{
	taint_profile_init(&profile, PROFILE_COMPANION);
	return 0;
}

static void kube_json_status_patch_wire_format(void **state)
{
	const struct condition conditions[] = {
		{ .type = "KernelMemoryPressure", .status = CONDITION_STATUS_FALSE, .reason = "KernelHasSufficientMemory",
		  .message = "no threshold met", .last_heartbeat_ms = T0 + 61500, .last_transition_ms = T0 },
		{ .type = "KernelReady", .status = CONDITION_STATUS_TRUE, .reason = "KernelReady", .message = "ok \"quoted\"",
		  .last_heartbeat_ms = T0 + 61500, .last_transition_ms = T0 + 1000 },
	};
	char *body = kube_json_status_patch(conditions, 2);

	assert_string_equal(body,
			    "{\"status\":{\"conditions\":["
			    "{\"type\":\"KernelMemoryPressure\",\"status\":\"False\","
			    "\"lastHeartbeatTime\":\"2026-01-01T00:01:01Z\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\","
			    "\"reason\":\"KernelHasSufficientMemory\",\"message\":\"no threshold met\"},"
			    "{\"type\":\"KernelReady\",\"status\":\"True\","
			    "\"lastHeartbeatTime\":\"2026-01-01T00:01:01Z\",\"lastTransitionTime\":\"2026-01-01T00:00:01Z\","
			    "\"reason\":\"KernelReady\",\"message\":\"ok \\\"quoted\\\"\"}]}}");
	free(body);
}

static void kube_json_status_delete_directive(void **state)
{
	const char *types[] = { "KernelPIDPressure" };
	char *body = kube_json_status_delete(types, 1);

	assert_string_equal(body, "{\"status\":{\"conditions\":[{\"$patch\":\"delete\",\"type\":\"KernelPIDPressure\"}]}}");
	free(body);
}

static const char *node_text =
	"{\"metadata\":{\"name\":\"n1\",\"uid\":\"u1\",\"resourceVersion\":\"42\"},"
	"\"spec\":{\"taints\":[{\"key\":\"example.com/a\",\"value\":\"v\",\"effect\":\"NoSchedule\",\"extra\":1},"
	"{\"key\":\"nodecond.io/memory-pressure\",\"effect\":\"NoSchedule\"}]},"
	"\"status\":{\"conditions\":["
	"{\"type\":\"Ready\",\"status\":\"True\"},"
	"{\"type\":\"KernelReady\",\"status\":\"False\",\"reason\":\"RuntimeUnhealthy\",\"message\":\"m\","
	"\"lastHeartbeatTime\":\"2026-01-01T00:00:05Z\",\"lastTransitionTime\":\"2026-01-01T00:00:01Z\"},"
	"{\"type\":\"KernelReady\",\"status\":\"True\"},"
	"{\"type\":\"KernelPIDPressure\",\"status\":\"Maybe\"}]}}";

static void kube_json_node_parse_owned_conditions(void **state)
{
	cJSON *object = cJSON_Parse(node_text);
	struct kube_node node;
	char err[128];

	assert_int_equal(kube_node_parse(&node, object, &profile, err, sizeof(err)), 0);
	assert_string_equal(node.resource_version, "42");
	assert_string_equal(node.uid, "u1");
	/* kubelet's Ready is not owned, the second KernelReady is a duplicate, "Maybe" is not a status. */
	assert_int_equal(node.n_conditions, 1);
	assert_string_equal(node.conditions[0].type, "KernelReady");
	assert_int_equal(node.conditions[0].status, CONDITION_STATUS_FALSE);
	assert_string_equal(node.conditions[0].reason, "RuntimeUnhealthy");
	assert_int_equal(node.conditions[0].last_transition_ms, T0 + 1000);
	assert_int_equal(node.conditions[0].last_heartbeat_ms, T0 + 5000);
	assert_true(node.taints_valid);
	assert_int_equal(node.n_taints, 2);
	kube_node_clear(&node);
	cJSON_Delete(object);
}

static void kube_json_node_parse_rejects_garbage(void **state)
{
	const char *texts[] = { "[]", "{}", "{\"metadata\":{}}", "{\"metadata\":{\"resourceVersion\":7}}" };

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cJSON *object = cJSON_Parse(texts[i]);
		struct kube_node node;
		char err[128] = "";

		if (kube_node_parse(&node, object, &profile, err, sizeof(err)) != -22)
			fail_msg("%s: accepted", texts[i]);
		assert_true(err[0] != '\0');
		kube_node_clear(&node);
		cJSON_Delete(object);
	}
}

static void kube_json_taints_patch_keeps_foreign_bytes(void **state)
{
	cJSON *object = cJSON_Parse(node_text);
	struct kube_node node;
	struct taint planned[2];
	char err[128], *body;

	assert_int_equal(kube_node_parse(&node, object, &profile, err, sizeof(err)), 0);
	planned[0] = node.taints[0];
	assert_int_equal(taint_init(&planned[1], "nodecond.io/not-ready", NULL, "NoSchedule", 0, err, sizeof(err)), 0);
	body = kube_json_taints_patch(&node, planned, 2);
	/* The foreign taint goes back as received, its unknown field included. */
	assert_string_equal(body,
			    "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"42\"},"
			    "{\"op\":\"add\",\"path\":\"/spec/taints\",\"value\":["
			    "{\"key\":\"example.com/a\",\"value\":\"v\",\"effect\":\"NoSchedule\",\"extra\":1},"
			    "{\"key\":\"nodecond.io/not-ready\",\"effect\":\"NoSchedule\"}]}]");
	free(body);
	kube_node_clear(&node);
	cJSON_Delete(object);
}

static void kube_json_condition_comparisons(void **state)
{
	struct condition a = { .type = "KernelReady", .status = CONDITION_STATUS_TRUE, .reason = "R", .message = "m1",
			       .last_transition_ms = T0 + 100, .last_heartbeat_ms = T0 };
	struct condition b = a;

	b.last_heartbeat_ms = T0 + 60000;
	b.last_transition_ms = T0 + 900;          /* the same second on the wire */
	assert_true(kube_condition_same(&a, &b));
	assert_false(kube_condition_changed(&a, &b));
	snprintf(b.message, sizeof(b.message), "m2");
	assert_false(kube_condition_same(&a, &b));
	assert_false(kube_condition_changed(&a, &b));  /* a message alone waits for the heartbeat */
	b.status = CONDITION_STATUS_FALSE;
	assert_true(kube_condition_changed(&a, &b));
}

static void kube_json_lease_and_event(void **state)
{
	struct kube_event ev = { .name = "n1.1", .reason = "KernelReadyFalse", .message = "m", .warning = true,
				 .first_ms = T0, .last_ms = T0 + 2000, .count = 3 };
	char *body;

	body = kube_json_lease_patch("n1", 40, T0 + 250);
	assert_string_equal(body, "{\"spec\":{\"holderIdentity\":\"n1\",\"leaseDurationSeconds\":40,"
				  "\"renewTime\":\"2026-01-01T00:00:00.250000Z\"}}");
	free(body);
	body = kube_json_event_patch(&ev);
	assert_string_equal(body, "{\"count\":3,\"lastTimestamp\":\"2026-01-01T00:00:02Z\"}");
	free(body);
	body = kube_json_event(&ev, "n1", "");
	assert_non_null(strstr(body, "\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\",\"uid\":\"n1\"}"));
	assert_non_null(strstr(body, "\"type\":\"Warning\""));
	assert_non_null(strstr(body, "\"namespace\":\"default\""));
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kube_json_status_patch_wire_format),
		cmocka_unit_test(kube_json_status_delete_directive),
		cmocka_unit_test(kube_json_node_parse_owned_conditions),
		cmocka_unit_test(kube_json_node_parse_rejects_garbage),
		cmocka_unit_test(kube_json_taints_patch_keeps_foreign_bytes),
		cmocka_unit_test(kube_json_condition_comparisons),
		cmocka_unit_test(kube_json_lease_and_event),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
