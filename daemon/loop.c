/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/loop.h"

#define LOOP_PREPARE_MAX 8
#define LOOP_EVENTS_MAX 32

enum source_type {
	SOURCE_IO,
	SOURCE_TIMER,
};

struct loop_source {
	struct loop *loop;
	enum source_type type;
	int fd;
	bool owns_fd;           /* timers own their timerfd */
	bool removed;
	loop_io_fn io_fn;
	loop_timer_fn timer_fn;
	void *userdata;
	struct loop_source *next_removed;
	struct loop_source *prev, *next;   /* every source not yet removed */
};

struct loop {
	int epoll_fd;
	bool exiting;
	int exit_code;
	bool dispatching;
	struct loop_source *removed;   /* freed after the current dispatch */
	struct loop_source *sources;   /* every live source, so loop_free() can release them */
	struct {
		loop_prepare_fn fn;
		void *userdata;
	} prepare[LOOP_PREPARE_MAX];
	int n_prepare;
};

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll_fd < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void free_removed(struct loop *l)
{
	while (l->removed) {
		struct loop_source *s = l->removed;

		l->removed = s->next_removed;
		free(s);
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	while (l->sources)
		loop_remove(l->sources);
	free_removed(l);
	close(l->epoll_fd);
	free(l);
}

static int add_source(struct loop *l, struct loop_source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		return -errno;
	s->next = l->sources;
	if (l->sources)
		l->sources->prev = s;
	l->sources = s;
	return 0;
}

int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata, struct loop_source **ret)
{
	struct loop_source *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->type = SOURCE_IO;
	s->fd = fd;
	s->io_fn = fn;
	s->userdata = userdata;
	r = add_source(l, s, events);
	if (r < 0) {
		free(s);
		return r;
	}
	if (ret)
		*ret = s;
	return 0;
}

int loop_set_io_events(struct loop_source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (epoll_ctl(s->loop->epoll_fd, EPOLL_CTL_MOD, s->fd, &ev) < 0)
		return -errno;
	return 0;
}

int loop_timer_set(struct loop_source *s, int64_t first_ms, int64_t interval_ms)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = first_ms / 1000;
	its.it_value.tv_nsec = (first_ms % 1000) * 1000000;
	its.it_interval.tv_sec = interval_ms / 1000;
	its.it_interval.tv_nsec = (interval_ms % 1000) * 1000000;
	if (timerfd_settime(s->fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int loop_add_timer(struct loop *l, int64_t first_ms, int64_t interval_ms, loop_timer_fn fn, void *userdata,
		   struct loop_source **ret)
{
	struct loop_source *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->type = SOURCE_TIMER;
	s->timer_fn = fn;
	s->userdata = userdata;
	s->owns_fd = true;
	s->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->fd < 0) {
		r = -errno;
		free(s);
		return r;
	}
	/* A first expiry of 0 would disarm the timer: fire as soon as possible instead. */
	r = loop_timer_set(s, first_ms > 0 ? first_ms : 1, interval_ms);
	if (r == 0)
		r = add_source(l, s, EPOLLIN);
	if (r < 0) {
		close(s->fd);
		free(s);
		return r;
	}
	if (ret)
		*ret = s;
	return 0;
}

void loop_remove(struct loop_source *s)
{
	struct loop *l;

	if (!s || s->removed)
		return;
	l = s->loop;
	s->removed = true;
	if (s->prev)
		s->prev->next = s->next;
	else
		l->sources = s->next;
	if (s->next)
		s->next->prev = s->prev;
	epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->owns_fd)
		close(s->fd);
	s->fd = -1;
	/* Events for this source may still be pending in this dispatch: free it afterwards. */
	s->next_removed = l->removed;
	l->removed = s;
	if (!l->dispatching)
		free_removed(l);
}

int loop_add_prepare(struct loop *l, loop_prepare_fn fn, void *userdata)
{
	if (l->n_prepare >= LOOP_PREPARE_MAX)
		return -ENOSPC;
	l->prepare[l->n_prepare].fn = fn;
	l->prepare[l->n_prepare].userdata = userdata;
	l->n_prepare++;
	return 0;
}

void loop_exit(struct loop *l, int code)
{
	l->exiting = true;
	l->exit_code = code;
}

static void dispatch(struct loop_source *s, uint32_t events)
{
	if (s->removed)
		return;
	if (s->type == SOURCE_TIMER) {
		uint64_t expirations;

		if (read(s->fd, &expirations, sizeof(expirations)) != sizeof(expirations))
			return;
		s->timer_fn(s, s->userdata);
	} else {
		s->io_fn(s, s->fd, events, s->userdata);
	}
}

int loop_run(struct loop *l)
{
	while (!l->exiting) {
		struct epoll_event events[LOOP_EVENTS_MAX];
		int timeout = -1, n;

		for (int i = 0; i < l->n_prepare; i++) {
			int t = l->prepare[i].fn(l->prepare[i].userdata);

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (l->exiting)
			break;

		n = epoll_wait(l->epoll_fd, events, LOOP_EVENTS_MAX, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->dispatching = true;
		for (int i = 0; i < n; i++)
			dispatch(events[i].data.ptr, events[i].events);
		l->dispatching = false;
		free_removed(l);
	}
	return l->exit_code;
}
