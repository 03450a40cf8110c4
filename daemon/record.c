/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recorder. Lines are rendered once per tick and handed to two
 * readers: a buffer written to the file with one write() at the end of the
 * tick (no fsync: the page cache absorbs it), and a ring of recent lines
 * that GET /v1/record streams copy from.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conditions/quantity.h"
#include "daemon/agent.h"
#include "daemon/cli.h"
#include "daemon/log.h"
#include "daemon/path.h"
#include "daemon/record.h"
#include "daemon/render.h"
#include "daemon/sampler.h"

#define RECORDER_DEFAULT_SOCKET "/run/nodecond/nodecond.sock"

struct ring_line {
	char *text;
	size_t len;
};

struct recorder {
	char path[PATH_MAX];          /* "" when there is no file */
	int64_t max_size;
	unsigned max_files;
	int fd;                       /* -1 until opened, and after a failed write */
	int64_t file_size;

	char *buf;                    /* lines not yet written to the file */
	size_t buf_len;
	size_t buf_cap;
	size_t buf_lines;

	struct ring_line ring[RECORDER_RING_LINES];
	uint64_t next_seq;            /* number of the next line appended to the ring */
	unsigned n_streams;

	uint64_t kernel_events_seen;  /* kernel events received so far, dropped ones included */
	bool kernel_events_synced;    /* kernel_events_seen is current */

	struct recorder_stats stats;
	struct log_ratelimit write_ratelimit;
};

void recorder_format_time(int64_t ms, char *buf, size_t len)
{
	time_t seconds = (time_t)(ms / 1000);
	int millis = (int)(ms % 1000);
	struct tm tm;
	char base[24];

	/* Times before the epoch do not occur in recordings; keep the division exact anyway. */
	if (millis < 0) {
		millis += 1000;
		seconds--;
	}
	if (!gmtime_r(&seconds, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "invalid");
		return;
	}
	snprintf(buf, len, "%s.%03dZ", base, millis);
}

int recorder_new(struct recorder **ret)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->write_ratelimit = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	*ret = r;
	return 0;
}

