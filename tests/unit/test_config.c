/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration loading: defaults, every field, and the errors for bad values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"

static int load(struct nodecond_config *cfg, const char *yaml, char *err, size_t err_len)
{
	config_init_defaults(cfg);
	return config_load_string(cfg, yaml, strlen(yaml), "test.yaml", err, err_len);
}

static void defaults_match_design(void **state)
{
	struct nodecond_config cfg;

	config_init_defaults(&cfg);
	assert_string_equal(cfg.socket_path, "/run/nodecond/nodecond.sock");
	assert_int_equal(cfg.sample_interval_ms, 1000);
	assert_string_equal(cfg.state_file, "/var/lib/nodecond/state.json");
	assert_string_equal(cfg.nodefs_path, "/var/lib/kubelet");
	assert_string_equal(cfg.imagefs_path, "/var/lib/containerd");
	assert_int_equal(cfg.heartbeat_period_ms, 300000);
	assert_int_equal(cfg.lease_duration_ms, 40000);
	assert_int_equal(cfg.taints_writer, TAINTS_WRITER_CONTROLLER);
	assert_string_equal(cfg.profile, "companion");
	assert_int_equal(cfg.engine.missed_samples_before_unknown, 5);
	assert_string_equal(cfg.engine.rules[CONDITION_MEMORY_PRESSURE].type, "KernelMemoryPressure");
}

static void empty_file_keeps_defaults(void **state)
{
	struct nodecond_config cfg, defaults;
	char err[CONFIG_ERROR_MAX] = "";

	config_init_defaults(&defaults);
	assert_int_equal(load(&cfg, "", err, sizeof(err)), 0);
	assert_memory_equal(&cfg, &defaults, sizeof(cfg));
	assert_int_equal(load(&cfg, "conditions:\n", err, sizeof(err)), 0);
	assert_memory_equal(&cfg, &defaults, sizeof(cfg));
}

