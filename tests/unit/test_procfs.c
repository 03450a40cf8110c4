/* SPDX-License-Identifier: Apache-2.0 */
/* Parsers of kernel text files, RFC 3339 times, mounts and the state file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/fs_usage.h"
#include "daemon/procfs.h"
#include "daemon/state_file.h"
#include "daemon/timefmt.h"

static void meminfo_fields_in_bytes(void **state)
{
	static const char text[] =
		"MemTotal:       24590068 kB\n"
		"MemFree:        23815028 kB\n"
		"MemAvailable:   23938580 kB\n"
		"Buffers:           30736 kB\n"
		"Active(file):      91360 kB\n"
		"Inactive(file):   260040 kB\n";
	struct meminfo mi;

	assert_int_equal(procfs_parse_meminfo(text, &mi), 0);
	assert_int_equal(mi.mem_total, 24590068LL * 1024);
	assert_int_equal(mi.mem_free, 23815028LL * 1024);
	assert_int_equal(mi.mem_available, 23938580LL * 1024);
	assert_int_equal(mi.inactive_file, 260040LL * 1024);
	assert_true(mi.has_inactive_file);
}

static void meminfo_without_total_is_rejected(void **state)
{
	struct meminfo mi;

	assert_int_equal(procfs_parse_meminfo("MemFree: 10 kB\n", &mi), -ENOENT);
	assert_int_equal(procfs_parse_meminfo("MemTotal: lots\n", &mi), -EINVAL);
	assert_int_equal(procfs_parse_meminfo("MemTotal: 99999999999999999 kB\n", &mi), -ERANGE);
}

static void meminfo_old_kernel_has_no_available(void **state)
{
	struct meminfo mi;

	assert_int_equal(procfs_parse_meminfo("MemTotal: 100 kB\nMemFree: 50 kB\n", &mi), 0);
	assert_false(mi.has_mem_available);
	assert_false(mi.has_inactive_file);
}

static void keyed_values(void **state)
{
	static const char text[] = "cache 100\ninactive_file 7\ntotal_inactive_file 4096\ntotal_cache 1\n";
	int64_t v;

	assert_int_equal(procfs_parse_keyed_int64(text, "total_inactive_file", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(procfs_parse_keyed_int64(text, "inactive_file", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(procfs_parse_keyed_int64(text, "total_active_file", &v), -ENOENT);
}

static void psi_some_total(void **state)
{
	uint64_t total;

	assert_int_equal(procfs_parse_psi_some_total("some avg10=1.00 avg60=0.50 avg300=0.10 total=123456\n"
						      "full avg10=0.00 avg60=0.00 avg300=0.00 total=99\n",
						      &total),
			 0);
	assert_int_equal(total, 123456);
	assert_int_equal(procfs_parse_psi_some_total("full avg10=0.00 total=1\n", &total), -EINVAL);
	assert_int_equal(procfs_parse_psi_some_total("some avg10=0.00\n", &total), -EINVAL);
}

static void loadavg_tasks(void **state)
{
	int64_t tasks;

	assert_int_equal(procfs_parse_loadavg_tasks("0.00 0.02 0.00 1/90 4283\n", &tasks), 0);
	assert_int_equal(tasks, 90);
	/* The task count may exceed 65535. */
	assert_int_equal(procfs_parse_loadavg_tasks("5.00 4.00 3.00 12/4194303 1\n", &tasks), 0);
	assert_int_equal(tasks, 4194303);
	assert_int_equal(procfs_parse_loadavg_tasks("0.00 0.02 0.00 garbage\n", &tasks), -EINVAL);
}

