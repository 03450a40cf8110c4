// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * net.drops by drop reason (skb:kfree_skb), net.retransmits
 * (tcp:tcp_retransmit_skb) and transmit timeouts (net:net_dev_xmit_timeout),
 * counted per CPU in every network namespace of the node.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "netmon.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct netmon_counters);
} counters SEC(".maps");

static __always_inline struct netmon_counters *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb, struct sk_buff *skb, void *location)
{
	struct netmon_counters *c = this_cpu();
	__u32 reason = 0;

	if (!c)
		return 0;
	/*
	 * Linux 5.17 added the reason argument, with the field of the same name
	 * in the tracepoint's record. Before, every kfree_skb() call counts, in
	 * slot 0, including frees that are not drops.
	 */
	if (bpf_core_field_exists(((struct trace_event_raw_kfree_skb *)0)->reason)) {
		reason = (__u32)ctx[2];
		/* Kernels that have SKB_CONSUMED may pass it for packets that were
		 * used, not dropped. */
		if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
		    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
			return 0;
	}
	if (reason >= NETMON_REASONS)
		reason = NETMON_REASONS - 1;
	c->drops[reason & (NETMON_REASONS - 1)]++;
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb)
{
	struct netmon_counters *c = this_cpu();

	if (c)
		c->retransmits++;
	return 0;
}

SEC("tp_btf/net_dev_xmit_timeout")
int BPF_PROG(net_dev_xmit_timeout)
{
	struct netmon_counters *c = this_cpu();

	if (c)
		c->xmit_timeouts++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
