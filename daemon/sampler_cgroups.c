/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-cgroup views that are shown but never node pressure:
 * memory.cgroupStall (reclaim forced by a memory cgroup's own limit, from
 * the memstall BPF object) and pid.cgroupForkFailures (pids.events), and
 * the JSON that shows them with the sources of every signal.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/bpf_memstall.h"
#include "daemon/bpf_net.h"
#include "daemon/log.h"
#include "daemon/procfs.h"
#include "daemon/sampler_internal.h"

#define MEMCG_WALK_MAX 8192
#define MEMCG_MAX_DEPTH 12

struct memcg_search {
	uint64_t id;
	char *buf;
	size_t len;
	int budget;
	bool found;
};

static void memcg_walk(struct memcg_search *q, const char *dir, const char *rel, int depth)
{
	struct dirent *de;
	DIR *d;

	if (q->found || depth > MEMCG_MAX_DEPTH || q->budget-- <= 0)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while (!q->found && (de = readdir(d))) {
		char child[PATH_MAX], child_rel[256];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(child_rel, sizeof(child_rel), "%s/%s", rel, de->d_name);
		/* A cgroup's id is its directory's inode number in the hierarchy. */
		if (de->d_ino == q->id) {
			snprintf(q->buf, q->len, "%s", child_rel);
			q->found = true;
			break;
		}
		snprintf(child, sizeof(child), "%s/%s", dir, de->d_name);
		memcg_walk(q, child, child_rel, depth + 1);
	}
	closedir(d);
}

int sampler_memcg_path(const struct sampler *s, uint64_t id, char *buf, size_t len)
{
	struct memcg_search q = { .id = id, .buf = buf, .len = len, .budget = MEMCG_WALK_MAX };
	struct stat st;

	if (!s->memcg_root[0])
		return -ENOENT;
	if (stat(s->memcg_root, &st) == 0 && (uint64_t)st.st_ino == id) {
		snprintf(buf, len, "/");
		return 0;
	}
	memcg_walk(&q, s->memcg_root, "", 0);
	return q.found ? 0 : -ENOENT;
}

void sampler_cgroups_open(struct sampler *s)
{
	static char mountinfo[128 * 1024];
	char root[PATH_MAX];

	if (procfs_read_file("/proc/self/mountinfo", mountinfo, sizeof(mountinfo)) >= 0 &&
	    procfs_find_cgroup_mount(mountinfo, "pids", root, sizeof(root)) == 0 &&
	    cgroup_pids_new(&s->pids_v1, root) == 0)
		log_info("pids: cgroup v1 pids hierarchy at %s; pid.cgroupForkFailures from its pids.events", root);
	if (s->cgroup2_root[0]) {
		char controllers[512] = "";
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/cgroup.controllers", s->cgroup2_root);
		if (procfs_read_file(path, controllers, sizeof(controllers)) >= 0 && strstr(controllers, "pids") &&
		    cgroup_pids_new(&s->pids_v2, s->cgroup2_root) == 0)
			log_info("pids: cgroup v2 at %s has the pids controller; pid.cgroupForkFailures from its pids.events",
				 s->cgroup2_root);
	}
	if (!s->pids_v1 && !s->pids_v2)
		snprintf(s->fork_failures_reason, sizeof(s->fork_failures_reason),
			 "no pids controller on cgroup v1 or v2");
}

void sampler_cgroups_free(struct sampler *s)
{
	cgroup_pids_free(s->pids_v1);
	cgroup_pids_free(s->pids_v2);
}

static void scan_pids(struct sampler *s)
{
	struct cgroup_pids *hierarchies[] = { s->pids_v1, s->pids_v2 };
	struct cgroup_pids_entry list[CGROUP_PIDS_LIST_MAX];

	s->n_fork_failures = 0;
	s->fork_failures_new = 0;
	for (size_t h = 0; h < 2; h++) {
		uint64_t fresh = 0;
		int n;

		if (!hierarchies[h])
			continue;
		n = cgroup_pids_scan(hierarchies[h], list, &fresh);
		if (n < 0) {
			snprintf(s->fork_failures_reason, sizeof(s->fork_failures_reason), "cannot read %s: %s",
				 cgroup_pids_root(hierarchies[h]), strerror(-n));
			continue;
		}
		s->fork_failures_new += fresh;
		for (int i = 0; i < n && s->n_fork_failures < CGROUP_PIDS_LIST_MAX; i++)
			s->fork_failures[s->n_fork_failures++] = list[i];
	}
}