static int recorder_open_file(struct recorder *r)
{
	struct stat st;
	int fd;

	(void)path_mkdir_parents(r->path);
	fd = open(r->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	r->fd = fd;
	r->file_size = st.st_size;
	return 0;
}

static void recorder_close_file(struct recorder *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

int recorder_configure(struct recorder *r, const struct recorder_options *opts)
{
	const char *path = opts->path ? opts->path : "";

	r->max_size = opts->max_size;
	r->max_files = opts->max_files < 2 ? 2 : opts->max_files;
	if (strcmp(path, r->path) == 0 && r->fd >= 0)
		return 0;

	recorder_flush(r);
	recorder_close_file(r);
	if (strlen(path) >= sizeof(r->path))
		return -ENAMETOOLONG;
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (!r->path[0])
		return 0;
	return recorder_open_file(r);
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	if (recorder_flush(r) < 0)
		log_warning("record: the last %zu lines for %s could not be written", r->buf_lines, r->path);
	recorder_close_file(r);
	for (size_t i = 0; i < RECORDER_RING_LINES; i++)
		free(r->ring[i].text);
	free(r->buf);
	free(r);
}

bool recorder_active(const struct recorder *r)
{
	return r && (r->path[0] || r->n_streams > 0);
}

/* Prints o as one line with its newline, and frees o. Returns NULL without memory. */
static char *json_line(cJSON *o)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	char *line;
	size_t len;

	cJSON_Delete(o);
	if (!text)
		return NULL;
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	return line;
}

char *recorder_render_tick(int64_t time_ms, const struct signal_sample *samples,
			   const struct readiness_context *ready)
{
	char t[RECORDER_TIME_MAX];
	cJSON *o = cJSON_CreateObject();
	cJSON *list;

	if (!o)
		return NULL;
	recorder_format_time(time_ms, t, sizeof(t));
	cJSON_AddStringToObject(o, "type", "tick");
	cJSON_AddStringToObject(o, "time", t);
	cJSON_AddBoolToObject(o, "kubeletExpected", ready->kubelet_expected);
	cJSON_AddBoolToObject(o, "samplersRunning", ready->samplers_running);
	list = cJSON_AddArrayToObject(o, "signals");
	for (int i = 0; i < _SIGNAL_MAX; i++) {
		struct signal_sample s = samples[i];

		s.id = (enum signal_id)i;
		cJSON_AddItemToArray(list, render_signal(&s));
	}
	return json_line(o);
}

static int ring_push(struct recorder *r, const char *line, size_t len)
{
	struct ring_line *slot = &r->ring[r->next_seq % RECORDER_RING_LINES];
	char *copy = malloc(len + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, line, len);
	copy[len] = '\0';
	free(slot->text);
	slot->text = copy;
	slot->len = len;
	r->next_seq++;
	return 0;
}

static int buffer_push(struct recorder *r, const char *line, size_t len)
{
	if (r->buf_len + len > r->buf_cap) {
		size_t cap = r->buf_cap ? r->buf_cap : 16384;
		char *bigger;

		while (cap < r->buf_len + len)
			cap *= 2;
		bigger = realloc(r->buf, cap);
		if (!bigger)
			return -ENOMEM;
		r->buf = bigger;
		r->buf_cap = cap;
	}
	memcpy(r->buf + r->buf_len, line, len);
	r->buf_len += len;
	r->buf_lines++;
	return 0;
}

int recorder_append(struct recorder *r, const char *line, size_t len)
{
	int r1 = 0, r2 = 0;

	r->stats.lines++;
	if (r->path[0])
		r1 = buffer_push(r, line, len);
	if (r->n_streams > 0)
		r2 = ring_push(r, line, len);
	return r1 < 0 ? r1 : r2;
}

/* Shifts FILE.1 .. FILE.(max_files - 2) up by one and renames FILE to FILE.1. */
static int recorder_rotate(struct recorder *r)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];

	recorder_close_file(r);
	for (unsigned i = r->max_files - 1; i >= 2; i--) {
		snprintf(from, sizeof(from), "%s.%u", r->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", r->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	snprintf(to, sizeof(to), "%s.1", r->path);
	if (rename(r->path, to) < 0 && errno != ENOENT)
		return -errno;
	r->stats.rotations++;
	return recorder_open_file(r);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int recorder_flush(struct recorder *r)
{
	int ret = 0;

	if (r->buf_len == 0 || !r->path[0])
		return 0;
	if (r->fd < 0)
		ret = recorder_open_file(r);
	/* A batch larger than max_size goes whole into a fresh file rather than being split. */
	if (ret == 0 && r->file_size > 0 && r->file_size + (int64_t)r->buf_len > r->max_size)
		ret = recorder_rotate(r);
	if (ret == 0)
		ret = write_all(r->fd, r->buf, r->buf_len);
	if (ret < 0) {
		r->stats.write_errors++;
		r->stats.lines_lost += r->buf_lines;
		recorder_close_file(r);
	} else {
		r->file_size += (int64_t)r->buf_len;
	}
	r->buf_len = 0;
	r->buf_lines = 0;
	return ret;
}

/* Appends the kernel events received since the last tick, oldest first. */
static void record_kernel_events(struct recorder *r, const struct agent *a)
{
	struct sampler_event *events;
	uint64_t dropped = 0, total;
	int n, first;

	if (!a->sampler)
		return;
	events = malloc(SAMPLER_EVENTS_MAX * sizeof(*events));
	if (!events)
		return;
	n = sampler_events(a->sampler, events, SAMPLER_EVENTS_MAX, &dropped);
	total = dropped + (uint64_t)(n > 0 ? n : 0);
	if (!r->kernel_events_synced) {
		/* Events from before the recording started are not part of it. */
		r->kernel_events_seen = total;
		r->kernel_events_synced = true;
	}
	first = total - r->kernel_events_seen >= (uint64_t)n ? 0 : n - (int)(total - r->kernel_events_seen);
	r->kernel_events_seen = total;

	for (int i = first; i < n; i++) {
		char *line = json_line(render_kernel_event(a, &events[i]));

		if (!line)
			continue;
		recorder_append(r, line, strlen(line));
		free(line);
	}
	free(events);
}

void recorder_record_tick(struct recorder *r, const struct agent *a, int64_t now_ms,
			  const struct readiness_context *ready)
{
	char *line;
	int ret;

	if (!recorder_active(r)) {
		if (r)
			r->kernel_events_synced = false;
		return;
	}

	record_kernel_events(r, a);
	line = recorder_render_tick(now_ms, a->samples, ready);
	if (line) {
		recorder_append(r, line, strlen(line));
		free(line);
	}

	ret = recorder_flush(r);
	if (ret < 0)
		log_ratelimited(&r->write_ratelimit, LOG_WARNING,
				"record: writing %s failed: %s; %llu lines lost so far; the agent keeps running and "
				"retries at the next tick (check free space and permissions)",
				r->path, strerror(-ret), (unsigned long long)r->stats.lines_lost);
}

void recorder_get_stats(const struct recorder *r, struct recorder_stats *ret)
{
	*ret = r->stats;
}

uint64_t recorder_stream_open(struct recorder *r)
{
	r->n_streams++;
	return r->next_seq;
}

void recorder_stream_close(struct recorder *r)
{
	if (r->n_streams > 0)
		r->n_streams--;
}

uint64_t recorder_oldest_seq(const struct recorder *r)
{
	return r->next_seq > RECORDER_RING_LINES ? r->next_seq - RECORDER_RING_LINES : 0;
}

const char *recorder_line_get(const struct recorder *r, uint64_t seq, size_t *ret_len)
{
	const struct ring_line *slot;

	if (seq < recorder_oldest_seq(r) || seq >= r->next_seq)
		return NULL;
	slot = &r->ring[seq % RECORDER_RING_LINES];
	if (!slot->text)
		return NULL;
	*ret_len = slot->len;
	return slot->text;
}

/* State of one `nodecond record` stream: the output file and an incomplete line. */
struct record_stream {
	CURL *curl;
	const char *path;             /* the file, opened at the first line so a dead socket leaves it alone */
	int fd;                       /* -1 until the first line arrives */
	long status;                  /* the HTTP status, once known */
	char *line;
	size_t len;
	size_t cap;
	uint64_t ticks;
	uint64_t lines;
	int write_error;              /* -errno of a failed write to the file */
	char error_body[1024];        /* the start of a response body other than 200 OK */
	size_t error_len;
};

/* Writes one complete line to the file; heartbeats only keep the stream alive and are left out. */
static void record_stream_line(struct record_stream *st)
{
	if (strstr(st->line, "\"type\":\"heartbeat\""))
		return;
	if (strncmp(st->line, "{\"type\":\"tick\"", 14) == 0)
		st->ticks++;
	st->line[st->len] = '\n';
	if (st->fd < 0 && st->write_error == 0) {
		st->fd = strcmp(st->path, "-") == 0 ? STDOUT_FILENO :
			open(st->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		if (st->fd < 0)
			st->write_error = -errno;
	}
	if (st->write_error == 0)
		st->write_error = write_all(st->fd, st->line, st->len + 1);
	st->lines++;
}

static size_t record_stream_collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct record_stream *st = userdata;
	size_t n = size * nmemb;

	if (st->status == 0)
		curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &st->status);
	if (st->status != 200) {
		size_t room = sizeof(st->error_body) - 1 - st->error_len;

		memcpy(st->error_body + st->error_len, ptr, n < room ? n : room);
		st->error_len += n < room ? n : room;
		st->error_body[st->error_len] = '\0';
		return n;
	}

	for (size_t i = 0; i < n; i++) {
		if (st->len + 2 > st->cap) {
			size_t cap = st->cap ? st->cap * 2 : 65536;
			char *bigger = realloc(st->line, cap);

			if (!bigger)
				return 0;
			st->line = bigger;
			st->cap = cap;
		}
		if (ptr[i] != '\n') {
			st->line[st->len++] = ptr[i];
			continue;
		}
		st->line[st->len] = '\0';
		record_stream_line(st);
		st->len = 0;
	}
	return st->write_error == 0 ? n : 0;
}

static void usage_record(FILE *out)
{
	fprintf(out,
		"Usage: nodecond record --file FILE [--duration DURATION] [--socket PATH]\n"
		"\n"
		"Asks a running agent for every tick's samples and every kernel event\n"
		"(GET /v1/record) and writes them to FILE as newline-delimited JSON, the\n"
		"format `nodecond replay` reads. FILE is replaced.\n"
		"\n"
		"Options:\n"
		"  -f, --file FILE          the recording to write (required); - writes to stdout\n"
		"  -d, --duration DURATION  how long to record, as a Go duration such as 10m\n"
		"                           (default: until interrupted)\n"
		"      --socket PATH        the agent's Unix socket (default %s)\n"
		"  -h, --help               show this help\n",
		RECORDER_DEFAULT_SOCKET);
}

int recorder_command(int argc, char **argv)
{
	enum { OPT_SOCKET = 256 };
	static const struct option options[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "duration", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *socket_path = RECORDER_DEFAULT_SOCKET;
	struct record_stream st = { .fd = -1 };
	char errbuf[CURL_ERROR_SIZE] = "", detail[256];
	int64_t duration_ms = 0;
	CURLcode rc;
	int c, exit_code = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:d:h", options, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'd':
			if (duration_parse(optarg, &duration_ms, detail, sizeof(detail)) < 0 || duration_ms <= 0) {
				fprintf(stderr, "nodecond record: --duration: invalid duration \"%s\": "
					"expected a positive Go duration such as 30s or 10m\n", optarg);
				return 2;
			}
			break;
		case OPT_SOCKET:
			socket_path = optarg;
			break;
		case 'h':
			usage_record(stdout);
			return 0;
		default:
			usage_record(stderr);
			return 2;
		}
	}
	if (!file || optind < argc) {
		fprintf(stderr, "nodecond record: %s\n", file ? "unexpected argument" : "missing --file FILE");
		usage_record(stderr);
		return 2;
	}

	st.path = file;
	st.fd = -1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	st.curl = curl_easy_init();
	if (!st.curl) {
		fprintf(stderr, "nodecond record: cannot initialise libcurl\n");
		goto out;
	}
	curl_easy_setopt(st.curl, CURLOPT_URL, "http://localhost/v1/record");
	curl_easy_setopt(st.curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(st.curl, CURLOPT_WRITEFUNCTION, record_stream_collect);
	curl_easy_setopt(st.curl, CURLOPT_WRITEDATA, &st);
	curl_easy_setopt(st.curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(st.curl, CURLOPT_NOSIGNAL, 1L);
	if (duration_ms > 0)
		curl_easy_setopt(st.curl, CURLOPT_TIMEOUT_MS, (long)duration_ms);

	rc = curl_easy_perform(st.curl);
	if (st.write_error < 0) {
		fprintf(stderr, "nodecond record: writing %s failed: %s\n", file, strerror(-st.write_error));
	} else if (st.status != 0 && st.status != 200) {
		fprintf(stderr, "nodecond record: the agent responded with %ld on /v1/record: %s", st.status,
			st.error_body[0] ? st.error_body : "(no body)\n");
	} else if (rc == CURLE_OK || (rc == CURLE_OPERATION_TIMEDOUT && st.status == 200)) {
		/* The duration ending is the normal end; the agent stopping ends the stream early. */
		/* With --file - the recording owns stdout, so the summary goes to stderr. */
		fprintf(strcmp(file, "-") == 0 ? stderr : stdout, "recorded %llu ticks (%llu lines) to %s%s\n",
			(unsigned long long)st.ticks,
		       (unsigned long long)st.lines, file, rc == CURLE_OK ? "; the agent closed the stream" : "");
		exit_code = 0;
	} else {
		char why[256];

		cli_describe_connect_failure(socket_path, rc, errbuf, why, sizeof(why));
		fprintf(stderr, "nodecond record: no agent responded on %s: %s\n"
			"Is `nodecond run` running? Choose another socket with --socket PATH.\n",
			socket_path, why);
	}

out:
	curl_easy_cleanup(st.curl);
	curl_global_cleanup();
	free(st.line);
	if (st.fd > STDOUT_FILENO)
		close(st.fd);
	return exit_code;
}
