/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reconciler is a set of channels, one per kind of request (sync of
 * the Node, watch, status, Lease, taints, Events). A channel has at most
 * one call in flight, one timer and one backoff, so an outage leaves at
 * most one pending request per channel, and each write is built from the
 * latest desired state when it is sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "conditions/readiness.h"
#include "daemon/kube_backoff.h"
#include "daemon/kube_http.h"
#include "daemon/kube_json.h"
#include "daemon/kube_reconciler.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "taints/planner.h"

/* Conflicts (409, 422) retried at once before the taint channel backs off. */
#define TAINT_CONFLICTS_MAX 5
/* The server ends a watch after a random time in [min, 2*min), as client-go's reflector requests (min 5 minutes). */
#define WATCH_TIMEOUT_MIN_S 300
/* A watch that ends sooner than this is restarted with backoff, not at once. */
#define WATCH_SHORT_MS 1000
#define NOT_FOUND_RETRY_MAX_MS 30000
#define LOG_INTERVAL_MS (60 * 1000)

enum channel_id {
	CH_SYNC,
	CH_WATCH,
	CH_STATUS,
	CH_LEASE,
	CH_TAINTS,
	CH_EVENTS,
	_CH_MAX,
};

static const char *const channel_names[_CH_MAX] = {
	[CH_SYNC] = "read node",   [CH_WATCH] = "watch node", [CH_STATUS] = "write conditions",
	[CH_LEASE] = "renew lease", [CH_TAINTS] = "write taints", [CH_EVENTS] = "post event",
};

/* Kinds of failure; each logs at most once per LOG_INTERVAL_MS. */
enum failure_kind {
	FAIL_TRANSPORT,
	FAIL_UNAUTHORIZED,
	FAIL_FORBIDDEN,
	FAIL_NOT_FOUND,
	FAIL_CONFLICT,
	FAIL_THROTTLED,
	FAIL_SERVER,
	FAIL_REJECTED,
	FAIL_INVALID_RESPONSE,
	_FAIL_MAX,
};

struct kube_reconciler;

struct channel {
	struct kube_reconciler *r;
	enum channel_id id;
	struct kube_call *call;
	struct loop_source *timer;
	struct kube_backoff backoff;
	bool retry_pending;            /* the timer is armed for a retry after a failure */
	bool retry_after;              /* that retry waits for the server's Retry-After */
	int64_t retry_at_mono;         /* time that retry is due, in mono_ms() milliseconds */
	bool transport_failed;         /* the last failure reached no server */
};

enum node_state {
	NODE_UNREAD,
	NODE_MISSING,
	NODE_FOUND,
};

struct pending_event {
	bool used;
	bool created;                  /* exists in the API server */
	bool dirty;                    /* count or message changed since the last write */
	unsigned sent_count;
	struct kube_event ev;
};

struct kube_reconciler {
	struct loop *loop;
	struct kube_credentials creds;
	struct kube_client *client;
	struct kube_reconciler_options opts;
	struct taint_profile profile;
	char node_name[256];
	char node_path[320];           /* /api/v1/nodes/NAME */
	char lease_path[512];
	uint64_t random_state;

	struct channel ch[_CH_MAX];
	struct log_ratelimit log_limits[_FAIL_MAX];

	enum node_state node_state;
	struct kube_node node;
	bool sync_list;                /* the next sync lists (after a 410) instead of getting */
	enum kube_adoption adoption;
	struct condition adopted[KUBE_NODE_CONDITIONS_MAX];
	size_t n_adopted;

	/* Conditions: desired from the engine, queued for the next write, and last written. */
	struct condition desired[_CONDITION_KIND_MAX];
	bool has_desired[_CONDITION_KIND_MAX];
	struct condition queued[_CONDITION_KIND_MAX];
	bool has_queued[_CONDITION_KIND_MAX];
	struct condition sending[_CONDITION_KIND_MAX];
	bool has_sending[_CONDITION_KIND_MAX];
	struct condition written[_CONDITION_KIND_MAX];
	bool has_written[_CONDITION_KIND_MAX];
	bool status_dirty;
	bool status_flushed;           /* kube_reconciler_flush_status() already started a write */
	char status_flush_error[300];  /* why the server rejected a status write after the flush, or "" */
	int64_t last_status_start_mono;
	struct loop_source *heartbeat_timer;
	struct loop_source *resync_timer;

	/* Watch */
	char watch_rv[KUBE_RESOURCE_VERSION_MAX];
	bool watch_expired;            /* an in-stream 410: list again */
	bool watch_failed;             /* an unreadable line or event */
	bool watch_deleted;            /* a DELETED event: the Node is gone */
	int64_t watch_started_mono;

	/* Lease */
	bool lease_started;            /* after the first read of the Node, so the Lease can name its owner */
	bool lease_creating;

	/* Taints */
	unsigned taint_conflicts;
	bool taints_forbidden;         /* 403: wait for the resync period */
	bool taints_rereading;         /* the taint channel's call is a GET after a conflict */
	char taints_error[256];

	/* Events */
	struct pending_event events[KUBE_EVENTS_PENDING_MAX];
	int event_sending;             /* index in events, or -1 */
	uint64_t events_dropped;

