// SPDX-License-Identifier: Apache-2.0
/*
 * The recorder: tick lines that replay reads back unchanged, rotation at
 * the size limit, write failures that lose lines without stopping, and the
 * ring that /v1/record streams read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/record.h"
#include "daemon/replay.h"

static void test_format_time_has_milliseconds(void **state)
{
	char t[RECORDER_TIME_MAX];

	recorder_format_time(1767225600007LL, t, sizeof(t));
	assert_string_equal(t, "2026-01-01T00:00:00.007Z");
	recorder_format_time(1767225659999LL, t, sizeof(t));
	assert_string_equal(t, "2026-01-01T00:00:59.999Z");
}

static void test_tick_line_replays_unchanged(void **state)
{
	struct signal_sample samples[_SIGNAL_MAX];
	struct readiness_context ready = { .kubelet_expected = true, .samplers_running = false };
	struct replay_reader rd;
	enum replay_line_type type;
	char err[REPLAY_ERROR_MAX];
	char *line;

	for (int i = 0; i < _SIGNAL_MAX; i++) {
		samples[i] = (struct signal_sample){ .id = (enum signal_id)i };
		signal_sample_set(&samples[i], "procfs", 1000 + i);
	}
	samples[SIGNAL_PID_AVAILABLE].has_capacity = true;
	samples[SIGNAL_PID_AVAILABLE].capacity = 4194304;
	samples[SIGNAL_PID_AVAILABLE].has_window_min = true;
	samples[SIGNAL_PID_AVAILABLE].window_min = 990;
	snprintf(samples[SIGNAL_NODEFS_AVAILABLE].detail, SIGNAL_REASON_MAX, "mount /var on /dev/sda1");
	signal_sample_set_unobserved(&samples[SIGNAL_DISK_LATENCY], "diskstats", "no device \"%s\"", "sdz");

	line = recorder_render_tick(1767225600123LL, samples, &ready);
	assert_non_null(line);
	assert_int_equal(line[strlen(line) - 1], '\n');
	line[strlen(line) - 1] = '\0';

	replay_reader_init(&rd, 1000);
	if (replay_reader_parse(&rd, line, &type, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	free(line);
	assert_int_equal(type, REPLAY_LINE_TICK);
	assert_int_equal(rd.time_ms, 1767225600123LL);
	assert_true(rd.ready.kubelet_expected);
	assert_false(rd.ready.samplers_running);
	for (int i = 0; i < _SIGNAL_MAX; i++) {
		const struct signal_sample *a = &samples[i], *b = &rd.samples[i];

		assert_int_equal(b->id, i);
		assert_int_equal(b->observed, a->observed);
		assert_int_equal(b->value, a->value);
		assert_int_equal(b->has_capacity, a->has_capacity);
		assert_int_equal(b->capacity, a->capacity);
		assert_int_equal(b->has_window_min, a->has_window_min);
		assert_int_equal(b->window_min, a->window_min);
		assert_string_equal(b->source, a->source);
		assert_string_equal(b->reason, a->reason);
		assert_string_equal(b->detail, a->detail);
	}
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	assert_non_null(text);
	n = fread(text, 1, 65535, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_rotation_keeps_max_files(void **state)
{
	struct recorder_options opts = { .max_size = 100, .max_files = 3 };
	char dir[] = "/tmp/nodecond-record-XXXXXX", path[128], rotated[160], line[64];
	struct recorder_stats stats;
	struct recorder *r;
	char *text;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec.ndjson", dir);
	opts.path = path;
	assert_int_equal(recorder_new(&r), 0);
	assert_int_equal(recorder_configure(r, &opts), 0);

	/* 40-byte lines, one flush each: two fit in 100 bytes, the third rotates. */
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "{\"type\":\"tick\",\"n\":%02d,\"pad\":\"xxxxxxxx\"}\n", i);
		assert_int_equal(strlen(line), 40);
		assert_int_equal(recorder_append(r, line, strlen(line)), 0);
		assert_int_equal(recorder_flush(r), 0);
	}
	recorder_get_stats(r, &stats);
	recorder_free(r);

	assert_int_equal(stats.lines, 10);
	assert_int_equal(stats.rotations, 4);
	assert_int_equal(stats.lines_lost, 0);
	assert_int_equal(file_size(path), 80);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(file_size(rotated), 80);
	text = read_file(rotated);
	assert_non_null(strstr(text, "\"n\":06"));
	assert_non_null(strstr(text, "\"n\":07"));
	free(text);
	snprintf(rotated, sizeof(rotated), "%s.2", path);
	assert_int_equal(file_size(rotated), 80);
	text = read_file(rotated);
	assert_non_null(strstr(text, "\"n\":04"));
	free(text);
	snprintf(rotated, sizeof(rotated), "%s.3", path);
	assert_int_equal(file_size(rotated), -1);
	text = read_file(path);
	assert_string_equal(text, "{\"type\":\"tick\",\"n\":08,\"pad\":\"xxxxxxxx\"}\n{\"type\":\"tick\",\"n\":09,\"pad\":\"xxxxxxxx\"}\n");
	free(text);

	for (int i = 0; i < 3; i++) {
		snprintf(rotated, sizeof(rotated), i ? "%s.%d" : "%s", path, i);
		unlink(rotated);
	}
	rmdir(dir);
}