static void mount_longest_prefix(void **state)
{
	static const char mountinfo[] =
		"22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
		"23 22 0:21 / /var/lib rw - tmpfs tmpfs rw\n"
		"24 22 0:22 / /var/lib/kubelet/pods rw - tmpfs tmpfs rw\n"
		"25 22 0:23 / /var/lib\\040data rw - tmpfs tmpfs rw\n"
		"26 22 0:24 / /var/libx rw - tmpfs tmpfs rw\n";
	char buf[256];

	assert_int_equal(fs_usage_find_mount(mountinfo, "/var/lib/kubelet", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib");
	assert_int_equal(fs_usage_find_mount(mountinfo, "/var/lib/kubelet/pods/x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib/kubelet/pods");
	assert_int_equal(fs_usage_find_mount(mountinfo, "/var/lib data/x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib data");
	assert_int_equal(fs_usage_find_mount(mountinfo, "/var/libxyz", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(fs_usage_find_mount("", "/x", buf, sizeof(buf)), -ENOENT);
}

static void measure_missing_path_uses_ancestor(void **state)
{
	struct fs_usage u;

	assert_int_equal(fs_usage_measure("/tmp/nodecond-does-not-exist/kubelet", &u), 0);
	assert_string_equal(u.measured_path, "/tmp");
	assert_true(u.bytes_capacity > 0);
	assert_true(u.bytes_available <= u.bytes_capacity);
}

static void rfc3339_round_trip(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-12-04T20:21:22Z", 1796415682000LL },
		{ "2026-12-04T20:21:22.5Z", 1796415682500LL },
		{ "2026-12-04T21:21:22+01:00", 1796415682000LL },
		{ "2026-12-04T19:21:22-01:00", 1796415682000LL },
	};
	static const char *const invalid[] = { "", "2026-12-04", "2026-12-04T20:21:22", "2026-12-04T20:21:22Zjunk",
					       "2026-12-04T20:21:22.Z", "yesterday", "0000-01-01T00:00:00Z",
					       "1969-12-31T23:59:59Z" };
	char buf[TIMEFMT_RFC3339_MAX];
	int64_t ms;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(timefmt_parse_rfc3339(cases[i].text, &ms), 0);
		assert_int_equal(ms, cases[i].ms);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (timefmt_parse_rfc3339(invalid[i], &ms) != -EINVAL)
			fail_msg("\"%s\" was accepted", invalid[i]);

	timefmt_rfc3339(1796415682999LL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-04T20:21:22Z");
	/* Times beyond year 9999 are clamped, so the output is always valid RFC 3339. */
	timefmt_rfc3339(INT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
}

static void age_formats(void **state)
{
	char buf[32];

	timefmt_age(45000, buf, sizeof(buf));
	assert_string_equal(buf, "45s");
	timefmt_age(12 * 60000, buf, sizeof(buf));
	assert_string_equal(buf, "12m");
	timefmt_age((3 * 3600 + 20 * 60) * 1000LL, buf, sizeof(buf));
	assert_string_equal(buf, "3h20m");
	timefmt_age((2 * 86400 + 4 * 3600) * 1000LL, buf, sizeof(buf));
	assert_string_equal(buf, "2d4h");
}

static void state_file_round_trip(void **state)
{
	char dir[] = "/tmp/nodecond-state-XXXXXX";
	char path[128];
	struct condition in[2] = {
		{ .type = "KernelMemoryPressure", .status = CONDITION_STATUS_TRUE, .reason = "R1", .message = "m \"q\"",
		  .last_heartbeat_ms = 1796415682000LL, .last_transition_ms = 1796415600000LL },
		{ .type = "KernelReady", .status = CONDITION_STATUS_UNKNOWN, .reason = "R2", .message = "",
		  .last_heartbeat_ms = 1796415682000LL, .last_transition_ms = 1796415682000LL },
	};
	struct condition out[4];
	char err[256] = "";

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/state.json", dir);
	assert_int_equal(state_file_save(path, "node-a", in, 2), 0);
	assert_int_equal(state_file_load(path, "node-a", out, 4, err, sizeof(err)), 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(out[i].type, in[i].type);
		assert_int_equal(out[i].status, in[i].status);
		assert_string_equal(out[i].reason, in[i].reason);
		assert_string_equal(out[i].message, in[i].message);
		assert_int_equal(out[i].last_heartbeat_ms, in[i].last_heartbeat_ms);
		assert_int_equal(out[i].last_transition_ms, in[i].last_transition_ms);
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

static void state_file_missing_and_corrupt(void **state)
{
	char path[] = "/tmp/nodecond-state-bad-XXXXXX";
	static const char *const bodies[] = {
		"{not json",
		"{\"conditions\": 3}",
		"{\"conditions\": [{\"type\": \"A\", \"status\": \"Maybe\", \"reason\": \"\", \"message\": \"\","
		" \"lastHeartbeatTime\": \"2026-12-04T20:21:22Z\", \"lastTransitionTime\": \"2026-12-04T20:21:22Z\"}]}",
		"{\"conditions\": [{\"type\": \"A\", \"status\": \"True\", \"reason\": \"\", \"message\": \"\","
		" \"lastHeartbeatTime\": \"now\", \"lastTransitionTime\": \"2026-12-04T20:21:22Z\"}]}",
	};
	struct condition out[2];
	char err[256];
	int fd;

	assert_int_equal(state_file_load("/tmp/nodecond-no-such-state.json", NULL, out, 2, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, bodies[i], strlen(bodies[i])), (ssize_t)strlen(bodies[i]));
		close(fd);
		err[0] = '\0';
		assert_int_equal(state_file_load(path, NULL, out, 2, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
		unlink(path);
		strcpy(path, "/tmp/nodecond-state-bad-XXXXXX");
	}
}

static void state_file_other_node_ignored(void **state)
{
	char dir[] = "/tmp/nodecond-state-node-XXXXXX";
	char path[128];
	struct condition in = { .type = "KernelReady", .status = CONDITION_STATUS_TRUE };
	struct condition out[2];
	char err[256] = "";

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(state_file_save(path, "node-a", &in, 1), 0);
	assert_int_equal(state_file_load(path, "node-b", out, 2, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "node-a"));
	unlink(path);
	rmdir(dir);
}

static void state_file_claim_protects_foreign_files(void **state)
{
	char dir[] = "/tmp/nodecond-claim-XXXXXX";
	char path[128], lock[160];
	char err[512];
	FILE *f;

	assert_non_null(mkdtemp(dir));

	/* A device, a directory or someone else's file is never claimed. */
	assert_int_equal(state_file_claim("/dev/null", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(state_file_claim(dir, err, sizeof(err)), -EINVAL);
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("precious: data\n", f);
	fclose(f);
	assert_int_equal(state_file_claim(path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a nodecond state file"));
	/* The save path refuses non-regular files too. */
	assert_int_equal(state_file_save("/dev/null", "n", NULL, 0), -EEXIST);
	unlink(path);

	/* A missing file is claimed, an empty one too. */
	snprintf(path, sizeof(path), "%s/sub/state.json", dir);
	assert_int_equal(state_file_claim(path, err, sizeof(err)), 0);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(lock);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(meminfo_fields_in_bytes),
		cmocka_unit_test(meminfo_without_total_is_rejected),
		cmocka_unit_test(meminfo_old_kernel_has_no_available),
		cmocka_unit_test(keyed_values),
		cmocka_unit_test(psi_some_total),
		cmocka_unit_test(loadavg_tasks),
		cmocka_unit_test(mount_longest_prefix),
		cmocka_unit_test(measure_missing_path_uses_ancestor),
		cmocka_unit_test(rfc3339_round_trip),
		cmocka_unit_test(age_formats),
		cmocka_unit_test(state_file_round_trip),
		cmocka_unit_test(state_file_missing_and_corrupt),
		cmocka_unit_test(state_file_other_node_ignored),
		cmocka_unit_test(state_file_claim_protects_foreign_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
