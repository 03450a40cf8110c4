/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubelet.healthy: an HTTP GET of kubelet's healthz URL that never blocks
 * the event loop. A non-blocking socket moves through connect, send and
 * receive on loop callbacks, and a loop timer ends it after
 * KUBELET_PROBE_TIMEOUT_MS. Healthy means status 200.
 */
#ifndef NODECOND_DAEMON_KUBELET_PROBE_H
#define NODECOND_DAEMON_KUBELET_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define KUBELET_PROBE_TIMEOUT_MS 2000

struct loop;
struct kubelet_probe;

/* Called once per probe with healthy 1 or 0 and what was seen ("HTTP 200", "connect: ..."). */
typedef void (*kubelet_probe_done_fn)(int healthy, const char *detail, void *userdata);

struct kubelet_probe_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char host[128];		/* for the Host header */
	char path[256];
};

/*
 * Parses an http:// URL whose host is an IP address or "localhost"; no name
 * lookup happens, because it would block the loop. Returns 0, -EINVAL for
 * a malformed URL or another host name, -EPROTONOSUPPORT for https.
 */
int kubelet_probe_parse_url(const char *url, struct kubelet_probe_target *ret);

/* Returns the status code of an HTTP/1.x status line, or -EINVAL. */
int kubelet_probe_parse_status(const char *response);

int kubelet_probe_new(struct kubelet_probe **ret, struct loop *l, kubelet_probe_done_fn fn, void *userdata);

/* Ends a probe in progress without calling the done function. */
void kubelet_probe_free(struct kubelet_probe *p);

/*
 * Starts a probe of url. Returns 0, -EBUSY while one runs, or a negative
 * errno for a URL kubelet_probe_parse_url() rejects; failures after the
 * start are reported through the done function.
 */
int kubelet_probe_start(struct kubelet_probe *p, const char *url);

bool kubelet_probe_running(const struct kubelet_probe *p);

/* Ends a probe in progress without calling the done function. */
void kubelet_probe_cancel(struct kubelet_probe *p);

#endif
