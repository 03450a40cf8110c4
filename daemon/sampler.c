/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/bpf_loader.h"
#include "daemon/bpf_memstall.h"
#include "daemon/bpf_pid.h"
#include "daemon/fs_usage.h"
#include "daemon/log.h"
#include "daemon/netlink_route.h"
#include "daemon/procfs.h"
#include "daemon/sampler.h"

/* How often, in ticks, to look again for a kubelet process. */
#define KUBELET_SCAN_TICKS 30

struct sampler {
	const struct nodecond_config *cfg;
	struct sampler_options opts;

	char memcg_v1_root[PATH_MAX];     /* "" when memory is not on cgroup v1 */

	struct bpf_memstall *memstall;
	char memstall_reason[SIGNAL_REASON_MAX];
	bool have_stall_prev;
	uint64_t stall_prev;              /* ns (BPF) or us (PSI) */
	uint64_t stall_prev_time_ns;

	struct bpf_pid *pid;
	char pid_reason[SIGNAL_REASON_MAX];

	bool kubelet_expected;
	unsigned ticks_since_kubelet_scan;
	bool kubelet_scanned;
};

static char read_buffer[128 * 1024];

/* Finds the mount point of the cgroup v1 hierarchy that has the memory controller. */
static void find_memcg_v1_root(char *buf, size_t len)
{
	const char *line;

	buf[0] = '\0';
	if (procfs_read_file("/proc/self/mountinfo", read_buffer, sizeof(read_buffer)) < 0)
		return;
	for (line = read_buffer; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char mount_point[PATH_MAX], fstype[32], options[512];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mount_point) != 1)
			continue;
		if (sscanf(sep + 3, "%31s %*s %511s", fstype, options) != 2)
			continue;
		if (strcmp(fstype, "cgroup") != 0)
			continue;
		for (char *opt = strtok(options, ","); opt; opt = strtok(NULL, ",")) {
			if (strcmp(opt, "memory") == 0) {
				snprintf(buf, len, "%s", mount_point);
				return;
			}
		}
	}
}

int sampler_new(struct sampler **ret, const struct nodecond_config *cfg, const struct sampler_options *opts)
{
	struct sampler *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->opts = *opts;

	find_memcg_v1_root(s->memcg_v1_root, sizeof(s->memcg_v1_root));
	if (s->memcg_v1_root[0])
		log_info("memory: cgroup v1 memory controller at %s; memory.available from its root",
			 s->memcg_v1_root);
	else
		log_info("memory: no cgroup v1 memory controller; memory.available from /proc/meminfo");

	if (opts->disable_bpf) {
		snprintf(s->memstall_reason, sizeof(s->memstall_reason), "BPF disabled by --no-bpf");
		snprintf(s->pid_reason, sizeof(s->pid_reason), "BPF disabled by --no-bpf");
		log_info("bpf: disabled by --no-bpf; every signal uses its fallback");
	} else {
		bpf_loader_init();
		r = bpf_memstall_open(&s->memstall, s->memstall_reason, sizeof(s->memstall_reason));
		if (r < 0)
			log_warning("bpf: memstall: disabled: %s; memory.stall falls back to PSI", s->memstall_reason);
		else
			log_info("bpf: memstall: loaded and attached");
		r = bpf_pid_open(&s->pid, s->pid_reason, sizeof(s->pid_reason));
		if (r < 0)
			log_warning("bpf: pid: disabled: %s; pid.available falls back to /proc/loadavg without "
				    "the in-window minimum", s->pid_reason);
		else
			log_info("bpf: pid: loaded and attached");
	}

	*ret = s;
	return 0;
}

void sampler_reconfigure(struct sampler *s, const struct nodecond_config *cfg)
{
	s->cfg = cfg;
	s->kubelet_scanned = false;
}