	/* Reported on the socket */
	bool reachable;
	int64_t last_success_ms;
	int64_t last_error_ms;
	char last_error[512];
	int64_t last_status_write_ms;
	int64_t last_lease_renew_ms;
	/* A watch event arrived while a status write was in flight; read the Node again after it. */
	bool recheck_after_write;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: jitter only, never security. */
static uint64_t next_random(struct kube_reconciler *r)
{
	uint64_t x = r->random_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->random_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void channel_arm(struct channel *ch, int64_t delay_ms)
{
	int r = loop_timer_set(ch->timer, delay_ms > 0 ? delay_ms : 1, 0);

	if (r < 0)
		log_error("kube: %s: cannot arm the retry timer: %s", channel_names[ch->id], strerror(-r));
}

static void channel_disarm(struct channel *ch)
{
	loop_timer_set(ch->timer, 0, 0);
	ch->retry_pending = false;
}

static enum failure_kind classify(const struct kube_response *resp)
{
	if (resp->status == 0)
		return FAIL_TRANSPORT;
	switch (resp->status) {
	case 401:
		return FAIL_UNAUTHORIZED;
	case 403:
		return FAIL_FORBIDDEN;
	case 404:
		return FAIL_NOT_FOUND;
	case 409:
	case 422:
		return FAIL_CONFLICT;
	case 429:
		return FAIL_THROTTLED;
	default:
		return resp->status >= 500 ? FAIL_SERVER : FAIL_REJECTED;
	}
}

/* Returns true when a retry of the same request cannot get another response: a 4xx other than 408 and 429. */
static bool failure_is_final(const struct kube_response *resp)
{
	enum failure_kind kind = classify(resp);

	return kind != FAIL_TRANSPORT && kind != FAIL_SERVER && kind != FAIL_THROTTLED && resp->status != 408;
}

/* Describes a failed response: the transport error, or the status and the Status message. */
static void describe(const struct kube_response *resp, char *buf, size_t len)
{
	cJSON *body;
	const cJSON *message;

	if (resp->status == 0) {
		snprintf(buf, len, "%s", resp->error[0] ? resp->error : "no response");
		return;
	}
	body = cJSON_ParseWithLength(resp->body, resp->body_len);
	message = cJSON_GetObjectItemCaseSensitive(body, "message");
	if (cJSON_IsString(message))
		snprintf(buf, len, "HTTP %ld: %.300s", resp->status, message->valuestring);
	else
		snprintf(buf, len, "HTTP %ld", resp->status);
	cJSON_Delete(body);
}

static void record_error(struct kube_reconciler *r, const char *text)
{
	r->last_error_ms = wall_ms();
	snprintf(r->last_error, sizeof(r->last_error), "%s", text);
}

static void channel_succeeded(struct channel *ch)
{
	struct kube_reconciler *r = ch->r;

	kube_backoff_reset(&ch->backoff);
	ch->transport_failed = false;
	r->reachable = true;
	r->last_success_ms = wall_ms();

	/* The server is back: channels waiting out a connection failure try now instead of at their backoff. */
	for (int i = 0; i < _CH_MAX; i++) {
		struct channel *other = &r->ch[i];

		if (other->retry_pending && other->transport_failed && !other->call) {
			kube_backoff_reset(&other->backoff);
			other->transport_failed = false;
			channel_arm(other, 1);
		}
	}
}

/* Logs (rate-limited per kind), records the error and arms the retry; returns the delay. */
static int64_t channel_failed(struct channel *ch, const struct kube_response *resp, const char *what)
{
	struct kube_reconciler *r = ch->r;
	enum failure_kind kind = resp ? classify(resp) : FAIL_INVALID_RESPONSE;
	char detail[400], text[512];
	int64_t delay;

	if (resp && kind != FAIL_INVALID_RESPONSE)
		describe(resp, detail, sizeof(detail));
	else
		snprintf(detail, sizeof(detail), "%s", what ? what : "invalid response");
	if (resp && resp->status != 0)
		r->reachable = true;
	else if (resp)
		r->reachable = false;

	delay = kube_backoff_next(&ch->backoff, resp ? resp->retry_after_ms : -1, next_random(r));
	snprintf(text, sizeof(text), "%s %s: %s", channel_names[ch->id], r->node_name, detail);
	record_error(r, text);
	log_ratelimited(&r->log_limits[kind], LOG_WARNING, "kube: %s failed: %s; retrying in %lldms", channel_names[ch->id],
			detail, (long long)delay);
	ch->transport_failed = resp && resp->status == 0;
	ch->retry_pending = true;
	ch->retry_after = resp && resp->retry_after_ms >= 0;
	ch->retry_at_mono = mono_ms() + delay;
	channel_arm(ch, delay);
	return delay;
}

static int send(struct channel *ch, const char *method, const char *path, const char *content_type,
		const char *body, kube_done_fn done, kube_line_fn on_line, int64_t timeout_ms)
{
	struct kube_request req = {
		.method = method,
		.path = path,
		.content_type = content_type,
		.body = body,
		.timeout_ms = timeout_ms,
		.on_line = on_line,
		.on_done = done,
		.userdata = ch->r,
	};
	int ret;

	ch->retry_pending = false;
	ret = kube_client_request(ch->r->client, &req, &ch->call);
	if (ret < 0) {
		ch->call = NULL;
		log_error("kube: %s: cannot start the request: %s", channel_names[ch->id], strerror(-ret));
		ch->retry_pending = true;
		channel_arm(ch, KUBE_BACKOFF_MAX_MS);
	}
	return ret;
}

static void schedule_status(struct kube_reconciler *r);
static void renew_lease(struct kube_reconciler *r);
static void reconcile_taints(struct kube_reconciler *r);
static void start_watch(struct kube_reconciler *r);
static void start_sync(struct kube_reconciler *r);
static void schedule_events(struct kube_reconciler *r);

/* --- The Node snapshot --------------------------------------------------- */

/* Marks the status dirty when an owned condition on the Node differs from what was last written. */
static void check_conditions(struct kube_reconciler *r)
{
	if (r->node_state != NODE_FOUND)
		return;
	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition *on_node;

		if (!r->has_written[k] || r->has_sending[k])
			continue;
		on_node = kube_node_condition(&r->node, r->written[k].type);
		if (on_node && kube_condition_same(on_node, &r->written[k]))
			continue;
		log_info("kube: condition %s on node %s was %s by someone else; writing it again", r->written[k].type,
			 r->node_name, on_node ? "changed" : "removed");
		r->has_written[k] = false;
		r->has_queued[k] = false;
		r->status_dirty = true;
	}
	schedule_status(r);
}

/*
 * Returns whether resourceVersion a is older than b. Kubernetes calls them
 * opaque, but the API server hands out etcd revisions, which are decimal;
 * anything else is never called older.
 */
static bool resource_version_older(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (!la || !lb || strspn(a, "0123456789") != la || strspn(b, "0123456789") != lb)
		return false;
	return la != lb ? la < lb : strcmp(a, b) < 0;
}

/* Takes a Node from a response; returns false when it is not a valid Node. */
static bool take_node(struct kube_reconciler *r, const cJSON *object, char *err, size_t err_len)
{
	struct kube_node next;

	if (kube_node_parse(&next, object, &r->profile, err, err_len) < 0) {
		kube_node_clear(&next);
		return false;
	}
	/*
	 * A PATCH response can arrive after watch events that are newer than
	 * it. Keeping the newer snapshot means a removal seen on the watch is
	 * not forgotten.
	 */
	if (r->node_state == NODE_FOUND && resource_version_older(next.resource_version, r->node.resource_version)) {
		kube_node_clear(&next);
		return true;
	}
	kube_node_clear(&r->node);
	r->node = next;
	if (r->node_state != NODE_FOUND)
		log_info("kube: node %s found (resourceVersion %s)", r->node_name, r->node.resource_version);
	r->node_state = NODE_FOUND;
	if (r->adoption == KUBE_ADOPTION_PENDING) {
		r->n_adopted = r->node.n_conditions;
		memcpy(r->adopted, r->node.conditions, r->n_adopted * sizeof(r->adopted[0]));
		r->adoption = KUBE_ADOPTION_FROM_NODE;
	}
	return true;
}

static void node_missing(struct kube_reconciler *r)
{
	if (r->node_state != NODE_MISSING)
		log_warning("kube: node %s is not registered; waiting for kubelet to register it (never created by nodecond)",
			    r->node_name);
	r->node_state = NODE_MISSING;
	if (r->adoption == KUBE_ADOPTION_PENDING)
		r->adoption = KUBE_ADOPTION_NO_NODE;
	kube_call_cancel(r->ch[CH_WATCH].call);
	r->ch[CH_WATCH].call = NULL;
	channel_disarm(&r->ch[CH_WATCH]);
	/* Everything must be written again once the Node exists. */
	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		r->has_written[k] = r->has_queued[k] = false;
	r->status_dirty = true;
}

/* --- Sync: GET the Node at start and after a 404, LIST it after a 410 ---- */

static void start_lease(struct kube_reconciler *r)
{
	if (r->lease_started)
		return;
	r->lease_started = true;
	renew_lease(r);
}

static void on_sync_done(const struct kube_response *resp, void *userdata)
{
	struct kube_reconciler *r = userdata;
	struct channel *ch = &r->ch[CH_SYNC];
	const cJSON *object, *items;
	char err[256];
	cJSON *body;
	bool listed = r->sync_list;

	ch->call = NULL;
	if (resp->status == 404 || resp->status == 410) {
		/* A list without resourceVersion gets no 410 from a real server; a test server's is handled as a 404. */
		int64_t delay = kube_backoff_next(&ch->backoff, resp->retry_after_ms, next_random(r));

		channel_succeeded(ch);
		ch->backoff.failures++;
		node_missing(r);
		start_lease(r);
		r->sync_list = false;
		ch->retry_pending = true;
		channel_arm(ch, delay < NOT_FOUND_RETRY_MAX_MS ? delay : NOT_FOUND_RETRY_MAX_MS);
		return;
	}
	if (!kube_status_ok(resp->status)) {
		channel_failed(ch, resp, NULL);
		return;
	}

	body = cJSON_ParseWithLength(resp->body, resp->body_len);
	object = body;
	if (listed) {
		items = cJSON_GetObjectItemCaseSensitive(body, "items");
		if (!cJSON_IsArray(items)) {
			cJSON_Delete(body);
			channel_failed(ch, NULL, "invalid NodeList: items missing");
			return;
		}
		if (cJSON_GetArraySize(items) == 0) {
			cJSON_Delete(body);
			channel_succeeded(ch);
			node_missing(r);
			r->sync_list = false;
			ch->retry_pending = true;
			channel_arm(ch, kube_backoff_next(&ch->backoff, -1, next_random(r)));
			return;
		}
		object = cJSON_GetArrayItem(items, 0);
	}
	if (!body || !take_node(r, object, err, sizeof(err))) {
		char what[320];

		snprintf(what, sizeof(what), "invalid Node in the response: %s", body ? err : "invalid JSON");
		cJSON_Delete(body);
		channel_failed(ch, NULL, what);
		return;
	}

	/* A list's own resourceVersion is where its watch starts. */
	const cJSON *list_rv = listed ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"),
									  "resourceVersion") : NULL;

