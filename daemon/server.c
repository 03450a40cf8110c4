/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unix socket server: HTTP/1.1 through libmicrohttpd in external epoll
 * mode, so its descriptor sits in the agent's loop and no request runs on
 * another thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
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
#include "daemon/metrics.h"
#include "daemon/path.h"
#include "daemon/pod_json.h"
#include "daemon/record.h"
#include "daemon/render.h"
#include "daemon/server.h"
#include "daemon/timefmt.h"

#define SERVER_BODY_MAX (64 * 1024)
#define SERVER_CONNECTIONS_MAX 128
#define SERVER_CONNECTION_TIMEOUT_S 10
#define SERVER_JSON_MAX (16 * 1024 * 1024)
/* Watch streams share the connection limit; this many leave room for other clients. */
#define SERVER_WATCHERS_MAX 64
/* A watcher that saw nothing for this long gets a heartbeat line, which also detects a gone client. */
#define SERVER_WATCH_HEARTBEAT_MS 30000

struct watcher;

struct server {
	struct agent *agent;
	struct MHD_Daemon *mhd;
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];   /* socket path, or the TCP address */
	uint64_t requests;
	uint64_t rejected;
	uint64_t response_counts[SERVER_STATUS_CODES_MAX];
	struct watcher *watchers;
	unsigned n_watchers;
	bool stopping;
	bool metrics_only;            /* the TCP listener: /metrics and /healthz only */
	size_t json_size_hint;        /* buffer size the last JSON response fit in */
};

/* One open /v1/watch or /v1/record stream. */
struct watcher {
	struct server *server;
	struct MHD_Connection *connection;
	bool record;                  /* streams the recorder's lines instead of transitions */
	uint64_t next_seq;            /* the next event (or recorder line) number to send */
	bool suspended;
	bool peer_closed;             /* the client hung up while the stream was parked */
	int64_t last_sent_ms;
	char *pending;                /* a rendered line not yet fully sent */
	size_t pending_len;
	size_t pending_off;
	struct watcher *next;
};

/* Per-request state: the body received so far. */
struct request {
	char *body;
	size_t len;
	bool too_large;
};

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

	r = path_mkdir_parents(path);
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

static enum MHD_Result queue_response(struct server *s, struct MHD_Connection *c, unsigned code,
				      struct MHD_Response *resp)
{
	if (code < SERVER_STATUS_CODES_MAX)
		s->response_counts[code]++;
	return MHD_queue_response(c, code, resp);
}

static enum MHD_Result send_text(struct server *s, struct MHD_Connection *c, unsigned code, const char *content_type,
				 char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	ret = queue_response(s, c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_json(struct server *s, struct MHD_Connection *c, unsigned code, cJSON *body)
{
	size_t cap = s->json_size_hint, len;
	char *text = NULL;

	/*
	 * Printing into a buffer of the size the last response needed skips
	 * cJSON's repeated reallocations. A larger response grows the hint.
	 */
	while (!text) {
		text = malloc(cap);
		if (!text)
			break;
		if (cJSON_PrintPreallocated(body, text, (int)cap - 2, false))
			break;
		free(text);
		text = NULL;
		cap *= 2;
		if (cap > SERVER_JSON_MAX)
			break;
	}
	cJSON_Delete(body);
	if (!text) {
		char *message = strdup("failed to render the response: out of memory, or larger than 16 MiB\n");

		return message ? send_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", message) : MHD_NO;
	}
	s->json_size_hint = cap;

	/* Newline-terminated, so `curl` output ends cleanly in a terminal. */
	len = strlen(text);
	text[len] = '\n';
	text[len + 1] = '\0';
	return send_text(s, c, code, "application/json", text);
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
	return send_json(s, c, code, o);
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

/* Returns a boolean query parameter, or fallback when the request does not set it. */
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
	return send_json(s, c, MHD_HTTP_OK, verdict);
}

static void watcher_set_line(struct watcher *w, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o), *line;
	size_t len;

	cJSON_Delete(o);
	if (!text)
		return;
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return;
	}
	w->pending = line;
	w->pending[len] = '\n';
	w->pending[len + 1] = '\0';
	w->pending_len = len + 1;
	w->pending_off = 0;
}

/* Takes the next recorder line for a /v1/record stream; returns whether there was one. */
static bool watcher_next_record_line(struct watcher *w)
{
	const struct recorder *r = w->server->agent->recorder;
	uint64_t oldest = recorder_oldest_seq(r);
	const char *line;
	size_t len;

	if (w->next_seq < oldest) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "type", "dropped");
		cJSON_AddNumberToObject(o, "count", (double)(oldest - w->next_seq));
		cJSON_AddStringToObject(o, "message", "this stream read too slowly; older ticks were dropped");
		w->next_seq = oldest;
		watcher_set_line(w, o);
		return true;
	}
	line = recorder_line_get(r, w->next_seq, &len);
	if (!line)
		return false;
	w->pending = malloc(len);
	if (!w->pending)
		return false;
	memcpy(w->pending, line, len);
	w->pending_len = len;
	w->pending_off = 0;
	w->next_seq++;
	return true;
}

