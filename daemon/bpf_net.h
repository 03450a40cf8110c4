/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.drops by drop reason, net.retransmits and transmit timeouts from the
 * skb:kfree_skb, tcp:tcp_retransmit_skb and net:net_dev_xmit_timeout
 * tracepoints (bpf/netmon.bpf.c), in every network namespace of the node.
 */
#ifndef NODECOND_DAEMON_BPF_NET_H
#define NODECOND_DAEMON_BPF_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/netmon.h"

struct bpf_net;

/* Counts since open, summed over CPUs. */
struct bpf_net_totals {
	uint64_t drops[NETMON_REASONS];
	uint64_t drops_total;
	uint64_t retransmits;
	uint64_t xmit_timeouts;
};

/* Loads and attaches the programs. Returns 0, or a negative errno with a one-line reason. */
int bpf_net_open(struct bpf_net **ret, char *reason, size_t reason_len);

void bpf_net_free(struct bpf_net *n);

int bpf_net_read(struct bpf_net *n, struct bpf_net_totals *ret);

/*
 * True when the kernel passes a drop reason (Linux 5.17 and later). Without
 * one, every kfree_skb() counts as a drop in slot 0, frees that are not
 * drops included.
 */
bool bpf_net_has_reasons(const struct bpf_net *n);

/* False when the kernel has no tcp_retransmit_skb or net_dev_xmit_timeout tracepoint. */
bool bpf_net_has_retransmits(const struct bpf_net *n);
bool bpf_net_has_xmit_timeouts(const struct bpf_net *n);

/*
 * Returns the kernel's name of a drop reason without its SKB_DROP_REASON_
 * prefix ("NO_SOCKET"), "OTHER" for the shared last slot, or "UNKNOWN" when
 * the kernel has no reasons.
 */
const char *bpf_net_reason_name(const struct bpf_net *n, unsigned reason);

#endif
