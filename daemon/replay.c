/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay. Each tick line is parsed into the samples the agent had, then
 * evaluate_tick() runs the condition engine and the taint planner exactly
 * as the agent's tick does, at the time the line carries. Nothing sleeps.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/evaluate.h"
#include "daemon/log.h"
#include "daemon/pod_json.h"
#include "daemon/record.h"
#include "daemon/replay.h"
#include "daemon/timefmt.h"

static int field_error(char *err, size_t err_len, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int field_error(char *err, size_t err_len, const char *field, const char *fmt, ...)
{
	char detail[REPLAY_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(err, err_len, "field %s: %s", field, detail);
	return -EINVAL;
}

static const char *json_kind_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "a list";
	return "an object";
}

void replay_reader_init(struct replay_reader *rd, int64_t interval_ms)
{
	memset(rd, 0, sizeof(*rd));
	for (int i = 0; i < _SIGNAL_MAX; i++) {
		rd->samples[i].id = (enum signal_id)i;
		signal_sample_set_unobserved(&rd->samples[i], "replay", "not in the recording yet");
	}
	rd->ready.kubelet_expected = false;
	rd->ready.samplers_running = true;
	rd->interval_ms = interval_ms;
}

/*
 * Reads an integer field. JSON numbers are doubles here, so integers above
 * 2^53 (8 PiB in bytes) arrive rounded.
 */
static int parse_int(const cJSON *v, const char *field, int64_t *ret, char *err, size_t err_len)
{
	double d;

	if (!cJSON_IsNumber(v))
		return field_error(err, err_len, field, "expected an integer, found %s", json_kind_name(v));
	d = v->valuedouble;
	if (d != floor(d) || d < -9.2e18 || d > 9.2e18)
		return field_error(err, err_len, field, "invalid value %g: expected an integer", d);
	*ret = (int64_t)d;
	return 0;
}

static int parse_string(const cJSON *v, const char *field, char *dst, size_t len, char *err, size_t err_len)
{
	if (!cJSON_IsString(v))
		return field_error(err, err_len, field, "expected a string, found %s", json_kind_name(v));
	if (strlen(v->valuestring) >= len)
		return field_error(err, err_len, field, "\"%.40s...\" is too long: at most %zu characters",
				   v->valuestring, len - 1);
	snprintf(dst, len, "%s", v->valuestring);
	return 0;
}

static int parse_bool(const cJSON *v, const char *field, bool *ret, char *err, size_t err_len)
{
	if (!cJSON_IsBool(v))
		return field_error(err, err_len, field, "expected true or false, found %s", json_kind_name(v));
	*ret = cJSON_IsTrue(v);
	return 0;
}

/* Parses signals[index] into a fresh sample and stores its signal in *ret_id. */
static int parse_signal(const cJSON *o, size_t index, struct signal_sample *s, enum signal_id *ret_id, char *err,
			size_t err_len)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	const cJSON *observed = cJSON_GetObjectItemCaseSensitive(o, "observed");
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "value");
	const struct signal_info *info;
	const cJSON *item;
	char field[64];
	enum signal_id id;
	int r;

	snprintf(field, sizeof(field), "signals[%zu]", index);
	if (!cJSON_IsObject(o))
		return field_error(err, err_len, field, "expected an object such as {\"name\": \"pid.available\", "
				   "\"value\": 1000}, found %s", json_kind_name(o));

	snprintf(field, sizeof(field), "signals[%zu].name", index);
	if (!name)
		return field_error(err, err_len, field, "missing; expected a signal name such as memory.available");
	if (!cJSON_IsString(name))
		return field_error(err, err_len, field, "expected a string, found %s", json_kind_name(name));
	id = signal_from_name(name->valuestring);
	if (id == _SIGNAL_INVALID)
		return field_error(err, err_len, field, "unknown signal \"%.64s\"; see docs/signals.md for the names",
				   name->valuestring);
	info = signal_info_get(id);

	memset(s, 0, sizeof(*s));
	s->id = id;
	snprintf(s->source, sizeof(s->source), "replay");
	s->observed = true;
	if (observed) {
		snprintf(field, sizeof(field), "signals[%zu].observed", index);
		r = parse_bool(observed, field, &s->observed, err, err_len);
		if (r < 0)
			return r;
	}

	cJSON_ArrayForEach(item, o) {
		const char *key = item->string;

		snprintf(field, sizeof(field), "signals[%zu].%.30s", index, key);
		if (strcmp(key, "name") == 0 || strcmp(key, "observed") == 0) {
			continue;
		} else if (strcmp(key, "unit") == 0) {
			if (!cJSON_IsString(item) || strcmp(item->valuestring, signal_unit_name(info->unit)) != 0)
				return field_error(err, err_len, field, "%s has unit \"%s\"; leave the field out or write it",
						   info->name, signal_unit_name(info->unit));
		} else if (strcmp(key, "value") == 0 || strcmp(key, "capacity") == 0 || strcmp(key, "windowMin") == 0) {
			int64_t v;

			if (!s->observed)
				return field_error(err, err_len, field, "given for a sample with \"observed\": false; "
						   "a sample without observation has no %s", key);
			r = parse_int(item, field, &v, err, err_len);
			if (r < 0)
				return r;
			if (key[0] == 'v') {
				s->value = v;
			} else if (key[0] == 'c') {
				s->has_capacity = true;
				s->capacity = v;
			} else {
				s->has_window_min = true;
				s->window_min = v;
			}
		} else if (strcmp(key, "source") == 0) {
			r = parse_string(item, field, s->source, sizeof(s->source), err, err_len);
			if (r < 0)
				return r;
		} else if (strcmp(key, "reason") == 0) {
			r = parse_string(item, field, s->reason, sizeof(s->reason), err, err_len);
			if (r < 0)
				return r;
		} else if (strcmp(key, "detail") == 0) {
			r = parse_string(item, field, s->detail, sizeof(s->detail), err, err_len);
			if (r < 0)
				return r;
		} else {
			return field_error(err, err_len, field, "unknown field; expected one of: name, unit, observed, "
					   "value, capacity, windowMin, source, reason, detail");
		}
	}
	if (s->observed && !value) {
		snprintf(field, sizeof(field), "signals[%zu].value", index);
		return field_error(err, err_len, field, "missing; an observed sample needs a value "
				   "(or write \"observed\": false)");
	}
	*ret_id = id;
	return 0;
}

