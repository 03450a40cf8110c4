/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/netmon.h"
#include "bpf/netmon.skel.h"
#include "daemon/bpf_loader.h"
#include "daemon/bpf_net.h"
#include "daemon/log.h"

#define REASON_PREFIX "SKB_DROP_REASON_"

struct bpf_net {
	struct netmon_bpf *skel;
	bool has_reasons;
	bool has_retransmits;
	bool has_xmit_timeouts;
	int n_cpus;
	struct netmon_counters *per_cpu;	/* n_cpus entries, for reads */
	char *reason_names[NETMON_REASONS];
};

/* Copies the names of enum skb_drop_reason from kernel BTF. */
static void load_reason_names(struct bpf_net *n, const struct btf *vmlinux)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	int id;

	id = btf__find_by_name_kind(vmlinux, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		return;
	t = btf__type_by_id(vmlinux, id);
	e = btf_enum(t);
	for (unsigned i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(vmlinux, e->name_off);

		if ((unsigned)e->val >= NETMON_REASONS - 1 || !name || n->reason_names[e->val])
			continue;
		if (strncmp(name, REASON_PREFIX, strlen(REASON_PREFIX)) == 0)
			name += strlen(REASON_PREFIX);
		n->reason_names[e->val] = strdup(name);
	}
}

static int configure(void *userdata, const struct btf *vmlinux, char *reason, size_t reason_len)
{
	struct bpf_net *n = userdata;
	struct netmon_bpf *skel = n->skel;

	if (!bpf_loader_tracepoint_exists(vmlinux, "kfree_skb")) {
		snprintf(reason, reason_len, "tracepoint skb/kfree_skb not found");
		return -ENOENT;
	}
	n->has_reasons = btf__find_by_name_kind(vmlinux, "skb_drop_reason", BTF_KIND_ENUM) >= 0;
	if (n->has_reasons)
		load_reason_names(n, vmlinux);
	else
		log_info("bpf: netmon: no drop reasons in this kernel (before Linux 5.17); every kfree_skb counts as a drop");
	n->has_retransmits = bpf_loader_autoload_tracepoint(skel->progs.tcp_retransmit_skb, vmlinux, "netmon",
							    "tcp_retransmit_skb",
							    "net.retransmits falls back to /proc/net/snmp");
	n->has_xmit_timeouts = bpf_loader_autoload_tracepoint(skel->progs.net_dev_xmit_timeout, vmlinux,
							      "netmon", "net_dev_xmit_timeout",
							      "transmit timeouts not counted");
	return 0;
}

int bpf_net_open(struct bpf_net **ret, char *reason, size_t reason_len)
{
	struct bpf_net *n;
	int r;

	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(reason, reason_len, "out of memory");
		return -ENOMEM;
	}
	n->n_cpus = libbpf_num_possible_cpus();
	if (n->n_cpus <= 0) {
		r = n->n_cpus < 0 ? n->n_cpus : -EINVAL;
		snprintf(reason, reason_len, "cannot count the possible CPUs: %s", strerror(-r));
		goto err_out;
	}
	n->per_cpu = calloc((size_t)n->n_cpus, sizeof(*n->per_cpu));
	if (!n->per_cpu) {
		r = -ENOMEM;
		snprintf(reason, reason_len, "out of memory");
		goto err_out;
	}

	n->skel = netmon_bpf__open();
	r = bpf_loader_load_skeleton(n->skel ? n->skel->skeleton : NULL, !n->skel, configure, n, reason,
				     reason_len);
	if (r < 0)
		goto err_out;
	*ret = n;
	return 0;

err_out:
	bpf_net_free(n);
	return r;
}

void bpf_net_free(struct bpf_net *n)
{
	if (!n)
		return;
	if (n->skel)
		bpf_loader_forget(n->skel->obj);
	netmon_bpf__destroy(n->skel);
	for (size_t i = 0; i < NETMON_REASONS; i++)
		free(n->reason_names[i]);
	free(n->per_cpu);
	free(n);
}

int bpf_net_read(struct bpf_net *n, struct bpf_net_totals *ret)
{
	__u32 zero = 0;
	int r;

	/* struct netmon_counters is a multiple of 8 bytes, so per-CPU values are packed. */
	r = bpf_map__lookup_elem(n->skel->maps.counters, &zero, sizeof(zero), n->per_cpu,
				 (size_t)n->n_cpus * sizeof(*n->per_cpu), 0);
	if (r < 0)
		return r;

	memset(ret, 0, sizeof(*ret));
	for (int cpu = 0; cpu < n->n_cpus; cpu++) {
		const struct netmon_counters *c = &n->per_cpu[cpu];

		for (size_t i = 0; i < NETMON_REASONS; i++)
			ret->drops[i] += c->drops[i];
		ret->retransmits += c->retransmits;
		ret->xmit_timeouts += c->xmit_timeouts;
	}
	for (size_t i = 0; i < NETMON_REASONS; i++)
		ret->drops_total += ret->drops[i];
	return 0;
}

bool bpf_net_has_reasons(const struct bpf_net *n)
{
	return n->has_reasons;
}

bool bpf_net_has_retransmits(const struct bpf_net *n)
{
	return n->has_retransmits;
}

bool bpf_net_has_xmit_timeouts(const struct bpf_net *n)
{
	return n->has_xmit_timeouts;
}

const char *bpf_net_reason_name(const struct bpf_net *n, unsigned reason)
{
	if (!n->has_reasons)
		return "UNKNOWN";
	if (reason >= NETMON_REASONS - 1)
		return "OTHER";
	return n->reason_names[reason] ? n->reason_names[reason] : "UNNAMED";
}
