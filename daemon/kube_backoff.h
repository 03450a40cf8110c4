/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exponential backoff with jitter for API requests. Pure logic: the random
 * number is an argument.
 */
#ifndef NODECOND_DAEMON_KUBE_BACKOFF_H
#define NODECOND_DAEMON_KUBE_BACKOFF_H

#include <stdint.h>

#define KUBE_BACKOFF_INITIAL_MS 500
#define KUBE_BACKOFF_MAX_MS 30000
/* A Retry-After longer than this is capped, so a broken header cannot park a writer for hours. */
#define KUBE_RETRY_AFTER_MAX_MS (10 * 60 * 1000)

struct kube_backoff {
	unsigned failures;            /* consecutive failures; 0 after a success */
};

/*
 * Records a failure and returns the delay before the next attempt: the
 * base delay doubles with each consecutive failure up to
 * KUBE_BACKOFF_MAX_MS, and the result is uniform in [base/2, base), so
 * agents that failed together do not retry together. A Retry-After
 * (retry_after_ms >= 0) is a lower bound, capped at KUBE_RETRY_AFTER_MAX_MS.
 */
int64_t kube_backoff_next(struct kube_backoff *b, int64_t retry_after_ms, uint64_t random);

static inline void kube_backoff_reset(struct kube_backoff *b)
{
	b->failures = 0;
}

#endif