/* Renders the next line for a watcher, or leaves pending empty when there is nothing to send. */
static void watcher_next_line(struct watcher *w)
{
	const struct agent *a = w->server->agent;
	uint64_t oldest = a->events_total - a->events_len;
	int64_t now_ms = agent_now_ms(a);
	const struct agent_event *ev;

	if (w->record && watcher_next_record_line(w))
		return;
	if (!w->record && w->next_seq < oldest) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "type", "dropped");
		cJSON_AddNumberToObject(o, "count", (double)(oldest - w->next_seq));
		cJSON_AddStringToObject(o, "message", "this watcher read too slowly; older transitions were dropped");
		w->next_seq = oldest;
		watcher_set_line(w, o);
		return;
	}
	ev = w->record ? NULL : agent_event_get(a, w->next_seq);
	if (ev) {
		w->next_seq++;
		watcher_set_line(w, render_event(ev));
		return;
	}
	if (now_ms - w->last_sent_ms >= SERVER_WATCH_HEARTBEAT_MS) {
		cJSON *o = cJSON_CreateObject();
		char t[TIMEFMT_RFC3339_MAX];

		timefmt_rfc3339(now_ms, t, sizeof(t));
		cJSON_AddStringToObject(o, "type", "heartbeat");
		cJSON_AddStringToObject(o, "time", t);
		watcher_set_line(w, o);
	}
}

static ssize_t watcher_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct watcher *w = cls;
	size_t n;

	if (w->server->stopping || w->peer_closed)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (!w->pending)
		watcher_next_line(w);
	if (!w->pending) {
		/* Nothing to send: park the connection until server_notify_watchers(). */
		w->suspended = true;
		MHD_suspend_connection(w->connection);
		return 0;
	}

	n = w->pending_len - w->pending_off;
	if (n > max)
		n = max;
	memcpy(buf, w->pending + w->pending_off, n);
	w->pending_off += n;
	if (w->pending_off == w->pending_len) {
		free(w->pending);
		w->pending = NULL;
		w->last_sent_ms = agent_now_ms(w->server->agent);
	}
	return (ssize_t)n;
}