/* Parses a tick into next, which starts as a copy of the reader's state. */
static int parse_tick(const cJSON *root, struct replay_reader *next, char *err, size_t err_len)
{
	bool listed[_SIGNAL_MAX] = { false };
	const cJSON *item;
	int64_t time_ms;
	int r;

	time_ms = next->has_time ? next->time_ms + next->interval_ms : REPLAY_DEFAULT_START_MS;
	cJSON_ArrayForEach(item, root) {
		const char *key = item->string;

		if (strcmp(key, "type") == 0)
			continue;
		if (strcmp(key, "time") == 0) {
			if (!cJSON_IsString(item))
				return field_error(err, err_len, "time", "expected an RFC 3339 time such as "
						   "2026-01-02T03:04:05.678Z, found %s", json_kind_name(item));
			if (timefmt_parse_rfc3339(item->valuestring, &time_ms) < 0)
				return field_error(err, err_len, "time", "invalid time \"%.64s\": expected RFC 3339 "
						   "such as 2026-01-02T03:04:05.678Z", item->valuestring);
		} else if (strcmp(key, "kubeletExpected") == 0) {
			r = parse_bool(item, key, &next->ready.kubelet_expected, err, err_len);
			if (r < 0)
				return r;
		} else if (strcmp(key, "samplersRunning") == 0) {
			r = parse_bool(item, key, &next->ready.samplers_running, err, err_len);
			if (r < 0)
				return r;
		} else if (strcmp(key, "signals") == 0) {
			const cJSON *s;
			size_t i = 0;

			if (!cJSON_IsArray(item))
				return field_error(err, err_len, "signals", "expected a list, found %s",
						   json_kind_name(item));
			cJSON_ArrayForEach(s, item) {
				struct signal_sample sample;
				enum signal_id id = _SIGNAL_INVALID;

				r = parse_signal(s, i, &sample, &id, err, err_len);
				if (r < 0)
					return r;
				if (listed[id]) {
					char field[64];

					snprintf(field, sizeof(field), "signals[%zu].name", i);
					return field_error(err, err_len, field, "%s is listed twice in this tick",
							   signal_info_get(id)->name);
				}
				listed[id] = true;
				next->samples[id] = sample;
				i++;
			}
		} else {
			return field_error(err, err_len, key, "unknown field; expected one of: type, time, "
					   "kubeletExpected, samplersRunning, signals");
		}
	}

	if (next->has_time && time_ms < next->time_ms) {
		char t[RECORDER_TIME_MAX], prev[RECORDER_TIME_MAX];

		recorder_format_time(time_ms, t, sizeof(t));
		recorder_format_time(next->time_ms, prev, sizeof(prev));
		return field_error(err, err_len, "time", "%s is earlier than the previous tick's %s; "
				   "ticks must be in time order", t, prev);
	}
	next->time_ms = time_ms;
	next->has_time = true;
	return 0;
}

