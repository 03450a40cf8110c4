/* SPDX-License-Identifier: Apache-2.0 */
#include <linux/types.h>

#include "bpf/disklat.h"
#include "daemon/disk_hist.h"

unsigned disk_hist_bucket(uint64_t us)
{
	unsigned log = 0, bucket;

	if (us < DISKLAT_SUB_BUCKETS)
		return (unsigned)us;
	for (uint64_t v = us; v > 1; v >>= 1)
		log++;
	bucket = (log - DISKLAT_SUB_BITS + 1) * DISKLAT_SUB_BUCKETS +
		 (unsigned)((us >> (log - DISKLAT_SUB_BITS)) & (DISKLAT_SUB_BUCKETS - 1));
	return bucket < DISKLAT_BUCKETS ? bucket : DISKLAT_BUCKETS - 1;
}

void disk_hist_bucket_bounds(unsigned bucket, uint64_t *ret_lower_us, uint64_t *ret_upper_us)
{
	unsigned log, sub;

	if (bucket < DISKLAT_SUB_BUCKETS) {
		*ret_lower_us = bucket;
		*ret_upper_us = bucket + 1;
		return;
	}
	log = bucket / DISKLAT_SUB_BUCKETS + DISKLAT_SUB_BITS - 1;
	sub = bucket % DISKLAT_SUB_BUCKETS;
	*ret_lower_us = (uint64_t)(DISKLAT_SUB_BUCKETS + sub) << (log - DISKLAT_SUB_BITS);
	*ret_upper_us = (uint64_t)(DISKLAT_SUB_BUCKETS + sub + 1) << (log - DISKLAT_SUB_BITS);
}

uint64_t disk_hist_percentile_us(const uint64_t *hist, size_t n_buckets, unsigned permille)
{
	uint64_t total = 0, below = 0, lower, upper;
	double rank;

	for (size_t i = 0; i < n_buckets; i++)
		total += hist[i];
	if (total == 0)
		return 0;
	if (permille > 1000)
		permille = 1000;
	rank = (double)total * permille / 1000.0;

	for (size_t i = 0; i < n_buckets; i++) {
		if (hist[i] == 0)
			continue;
		if ((double)(below + hist[i]) >= rank) {
			disk_hist_bucket_bounds((unsigned)i, &lower, &upper);
			return lower + (uint64_t)((double)(upper - lower) * (rank - (double)below) /
						  (double)hist[i]);
		}
		below += hist[i];
	}
	/* Unreachable: the last non-empty bucket reaches the total. */
	return 0;
}
