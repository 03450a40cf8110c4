/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/agent.h"
#include "daemon/bpf_loader.h"
#include "daemon/evaluate.h"
#include "daemon/kube_reconciler.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/record.h"
#include "daemon/sd_notify.h"
#include "daemon/server.h"
#include "daemon/state_file.h"
#include "daemon/version.h"

static struct log_ratelimit state_file_ratelimit = LOG_RATELIMIT_INIT(60 * 1000);
static struct log_ratelimit notify_ratelimit = LOG_RATELIMIT_INIT(60 * 1000);

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int64_t agent_now_ms(const struct agent *a)
{
	return a->wall_at_start_ms + (int64_t)((monotonic_ns() - a->mono_at_start_ns) / 1000000);
}

static void record_event(struct agent *a, int64_t now_ms, const struct condition_transition *t)
{
	unsigned slot;

	if (a->events_len == AGENT_EVENTS_MAX) {
		a->events_head = (a->events_head + 1) % AGENT_EVENTS_MAX;
		a->events_len--;
		a->events_dropped++;
	}
	slot = (a->events_head + a->events_len) % AGENT_EVENTS_MAX;
	a->events[slot].time_ms = now_ms;
	a->events[slot].transition = *t;
	a->events_len++;
	a->events_total++;
}

const struct agent_event *agent_event_get(const struct agent *a, uint64_t seq)
{
	uint64_t oldest = a->events_total - a->events_len;

	if (seq < oldest || seq >= a->events_total)
		return NULL;
	return &a->events[(a->events_head + (seq - oldest)) % AGENT_EVENTS_MAX];
}

static void save_state(struct agent *a)
{
	struct condition conditions[_CONDITION_KIND_MAX];
	size_t n = 0;
	int r;

	if (!a->cfg.state_file[0])
		return;
	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition *c = condition_engine_get(&a->engine, (enum condition_kind)k);

		if (c)
			conditions[n++] = *c;
	}
	/* Stopped before the first evaluation (in API mode, before the Node was
	 * read): the file keeps the transition times of the previous run. */
	if (n == 0)
		return;
	r = state_file_save(a->cfg.state_file, a->cfg.node_name, conditions, n);
	if (r < 0)
		log_ratelimited(&state_file_ratelimit, LOG_WARNING,
				"state: cannot write %s: %s; transition times will not survive a restart",
				a->cfg.state_file, strerror(-r));
}

static void load_state(struct agent *a)
{
	struct condition conditions[STATE_FILE_CONDITIONS_MAX];
	char err[256];
	int n;

	if (!a->cfg.state_file[0])
		return;
	err[0] = '\0';
	n = state_file_load(a->cfg.state_file, a->cfg.node_name, conditions, STATE_FILE_CONDITIONS_MAX, err,
			    sizeof(err));
	if (n < 0) {
		log_warning("state: ignoring %s: %s; conditions start fresh", a->cfg.state_file, err);
		return;
	}
	if (n == 0 && err[0])
		log_warning("state: ignoring %s: %s; conditions start fresh", a->cfg.state_file, err);
	if (n > 0) {
		condition_engine_adopt(&a->engine, conditions, (size_t)n);
		log_info("state: adopted %d conditions from %s", n, a->cfg.state_file);
	}
}

static bool all_kinds_evaluated(const struct agent *a)
{
	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition_rule *rule = &a->cfg.engine.rules[k];

		if (rule->enabled && rule->n_thresholds > 0 &&
		    !condition_engine_get(&a->engine, (enum condition_kind)k))
			return false;
	}
	return true;
}

static void format_taints(const struct taint *taints, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s%s%s:%s", i ? ", " : "", taints[i].key,
					 taints[i].value[0] ? "=" : "", taints[i].value,
					 taint_effect_name(taints[i].effect));
	if (n == 0)
		snprintf(buf, len, "none");
}

/* Logs the outcome of a taint plan that evaluate_plan_taints() applied to a->taints. */
static void log_taint_plan(const struct agent *a, const struct taint_plan_result *result, int r)
{
	char list[1024];

	if (r < 0) {
		log_error("taints: planning failed: %s", strerror(-r));
		return;
	}
	if (!result->changed)
		return;
	format_taints(a->taints, a->n_taints, list, sizeof(list));
	log_info("taints: %u added, %u removed; desired taints now: %s", result->added, result->removed, list);
}

