/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "daemon/bpf_loader.h"
#include "daemon/procfs.h"
#include "daemon/log.h"

#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"


/* The objects loaded through bpf_loader_load_skeleton(), for run-time statistics. */
#define LOADED_OBJECTS_MAX 16
static struct {
	struct bpf_object *obj;
	const char *name;
} loaded[LOADED_OBJECTS_MAX];
static size_t n_loaded;

/* Descriptor that keeps BPF_STATS_RUN_TIME on while it is open; -1 when not enabled here. */
static int stats_fd = -1;

static void register_object(struct bpf_object *obj, const char *name)
{
	if (n_loaded < LOADED_OBJECTS_MAX) {
		loaded[n_loaded].obj = obj;
		loaded[n_loaded].name = name;
		n_loaded++;
	}
}

static bool capturing;
static char captured[512];
static bool atomic_fetch_disabled;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[512];
	size_t len;

	vsnprintf(line, sizeof(line), fmt, args);
	len = strlen(line);
	while (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len == 0)
		return 0;

	if (capturing && level == LIBBPF_WARN && captured[0] == '\0')
		snprintf(captured, sizeof(captured), "%s", line);
	/* libbpf starts its own lines with "libbpf: ". */
	log_debug("%s", line);
	return 0;
}

void bpf_loader_init(void)
{
	libbpf_set_print(libbpf_print);
}

void bpf_loader_capture_start(void)
{
	capturing = true;
	captured[0] = '\0';
}

const char *bpf_loader_captured_warning(void)
{
	return captured;
}

/* Loads "r0 = 0; exit" as a raw tracepoint program: the same capabilities
 * (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) that every sampler needs. */
