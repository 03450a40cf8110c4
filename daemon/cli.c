/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client commands: they ask a running agent over its Unix socket and
 * print tables for people or the raw JSON for scripts.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "daemon/bpf_loader.h"
#include "daemon/cli.h"
#include "daemon/pod_json.h"
#include "daemon/timefmt.h"
#include "daemon/version.h"

#define CLI_DEFAULT_SOCKET "/run/nodecond/nodecond.sock"
#define CLI_RESPONSE_MAX (16 * 1024 * 1024)

struct cli_options {
	const char *socket_path;
	bool json;
	bool quiet;                   /* print nothing when no agent responds */
};

struct buffer {
	char *data;
	size_t len;
	bool overflow;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buffer *b = userdata;
	size_t n = size * nmemb;
	char *bigger;

	if (b->len + n > CLI_RESPONSE_MAX) {
		b->overflow = true;
		return 0;
	}
	bigger = realloc(b->data, b->len + n + 1);
	if (!bigger)
		return 0;
	b->data = bigger;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/*
 * Explains a failed request in terms of the socket: curl's own message
 * speaks of "localhost port 80", which misleads for a Unix socket.
 */
void cli_describe_connect_failure(const char *path, CURLcode rc, const char *errbuf, char *buf, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_PARTIAL_FILE) {
		snprintf(buf, len, "the agent closed the connection without a full answer: it may be at its limit "
			 "of connections, or stopping");
		return;
	}
	if (rc != CURLE_COULDNT_CONNECT || strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(buf, len, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EACCES)
			snprintf(buf, len, "permission denied; run as root or as a member of the socket's group");
		else if (errno == ENOENT)
			snprintf(buf, len, "the socket file does not exist");
		else if (errno == ECONNREFUSED)
			snprintf(buf, len, "connection refused: the socket file is left from an agent that is gone");
		else
			snprintf(buf, len, "%s", strerror(errno));
	} else {
		snprintf(buf, len, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	if (fd >= 0)
		close(fd);
}

/*
 * Sends a request to the agent: a GET, or a POST when body is not NULL.
 * Returns the HTTP status, or -1 after printing why no agent responded.
 */
static long cli_request(const struct cli_options *o, const char *path, const char *body, size_t body_len,
			struct buffer *out)
{
	struct curl_slist *headers = NULL;
	char url[256], errbuf[CURL_ERROR_SIZE] = "";
	CURL *curl;
	CURLcode rc;
	long status = -1;

	memset(out, 0, sizeof(*out));
	curl = curl_easy_init();
	if (!curl) {
		fprintf(stderr, "nodecond: cannot initialise libcurl\n");
		return -1;
	}
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, o->socket_path);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK && o->quiet) {
		/* The caller reports that no agent responded. */
	} else if (rc != CURLE_OK) {
		char why[256];

		cli_describe_connect_failure(o->socket_path, rc, errbuf, why, sizeof(why));
		fprintf(stderr, "nodecond: no agent responded on %s: %s\n"
			"Is `nodecond run` running? Choose another socket with --socket PATH.\n",
			o->socket_path, why);
		if (out->overflow)
			fprintf(stderr, "nodecond: the response was larger than %d bytes\n", CLI_RESPONSE_MAX);
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return status;
}

static long cli_get(const struct cli_options *o, const char *path, struct buffer *out)
{
	return cli_request(o, path, NULL, 0, out);
}

static const char *json_string(const cJSON *o, const char *name, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : fallback;
}

static bool json_number(const cJSON *o, const char *name, double *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v))
		return false;
	*ret = v->valuedouble;
	return true;
}

/* Formats a value for people, in the signal's unit. */
static void format_value(const char *unit, double v, char *buf, size_t len)
{
	static const char *const binary[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };

	if (strcmp(unit, "bytes") == 0) {
		int i = 0;

		while (v >= 1024 && i < 6) {
			v /= 1024;
			i++;
		}
		if (i == 0)
			snprintf(buf, len, "%.0f", v);
		else
			snprintf(buf, len, "%.1f%s", v, binary[i]);
	} else if (strcmp(unit, "percent") == 0) {
		snprintf(buf, len, "%.2f%%", v / 1000.0);
	} else if (strcmp(unit, "milliseconds") == 0) {
		snprintf(buf, len, "%.0fms", v);
	} else if (strcmp(unit, "perSecond") == 0) {
		snprintf(buf, len, "%.0f/s", v);
	} else {
		snprintf(buf, len, "%.0f", v);
	}
}