/* Plans the taints that follow from the current conditions. */
static void plan_taints(struct agent *a, int64_t now_ms)
{
	struct evaluate_taints taints = { a->taints, a->n_taints, AGENT_TAINTS_MAX };
	struct taint_plan_result result;
	int r;

	r = evaluate_plan_taints(&a->engine, &a->cfg.taint_profile, now_ms, &taints, &result);
	a->n_taints = taints.n;
	log_taint_plan(a, &result, r);
}

/* Tells systemd the one-line summary when it changed. */
static void notify_status(struct agent *a)
{
	char state[512] = "STATUS=";
	size_t used = strlen(state);
	int r;

	for (int k = 0; k < _CONDITION_KIND_MAX; k++) {
		const struct condition *c = condition_engine_get(&a->engine, (enum condition_kind)k);

		if (c)
			used += (size_t)snprintf(state + used, sizeof(state) - used, "%s%s=%s", used > 7 ? " " : "",
						 c->type, condition_status_name(c->status));
		if (used >= sizeof(state))
			break;
	}
	if (strcmp(state, a->notified_status) == 0)
		return;
	r = sd_notify_send(state);
	if (r < 0)
		log_ratelimited(&notify_ratelimit, LOG_WARNING, "systemd: sending the status failed: %s", strerror(-r));
	snprintf(a->notified_status, sizeof(a->notified_status), "%s", state);
}

/*
 * In API mode the engine adopts the Node's own conditions before its first
 * evaluation, so lastTransitionTime survives a restart. Until the Node has
 * been read (at most KUBE_ADOPTION_WAIT_MS) conditions are not evaluated;
 * without a Node, the state file is adopted instead. Returns whether the
 * tick may evaluate.
 */
/*
 * Returns the first condition in conditions that kubelet wrote recently:
 * its reason starts with "Kubelet" (KubeletReady, KubeletHasSufficientMemory,
 * ...) and its heartbeat is within kubelet's longest report interval.
 */
static const struct condition *find_kubelet_condition(const struct condition *conditions, size_t n, int64_t now_ms)
{
	/* kubelet reports status at least every nodeStatusReportFrequency, 5m by default. */
	static const int64_t recent_ms = 10 * 60 * 1000;

	for (size_t i = 0; i < n; i++)
		if (strncmp(conditions[i].reason, "Kubelet", 7) == 0 &&
		    now_ms - conditions[i].last_heartbeat_ms < recent_ms)
			return &conditions[i];
	return NULL;
}

static bool kube_adopt(struct agent *a, int64_t now_ms)
{
	const struct condition *conditions;
	enum kube_adoption state;
	size_t n;

	if (a->kube_adopted)
		return true;
	state = kube_reconciler_adoption(a->kube, &conditions, &n);
	if (state == KUBE_ADOPTION_PENDING && now_ms - a->start_ms < KUBE_ADOPTION_WAIT_MS)
		return false;
	a->kube_adopted = true;
	if (state == KUBE_ADOPTION_FROM_NODE && strcmp(a->cfg.profile, "standard") == 0) {
		const struct condition *kubelet = find_kubelet_condition(conditions, n, now_ms);

		/* Two writers of Ready and the pressure types would overwrite each other every few seconds. */
		if (kubelet && !a->force_standard_profile) {
			log_error("profile: kubelet posts status for node %s (condition %s, reason %s): the standard "
				  "profile would fight it; use profile companion, or pass --force-standard-profile",
				  a->cfg.node_name, kubelet->type, kubelet->reason);
			loop_exit(a->loop, 2);
			return false;
		}
		if (kubelet)
			log_warning("profile: kubelet posts status for node %s (condition %s), and "
				    "--force-standard-profile makes nodecond write the same condition types",
				    a->cfg.node_name, kubelet->type);
	}
	if (state == KUBE_ADOPTION_FROM_NODE) {
		condition_engine_adopt(&a->engine, conditions, n);
		log_info("kube: adopted %zu conditions from node %s", n, a->cfg.node_name);
		return true;
	}
	log_info("kube: %s; adopting the state file instead",
		 state == KUBE_ADOPTION_NO_NODE ? "the node is not registered" : "the node could not be read in time");
	load_state(a);
	return true;
}