static int probe_tracing_permission(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL, "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int bpf_loader_check(char *reason, size_t reason_len)
{
	int r;

	if (access(VMLINUX_BTF_PATH, R_OK) < 0) {
		r = -errno;
		if (r == -ENOENT)
			snprintf(reason, reason_len,
				 "kernel BTF not found at %s: the kernel needs CONFIG_DEBUG_INFO_BTF=y",
				 VMLINUX_BTF_PATH);
		else
			snprintf(reason, reason_len, "cannot read kernel BTF at %s: %s",
				 VMLINUX_BTF_PATH, strerror(-r));
		return r;
	}

	r = probe_tracing_permission();
	if (r == -EPERM || r == -EACCES) {
		snprintf(reason, reason_len,
			 "not permitted to load BPF programs: run as root or grant CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN before Linux 5.8)");
		return r;
	}
	if (r < 0) {
		snprintf(reason, reason_len, "loading a test BPF program failed: %s", strerror(-r));
		return r;
	}
	return 0;
}

static const struct btf_type *resolve_type(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* Returns the function prototype behind the typedef btf_trace_<name>, or NULL. */
static const struct btf_type *tracepoint_proto(const struct btf *vmlinux, const char *name)
{
	const struct btf_type *t;
	char typedef_name[256];
	int id;

	if (!vmlinux)
		return NULL;
	snprintf(typedef_name, sizeof(typedef_name), "btf_trace_%s", name);
	id = btf__find_by_name_kind(vmlinux, typedef_name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;

	t = resolve_type(vmlinux, id);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = resolve_type(vmlinux, t->type);
	if (!t || !btf_is_func_proto(t))
		return NULL;
	return t;
}

bool bpf_loader_tracepoint_exists(const struct btf *vmlinux, const char *name)
{
	return tracepoint_proto(vmlinux, name) != NULL;
}

bool bpf_loader_tracepoint_arg_is_struct(const struct btf *vmlinux, const char *name,
					 unsigned arg_index, const char *struct_name)
{
	const struct btf_type *proto = tracepoint_proto(vmlinux, name);
	const struct btf_param *params;
	const struct btf_type *t;

	/* The first parameter of every btf_trace_ prototype is the void *
	 * context; the tracepoint's own arguments follow it. */
	if (!proto || arg_index + 1 >= btf_vlen(proto))
		return false;
	params = btf_params(proto);

	t = resolve_type(vmlinux, params[arg_index + 1].type);
	if (!t || !btf_is_ptr(t))
		return false;
	t = resolve_type(vmlinux, t->type);
	if (!t || !btf_is_struct(t))
		return false;
	return strcmp(btf__name_by_offset(vmlinux, t->name_off), struct_name) == 0;
}

/* Loads a program that does one 64-bit atomic fetch-and-add on the stack. */
static bool probe_atomic_fetch(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 0 },
		{ .code = BPF_STX | BPF_DW | BPF_MEM, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1,
		  .off = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 1 },
		{ .code = BPF_STX | BPF_DW | BPF_ATOMIC, .dst_reg = BPF_REG_10,
		  .src_reg = BPF_REG_2, .off = -8, .imm = BPF_ADD | BPF_FETCH },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool bpf_loader_has_atomic_fetch(void)
{
	static int result = -1;

	if (atomic_fetch_disabled)
		return false;
	if (result < 0)
		result = probe_atomic_fetch();
	return result;
}

void bpf_loader_disable_atomic_fetch(bool disable)
{
	atomic_fetch_disabled = disable;
}

int bpf_loader_load_skeleton(struct bpf_object_skeleton *skeleton, bool skel_open_failed,
			     bpf_loader_configure_fn configure, void *userdata, char *reason,
			     size_t reason_len)
{
	struct btf *vmlinux;
	int r;

	if (skel_open_failed) {
		r = errno ? -errno : -ENOMEM;
		snprintf(reason, reason_len, "opening the BPF object failed: %s", strerror(-r));
		return r;
	}
	r = bpf_loader_check(reason, reason_len);
	if (r < 0)
		return r;

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		r = -errno;
		snprintf(reason, reason_len, "loading kernel BTF failed: %s", strerror(-r));
		return r;
	}
	r = configure ? configure(userdata, vmlinux, reason, reason_len) : 0;
	btf__free(vmlinux);
	if (r < 0)
		return r;

	bpf_loader_capture_start();
	r = bpf_object__load_skeleton(skeleton);
	if (r < 0) {
		snprintf(reason, reason_len, "loading the BPF programs failed: %s: %s", strerror(-r),
			 bpf_loader_captured_warning());
		return r;
	}
	r = bpf_object__attach_skeleton(skeleton);
	if (r < 0) {
		snprintf(reason, reason_len, "attaching the BPF programs failed: %s: %s",
			 strerror(-r), bpf_loader_captured_warning());
		return r;
	}
	register_object(*skeleton->obj, skeleton->name);
	return 0;
}

void bpf_loader_forget(struct bpf_object *obj)
{
	for (size_t i = 0; i < n_loaded; i++) {
		if (loaded[i].obj != obj)
			continue;
		loaded[i] = loaded[--n_loaded];
		return;
	}
}

int bpf_loader_foreach_program(bpf_loader_program_fn fn, void *userdata)
{
	int n = 0;

	for (size_t i = 0; i < n_loaded; i++) {
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, loaded[i].obj) {
			struct bpf_prog_info info;
			__u32 len = sizeof(info);
			int fd = bpf_program__fd(prog);

			if (fd < 0)
				continue;
			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
				continue;
			fn(loaded[i].name, bpf_program__name(prog), info.run_cnt, info.run_time_ns, userdata);
			n++;
		}
	}
	return n;
}

int bpf_loader_enable_run_stats(void)
{
	if (stats_fd >= 0)
		return 0;
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	return stats_fd < 0 ? -errno : 0;
}

bool bpf_loader_run_stats_available(void)
{
	int64_t enabled = 0;

	return stats_fd >= 0 || (procfs_read_int64("/proc/sys/kernel/bpf_stats_enabled", &enabled) == 0 && enabled);
}

bool bpf_loader_autoload_tracepoint(struct bpf_program *prog, const struct btf *vmlinux,
				    const char *sampler, const char *tracepoint, const char *loss)
{
	bool found = bpf_loader_tracepoint_exists(vmlinux, tracepoint);

	bpf_program__set_autoload(prog, found);
	if (!found)
		log_info("bpf: %s: tracepoint %s not found; %s", sampler, tracepoint, loss);
	return found;
}
