/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thresholds in kubelet's eviction form: "memory.available<100Mi",
 * "nodefs.inodesFree<5%", and '>' for rates, counts and stalls.
 */
#ifndef NODECOND_CONDITIONS_THRESHOLD_H
#define NODECOND_CONDITIONS_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conditions/quantity.h"
#include "conditions/signal.h"

enum threshold_op {
	THRESHOLD_LESS,     /* met when observed < limit, strictly */
	THRESHOLD_GREATER,  /* met when observed > limit, strictly */
};

#define THRESHOLD_EXPRESSION_MAX 96

struct threshold {
	enum signal_id signal;
	enum threshold_op op;
	struct quantity limit;
	int64_t for_ms;      /* must hold this long before it counts; 0: at once */
	int64_t window_ms;   /* count events over this trailing window; 0: per tick */
	char expression[THRESHOLD_EXPRESSION_MAX];
};

enum threshold_result {
	THRESHOLD_NOT_MET,
	THRESHOLD_MET,
	THRESHOLD_UNAVAILABLE,  /* no observation, or a percentage of zero capacity */
};

/*
 * Parses an expression such as "memory.available<100Mi". Returns 0 or
 * -EINVAL with a message in err naming the text and what was expected.
 * for_ms and window_ms are left at 0 for the caller to set.
 */
int threshold_parse(const char *expression, struct threshold *ret, char *err, size_t err_len);

/*
 * Compares one sample with a threshold, ignoring for_ms and window_ms.
 * Uses the sample's window minimum for '<' when it has one. Sets
 * *ret_observed to the value compared, in the signal's unit.
 */
enum threshold_result threshold_compare(const struct threshold *t,
					const struct signal_sample *sample,
					int64_t *ret_observed);

/*
 * Compares a value in the signal's unit with a threshold, as
 * threshold_compare() does for a sample. A percentage of capacity is
 * THRESHOLD_UNAVAILABLE without a positive capacity.
 */
enum threshold_result threshold_compare_value(const struct threshold *t, int64_t value, bool has_capacity,
					      int64_t capacity);

/*
 * Computes the limit in the signal's unit as an integer that compares with
 * integer values exactly as the threshold does: rounded up for '<' and down
 * for '>' (observed < 10.5 is true exactly when observed < 11). Returns 0,
 * -ENODATA for a percentage without a positive capacity, or -EINVAL.
 */
int threshold_limit(const struct threshold *t, bool has_capacity, int64_t capacity, int64_t *ret);

#endif