static void full_file_sets_every_field(void **state)
{
	static const char yaml[] =
		"apiVersion: nodecond.io/v1alpha1\n"
		"kind: NodecondConfiguration\n"
		"nodeName: worker-1\n"
		"socket:\n"
		"  path: /tmp/n.sock\n"
		"  group: ''\n"
		"sampleInterval: 500ms\n"
		"missedSamplesBeforeUnknown: 3\n"
		"stateFile: /tmp/state.json\n"
		"paths:\n"
		"  nodefs: /data/kubelet\n"
		"  imagefs: /data/containerd\n"
		"kubelet:\n"
		"  healthzURL: http://127.0.0.1:10248/healthz\n"
		"  executable: /usr/local/bin/kubelet\n"
		"runtime:\n"
		"  socket: /run/crio/crio.sock\n"
		"kubernetes:\n"
		"  kubeconfig: /etc/nodecond/kubeconfig\n"
		"  heartbeatPeriod: 1m\n"
		"  leaseDuration: 20s\n"
		"  minResyncPeriod: 6h\n"
		"taints:\n"
		"  writer: agent\n"
		"profile: standard\n"
		"logLevel: debug\n"
		"conditions:\n"
		"  PIDPressure:\n"
		"    type: MyPIDPressure\n"
		"    thresholds:\n"
		"      - expression: pid.available<1000\n"
		"      - expression: pid.available<10%\n"
		"        for: 2s\n"
		"    transitionPeriod: 30s\n"
		"    taints:\n"
		"      - {key: example.com/pids, effect: NoExecute}\n"
		"  MemoryPressure:\n"
		"    thresholds:\n"
		"      - expression: memory.oomKills>2\n"
		"        window: 5m\n"
		"  Unreachable:\n"
		"    type: KernelReady\n";
	struct nodecond_config cfg;
	char err[CONFIG_ERROR_MAX] = "";
	const struct condition_rule *pid;

	assert_int_equal(load(&cfg, yaml, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.node_name, "worker-1");
	assert_string_equal(cfg.socket_path, "/tmp/n.sock");
	assert_int_equal(cfg.sample_interval_ms, 500);
	assert_int_equal(cfg.engine.missed_samples_before_unknown, 3);
	assert_string_equal(cfg.state_file, "/tmp/state.json");
	assert_string_equal(cfg.nodefs_path, "/data/kubelet");
	assert_string_equal(cfg.imagefs_path, "/data/containerd");
	assert_string_equal(cfg.kubelet_executable, "/usr/local/bin/kubelet");
	assert_string_equal(cfg.runtime_socket, "/run/crio/crio.sock");
	assert_string_equal(cfg.kubeconfig, "/etc/nodecond/kubeconfig");
	assert_int_equal(cfg.heartbeat_period_ms, 60000);
	assert_int_equal(cfg.lease_duration_ms, 20000);
	assert_int_equal(cfg.min_resync_period_ms, 6 * 3600 * 1000LL);
	assert_int_equal(cfg.taints_writer, TAINTS_WRITER_AGENT);
	assert_string_equal(cfg.profile, "standard");
	assert_string_equal(cfg.log_level, "debug");

	pid = &cfg.engine.rules[CONDITION_PID_PRESSURE];
	assert_string_equal(pid->type, "MyPIDPressure");
	assert_int_equal(pid->n_thresholds, 2);
	assert_int_equal(pid->thresholds[0].signal, SIGNAL_PID_AVAILABLE);
	assert_int_equal(pid->thresholds[0].op, THRESHOLD_LESS);
	assert_int_equal(pid->thresholds[0].limit.milli, 1000000);
	assert_true(pid->thresholds[1].limit.percent);
	assert_int_equal(pid->thresholds[1].for_ms, 2000);
	assert_int_equal(pid->transition_period_ms, 30000);
	assert_true(cfg.condition_taints[CONDITION_PID_PRESSURE].set);
	assert_int_equal(cfg.condition_taints[CONDITION_PID_PRESSURE].n_taints, 1);
	assert_string_equal(cfg.condition_taints[CONDITION_PID_PRESSURE].taints[0].key, "example.com/pids");
	assert_string_equal(cfg.condition_taints[CONDITION_PID_PRESSURE].taints[0].effect, "NoExecute");

	assert_int_equal(cfg.engine.rules[CONDITION_MEMORY_PRESSURE].n_thresholds, 1);
	assert_int_equal(cfg.engine.rules[CONDITION_MEMORY_PRESSURE].thresholds[0].window_ms, 300000);
}

/* One row per invalid file: the text, and words the error must contain. */
static const struct invalid_case {
	const char *name;
	const char *yaml;
	const char *expect[3];
} invalid_cases[] = {
	{ "bad YAML", "socket: [unclosed\n", { "test.yaml:", "invalid YAML" } },
	{ "unknown top field", "sampleIntervall: 1s\n", { "sampleIntervall", "unknown field", "sampleInterval" } },
	{ "wrong apiVersion", "apiVersion: v1\n", { "apiVersion", "\"v1\"", "nodecond.io/v1alpha1" } },
	{ "wrong kind", "kind: KubeletConfiguration\n", { "kind", "KubeletConfiguration", "NodecondConfiguration" } },
	{ "bad duration", "sampleInterval: 1 second\n", { "sampleInterval", "1 second" } },
	{ "interval too short", "sampleInterval: 10ms\n", { "sampleInterval", "10ms", "at least" } },
	{ "relative socket path", "socket:\n  path: nodecond.sock\n", { "socket.path", "nodecond.sock", "absolute" } },
	{ "socket not a mapping", "socket: /run/x.sock\n", { "socket", "expected a mapping" } },
	{ "unknown socket field", "socket:\n  mode: 0600\n", { "socket.mode", "unknown field" } },
	{ "bad missed samples", "missedSamplesBeforeUnknown: -1\n", { "missedSamplesBeforeUnknown", "\"-1\"", "integer" } },
	{ "bad writer", "taints:\n  writer: both\n", { "taints.writer", "both", "controller or agent" } },
	{ "bad profile", "profile: upstream\n", { "profile", "upstream", "companion or standard" } },
	{ "bad log level", "logLevel: verbose\n", { "logLevel", "verbose" } },
	{ "bad healthz URL", "kubelet:\n  healthzURL: 127.0.0.1:10248\n", { "kubelet.healthzURL", "http://" } },
	{ "unknown condition", "conditions:\n  CPUPressure: {}\n", { "conditions.CPUPressure", "unknown field", "MemoryPressure" } },
	{ "bad quantity",
	  "conditions:\n  MemoryPressure:\n    thresholds:\n      - expression: memory.available<10 Mi\n",
	  { "conditions.MemoryPressure.thresholds[0].expression", "10 Mi" } },
	{ "unknown signal",
	  "conditions:\n  MemoryPressure:\n    thresholds:\n      - expression: memory.free<10Mi\n",
	  { "conditions.MemoryPressure.thresholds[0].expression", "memory.free" } },
	{ "second threshold bad",
	  "conditions:\n  DiskPressure:\n    thresholds:\n      - expression: nodefs.available<10%\n      - expression: nodefs.available<\n",
	  { "conditions.DiskPressure.thresholds[1].expression" } },
	{ "missing expression",
	  "conditions:\n  DiskPressure:\n    thresholds:\n      - for: 10s\n",
	  { "conditions.DiskPressure.thresholds[0]", "missing field expression" } },
	{ "window on a non-counter",
	  "conditions:\n  DiskPressure:\n    thresholds:\n      - expression: nodefs.available<10%\n        window: 1m\n",
	  { "thresholds[0]", "window", "nodefs.available" } },
	{ "empty thresholds",
	  "conditions:\n  PIDPressure:\n    thresholds: []\n",
	  { "conditions.PIDPressure.thresholds", "at least one threshold", "enabled: false" } },
	{ "null thresholds",
	  "conditions:\n  PIDPressure:\n    thresholds:\n",
	  { "conditions.PIDPressure.thresholds", "at least one threshold" } },
	{ "duplicate key", "sampleInterval: 1s\nsampleInterval: 2s\n", { "sampleInterval", "appears twice" } },
	{ "duplicate nested key", "socket:\n  path: /a.sock\n  path: /b.sock\n", { "socket", "path appears twice" } },
	{ "second document", "sampleInterval: 1s\n---\nsampleInterval: 2s\n", { "test.yaml:2", "second YAML document" } },
	{ "bad taint effect",
	  "conditions:\n  PIDPressure:\n    taints:\n      - {key: a/b, effect: NoEntry}\n",
	  { "conditions.PIDPressure.taints[0].effect", "NoEntry", "NoExecute" } },
	{ "taint without key",
	  "conditions:\n  PIDPressure:\n    taints:\n      - {effect: NoSchedule}\n",
	  { "conditions.PIDPressure.taints[0]", "missing field key" } },
	{ "thresholds on Unreachable",
	  "conditions:\n  Unreachable:\n    thresholds: []\n",
	  { "conditions.Unreachable.thresholds", "controller" } },
	{ "too many thresholds",
	  "conditions:\n  PIDPressure:\n    thresholds:\n"
	  "      - {expression: pid.available<1}\n      - {expression: pid.available<2}\n"
	  "      - {expression: pid.available<3}\n      - {expression: pid.available<4}\n"
	  "      - {expression: pid.available<5}\n      - {expression: pid.available<6}\n"
	  "      - {expression: pid.available<7}\n      - {expression: pid.available<8}\n"
	  "      - {expression: pid.available<9}\n",
	  { "thresholds[8]", "too many thresholds" } },
	{ "list where mapping expected", "- a\n- b\n", { "expected a mapping", "a list" } },
	{ "invalid node name", "nodeName: Worker_1\n", { "nodeName", "Worker_1", "RFC 1123" } },
	{ "node name ends with dot", "nodeName: worker.\n", { "nodeName", "worker." } },
};

static void invalid_files_name_field_and_value(void **state)
{
	for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		struct nodecond_config cfg, before;
		char err[CONFIG_ERROR_MAX] = "";
		int r;

		config_init_defaults(&before);
		cfg = before;
		r = config_load_string(&cfg, c->yaml, strlen(c->yaml), "test.yaml", err, sizeof(err));
		if (r != -EINVAL)
			fail_msg("case \"%s\": expected -EINVAL, got %d (%s)", c->name, r, err);
		for (size_t j = 0; j < 3 && c->expect[j]; j++)
			if (!strstr(err, c->expect[j]))
				fail_msg("case \"%s\": error \"%s\" does not contain \"%s\"", c->name, err, c->expect[j]);
		/* A rejected file leaves the configuration as it was. */
		if (memcmp(&cfg, &before, sizeof(cfg)) != 0)
			fail_msg("case \"%s\": configuration changed by a rejected file", c->name);
	}
}

