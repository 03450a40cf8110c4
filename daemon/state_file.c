/* SPDX-License-Identifier: Apache-2.0 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/path.h"
#include "daemon/procfs.h"
#include "daemon/state_file.h"
#include "daemon/timefmt.h"

#define STATE_FILE_SIZE_MAX (1024 * 1024)

static cJSON *condition_to_json(const struct condition *c)
{
	cJSON *o = cJSON_CreateObject();
	char t[TIMEFMT_RFC3339_MAX];

	cJSON_AddStringToObject(o, "type", c->type);
	cJSON_AddStringToObject(o, "status", condition_status_name(c->status));
	cJSON_AddStringToObject(o, "reason", c->reason);
	cJSON_AddStringToObject(o, "message", c->message);
	timefmt_rfc3339(c->last_heartbeat_ms, t, sizeof(t));
	cJSON_AddStringToObject(o, "lastHeartbeatTime", t);
	timefmt_rfc3339(c->last_transition_ms, t, sizeof(t));
	cJSON_AddStringToObject(o, "lastTransitionTime", t);
	return o;
}

int state_file_save(const char *path, const char *node_name, const struct condition *conditions, size_t n)
{
	char tmp[PATH_MAX];
	cJSON *root, *list;
	char *text;
	struct stat st;
	size_t len;
	int fd, r = 0;

	r = path_mkdir_parents(path);
	if (r < 0)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* Never rename over a device, a directory or a link, whatever the configuration says. */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return -EEXIST;

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "apiVersion", "nodecond.io/v1alpha1");
	cJSON_AddStringToObject(root, "kind", "NodecondState");
	cJSON_AddStringToObject(root, "nodeName", node_name);
	list = cJSON_AddArrayToObject(root, "conditions");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, condition_to_json(&conditions[i]));
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	len = strlen(text);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		free(text);
		return r;
	}
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	free(text);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static int field_string(cJSON *o, const char *name, char *dst, size_t len, size_t index, char *err,
			size_t err_len)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= len) {
		snprintf(err, err_len, "conditions[%zu].%s: missing, not a string, or longer than %zu characters",
			 index, name, len - 1);
		return -EINVAL;
	}
	strcpy(dst, v->valuestring);
	return 0;
}

static int field_time(cJSON *o, const char *name, int64_t *ret, size_t index, char *err, size_t err_len)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(v) || timefmt_parse_rfc3339(v->valuestring, ret) < 0) {
		snprintf(err, err_len, "conditions[%zu].%s: expected an RFC 3339 time such as 2026-01-02T15:04:05Z",
			 index, name);
		return -EINVAL;
	}
	return 0;
}

int state_file_load(const char *path, const char *node_name, struct condition *out, size_t max, char *err,
		    size_t err_len)
{
	static char text[STATE_FILE_SIZE_MAX];
	cJSON *root, *list, *item;
	ssize_t n;
	size_t count = 0;
	int r = 0;

	n = procfs_read_file(path, text, sizeof(text));
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		snprintf(err, err_len, "cannot read: %s", strerror((int)-n));
		return (int)n;
	}
	if ((size_t)n >= sizeof(text) - 1) {
		snprintf(err, err_len, "larger than %d bytes", STATE_FILE_SIZE_MAX);
		return -EFBIG;
	}

	root = cJSON_Parse(text);
	if (!root) {
		snprintf(err, err_len, "invalid JSON");
		return -EINVAL;
	}
	{
		const cJSON *owner = cJSON_GetObjectItemCaseSensitive(root, "nodeName");

		if (node_name && cJSON_IsString(owner) && strcmp(owner->valuestring, node_name) != 0) {
			snprintf(err, err_len, "written for node %.64s, not %.64s", owner->valuestring, node_name);
			cJSON_Delete(root);
			return 0;
		}
	}
	list = cJSON_GetObjectItemCaseSensitive(root, "conditions");
	if (!cJSON_IsArray(list)) {
		snprintf(err, err_len, "conditions: expected a list");
		cJSON_Delete(root);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, list) {
		struct condition c = { 0 };
		char status[16];

		if (count >= max)
			break;
		r = field_string(item, "type", c.type, sizeof(c.type), count, err, err_len);
		if (r == 0)
			r = field_string(item, "status", status, sizeof(status), count, err, err_len);
		if (r == 0 && condition_status_from_name(status, &c.status) < 0) {
			snprintf(err, err_len, "conditions[%zu].status: invalid value \"%s\": expected True, False or Unknown",
				 count, status);
			r = -EINVAL;
		}
		if (r == 0)
			r = field_string(item, "reason", c.reason, sizeof(c.reason), count, err, err_len);
		if (r == 0)
			r = field_string(item, "message", c.message, sizeof(c.message), count, err, err_len);
		if (r == 0)
			r = field_time(item, "lastHeartbeatTime", &c.last_heartbeat_ms, count, err, err_len);
		if (r == 0)
			r = field_time(item, "lastTransitionTime", &c.last_transition_ms, count, err, err_len);
		if (r < 0)
			break;
		out[count++] = c;
	}
	cJSON_Delete(root);
	return r < 0 ? r : (int)count;
}

/* Returns whether text is a nodecond state document (whatever the state of its fields). */
static bool is_state_document(const char *text)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	bool ours = cJSON_IsString(kind) && strcmp(kind->valuestring, "NodecondState") == 0;

	cJSON_Delete(root);
	return ours;
}

int state_file_claim(const char *path, char *err, size_t err_len)
{
	static char text[STATE_FILE_SIZE_MAX];
	char lock_path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, r;

	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, err_len, "stateFile %s exists and is not a regular file; nodecond never writes "
				 "over it: set stateFile to a file path, or \"\" to keep no state", path);
			return -EINVAL;
		}
		n = procfs_read_file(path, text, sizeof(text));
		if (n < 0) {
			snprintf(err, err_len, "stateFile %s cannot be read: %s", path, strerror((int)-n));
			return (int)n;
		}
		/* An empty file is what a crash during the first write can leave: reuse it. */
		if (n > 0 && !is_state_document(text)) {
			snprintf(err, err_len, "stateFile %s exists and is not a nodecond state file (no \"kind\": "
				 "\"NodecondState\"); nodecond never writes over it: move it away or choose another stateFile",
				 path);
			return -EINVAL;
		}
	} else if (errno != ENOENT) {
		r = -errno;
		snprintf(err, err_len, "stateFile %s: %s", path, strerror(errno));
		return r;
	}

	r = path_mkdir_parents(path);
	if (r < 0) {
		snprintf(err, err_len, "cannot create the directory of stateFile %s: %s", path, strerror(-r));
		return r;
	}
	if (snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >= (int)sizeof(lock_path))
		return -ENAMETOOLONG;
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		r = -errno;
		snprintf(err, err_len, "cannot open the lock %s: %s", lock_path, strerror(errno));
		return r;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, err_len, "stateFile %s is in use by another agent (it holds %s); give each agent its own "
			 "stateFile", path, lock_path);
		close(fd);
		return r;
	}
	/* The descriptor stays open, and the lock held, until the process exits. */
	return 0;
}
