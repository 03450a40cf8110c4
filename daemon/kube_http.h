/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP requests to the API server on libcurl's multi interface, driven by
 * the agent's event loop: curl's sockets are loop I/O sources and its
 * timeout is a loop timer, so a request never blocks the loop.
 */
#ifndef NODECOND_DAEMON_KUBE_HTTP_H
#define NODECOND_DAEMON_KUBE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/kube_config.h"

/*
 * The largest response body or watch line accepted. A Node with thousands
 * of images is a few hundred KiB; anything larger is treated as a broken
 * response rather than buffered.
 */
#define KUBE_BODY_MAX (8 * 1024 * 1024)

#define KUBE_TIMEOUT_DEFAULT_MS 15000
#define KUBE_CONNECT_TIMEOUT_MS 10000

struct loop;
struct kube_client;
struct kube_call;

struct kube_response {
	long status;               /* HTTP status; 0 when no response arrived */
	const char *body;          /* NUL-terminated; empty for streamed 2xx bodies */
	size_t body_len;
	int64_t retry_after_ms;    /* from Retry-After; -1 when absent */
	char error[256];           /* transport failure ("Connection refused"), or "" */
};

/* Called once when a call ends, unless it was cancelled; it must not cancel its own call. */
typedef void (*kube_done_fn)(const struct kube_response *resp, void *userdata);
/*
 * Called for each line of a streamed 2xx body (a watch), without the
 * newline. Returning false ends the call, which then reports a transport
 * error; the call must not be cancelled from here.
 */
typedef bool (*kube_line_fn)(const char *line, size_t len, void *userdata);

struct kube_request {
	const char *method;        /* GET, POST, PUT or PATCH */
	const char *path;          /* "/api/v1/nodes/n1/status", query included */
	const char *content_type;  /* with a body */
	const char *body;
	int64_t timeout_ms;        /* 0: KUBE_TIMEOUT_DEFAULT_MS */
	kube_line_fn on_line;      /* non-NULL: stream the body line by line */
	kube_done_fn on_done;
	void *userdata;
};

/* Creates a client; creds must outlive it. Returns 0 or -errno. */
int kube_client_new(struct kube_client **ret, struct loop *l, const struct kube_credentials *creds);

/* Cancels every call without calling back, and frees the client. NULL is ignored. */
void kube_client_free(struct kube_client *c);

/*
 * Starts a request. Returns 0 with the call in *ret (may be NULL), or
 * -errno; the bearer token is read again first when its file changed.
 */
int kube_client_request(struct kube_client *c, const struct kube_request *req, struct kube_call **ret);

/* Stops a call; its done callback is not called. NULL is ignored. */
void kube_call_cancel(struct kube_call *call);

/* Requests sent since the client was created, for the socket and benchmarks. */
uint64_t kube_client_requests(const struct kube_client *c);

/* Returns true when a 2xx status. */
static inline bool kube_status_ok(long status)
{
	return status >= 200 && status < 300;
}

/* Verbs that requests are counted by; WATCH is a streamed GET. */
enum kube_verb {
	KUBE_VERB_GET,
	KUBE_VERB_WATCH,
	KUBE_VERB_POST,
	KUBE_VERB_PUT,
	KUBE_VERB_PATCH,
	KUBE_VERB_DELETE,
	_KUBE_VERB_MAX,
};

/* Status codes are counted below this; 0 counts requests that got no response. */
#define KUBE_STATUS_CODES_MAX 600

const char *kube_verb_name(enum kube_verb verb);

/* Returns how many requests of a verb finished with a status code (0: no response). */
uint64_t kube_client_count(const struct kube_client *c, enum kube_verb verb, int code);

#endif
