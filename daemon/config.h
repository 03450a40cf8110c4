/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration: defaults, the YAML file (apiVersion
 * nodecond.io/v1alpha1, kind NodecondConfiguration) and flag overrides.
 */
#ifndef NODECOND_DAEMON_CONFIG_H
#define NODECOND_DAEMON_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conditions/engine.h"
#include "taints/profile.h"

#define CONFIG_API_VERSION "nodecond.io/v1alpha1"
#define CONFIG_KIND "NodecondConfiguration"
#define CONFIG_ERROR_MAX 512
#define CONFIG_TAINTS_MAX 4
#define CONFIG_NAME_MAX 254          /* a DNS subdomain, as Node names are */
#define CONFIG_SOCKET_PATH_MAX 108   /* sizeof(sockaddr_un.sun_path) */
/* Bounds of record.maxSize and record.maxFiles. */
#define CONFIG_RECORD_MIN_SIZE 4096
#define CONFIG_RECORD_MIN_FILES 2
#define CONFIG_RECORD_MAX_FILES 100

enum taints_writer {
	TAINTS_WRITER_CONTROLLER,
	TAINTS_WRITER_AGENT,
};

/* One taint as written under conditions.KIND.taints, before profile mapping. */
struct config_taint {
	char key[317];       /* prefix (253) + '/' + name (63) */
	char value[64];
	char effect[32];     /* NoSchedule, PreferNoSchedule or NoExecute */
};

struct config_condition_taints {
	bool set;            /* the file listed taints for this kind */
	struct config_taint taints[CONFIG_TAINTS_MAX];
	size_t n_taints;
};

struct nodecond_config {
	char node_name[CONFIG_NAME_MAX];
	char socket_path[CONFIG_SOCKET_PATH_MAX];
	char socket_group[64];
	int64_t sample_interval_ms;
	char state_file[PATH_MAX];
	char nodefs_path[PATH_MAX];
	char imagefs_path[PATH_MAX];
	char kubelet_healthz_url[512];
	char kubelet_executable[PATH_MAX];
	char runtime_socket[PATH_MAX];
	char kubeconfig[PATH_MAX];
	int64_t heartbeat_period_ms;
	int64_t lease_duration_ms;
	int64_t min_resync_period_ms;
	enum taints_writer taints_writer;
	char profile[16];
	char log_level[16];
	char metrics_address[128];   /* "host:port" to serve /metrics over TCP too; "" is off */
	bool metrics_bpf_run_stats;  /* turn on the kernel's BPF run-time statistics */
	char record_path[PATH_MAX];  /* record every tick's samples here; "" is off */
	int64_t record_max_size;     /* bytes before the recording is rotated */
	unsigned record_max_files;   /* recording files kept, the current one included */
	struct engine_config engine;
	struct config_condition_taints condition_taints[_CONDITION_KIND_MAX];
	bool condition_type_set[_CONDITION_KIND_MAX];   /* the file named the type */

	/*
	 * The profile with the file's overrides applied; config_build() fills
	 * it and copies its condition types into engine.rules.
	 */
	struct taint_profile taint_profile;
};

/* Overrides from the command line; NULL fields are not set. */
struct config_flags {
	const char *config_path;
	const char *socket_path;
	const char *node_name;
	const char *kubeconfig;
	const char *profile;
	const char *log_level;
	const char *record_path;
};

/* Returns whether name is a valid Node name: a lowercase RFC 1123 subdomain. */
bool config_node_name_valid(const char *name);

/* Fills cfg with the built-in defaults. The node name is left empty. */
void config_init_defaults(struct nodecond_config *cfg);

/*
 * Loads a YAML configuration file over the defaults already in cfg.
 * Returns 0, or a negative errno with err naming the field path, the value
 * and what was expected. cfg is left unchanged on error.
 */
int config_load_file(struct nodecond_config *cfg, const char *path, char *err, size_t err_len);

/* The same for YAML text in memory; name is used in messages. */
int config_load_string(struct nodecond_config *cfg, const char *text, size_t len,
		       const char *name, char *err, size_t err_len);

/*
 * Builds the whole configuration: defaults, the file named by flags (if
 * any), the flags, then the node name from NODE_NAME or the host name.
 */
int config_build(struct nodecond_config *cfg, const struct config_flags *flags, char *err, size_t err_len);

/*
 * Builds cfg->taint_profile from the profile name and the per-condition
 * type and taint overrides, and sets each rule's condition type from it.
 * Returns 0 or -EINVAL with err naming the field.
 */
int config_apply_profile(struct nodecond_config *cfg, char *err, size_t err_len);

/*
 * Resolves the node name: the configured one, then NODE_NAME, then the host
 * name in lower case, as kubelet registers it.
 */
int config_resolve_node_name(struct nodecond_config *cfg, char *err, size_t err_len);

#endif
