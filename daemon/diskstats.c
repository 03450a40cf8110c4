/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daemon/diskstats.h"
#include "daemon/procfs.h"

#define MAX_DEPTH 4

int diskstats_parse(const char *text, unsigned major, unsigned minor, struct diskstats *ret)
{
	const char *line = text;

	while (line && *line) {
		unsigned long long f[17] = { 0 };
		unsigned maj, min;
		char name[64];
		int n;

		n = sscanf(line, "%u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &maj, &min, name, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8],
			   &f[9], &f[10], &f[11], &f[12], &f[13], &f[14], &f[15], &f[16]);
		if (n >= 2 && maj == major && min == minor) {
			if (n < 14)
				return -EINVAL;
			/* Fields after the name: reads, merges, sectors, ms reading;
			 * the same for writes; in flight, io ms, weighted ms; then
			 * the four for discards and two for flushes. */
			ret->ios = f[0] + f[4];
			ret->io_ms = f[3] + f[7];
			if (n >= 18) {
				ret->ios += f[11];
				ret->io_ms += f[14];
			}
			if (n >= 20) {
				ret->ios += f[15];
				ret->io_ms += f[16];
			}
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

static int read_dev_file(const char *path, dev_t *ret)
{
	char buf[64];
	unsigned maj, min;

	if (procfs_read_file(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	if (sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -EINVAL;
	*ret = makedev(maj, min);
	return 0;
}

static int add_disk(dev_t dev, const char *name, dev_t *ret, char (*names)[32], size_t max, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		if (ret[i] == dev)
			return 0;
	if (*n >= max)
		return -E2BIG;
	ret[*n] = dev;
	if (names)
		snprintf(names[*n], sizeof(names[*n]), "%s", name);
	(*n)++;
	return 0;
}

static int resolve(const char *sysfs_root, dev_t dev, int depth, dev_t *ret, char (*names)[32], size_t max,
		   size_t *n)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], real[PATH_MAX];
	struct dirent *de;
	const char *base;
	DIR *slaves;
	dev_t disk;
	int r = 0;

	if (depth > MAX_DEPTH)
		return 0;
	snprintf(dir, sizeof(dir), "%s/dev/block/%u:%u", sysfs_root, major(dev), minor(dev));
	if (!realpath(dir, real))
		return -errno;

	/* A partition's directory sits inside its disk's and has a "partition" file. */
	snprintf(path, sizeof(path), "%s/partition", real);
	if (access(path, F_OK) == 0) {
		snprintf(path, sizeof(path), "%s/../dev", real);
		r = read_dev_file(path, &disk);
		if (r < 0)
			return r;
		snprintf(path, sizeof(path), "%s/..", real);
		if (!realpath(path, dir))
			return -errno;
		base = strrchr(dir, '/');
		return add_disk(disk, base ? base + 1 : dir, ret, names, max, n);
	}

	snprintf(path, sizeof(path), "%s/slaves", real);
	slaves = opendir(path);
	if (slaves) {
		size_t before = *n;

		while ((de = readdir(slaves)) && r >= 0) {
			dev_t below;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/slaves/%s/dev", real, de->d_name);
			if (read_dev_file(path, &below) == 0)
				r = resolve(sysfs_root, below, depth + 1, ret, names, max, n);
		}
		closedir(slaves);
		if (r < 0 || *n > before)
			return r;
	}
	base = strrchr(real, '/');
	return add_disk(dev, base ? base + 1 : real, ret, names, max, n);
}

int diskstats_disks_of_dev(const char *sysfs_root, dev_t dev, dev_t *ret, char (*names)[32], size_t max)
{
	size_t n = 0;
	int r;

	/* Major 0 is the anonymous device of filesystems without a disk. */
	if (major(dev) == 0)
		return 0;
	r = resolve(sysfs_root, dev, 0, ret, names, max, &n);
	if (r < 0)
		return r;
	return (int)n;
}

int diskstats_disks_of_path(const char *path, dev_t *ret, char (*names)[32], size_t max)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	return diskstats_disks_of_dev("/sys", st.st_dev, ret, names, max);
}