/* Gives the reconciler the tick's transitions (for Events) and the current conditions. */
static void kube_publish(struct agent *a, const struct condition_transition *transitions, size_t n, int64_t now_ms)
{
	const struct condition *current[_CONDITION_KIND_MAX];

	for (size_t i = 0; i < n; i++)
		kube_reconciler_transition(a->kube, &transitions[i], now_ms);
	for (int k = 0; k < _CONDITION_KIND_MAX; k++)
		current[k] = condition_engine_get(&a->engine, (enum condition_kind)k);
	kube_reconciler_update(a->kube, current);
}

static void kube_options(const struct agent *a, struct kube_reconciler_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->node_name = a->cfg.node_name;
	opts->heartbeat_period_ms = a->cfg.heartbeat_period_ms;
	opts->lease_duration_ms = a->cfg.lease_duration_ms;
	opts->min_resync_period_ms = a->cfg.min_resync_period_ms;
	opts->write_taints = a->cfg.taints_writer == TAINTS_WRITER_AGENT;
	opts->profile = &a->cfg.taint_profile;
}

static void tick(struct agent *a)
{
	struct evaluate_taints taints = { a->taints, a->n_taints, AGENT_TAINTS_MAX };
	struct evaluate_result result;
	struct readiness_context ready;
	int64_t now_ms = agent_now_ms(a);
	size_t n;

	sampler_collect(a->sampler, monotonic_ns(), a->samples);
	a->last_sample_ms = now_ms;
	a->ticks++;

	ready.kubelet_expected = sampler_kubelet_expected(a->sampler);
	ready.samplers_running = a->samples[SIGNAL_MEMORY_AVAILABLE].observed &&
				 a->samples[SIGNAL_PID_AVAILABLE].observed;
	if (a->kube) {
		signal_sample_set(&a->samples[SIGNAL_APISERVER_REACHABLE], "client",
				  kube_reconciler_reachable(a->kube) ? 1 : 0);
		if (!kube_adopt(a, now_ms))
			return;
	}

	recorder_record_tick(a->recorder, a, now_ms, &ready);
	evaluate_tick(&a->engine, &a->cfg.taint_profile, a->samples, &ready, now_ms, &taints, &result);
	a->n_taints = taints.n;
	n = result.n_transitions;
	for (size_t i = 0; i < n; i++) {
		const struct condition_transition *t = &result.transitions[i];

		record_event(a, now_ms, t);
		a->transitions_total[t->kind][t->to]++;
		log_info("condition %s (%s): %s -> %s, reason %s: %s", condition_kind_name(t->kind),
			 t->condition.type, condition_status_name(t->from), condition_status_name(t->to),
			 t->condition.reason, t->condition.message);
	}
	if (n > 0)
		save_state(a);
	if (a->kube)
		kube_publish(a, result.transitions, n, now_ms);
	log_taint_plan(a, &result.plan, result.plan_error);
	server_notify_watchers(a->server);

	if (!a->all_evaluated && all_kinds_evaluated(a)) {
		a->all_evaluated = true;
		log_info("agent: every condition has had its first evaluation; ready");
		if (sd_notify_send("READY=1") < 0)
			log_warning("systemd: sending READY=1 to NOTIFY_SOCKET failed");
	}
	if (a->all_evaluated)
		notify_status(a);
}

/* Points the recorder at record.path; a file that cannot be opened is retried at every tick. */
static void configure_recorder(struct agent *a)
{
	struct recorder_options opts = {
		.path = a->cfg.record_path,
		.max_size = a->cfg.record_max_size,
		.max_files = a->cfg.record_max_files,
	};
	int r;

	r = recorder_configure(a->recorder, &opts);
	if (r < 0)
		log_warning("record: cannot open %s: %s; retrying at every tick", a->cfg.record_path, strerror(-r));
	else if (a->cfg.record_path[0])
		log_info("record: appending every tick to %s (rotated at %lld bytes, %u files kept)",
			 a->cfg.record_path, (long long)a->cfg.record_max_size, a->cfg.record_max_files);
}

static int arm_tick_timer(struct agent *a)
{
	return loop_timer_set(a->tick_source, a->cfg.sample_interval_ms, a->cfg.sample_interval_ms);
}