	snprintf(r->watch_rv, sizeof(r->watch_rv), "%s",
		 cJSON_IsString(list_rv) ? list_rv->valuestring : r->node.resource_version);
	cJSON_Delete(body);
	r->sync_list = false;
	channel_succeeded(ch);

	start_lease(r);
	start_watch(r);
	check_conditions(r);
	schedule_status(r);
	reconcile_taints(r);
	schedule_events(r);
}

static void start_sync(struct kube_reconciler *r)
{
	struct channel *ch = &r->ch[CH_SYNC];
	char path[512];

	if (ch->call)
		return;
	channel_disarm(ch);
	if (r->sync_list)
		snprintf(path, sizeof(path), "/api/v1/nodes?fieldSelector=metadata.name%%3D%s&limit=500", r->node_name);
	else
		snprintf(path, sizeof(path), "%s", r->node_path);
	send(ch, "GET", path, NULL, NULL, on_sync_done, NULL, 0);
}

/* --- Watch --------------------------------------------------------------- */

static bool on_watch_line(const char *line, size_t len, void *userdata)
{
	struct kube_reconciler *r = userdata;
	const cJSON *type, *object, *metadata, *rv;
	char err[256];
	cJSON *event = cJSON_ParseWithLength(line, len);

	type = cJSON_GetObjectItemCaseSensitive(event, "type");
	object = cJSON_GetObjectItemCaseSensitive(event, "object");
	if (!cJSON_IsString(type) || !cJSON_IsObject(object)) {
		cJSON_Delete(event);
		r->watch_failed = true;
		return false;
	}

	if (strcmp(type->valuestring, "ERROR") == 0) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(object, "code");

		if (cJSON_IsNumber(code) && code->valueint == 410)
			r->watch_expired = true;
		else
			r->watch_failed = true;
		cJSON_Delete(event);
		return false;
	}
	if (strcmp(type->valuestring, "BOOKMARK") == 0) {
		metadata = cJSON_GetObjectItemCaseSensitive(object, "metadata");
		rv = cJSON_GetObjectItemCaseSensitive(metadata, "resourceVersion");
		if (cJSON_IsString(rv) && strlen(rv->valuestring) < sizeof(r->watch_rv))
			snprintf(r->watch_rv, sizeof(r->watch_rv), "%s", rv->valuestring);
		cJSON_Delete(event);
		return true;
	}
	if (strcmp(type->valuestring, "DELETED") == 0) {
		cJSON_Delete(event);
		r->watch_deleted = true;
		return false;
	}
	if (!take_node(r, object, err, sizeof(err))) {
		log_ratelimited(&r->log_limits[FAIL_INVALID_RESPONSE], LOG_WARNING,
				"kube: watch node %s: invalid Node in a %s event: %s; listing again", r->node_name,
				type->valuestring, err);
		cJSON_Delete(event);
		r->watch_failed = true;
		return false;
	}
	snprintf(r->watch_rv, sizeof(r->watch_rv), "%s", r->node.resource_version);
	cJSON_Delete(event);
	/* A condition in flight that the Node shows otherwise, and not as being written, was changed by someone. */
	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition *on_node;

		if (!r->has_sending[k] || !r->has_written[k])
			continue;
		on_node = kube_node_condition(&r->node, r->sending[k].type);
		if (!on_node || (!kube_condition_same(on_node, &r->sending[k]) &&
				 !kube_condition_same(on_node, &r->written[k])))
			r->recheck_after_write = true;
	}
	/* This runs inside libcurl's write callback, where no request may start: only arm timers. */
	check_conditions(r);
	if (r->opts.write_taints && !r->ch[CH_TAINTS].call && !r->ch[CH_TAINTS].retry_pending)
		channel_arm(&r->ch[CH_TAINTS], 1);
	return true;
}

