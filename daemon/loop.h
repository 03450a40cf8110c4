/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's event loop: one epoll descriptor, descriptors with callbacks,
 * and timers backed by timerfds. Everything runs on one thread; a callback
 * must never block.
 */
#ifndef NODECOND_DAEMON_LOOP_H
#define NODECOND_DAEMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_source;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, ...) that fired. */
typedef void (*loop_io_fn)(struct loop_source *source, int fd, uint32_t events, void *userdata);
typedef void (*loop_timer_fn)(struct loop_source *source, void *userdata);

int loop_new(struct loop **ret);
void loop_free(struct loop *l);

/* Watches fd for events. The loop never closes fd. */
int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata,
		struct loop_source **ret);

/* Changes the events an I/O source waits for. */
int loop_set_io_events(struct loop_source *source, uint32_t events);

/*
 * Adds a timer on CLOCK_MONOTONIC. It first fires after first_ms, then
 * every interval_ms; an interval of 0 makes it fire once. A timer that
 * fired once stays allocated and can be re-armed with loop_timer_set().
 */
int loop_add_timer(struct loop *l, int64_t first_ms, int64_t interval_ms, loop_timer_fn fn, void *userdata,
		   struct loop_source **ret);

/* Re-arms a timer; first_ms of 0 disarms it. */
int loop_timer_set(struct loop_source *source, int64_t first_ms, int64_t interval_ms);

/* Removes a source; safe to call from its own callback. NULL is ignored. */
void loop_remove(struct loop_source *source);

/*
 * A hook called before each wait: it returns the longest time in
 * milliseconds the loop may sleep (-1 for no limit) and may do work that
 * has no descriptor of its own, such as libmicrohttpd's timeouts.
 */
typedef int (*loop_prepare_fn)(void *userdata);
int loop_add_prepare(struct loop *l, loop_prepare_fn fn, void *userdata);

/* Runs until loop_exit() is called; returns its code, or -errno when epoll fails. */
int loop_run(struct loop *l);
void loop_exit(struct loop *l, int code);

#endif
