/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recorder: every tick's samples and readiness inputs, and every
 * discrete kernel event, as newline-delimited JSON (see docs/recording.md).
 * Lines go to a file that is rotated at a size limit (`run --record FILE`)
 * and to a ring that GET /v1/record streams read from.
 */
#ifndef NODECOND_DAEMON_RECORD_H
#define NODECOND_DAEMON_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conditions/engine.h"
#include "conditions/signal.h"

/* Lines kept for GET /v1/record streams. A stream that falls further behind receives a count of the lines it lost. */
#define RECORDER_RING_LINES 64

/* Room for a time from recorder_format_time(), terminator included. */
#define RECORDER_TIME_MAX 32

struct agent;
struct recorder;

struct recorder_options {
	const char *path;             /* NULL or "": no file, streams only */
	int64_t max_size;             /* bytes; the file is rotated before a write would pass this */
	unsigned max_files;           /* files kept, the current one included; at least 2 */
};

/* Counters for tests and logs. */
struct recorder_stats {
	uint64_t lines;               /* lines appended */
	uint64_t lines_lost;          /* lines a failed write discarded */
	uint64_t rotations;
	uint64_t write_errors;
};

/* Formats milliseconds since the Unix epoch as RFC 3339 in UTC with milliseconds. */
void recorder_format_time(int64_t ms, char *buf, size_t len);

/* Creates a recorder without a file; recorder_configure() adds one. Returns 0 or -ENOMEM. */
int recorder_new(struct recorder **ret);

/*
 * Sets the file, size limit and file count (at start and on SIGHUP). A new
 * path closes the old file. Returns 0, or the -errno of opening the file:
 * the recorder then retries at every flush, so the caller only logs it.
 */
int recorder_configure(struct recorder *r, const struct recorder_options *opts);

/* Writes what is buffered, closes the file and frees the recorder. NULL is ignored. */
void recorder_free(struct recorder *r);

/* Tests whether anything reads the lines: a file is configured or a stream is open. */
bool recorder_active(const struct recorder *r);

/*
 * Renders one tick as a line: {"type":"tick","time",...,"signals":[...]},
 * newline included. Returns a string the caller frees, or NULL without
 * memory.
 */
char *recorder_render_tick(int64_t time_ms, const struct signal_sample *samples,
			   const struct readiness_context *ready);

/* Appends one line (newline included) to the file buffer and the stream ring. Returns 0 or -ENOMEM. */
int recorder_append(struct recorder *r, const char *line, size_t len);

/*
 * Writes the buffered lines to the file, rotating it first when the write
 * would pass max_size. On a failed write the buffered lines are discarded
 * and counted, and the file is reopened at the next flush. Returns 0 or
 * -errno.
 */
int recorder_flush(struct recorder *r);

/*
 * Records one agent tick: the kernel events received since the last tick,
 * then the tick's samples and readiness inputs, and flushes. Does nothing
 * while the recorder is not active. Write failures are logged, rate-limited,
 * and never stop the agent.
 */
void recorder_record_tick(struct recorder *r, const struct agent *a, int64_t now_ms,
			  const struct readiness_context *ready);

void recorder_get_stats(const struct recorder *r, struct recorder_stats *ret);

/* Registers a GET /v1/record stream; returns the number of the first line it will read. */
uint64_t recorder_stream_open(struct recorder *r);
void recorder_stream_close(struct recorder *r);

/* Returns the number of the oldest line still in the ring. */
uint64_t recorder_oldest_seq(const struct recorder *r);

/* Returns line seq and its length, or NULL when it is not written yet or was dropped. */
const char *recorder_line_get(const struct recorder *r, uint64_t seq, size_t *ret_len);

/* `nodecond record`: streams GET /v1/record into a file for a duration. Returns the exit code. */
int recorder_command(int argc, char **argv);

#endif
