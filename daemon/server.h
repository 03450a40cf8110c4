/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server on the agent's Unix socket.
 */
#ifndef NODECOND_DAEMON_SERVER_H
#define NODECOND_DAEMON_SERVER_H

#include <stddef.h>
#include <stdint.h>

/* Response counts are kept per status code below this number. */
#define SERVER_STATUS_CODES_MAX 600

struct agent;
struct server;

/*
 * Creates the socket (mode 0660, optional group), replacing a stale socket
 * file and rejecting one on which a running agent still accepts connections. Returns 0
 * or -errno with err describing the problem and its fix.
 */
int server_new(struct server **ret, struct agent *agent, const char *path, const char *group, char *err,
	       size_t err_len);

/*
 * Serves /metrics and /healthz on a TCP address ("127.0.0.1:9101",
 * "[::1]:9101"). Returns 0 or -errno with err naming the address.
 */
int server_new_metrics(struct server **ret, struct agent *agent, const char *address, char *err, size_t err_len);

/* The descriptor to watch for readability in the agent's epoll loop. */
int server_fd(const struct server *s);

/* Milliseconds until the server needs server_process() anyway, or -1. */
int server_timeout_ms(const struct server *s);

/* Accepts connections and responds to requests that are ready. Never blocks. */
void server_process(struct server *s);

/* Wakes every /v1/watch stream so it sends what was recorded since. */
void server_notify_watchers(struct server *s);

/* Returns the responses sent so far, indexed by HTTP status code. */
const uint64_t *server_response_counts(const struct server *s);

/* Returns how many /v1/watch streams are open. */
unsigned server_watchers(const struct server *s);

/* Stops the server and removes the socket file. */
void server_free(struct server *s);

#endif
