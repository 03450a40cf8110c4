/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) of the agent's state. Names
 * follow Prometheus conventions: base units (bytes, seconds, ratios) as
 * suffixes, counters ending in _total.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/bpf_loader.h"
#include "daemon/kube_http.h"
#include "daemon/kube_reconciler.h"
#include "daemon/metrics.h"
#include "daemon/procfs.h"
#include "daemon/server.h"
#include "daemon/version.h"

/* A growing text buffer; an allocation failure sets failed and drops later output. */
struct text {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if (t->data && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 16384;
		char *bigger;

		while (cap < t->len + (size_t)n + 1)
			cap *= 2;
		bigger = realloc(t->data, cap);
		if (!bigger) {
			t->failed = true;
			return;
		}
		t->data = bigger;
		t->cap = cap;
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes a label value with the escapes the text format requires. */
static void label_value(char *buf, size_t len, const char *value)
{
	size_t o = 0;

	for (const char *p = value; *p && o + 2 < len; p++) {
		if (*p == '\\' || *p == '"') {
			buf[o++] = '\\';
			buf[o++] = *p;
		} else if (*p == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
}

/* memory.inodesFree -> memory_inodes_free */
static void snake_case(const char *name, char *buf, size_t len)
{
	size_t o = 0;

	for (const char *p = name; *p && o + 2 < len; p++) {
		if (*p == '.') {
			buf[o++] = '_';
		} else if (isupper((unsigned char)*p)) {
			buf[o++] = '_';
			buf[o++] = (char)tolower((unsigned char)*p);
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
}

struct unit_scale {
	const char *suffix;
	double divisor;
};

static struct unit_scale unit_scale(enum signal_unit unit)
{
	switch (unit) {
	case SIGNAL_UNIT_BYTES:
		return (struct unit_scale){ "_bytes", 1 };
	case SIGNAL_UNIT_PERCENT:
		return (struct unit_scale){ "_ratio", 100000 };    /* thousandths of a percent */
	case SIGNAL_UNIT_MILLISECONDS:
		return (struct unit_scale){ "_seconds", 1000 };
	case SIGNAL_UNIT_PER_SECOND:
		return (struct unit_scale){ "_per_second", 1 };
	default:
		return (struct unit_scale){ "", 1 };
	}
}

static void render_signals(struct text *t, const struct agent *a)
{
	char name[128], snake[96], escaped[SIGNAL_SOURCE_MAX * 2];

	for (int i = 0; i < _SIGNAL_MAX && a->ticks > 0; i++) {
		const struct signal_sample *s = &a->samples[i];
		const struct signal_info *info = signal_info_get(s->id);
		struct unit_scale scale = unit_scale(info->unit);

		snake_case(info->name, snake, sizeof(snake));
		snprintf(name, sizeof(name), "nodecond_%s%s", snake, scale.suffix);
		label_value(escaped, sizeof(escaped), s->source);
		family(t, name, "gauge", "Latest sample of this nodecond signal; absent when it has no observation.");
		if (s->observed)
			text_printf(t, "%s{source=\"%s\"} %.17g\n", name, escaped, (double)s->value / scale.divisor);
	}

	family(t, "nodecond_signal_observed", "gauge",
	       "Whether the latest sample of a signal is an observation (1) or no observation (0), by source.");
	for (int i = 0; i < _SIGNAL_MAX && a->ticks > 0; i++) {
		label_value(escaped, sizeof(escaped), a->samples[i].source);
		text_printf(t, "nodecond_signal_observed{signal=\"%s\",source=\"%s\"} %d\n",
			    signal_info_get(a->samples[i].id)->name, escaped, a->samples[i].observed ? 1 : 0);
	}

	family(t, "nodecond_signal_capacity", "gauge",
	       "Capacity of a signal in its own unit (bytes, inodes, PIDs), for signals that have one.");
	for (int i = 0; i < _SIGNAL_MAX && a->ticks > 0; i++) {
		const struct signal_sample *s = &a->samples[i];

		if (s->observed && s->has_capacity)
			text_printf(t, "nodecond_signal_capacity{signal=\"%s\"} %lld\n", signal_info_get(s->id)->name,
				    (long long)s->capacity);
	}
}

static void render_conditions(struct text *t, const struct agent *a)
{
	family(t, "nodecond_condition_status", "gauge",
	       "Status of each condition kind: 1 for the current status, 0 for the others.");
	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition *c = condition_engine_get(&a->engine, (enum condition_kind)k);

		if (!c)
			continue;
		for (int st = 0; st < _CONDITION_STATUS_MAX; st++)
			text_printf(t, "nodecond_condition_status{kind=\"%s\",type=\"%s\",status=\"%s\"} %d\n",
				    condition_kind_name((enum condition_kind)k), c->type,
				    condition_status_name((enum condition_status)st), c->status == (enum condition_status)st);
	}

	family(t, "nodecond_condition_transitions_total", "counter",
	       "Condition transitions since the agent started, by kind and new status.");
	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		if (!a->cfg.engine.rules[k].enabled || a->cfg.engine.rules[k].n_thresholds == 0)
			continue;
		for (int st = 0; st < _CONDITION_STATUS_MAX; st++)
			text_printf(t, "nodecond_condition_transitions_total{kind=\"%s\",status=\"%s\"} %llu\n",
				    condition_kind_name((enum condition_kind)k),
				    condition_status_name((enum condition_status)st),
				    (unsigned long long)a->transitions_total[k][st]);
	}

	family(t, "nodecond_taints", "gauge", "Number of taints nodecond wants on the node.");
	text_printf(t, "nodecond_taints %zu\n", a->n_taints);
}

static void program_run_count(const char *object, const char *program, uint64_t run_count, uint64_t run_time_ns,
			      void *userdata)
{
	text_printf(userdata, "nodecond_bpf_program_runs_total{object=\"%s\",program=\"%s\"} %llu\n", object, program,
		    (unsigned long long)run_count);
}

static void program_run_time(const char *object, const char *program, uint64_t run_count, uint64_t run_time_ns,
			     void *userdata)
{
	text_printf(userdata, "nodecond_bpf_program_run_seconds_total{object=\"%s\",program=\"%s\"} %.9f\n", object,
		    program, (double)run_time_ns / 1e9);
}

static void render_programs(struct text *t, const struct agent *a)
{
	bool stats = bpf_loader_run_stats_available();

	struct sampler_program programs[SAMPLER_PROGRAMS_MAX];
	int n = a->sampler ? sampler_programs(a->sampler, programs, SAMPLER_PROGRAMS_MAX) : 0;
	uint64_t untimed;

	family(t, "nodecond_bpf_sampler_loaded", "gauge",
	       "Whether a BPF sampler object is loaded and attached (1) or disabled in favour of its fallback (0).");
	for (int i = 0; i < n; i++)
		text_printf(t, "nodecond_bpf_sampler_loaded{sampler=\"%s\"} %d\n", programs[i].name, programs[i].loaded);

	family(t, "nodecond_bpf_disk_untimed_requests_total", "counter",
	       "Block requests to the watched disks that disklat did not time since the agent started, "
	       "because its map of requests in flight was full.");
	if (a->sampler && sampler_disk_untimed_requests(a->sampler, &untimed))
		text_printf(t, "nodecond_bpf_disk_untimed_requests_total %llu\n", (unsigned long long)untimed);

	/* Without statistics the kernel counts nothing: leave the counters out rather than report 0. */
	family(t, "nodecond_bpf_run_stats_available", "gauge",
	       "Whether the kernel keeps BPF run counts and times (metrics.bpfRunStats, or kernel.bpf_stats_enabled=1).");
	text_printf(t, "nodecond_bpf_run_stats_available %d\n", stats);
	if (!stats)
		return;
	family(t, "nodecond_bpf_program_runs_total", "counter", "Times each BPF program ran since statistics were enabled.");
	bpf_loader_foreach_program(program_run_count, t);
	family(t, "nodecond_bpf_program_run_seconds_total", "counter",
	       "Time spent in each BPF program since statistics were enabled, in seconds.");
	bpf_loader_foreach_program(program_run_time, t);
}

static void render_socket(struct text *t, const struct agent *a)
{
	const uint64_t *counts = server_response_counts(a->server);

	family(t, "nodecond_socket_requests_total", "counter", "Requests answered on the Unix socket, by HTTP status code.");
	for (int code = 100; code < SERVER_STATUS_CODES_MAX; code++)
		if (counts[code])
			text_printf(t, "nodecond_socket_requests_total{code=\"%d\"} %llu\n", code,
				    (unsigned long long)counts[code]);
	family(t, "nodecond_socket_watchers", "gauge", "Open /v1/watch streams.");
	text_printf(t, "nodecond_socket_watchers %u\n", server_watchers(a->server));
}

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the descriptor opendir() itself holds */
}

static void render_process(struct text *t, const struct agent *a)
{
	struct rusage ru;
	struct rlimit rl;
	long page = sysconf(_SC_PAGESIZE);
	char statm[128];
	long long size_pages, resident_pages;
	int fds = count_open_fds();

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		family(t, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
		text_printf(t, "process_cpu_seconds_total %.6f\n",
			    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if (procfs_read_file("/proc/self/statm", statm, sizeof(statm)) > 0 &&
	    sscanf(statm, "%lld %lld", &size_pages, &resident_pages) == 2) {
		family(t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
		text_printf(t, "process_resident_memory_bytes %lld\n", resident_pages * page);
		family(t, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
		text_printf(t, "process_virtual_memory_bytes %lld\n", size_pages * page);
	}
	if (fds >= 0) {
		family(t, "process_open_fds", "gauge", "Number of open file descriptors.");
		text_printf(t, "process_open_fds %d\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		family(t, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		text_printf(t, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	family(t, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
	text_printf(t, "process_start_time_seconds %.3f\n", (double)a->start_ms / 1000);
}

static void render_api(struct text *t, const struct agent *a)
{
	const struct kube_client *client;

	family(t, "nodecond_api_requests_total", "counter",
	       "Requests to the Kubernetes API server by verb and HTTP status code; code 0 got no response.");
	if (!a->kube)
		return;
	client = kube_reconciler_client(a->kube);
	for (int verb = 0; verb < _KUBE_VERB_MAX; verb++)
		for (int code = 0; code < KUBE_STATUS_CODES_MAX; code++) {
			uint64_t n = kube_client_count(client, (enum kube_verb)verb, code);

			if (n)
				text_printf(t, "nodecond_api_requests_total{verb=\"%s\",code=\"%d\"} %llu\n",
					    kube_verb_name((enum kube_verb)verb), code, (unsigned long long)n);
		}
}

char *metrics_render(const struct agent *a)
{
	struct text t = { 0 };

	family(&t, "nodecond_build_info", "gauge", "Version of the running nodecond; always 1.");
	text_printf(&t, "nodecond_build_info{version=\"%s\"} 1\n", NODECOND_VERSION);
	family(&t, "nodecond_ticks_total", "counter", "Sampling ticks since the agent started.");
	text_printf(&t, "nodecond_ticks_total %llu\n", (unsigned long long)a->ticks);

	render_conditions(&t, a);
	render_signals(&t, a);
	render_programs(&t, a);
	if (a->server)
		render_socket(&t, a);
	render_api(&t, a);
	render_process(&t, a);

	if (t.failed) {
		free(t.data);
		return NULL;
	}
	return t.data;
}
