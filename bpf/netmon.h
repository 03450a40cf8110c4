/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types that netmon.bpf.c shares with daemon/bpf_net.c.
 */
#ifndef NODECOND_BPF_NETMON_H
#define NODECOND_BPF_NETMON_H

/*
 * Drop reasons counted one by one; enum skb_drop_reason values at or above
 * NETMON_REASONS - 1 (subsystem reasons carry their subsystem in bits 16
 * and up) share the last slot.
 */
#define NETMON_REASONS 256

/* Per-CPU counters, summed by user space. */
struct netmon_counters {
	__u64 drops[NETMON_REASONS];	/* by enum skb_drop_reason; slot 0 on kernels without reasons */
	__u64 retransmits;
	__u64 xmit_timeouts;
};

#endif