static void test_write_failure_loses_lines_and_recovers(void **state)
{
	char dir[] = "/tmp/nodecond-record-XXXXXX", path[128], blocker[128];
	struct recorder_options opts = { .max_size = 1 << 20, .max_files = 2 };
	struct recorder_stats stats;
	struct recorder *r;
	FILE *f;
	char *text;

	/* A regular file where the recording's directory should be makes every open fail. */
	assert_non_null(mkdtemp(dir));
	snprintf(blocker, sizeof(blocker), "%s/blocked", dir);
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/rec.ndjson", blocker);
	opts.path = path;
	assert_int_equal(recorder_new(&r), 0);
	assert_int_equal(recorder_configure(r, &opts), -ENOTDIR);

	assert_int_equal(recorder_append(r, "{\"a\":1}\n", 8), 0);
	assert_int_equal(recorder_append(r, "{\"a\":2}\n", 8), 0);
	assert_int_equal(recorder_flush(r), -ENOTDIR);
	recorder_get_stats(r, &stats);
	assert_int_equal(stats.lines_lost, 2);
	assert_int_equal(stats.write_errors, 1);

	/* Once the obstacle is gone, the next flush creates the directory and writes only the new line. */
	assert_int_equal(unlink(blocker), 0);
	assert_int_equal(recorder_append(r, "{\"a\":3}\n", 8), 0);
	assert_int_equal(recorder_flush(r), 0);
	recorder_free(r);
	text = read_file(path);
	assert_string_equal(text, "{\"a\":3}\n");
	free(text);
	unlink(path);
	rmdir(blocker);
	rmdir(dir);
}

static void test_stream_ring_drops_oldest(void **state)
{
	struct recorder *r;
	const char *line;
	char text[32];
	size_t len;
	uint64_t first;

	assert_int_equal(recorder_new(&r), 0);
	assert_false(recorder_active(r));
	first = recorder_stream_open(r);
	assert_true(recorder_active(r));
	assert_int_equal(first, 0);
	assert_null(recorder_line_get(r, 0, &len));

	for (int i = 0; i < RECORDER_RING_LINES + 6; i++) {
		snprintf(text, sizeof(text), "line %d\n", i);
		assert_int_equal(recorder_append(r, text, strlen(text)), 0);
	}
	assert_int_equal(recorder_oldest_seq(r), 6);
	assert_null(recorder_line_get(r, 5, &len));
	line = recorder_line_get(r, 6, &len);
	assert_non_null(line);
	assert_int_equal(len, strlen("line 6\n"));
	assert_memory_equal(line, "line 6\n", len);
	line = recorder_line_get(r, RECORDER_RING_LINES + 5, &len);
	assert_non_null(line);
	assert_memory_equal(line, "line 69\n", len);
	assert_null(recorder_line_get(r, RECORDER_RING_LINES + 6, &len));

	recorder_stream_close(r);
	assert_false(recorder_active(r));
	recorder_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_time_has_milliseconds),
		cmocka_unit_test(test_tick_line_replays_unchanged),
		cmocka_unit_test(test_rotation_keeps_max_files),
		cmocka_unit_test(test_write_failure_loses_lines_and_recovers),
		cmocka_unit_test(test_stream_ring_drops_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