static void print_conditions_table(const cJSON *conditions)
{
	const cJSON *c;
	int64_t now_ms = (int64_t)time(NULL) * 1000;

	printf("%-20s %-26s %-8s %-28s %s\n", "KIND", "TYPE", "STATUS", "REASON", "SINCE");
	cJSON_ArrayForEach(c, conditions) {
		const char *since = json_string(c, "lastTransitionTime", NULL);
		char age[32] = "-";
		int64_t t;

		if (since && timefmt_parse_rfc3339(since, &t) == 0)
			timefmt_age(now_ms - t, age, sizeof(age));
		printf("%-20s %-26s %-8s %-28s %s\n", json_string(c, "kind", "?"), json_string(c, "type", "?"),
		       json_string(c, "status", "?"), json_string(c, "reason", ""), age);
	}
}

static void print_messages(const cJSON *conditions)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, conditions) {
		const char *message = json_string(c, "message", "");

		if (message[0])
			printf("  %s: %s\n", json_string(c, "kind", "?"), message);
	}
}

static void print_signals_table(const cJSON *signals)
{
	const cJSON *s;

	printf("%-22s %-12s %-12s %-12s %-13s %s\n", "SIGNAL", "VALUE", "CAPACITY", "WINDOW MIN", "SOURCE",
	       "NOTE");
	cJSON_ArrayForEach(s, signals) {
		const char *unit = json_string(s, "unit", "");
		char value[32] = "-", capacity[32] = "-", window_min[32] = "-";
		const char *note = json_string(s, "reason", json_string(s, "detail", ""));
		double v;

		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "observed"))) {
			if (json_number(s, "value", &v))
				format_value(unit, v, value, sizeof(value));
			if (json_number(s, "capacity", &v))
				format_value(unit, v, capacity, sizeof(capacity));
			if (json_number(s, "windowMin", &v))
				format_value(unit, v, window_min, sizeof(window_min));
			note = json_string(s, "detail", "");
		} else {
			snprintf(value, sizeof(value), "<none>");
		}
		printf("%-22s %-12s %-12s %-12s %-13s %s\n", json_string(s, "name", "?"), value, capacity,
		       window_min, json_string(s, "source", ""), note);
	}
}

static void print_programs(const cJSON *programs)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, programs) {
		bool loaded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "loaded"));

		printf("  bpf %-10s %s%s%s\n", json_string(p, "name", "?"), loaded ? "loaded" : "disabled",
		       loaded ? "" : ": ", loaded ? "" : json_string(p, "reason", "unknown reason"));
	}
}

static void print_taints_table(const cJSON *taints)
{
	const cJSON *t;

	if (cJSON_GetArraySize(taints) == 0) {
		printf("(no taints)\n");
		return;
	}
	printf("%-40s %-16s %-17s %s\n", "KEY", "VALUE", "EFFECT", "TIME ADDED");
	cJSON_ArrayForEach(t, taints) {
		printf("%-40s %-16s %-17s %s\n", json_string(t, "key", "?"), json_string(t, "value", ""),
		       json_string(t, "effect", "?"), json_string(t, "timeAdded", "-"));
	}
}

/* One OOM kill or kubelet exit, in the columns of the transitions table. */
static void print_kernel_event(const cJSON *e)
{
	const char *type = json_string(e, "type", "?");
	char what[160];
	double pid = 0, status = 0;

	json_number(e, "pid", &pid);
	if (strcmp(type, "oomKill") == 0)
		snprintf(what, sizeof(what), "killed pid %.0f (%s)%s%s, classified by %s", pid,
			 json_string(e, "command", "?"), json_string(e, "cgroup", NULL) ? " in " : "",
			 json_string(e, "cgroup", ""), json_string(e, "classifiedBy", "?"));
	else {
		json_number(e, "exitStatus", &status);
		snprintf(what, sizeof(what), "pid %.0f (%s) exited, wait status 0x%x", pid,
			 json_string(e, "command", "?"), (unsigned)status);
	}
	printf("%-21s %-20s %-8s %-8s %-28s %s\n", json_string(e, "time", "?"), type, "-", "-",
	       json_string(e, "scope", json_string(e, "source", "")), what);
}