int replay_reader_parse(struct replay_reader *rd, const char *line, enum replay_line_type *ret, char *err,
			size_t err_len)
{
	struct replay_reader *next;
	const char *type = "tick";
	const cJSON *type_item;
	const char *p = line;
	cJSON *root;
	int r = 0;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (*p == '\0' || *p == '#') {
		*ret = REPLAY_LINE_IGNORED;
		return 0;
	}

	root = cJSON_Parse(p);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();

		snprintf(err, err_len, "invalid JSON near \"%.20s\": expected one JSON object per line",
			 at && *at ? at : "the end of the line");
		return -EINVAL;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(err, err_len, "expected a JSON object, found %s", json_kind_name(root));
		r = -EINVAL;
		goto out;
	}

	type_item = cJSON_GetObjectItemCaseSensitive(root, "type");
	if (type_item && !cJSON_IsString(type_item)) {
		r = field_error(err, err_len, "type", "expected a string, found %s", json_kind_name(type_item));
		goto out;
	}
	if (type_item)
		type = type_item->valuestring;

	if (strcmp(type, "oomKill") == 0 || strcmp(type, "kubeletExit") == 0) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "time");
		int64_t ms;

		if (t && (!cJSON_IsString(t) || timefmt_parse_rfc3339(t->valuestring, &ms) < 0))
			r = field_error(err, err_len, "time", "expected an RFC 3339 time such as 2026-01-02T03:04:05.678Z");
		*ret = REPLAY_LINE_KERNEL_EVENT;
	} else if (strcmp(type, "heartbeat") == 0) {
		*ret = REPLAY_LINE_IGNORED;
	} else if (strcmp(type, "dropped") == 0) {
		int64_t count = 0;

		r = parse_int(cJSON_GetObjectItemCaseSensitive(root, "count"), "count", &count, err, err_len);
		if (r == 0) {
			rd->dropped += count > 0 ? (uint64_t)count : 0;
			*ret = REPLAY_LINE_DROPPED;
		}
	} else if (strcmp(type, "tick") == 0) {
		next = malloc(sizeof(*next));
		if (!next) {
			r = -ENOMEM;
			snprintf(err, err_len, "out of memory");
			goto out;
		}
		*next = *rd;
		r = parse_tick(root, next, err, err_len);
		if (r == 0) {
			*rd = *next;
			*ret = REPLAY_LINE_TICK;
		}
		free(next);
	} else {
		r = field_error(err, err_len, "type", "unknown type \"%.40s\": expected tick, oomKill, kubeletExit, "
				"dropped or heartbeat", type);
	}

out:
	cJSON_Delete(root);
	return r;
}

/*
 * Reads one line without its newline. Returns its length, -1 at the end,
 * or REPLAY_LINE_MAX + 1 as soon as the line is longer than that, so input
 * without newlines (such as /dev/zero) never grows the buffer without bound.
 */
