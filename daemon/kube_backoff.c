/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/kube_backoff.h"

int64_t kube_backoff_next(struct kube_backoff *b, int64_t retry_after_ms, uint64_t random)
{
	int64_t base = KUBE_BACKOFF_INITIAL_MS, delay;

	for (unsigned i = 0; i < b->failures && base < KUBE_BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > KUBE_BACKOFF_MAX_MS)
		base = KUBE_BACKOFF_MAX_MS;
	if (b->failures < 64)
		b->failures++;

	delay = base / 2 + (int64_t)(random % (uint64_t)(base / 2));
	if (retry_after_ms >= 0) {
		if (retry_after_ms > KUBE_RETRY_AFTER_MAX_MS)
			retry_after_ms = KUBE_RETRY_AFTER_MAX_MS;
		if (delay < retry_after_ms)
			delay = retry_after_ms;
	}
	return delay;
}
