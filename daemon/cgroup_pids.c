/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cgroup_pids.h"
#include "daemon/procfs.h"

#define MAX_DEPTH 12

struct seen {
	char path[256];
	uint64_t failures;
};

struct cgroup_pids {
	char root[PATH_MAX];
	/* Counts with failures at the previous scan, to compute new_failures. */
	struct seen *prev;
	size_t n_prev, cap_prev;
	bool scanned;
	struct seen *cur;
	size_t n_cur, cap_cur;
};

int cgroup_pids_new(struct cgroup_pids **ret, const char *root)
{
	struct cgroup_pids *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	snprintf(p->root, sizeof(p->root), "%s", root);
	*ret = p;
	return 0;
}

void cgroup_pids_free(struct cgroup_pids *p)
{
	if (!p)
		return;
	free(p->prev);
	free(p->cur);
	free(p);
}

const char *cgroup_pids_root(const struct cgroup_pids *p)
{
	return p->root;
}

static uint64_t previous_failures(const struct cgroup_pids *p, const char *path)
{
	for (size_t i = 0; i < p->n_prev; i++)
		if (strcmp(p->prev[i].path, path) == 0)
			return p->prev[i].failures;
	return 0;
}

static int remember(struct cgroup_pids *p, const char *path, uint64_t failures)
{
	if (p->n_cur == p->cap_cur) {
		size_t cap = p->cap_cur ? p->cap_cur * 2 : 16;
		struct seen *bigger = realloc(p->cur, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		p->cur = bigger;
		p->cap_cur = cap;
	}
	snprintf(p->cur[p->n_cur].path, sizeof(p->cur[p->n_cur].path), "%s", path);
	p->cur[p->n_cur].failures = failures;
	p->n_cur++;
	return 0;
}

/* Walks dir (relative path rel) depth first; *budget limits the directories read. */
static void walk(struct cgroup_pids *p, const char *dir, const char *rel, int depth, int *budget)
{
	char path[PATH_MAX + 32], text[256];
	struct dirent *de;
	int64_t failures;
	DIR *d;

	if (depth > MAX_DEPTH || (*budget)-- <= 0)
		return;
	snprintf(path, sizeof(path), "%s/pids.events", dir);
	if (procfs_read_file(path, text, sizeof(text)) >= 0 &&
	    procfs_parse_keyed_int64(text, "max", &failures) == 0 && failures > 0)
		remember(p, rel[0] ? rel : "/", (uint64_t)failures);

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char child[PATH_MAX], child_rel[256];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", dir, de->d_name);
		snprintf(child_rel, sizeof(child_rel), "%s/%s", rel, de->d_name);
		walk(p, child, child_rel, depth + 1, budget);
	}
	closedir(d);
}

int cgroup_pids_scan(struct cgroup_pids *p, struct cgroup_pids_entry *list, uint64_t *ret_new_total)
{
	int budget = CGROUP_PIDS_SCAN_MAX, n = 0;
	uint64_t new_total = 0;
	struct seen *swap;
	size_t swap_cap;

	if (access(p->root, R_OK) < 0)
		return -errno;
	p->n_cur = 0;
	walk(p, p->root, "", 0, &budget);

	/* Two passes: cgroups with new failures, then the others. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < p->n_cur; i++) {
			uint64_t before = p->scanned ? previous_failures(p, p->cur[i].path) : p->cur[i].failures;
			uint64_t fresh = p->cur[i].failures > before ? p->cur[i].failures - before : 0;

			if (pass == 0)
				new_total += fresh;
			if ((pass == 0) != (fresh > 0) || n >= CGROUP_PIDS_LIST_MAX)
				continue;
			snprintf(list[n].path, sizeof(list[n].path), "%s", p->cur[i].path);
			list[n].failures = p->cur[i].failures;
			list[n].new_failures = fresh;
			n++;
		}
	}

	/* The current scan becomes the previous one; removed cgroups drop out. */
	swap = p->prev;
	swap_cap = p->cap_prev;
	p->prev = p->cur;
	p->n_prev = p->n_cur;
	p->cap_prev = p->cap_cur;
	p->cur = swap;
	p->cap_cur = swap_cap;
	p->n_cur = 0;
	p->scanned = true;
	*ret_new_total = new_total;
	return n;
}
