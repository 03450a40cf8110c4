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

struct btf;

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

#endif
