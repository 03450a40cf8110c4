/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log-linear latency histogram of bpf/disklat.h: bucket bounds and
 * percentiles. Pure functions, so unit tests check them without BPF.
 */
#ifndef NODECOND_DAEMON_DISK_HIST_H
#define NODECOND_DAEMON_DISK_HIST_H

#include <stddef.h>
#include <stdint.h>

/* Returns the bucket of a latency in microseconds, as the BPF program computes it. */
unsigned disk_hist_bucket(uint64_t us);

/* Sets the bounds [lower, upper) in microseconds of bucket. */
void disk_hist_bucket_bounds(unsigned bucket, uint64_t *ret_lower_us, uint64_t *ret_upper_us);

/*
 * Returns the latency in microseconds below which permille thousandths of
 * the n_buckets counts fall, interpolated linearly inside the bucket that
 * holds that rank (as Prometheus' histogram_quantile does). Returns 0 for
 * an empty histogram.
 */
uint64_t disk_hist_percentile_us(const uint64_t *hist, size_t n_buckets, unsigned permille);

#endif
