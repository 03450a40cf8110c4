/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client commands: they ask a running agent over its Unix socket and
 * print tables for people or the raw JSON for scripts.
 */
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "daemon/cli.h"
#include "daemon/timefmt.h"
#include "daemon/version.h"

#define CLI_DEFAULT_SOCKET "/run/nodecond/nodecond.sock"
#define CLI_RESPONSE_MAX (16 * 1024 * 1024)

struct cli_options {
	const char *socket_path;
	bool json;
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

/* GETs path from the agent; returns the HTTP status, or -1 after printing why no agent answered. */
static long cli_get(const struct cli_options *o, const char *path, struct buffer *out)
{
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

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "nodecond: no agent answered on %s: %s\n"
			"Is `nodecond run` running? Choose another socket with --socket PATH.\n",
			o->socket_path, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		if (out->overflow)
			fprintf(stderr, "nodecond: the response was larger than %d bytes\n", CLI_RESPONSE_MAX);
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	}
	curl_easy_cleanup(curl);
	return status;
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

static void print_events_table(const cJSON *events)
{
	const cJSON *e;

	printf("%-21s %-20s %-8s %-8s %-28s %s\n", "TIME", "KIND", "FROM", "TO", "REASON", "MESSAGE");
	cJSON_ArrayForEach(e, events) {
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
};

static int show(const struct cli_options *o, enum view view)
{
	static const char *const paths[] = {
		[VIEW_STATUS] = "/v1/status",
		[VIEW_CONDITIONS] = "/v1/conditions",
		[VIEW_SIGNALS] = "/v1/signals",
		[VIEW_EVENTS] = "/v1/events",
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
		fprintf(stderr, "nodecond: the agent answered %ld on %s: %s", status, paths[view],
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
		fprintf(stderr, "nodecond: the agent's answer on %s is not valid JSON\n", paths[view]);
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
	return run_view(argc, argv, "events", "Prints the latest condition transitions.", VIEW_EVENTS);
}

int cli_version(int argc, char **argv)
{
	struct utsname u;
	bool btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("Usage: nodecond version\n\nPrints nodecond's version, libbpf's and the kernel features found.\n");
		return 0;
	}
	uname(&u);
	printf("nodecond %s\n", NODECOND_VERSION);
	printf("libbpf %u.%u\n", libbpf_major_version(), libbpf_minor_version());
	printf("kernel %s %s\n", u.release, u.machine);
	printf("BTF %s\n", btf ? "present (/sys/kernel/btf/vmlinux)" : "missing: BPF samplers will be disabled");
	printf("PSI %s\n", access("/proc/pressure/memory", R_OK) == 0 ? "present" : "missing");
	return 0;
}
