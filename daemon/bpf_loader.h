/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loader helpers shared by the BPF samplers: libbpf's messages routed to the
 * daemon log, a check that BPF can be used at all, and probes of the running
 * kernel's BTF and verifier.
 */
#ifndef NODECOND_DAEMON_BPF_LOADER_H
#define NODECOND_DAEMON_BPF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;
struct bpf_object;
struct bpf_object_skeleton;
struct bpf_program;

/* Routes libbpf's messages to log_debug(). Call once before any sampler opens. */
void bpf_loader_init(void);

/*
 * Checks that kernel BTF is present and that this process may load tracing
 * programs. Returns 0, or a negative errno with a one-line reason in
 * reason (for example -EPERM, "not permitted to load BPF programs: ...").
 */
int bpf_loader_check(char *reason, size_t reason_len);

/* Tells whether the kernel has the tracepoint name (btf_trace_<name> in BTF). */
bool bpf_loader_tracepoint_exists(const struct btf *vmlinux, const char *name);

/*
 * Tells whether argument arg_index (0 is the first argument after the
 * context) of tracepoint name is a pointer to struct struct_name.
 */
bool bpf_loader_tracepoint_arg_is_struct(const struct btf *vmlinux, const char *name,
					 unsigned arg_index, const char *struct_name);

/*
 * Tells whether the verifier accepts BPF_FETCH atomics (Linux 5.12), which
 * return the old value of an atomic add. The result is probed once.
 */
bool bpf_loader_has_atomic_fetch(void);

/*
 * Makes bpf_loader_has_atomic_fetch() return false when disable is true, so
 * tests can run the programs meant for kernels before 5.12 on a newer one.
 * Affects samplers opened afterwards.
 */
void bpf_loader_disable_atomic_fetch(bool disable);

/*
 * Starts recording the first warning libbpf prints, so a failed load can
 * report the verifier's or libbpf's own reason.
 */
void bpf_loader_capture_start(void);

/* Returns the first warning since bpf_loader_capture_start(), or "". */
const char *bpf_loader_captured_warning(void);

/*
 * Chooses the programs (bpf_program__set_autoload()), read-only settings
 * and map sizes of an opened skeleton for the running kernel. Returns 0, or
 * a negative errno with a one-line reason when the sampler cannot work at
 * all.
 */
typedef int (*bpf_loader_configure_fn)(void *userdata, const struct btf *vmlinux, char *reason,
				       size_t reason_len);

/*
 * Loads and attaches a skeleton that the caller opened with its
 * NAME_bpf__open(): checks that BPF can be used, calls configure with the
 * kernel BTF, loads and attaches. Returns 0, or a negative errno with a
 * one-line reason; the caller then destroys the skeleton. skel_open_failed
 * is true when NAME_bpf__open() returned NULL (errno is read).
 */
int bpf_loader_load_skeleton(struct bpf_object_skeleton *skeleton, bool skel_open_failed,
			     bpf_loader_configure_fn configure, void *userdata, char *reason,
			     size_t reason_len);

/*
 * Turns autoload off for prog when the kernel lacks tracepoint, with an info
 * line naming the sampler and what is lost. Returns whether it will load.
 */
bool bpf_loader_autoload_tracepoint(struct bpf_program *prog, const struct btf *vmlinux,
				    const char *sampler, const char *tracepoint, const char *loss);

/* Drops an object from the statistics list; call it before destroying the skeleton. */
void bpf_loader_forget(struct bpf_object *obj);

/* Receives one loaded program's kernel counters (zero while run statistics are off). */
typedef void (*bpf_loader_program_fn)(const char *object, const char *program, uint64_t run_count,
				      uint64_t run_time_ns, void *userdata);

/* Calls fn for every program of every loaded object; returns how many. */
int bpf_loader_foreach_program(bpf_loader_program_fn fn, void *userdata);

/*
 * Turns on the kernel's BPF run-time statistics (BPF_ENABLE_STATS, which
 * needs CAP_SYS_ADMIN) for as long as the agent runs. They cost every BPF
 * program on the node two clock reads per run. Returns 0 or -errno.
 */
int bpf_loader_enable_run_stats(void);

/* Whether run counts and times are kept: enabled here, or by kernel.bpf_stats_enabled. */
bool bpf_loader_run_stats_available(void);

#endif
