/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sampler: one struct signal_sample per signal every tick, from the BPF
 * programs where they loaded and from the fallbacks otherwise.
 */
#ifndef NODECOND_DAEMON_SAMPLER_H
#define NODECOND_DAEMON_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "conditions/signal.h"
#include "daemon/config.h"

#define SAMPLER_PROGRAMS_MAX 16

/* The state of one BPF sampler object, for `nodecond version` and /v1/signals. */
struct sampler_program {
	const char *name;             /* "memstall", "pid" */
	bool loaded;
	char reason[SIGNAL_REASON_MAX];   /* why it is disabled, or "" */
};

struct sampler;

struct sampler_options {
	bool disable_bpf;             /* use the fallbacks only */
	bool api_server_configured;
};

/* Opens the samplers; BPF failures are logged and never fatal. */
int sampler_new(struct sampler **ret, const struct nodecond_config *cfg, const struct sampler_options *opts);

/* Points the sampler at a new configuration after a reload. */
void sampler_reconfigure(struct sampler *s, const struct nodecond_config *cfg);

/*
 * Takes one sample of every signal. out has _SIGNAL_MAX entries, indexed by
 * enum signal_id. now_ns is CLOCK_MONOTONIC.
 */
void sampler_collect(struct sampler *s, uint64_t now_ns, struct signal_sample *out);

/* Whether a kubelet is expected on this host, as last determined. */
bool sampler_kubelet_expected(const struct sampler *s);

/* Lists the BPF sampler objects and their state; returns how many. */
int sampler_programs(const struct sampler *s, struct sampler_program *out, int max);

void sampler_free(struct sampler *s);

#endif