static void reload(struct agent *a)
{
	struct nodecond_config *next;
	char err[CONFIG_ERROR_MAX];
	size_t kept;
	int r;

	next = malloc(sizeof(*next));
	if (!next)
		return;
	sd_notify_send("RELOADING=1");
	r = config_build(next, &a->flags, err, sizeof(err));
	if (r < 0) {
		log_error("reload: keeping the running configuration: %s", err);
		sd_notify_send("READY=1");
		free(next);
		return;
	}
	if (strcmp(next->socket_path, a->cfg.socket_path) != 0 || strcmp(next->node_name, a->cfg.node_name) != 0 ||
	    strcmp(next->state_file, a->cfg.state_file) != 0)
		log_warning("reload: changes to the socket path, node name and stateFile take effect at the next restart");
	snprintf(next->socket_path, sizeof(next->socket_path), "%s", a->cfg.socket_path);
	snprintf(next->node_name, sizeof(next->node_name), "%s", a->cfg.node_name);
	snprintf(next->state_file, sizeof(next->state_file), "%s", a->cfg.state_file);

	/* Taints the old profile owned and the new one does not are nobody's now: drop them. */
	kept = 0;
	for (size_t i = 0; i < a->n_taints; i++) {
		const char *key = a->taints[i].key;

		if (!taint_profile_owns_key(&a->cfg.taint_profile, key) || taint_profile_owns_key(&next->taint_profile, key))
			a->taints[kept++] = a->taints[i];
	}
	a->n_taints = kept;
	a->cfg = *next;
	free(next);
	log_set_max_level(log_level_from_name(a->cfg.log_level));
	condition_engine_reconfigure(&a->engine, &a->cfg.engine);
	if (a->kube) {
		struct kube_reconciler_options opts;

		kube_options(a, &opts);
		kube_reconciler_reconfigure(a->kube, &opts);
	}
	plan_taints(a, agent_now_ms(a));
	sampler_reconfigure(a->sampler, &a->cfg);
	configure_recorder(a);
	r = arm_tick_timer(a);
	if (r < 0)
		log_error("reload: cannot re-arm the tick timer: %s", strerror(-r));
	log_info("reload: configuration reloaded%s%s", a->flags.config_path ? " from " : "",
		 a->flags.config_path ? a->flags.config_path : "");
	sd_notify_send("READY=1");
}

static void on_watchdog(struct loop_source *source, void *userdata)
{
	int r = sd_notify_send("WATCHDOG=1");

	if (r < 0)
		log_ratelimited(&notify_ratelimit, LOG_WARNING, "systemd: sending WATCHDOG=1 failed: %s", strerror(-r));
}

static void on_tick(struct loop_source *source, void *userdata)
{
	tick(userdata);
}

/* An OOM kill or a kubelet exit: re-evaluate now instead of at the next tick. */
static void on_kernel_event(void *userdata)
{
	tick(userdata);
}

static void on_stop_poll(struct loop_source *source, void *userdata)
{
	struct agent *a = userdata;
	int64_t left_ms = ((int64_t)a->stop_deadline_ns - (int64_t)monotonic_ns()) / 1000000;
	char why[320] = "";

	switch (kube_reconciler_flush_status(a->kube, left_ms, why, sizeof(why))) {
	case KUBE_FLUSH_DONE:
		log_info("agent: the pending node status is written; stopping");
		break;
	case KUBE_FLUSH_PENDING:
		if (monotonic_ns() < a->stop_deadline_ns)
			return;
		log_warning("agent: a node status write was still pending %d ms after the stop signal; stopping "
			    "without it, and the Node keeps the conditions last written",
			    AGENT_STOP_FLUSH_MS);
		break;
	case KUBE_FLUSH_NO_NODE:
	case KUBE_FLUSH_REJECTED:
	case KUBE_FLUSH_DEFERRED:
		log_warning("agent: the pending node status was not written: %s; stopping", why);
		break;
	}
	loop_exit(a->loop, 0);
}

/*
 * Stops the agent on SIGTERM or SIGINT. A status write that is pending goes
 * out first, for at most AGENT_STOP_FLUSH_MS, so a transition seen just
 * before a restart or a drain still reaches the Node. A second signal stops
 * the agent at once.
 */
