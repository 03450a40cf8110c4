/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay: feeds a recording (docs/recording.md) through the agent's own
 * evaluation (daemon/evaluate.h) on the recording's clock, and reports
 * every condition transition with the taints that follow it.
 */
#ifndef NODECOND_DAEMON_REPLAY_H
#define NODECOND_DAEMON_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conditions/engine.h"
#include "conditions/signal.h"
#include "daemon/config.h"
#include "taints/taint.h"

/* Lines longer than this are invalid. */
#define REPLAY_LINE_MAX (1024 * 1024)

/* The clock of a hand-written history whose first tick has no time: 2000-01-01T00:00:00Z. */
#define REPLAY_DEFAULT_START_MS 946684800000LL

#define REPLAY_ERROR_MAX 512

enum replay_line_type {
	REPLAY_LINE_TICK,             /* samples to evaluate */
	REPLAY_LINE_KERNEL_EVENT,     /* an OOM kill or kubelet exit; its effect is in the ticks' samples */
	REPLAY_LINE_DROPPED,          /* a /v1/record stream lost ticks here */
	REPLAY_LINE_IGNORED,          /* blank, a # comment, or a stream heartbeat */
};

/*
 * The reader's state between lines: each tick starts from the previous
 * tick's samples and readiness inputs and replaces what it lists.
 */
struct replay_reader {
	struct signal_sample samples[_SIGNAL_MAX];
	struct readiness_context ready;
	int64_t time_ms;              /* the last tick's time */
	bool has_time;
	int64_t interval_ms;          /* the step for a tick without a time */
	uint64_t dropped;             /* lines that a "dropped" line says are missing */
};

/* Starts a reader: no signal observed, no kubelet expected, samplers running. */
void replay_reader_init(struct replay_reader *rd, int64_t interval_ms);

/*
 * Parses one line (without its newline) into the reader's state. Returns
 * 0 with *ret set, or -EINVAL with err naming the field and what was
 * expected ("signals[1].value: expected an integer, found a string"). The
 * reader is unchanged on error.
 */
int replay_reader_parse(struct replay_reader *rd, const char *line, enum replay_line_type *ret, char *err,
			size_t err_len);

/* One transition found by the replay. */
struct replay_transition {
	int64_t time_ms;
	size_t line;                  /* the recording's line, counted from 1 */
	const struct condition_transition *transition;
	const struct taint *taints;   /* the taints after the tick */
	size_t n_taints;
};

typedef void (*replay_transition_fn)(const struct replay_transition *t, void *userdata);

struct replay_stats {
	size_t lines;
	size_t ticks;
	size_t kernel_events;
	uint64_t dropped;             /* ticks missing from the recording, per its "dropped" lines */
	size_t transitions;
	int64_t first_ms;             /* the first and last tick's times; 0 without ticks */
	int64_t last_ms;
};

/*
 * Replays the recording in `in` with the configuration's thresholds,
 * calling fn for each transition. Returns 0, -EINVAL for an invalid line
 * with err "NAME:LINE: FIELD: problem", or another -errno with err set.
 * stats covers the lines read until then.
 */
int replay_run(const struct nodecond_config *cfg, FILE *in, const char *name, replay_transition_fn fn,
	       void *userdata, struct replay_stats *stats, char *err, size_t err_len);

/* `nodecond replay`: returns the exit code (2 for an invalid line or configuration). */
int replay_command(int argc, char **argv);

#endif