static struct sampler_cgroup_stall *find_stall(struct sampler *s, uint64_t id)
{
	for (int i = 0; i < s->n_cgroup_stalls; i++)
		if (s->cgroup_stalls[i].id == id)
			return &s->cgroup_stalls[i];
	return NULL;
}

struct stall_scan {
	struct sampler *s;
	uint64_t elapsed_ns;
	bool first;
};

static void on_cgroup_stall(uint64_t id, uint64_t stalled_ns, void *userdata)
{
	struct stall_scan *scan = userdata;
	struct sampler *s = scan->s;
	struct sampler_cgroup_stall *c = find_stall(s, id);

	if (!c) {
		if (s->n_cgroup_stalls == SAMPLER_CGROUP_STALL_MAX)
			return;
		c = &s->cgroup_stalls[s->n_cgroup_stalls++];
		memset(c, 0, sizeof(*c));
		c->id = id;
		/* Stall before the first sighting belongs to earlier ticks. */
		c->prev_ns = scan->first ? stalled_ns : 0;
	}
	c->total_ns = stalled_ns;
	if (stalled_ns >= c->prev_ns && scan->elapsed_ns > 0) {
		uint64_t d = stalled_ns - c->prev_ns;

		if (d > scan->elapsed_ns)
			d = scan->elapsed_ns;
		c->share = (int64_t)((unsigned __int128)d * 100000 / scan->elapsed_ns);
	} else {
		c->share = 0;
	}
	c->prev_ns = stalled_ns;
}

/* Forgets cgroups whose directory is gone, in the BPF map too. */
static void prune_stalls(struct sampler *s)
{
	int kept = 0;

	for (int i = 0; i < s->n_cgroup_stalls; i++) {
		struct sampler_cgroup_stall *c = &s->cgroup_stalls[i];
		char path[PATH_MAX + 256];
		bool gone;

		if (!c->path[0] && sampler_memcg_path(s, c->id, c->path, sizeof(c->path)) < 0) {
			gone = true;
		} else {
			snprintf(path, sizeof(path), "%s%s", s->memcg_root, strcmp(c->path, "/") ? c->path : "");
			gone = access(path, F_OK) < 0;
		}
		if (gone) {
			bpf_memstall_forget_cgroup(s->memstall, c->id);
			continue;
		}
		s->cgroup_stalls[kept++] = *c;
	}
	s->n_cgroup_stalls = kept;
}

void sampler_cgroups_collect(struct sampler *s, uint64_t now_ns)
{
	scan_pids(s);

	if (s->memstall && bpf_memstall_has_cgroup_stall(s->memstall)) {
		struct stall_scan scan = { .s = s, .first = s->cgroup_stall_prev_time_ns == 0 };

		scan.elapsed_ns = scan.first ? 0 : now_ns - s->cgroup_stall_prev_time_ns;
		bpf_memstall_foreach_cgroup(s->memstall, on_cgroup_stall, &scan);
		s->cgroup_stall_prev_time_ns = now_ns;
		prune_stalls(s);
	}
}

static cJSON *cgroup_stall_json(const struct sampler *s)
{
	cJSON *o = cJSON_CreateObject(), *list;

	cJSON_AddStringToObject(o, "unit", "percent");
	if (!s->memstall || !bpf_memstall_has_cgroup_stall(s->memstall)) {
		cJSON_AddStringToObject(o, "source", "none");
		cJSON_AddStringToObject(o, "reason", s->memstall ? "the kernel has no memcg reclaim tracepoints" :
					s->memstall_reason);
		return o;
	}
	cJSON_AddStringToObject(o, "source", "bpf");
	cJSON_AddStringToObject(o, "hierarchy", s->memcg_root);
	list = cJSON_AddArrayToObject(o, "cgroups");
	for (int i = 0; i < s->n_cgroup_stalls; i++) {
		const struct sampler_cgroup_stall *c = &s->cgroup_stalls[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "cgroup", c->path[0] ? c->path : "");
		cJSON_AddNumberToObject(e, "cgroupId", (double)c->id);
		cJSON_AddNumberToObject(e, "value", (double)c->share);
		cJSON_AddNumberToObject(e, "stalledSecondsTotal", (double)c->total_ns / 1e9);
		cJSON_AddItemToArray(list, e);
	}
	return o;
}

