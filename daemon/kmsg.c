/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/kmsg.h"

/* /dev/kmsg returns one record per read and fails with EINVAL when it does not fit. */
#define KMSG_RECORD_MAX 8192

static const char *message_start(const char *record)
{
	const char *semicolon = strchr(record, ';');
	const char *newline = strchr(record, '\n');

	/* A record's prefix has no spaces; a bare message may have no ';' at all. */
	if (semicolon && (!newline || semicolon < newline) && strcspn(record, " ") > (size_t)(semicolon - record))
		return semicolon + 1;
	return record;
}

static void copy_until(char *dst, size_t len, const char *src, const char *end)
{
	size_t n = (size_t)(end - src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int parse_killed(const char *msg, const char *killed, struct kmsg_oom *ret)
{
	const char *open, *close, *line_end;
	char *end;
	long pid;

	errno = 0;
	pid = strtol(killed + strlen("Killed process "), &end, 10);
	if (errno || end == killed + strlen("Killed process ") || pid <= 0)
		return -EINVAL;
	open = strchr(end, '(');
	line_end = end + strcspn(end, "\n");
	if (!open || open > line_end)
		return -EINVAL;
	/* The command may contain ')': take the last ')' before " total-vm" or the line's end. */
	close = strstr(open, ") total-vm");
	if (!close || close > line_end) {
		close = line_end;
		while (close > open && *close != ')')
			close--;
	}
	if (close <= open)
		return -EINVAL;

	ret->line = KMSG_OOM_KILLED;
	ret->pid = (pid_t)pid;
	copy_until(ret->comm, sizeof(ret->comm), open + 1, close);
	ret->scope = strncmp(msg, "Memory cgroup out of memory", strlen("Memory cgroup out of memory")) == 0 ?
			     KMSG_OOM_CGROUP : KMSG_OOM_SYSTEM;
	return 0;
}

static int parse_constraint(const char *summary, struct kmsg_oom *ret)
{
	const char *value = summary + strlen("oom-kill:constraint=");
	const char *task, *pid_field, *line_end = summary + strcspn(summary, "\n");
	char *end;
	long pid;

	copy_until(ret->constraint, sizeof(ret->constraint), value, value + strcspn(value, ",\n"));
	/* ",task=" and ",pid=" come last; a command may contain commas, so search from the end. */
	pid_field = NULL;
	for (const char *p = summary; (p = strstr(p, ",pid=")) && p < line_end; p++)
		pid_field = p;
	task = NULL;
	for (const char *p = summary; (p = strstr(p, ",task=")) && p < line_end; p++)
		task = p;
	if (!pid_field || !task || task > pid_field)
		return -EINVAL;
	errno = 0;
	pid = strtol(pid_field + strlen(",pid="), &end, 10);
	if (errno || end == pid_field + strlen(",pid=") || pid <= 0)
		return -EINVAL;

	ret->line = KMSG_OOM_CONSTRAINT;
	ret->pid = (pid_t)pid;
	copy_until(ret->comm, sizeof(ret->comm), task + strlen(",task="), pid_field);
	ret->scope = strcmp(ret->constraint, "CONSTRAINT_MEMCG") == 0 ? KMSG_OOM_CGROUP : KMSG_OOM_SYSTEM;
	return 0;
}

int kmsg_parse_oom(const char *record, struct kmsg_oom *ret)
{
	const char *msg = message_start(record);
	const char *killed, *summary, *line_end = msg + strcspn(msg, "\n");

	memset(ret, 0, sizeof(*ret));
	summary = strstr(msg, "oom-kill:constraint=");
	if (summary && summary < line_end)
		return parse_constraint(summary, ret);

	killed = strstr(msg, ": Killed process ");
	if (!killed || killed > line_end)
		return -ENOENT;
	if (strncmp(msg, "Out of memory", strlen("Out of memory")) != 0 &&
	    strncmp(msg, "Memory cgroup out of memory", strlen("Memory cgroup out of memory")) != 0)
		return -ENOENT;
	return parse_killed(msg, killed + 2, ret);
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int kmsg_read_oom(int fd, kmsg_oom_fn fn, void *userdata, uint64_t *lost)
{
	char record[KMSG_RECORD_MAX];

	for (;;) {
		ssize_t n = read(fd, record, sizeof(record) - 1);
		struct kmsg_oom oom;

		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			/* EPIPE: records were overwritten; the next read continues after them. */
			if (errno == EPIPE) {
				if (lost)
					(*lost)++;
				continue;
			}
			return -errno;
		}
		if (n == 0)
			return 0;
		record[n] = '\0';
		if (kmsg_parse_oom(record, &oom) == 0)
			fn(&oom, userdata);
	}
}