static void sample_memory_available(struct sampler *s, struct signal_sample *out)
{
	struct meminfo mi;
	int64_t working_set;
	int r;

	if (procfs_read_file("/proc/meminfo", read_buffer, sizeof(read_buffer)) < 0 ||
	    procfs_parse_meminfo(read_buffer, &mi) < 0) {
		signal_sample_set_unobserved(out, "meminfo", "cannot read MemTotal from /proc/meminfo");
		return;
	}

	/*
	 * As kubelet: available = capacity - working set, where the working set
	 * is usage minus inactive file pages. On cgroup v1 the usage is the root
	 * memory cgroup's; the cgroup v2 root has no memory.current, so usage
	 * there is MemTotal - MemFree from /proc/meminfo.
	 */
	if (s->memcg_v1_root[0]) {
		char path[PATH_MAX + 32];
		int64_t usage, inactive_file;

		snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", s->memcg_v1_root);
		r = procfs_read_int64(path, &usage);
		if (r == 0) {
			snprintf(path, sizeof(path), "%s/memory.stat", s->memcg_v1_root);
			r = procfs_read_file(path, read_buffer, sizeof(read_buffer)) < 0 ? -EIO :
				procfs_parse_keyed_int64(read_buffer, "total_inactive_file", &inactive_file);
		}
		if (r == 0) {
			working_set = usage - inactive_file;
			if (working_set < 0)
				working_set = 0;
			signal_sample_set(out, "cgroupv1", mi.mem_total - working_set);
			out->has_capacity = true;
			out->capacity = mi.mem_total;
			snprintf(out->detail, sizeof(out->detail), "root memory cgroup at %s", s->memcg_v1_root);
			return;
		}
	}

	if (mi.has_mem_free && mi.has_inactive_file) {
		working_set = mi.mem_total - mi.mem_free - mi.inactive_file;
		if (working_set < 0)
			working_set = 0;
		signal_sample_set(out, "meminfo", mi.mem_total - working_set);
	} else if (mi.has_mem_available) {
		signal_sample_set(out, "memavailable", mi.mem_available);
	} else {
		signal_sample_set_unobserved(out, "meminfo", "/proc/meminfo has neither Inactive(file) nor MemAvailable");
		return;
	}
	out->has_capacity = true;
	out->capacity = mi.mem_total;
}

/* Converts a stalled time over an elapsed time to thousandths of a percent. */
static int64_t stall_share(uint64_t stalled, uint64_t elapsed)
{
	if (elapsed == 0)
		return 0;
	if (stalled > elapsed)
		stalled = elapsed;
	return (int64_t)((unsigned __int128)stalled * 100000 / elapsed);
}

static void sample_memory_stall(struct sampler *s, uint64_t now_ns, struct signal_sample *out)
{
	uint64_t total, elapsed;
	const char *source;
	int r;

	if (s->memstall) {
		r = bpf_memstall_read(s->memstall, &total);
		source = "bpf";
	} else {
		if (procfs_read_file("/proc/pressure/memory", read_buffer, sizeof(read_buffer)) < 0) {
			signal_sample_set_unobserved(out, "psi",
						     "/proc/pressure/memory is missing (kernel without PSI, or booted "
						     "with psi=0), and BPF is unavailable: %s", s->memstall_reason);
			return;
		}
		r = procfs_parse_psi_some_total(read_buffer, &total);
		if (r == 0)
			total *= 1000; /* microseconds to nanoseconds */
		source = "psi";
	}
	if (r < 0) {
		signal_sample_set_unobserved(out, source, "cannot read the stall total: %s", strerror(-r));
		s->have_stall_prev = false;
		return;
	}

	if (!s->have_stall_prev) {
		s->have_stall_prev = true;
		s->stall_prev = total;
		s->stall_prev_time_ns = now_ns;
		signal_sample_set_unobserved(out, source, "first sample: stall is measured between two ticks");
		return;
	}
	elapsed = now_ns - s->stall_prev_time_ns;
	if (total < s->stall_prev) {
		signal_sample_set_unobserved(out, source, "stall total went backwards (%llu < %llu)",
					     (unsigned long long)total, (unsigned long long)s->stall_prev);
	} else {
		signal_sample_set(out, source, stall_share(total - s->stall_prev, elapsed));
	}
	s->stall_prev = total;
	s->stall_prev_time_ns = now_ns;
}

static void sample_pid_available(struct sampler *s, struct signal_sample *out)
{
	int64_t pid_max, threads_max, limit, tasks;
	bool has_pid_max, has_threads_max;

	has_pid_max = procfs_read_int64("/proc/sys/kernel/pid_max", &pid_max) == 0 && pid_max > 0;
	has_threads_max = procfs_read_int64("/proc/sys/kernel/threads-max", &threads_max) == 0 && threads_max > 0;
	if (!has_pid_max && !has_threads_max) {
		signal_sample_set_unobserved(out, "procfs",
					     "neither /proc/sys/kernel/pid_max nor threads-max can be read");
		return;
	}
	if (has_pid_max && has_threads_max)
		limit = pid_max < threads_max ? pid_max : threads_max;
	else
		limit = has_pid_max ? pid_max : threads_max;

	if (procfs_read_file("/proc/loadavg", read_buffer, sizeof(read_buffer)) < 0 ||
	    procfs_parse_loadavg_tasks(read_buffer, &tasks) < 0) {
		signal_sample_set_unobserved(out, "procfs", "cannot read the task count from /proc/loadavg");
		return;
	}

	signal_sample_set(out, s->pid ? "bpf" : "procfs", limit - tasks);
	out->has_capacity = true;
	out->capacity = limit;

	if (s->pid) {
		struct bpf_pid_window w;

		if (bpf_pid_read_window(s->pid, &w) == 0) {
			/*
			 * BPF counts tasks relative to when it attached; the task
			 * count read now anchors that count, so the peak inside the
			 * window becomes an absolute number of tasks.
			 */
			int64_t offset = tasks - w.current_delta;
			int64_t peak = offset + w.peak_delta;

			if (peak < tasks)
				peak = tasks;
			out->has_window_min = true;
			out->window_min = peak < limit ? limit - peak : 0;
			snprintf(out->detail, sizeof(out->detail), "%lld forks and %lld exits in the window",
				 (long long)w.forks, (long long)w.exits);
		}
	}
}