static cJSON *fork_failures_json(const struct sampler *s)
{
	cJSON *o = cJSON_CreateObject(), *list;

	cJSON_AddStringToObject(o, "source", "pids.events");
	if (s->fork_failures_reason[0])
		cJSON_AddStringToObject(o, "reason", s->fork_failures_reason);
	if (s->pids_v1)
		cJSON_AddStringToObject(o, "hierarchyV1", cgroup_pids_root(s->pids_v1));
	if (s->pids_v2)
		cJSON_AddStringToObject(o, "hierarchyV2", cgroup_pids_root(s->pids_v2));
	cJSON_AddNumberToObject(o, "newInTick", (double)s->fork_failures_new);
	list = cJSON_AddArrayToObject(o, "cgroups");
	for (int i = 0; i < s->n_fork_failures; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "cgroup", s->fork_failures[i].path);
		cJSON_AddNumberToObject(e, "failures", (double)s->fork_failures[i].failures);
		cJSON_AddNumberToObject(e, "newInTick", (double)s->fork_failures[i].new_failures);
		cJSON_AddItemToArray(list, e);
	}
	return o;
}

static cJSON *drop_reasons_json(const struct sampler *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!s->net) {
		cJSON_AddStringToObject(o, "source", "procfs");
		cJSON_AddStringToObject(o, "reason", s->net_reason);
		return o;
	}
	cJSON_AddStringToObject(o, "source", "bpf");
	for (unsigned i = 0; i < NETMON_REASONS; i++)
		if (s->net_tick_reasons[i])
			cJSON_AddNumberToObject(o, bpf_net_reason_name(s->net, i), (double)s->net_tick_reasons[i]);
	cJSON_AddNumberToObject(o, "transmitTimeouts", (double)s->net_tick_timeouts);
	return o;
}

static cJSON *disks_json(const struct sampler *s)
{
	cJSON *list = cJSON_CreateArray();

	for (int i = 0; i < s->n_disk_devs; i++) {
		cJSON *e = cJSON_CreateObject();
		char dev[32];

		snprintf(dev, sizeof(dev), "%u:%u", major(s->disk_devs[i]), minor(s->disk_devs[i]));
		cJSON_AddStringToObject(e, "name", s->disk_names[i]);
		cJSON_AddStringToObject(e, "device", dev);
		if (s->disk) {
			cJSON_AddNumberToObject(e, "p50Milliseconds", (double)s->disk_p50_us[i] / 1000.0);
			cJSON_AddNumberToObject(e, "p99Milliseconds", (double)s->disk_p99_us[i] / 1000.0);
			cJSON_AddNumberToObject(e, "requests", (double)s->disk_completions[i]);
		}
		cJSON_AddItemToArray(list, e);
	}
	return list;
}

/* Each BPF-backed signal's source and, when it is a fallback, why. */
static cJSON *sources_json(const struct sampler *s)
{
	cJSON *o = cJSON_CreateObject();
	const struct {
		const char *signals;
		bool bpf;
		const char *fallback;
		const char *reason;
	} rows[] = {
		{ "memory.stall", s->memstall != NULL, "psi", s->memstall_reason },
		{ "memory.cgroupStall", s->memstall != NULL, "none", s->memstall_reason },
		{ "memory.oomKills", s->oomkill != NULL, "kmsg", s->oomkill_reason },
		{ "pid.available", s->pid != NULL, "procfs", s->pid_reason },
		{ "disk.latency", s->disk != NULL, "diskstats", s->disk_reason },
		{ "disk.errors", s->disk != NULL, "none", s->disk_reason },
		{ "net.drops", s->net != NULL, "procfs", s->net_reason },
		{ "net.retransmits", s->net != NULL, "procfs", s->net_reason },
		{ "kubelet.exitWatch", s->kubelet != NULL, "tick probe", s->kubelet_reason },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "source", rows[i].bpf ? "bpf" : rows[i].fallback);
		if (!rows[i].bpf)
			cJSON_AddStringToObject(e, "reason", rows[i].reason);
		cJSON_AddItemToObject(o, rows[i].signals, e);
	}
	return o;
}

cJSON *sampler_details_json(const struct sampler *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "sources", sources_json(s));
	cJSON_AddItemToObject(o, "memory.cgroupStall", cgroup_stall_json(s));
	cJSON_AddItemToObject(o, "pid.cgroupForkFailures", fork_failures_json(s));
	cJSON_AddItemToObject(o, "net.dropReasons", drop_reasons_json(s));
	cJSON_AddItemToObject(o, "disks", disks_json(s));
	cJSON_AddNumberToObject(o, "kernelEventsDropped", (double)s->events_dropped);
	return o;
}
