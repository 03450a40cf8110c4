/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include "daemon/kube_http.h"
#include "daemon/loop.h"
#include "daemon/version.h"

#define TOKEN_FILE_MAX (1024 * 1024)

struct kube_client {
	struct loop *loop;
	const struct kube_credentials *creds;
	CURLM *multi;
	struct loop_source *timer;
	struct kube_call *calls;         /* every call in flight */
	uint64_t requests;
	uint64_t counts[_KUBE_VERB_MAX][KUBE_STATUS_CODES_MAX];   /* finished requests by verb and status */

	/* The bearer token and the identity of the file it came from. */
	char *token;
	struct stat token_stat;
	bool token_stat_valid;
};

struct kube_call {
	struct kube_client *client;
	struct kube_call *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *body;                      /* the request body, owned */
	char *buf;                       /* the response body, or the partial watch line */
	size_t len, cap;
	bool too_large;
	kube_line_fn on_line;
	kube_done_fn on_done;
	void *userdata;
	enum kube_verb verb;
	char error[CURL_ERROR_SIZE];
};

uint64_t kube_client_requests(const struct kube_client *c)
{
	return c->requests;
}

const char *kube_verb_name(enum kube_verb verb)
{
	static const char *const names[_KUBE_VERB_MAX] = {
		[KUBE_VERB_GET] = "GET", [KUBE_VERB_WATCH] = "WATCH", [KUBE_VERB_POST] = "POST",
		[KUBE_VERB_PUT] = "PUT", [KUBE_VERB_PATCH] = "PATCH", [KUBE_VERB_DELETE] = "DELETE",
	};

	return verb < _KUBE_VERB_MAX ? names[verb] : NULL;
}

uint64_t kube_client_count(const struct kube_client *c, enum kube_verb verb, int code)
{
	if (verb >= _KUBE_VERB_MAX || code < 0 || code >= KUBE_STATUS_CODES_MAX)
		return 0;
	return c->counts[verb][code];
}

static enum kube_verb verb_of(const struct kube_request *req)
{
	if (req->on_line)
		return KUBE_VERB_WATCH;
	if (strcmp(req->method, "POST") == 0)
		return KUBE_VERB_POST;
	if (strcmp(req->method, "PUT") == 0)
		return KUBE_VERB_PUT;
	if (strcmp(req->method, "PATCH") == 0)
		return KUBE_VERB_PATCH;
	if (strcmp(req->method, "DELETE") == 0)
		return KUBE_VERB_DELETE;
	return KUBE_VERB_GET;
}

static void on_timer(struct loop_source *source, void *userdata);

static void call_unlink(struct kube_call *call)
{
	struct kube_client *c = call->client;

	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
}

static void call_free(struct kube_call *call)
{
	call_unlink(call);
	curl_multi_remove_handle(call->client->multi, call->easy);
	curl_easy_cleanup(call->easy);
	curl_slist_free_all(call->headers);
	free(call->body);
	free(call->buf);
	free(call);
}

void kube_call_cancel(struct kube_call *call)
{
	if (call)
		call_free(call);
}

static bool stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Reads the token file again when it changed: a projected service account
 * token is replaced by a new file behind a symlink, which changes the inode.
 * A failed read keeps the previous token; the API server's 401 reports it.
 */
static void refresh_token(struct kube_client *c)
{
	struct kube_blob b = { 0 };
	struct stat st;
	size_t len;

	if (!c->creds->token_file[0])
		return;
	if (stat(c->creds->token_file, &st) < 0)
		return;
	if (c->token_stat_valid && stat_same(&st, &c->token_stat))
		return;
	if (kube_blob_read_file(c->creds->token_file, TOKEN_FILE_MAX, &b) < 0)
		return;
	len = b.len;
	while (len > 0 && (b.data[len - 1] == '\n' || b.data[len - 1] == '\r' || b.data[len - 1] == ' '))
		b.data[--len] = '\0';
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = b.data;
	c->token_stat = st;
	c->token_stat_valid = true;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct kube_call *call = userdata;
	size_t n = size * nmemb;
	long status = 0;

	if (call->len + n + 1 > call->cap) {
		size_t cap = call->cap ? call->cap : 16384;
		char *bigger;

		while (cap < call->len + n + 1)
			cap *= 2;
		if (cap > KUBE_BODY_MAX + 1) {
			call->too_large = true;
			return 0;       /* aborts the transfer with CURLE_WRITE_ERROR */
		}
		bigger = realloc(call->buf, cap);
		if (!bigger)
			return 0;
		call->buf = bigger;
		call->cap = cap;
	}
	memcpy(call->buf + call->len, ptr, n);
	call->len += n;
	call->buf[call->len] = '\0';

	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
	if (call->on_line && kube_status_ok(status)) {
		char *start = call->buf, *nl;

		while ((nl = memchr(start, '\n', call->len - (size_t)(start - call->buf)))) {
			*nl = '\0';
			if (nl > start && !call->on_line(start, (size_t)(nl - start), call->userdata))
				return 0;       /* the caller stopped the stream */
			start = nl + 1;
		}
		call->len -= (size_t)(start - call->buf);
		memmove(call->buf, start, call->len);
		call->buf[call->len] = '\0';
	}
	return n;
}

