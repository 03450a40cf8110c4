/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark, not a test: sends keep-alive GET requests to the agent's Unix
 * socket from N client threads for a fixed time and reports requests per
 * second and latency percentiles.
 *
 * Usage: socket_bench SOCKET CLIENTS SECONDS [PATH]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LATENCIES_MAX (1024 * 1024)

struct client {
	pthread_t thread;
	const char *socket_path;
	const char *path;
	double seconds;
	uint64_t requests;
	uint64_t errors;
	double *latencies_us;
	size_t n_latencies;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_socket(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one response with a Content-Length body; returns 0 or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t used = 0;
	long content_length = -1;
	char *body = NULL;

	for (;;) {
		ssize_t n = read(fd, buf + used, cap - used - 1);

		if (n <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = '\0';
		if (!body) {
			char *end = strstr(buf, "\r\n\r\n");
			char *cl;

			if (!end)
				continue;
			body = end + 4;
			cl = strcasestr(buf, "Content-Length:");
			if (!cl || cl > end)
				return -1;
			content_length = strtol(cl + 15, NULL, 10);
		}
		if ((long)(used - (size_t)(body - buf)) >= content_length)
			return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
		if (used + 1 >= cap)
			return -1;
	}
}

static void *run_client(void *arg)
{
	struct client *c = arg;
	static const size_t cap = 1024 * 1024;
	char request[256];
	char *buf = malloc(cap);
	double deadline = now_s() + c->seconds;
	int fd = -1;

	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", c->path);
	while (buf && now_s() < deadline) {
		double start;

		if (fd < 0)
			fd = connect_socket(c->socket_path);
		if (fd < 0) {
			c->errors++;
			usleep(1000);
			continue;
		}
		start = now_s();
		if (write(fd, request, strlen(request)) != (ssize_t)strlen(request) || read_response(fd, buf, cap) < 0) {
			c->errors++;
			close(fd);
			fd = -1;
			continue;
		}
		if (c->n_latencies < LATENCIES_MAX)
			c->latencies_us[c->n_latencies++] = (now_s() - start) * 1e6;
		c->requests++;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct client *clients;
	double *all, seconds, start, elapsed;
	uint64_t requests = 0, errors = 0;
	size_t n_all = 0;
	int n_clients;

	if (argc < 4) {
		fprintf(stderr, "usage: socket_bench SOCKET CLIENTS SECONDS [PATH]\n");
		return 2;
	}
	n_clients = atoi(argv[2]);
	seconds = atof(argv[3]);
	if (n_clients < 1 || n_clients > 256 || seconds <= 0) {
		fprintf(stderr, "socket_bench: CLIENTS must be 1 to 256 and SECONDS positive\n");
		return 2;
	}

	clients = calloc((size_t)n_clients, sizeof(*clients));
	all = malloc(sizeof(double) * LATENCIES_MAX * (size_t)n_clients);
	if (!clients || !all)
		return 1;
	start = now_s();
	for (int i = 0; i < n_clients; i++) {
		clients[i].socket_path = argv[1];
		clients[i].path = argc > 4 ? argv[4] : "/v1/status";
		clients[i].seconds = seconds;
		clients[i].latencies_us = all + (size_t)i * LATENCIES_MAX;
		pthread_create(&clients[i].thread, NULL, run_client, &clients[i]);
	}
	for (int i = 0; i < n_clients; i++) {
		pthread_join(clients[i].thread, NULL);
		requests += clients[i].requests;
		errors += clients[i].errors;
	}
	elapsed = now_s() - start;

	for (int i = 0; i < n_clients; i++) {
		memmove(all + n_all, clients[i].latencies_us, clients[i].n_latencies * sizeof(double));
		n_all += clients[i].n_latencies;
	}
	qsort(all, n_all, sizeof(double), compare_double);
	printf("clients %d, %.1f s: %llu requests, %llu errors, %.0f requests/s", n_clients, elapsed,
	       (unsigned long long)requests, (unsigned long long)errors, (double)requests / elapsed);
	if (n_all > 0)
		printf(", latency p50 %.0f us, p99 %.0f us, max %.0f us", all[n_all / 2], all[(size_t)(n_all * 0.99)],
		       all[n_all - 1]);
	printf("\n");
	free(all);
	free(clients);
	return errors > 0 && requests == 0 ? 1 : 0;
}