static void print_events_table(const cJSON *events)
{
	const cJSON *e;

	printf("%-21s %-20s %-8s %-8s %-28s %s\n", "TIME", "KIND", "FROM", "TO", "REASON", "MESSAGE");
	cJSON_ArrayForEach(e, events) {
		const char *type = json_string(e, "type", "transition");

		if (strcmp(type, "transition") != 0) {
			print_kernel_event(e);
			continue;
		}
		printf("%-21s %-20s %-8s %-8s %-28s %s\n", json_string(e, "time", "?"), json_string(e, "kind", "?"),
		       json_string(e, "from", "?"), json_string(e, "to", "?"), json_string(e, "reason", ""),
		       json_string(e, "message", ""));
	}
}

enum view {
	VIEW_STATUS,
	VIEW_CONDITIONS,
	VIEW_SIGNALS,
	VIEW_EVENTS,
	VIEW_TAINTS,
};

static int show(const struct cli_options *o, enum view view)
{
	static const char *const paths[] = {
		[VIEW_STATUS] = "/v1/status",
		[VIEW_CONDITIONS] = "/v1/conditions",
		[VIEW_SIGNALS] = "/v1/signals",
		[VIEW_EVENTS] = "/v1/events",
		[VIEW_TAINTS] = "/v1/taints",
	};
	struct buffer body;
	cJSON *root;
	long status;

	status = cli_get(o, paths[view], &body);
	if (status < 0) {
		free(body.data);
		return 1;
	}
	if (status != 200) {
		fprintf(stderr, "nodecond: the agent responded with %ld on %s: %s", status, paths[view],
			body.data ? body.data : "(no body)\n");
		free(body.data);
		return 1;
	}
	if (o->json) {
		fputs(body.data ? body.data : "", stdout);
		free(body.data);
		return 0;
	}

	root = cJSON_Parse(body.data ? body.data : "");
	free(body.data);
	if (!root) {
		fprintf(stderr, "nodecond: the agent's response on %s is not valid JSON\n", paths[view]);
		return 1;
	}

	switch (view) {
	case VIEW_STATUS:
		printf("Node %s (%s mode, profile %s, %s)\n\n", json_string(root, "nodeName", "?"),
		       json_string(root, "mode", "?"), json_string(root, "profile", "?"),
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "ready")) ? "ready" : "not ready yet");
		print_conditions_table(cJSON_GetObjectItemCaseSensitive(root, "conditions"));
		printf("\n");
		print_messages(cJSON_GetObjectItemCaseSensitive(root, "conditions"));
		printf("\n");
		print_signals_table(cJSON_GetObjectItemCaseSensitive(root, "signals"));
		printf("\n");
		print_programs(cJSON_GetObjectItemCaseSensitive(root, "programs"));
		break;
	case VIEW_CONDITIONS:
		print_conditions_table(cJSON_GetObjectItemCaseSensitive(root, "conditions"));
		break;
	case VIEW_SIGNALS:
		print_signals_table(cJSON_GetObjectItemCaseSensitive(root, "signals"));
		print_programs(cJSON_GetObjectItemCaseSensitive(root, "programs"));
		break;
	case VIEW_EVENTS:
		print_events_table(cJSON_GetObjectItemCaseSensitive(root, "events"));
		break;
	case VIEW_TAINTS:
		printf("Taints nodecond wants on node %s (profile %s, written by the %s)\n\n",
		       json_string(root, "nodeName", "?"), json_string(root, "profile", "?"),
		       json_string(root, "writer", "?"));
		print_taints_table(cJSON_GetObjectItemCaseSensitive(root, "taints"));
		break;
	}
	cJSON_Delete(root);
	return 0;
}

