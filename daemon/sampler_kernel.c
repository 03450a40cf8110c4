/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Discrete kernel events: OOM kills (memory.oomKills) and the kubelet
 * process exiting (an immediate kubelet.healthy probe), and the bounded list
 * of those events for /v1/events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/bpf_kubelet.h"
#include "daemon/bpf_oomkill.h"
#include "daemon/kmsg.h"
#include "daemon/kubelet_probe.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/sampler_internal.h"

/*
 * The kernel prints "Killed process" right after the tracepoint fires, so a
 * BPF event waits this long for that line before the BPF guess is used.
 */
#define OOM_KMSG_WAIT_MS 50

static struct log_ratelimit kmsg_ratelimit = LOG_RATELIMIT_INIT(60 * 1000);

void sampler_record_event(struct sampler *s, const struct sampler_event *e)
{
	unsigned slot;

	if (s->events_len == SAMPLER_EVENTS_MAX) {
		s->events_head = (s->events_head + 1) % SAMPLER_EVENTS_MAX;
		s->events_len--;
		s->events_dropped++;
	}
	slot = (s->events_head + s->events_len) % SAMPLER_EVENTS_MAX;
	s->events[slot] = *e;
	s->events_len++;
}

int sampler_events(const struct sampler *s, struct sampler_event *out, int max, uint64_t *ret_dropped)
{
	int n = 0;

	for (unsigned i = 0; i < s->events_len && n < max; i++)
		out[n++] = s->events[(s->events_head + i) % SAMPLER_EVENTS_MAX];
	*ret_dropped = s->events_dropped;
	return n;
}

static void wake(struct sampler *s)
{
	if (s->wake)
		s->wake(s->wake_userdata);
}

/* Counts one classified kill and records its event. */
static void count_oom(struct sampler *s, struct sampler_event *e)
{
	if (e->cgroup_id && !e->cgroup[0])
		sampler_memcg_path(s, e->cgroup_id, e->cgroup, sizeof(e->cgroup));
	if (e->cgroup_limit) {
		s->oom_cgroup_tick++;
		s->oom_cgroup_total++;
	} else {
		s->oom_system_tick++;
		s->oom_system_total++;
	}
	log_warning("oom: %s killed pid %d (%s)%s%s; classified by %s", e->cgroup_limit ? "a memory cgroup's limit" :
		    "system-wide memory shortage", e->pid, e->command, e->cgroup[0] ? " in cgroup " : "", e->cgroup,
		    e->classified_by);
	sampler_record_event(s, e);
}

/* With BPF, kmsg lines only classify; without it, "Killed process" lines are the kills. */
static void on_kmsg_oom(const struct kmsg_oom *oom, void *userdata)
{
	struct sampler *s = userdata;
	struct sampler_event e = { .type = SAMPLER_EVENT_OOM_KILL };

	s->kmsg_recent[s->kmsg_recent_next] = *oom;
	s->kmsg_recent_next = (s->kmsg_recent_next + 1) % SAMPLER_KMSG_RECENT;
	if (s->oomkill || oom->line != KMSG_OOM_KILLED)
		return;

	e.mono_ns = sampler_monotonic_ns();
	e.pid = oom->pid;
	snprintf(e.command, sizeof(e.command), "%s", oom->comm);
	snprintf(e.source, sizeof(e.source), "kmsg");
	snprintf(e.classified_by, sizeof(e.classified_by), "kmsg");
	e.cgroup_limit = oom->scope == KMSG_OOM_CGROUP;
	count_oom(s, &e);
}

static void drain_kmsg(struct sampler *s)
{
	int r;

	if (s->kmsg_fd < 0)
		return;
	r = kmsg_read_oom(s->kmsg_fd, on_kmsg_oom, s, &s->kmsg_lost);
	if (r < 0)
		log_ratelimited(&kmsg_ratelimit, LOG_WARNING, "oom: reading /dev/kmsg failed: %s", strerror(-r));
}