static void deep_flow_nesting_rejected(void **state)
{
	struct nodecond_config cfg;
	char err[CONFIG_ERROR_MAX] = "";
	char text[600];
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "metrics: ");
	for (int i = 0; i < 200; i++)
		text[n++] = '[';
	text[n] = '\0';
	assert_int_equal(load(&cfg, text, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nested more than 64"));

	/* Brackets inside quotes and comments are not nesting. */
	assert_int_equal(load(&cfg, "nodeName: \"a\" # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n", err,
			      sizeof(err)), 0);
}

static void missing_file_is_an_error(void **state)
{
	struct nodecond_config cfg;
	char err[CONFIG_ERROR_MAX] = "";

	config_init_defaults(&cfg);
	assert_int_equal(config_load_file(&cfg, "/nonexistent/nodecond.yaml", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/nodecond.yaml"));
}

static void flags_override_file(void **state)
{
	char path[] = "/tmp/nodecond-test-config-XXXXXX";
	static const char yaml[] = "nodeName: from-file\nsocket:\n  path: /tmp/file.sock\nprofile: standard\n";
	struct config_flags flags = { 0 };
	struct nodecond_config cfg;
	char err[CONFIG_ERROR_MAX] = "";
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);

	flags.config_path = path;
	flags.socket_path = "/tmp/flag.sock";
	flags.node_name = "from-flag";
	assert_int_equal(config_build(&cfg, &flags, err, sizeof(err)), 0);
	assert_string_equal(cfg.node_name, "from-flag");
	assert_string_equal(cfg.socket_path, "/tmp/flag.sock");
	assert_string_equal(cfg.profile, "standard");

	flags.profile = "bogus";
	assert_int_equal(config_build(&cfg, &flags, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--profile"));
	assert_non_null(strstr(err, "bogus"));
	unlink(path);
}

static void node_name_order(void **state)
{
	struct nodecond_config cfg;
	char err[CONFIG_ERROR_MAX] = "";

	config_init_defaults(&cfg);
	setenv("NODE_NAME", "from-env", 1);
	assert_int_equal(config_resolve_node_name(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.node_name, "from-env");

	snprintf(cfg.node_name, sizeof(cfg.node_name), "explicit");
	assert_int_equal(config_resolve_node_name(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.node_name, "explicit");

	unsetenv("NODE_NAME");
	cfg.node_name[0] = '\0';
	assert_int_equal(config_resolve_node_name(&cfg, err, sizeof(err)), 0);
	assert_true(cfg.node_name[0] != '\0');
	for (const char *p = cfg.node_name; *p; p++)
		assert_false(*p >= 'A' && *p <= 'Z');
}

static void node_name_validation(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
		{ "worker-1", true },
		{ "worker-1.example.com", true },
		{ "a", true },
		{ "1node", true },
		{ "", false },
		{ "Worker", false },
		{ "-worker", false },
		{ "worker-", false },
		{ "worker.", false },
		{ ".worker", false },
		{ "work..er", false },
		{ "worker-.x", false },
		{ "worker_1", false },
	};
	char long_name[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (config_node_name_valid(cases[i].name) != cases[i].valid)
			fail_msg("\"%s\": expected %s", cases[i].name, cases[i].valid ? "valid" : "invalid");

	/* Four labels of 63, 63, 63 and 61 characters: 253 in all, the maximum. */
	memset(long_name, 'a', 253);
	long_name[63] = long_name[127] = long_name[191] = '.';
	long_name[253] = '\0';
	assert_true(config_node_name_valid(long_name));
	long_name[253] = 'a';
	long_name[254] = '\0';
	assert_false(config_node_name_valid(long_name));

	/* A label of 64 characters is one too many. */
	memset(long_name, 'b', 64);
	long_name[64] = '\0';
	assert_false(config_node_name_valid(long_name));
	long_name[63] = '\0';
	assert_true(config_node_name_valid(long_name));
}

static void standard_profile_sets_upstream_names(void **state)
{
	struct config_flags flags = { .profile = "standard", .node_name = "n1" };
	struct nodecond_config cfg;
	char err[CONFIG_ERROR_MAX] = "";
	const struct profile_kind *not_ready;

	assert_int_equal(config_build(&cfg, &flags, err, sizeof(err)), 0);
	assert_string_equal(cfg.engine.rules[CONDITION_MEMORY_PRESSURE].type, "MemoryPressure");
	assert_string_equal(cfg.engine.rules[CONDITION_NOT_READY].type, "Ready");
	not_ready = &cfg.taint_profile.kinds[CONDITION_NOT_READY];
	assert_int_equal(not_ready->n_taints, 2);
	assert_string_equal(not_ready->taints[0].key, "node.kubernetes.io/not-ready");
	assert_int_equal(not_ready->taints[1].effect, TAINT_EFFECT_NO_EXECUTE);
}

static void overrides_reach_profile(void **state)
{
	static const char yaml[] =
		"conditions:\n"
		"  PIDPressure:\n"
		"    type: MyPIDPressure\n"
		"    taints:\n"
		"      - {key: example.com/pids, value: low, effect: NoExecute}\n";
	char path[] = "/tmp/nodecond-test-profile-XXXXXX";
	struct config_flags flags = { .node_name = "n1" };
	struct nodecond_config cfg;
	char err[CONFIG_ERROR_MAX] = "";
	const struct profile_kind *pid;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	flags.config_path = path;

	assert_int_equal(config_build(&cfg, &flags, err, sizeof(err)), 0);
	pid = &cfg.taint_profile.kinds[CONDITION_PID_PRESSURE];
	assert_string_equal(pid->condition_type, "MyPIDPressure");
	assert_string_equal(cfg.engine.rules[CONDITION_PID_PRESSURE].type, "MyPIDPressure");
	assert_int_equal(pid->n_taints, 1);
	assert_string_equal(pid->taints[0].key, "example.com/pids");
	assert_string_equal(pid->taints[0].value, "low");
	assert_int_equal(pid->taints[0].effect, TAINT_EFFECT_NO_EXECUTE);
	/* Kinds the file left alone keep the companion profile. */
	assert_string_equal(cfg.taint_profile.kinds[CONDITION_DISK_PRESSURE].taints[0].key,
			    "nodecond.io/disk-pressure");
	unlink(path);
}

static void invalid_taint_key_rejected(void **state)
{
	static const char yaml[] =
		"conditions:\n"
		"  PIDPressure:\n"
		"    taints:\n"
		"      - {key: 'bad key!', effect: NoSchedule}\n";
	char path[] = "/tmp/nodecond-test-profile-XXXXXX";
	struct config_flags flags = { .node_name = "n1" };
	struct nodecond_config cfg;
	char err[CONFIG_ERROR_MAX] = "";
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	flags.config_path = path;

	assert_int_equal(config_build(&cfg, &flags, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "conditions.PIDPressure.taints[0]"));
	assert_non_null(strstr(err, "bad key!"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_match_design),
		cmocka_unit_test(empty_file_keeps_defaults),
		cmocka_unit_test(full_file_sets_every_field),
		cmocka_unit_test(invalid_files_name_field_and_value),
		cmocka_unit_test(missing_file_is_an_error),
		cmocka_unit_test(deep_flow_nesting_rejected),
		cmocka_unit_test(flags_override_file),
		cmocka_unit_test(node_name_order),
		cmocka_unit_test(node_name_validation),
		cmocka_unit_test(standard_profile_sets_upstream_names),
		cmocka_unit_test(overrides_reach_profile),
		cmocka_unit_test(invalid_taint_key_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