static void on_watch_done(const struct kube_response *resp, void *userdata)
{
	struct kube_reconciler *r = userdata;
	struct channel *ch = &r->ch[CH_WATCH];
	bool short_lived = mono_ms() - r->watch_started_mono < WATCH_SHORT_MS;

	ch->call = NULL;
	if (r->watch_deleted) {
		r->watch_deleted = false;
		node_missing(r);
		start_sync(r);
		return;
	}
	if (r->node_state != NODE_FOUND)
		return;
	if (r->watch_expired || resp->status == 410) {
		log_info("kube: watch node %s: resourceVersion %s expired (410); listing again", r->node_name, r->watch_rv);
		r->watch_expired = false;
		r->sync_list = true;
		channel_succeeded(ch);
		start_sync(r);
		return;
	}
	if (r->watch_failed) {
		r->watch_failed = false;
		channel_failed(ch, NULL, "invalid watch event");
		return;
	}
	if (!kube_status_ok(resp->status) || resp->error[0]) {
		channel_failed(ch, resp, NULL);
		return;
	}
	/* The server ended the watch at its timeout: continue from the last resourceVersion. */
	channel_succeeded(ch);
	if (short_lived) {
		ch->retry_pending = true;
		channel_arm(ch, kube_backoff_next(&ch->backoff, -1, next_random(r)));
		return;
	}
	start_watch(r);
}

static void start_watch(struct kube_reconciler *r)
{
	struct channel *ch = &r->ch[CH_WATCH];
	int64_t timeout_s = WATCH_TIMEOUT_MIN_S + (int64_t)(next_random(r) % WATCH_TIMEOUT_MIN_S);
	char path[512];

	if (ch->call || r->node_state != NODE_FOUND)
		return;
	channel_disarm(ch);
	snprintf(path, sizeof(path),
		 "/api/v1/nodes?fieldSelector=metadata.name%%3D%s&watch=true&allowWatchBookmarks=true"
		 "&resourceVersion=%s&timeoutSeconds=%lld",
		 r->node_name, r->watch_rv, (long long)timeout_s);
	r->watch_expired = r->watch_failed = r->watch_deleted = false;
	r->watch_started_mono = mono_ms();
	send(ch, "GET", path, NULL, NULL, on_watch_done, on_watch_line, (timeout_s + 30) * 1000);
}

/* --- Conditions ---------------------------------------------------------- */