/* Finds the kernel's report of a kill of pid; the "Killed process" line wins over the summary. */
static const struct kmsg_oom *kmsg_report(const struct sampler *s, pid_t pid)
{
	const struct kmsg_oom *found = NULL;

	for (int i = 0; i < SAMPLER_KMSG_RECENT; i++) {
		const struct kmsg_oom *k = &s->kmsg_recent[i];

		if (k->pid != pid || k->line == 0)
			continue;
		if (k->line == KMSG_OOM_KILLED)
			return k;
		found = k;
	}
	return found;
}

/* Classifies pending BPF events; with force, events without a kmsg report take the BPF guess. */
static bool settle_pending(struct sampler *s, bool force)
{
	bool system_kill = false;
	int kept = 0;

	drain_kmsg(s);
	for (int i = 0; i < s->n_pending_ooms; i++) {
		struct sampler_pending_oom *p = &s->pending_ooms[i];
		const struct kmsg_oom *k = kmsg_report(s, p->event.pid);

		if (!k && !force) {
			s->pending_ooms[kept++] = *p;
			continue;
		}
		if (k) {
			p->event.cgroup_limit = k->scope == KMSG_OOM_CGROUP;
			snprintf(p->event.classified_by, sizeof(p->event.classified_by), "kmsg");
			if (!p->event.command[0])
				snprintf(p->event.command, sizeof(p->event.command), "%s", k->comm);
		} else {
			p->event.cgroup_limit = p->bpf_cgroup_limit;
			snprintf(p->event.classified_by, sizeof(p->event.classified_by), "bpf");
		}
		system_kill = system_kill || !p->event.cgroup_limit;
		count_oom(s, &p->event);
	}
	s->n_pending_ooms = kept;
	return system_kill;
}

static void on_oom_timer(struct loop_source *source, void *userdata)
{
	struct sampler *s = userdata;

	if (settle_pending(s, true))
		wake(s);
}

static void on_bpf_oom(const struct oomkill_event *o, void *userdata)
{
	struct sampler *s = userdata;
	struct sampler_pending_oom *p;

	if (s->n_pending_ooms == SAMPLER_OOM_PENDING)
		settle_pending(s, true);
	p = &s->pending_ooms[s->n_pending_ooms++];
	memset(p, 0, sizeof(*p));
	p->event.type = SAMPLER_EVENT_OOM_KILL;
	p->event.mono_ns = sampler_monotonic_ns();
	p->event.pid = (int)o->victim_pid;
	snprintf(p->event.command, sizeof(p->event.command), "%.*s", OOMKILL_COMM_LEN, o->victim_comm);
	snprintf(p->event.source, sizeof(p->event.source), "bpf");
	p->event.cgroup_id = o->victim_cgroup_id ? o->victim_cgroup_id : o->limit_cgroup_id;
	p->bpf_cgroup_limit = o->scope == OOMKILL_SCOPE_CGROUP;
}

static void on_oomkill_ready(struct loop_source *source, int fd, uint32_t events, void *userdata)
{
	struct sampler *s = userdata;

	bpf_oomkill_consume(s->oomkill);
	if (s->n_pending_ooms == 0)
		return;
	if (settle_pending(s, false))
		wake(s);
	if (s->n_pending_ooms > 0 && s->oom_timer)
		loop_timer_set(s->oom_timer, OOM_KMSG_WAIT_MS, 0);
}

static void on_kmsg_ready(struct loop_source *source, int fd, uint32_t events, void *userdata)
{
	struct sampler *s = userdata;
	uint64_t before = s->oom_system_tick;

	drain_kmsg(s);
	if (s->oom_system_tick > before)
		wake(s);
}

static void start_probe(struct sampler *s)
{
	int r;

	if (!s->probe || kubelet_probe_running(s->probe))
		return;
	r = kubelet_probe_start(s->probe, s->cfg->kubelet_healthz_url);
	if (r < 0)
		snprintf(s->probe_error, sizeof(s->probe_error), "cannot probe kubelet.healthzURL %s: %s",
			 s->cfg->kubelet_healthz_url,
			 r == -EPROTONOSUPPORT ? "https is not supported; use kubelet's http healthz port" :
			 r == -EINVAL ? "expected http://IP:PORT/PATH or http://localhost:PORT/PATH" : strerror(-r));
	else
		s->probe_error[0] = '\0';
}

