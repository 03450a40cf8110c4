/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/procfs.h"

ssize_t procfs_read_file(const char *path, char *buf, size_t len)
{
	size_t used = 0;
	int fd;

	if (len == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (used < len - 1) {
		ssize_t n = read(fd, buf + used, len - 1 - used);

		if (n < 0) {
			int r = -errno;

			if (errno == EINTR)
				continue;
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	return (ssize_t)used;
}

static int parse_int64(const char *text, int64_t *ret)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0)
		return -errno;
	if (end == text)
		return -EINVAL;
	while (*end == ' ' || *end == '\n' || *end == '\t')
		end++;
	if (*end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int procfs_read_int64(const char *path, int64_t *ret)
{
	char buf[64];
	ssize_t n;

	n = procfs_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return parse_int64(buf, ret);
}

int procfs_parse_meminfo(const char *text, struct meminfo *ret)
{
	static const struct {
		const char *key;
		size_t offset;
		size_t has_offset;
	} fields[] = {
		{ "MemTotal:", offsetof(struct meminfo, mem_total), offsetof(struct meminfo, has_mem_total) },
		{ "MemFree:", offsetof(struct meminfo, mem_free), offsetof(struct meminfo, has_mem_free) },
		{ "MemAvailable:", offsetof(struct meminfo, mem_available), offsetof(struct meminfo, has_mem_available) },
		{ "Inactive(file):", offsetof(struct meminfo, inactive_file), offsetof(struct meminfo, has_inactive_file) },
	};
	const char *line = text;

	memset(ret, 0, sizeof(*ret));
	while (line && *line) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			size_t klen = strlen(fields[i].key);
			unsigned long long kib;
			char unit[8] = "";

			if (strncmp(line, fields[i].key, klen) != 0)
				continue;
			if (sscanf(line + klen, "%llu %7s", &kib, unit) < 1)
				return -EINVAL;
			/* /proc/meminfo says "kB" but means KiB. */
			if (kib > (unsigned long long)INT64_MAX / 1024)
				return -ERANGE;
			*(int64_t *)((char *)ret + fields[i].offset) = (int64_t)kib * 1024;
			*(bool *)((char *)ret + fields[i].has_offset) = true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return ret->has_mem_total ? 0 : -ENOENT;
}

int procfs_parse_keyed_int64(const char *text, const char *key, int64_t *ret)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			long long v;
			char *end;

			errno = 0;
			v = strtoll(line + klen + 1, &end, 10);
			if (errno != 0 || end == line + klen + 1)
				return -EINVAL;
			*ret = v;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

int procfs_parse_psi_some_total(const char *text, uint64_t *ret_us)
{
	const char *p;
	unsigned long long total;
	char *end;

	if (strncmp(text, "some ", 5) != 0)
		return -EINVAL;
	p = strstr(text, "total=");
	if (!p)
		return -EINVAL;
	errno = 0;
	total = strtoull(p + 6, &end, 10);
	if (errno != 0 || end == p + 6)
		return -EINVAL;
	*ret_us = total;
	return 0;
}

int procfs_parse_loadavg_tasks(const char *text, int64_t *ret)
{
	const char *slash = strchr(text, '/');
	long long v;
	char *end;

	if (!slash)
		return -EINVAL;
	errno = 0;
	v = strtoll(slash + 1, &end, 10);
	if (errno != 0 || end == slash + 1 || v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int procfs_find_cgroup_mount(const char *mountinfo, const char *controller, char *buf, size_t len)
{
	const char *line = mountinfo;

	buf[0] = '\0';
	while (line && *line) {
		const char *next = strchr(line, '\n');
		const char *sep = strstr(line, " - ");
		char mount_point[4096], fstype[32], options[512];
		bool match = false;

		if (sep && (!next || sep < next) && sscanf(line, "%*s %*s %*s %*s %4095s", mount_point) == 1 &&
		    sscanf(sep + 3, "%31s %*s %511s", fstype, options) == 2) {
			if (!controller) {
				match = strcmp(fstype, "cgroup2") == 0;
			} else if (strcmp(fstype, "cgroup") == 0) {
				char *save = NULL;

				for (char *opt = strtok_r(options, ",", &save); opt && !match;
				     opt = strtok_r(NULL, ",", &save))
					match = strcmp(opt, controller) == 0;
			}
		}
		if (match) {
			snprintf(buf, len, "%s", mount_point);
			return 0;
		}
		line = next ? next + 1 : NULL;
	}
	return -ENOENT;
}