static void on_status_done(const struct kube_response *resp, void *userdata)
{
	struct kube_reconciler *r = userdata;
	struct channel *ch = &r->ch[CH_STATUS];
	char err[256];
	cJSON *body;

	ch->call = NULL;
	if (resp->status == 404) {
		memset(r->has_sending, 0, sizeof(r->has_sending));
		/* Nothing was written, so a stop must not take the write as done. */
		r->status_dirty = true;
		node_missing(r);
		start_sync(r);
		return;
	}
	if (!kube_status_ok(resp->status)) {
		/* Nothing was written: the next attempt sends the latest state. */
		for (int k = 0; k < _CONDITION_KIND_MAX; k++)
			if (r->has_sending[k])
				r->has_queued[k] = false;
		memset(r->has_sending, 0, sizeof(r->has_sending));
		r->status_dirty = true;
		if (r->status_flushed && failure_is_final(resp))
			describe(resp, r->status_flush_error, sizeof(r->status_flush_error));
		channel_failed(ch, resp, NULL);
		return;
	}

	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		if (r->has_sending[k]) {
			r->written[k] = r->sending[k];
			r->has_written[k] = true;
		}
	memset(r->has_sending, 0, sizeof(r->has_sending));
	r->last_status_write_ms = wall_ms();
	channel_succeeded(ch);
	loop_timer_set(r->heartbeat_timer, r->opts.heartbeat_period_ms, 0);

	body = cJSON_ParseWithLength(resp->body, resp->body_len);
	if (body && take_node(r, body, err, sizeof(err)))
		reconcile_taints(r);
	cJSON_Delete(body);
	/* Changes the watch delivered while this write was in flight were skipped: look again. */
	check_conditions(r);
	if (r->recheck_after_write) {
		/* The snapshot may predate what the watch showed meanwhile: one GET settles it. */
		r->recheck_after_write = false;
		start_sync(r);
	}
}

static void send_status(struct kube_reconciler *r)
{
	struct channel *ch = &r->ch[CH_STATUS];
	struct condition list[_CONDITION_KIND_MAX];
	int64_t now = wall_ms();
	char path[400];
	size_t n = 0;
	char *body;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		if (!r->has_desired[k])
			continue;
		/* NotReady and Unreachable share the Ready type; the engine publishes it under NotReady. */
		bool duplicate = false;

		for (size_t i = 0; i < n; i++)
			duplicate |= strcmp(list[i].type, r->desired[k].type) == 0;
		if (duplicate)
			continue;
		list[n] = r->desired[k];
		list[n].last_heartbeat_ms = now;
		r->sending[k] = list[n];
		r->has_sending[k] = true;
		r->queued[k] = r->desired[k];
		r->has_queued[k] = true;
		n++;
	}
	r->status_dirty = false;
	if (n == 0)
		return;

	body = kube_json_status_patch(list, n);
	if (!body) {
		memset(r->has_sending, 0, sizeof(r->has_sending));
		r->status_dirty = true;
		channel_failed(ch, NULL, "out of memory building the patch");
		return;
	}
	snprintf(path, sizeof(path), "%s/status", r->node_path);
	r->last_status_start_mono = mono_ms();
	if (send(ch, "PATCH", path, "application/strategic-merge-patch+json", body, on_status_done, NULL, 0) < 0) {
		memset(r->has_sending, 0, sizeof(r->has_sending));
		r->status_dirty = true;
	}
	free(body);
}

/* Arms the status write: a short coalescing delay, and at least KUBE_STATUS_MIN_INTERVAL_MS between writes. */
static void schedule_status(struct kube_reconciler *r)
{
	struct channel *ch = &r->ch[CH_STATUS];
	int64_t delay = KUBE_STATUS_COALESCE_MS, since;

	if (!r->status_dirty || ch->call || ch->retry_pending || r->node_state != NODE_FOUND)
		return;
	since = mono_ms() - r->last_status_start_mono;
	if (r->last_status_start_mono && since < KUBE_STATUS_MIN_INTERVAL_MS &&
	    KUBE_STATUS_MIN_INTERVAL_MS - since > delay)
		delay = KUBE_STATUS_MIN_INTERVAL_MS - since;
	channel_arm(ch, delay);
}

void kube_reconciler_update(struct kube_reconciler *r, const struct condition *const conditions[_CONDITION_KIND_MAX])
{
	bool changed = false;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		if (!conditions[k])
			continue;
		r->desired[k] = *conditions[k];
		r->has_desired[k] = true;
		if (r->has_queued[k] && !kube_condition_changed(&r->queued[k], conditions[k]))
			continue;
		changed = true;
	}
	if (!changed)
		return;
	r->status_dirty = true;
	schedule_status(r);
	reconcile_taints(r);
}

static void on_heartbeat(struct loop_source *source, void *userdata)
{
	struct kube_reconciler *r = userdata;

	r->status_dirty = true;
	schedule_status(r);
}

/* --- Lease --------------------------------------------------------------- */

static int64_t renew_interval_ms(const struct kube_reconciler *r)
{
	return r->opts.lease_duration_ms / 4 > 1000 ? r->opts.lease_duration_ms / 4 : 1000;
}

static void on_lease_done(const struct kube_response *resp, void *userdata)
{
	struct kube_reconciler *r = userdata;
	struct channel *ch = &r->ch[CH_LEASE];
	bool creating = r->lease_creating;

	ch->call = NULL;
	r->lease_creating = false;
	if (!creating && resp->status == 404) {
		r->lease_creating = true;
		renew_lease(r);
		return;
	}
	if (kube_status_ok(resp->status) || (creating && resp->status == 409)) {
		/* 409 on create: another writer created it first; the next renewal patches it. */
		r->last_lease_renew_ms = wall_ms();
		channel_succeeded(ch);
		channel_arm(ch, creating && resp->status == 409 ? 1 : renew_interval_ms(r));
		return;
	}
	/* Never wait longer than one renewal interval to try again, unless the server asked to (Retry-After). */
	if (channel_failed(ch, resp, NULL) > renew_interval_ms(r) && resp->retry_after_ms < 0)
		channel_arm(ch, renew_interval_ms(r));
}

static void renew_lease(struct kube_reconciler *r)
{
	struct channel *ch = &r->ch[CH_LEASE];
	int64_t duration_s = r->opts.lease_duration_ms / 1000;
	char path[600];
	char *body;

	if (ch->call)
		return;
	if (r->lease_creating) {
		body = kube_json_lease(r->node_name, r->creds.lease_namespace, r->node.uid, duration_s, wall_ms());
		snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases", r->creds.lease_namespace);
	} else {
		body = kube_json_lease_patch(r->node_name, duration_s, wall_ms());
		snprintf(path, sizeof(path), "%s", r->lease_path);
	}
	if (!body) {
		channel_arm(ch, renew_interval_ms(r));
		return;
	}
	send(ch, r->lease_creating ? "POST" : "PATCH", path,
	     r->lease_creating ? "application/json" : "application/merge-patch+json", body, on_lease_done, NULL,
	     renew_interval_ms(r));
	free(body);
}