static ssize_t read_line(FILE *in, char **buf, size_t *cap)
{
	size_t n = 0;
	int c;

	if (!*buf) {
		*cap = 4096;
		*buf = malloc(*cap);
		if (!*buf)
			return -1;
	}
	while ((c = getc(in)) != EOF && c != '\n') {
		if (n + 1 >= *cap) {
			size_t bigger = *cap * 2;
			char *p;

			if (n > REPLAY_LINE_MAX)
				return REPLAY_LINE_MAX + 1;
			p = realloc(*buf, bigger);
			if (!p)
				return -1;
			*buf = p;
			*cap = bigger;
		}
		(*buf)[n++] = (char)c;
	}
	(*buf)[n] = '\0';
	if (c == EOF && n == 0)
		return -1;
	return (ssize_t)n;
}

int replay_run(const struct nodecond_config *cfg, FILE *in, const char *name, replay_transition_fn fn,
	       void *userdata, struct replay_stats *stats, char *err, size_t err_len)
{
	struct taint taints[EVALUATE_TAINTS_MAX];
	struct evaluate_taints plan = { taints, 0, EVALUATE_TAINTS_MAX };
	struct condition_engine *engine = NULL;
	struct replay_reader *rd = NULL;
	struct evaluate_result *result = NULL;
	char detail[REPLAY_ERROR_MAX];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = 0;

	memset(stats, 0, sizeof(*stats));
	engine = malloc(sizeof(*engine));
	rd = malloc(sizeof(*rd));
	result = malloc(sizeof(*result));
	if (!engine || !rd || !result) {
		snprintf(err, err_len, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	condition_engine_init(engine, &cfg->engine);
	replay_reader_init(rd, cfg->sample_interval_ms);

	while ((len = read_line(in, &line, &cap)) >= 0) {
		enum replay_line_type type;

		stats->lines++;
		if (len > REPLAY_LINE_MAX) {
			snprintf(err, err_len, "%s:%zu: the line is longer than %d bytes", name, stats->lines,
				 REPLAY_LINE_MAX);
			r = -EINVAL;
			goto out;
		}
		r = replay_reader_parse(rd, line, &type, detail, sizeof(detail));
		if (r < 0) {
			snprintf(err, err_len, "%s:%zu: %s", name, stats->lines, detail);
			goto out;
		}
		if (type == REPLAY_LINE_KERNEL_EVENT)
			stats->kernel_events++;
		if (type != REPLAY_LINE_TICK)
			continue;

		if (stats->ticks++ == 0)
			stats->first_ms = rd->time_ms;
		stats->last_ms = rd->time_ms;
		evaluate_tick(engine, &cfg->taint_profile, rd->samples, &rd->ready, rd->time_ms, &plan, result);
		for (size_t i = 0; i < result->n_transitions; i++) {
			struct replay_transition t = {
				.time_ms = rd->time_ms,
				.line = stats->lines,
				.transition = &result->transitions[i],
				.taints = taints,
				.n_taints = plan.n,
			};

			stats->transitions++;
			if (fn)
				fn(&t, userdata);
		}
	}
	if (ferror(in)) {
		/* A directory or an unreadable file is a bad argument, like a bad line. */
		r = errno == EISDIR ? -EINVAL : -EIO;
		snprintf(err, err_len, "%s: reading failed after line %zu: %s", name, stats->lines, strerror(errno));
	}

out:
	if (rd)
		stats->dropped = rd->dropped;
	free(line);
	free(result);
	free(rd);
	free(engine);
	return r;
}

static void format_taint_list(const struct taint *taints, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s%s%s:%s", i ? ", " : "", taints[i].key,
					 taints[i].value[0] ? "=" : "", taints[i].value,
					 taint_effect_name(taints[i].effect));
}

static void print_transition_text(const struct replay_transition *t, void *userdata)
{
	const struct condition_transition *tr = t->transition;
	char time[RECORDER_TIME_MAX], list[1024];

	recorder_format_time(t->time_ms, time, sizeof(time));
	format_taint_list(t->taints, t->n_taints, list, sizeof(list));
	printf("%s  %s (%s): %s -> %s, reason %s (line %zu)\n", time, condition_kind_name(tr->kind),
	       tr->condition.type, condition_status_name(tr->from), condition_status_name(tr->to),
	       tr->condition.reason, t->line);
	printf("    message: %s\n", tr->condition.message);
	printf("    taints:  %s\n", list);
}

static void print_transition_json(const struct replay_transition *t, void *userdata)
{
	const struct condition_transition *tr = t->transition;
	char time[RECORDER_TIME_MAX];
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray();
	char *text;

	recorder_format_time(t->time_ms, time, sizeof(time));
	cJSON_AddStringToObject(o, "type", "transition");
	cJSON_AddStringToObject(o, "time", time);
	cJSON_AddNumberToObject(o, "line", (double)t->line);
	cJSON_AddStringToObject(o, "kind", condition_kind_name(tr->kind));
	cJSON_AddStringToObject(o, "conditionType", tr->condition.type);
	cJSON_AddStringToObject(o, "from", condition_status_name(tr->from));
	cJSON_AddStringToObject(o, "to", condition_status_name(tr->to));
	cJSON_AddStringToObject(o, "reason", tr->condition.reason);
	cJSON_AddStringToObject(o, "message", tr->condition.message);
	for (size_t i = 0; i < t->n_taints; i++)
		cJSON_AddItemToArray(list, pod_json_taint(&t->taints[i]));
	cJSON_AddItemToObject(o, "taints", list);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text)
		printf("%s\n", text);
	free(text);
}

