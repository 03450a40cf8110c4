/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/kubelet_probe.h"
#include "daemon/loop.h"

struct kubelet_probe {
	struct loop *loop;
	kubelet_probe_done_fn fn;
	void *userdata;

	int fd;
	struct loop_source *io;
	struct loop_source *timer;
	bool connected;
	char request[512];
	size_t request_len, sent;
	char response[256];
	size_t received;
};

int kubelet_probe_parse_url(const char *url, struct kubelet_probe_target *ret)
{
	const char *host, *host_end, *port_start = NULL, *path;
	char host_text[128];
	unsigned long port = 80;

	memset(ret, 0, sizeof(*ret));
	if (strncmp(url, "https://", 8) == 0)
		return -EPROTONOSUPPORT;
	if (strncmp(url, "http://", 7) != 0)
		return -EINVAL;
	host = url + 7;
	path = host + strcspn(host, "/");

	if (*host == '[') {
		host_end = strchr(host, ']');
		if (!host_end || host_end > path)
			return -EINVAL;
		host++;
		if (host_end[1] == ':')
			port_start = host_end + 2;
		else if (host_end + 1 != path)
			return -EINVAL;
	} else {
		host_end = memchr(host, ':', (size_t)(path - host));
		if (host_end)
			port_start = host_end + 1;
		else
			host_end = path;
	}
	if (host_end == host || (size_t)(host_end - host) >= sizeof(host_text))
		return -EINVAL;
	memcpy(host_text, host, (size_t)(host_end - host));
	host_text[host_end - host] = '\0';

	if (port_start) {
		char *end;

		errno = 0;
		port = strtoul(port_start, &end, 10);
		if (errno || end != path || port == 0 || port > 65535)
			return -EINVAL;
	}

	if (strcmp(host_text, "localhost") == 0)
		snprintf(host_text, sizeof(host_text), "127.0.0.1");
	if (inet_pton(AF_INET, host_text, &((struct sockaddr_in *)&ret->addr)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ret->addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		ret->addr_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host_text, &((struct sockaddr_in6 *)&ret->addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ret->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		ret->addr_len = sizeof(*sin6);
	} else {
		return -EINVAL;
	}

	/* The Host header carries the port, as in the URL. */
	snprintf(ret->host, sizeof(ret->host), "%.*s", (int)(path - (url + 7)), url + 7);
	snprintf(ret->path, sizeof(ret->path), "%s", *path ? path : "/");
	return 0;
}

int kubelet_probe_parse_status(const char *response)
{
	unsigned major, minor, status;

	if (sscanf(response, "HTTP/%u.%u %u", &major, &minor, &status) != 3 || major != 1 || status < 100 ||
	    status > 999)
		return -EINVAL;
	return (int)status;
}

int kubelet_probe_new(struct kubelet_probe **ret, struct loop *l, kubelet_probe_done_fn fn, void *userdata)
{
	struct kubelet_probe *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->loop = l;
	p->fn = fn;
	p->userdata = userdata;
	p->fd = -1;
	*ret = p;
	return 0;
}

static void stop(struct kubelet_probe *p)
{
	loop_remove(p->io);
	loop_remove(p->timer);
	p->io = NULL;
	p->timer = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

void kubelet_probe_free(struct kubelet_probe *p)
{
	if (!p)
		return;
	stop(p);
	free(p);
}

void kubelet_probe_cancel(struct kubelet_probe *p)
{
	stop(p);
}

bool kubelet_probe_running(const struct kubelet_probe *p)
{
	return p->fd >= 0;
}

static void finish(struct kubelet_probe *p, int healthy, const char *fmt, const char *arg)
{
	char detail[256];

	snprintf(detail, sizeof(detail), fmt, arg);
	stop(p);
	p->fn(healthy, detail, p->userdata);
}

static void on_timeout(struct loop_source *source, void *userdata)
{
	finish(userdata, 0, "no answer within %s", "2s");
}

static void on_io(struct loop_source *source, int fd, uint32_t events, void *userdata)
{
	struct kubelet_probe *p = userdata;
	char status_text[32];
	ssize_t n;
	int status;

	if (!p->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			finish(p, 0, "connect: %s", strerror(err));
			return;
		}
		p->connected = true;
	}

	if (p->sent < p->request_len) {
		n = send(fd, p->request + p->sent, p->request_len - p->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			finish(p, 0, "send: %s", strerror(errno));
			return;
		}
		if (n > 0)
			p->sent += (size_t)n;
		if (p->sent == p->request_len)
			loop_set_io_events(p->io, EPOLLIN);
		return;
	}

	n = recv(fd, p->response + p->received, sizeof(p->response) - 1 - p->received, 0);
	if (n < 0) {
		if (errno != EAGAIN)
			finish(p, 0, "receive: %s", strerror(errno));
		return;
	}
	p->received += (size_t)n;
	p->response[p->received] = '\0';
	/* The status line is all a probe needs. */
	if (n > 0 && !strstr(p->response, "\r\n") && p->received < sizeof(p->response) - 1)
		return;

	status = kubelet_probe_parse_status(p->response);
	if (status < 0) {
		finish(p, 0, "%s", n == 0 && p->received == 0 ? "connection closed without an answer" :
			   "the answer is not HTTP/1.x");
		return;
	}
	snprintf(status_text, sizeof(status_text), "%d", status);
	finish(p, status == 200, "HTTP %s", status_text);
}

int kubelet_probe_start(struct kubelet_probe *p, const char *url)
{
	struct kubelet_probe_target target;
	int r;

	if (kubelet_probe_running(p))
		return -EBUSY;
	r = kubelet_probe_parse_url(url, &target);
	if (r < 0)
		return r;

	p->connected = false;
	p->sent = 0;
	p->received = 0;
	p->response[0] = '\0';
	p->request_len = (size_t)snprintf(p->request, sizeof(p->request),
					  "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nodecond\r\nConnection: close\r\n\r\n",
					  target.path, target.host);
	if (p->request_len >= sizeof(p->request))
		return -EINVAL;

	p->fd = socket(target.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -errno;
	if (connect(p->fd, (struct sockaddr *)&target.addr, target.addr_len) < 0 && errno != EINPROGRESS) {
		/* Refused at once (loopback): report through the done function like any failure. */
		r = errno;
		finish(p, 0, "connect: %s", strerror(r));
		return 0;
	}
	r = loop_add_io(p->loop, p->fd, EPOLLOUT, on_io, p, &p->io);
	if (r == 0)
		r = loop_add_timer(p->loop, KUBELET_PROBE_TIMEOUT_MS, 0, on_timeout, p, &p->timer);
	if (r < 0) {
		stop(p);
		return r;
	}
	return 0;
}
