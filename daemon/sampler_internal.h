/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sampler's state, shared by daemon/sampler.c (the per-tick signals),
 * daemon/sampler_kernel.c (discrete kernel events: OOM kills and kubelet
 * exits) and daemon/sampler_cgroups.c (per-cgroup views). Not for other
 * modules: they use daemon/sampler.h.
 */
#ifndef NODECOND_DAEMON_SAMPLER_INTERNAL_H
#define NODECOND_DAEMON_SAMPLER_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/disklat.h"
#include "daemon/cgroup_pids.h"
#include "daemon/diskstats.h"
#include "daemon/kmsg.h"
#include "daemon/log.h"
#include "daemon/sampler.h"

#define SAMPLER_CGROUP_STALL_MAX 256
#define SAMPLER_KMSG_RECENT 64
#define SAMPLER_OOM_PENDING 32

struct bpf_disk;
struct bpf_kubelet;
struct bpf_memstall;
struct bpf_net;
struct bpf_oomkill;
struct bpf_pid;
struct kubelet_probe;
struct loop_source;

/* A memory cgroup seen stalling in reclaim at its own limit. */
struct sampler_cgroup_stall {
	uint64_t id;
	char path[256];             /* relative to the memory hierarchy's root; "" until found */
	uint64_t prev_ns;
	uint64_t total_ns;
	int64_t share;              /* thousandths of a percent of the last tick */
};

/* A BPF OOM event waiting briefly for the kernel's own report in /dev/kmsg. */
struct sampler_pending_oom {
	struct sampler_event event;
	bool bpf_cgroup_limit;
};

struct sampler {
	const struct nodecond_config *cfg;
	struct sampler_options opts;

	char memcg_v1_root[PATH_MAX];     /* "" when memory is not on cgroup v1 */
	char memcg_root[PATH_MAX];        /* the hierarchy with the memory controller (v1 or v2) */
	char cgroup2_root[PATH_MAX];      /* "" without a cgroup2 mount */

	struct bpf_memstall *memstall;
	char memstall_reason[SIGNAL_REASON_MAX];
	bool have_stall_prev;
	uint64_t stall_prev;              /* ns (BPF) or us (PSI) */
	uint64_t stall_prev_time_ns;

	struct bpf_pid *pid;
	char pid_reason[SIGNAL_REASON_MAX];

	/* memory.cgroupStall */
	struct sampler_cgroup_stall cgroup_stalls[SAMPLER_CGROUP_STALL_MAX];
	int n_cgroup_stalls;
	uint64_t cgroup_stall_prev_time_ns;

	/* pid.cgroupForkFailures */
	struct cgroup_pids *pids_v1;
	struct cgroup_pids *pids_v2;
	struct cgroup_pids_entry fork_failures[CGROUP_PIDS_LIST_MAX];
	int n_fork_failures;
	uint64_t fork_failures_new;
	char fork_failures_reason[SIGNAL_REASON_MAX];

	/* memory.oomKills */
	struct bpf_oomkill *oomkill;
	char oomkill_reason[SIGNAL_REASON_MAX];
	int kmsg_fd;
	char kmsg_reason[SIGNAL_REASON_MAX];
	uint64_t kmsg_lost;
	struct kmsg_oom kmsg_recent[SAMPLER_KMSG_RECENT];
	unsigned kmsg_recent_next;
	struct sampler_pending_oom pending_ooms[SAMPLER_OOM_PENDING];
	int n_pending_ooms;
	uint64_t oom_system_tick;         /* kills counted since the last tick */
	uint64_t oom_cgroup_tick;
	uint64_t oom_system_total;
	uint64_t oom_cgroup_total;

	/* disk.latency, disk.errors */
	struct bpf_disk *disk;
	char disk_reason[SIGNAL_REASON_MAX];
	dev_t disk_devs[DISKLAT_MAX_DEVS];
	char disk_names[DISKLAT_MAX_DEVS][32];
	int n_disk_devs;
	char disk_devs_reason[SIGNAL_REASON_MAX];   /* why no disk is watched, or "" */
	bool disk_devs_resolved;
	unsigned ticks_since_disk_scan;
	struct diskstats disk_prev[DISKLAT_MAX_DEVS];
	bool have_disk_prev;
	uint64_t disk_p50_us[DISKLAT_MAX_DEVS];
	uint64_t disk_p99_us[DISKLAT_MAX_DEVS];
	uint64_t disk_completions[DISKLAT_MAX_DEVS];
	bool disk_untimed_prev;           /* the previous tick had untimed requests */
	struct log_ratelimit disk_untimed_log; /* the untimed-request warning */

	/* net.drops, net.retransmits */
	struct bpf_net *net;
	char net_reason[SIGNAL_REASON_MAX];
	bool have_net_prev;
	uint64_t net_prev_time_ns;
	uint64_t net_prev_drops, net_prev_retransmits, net_prev_timeouts;
	uint64_t *net_prev_reasons;       /* NETMON_REASONS entries, BPF only */
	uint64_t *net_tick_reasons;       /* drops per reason in the last tick */
	uint64_t net_tick_timeouts;

	/* kubelet.healthy */
	bool kubelet_expected;
	unsigned ticks_since_kubelet_scan;
	bool kubelet_scanned;
	struct bpf_kubelet *kubelet;
	char kubelet_reason[SIGNAL_REASON_MAX];
	struct kubelet_probe *probe;
	bool probe_has_result;
	int probe_healthy;
	char probe_detail[SIGNAL_REASON_MAX];
	bool probe_wake;                  /* wake the agent when the running probe ends */
	char probe_error[SIGNAL_REASON_MAX];   /* why a probe could not start */

	/* kernel events for /v1/events */
	struct sampler_event events[SAMPLER_EVENTS_MAX];
	unsigned events_head, events_len;
	uint64_t events_dropped;

	struct loop *loop;
	sampler_wake_fn wake;
	void *wake_userdata;
	struct loop_source *oomkill_source;
	struct loop_source *kubelet_source;
	struct loop_source *kmsg_source;
	struct loop_source *oom_timer;
};

uint64_t sampler_monotonic_ns(void);

/* daemon/sampler_kernel.c */
void sampler_kernel_open(struct sampler *s);
void sampler_kernel_free(struct sampler *s);
void sampler_kernel_collect(struct sampler *s, struct signal_sample *samples);
void sampler_kubelet_watch(struct sampler *s, pid_t pid);
void sampler_record_event(struct sampler *s, const struct sampler_event *e);

/* daemon/sampler_cgroups.c */
void sampler_cgroups_open(struct sampler *s);
void sampler_cgroups_free(struct sampler *s);
void sampler_cgroups_collect(struct sampler *s, uint64_t now_ns);
/* Finds the path of a memory cgroup by its id (inode); returns 0 or -ENOENT. */
int sampler_memcg_path(const struct sampler *s, uint64_t id, char *buf, size_t len);

#endif