/* --- Taints -------------------------------------------------------------- */

static void on_taints_done(const struct kube_response *resp, void *userdata)
{
	struct kube_reconciler *r = userdata;
	struct channel *ch = &r->ch[CH_TAINTS];
	bool rereading = r->taints_rereading;
	char err[256], detail[400];
	cJSON *body;

	ch->call = NULL;
	r->taints_rereading = false;
	if (resp->status == 409 || resp->status == 422) {
		/* The Node changed since it was read: read it again and plan from the new list. */
		r->taint_conflicts++;
		channel_succeeded(ch);
		if (r->taint_conflicts > TAINT_CONFLICTS_MAX) {
			r->taint_conflicts = 0;
			channel_failed(ch, resp, NULL);
			return;
		}
		log_info("kube: write taints %s: conflict (HTTP %ld); reading the Node again", r->node_name, resp->status);
		r->taints_rereading = true;
		send(ch, "GET", r->node_path, NULL, NULL, on_taints_done, NULL, 0);
		return;
	}
	if (resp->status == 403 && !rereading) {
		describe(resp, detail, sizeof(detail));
		snprintf(r->taints_error, sizeof(r->taints_error), "%s", detail);
		r->taints_forbidden = true;
		record_error(r, detail);
		r->reachable = true;
		log_ratelimited(&r->log_limits[FAIL_FORBIDDEN], LOG_WARNING,
				"kube: write taints %s: forbidden: %s; conditions are still written; "
				"taints are retried at the next resync. Give the agent credentials of its own "
				"(NodeRestriction refuses taint changes from kubelet's) or set taints.writer: controller",
				r->node_name, detail);
		return;
	}
	if (!kube_status_ok(resp->status)) {
		channel_failed(ch, resp, NULL);
		return;
	}

	body = cJSON_ParseWithLength(resp->body, resp->body_len);
	if (!body || !take_node(r, body, err, sizeof(err))) {
		cJSON_Delete(body);
		channel_failed(ch, NULL, "invalid Node in the response");
		return;
	}
	cJSON_Delete(body);
	if (!rereading) {
		r->taint_conflicts = 0;
		r->taints_error[0] = '\0';
	}
	channel_succeeded(ch);
	reconcile_taints(r);
}

/* Plans from the desired conditions, or the Node's own for kinds not evaluated yet. */
static bool plan_taints(struct kube_reconciler *r, struct taint *out, size_t max, size_t *n)
{
	struct condition conditions[_CONDITION_KIND_MAX + KUBE_NODE_CONDITIONS_MAX];
	struct taint_plan_result result;
	struct taint_plan_input input;
	size_t count = 0;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		if (r->has_desired[k])
			conditions[count++] = r->desired[k];
	for (size_t i = 0; i < r->node.n_conditions; i++) {
		bool known = false;

		for (size_t j = 0; j < count; j++)
			known |= strcmp(conditions[j].type, r->node.conditions[i].type) == 0;
		if (!known)
			conditions[count++] = r->node.conditions[i];
	}
	taint_plan_input_from_conditions(&input, &r->profile, conditions, count);
	if (taint_plan(&r->profile, &input, r->node.taints, r->node.n_taints, wall_ms(), out, max, &result) < 0)
		return false;
	*n = result.n_taints;
	return result.changed;
}

static void reconcile_taints(struct kube_reconciler *r)
{
	struct channel *ch = &r->ch[CH_TAINTS];
	struct taint planned[KUBE_NODE_TAINTS_MAX + TAINT_PLAN_OWNED_MAX];
	char path[400];
	size_t n = 0;
	char *body;

	if (!r->opts.write_taints || r->node_state != NODE_FOUND || ch->call || ch->retry_pending ||
	    r->taints_forbidden)
		return;
	if (!r->node.taints_valid) {
		snprintf(r->taints_error, sizeof(r->taints_error),
			 "the Node's taint list could not be read (an invalid entry, or more than %d taints)",
			 KUBE_NODE_TAINTS_MAX);
		return;
	}
	if (!plan_taints(r, planned, sizeof(planned) / sizeof(planned[0]), &n))
		return;

	body = kube_json_taints_patch(&r->node, planned, n);
	if (!body)
		return;
	snprintf(path, sizeof(path), "%s", r->node_path);
	send(ch, "PATCH", path, "application/json-patch+json", body, on_taints_done, NULL, 0);
	free(body);
}

/* --- Events -------------------------------------------------------------- */

static void on_event_done(const struct kube_response *resp, void *userdata)
{
	struct kube_reconciler *r = userdata;
	struct channel *ch = &r->ch[CH_EVENTS];
	struct pending_event *pe = r->event_sending >= 0 ? &r->events[r->event_sending] : NULL;

	ch->call = NULL;
	r->event_sending = -1;
	if (!pe || !pe->used) {
		schedule_events(r);
		return;
	}
	if (pe->created && resp->status == 404) {
		/* Someone deleted it, or it expired (Events live one hour by default): create it again. */
		pe->created = false;
		channel_arm(ch, 1);
		return;
	}
	if (!pe->created && resp->status == 409) {
		pe->created = true;
		channel_arm(ch, 1);
		return;
	}
	if (!kube_status_ok(resp->status)) {
		channel_failed(ch, resp, NULL);
		return;
	}
	pe->created = true;
	if (pe->sent_count == pe->ev.count)
		pe->dirty = false;
	channel_succeeded(ch);
	schedule_events(r);
}