static void usage_client(FILE *out, const char *command, const char *what)
{
	fprintf(out,
		"Usage: nodecond %s [OPTIONS]\n"
		"\n"
		"%s\n"
		"\n"
		"Options:\n"
		"      --socket PATH   the agent's Unix socket (default %s)\n"
		"  -o, --output FMT    table (default) or json\n"
		"  -h, --help          show this help\n",
		command, what, CLI_DEFAULT_SOCKET);
}

/* Parses the options every client command shares; returns 0, 1 for --help, or -EINVAL. */
static int parse_client_flags(int argc, char **argv, const char *command, const char *what,
			      struct cli_options *o)
{
	enum { OPT_SOCKET = 256 };
	static const struct option options[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->socket_path = CLI_DEFAULT_SOCKET;
	o->json = false;
	o->quiet = false;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			o->socket_path = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0) {
				o->json = true;
			} else if (strcmp(optarg, "table") != 0) {
				fprintf(stderr, "nodecond %s: invalid output format \"%s\": expected table or json\n",
					command, optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage_client(stdout, command, what);
			return 1;
		default:
			usage_client(stderr, command, what);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nodecond %s: unexpected argument \"%s\"\n", command, argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int run_view(int argc, char **argv, const char *command, const char *what, enum view view)
{
	struct cli_options o;
	int r;

	r = parse_client_flags(argc, argv, command, what, &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = show(&o, view);
	curl_global_cleanup();
	return r;
}

int cli_status(int argc, char **argv)
{
	return run_view(argc, argv, "status",
			"Prints the node's conditions, the signals behind them and the state of the BPF programs.",
			VIEW_STATUS);
}

int cli_conditions(int argc, char **argv)
{
	return run_view(argc, argv, "conditions", "Prints the node's conditions.", VIEW_CONDITIONS);
}

int cli_signals(int argc, char **argv)
{
	return run_view(argc, argv, "signals",
			"Prints the latest sample of every signal with its source (bpf or the fallback).",
			VIEW_SIGNALS);
}

int cli_events(int argc, char **argv)
{
	return run_view(argc, argv, "events", "Prints the latest condition transitions, OOM kills and kubelet exits.",
			VIEW_EVENTS);
}

/* State of a streamed /v1/watch response: the bytes of an incomplete line. */
struct watch_stream {
	bool json;
	char line[16384];
	size_t len;
	bool header_printed;
};

static void print_watch_line(struct watch_stream *w, const char *line)
{
	cJSON *e;

	if (w->json) {
		printf("%s\n", line);
		fflush(stdout);
		return;
	}
	e = cJSON_Parse(line);
	if (!e)
		return;
	if (strcmp(json_string(e, "type", ""), "transition") == 0) {
		if (!w->header_printed) {
			printf("%-21s %-20s %-8s %-8s %-28s %s\n", "TIME", "KIND", "FROM", "TO", "REASON", "MESSAGE");
			w->header_printed = true;
		}
		printf("%-21s %-20s %-8s %-8s %-28s %s\n", json_string(e, "time", "?"), json_string(e, "kind", "?"),
		       json_string(e, "from", "?"), json_string(e, "to", "?"), json_string(e, "reason", ""),
		       json_string(e, "message", ""));
	} else if (strcmp(json_string(e, "type", ""), "dropped") == 0) {
		printf("(%s)\n", json_string(e, "message", "transitions were dropped"));
	}
	fflush(stdout);
	cJSON_Delete(e);
}

static size_t watch_collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct watch_stream *w = userdata;
	size_t n = size * nmemb;

	for (size_t i = 0; i < n; i++) {
		if (ptr[i] == '\n') {
			w->line[w->len] = '\0';
			print_watch_line(w, w->line);
			w->len = 0;
		} else if (w->len + 1 < sizeof(w->line)) {
			w->line[w->len++] = ptr[i];
		}
	}
	return n;
}

int cli_watch(int argc, char **argv)
{
	struct watch_stream stream = { 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct cli_options o;
	CURL *curl;
	CURLcode rc;
	int r;

	r = parse_client_flags(argc, argv, "watch",
			       "Streams condition transitions as they happen, until interrupted.", &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	stream.json = o.json;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	if (!curl) {
		curl_global_cleanup();
		return 1;
	}
	curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/v1/watch");
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, o.socket_path);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, watch_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &stream);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(curl);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	if (rc != CURLE_OK) {
		fprintf(stderr, "nodecond: the watch on %s ended: %s\n", o.socket_path,
			errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return 1;
	}
	return 0;
}

int cli_taints(int argc, char **argv)
{
	return run_view(argc, argv, "taints", "Prints the taints nodecond wants on the node.", VIEW_TAINTS);
}

static void usage_tolerates(FILE *out)
{
	fprintf(out,
		"Usage: nodecond tolerates -f FILE [OPTIONS]\n"
		"\n"
		"Checks a pod against the node's taints: for each taint, whether the pod\n"
		"tolerates it, and for NoExecute taints, when the pod would be evicted.\n"
		"FILE is a Pod, a PodSpec or a list of tolerations in JSON; - reads stdin.\n"
		"\n"
		"Options:\n"
		"  -f, --file FILE            the pod or tolerations to check (required)\n"
		"      --taints FILE          check against these taints (a list, a Node, or the\n"
		"                             output of 'nodecond taints -o json') instead of\n"
		"                             asking the agent for the node's current taints\n"
		"      --daemonset            add the tolerations the DaemonSet controller adds\n"
		"      --no-admission-defaults  do not add the DefaultTolerationSeconds\n"
		"                             admission defaults (300 s for not-ready and unreachable)\n"
		"      --socket PATH          the agent's Unix socket (default %s)\n"
		"  -o, --output FMT           table (default) or json\n"
		"  -h, --help                 show this help\n",
		CLI_DEFAULT_SOCKET);
}

static int read_input(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	struct buffer b = { 0 };
	char chunk[8192];
	size_t n;

	if (!f) {
		fprintf(stderr, "nodecond tolerates: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (collect(chunk, 1, n, &b) != n) {
			fprintf(stderr, "nodecond tolerates: %s is larger than %d bytes\n", path, CLI_RESPONSE_MAX);
			free(b.data);
			if (f != stdin)
				fclose(f);
			return -EFBIG;
		}
	}
	if (f != stdin)
		fclose(f);
	*ret = b.data ? b.data : strdup("");
	*ret_len = b.len;
	return 0;
}

static void format_eviction(const cJSON *eviction, char *buf, size_t len)
{
	const char *when = json_string(eviction, "when", "?");

	if (strcmp(when, "At") == 0) {
		const char *at = json_string(eviction, "time", NULL);
		int64_t at_ms, now_ms = (int64_t)time(NULL) * 1000;
		char age[32];

		if (!at || timefmt_parse_rfc3339(at, &at_ms) < 0) {
			snprintf(buf, len, "at a time too far to show");
			return;
		}
		timefmt_age(at_ms > now_ms ? at_ms - now_ms : now_ms - at_ms, age, sizeof(age));
		if (at_ms > now_ms)
			snprintf(buf, len, "at %s (in %s)", at, age);
		else
			snprintf(buf, len, "at %s (due %s ago)", at, age);
	}
	else if (strcmp(when, "Immediately") == 0)
		snprintf(buf, len, "immediately");
	else
		snprintf(buf, len, "never");
}

static void print_verdict(const cJSON *root)
{
	const cJSON *v;
	char eviction[96];

	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "taints")) == 0) {
		printf("The node has no taints: the pod can be scheduled and is never evicted for taints.\n");
		return;
	}
	printf("%-40s %-17s %-10s %-16s %s\n", "TAINT", "EFFECT", "TOLERATED", "BY", "EVICTION");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "taints")) {
		const cJSON *taint = cJSON_GetObjectItemCaseSensitive(v, "taint");
		const cJSON *index = cJSON_GetObjectItemCaseSensitive(v, "tolerationIndex");
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(v, "eviction");
		char key[128], by[32] = "-";

		snprintf(key, sizeof(key), "%s%s%s", json_string(taint, "key", "?"),
			 json_string(taint, "value", "")[0] ? "=" : "", json_string(taint, "value", ""));
		if (cJSON_IsNumber(index))
			snprintf(by, sizeof(by), "tolerations[%d]", index->valueint);
		if (ev)
			format_eviction(ev, eviction, sizeof(eviction));
		else
			snprintf(eviction, sizeof(eviction), "-");
		printf("%-40s %-17s %-10s %-16s %s\n", key, json_string(taint, "effect", "?"),
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "tolerated")) ? "yes" : "no", by, eviction);
	}
	format_eviction(cJSON_GetObjectItemCaseSensitive(root, "eviction"), eviction, sizeof(eviction));
	printf("\nScheduling: %s\n",
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "schedulable")) ?
		       "allowed: every NoSchedule and NoExecute taint is tolerated" :
		       "blocked: some NoSchedule or NoExecute taint is not tolerated");
	printf("A running pod is evicted: %s\n", eviction);
}