static void sample_fs(const char *configured, enum signal_id bytes_id, enum signal_id inodes_id,
		      struct signal_sample *samples)
{
	struct signal_sample *bytes = &samples[bytes_id], *inodes = &samples[inodes_id];
	struct fs_usage u;
	char detail[SIGNAL_REASON_MAX];
	int r;

	if (configured[0] == '\0') {
		signal_sample_set_unobserved(bytes, "statvfs", "no path configured");
		signal_sample_set_unobserved(inodes, "statvfs", "no path configured");
		return;
	}
	r = fs_usage_measure(configured, &u);
	if (r < 0) {
		signal_sample_set_unobserved(bytes, "statvfs", "cannot measure %s: %s", configured, strerror(-r));
		signal_sample_set_unobserved(inodes, "statvfs", "cannot measure %s: %s", configured, strerror(-r));
		return;
	}

	if (strcmp(u.measured_path, configured) == 0)
		snprintf(detail, sizeof(detail), "%s on mount %s", configured, u.mount_point);
	else
		snprintf(detail, sizeof(detail), "%.60s does not exist; measured %.40s on mount %.40s", configured,
			 u.measured_path, u.mount_point);

	signal_sample_set(bytes, "statvfs", u.bytes_available);
	bytes->has_capacity = true;
	bytes->capacity = u.bytes_capacity;
	snprintf(bytes->detail, sizeof(bytes->detail), "%s", detail);

	signal_sample_set(inodes, "statvfs", u.inodes_free);
	inodes->has_capacity = true;
	inodes->capacity = u.inodes_capacity;
	snprintf(inodes->detail, sizeof(inodes->detail), "%s", detail);
}

static void sample_routes(struct signal_sample *samples)
{
	struct signal_sample *links = &samples[SIGNAL_NET_ROUTE_LINKS];
	struct signal_sample *route = &samples[SIGNAL_NET_DEFAULT_ROUTE];
	struct route_state st;
	int r;

	r = netlink_route_read(&st);
	if (r < 0) {
		signal_sample_set_unobserved(links, "rtnetlink", "route dump failed: %s", strerror(-r));
		signal_sample_set_unobserved(route, "rtnetlink", "route dump failed: %s", strerror(-r));
		return;
	}
	signal_sample_set(route, "rtnetlink", st.has_default_route ? 1 : 0);
	signal_sample_set(links, "rtnetlink", st.n_route_links);
	snprintf(links->detail, sizeof(links->detail), "%d of %d links with a default route are up with carrier",
		 st.n_route_links, st.n_default_links);
}

static bool process_has_executable(const char *executable)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	bool found = false;

	if (!proc)
		return false;
	while (!found && (de = readdir(proc))) {
		char link[64], target[PATH_MAX];
		ssize_t n;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%.20s/exe", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = strcmp(target, executable) == 0;
	}
	closedir(proc);
	return found;
}

/*
 * A kubelet is expected when an API server is configured, a process runs
 * the configured kubelet executable, or kubelet's own sockets exist. The
 * executable path, not the command name, identifies it: any pod can name
 * its process "kubelet".
 */
static void update_kubelet_expected(struct sampler *s)
{
	static const char *const kubelet_sockets[] = {
		"/var/lib/kubelet/pod-resources/kubelet.sock",
		"/var/lib/kubelet/device-plugins/kubelet.sock",
	};
	bool expected = s->opts.api_server_configured;

	if (s->kubelet_scanned && ++s->ticks_since_kubelet_scan < KUBELET_SCAN_TICKS)
		return;
	s->kubelet_scanned = true;
	s->ticks_since_kubelet_scan = 0;

	for (size_t i = 0; !expected && i < sizeof(kubelet_sockets) / sizeof(kubelet_sockets[0]); i++)
		expected = access(kubelet_sockets[i], F_OK) == 0;
	if (!expected && s->cfg->kubelet_executable[0])
		expected = process_has_executable(s->cfg->kubelet_executable);

	if (expected != s->kubelet_expected)
		log_info("kubelet: %s", expected ? "expected on this host; kubelet.healthy and runtime.healthy "
				"decide the Ready kind" : "not expected on this host; the Ready kind reports NoKubeletExpected");
	s->kubelet_expected = expected;
}

