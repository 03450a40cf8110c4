/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unix socket server: HTTP/1.1 through libmicrohttpd in external epoll
 * mode, so its descriptor sits in the agent's loop and no request runs on
 * another thread.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/agent.h"
#include "daemon/log.h"
#include "daemon/pod_json.h"
#include "daemon/render.h"
#include "daemon/server.h"

#define SERVER_BODY_MAX (64 * 1024)
#define SERVER_CONNECTIONS_MAX 128
#define SERVER_CONNECTION_TIMEOUT_S 10

struct server {
	struct agent *agent;
	struct MHD_Daemon *mhd;
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t requests;
	uint64_t rejected;
};

/* Per-request state: the body received so far. */
struct request {
	char *body;
	size_t len;
	bool too_large;
};

static int mkdir_parents(const char *path)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/*
 * Removes a socket file left by a crashed run. A socket that accepts a
 * connection belongs to a running agent, and that is an error.
 */
static int remove_stale_socket(const struct sockaddr_un *addr, char *err, size_t err_len)
{
	struct stat st;
	int fd, r;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, err_len, "%s exists and is not a socket; remove it or choose another --socket",
			 addr->sun_path);
		return -EEXIST;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	if (r == 0) {
		snprintf(err, err_len, "%s is in use by a running agent; stop it first or choose another --socket",
			 addr->sun_path);
		return -EADDRINUSE;
	}
	log_info("socket: removing stale socket %s left by an earlier run", addr->sun_path);
	if (unlink(addr->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int open_listen_socket(const char *path, const char *group, char *err, size_t err_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, err_len, "socket path %s is longer than %zu characters", path, sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);

	r = mkdir_parents(path);
	if (r < 0) {
		snprintf(err, err_len, "cannot create the directory of %s: %s", path, strerror(-r));
		return r;
	}
	r = remove_stale_socket(&addr, err, err_len);
	if (r < 0) {
		if (!err[0])
			snprintf(err, err_len, "cannot replace %s: %s", path, strerror(-r));
		return r;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		snprintf(err, err_len, "cannot bind %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	if (chmod(path, 0660) < 0) {
		r = -errno;
		snprintf(err, err_len, "cannot set mode 0660 on %s: %s", path, strerror(errno));
		goto err_out;
	}
	if (group && group[0]) {
		struct group *gr = getgrnam(group);

		if (!gr) {
			r = -ENOENT;
			snprintf(err, err_len, "socket.group: group \"%s\" not found; create it or leave the field empty",
				 group);
			goto err_out;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) < 0) {
			r = -errno;
			snprintf(err, err_len, "cannot give %s to group %s: %s", path, group, strerror(errno));
			goto err_out;
		}
	}
	if (listen(fd, 64) < 0) {
		r = -errno;
		snprintf(err, err_len, "cannot listen on %s: %s", path, strerror(errno));
		goto err_out;
	}
	return fd;

err_out:
	close(fd);
	unlink(path);
	return r;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *content_type, char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned code, cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);
	size_t len;

	cJSON_Delete(body);
	if (!text)
		return MHD_NO;
	/* Newline-terminated, so `curl` output ends cleanly in a terminal. */
	len = strlen(text);
	text = realloc(text, len + 2);
	if (!text)
		return MHD_NO;
	text[len] = '\n';
	text[len + 1] = '\0';
	return send_text(c, code, "application/json", text);
}

/* Sends a Kubernetes-style Status object describing a failed request. */
static enum MHD_Result send_error(struct server *s, struct MHD_Connection *c, unsigned code, const char *reason,
				  const char *message)
{
	cJSON *o = cJSON_CreateObject();

	s->rejected++;
	cJSON_AddStringToObject(o, "kind", "Status");
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "status", "Failure");
	cJSON_AddStringToObject(o, "message", message);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddNumberToObject(o, "code", code);
	return send_json(c, code, o);
}

typedef cJSON *(*render_fn)(const struct agent *a);

static const struct route {
	const char *path;
	render_fn render;
} routes[] = {
	{ "/v1/status", render_status },
	{ "/v1/conditions", render_conditions },
	{ "/v1/signals", render_signals },
	{ "/v1/events", render_events },
	{ "/v1/taints", render_taints },
};

/* Reads a boolean query parameter; a missing one is fallback. */
static bool query_bool(struct MHD_Connection *c, const char *name, bool fallback)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);

	if (!v)
		return fallback;
	return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