static void on_probe_done(int healthy, const char *detail, void *userdata)
{
	struct sampler *s = userdata;

	s->probe_has_result = true;
	s->probe_healthy = healthy;
	snprintf(s->probe_detail, sizeof(s->probe_detail), "%s", detail);
	if (s->probe_wake) {
		s->probe_wake = false;
		log_info("kubelet: probe after the kubelet exited: %s", detail);
		wake(s);
	}
}

static void on_kubelet_exit(const struct kubelet_exit_event *k, void *userdata)
{
	struct sampler *s = userdata;
	struct sampler_event e = { .type = SAMPLER_EVENT_KUBELET_EXIT };

	e.mono_ns = sampler_monotonic_ns();
	e.pid = (int)k->pid;
	e.exit_code = k->exit_code;
	snprintf(e.command, sizeof(e.command), "%.*s", KUBELET_COMM_LEN, k->comm);
	snprintf(e.source, sizeof(e.source), "bpf");
	sampler_record_event(s, &e);
	log_warning("kubelet: process %d (%s) exited with status 0x%x; probing %s now", e.pid, e.command,
		    (unsigned)e.exit_code, s->cfg->kubelet_healthz_url);

	/* A probe that began before the exit may report on the old process. */
	if (s->probe)
		kubelet_probe_cancel(s->probe);
	s->probe_wake = true;
	start_probe(s);
}

static void on_kubelet_ready(struct loop_source *source, int fd, uint32_t events, void *userdata)
{
	struct sampler *s = userdata;

	bpf_kubelet_consume(s->kubelet);
}

void sampler_kubelet_watch(struct sampler *s, pid_t pid)
{
	if (s->kubelet)
		bpf_kubelet_watch_pid(s->kubelet, pid);
}

void sampler_kernel_open(struct sampler *s)
{
	int fd, r;

	fd = kmsg_open();
	if (fd < 0) {
		snprintf(s->kmsg_reason, sizeof(s->kmsg_reason), "cannot read /dev/kmsg: %s%s", strerror(-fd),
			 fd == -EPERM ? " (kernel.dmesg_restrict is set: grant CAP_SYSLOG)" : "");
		log_warning("oom: %s; OOM kills are %s", s->kmsg_reason,
			    s->opts.disable_bpf ? "not counted" : "classified by the BPF limit check alone");
	}
	s->kmsg_fd = fd;

	if (s->opts.disable_bpf) {
		snprintf(s->oomkill_reason, sizeof(s->oomkill_reason), "BPF disabled by --no-bpf");
		snprintf(s->kubelet_reason, sizeof(s->kubelet_reason), "BPF disabled by --no-bpf");
		return;
	}
	r = bpf_oomkill_open(&s->oomkill, on_bpf_oom, s, s->oomkill_reason, sizeof(s->oomkill_reason));
	if (r < 0)
		log_warning("bpf: oomkill: disabled: %s; memory.oomKills falls back to /dev/kmsg", s->oomkill_reason);
	else
		log_info("bpf: oomkill: loaded and attached");
	r = bpf_kubelet_open(&s->kubelet, on_kubelet_exit, s, s->kubelet_reason, sizeof(s->kubelet_reason));
	if (r < 0)
		log_warning("bpf: kubelet: disabled: %s; a kubelet exit is seen at the next tick's probe",
			    s->kubelet_reason);
	else
		log_info("bpf: kubelet: loaded and attached");
}