static void sample_runtime(struct sampler *s, struct signal_sample *out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, r;

	if (!s->kubelet_expected) {
		signal_sample_set_unobserved(out, "connect", "no kubelet expected on this host");
		return;
	}
	if (strlen(s->cfg->runtime_socket) >= sizeof(addr.sun_path)) {
		signal_sample_set_unobserved(out, "connect", "runtime socket path is too long");
		return;
	}
	strcpy(addr.sun_path, s->cfg->runtime_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		signal_sample_set_unobserved(out, "connect", "socket: %s", strerror(errno));
		return;
	}
	r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	/* A Unix socket connect completes at once or fails at once; EAGAIN means a full backlog. */
	signal_sample_set(out, "connect", r == 0 || errno == EAGAIN ? 1 : 0);
	if (r < 0 && errno != EAGAIN)
		snprintf(out->detail, sizeof(out->detail), "connect %s: %s", s->cfg->runtime_socket, strerror(errno));
	close(fd);
}

void sampler_collect(struct sampler *s, uint64_t now_ns, struct signal_sample *out)
{
	for (int i = 0; i < _SIGNAL_MAX; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = (enum signal_id)i;
	}

	update_kubelet_expected(s);

	sample_memory_available(s, &out[SIGNAL_MEMORY_AVAILABLE]);
	sample_memory_stall(s, now_ns, &out[SIGNAL_MEMORY_STALL]);
	sample_pid_available(s, &out[SIGNAL_PID_AVAILABLE]);
	sample_fs(s->cfg->nodefs_path, SIGNAL_NODEFS_AVAILABLE, SIGNAL_NODEFS_INODES_FREE, out);
	sample_fs(s->cfg->imagefs_path, SIGNAL_IMAGEFS_AVAILABLE, SIGNAL_IMAGEFS_INODES_FREE, out);
	sample_routes(out);
	sample_runtime(s, &out[SIGNAL_RUNTIME_HEALTHY]);

	/* TODO: these sources are not built yet; until then they report no observation. */
	signal_sample_set_unobserved(&out[SIGNAL_MEMORY_OOM_KILLS], "none", "OOM kill counting is not built yet");
	signal_sample_set_unobserved(&out[SIGNAL_DISK_LATENCY], "none", "disk latency sampling is not built yet");
	signal_sample_set_unobserved(&out[SIGNAL_DISK_ERRORS], "none", "disk error counting is not built yet");
	signal_sample_set_unobserved(&out[SIGNAL_NET_DROPS], "none", "drop counting is not built yet");
	signal_sample_set_unobserved(&out[SIGNAL_NET_RETRANSMITS], "none", "retransmit counting is not built yet");
	if (s->kubelet_expected)
		signal_sample_set_unobserved(&out[SIGNAL_KUBELET_HEALTHY], "http",
					     "the kubelet healthz probe is not built yet");
	else
		signal_sample_set_unobserved(&out[SIGNAL_KUBELET_HEALTHY], "http", "no kubelet expected on this host");
	if (s->opts.api_server_configured)
		signal_sample_set_unobserved(&out[SIGNAL_APISERVER_REACHABLE], "client",
					     "the API client is not built yet");
	else
		signal_sample_set_unobserved(&out[SIGNAL_APISERVER_REACHABLE], "client",
					     "local mode: no API server configured");
}

bool sampler_kubelet_expected(const struct sampler *s)
{
	return s->kubelet_expected;
}

int sampler_programs(const struct sampler *s, struct sampler_program *out, int max)
{
	int n = 0;

	if (n < max) {
		out[n].name = "memstall";
		out[n].loaded = s->memstall != NULL;
		snprintf(out[n].reason, sizeof(out[n].reason), "%s", s->memstall ? "" : s->memstall_reason);
		n++;
	}
	if (n < max) {
		out[n].name = "pid";
		out[n].loaded = s->pid != NULL;
		snprintf(out[n].reason, sizeof(out[n].reason), "%s", s->pid ? "" : s->pid_reason);
		n++;
	}
	return n;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	bpf_memstall_free(s->memstall);
	bpf_pid_free(s->pid);
	free(s);
}