static void stop(struct agent *a, const char *signal_name)
{
	char why[320] = "";
	int r;

	if (a->stopping) {
		log_info("agent: second %s received; stopping without waiting for the node status write",
			 signal_name);
		loop_exit(a->loop, 0);
		return;
	}
	switch (a->kube ? kube_reconciler_flush_status(a->kube, AGENT_STOP_FLUSH_MS, why, sizeof(why))
			: KUBE_FLUSH_DONE) {
	case KUBE_FLUSH_DONE:
		log_info("agent: %s received; stopping", signal_name);
		loop_exit(a->loop, 0);
		return;
	case KUBE_FLUSH_NO_NODE:
	case KUBE_FLUSH_REJECTED:
	case KUBE_FLUSH_DEFERRED:
		log_info("agent: %s received; stopping, and the pending node status is not written: %s",
			 signal_name, why);
		loop_exit(a->loop, 0);
		return;
	case KUBE_FLUSH_PENDING:
		break;
	}
	sd_notify_send("STOPPING=1");
	a->stopping = true;
	a->stop_deadline_ns = monotonic_ns() + (uint64_t)AGENT_STOP_FLUSH_MS * 1000000;
	r = loop_add_timer(a->loop, AGENT_STOP_POLL_MS, AGENT_STOP_POLL_MS, on_stop_poll, a, &a->stop_timer);
	if (r < 0) {
		log_warning("agent: %s received; cannot wait for the pending node status write: %s; stopping",
			    signal_name, strerror(-r));
		loop_exit(a->loop, 0);
		return;
	}
	log_info("agent: %s received; writing the pending node status first (at most %d ms)", signal_name,
		 AGENT_STOP_FLUSH_MS);
}

static void on_signal(struct loop_source *source, int fd, uint32_t events, void *userdata)
{
	struct agent *a = userdata;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	switch (si.ssi_signo) {
	case SIGTERM:
	case SIGINT:
		stop(a, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGHUP:
		if (a->stopping) {
			log_info("agent: SIGHUP received while stopping; the configuration is not reloaded");
			break;
		}
		reload(a);
		break;
	default:
		log_info("agent: %s received from pid %u; ignoring it", strsignal((int)si.ssi_signo), si.ssi_pid);
		break;
	}
}

static void on_server(struct loop_source *source, int fd, uint32_t events, void *userdata)
{
	server_process(userdata);
}

/* libmicrohttpd has timeouts of its own: run it before each wait and sleep no longer than it allows. */
static int prepare_server(void *userdata)
{
	struct server *s = userdata;

	server_process(s);
	return server_timeout_ms(s);
}

static void usage_run(FILE *out)
{
	fprintf(out,
		"Usage: nodecond run [OPTIONS]\n"
		"\n"
		"Runs the agent in the foreground: samples signals, evaluates conditions and\n"
		"serves the Unix socket. Without an API server it runs in local mode.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE      configuration file (YAML, NodecondConfiguration)\n"
		"      --socket PATH      Unix socket path (default /run/nodecond/nodecond.sock)\n"
		"      --node-name NAME   node name (default: NODE_NAME, then the host name)\n"
		"      --kubeconfig FILE  kubeconfig for the API server (default: local mode)\n"
		"      --profile NAME     companion (default) or standard\n"
		"      --log-level LEVEL  error, warning, info (default) or debug\n"
		"      --no-bpf           do not load BPF programs; use the fallbacks\n"
		"      --force-standard-profile  run the standard profile even where kubelet posts\n"
		"                         the node's status (the two will overwrite each other)\n"
		"      --record FILE      append every tick's samples and every kernel event to FILE\n"
		"                         (NDJSON, rotated at record.maxSize; see docs/recording.md)\n"
		"  -h, --help             show this help\n");
}

static int parse_run_flags(struct agent *a, int argc, char **argv)
{
	enum { OPT_SOCKET = 256, OPT_NODE_NAME, OPT_KUBECONFIG, OPT_PROFILE, OPT_LOG_LEVEL, OPT_NO_BPF, OPT_RECORD,
	       OPT_FORCE_STANDARD };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "node-name", required_argument, NULL, OPT_NODE_NAME },
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "no-bpf", no_argument, NULL, OPT_NO_BPF },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "force-standard-profile", no_argument, NULL, OPT_FORCE_STANDARD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->flags.config_path = optarg;
			break;
		case OPT_SOCKET:
			a->flags.socket_path = optarg;
			break;
		case OPT_NODE_NAME:
			a->flags.node_name = optarg;
			break;
		case OPT_KUBECONFIG:
			a->flags.kubeconfig = optarg;
			break;
		case OPT_PROFILE:
			a->flags.profile = optarg;
			break;
		case OPT_LOG_LEVEL:
			a->flags.log_level = optarg;
			break;
		case OPT_NO_BPF:
			a->disable_bpf = true;
			break;
		case OPT_RECORD:
			a->flags.record_path = optarg;
			break;
		case OPT_FORCE_STANDARD:
			a->force_standard_profile = true;
			break;
		case 'h':
			usage_run(stdout);
			return 1;
		default:
			usage_run(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nodecond run: unexpected argument \"%s\"\n", argv[optind]);
		usage_run(stderr);
		return -EINVAL;
	}
	return 0;
}