int sampler_attach_loop(struct sampler *s, struct loop *l, sampler_wake_fn fn, void *userdata)
{
	int r = 0;

	s->loop = l;
	s->wake = fn;
	s->wake_userdata = userdata;

	if (s->oomkill)
		r = loop_add_io(l, bpf_oomkill_fd(s->oomkill), EPOLLIN, on_oomkill_ready, s, &s->oomkill_source);
	if (r == 0 && s->oomkill) {
		r = loop_add_timer(l, OOM_KMSG_WAIT_MS, 0, on_oom_timer, s, &s->oom_timer);
		if (r == 0)
			r = loop_timer_set(s->oom_timer, 0, 0);
	}
	/* Without BPF, /dev/kmsg is the source; with it, kmsg is read when a BPF event needs it. */
	if (r == 0 && !s->oomkill && s->kmsg_fd >= 0)
		r = loop_add_io(l, s->kmsg_fd, EPOLLIN, on_kmsg_ready, s, &s->kmsg_source);
	if (r == 0 && s->kubelet)
		r = loop_add_io(l, bpf_kubelet_fd(s->kubelet), EPOLLIN, on_kubelet_ready, s, &s->kubelet_source);
	if (r == 0)
		r = kubelet_probe_new(&s->probe, l, on_probe_done, s);
	return r;
}

void sampler_kernel_collect(struct sampler *s, struct signal_sample *samples)
{
	struct signal_sample *oom = &samples[SIGNAL_MEMORY_OOM_KILLS];
	struct signal_sample *kubelet = &samples[SIGNAL_KUBELET_HEALTHY];

	/* Events the loop has not delivered yet (or no loop, in tests) count in this tick. */
	if (s->oomkill) {
		bpf_oomkill_consume(s->oomkill);
		settle_pending(s, true);
	} else {
		drain_kmsg(s);
	}
	if (s->kubelet)
		bpf_kubelet_consume(s->kubelet);

	if (s->oomkill || s->kmsg_fd >= 0) {
		signal_sample_set(oom, s->oomkill ? "bpf" : "kmsg", (int64_t)s->oom_system_tick);
		snprintf(oom->detail, sizeof(oom->detail),
			 "%llu at a memory cgroup's limit in the tick, not counted; since start %llu system-wide, %llu at a limit",
			 (unsigned long long)s->oom_cgroup_tick, (unsigned long long)s->oom_system_total,
			 (unsigned long long)s->oom_cgroup_total);
		if (!s->oomkill)
			snprintf(oom->reason, sizeof(oom->reason), "/dev/kmsg reports; BPF: %s", s->oomkill_reason);
		else if (s->kmsg_fd < 0)
			snprintf(oom->reason, sizeof(oom->reason), "classified by the BPF limit check only: %s",
				 s->kmsg_reason);
	} else {
		signal_sample_set_unobserved(oom, "kmsg", "%s, and BPF is unavailable: %s", s->kmsg_reason,
					     s->oomkill_reason);
	}
	s->oom_system_tick = 0;
	s->oom_cgroup_tick = 0;

	if (!s->kubelet_expected) {
		signal_sample_set_unobserved(kubelet, "http", "no kubelet expected on this host");
		return;
	}
	if (!s->probe) {
		signal_sample_set_unobserved(kubelet, "http", "the probe runs only inside the agent's event loop");
		return;
	}
	if (s->probe_error[0])
		signal_sample_set_unobserved(kubelet, "http", "%s", s->probe_error);
	else if (!s->probe_has_result)
		signal_sample_set_unobserved(kubelet, "http", "first probe of %s in progress",
					     s->cfg->kubelet_healthz_url);
	else {
		signal_sample_set(kubelet, "http", s->probe_healthy);
		snprintf(kubelet->detail, sizeof(kubelet->detail), "%s: %s; exit watch: %s",
			 s->cfg->kubelet_healthz_url, s->probe_detail, s->kubelet ? "bpf" : s->kubelet_reason);
	}
	start_probe(s);
}

void sampler_kernel_free(struct sampler *s)
{
	loop_remove(s->oomkill_source);
	loop_remove(s->kubelet_source);
	loop_remove(s->kmsg_source);
	loop_remove(s->oom_timer);
	kubelet_probe_free(s->probe);
	bpf_oomkill_free(s->oomkill);
	bpf_kubelet_free(s->kubelet);
	if (s->kmsg_fd >= 0)
		close(s->kmsg_fd);
}