static void send_event(struct kube_reconciler *r)
{
	struct channel *ch = &r->ch[CH_EVENTS];
	struct pending_event *pe = NULL;
	char path[512];
	char *body;

	for (int i = 0; i < KUBE_EVENTS_PENDING_MAX && !pe; i++)
		if (r->events[i].used && r->events[i].dirty) {
			pe = &r->events[i];
			r->event_sending = i;
		}
	if (!pe)
		return;
	pe->sent_count = pe->ev.count;
	if (pe->created) {
		body = kube_json_event_patch(&pe->ev);
		snprintf(path, sizeof(path), "/api/v1/namespaces/default/events/%s", pe->ev.name);
	} else {
		body = kube_json_event(&pe->ev, r->node_name, r->node.uid);
		snprintf(path, sizeof(path), "/api/v1/namespaces/default/events");
	}
	if (!body) {
		r->event_sending = -1;
		return;
	}
	send(ch, pe->created ? "PATCH" : "POST", path,
	     pe->created ? "application/strategic-merge-patch+json" : "application/json", body, on_event_done, NULL, 0);
	free(body);
}

static void schedule_events(struct kube_reconciler *r)
{
	struct channel *ch = &r->ch[CH_EVENTS];

	if (ch->call || ch->retry_pending || r->node_state == NODE_UNREAD)
		return;
	for (int i = 0; i < KUBE_EVENTS_PENDING_MAX; i++)
		if (r->events[i].used && r->events[i].dirty) {
			channel_arm(ch, 1);
			return;
		}
}

static bool condition_is_bad(const struct kube_reconciler *r, const struct condition_transition *t)
{
	if (t->kind == CONDITION_NOT_READY || t->kind == CONDITION_UNREACHABLE)
		return t->to != CONDITION_STATUS_TRUE;
	return t->to != CONDITION_STATUS_FALSE;
}

void kube_reconciler_transition(struct kube_reconciler *r, const struct condition_transition *t, int64_t now_ms)
{
	struct pending_event *slot = NULL, *oldest = NULL;
	char reason[sizeof(slot->ev.reason)];

	snprintf(reason, sizeof(reason), "%s%s", t->condition.type, condition_status_name(t->to));
	for (int i = 0; i < KUBE_EVENTS_PENDING_MAX; i++) {
		struct pending_event *pe = &r->events[i];

		if (pe->used && strcmp(pe->ev.reason, reason) == 0 && now_ms - pe->ev.last_ms < KUBE_EVENT_AGGREGATE_MS) {
			slot = pe;
			break;
		}
		if (!pe->used && !oldest)
			oldest = pe;
	}
	if (slot) {
		slot->ev.count++;
	} else {
		if (!oldest) {
			/* Full: replace the least recent event, written or not. */
			for (int i = 0; i < KUBE_EVENTS_PENDING_MAX; i++)
				if (i != r->event_sending && (!oldest || r->events[i].ev.last_ms < oldest->ev.last_ms))
					oldest = &r->events[i];
			if (oldest->dirty)
				r->events_dropped++;
		}
		slot = oldest;
		if (slot - r->events == r->event_sending) {
			kube_call_cancel(r->ch[CH_EVENTS].call);
			r->ch[CH_EVENTS].call = NULL;
			r->event_sending = -1;
		}
		memset(slot, 0, sizeof(*slot));
		slot->used = true;
		snprintf(slot->ev.name, sizeof(slot->ev.name), "%s.%llx", r->node_name,
			 (unsigned long long)now_ms * 1000000ULL + (next_random(r) % 1000000));
		snprintf(slot->ev.reason, sizeof(slot->ev.reason), "%s", reason);
		slot->ev.first_ms = now_ms;
		slot->ev.count = 1;
	}
	slot->ev.last_ms = now_ms;
	slot->ev.warning = condition_is_bad(r, t);
	snprintf(slot->ev.message, sizeof(slot->ev.message), "%s changed from %s to %s: %s: %s", t->condition.type,
		 condition_status_name(t->from), condition_status_name(t->to), t->condition.reason, t->condition.message);
	slot->dirty = true;
	schedule_events(r);
}

/* --- Timers and lifecycle ------------------------------------------------ */

static void on_channel_timer(struct loop_source *source, void *userdata)
{
	struct channel *ch = userdata;
	struct kube_reconciler *r = ch->r;

	ch->retry_pending = false;
	switch (ch->id) {
	case CH_SYNC:
		start_sync(r);
		break;
	case CH_WATCH:
		if (r->node_state == NODE_FOUND)
			start_watch(r);
		break;
	case CH_STATUS:
		if (r->node_state == NODE_FOUND && !ch->call)
			send_status(r);
		else
			r->status_dirty = true;
		break;
	case CH_LEASE:
		renew_lease(r);
		break;
	case CH_TAINTS:
		reconcile_taints(r);
		break;
	case CH_EVENTS:
		if (!ch->call)
			send_event(r);
		break;
	default:
		break;
	}
}

enum kube_flush kube_reconciler_flush_status(struct kube_reconciler *r, int64_t wait_ms, char *why,
					     size_t why_len)
{
	struct channel *ch = &r->ch[CH_STATUS];

	if (ch->call)
		return KUBE_FLUSH_PENDING;
	if (r->status_flush_error[0]) {
		snprintf(why, why_len, "%s", r->status_flush_error);
		return KUBE_FLUSH_REJECTED;
	}
	if (!r->status_dirty)
		return KUBE_FLUSH_DONE;
	if (r->node_state != NODE_FOUND) {
		snprintf(why, why_len, "%s", r->node_state == NODE_UNREAD ? "the Node has not been read yet"
									  : "the Node is not registered");
		return KUBE_FLUSH_NO_NODE;
	}
	if (ch->retry_pending && ch->retry_after && ch->retry_at_mono - mono_ms() > wait_ms) {
		snprintf(why, why_len, "the API server asked to wait %lld ms more (Retry-After)",
			 (long long)(ch->retry_at_mono - mono_ms()));
		return KUBE_FLUSH_DEFERRED;
	}
	if (!r->status_flushed) {
		r->status_flushed = true;
		if (!(ch->retry_pending && ch->retry_after))
			channel_arm(ch, 0);
	}
	return KUBE_FLUSH_PENDING;
}