/*
 * Blocks the signals that the loop reads from its signalfd, so one that
 * comes while the samplers load waits for the loop instead of killing the
 * agent before it saves its state and removes its socket.
 */
static int block_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	/* Their default action kills the process; a stray kill must not take the agent down. */
	sigaddset(mask, SIGUSR1);
	sigaddset(mask, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, mask, NULL) < 0)
		return -errno;
	/* A CLI client that disconnects mid-response must not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int setup_loop(struct agent *a, char *err, size_t err_len)
{
	uint64_t watchdog_usec = sd_notify_watchdog_usec();
	sigset_t mask;
	int r;

	r = block_signals(&mask);
	if (r < 0) {
		snprintf(err, err_len, "failed to block the stop and reload signals: %s", strerror(-r));
		return r;
	}
	a->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->signal_fd < 0) {
		snprintf(err, err_len, "failed to create the signal descriptor: %s", strerror(errno));
		return -errno;
	}

	r = loop_add_timer(a->loop, a->cfg.sample_interval_ms, a->cfg.sample_interval_ms, on_tick, a,
			   &a->tick_source);
	if (r == 0)
		r = loop_add_io(a->loop, a->signal_fd, EPOLLIN, on_signal, a, NULL);
	if (r == 0)
		r = loop_add_io(a->loop, server_fd(a->server), EPOLLIN, on_server, a->server, NULL);
	if (r == 0)
		r = loop_add_prepare(a->loop, prepare_server, a->server);
	if (r == 0 && a->metrics_server) {
		r = loop_add_io(a->loop, server_fd(a->metrics_server), EPOLLIN, on_server, a->metrics_server, NULL);
		if (r == 0)
			r = loop_add_prepare(a->loop, prepare_server, a->metrics_server);
	}
	if (r == 0 && watchdog_usec > 0) {
		/* Ping at half the interval, as systemd recommends, so one late tick does not kill the agent. */
		int64_t ms = (int64_t)(watchdog_usec / 2000);

		if (ms < 1)
			ms = 1;
		r = loop_add_timer(a->loop, ms, ms, on_watchdog, a, NULL);
		if (r == 0)
			log_info("systemd: watchdog enabled, pinging every %lldms", (long long)ms);
	}
	if (r < 0)
		snprintf(err, err_len, "failed to set up the event loop: %s", strerror(-r));
	return r;
}