static enum MHD_Result handle_tolerations(struct server *s, struct MHD_Connection *c, struct request *req)
{
	struct toleration_check_options opts;
	char err[POD_JSON_ERROR_MAX];
	cJSON *verdict = NULL;
	int r;

	opts.daemonset = query_bool(c, "daemonSet", false);
	opts.admission_defaults = query_bool(c, "admissionDefaults", true);
	if (!req->body || req->len == 0)
		return send_error(s, c, MHD_HTTP_BAD_REQUEST, "BadRequest",
				  "missing body: send a Pod, a PodSpec or a list of tolerations as JSON");

	r = pod_json_check(req->body, req->len, &opts, s->agent->taints, s->agent->n_taints, agent_now_ms(s->agent),
			   &verdict, err, sizeof(err));
	if (r == -ENOMEM)
		return send_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "out of memory");
	if (r < 0)
		return send_error(s, c, MHD_HTTP_BAD_REQUEST, "BadRequest", err);
	return send_json(c, MHD_HTTP_OK, verdict);
}

static enum MHD_Result dispatch(struct server *s, struct MHD_Connection *c, const char *url, const char *method,
				struct request *req)
{
	bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	if (req->too_large)
		return send_error(s, c, MHD_HTTP_CONTENT_TOO_LARGE, "RequestEntityTooLarge",
				  "request body is larger than 64 KiB");

	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0) {
		bool ready = strcmp(url, "/healthz") == 0 || s->agent->all_evaluated;

		if (!is_get)
			return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
					  "only GET is allowed on this path");
		if (ready)
			return send_text(c, MHD_HTTP_OK, "text/plain", strdup("ok\n"));
		return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				 strdup("not ready: some conditions have not had their first evaluation\n"));
	}

	if (strcmp(url, "/v1/tolerations") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
					  "only POST is allowed on this path");
		return handle_tolerations(s, c, req);
	}

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(url, routes[i].path) != 0)
			continue;
		if (!is_get)
			return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
					  "only GET is allowed on this path");
		return send_json(c, MHD_HTTP_OK, routes[i].render(s->agent));
	}

	{
		char message[256];

		snprintf(message, sizeof(message),
			 "path %.100s not found; try /v1/status, /v1/conditions, /v1/signals, /v1/taints, /v1/events, "
			 "/v1/tolerations, /healthz or /readyz",
			 url);
		return send_error(s, c, MHD_HTTP_NOT_FOUND, "NotFound", message);
	}
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				      const char *version, const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct server *s = cls;
	struct request *req = *con_cls;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (req->too_large || req->len + n > SERVER_BODY_MAX) {
			req->too_large = true;
			return MHD_YES;
		}
		char *bigger = realloc(req->body, req->len + n + 1);

		if (!bigger)
			return MHD_NO;
		req->body = bigger;
		memcpy(req->body + req->len, upload_data, n);
		req->len += n;
		req->body[req->len] = '\0';
		return MHD_YES;
	}

	s->requests++;
	return dispatch(s, c, url, method, req);
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;

	if (!req)
		return;
	free(req->body);
	free(req);
	*con_cls = NULL;
}

int server_new(struct server **ret, struct agent *agent, const char *path, const char *group, char *err,
	       size_t err_len)
{
	struct server *s;
	int fd;

	err[0] = '\0';
	fd = open_listen_socket(path, group, err, err_len);
	if (fd < 0)
		return fd;

	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	s->agent = agent;
	s->listen_fd = fd;
	snprintf(s->path, sizeof(s->path), "%s", path);

	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle_request, s,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVER_CONNECTIONS_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_CONNECTION_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
				  MHD_OPTION_NOTIFY_COMPLETED, request_completed, s,
				  MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, err_len, "cannot start the HTTP server on %s", path);
		close(fd);
		unlink(path);
		free(s);
		return -EIO;
	}
	*ret = s;
	return 0;
}

int server_fd(const struct server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

int server_timeout_ms(const struct server *s)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	if (MHD_get_timeout(s->mhd, &timeout) != MHD_YES)
		return -1;
	return timeout > INT32_MAX ? INT32_MAX : (int)timeout;
}

void server_process(struct server *s)
{
	MHD_run(s->mhd);
}

void server_free(struct server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	close(s->listen_fd);
	unlink(s->path);
	free(s);
}