static void arm_resync(struct kube_reconciler *r)
{
	loop_timer_set(r->resync_timer, readiness_resync_period(r->opts.min_resync_period_ms, next_random(r)), 0);
}

/* Resync: check the cached Node again; no request unless something differs. Retries forbidden taints. */
static void on_resync(struct loop_source *source, void *userdata)
{
	struct kube_reconciler *r = userdata;

	r->taints_forbidden = false;
	check_conditions(r);
	reconcile_taints(r);
	arm_resync(r);
}

enum kube_adoption kube_reconciler_adoption(const struct kube_reconciler *r, const struct condition **ret,
					    size_t *n)
{
	*ret = r->adopted;
	*n = r->n_adopted;
	return r->adoption;
}

bool kube_reconciler_reachable(const struct kube_reconciler *r)
{
	return r->reachable;
}

void kube_reconciler_get_status(const struct kube_reconciler *r, struct kube_reconciler_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->server = r->creds.server;
	ret->credentials = r->creds.source;
	ret->lease_namespace = r->creds.lease_namespace;
	ret->node_found = r->node_state == NODE_FOUND;
	ret->reachable = r->reachable;
	ret->last_success_ms = r->last_success_ms;
	ret->last_error_ms = r->last_error_ms;
	snprintf(ret->last_error, sizeof(ret->last_error), "%s", r->last_error);
	ret->last_status_write_ms = r->last_status_write_ms;
	ret->last_lease_renew_ms = r->last_lease_renew_ms;
	ret->pending_writes = (r->status_dirty || r->ch[CH_STATUS].call) ? 1 : 0;
	if (r->opts.write_taints && (r->ch[CH_TAINTS].call || r->ch[CH_TAINTS].retry_pending || r->taints_forbidden))
		ret->pending_writes++;
	for (int i = 0; i < KUBE_EVENTS_PENDING_MAX; i++)
		if (r->events[i].used && r->events[i].dirty)
			ret->pending_writes++;
	ret->taints_by_agent = r->opts.write_taints;
	snprintf(ret->taints_error, sizeof(ret->taints_error), "%s", r->taints_error);
	ret->requests = r->client ? kube_client_requests(r->client) : 0;
}

void kube_reconciler_reconfigure(struct kube_reconciler *r, const struct kube_reconciler_options *opts)
{
	bool resync_changed = opts->min_resync_period_ms != r->opts.min_resync_period_ms;

	r->opts.heartbeat_period_ms = opts->heartbeat_period_ms;
	r->opts.lease_duration_ms = opts->lease_duration_ms;
	r->opts.min_resync_period_ms = opts->min_resync_period_ms;
	r->opts.write_taints = opts->write_taints;
	r->profile = *opts->profile;
	if (resync_changed)
		arm_resync(r);
	if (r->last_status_write_ms)
		loop_timer_set(r->heartbeat_timer, r->opts.heartbeat_period_ms, 0);
	check_conditions(r);
	reconcile_taints(r);
}

void kube_reconciler_free(struct kube_reconciler *r)
{
	if (!r)
		return;
	/* Cancels every call without calling back. */
	kube_client_free(r->client);
	for (int i = 0; i < _CH_MAX; i++)
		loop_remove(r->ch[i].timer);
	loop_remove(r->heartbeat_timer);
	loop_remove(r->resync_timer);
	kube_node_clear(&r->node);
	kube_credentials_clear(&r->creds);
	free(r);
}

int kube_reconciler_new(struct kube_reconciler **ret, struct loop *l, struct kube_credentials *creds,
			const struct kube_reconciler_options *opts)
{
	struct kube_reconciler *r;
	int err = 0;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = l;
	r->creds = *creds;
	memset(creds, 0, sizeof(*creds));
	r->opts = *opts;
	r->profile = *opts->profile;
	r->opts.profile = &r->profile;
	r->event_sending = -1;
	snprintf(r->node_name, sizeof(r->node_name), "%s", opts->node_name);
	snprintf(r->node_path, sizeof(r->node_path), "/api/v1/nodes/%s", r->node_name);
	snprintf(r->lease_path, sizeof(r->lease_path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s",
		 r->creds.lease_namespace, r->node_name);
	if (getrandom(&r->random_state, sizeof(r->random_state), GRND_NONBLOCK) != sizeof(r->random_state))
		r->random_state = (uint64_t)mono_ms() ^ (uint64_t)wall_ms() << 20;
	r->random_state |= 1;
	for (int i = 0; i < _FAIL_MAX; i++)
		r->log_limits[i] = (struct log_ratelimit)LOG_RATELIMIT_INIT(LOG_INTERVAL_MS);

	err = kube_client_new(&r->client, l, &r->creds);
	for (int i = 0; i < _CH_MAX && err == 0; i++) {
		r->ch[i].r = r;
		r->ch[i].id = (enum channel_id)i;
		err = loop_add_timer(l, 0, 0, on_channel_timer, &r->ch[i], &r->ch[i].timer);
		if (err == 0)
			err = loop_timer_set(r->ch[i].timer, 0, 0);
	}
	if (err == 0)
		err = loop_add_timer(l, r->opts.heartbeat_period_ms, 0, on_heartbeat, r, &r->heartbeat_timer);
	if (err == 0)
		err = loop_add_timer(l, 1, 0, on_resync, r, &r->resync_timer);
	if (err < 0) {
		kube_reconciler_free(r);
		return err;
	}
	arm_resync(r);
	start_sync(r);
	*ret = r;
	return 0;
}

const struct kube_client *kube_reconciler_client(const struct kube_reconciler *r)
{
	return r->client;
}