static void finish(struct kube_client *c, struct kube_call *call, CURLcode result)
{
	struct kube_response resp = { .retry_after_ms = -1 };
	curl_off_t retry_after = 0;
	kube_done_fn done = call->on_done;
	void *userdata = call->userdata;

	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &resp.status);
	if (curl_easy_getinfo(call->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
		resp.retry_after_ms = (int64_t)retry_after * 1000;

	if (call->too_large) {
		snprintf(resp.error, sizeof(resp.error), "response larger than %d MiB", KUBE_BODY_MAX >> 20);
		resp.status = 0;
	} else if (result != CURLE_OK) {
		snprintf(resp.error, sizeof(resp.error), "%s", call->error[0] ? call->error : curl_easy_strerror(result));
		resp.status = 0;
	}
	if (resp.status == 401) {
		/* The token may have been rotated under an unchanged stat: read it again next time. */
		c->token_stat_valid = false;
	}
	if (resp.status >= 0 && resp.status < KUBE_STATUS_CODES_MAX)
		c->counts[call->verb][resp.status]++;
	resp.body = call->buf ? call->buf : "";
	resp.body_len = call->len;
	if (call->on_line && kube_status_ok(resp.status)) {
		resp.body = "";
		resp.body_len = 0;
	}

	/* The callback may start or cancel other calls; this one is freed after it returns. */
	call->on_done = NULL;
	if (done)
		done(&resp, userdata);
	call_free(call);
}

static void process_done(struct kube_client *c)
{
	CURLMsg *msg;
	int pending;

	while ((msg = curl_multi_info_read(c->multi, &pending))) {
		struct kube_call *call = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		if (call)
			finish(c, call, msg->data.result);
	}
}

static void on_socket_event(struct loop_source *source, int fd, uint32_t events, void *userdata)
{
	struct kube_client *c = userdata;
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	process_done(c);
}

static void on_timer(struct loop_source *source, void *userdata)
{
	struct kube_client *c = userdata;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	process_done(c);
}

/* CURLMOPT_SOCKETFUNCTION: mirror curl's interest in a socket into the loop. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct kube_client *c = userp;
	struct loop_source *source = socketp;
	uint32_t events = 0;

	if (what == CURL_POLL_REMOVE) {
		loop_remove(source);
		curl_multi_assign(c->multi, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (source)
		return loop_set_io_events(source, events) < 0 ? -1 : 0;
	if (loop_add_io(c->loop, s, events, on_socket_event, c, &source) < 0)
		return -1;
	curl_multi_assign(c->multi, s, source);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, 0 means "as soon as possible". */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct kube_client *c = userp;

	if (timeout_ms < 0)
		return loop_timer_set(c->timer, 0, 0) < 0 ? -1 : 0;
	return loop_timer_set(c->timer, timeout_ms > 0 ? timeout_ms : 1, 0) < 0 ? -1 : 0;
}

int kube_client_new(struct kube_client **ret, struct loop *l, const struct kube_credentials *creds)
{
	struct kube_client *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = l;
	c->creds = creds;
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return -ENOMEM;
	}
	r = loop_add_timer(l, 0, 0, on_timer, c, &c->timer);
	if (r == 0)
		r = loop_timer_set(c->timer, 0, 0);
	if (r < 0) {
		curl_multi_cleanup(c->multi);
		loop_remove(c->timer);
		free(c);
		return r;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	/* The watch uses one connection and requests share another, so 4 leaves room for a slow request. */
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
	refresh_token(c);
	*ret = c;
	return 0;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	while (c->calls)
		call_free(c->calls);
	curl_multi_cleanup(c->multi);
	loop_remove(c->timer);
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c);
}