int agent_main(int argc, char **argv)
{
	struct sampler_options sampler_opts = { 0 };
	struct kube_credentials creds = { 0 };
	bool api_mode;
	char err[CONFIG_ERROR_MAX];
	struct agent *a;
	struct timespec ts;
	sigset_t early_mask;
	int r, exit_code = 1;

	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	a->signal_fd = -1;

	r = parse_run_flags(a, argc, argv);
	if (r != 0) {
		free(a);
		return r > 0 ? 0 : 2;
	}

	log_open();
	r = block_signals(&early_mask);
	if (r < 0) {
		log_error("agent: failed to block the stop and reload signals: %s", strerror(-r));
		free(a);
		return 1;
	}
	r = config_build(&a->cfg, &a->flags, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "nodecond: %s\n", err);
		free(a);
		return 2;
	}
	log_set_max_level(log_level_from_name(a->cfg.log_level));
	r = kube_credentials_resolve(&creds, a->cfg.kubeconfig, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "nodecond: %s\n", err);
		free(a);
		return 2;
	}
	api_mode = r > 0;
	if (api_mode && creds.insecure_skip_tls_verify)
		log_warning("kube: %s sets insecure-skip-tls-verify: the API server's certificate is NOT verified; "
			    "set certificate-authority or certificate-authority-data instead", creds.source);

	clock_gettime(CLOCK_REALTIME, &ts);
	a->wall_at_start_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	a->mono_at_start_ns = monotonic_ns();
	a->start_ms = a->wall_at_start_ms;

	log_info("nodecond %s starting: node %s, %s mode, socket %s, sample interval %lldms", NODECOND_VERSION,
		 a->cfg.node_name, api_mode ? "cluster" : "local", a->cfg.socket_path,
		 (long long)a->cfg.sample_interval_ms);
	if (api_mode)
		log_info("kube: API server %s from %s; Lease %s/%s; taints written by the %s", creds.server, creds.source,
			 creds.lease_namespace, a->cfg.node_name,
			 a->cfg.taints_writer == TAINTS_WRITER_AGENT ? "agent" : "controller");

	condition_engine_init(&a->engine, &a->cfg.engine);
	r = recorder_new(&a->recorder);
	if (r < 0) {
		log_error("agent: cannot create the recorder: %s", strerror(-r));
		goto out;
	}
	configure_recorder(a);

	/* The socket first: a second agent on the same socket stops before loading BPF. */
	r = server_new(&a->server, a, a->cfg.socket_path, a->cfg.socket_group, err, sizeof(err));
	if (r < 0) {
		log_error("socket: %s", err[0] ? err : strerror(-r));
		goto out;
	}

	/* After the socket, so a second agent on the same socket reports the socket conflict first. */
	if (a->cfg.state_file[0]) {
		r = state_file_claim(a->cfg.state_file, err, sizeof(err));
		if (r < 0) {
			log_error("state: %s", err);
			exit_code = r == -EINVAL ? 2 : 1;
			goto out;
		}
	}
	/* In API mode the Node's conditions are adopted once it has been read (kube_adopt). */
	if (!api_mode)
		load_state(a);

	if (a->cfg.metrics_address[0]) {
		r = server_new_metrics(&a->metrics_server, a, a->cfg.metrics_address, err, sizeof(err));
		if (r < 0) {
			log_error("metrics: %s", err[0] ? err : strerror(-r));
			goto out;
		}
		log_info("metrics: serving /metrics on %s", a->cfg.metrics_address);
	}

	if (a->cfg.metrics_bpf_run_stats && !a->disable_bpf) {
		r = bpf_loader_enable_run_stats();
		if (r < 0)
			log_warning("metrics: BPF run statistics not enabled: %s; they need CAP_SYS_ADMIN, or "
				    "sysctl kernel.bpf_stats_enabled=1", strerror(-r));
		else
			log_info("metrics: BPF run statistics enabled for as long as the agent runs");
	}

	sampler_opts.disable_bpf = a->disable_bpf;
	sampler_opts.api_server_configured = api_mode;
	r = sampler_new(&a->sampler, &a->cfg, &sampler_opts);
	if (r < 0) {
		log_error("agent: cannot start the samplers: %s", strerror(-r));
		goto out;
	}
	/* Loading parsed the kernel's BTF several times; give the freed heap back to the system. */
	malloc_trim(0);

	r = loop_new(&a->loop);
	if (r < 0) {
		log_error("agent: failed to create the event loop: %s", strerror(-r));
		goto out;
	}
	r = setup_loop(a, err, sizeof(err));
	if (r < 0) {
		log_error("agent: %s", err);
		goto out;
	}
	r = sampler_attach_loop(a->sampler, a->loop, on_kernel_event, a);
	if (r < 0)
		log_warning("agent: kernel events will wait for the next tick and kubelet.healthy has no probe: %s",
			    strerror(-r));

	if (api_mode) {
		struct kube_reconciler_options opts;

		kube_options(a, &opts);
		r = kube_reconciler_new(&a->kube, a->loop, &creds, &opts);
		if (r < 0) {
			log_error("kube: cannot start the API client: %s", strerror(-r));
			goto out;
		}
	}

	log_info("socket: serving on %s", a->cfg.socket_path);
	tick(a);
	r = loop_run(a->loop);
	sd_notify_send("STOPPING=1");
	if (r < 0)
		log_error("agent: the event loop failed: %s", strerror(-r));
	else
		exit_code = r;
	save_state(a);

out:
	kube_reconciler_free(a->kube);
	kube_credentials_clear(&creds);
	server_free(a->metrics_server);
	server_free(a->server);
	recorder_free(a->recorder);
	sampler_free(a->sampler);
	loop_free(a->loop);
	if (a->signal_fd >= 0)
		close(a->signal_fd);
	log_info("agent: stopped");
	free(a);
	return exit_code;
}