int cli_tolerates(int argc, char **argv)
{
	enum { OPT_SOCKET = 256, OPT_TAINTS, OPT_DAEMONSET, OPT_NO_ADMISSION };
	static const struct option options[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "taints", required_argument, NULL, OPT_TAINTS },
		{ "daemonset", no_argument, NULL, OPT_DAEMONSET },
		{ "no-admission-defaults", no_argument, NULL, OPT_NO_ADMISSION },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct toleration_check_options check = { .admission_defaults = true };
	struct cli_options o = { .socket_path = CLI_DEFAULT_SOCKET };
	const char *file = NULL, *taints_file = NULL;
	char *body = NULL, err[POD_JSON_ERROR_MAX];
	cJSON *verdict = NULL;
	size_t body_len;
	int c, r, exit_code = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", options, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case OPT_TAINTS:
			taints_file = optarg;
			break;
		case OPT_DAEMONSET:
			check.daemonset = true;
			break;
		case OPT_NO_ADMISSION:
			check.admission_defaults = false;
			break;
		case OPT_SOCKET:
			o.socket_path = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0) {
				o.json = true;
			} else if (strcmp(optarg, "table") != 0) {
				fprintf(stderr, "nodecond tolerates: invalid output format \"%s\": expected table or json\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage_tolerates(stdout);
			return 0;
		default:
			usage_tolerates(stderr);
			return 2;
		}
	}
	if (!file || optind < argc) {
		fprintf(stderr, "nodecond tolerates: %s\n", file ? "unexpected argument" : "missing -f FILE");
		usage_tolerates(stderr);
		return 2;
	}
	if (read_input(file, &body, &body_len) < 0)
		return 2;

	if (taints_file) {
		struct taint taints[POD_JSON_TAINTS_MAX];
		size_t n_taints = 0;
		char *taints_text = NULL;
		size_t taints_len;
		cJSON *root;

		if (read_input(taints_file, &taints_text, &taints_len) < 0) {
			free(body);
			return 2;
		}
		root = cJSON_ParseWithLength(taints_text, taints_len);
		free(taints_text);
		r = root ? pod_json_parse_taints(root, taints, POD_JSON_TAINTS_MAX, &n_taints, err, sizeof(err)) : -EINVAL;
		if (!root)
			snprintf(err, sizeof(err), "invalid JSON");
		cJSON_Delete(root);
		if (r < 0) {
			fprintf(stderr, "nodecond tolerates: %s: %s\n", taints_file, err);
			free(body);
			return 2;
		}
		r = pod_json_check(body, body_len, &check, taints, n_taints, (int64_t)time(NULL) * 1000, &verdict, err,
				   sizeof(err));
		if (r < 0) {
			fprintf(stderr, "nodecond tolerates: %s: %s\n", file, err);
			free(body);
			return 2;
		}
	} else {
		struct buffer answer;
		char path[96];
		long status;

		snprintf(path, sizeof(path), "/v1/tolerations?daemonSet=%s&admissionDefaults=%s",
			 check.daemonset ? "true" : "false", check.admission_defaults ? "true" : "false");
		curl_global_init(CURL_GLOBAL_DEFAULT);
		status = cli_request(&o, path, body, body_len, &answer);
		curl_global_cleanup();
		if (status == 400) {
			cJSON *e = cJSON_Parse(answer.data ? answer.data : "");

			fprintf(stderr, "nodecond tolerates: %s: %s\n", file, json_string(e, "message", "invalid input"));
			cJSON_Delete(e);
			exit_code = 2;
		} else if (status == 200) {
			verdict = cJSON_Parse(answer.data ? answer.data : "");
			if (!verdict)
				fprintf(stderr, "nodecond tolerates: the agent's response is not valid JSON\n");
		} else if (status > 0) {
			fprintf(stderr, "nodecond tolerates: the agent responded with %ld: %s", status,
				answer.data ? answer.data : "(no body)\n");
		}
		free(answer.data);
	}
	free(body);

	if (verdict) {
		if (o.json) {
			char *text = cJSON_Print(verdict);

			printf("%s\n", text ? text : "null");
			free(text);
		} else {
			print_verdict(verdict);
		}
		cJSON_Delete(verdict);
		exit_code = 0;
	}
	return exit_code;
}