static void usage_replay(FILE *out)
{
	fprintf(out,
		"Usage: nodecond replay [--config FILE] [-o json] SAMPLES\n"
		"\n"
		"Feeds a recording (from `nodecond run --record` or `nodecond record`, or\n"
		"written by hand; see docs/recording.md) through the agent's condition\n"
		"engine and taint planner on the recording's own clock, and prints every\n"
		"transition: time, condition, old and new status, reason, message and the\n"
		"taints after it. SAMPLES - reads stdin. An invalid line stops the replay\n"
		"with exit code 2 and names the line and the field.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE   the configuration whose thresholds to apply (default: built-in)\n"
		"  -o, --output FMT    text (default) or json (one transition per line)\n"
		"  -h, --help          show this help\n");
}

int replay_command(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config_flags flags = { 0 };
	struct nodecond_config *cfg;
	struct replay_stats stats;
	char err[CONFIG_ERROR_MAX];
	const char *samples;
	bool json = false;
	FILE *in;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			flags.config_path = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0) {
				json = true;
			} else if (strcmp(optarg, "text") != 0 && strcmp(optarg, "table") != 0) {
				fprintf(stderr, "nodecond replay: invalid output format \"%s\": expected text or json\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage_replay(stdout);
			return 0;
		default:
			usage_replay(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "nodecond replay: %s\n", optind < argc ? "expected one SAMPLES file" : "missing SAMPLES");
		usage_replay(stderr);
		return 2;
	}
	samples = argv[optind];

	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return 1;
	r = config_build(cfg, &flags, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "nodecond replay: %s\n", err);
		free(cfg);
		return 2;
	}
	in = strcmp(samples, "-") == 0 ? stdin : fopen(samples, "re");
	if (!in) {
		fprintf(stderr, "nodecond replay: cannot open %s: %s\n", samples, strerror(errno));
		free(cfg);
		return 2;
	}

	r = replay_run(cfg, in, samples, json ? print_transition_json : print_transition_text, NULL, &stats, err,
		       sizeof(err));
	if (in != stdin)
		fclose(in);
	free(cfg);
	fflush(stdout);
	if (stats.dropped > 0)
		fprintf(stderr, "nodecond replay: warning: the recording says %llu ticks are missing (its stream "
			"read too slowly); transitions near them may differ from the agent's\n",
			(unsigned long long)stats.dropped);
	if (r < 0) {
		fprintf(stderr, "nodecond replay: %s\n", err);
		return r == -EINVAL ? 2 : 1;
	}
	if (!json) {
		char first[RECORDER_TIME_MAX] = "-", last[RECORDER_TIME_MAX] = "-";

		if (stats.ticks > 0) {
			recorder_format_time(stats.first_ms, first, sizeof(first));
			recorder_format_time(stats.last_ms, last, sizeof(last));
		}
		printf("replayed %zu ticks from %s to %s: %zu transitions\n", stats.ticks, first, last,
		       stats.transitions);
	}
	return 0;
}