static void set_blob(CURL *easy, CURLoption option, const struct kube_blob *b)
{
	struct curl_blob blob = { .data = b->data, .len = b->len, .flags = CURL_BLOB_COPY };

	curl_easy_setopt(easy, option, &blob);
}

static void set_tls(struct kube_client *c, CURL *easy)
{
	const struct kube_credentials *k = c->creds;

	if (k->insecure_skip_tls_verify) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (k->ca_data.data)
		set_blob(easy, CURLOPT_CAINFO_BLOB, &k->ca_data);
	else if (k->ca_file[0])
		curl_easy_setopt(easy, CURLOPT_CAINFO, k->ca_file);
	if (k->client_cert_data.data)
		set_blob(easy, CURLOPT_SSLCERT_BLOB, &k->client_cert_data);
	else if (k->client_cert_file[0])
		curl_easy_setopt(easy, CURLOPT_SSLCERT, k->client_cert_file);
	if (k->client_key_data.data)
		set_blob(easy, CURLOPT_SSLKEY_BLOB, &k->client_key_data);
	else if (k->client_key_file[0])
		curl_easy_setopt(easy, CURLOPT_SSLKEY, k->client_key_file);
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct curl_slist *next;
	char *line;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	next = curl_slist_append(*list, line);
	explicit_bzero(line, strlen(line));
	free(line);
	if (!next)
		return -ENOMEM;
	*list = next;
	return 0;
}

static int build_headers(struct kube_client *c, const struct kube_request *req, struct curl_slist **ret)
{
	const char *token = c->creds->token ? c->creds->token : c->token;
	struct curl_slist *h = NULL;
	int r;

	r = add_header(&h, "Accept", "application/json");
	if (r == 0)
		r = add_header(&h, "User-Agent", "nodecond/" NODECOND_VERSION);
	/* No "Expect: 100-continue" round trip before small bodies. */
	if (r == 0)
		r = add_header(&h, "Expect", "");
	if (r == 0 && req->content_type)
		r = add_header(&h, "Content-Type", req->content_type);
	if (r == 0 && token && token[0]) {
		char *value;

		if (asprintf(&value, "Bearer %s", token) < 0) {
			r = -ENOMEM;
		} else {
			r = add_header(&h, "Authorization", value);
			explicit_bzero(value, strlen(value));
			free(value);
		}
	}
	if (r < 0) {
		curl_slist_free_all(h);
		return r;
	}
	*ret = h;
	return 0;
}

int kube_client_request(struct kube_client *c, const struct kube_request *req, struct kube_call **ret)
{
	struct kube_call *call;
	char *url;
	int r;

	refresh_token(c);
	call = calloc(1, sizeof(*call));
	if (!call)
		return -ENOMEM;
	call->client = c;
	call->on_line = req->on_line;
	call->on_done = req->on_done;
	call->verb = verb_of(req);
	call->userdata = req->userdata;
	call->easy = curl_easy_init();
	if (!call->easy) {
		free(call);
		return -ENOMEM;
	}
	r = build_headers(c, req, &call->headers);
	if (r == 0 && req->body) {
		call->body = strdup(req->body);
		if (!call->body)
			r = -ENOMEM;
	}
	if (r == 0 && asprintf(&url, "%s%s", c->creds->server, req->path) < 0)
		r = -ENOMEM;
	if (r < 0) {
		curl_slist_free_all(call->headers);
		curl_easy_cleanup(call->easy);
		free(call->body);
		free(call);
		return r;
	}

	CURL *e = call->easy;

	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	if (call->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(call->body));
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(e, CURLOPT_PRIVATE, call);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->error);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)KUBE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout_ms > 0 ? req->timeout_ms : KUBE_TIMEOUT_DEFAULT_MS));
	set_tls(c, e);

	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		call_free(call);
		return -ENOMEM;
	}
	c->requests++;
	if (ret)
		*ret = call;
	return 0;
}