/* The tracepoints the BPF samplers use, as found in kernel BTF. */
static void print_tracepoints(void)
{
	static const char *const tracepoints[] = {
		"mm_vmscan_direct_reclaim_begin", "mm_vmscan_memcg_reclaim_begin", "mm_compaction_begin",
		"mm_vmscan_throttled", "sched_process_fork", "sched_process_exit", "sched_process_free",
		"sched_process_exec", "mark_victim", "block_rq_issue", "block_rq_complete", "kfree_skb",
		"tcp_retransmit_skb", "net_dev_xmit_timeout",
	};
	struct btf *vmlinux = btf__load_vmlinux_btf();

	if (!vmlinux)
		return;
	printf("tracepoints:");
	for (size_t i = 0; i < sizeof(tracepoints) / sizeof(tracepoints[0]); i++)
		printf(" %s%s", bpf_loader_tracepoint_exists(vmlinux, tracepoints[i]) ? "" : "!", tracepoints[i]);
	printf("  (! = missing)\n");
	btf__free(vmlinux);
}

/* Every signal's source and why, from a running agent on --socket PATH or the default socket. */
static void print_signal_sources(int argc, char **argv)
{
	struct cli_options o = { .socket_path = CLI_DEFAULT_SOCKET, .quiet = true };
	const cJSON *list, *item, *sources;
	struct buffer body;
	cJSON *root;
	long status;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--socket") == 0)
			o.socket_path = argv[i + 1];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	status = cli_get(&o, "/v1/signals", &body);
	curl_global_cleanup();
	root = status == 200 && body.data ? cJSON_Parse(body.data) : NULL;
	free(body.data);
	if (!root) {
		printf("signal sources: no agent responded on %s; start `nodecond run` to see them\n", o.socket_path);
		return;
	}

	printf("signal sources (from the agent on %s):\n", o.socket_path);
	list = cJSON_GetObjectItemCaseSensitive(root, "signals");
	cJSON_ArrayForEach(item, list) {
		printf("  %-22s %-12s %s\n", json_string(item, "name", "?"), json_string(item, "source", "?"),
		       json_string(item, "reason", ""));
	}
	sources = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "details"), "sources");
	cJSON_ArrayForEach(item, sources) {
		printf("  %-22s %-12s %s\n", item->string, json_string(item, "source", "?"),
		       json_string(item, "reason", ""));
	}
	cJSON_Delete(root);
}

int cli_version(int argc, char **argv)
{
	struct utsname u;
	bool btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;

	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: nodecond version [--socket PATH]\n\nPrints nodecond's version, libbpf's, the kernel "
			       "features found\nand, when an agent answers on PATH, the source of every signal and why.\n");
			return 0;
		}
		if (c != 's') {
			fprintf(stderr, "nodecond version: see nodecond version --help\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nodecond version: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	uname(&u);
	printf("nodecond %s\n", NODECOND_VERSION);
	printf("libbpf %u.%u\n", libbpf_major_version(), libbpf_minor_version());
	printf("kernel %s %s\n", u.release, u.machine);
	printf("BTF %s\n", btf ? "present (/sys/kernel/btf/vmlinux)" : "missing: BPF samplers will be disabled");
	printf("PSI %s\n", access("/proc/pressure/memory", R_OK) == 0 ? "present" : "missing");
	print_tracepoints();
	print_signal_sources(argc, argv);
	return 0;
}