static void watcher_free(void *cls)
{
	struct watcher *w = cls;
	struct server *s = w->server;

	for (struct watcher **p = &s->watchers; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	s->n_watchers--;
	if (w->record)
		recorder_stream_close(s->agent->recorder);
	free(w->pending);
	free(w);
}

/* Starts a /v1/watch stream of transitions, or with record a /v1/record stream of recorder lines. */
static enum MHD_Result start_watch(struct server *s, struct MHD_Connection *c, bool record)
{
	struct MHD_Response *resp;
	struct watcher *w;
	enum MHD_Result ret;

	if (s->n_watchers >= SERVER_WATCHERS_MAX)
		return send_error(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "ServiceUnavailable",
				  "too many open watch streams; close one and retry");
	w = calloc(1, sizeof(*w));
	if (!w)
		return MHD_NO;
	w->server = s;
	w->connection = c;
	w->record = record;
	w->next_seq = s->agent->events_total;
	w->last_sent_ms = agent_now_ms(s->agent);

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, watcher_read, w, watcher_free);
	if (!resp) {
		free(w);
		return MHD_NO;
	}
	if (record)
		w->next_seq = recorder_stream_open(s->agent->recorder);
	w->next = s->watchers;
	s->watchers = w;
	s->n_watchers++;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	ret = queue_response(s, c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Returns whether the client of a parked stream hung up. libmicrohttpd does
 * not watch suspended connections, so without this a gone client would
 * hold its slot until the next heartbeat.
 */
static bool watcher_peer_closed(const struct watcher *w)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(w->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
	char byte;
	ssize_t n;

	if (!info)
		return false;
	n = recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void server_notify_watchers(struct server *s)
{
	for (struct watcher *w = s->watchers; w; w = w->next) {
		if (!w->suspended)
			continue;
		w->peer_closed = watcher_peer_closed(w);
		w->suspended = false;
		MHD_resume_connection(w->connection);
	}
}

static enum MHD_Result dispatch(struct server *s, struct MHD_Connection *c, const char *url, const char *method,
				struct request *req)
{
	bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	if (req->too_large)
		return send_error(s, c, MHD_HTTP_CONTENT_TOO_LARGE, "RequestEntityTooLarge",
				  "request body is larger than 64 KiB");

	if (s->metrics_only && strcmp(url, "/metrics") != 0 && strcmp(url, "/healthz") != 0)
		return send_error(s, c, MHD_HTTP_NOT_FOUND, "NotFound",
				  "this address serves /metrics and /healthz only; use the Unix socket for the rest");

	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0) {
		bool ready = strcmp(url, "/healthz") == 0 || s->agent->all_evaluated;

		if (!is_get)
			return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
					  "only GET is allowed on this path");
		if (ready)
			return send_text(s, c, MHD_HTTP_OK, "text/plain", strdup("ok\n"));
		return send_text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				 strdup("not ready: some conditions have not had their first evaluation\n"));
	}

	if (strcmp(url, "/metrics") == 0) {
		char *text;

		if (!is_get)
			return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
					  "only GET is allowed on this path");
		text = metrics_render(s->agent);
		if (!text)
			return send_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "out of memory");
		return send_text(s, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text);
	}

	if (strcmp(url, "/v1/watch") == 0) {
		if (!is_get)
			return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
					  "only GET is allowed on this path");
		return start_watch(s, c, false);
	}

	if (strcmp(url, "/v1/record") == 0) {
		if (!is_get)
			return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
					  "only GET is allowed on this path");
		if (!s->agent->recorder)
			return send_error(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "ServiceUnavailable",
					  "the recorder is not running; retry once the agent has started");
		return start_watch(s, c, true);
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
		return send_json(s, c, MHD_HTTP_OK, routes[i].render(s->agent));
	}

	{
		char message[256];

		snprintf(message, sizeof(message),
			 "path %.100s not found; try /v1/status, /v1/conditions, /v1/signals, /v1/taints, /v1/events, "
			 "/v1/tolerations, /v1/watch, /v1/record, /metrics, /healthz or /readyz",
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

/* libmicrohttpd's own messages (mostly clients that went away) are debug-level noise. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	log_debug("socket: libmicrohttpd: %s", line);
}

/* Starts libmicrohttpd on a listening socket; the server takes fd. */
static int server_start(struct server **ret, struct agent *agent, int fd, const char *path, bool metrics_only,
			char *err, size_t err_len)
{
	struct server *s;

	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->agent = agent;
	s->listen_fd = fd;
	s->metrics_only = metrics_only;
	s->json_size_hint = 16384;
	snprintf(s->path, sizeof(s->path), "%s", path);

	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
				  handle_request, s,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVER_CONNECTIONS_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_CONNECTION_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
				  MHD_OPTION_NOTIFY_COMPLETED, request_completed, s,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, err_len, "failed to start the HTTP server on %s", path);
		close(fd);
		free(s);
		return -EIO;
	}
	*ret = s;
	return 0;
}

int server_new(struct server **ret, struct agent *agent, const char *path, const char *group, char *err,
	       size_t err_len)
{
	int fd, r;

	err[0] = '\0';
	fd = open_listen_socket(path, group, err, err_len);
	if (fd < 0)
		return fd;
	r = server_start(ret, agent, fd, path, false, err, err_len);
	if (r < 0)
		unlink(path);
	return r;
}

int server_new_metrics(struct server **ret, struct agent *agent, const char *address, char *err, size_t err_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[128];
	const char *port;
	size_t host_len;
	int fd, r, one = 1;

	port = strrchr(address, ':');
	if (!port || (size_t)(port - address) >= sizeof(host)) {
		snprintf(err, err_len, "metrics.address: invalid address \"%s\": expected HOST:PORT", address);
		return -EINVAL;
	}
	host_len = (size_t)(port - address);
	memcpy(host, address, host_len);
	host[host_len] = '\0';
	port++;
	/* "[::1]:9101": the brackets only separate the IPv6 address from the port. */
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		memmove(host, host + 1, host_len - 2);
		host[host_len - 2] = '\0';
	}

	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		snprintf(err, err_len, "metrics.address: invalid address \"%s\": %s; expected a numeric IP and port",
			 address, gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		freeaddrinfo(ai);
		return r;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		snprintf(err, err_len, "metrics.address: failed to listen on %s: %s", address, strerror(errno));
		freeaddrinfo(ai);
		close(fd);
		return r;
	}
	freeaddrinfo(ai);
	return server_start(ret, agent, fd, address, true, err, err_len);
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

const uint64_t *server_response_counts(const struct server *s)
{
	return s->response_counts;
}

unsigned server_watchers(const struct server *s)
{
	return s->n_watchers;
}

void server_process(struct server *s)
{
	MHD_run(s->mhd);
}

void server_free(struct server *s)
{
	if (!s)
		return;
	/* Stopping with suspended connections is not allowed: end every watch stream first. */
	s->stopping = true;
	server_notify_watchers(s);
	MHD_run(s->mhd);
	MHD_stop_daemon(s->mhd);
	close(s->listen_fd);
	if (!s->metrics_only)
		unlink(s->path);
	free(s);
}
