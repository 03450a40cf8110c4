/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "daemon/fs_usage.h"
#include "daemon/procfs.h"

/* Decodes the octal escapes (\040 for a space) mountinfo uses in paths. */
static void unescape_mount_path(const char *in, size_t in_len, char *out, size_t out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < in_len && o + 1 < out_len; i++) {
		if (in[i] == '\\' && i + 3 < in_len && in[i + 1] >= '0' && in[i + 1] <= '3') {
			out[o++] = (char)(((in[i + 1] - '0') << 6) | ((in[i + 2] - '0') << 3) | (in[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

static bool path_has_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return true;
	return strncmp(path, prefix, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int fs_usage_find_mount(const char *mountinfo, const char *path, char *buf, size_t len)
{
	const char *line = mountinfo;
	size_t best = 0;
	bool found = false;

	while (line && *line) {
		/* Fields: id parent major:minor root mount-point options ... */
		const char *p = line;
		char mount_point[PATH_MAX];
		const char *end;

		for (int field = 0; field < 4 && p; field++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p) {
			end = strchr(p, ' ');
			if (end) {
				unescape_mount_path(p, (size_t)(end - p), mount_point, sizeof(mount_point));
				if (path_has_prefix(path, mount_point) && strlen(mount_point) >= best) {
					best = strlen(mount_point);
					snprintf(buf, len, "%s", mount_point);
					found = true;
				}
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return found ? 0 : -ENOENT;
}

static int nearest_existing(const char *path, char *buf, size_t len)
{
	char candidate[PATH_MAX];

	if (snprintf(candidate, sizeof(candidate), "%s", path) >= (int)sizeof(candidate))
		return -ENAMETOOLONG;
	for (;;) {
		char *slash;

		if (realpath(candidate, buf) && strlen(buf) < len)
			return 0;
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		slash = strrchr(candidate, '/');
		if (!slash)
			return -ENOENT;
		if (slash == candidate) {
			if (candidate[1] == '\0')
				return -ENOENT;
			candidate[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
}

int fs_usage_measure(const char *path, struct fs_usage *ret)
{
	static char mountinfo[256 * 1024];
	struct statvfs st;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = nearest_existing(path, ret->measured_path, sizeof(ret->measured_path));
	if (r < 0)
		return r;
	if (statvfs(ret->measured_path, &st) < 0)
		return -errno;

	ret->bytes_available = (int64_t)st.f_bavail * (int64_t)st.f_frsize;
	ret->bytes_capacity = (int64_t)st.f_blocks * (int64_t)st.f_frsize;
	ret->inodes_free = (int64_t)st.f_ffree;
	ret->inodes_capacity = (int64_t)st.f_files;

	if (procfs_read_file("/proc/self/mountinfo", mountinfo, sizeof(mountinfo)) >= 0)
		(void)fs_usage_find_mount(mountinfo, ret->measured_path, ret->mount_point, sizeof(ret->mount_point));
	return 0;
}
