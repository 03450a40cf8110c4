/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sys/sysmacros.h>
#include <time.h>

#include "daemon/bpf_disk.h"
#include "daemon/bpf_kubelet.h"
#include "daemon/bpf_loader.h"
#include "daemon/bpf_memstall.h"
#include "daemon/bpf_net.h"
#include "daemon/bpf_pid.h"
#include "daemon/disk_hist.h"
#include "daemon/diskstats.h"
#include "daemon/fs_usage.h"
#include "daemon/log.h"
#include "daemon/netlink_route.h"
#include "daemon/netstat.h"
#include "daemon/procfs.h"
#include "daemon/sampler.h"
#include "daemon/sampler_internal.h"

/* Ticks between scans for a kubelet process and for the disks behind nodefs and imagefs. */
#define KUBELET_SCAN_TICKS 30
#define DISK_SCAN_TICKS 30

static char read_buffer[128 * 1024];

uint64_t sampler_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void find_cgroup_mounts(struct sampler *s)
{
	if (procfs_read_file("/proc/self/mountinfo", read_buffer, sizeof(read_buffer)) < 0)
		return;
	procfs_find_cgroup_mount(read_buffer, "memory", s->memcg_v1_root, sizeof(s->memcg_v1_root));
	procfs_find_cgroup_mount(read_buffer, NULL, s->cgroup2_root, sizeof(s->cgroup2_root));
	snprintf(s->memcg_root, sizeof(s->memcg_root), "%s", s->memcg_v1_root[0] ? s->memcg_v1_root : s->cgroup2_root);
}

/* Opens one BPF sampler, or logs why it is disabled and which fallback takes over. */
#define OPEN_SAMPLER(s, field, reason, name, fallback, open_call)                                     \
	do {                                                                                           \
		if ((s)->opts.disable_bpf) {                                                           \
			snprintf(reason, sizeof(reason), "BPF disabled by --no-bpf");                  \
		} else if ((open_call) < 0) {                                                         \
			log_warning("bpf: %s: disabled: %s; %s", name, reason, fallback);              \
		} else {                                                                               \
			log_info("bpf: %s: loaded and attached", name);                                \
		}                                                                                      \
	} while (0)

int sampler_new(struct sampler **ret, const struct nodecond_config *cfg, const struct sampler_options *opts)
{
	struct sampler *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->opts = *opts;
	if (!s->opts.proc_net_dir)
		s->opts.proc_net_dir = "/proc/net";
	if (!s->opts.disk_max_requests)
		s->opts.disk_max_requests = DISKLAT_MAX_REQUESTS;
	if (!s->opts.disk_warning_interval_ms)
		s->opts.disk_warning_interval_ms = 10 * 60 * 1000;
	s->disk_untimed_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(s->opts.disk_warning_interval_ms);
	s->kmsg_fd = -1;
	s->net_prev_reasons = calloc(NETMON_REASONS, sizeof(uint64_t));
	s->net_tick_reasons = calloc(NETMON_REASONS, sizeof(uint64_t));
	if (!s->net_prev_reasons || !s->net_tick_reasons) {
		sampler_free(s);
		return -ENOMEM;
	}

	find_cgroup_mounts(s);
	if (s->memcg_v1_root[0])
		log_info("memory: cgroup v1 memory controller at %s; memory.available from its root",
			 s->memcg_v1_root);
	else
		log_info("memory: no cgroup v1 memory controller; memory.available from /proc/meminfo");

	if (opts->disable_bpf)
		log_info("bpf: disabled by --no-bpf; every signal uses its fallback");
	else
		bpf_loader_init();
	OPEN_SAMPLER(s, memstall, s->memstall_reason, "memstall", "memory.stall falls back to PSI",
		     bpf_memstall_open(&s->memstall, s->memstall_reason, sizeof(s->memstall_reason)));
	OPEN_SAMPLER(s, pid, s->pid_reason, "pid",
		     "pid.available falls back to /proc/loadavg without the in-window minimum",
		     bpf_pid_open(&s->pid, s->pid_reason, sizeof(s->pid_reason)));
	OPEN_SAMPLER(s, disk, s->disk_reason, "disklat",
		     "disk.latency falls back to /proc/diskstats averages and disk.errors has no source",
		     bpf_disk_open_with_capacity(&s->disk, s->opts.disk_max_requests, s->disk_reason,
						 sizeof(s->disk_reason)));
	OPEN_SAMPLER(s, net, s->net_reason, "netmon",
		     "net.drops and net.retransmits fall back to /proc/net/snmp and /proc/net/dev",
		     bpf_net_open(&s->net, s->net_reason, sizeof(s->net_reason)));
	sampler_kernel_open(s);
	sampler_cgroups_open(s);

	*ret = s;
	return 0;
}

void sampler_reconfigure(struct sampler *s, const struct nodecond_config *cfg)
{
	s->cfg = cfg;
	s->kubelet_scanned = false;
	s->disk_devs_resolved = false;
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
		snprintf(detail, sizeof(detail), access(configured, F_OK) == 0 ? "%.60s (resolves to %.40s) on mount %.40s" :
			 "%.60s does not exist; measured %.40s on mount %.40s", configured,
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

/* Finds the processes running executable; each is passed to the kubelet exit watcher. */
static bool process_has_executable(struct sampler *s, const char *executable)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	bool found = false;

	if (!proc)
		return false;
	while ((de = readdir(proc))) {
		char link[64], target[PATH_MAX];
		ssize_t n;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%.20s/exe", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, executable) == 0) {
			found = true;
			sampler_kubelet_watch(s, (pid_t)atoi(de->d_name));
		}
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
	/* Scanned even when a kubelet socket exists, so the exit watcher learns every kubelet pid. */
	if (s->cfg->kubelet_executable[0] && process_has_executable(s, s->cfg->kubelet_executable))
		expected = true;
	if (s->kubelet)
		bpf_kubelet_set_executable(s->kubelet, s->cfg->kubelet_executable);

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

/* Finds the whole disks behind nodefs and imagefs and points the BPF program at them. */
static void resolve_disks(struct sampler *s)
{
	const char *paths[] = { s->cfg->nodefs_path, s->cfg->imagefs_path };
	dev_t devs[DISKLAT_MAX_DEVS];
	char names[DISKLAT_MAX_DEVS][32];
	int n = 0;

	if (s->disk_devs_resolved && ++s->ticks_since_disk_scan < DISK_SCAN_TICKS)
		return;
	s->disk_devs_resolved = true;
	s->ticks_since_disk_scan = 0;
	s->disk_devs_reason[0] = '\0';

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		dev_t found[DISKLAT_MAX_DEVS];
		char found_names[DISKLAT_MAX_DEVS][32];
		struct fs_usage u;
		int r;

		if (!paths[i][0])
			continue;
		/* A missing path is measured where it would be created, as for statvfs. */
		if (fs_usage_measure(paths[i], &u) < 0)
			continue;
		r = diskstats_disks_of_path(u.measured_path, found, found_names, DISKLAT_MAX_DEVS);
		if (r < 0) {
			snprintf(s->disk_devs_reason, sizeof(s->disk_devs_reason),
				 "cannot find the disks behind %s: %s", u.measured_path, strerror(-r));
			continue;
		}
		for (int j = 0; j < r; j++) {
			bool dup = false;

			for (int k = 0; k < n; k++)
				dup = dup || devs[k] == found[j];
			if (dup || n >= DISKLAT_MAX_DEVS)
				continue;
			devs[n] = found[j];
			snprintf(names[n], sizeof(names[n]), "%s", found_names[j]);
			n++;
		}
	}
	if (n == 0 && !s->disk_devs_reason[0])
		snprintf(s->disk_devs_reason, sizeof(s->disk_devs_reason),
			 "no block device behind %s or %s (tmpfs, overlay or a network filesystem)",
			 s->cfg->nodefs_path, s->cfg->imagefs_path);

	if (n == s->n_disk_devs && memcmp(devs, s->disk_devs, (size_t)n * sizeof(dev_t)) == 0)
		return;
	memcpy(s->disk_devs, devs, (size_t)n * sizeof(dev_t));
	memcpy(s->disk_names, names, sizeof(names));
	s->n_disk_devs = n;
	s->have_disk_prev = false;
	if (s->disk)
		bpf_disk_set_devices(s->disk, s->disk_devs, (size_t)n);
	for (int i = 0; i < n; i++)
		log_info("disk: watching %s (%u:%u) for disk.latency", names[i], major(devs[i]), minor(devs[i]));
}

/* Appends "name: text" to a detail string. */
static void detail_append(char *detail, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void detail_append(char *detail, size_t len, const char *fmt, ...)
{
	size_t used = strlen(detail);
	va_list args;

	if (used >= len - 1)
		return;
	if (used > 0)
		used += (size_t)snprintf(detail + used, len - used, "; ");
	if (used >= len - 1)
		return;
	va_start(args, fmt);
	vsnprintf(detail + used, len - used, fmt, args);
	va_end(args);
}

/*
 * Logs when a tick with untimed requests follows a tick without. The log's
 * rate limiter allows one line per disk_warning_interval_ms, because a disk
 * that fills its queue in bursts would otherwise log every few ticks.
 */
static void log_untimed_requests(struct sampler *s, uint64_t untimed, bool observed, uint64_t timed)
{
	char effect[128];

	if (untimed > 0 && !s->disk_untimed_prev) {
		if (!observed)
			snprintf(effect, sizeof(effect), "A disk had no timed request, so disk.latency is not observed "
				 "in this window.");
		else
			snprintf(effect, sizeof(effect), "disk.latency's p99 comes from the %llu timed requests and can "
				 "be lower than the real one.", (unsigned long long)timed);
		log_ratelimited(&s->disk_untimed_log, LOG_WARNING,
				"disk: %llu requests not timed in the window, because more than %u requests were "
				"in flight (the capacity of disklat's request map). %s Each window's count is in "
				"disk.latency's detail, the total in nodecond_bpf_disk_untimed_requests_total.",
				(unsigned long long)untimed, bpf_disk_capacity(s->disk), effect);
	}
	s->disk_untimed_prev = untimed > 0;
}

static void sample_disk_bpf(struct sampler *s, struct signal_sample *latency, struct signal_sample *errors)
{
	uint64_t worst_us = 0, failed = 0, completed = 0, untimed = 0;
	uint64_t errors_of[DISKLAT_MAX_DEVS] = {0}, untimed_of[DISKLAT_MAX_DEVS] = {0};
	bool have_window[DISKLAT_MAX_DEVS] = {false};
	int unmeasured = -1;
	struct bpf_disk_window w;

	for (int i = 0; i < s->n_disk_devs; i++) {
		if (bpf_disk_read_window(s->disk, (size_t)i, &w) < 0)
			continue;
		have_window[i] = true;
		s->disk_p50_us[i] = disk_hist_percentile_us(w.hist, DISKLAT_BUCKETS, 500);
		s->disk_p99_us[i] = disk_hist_percentile_us(w.hist, DISKLAT_BUCKETS, 990);
		s->disk_completions[i] = w.completions;
		errors_of[i] = w.errors;
		untimed_of[i] = w.lost;
		if (s->disk_p99_us[i] > worst_us)
			worst_us = s->disk_p99_us[i];
		failed += w.errors;
		completed += w.completions;
		untimed += w.lost;
		/* Busy, not idle: this disk's worst latency is unknown, so any value would mislead. */
		if (w.lost > 0 && w.completions == 0 && unmeasured < 0)
			unmeasured = i;
	}

	/* First, so the per-disk parts and not this one are cut when the detail is full. */
	if (untimed > 0)
		detail_append(latency->detail, sizeof(latency->detail),
			      "%llu requests not timed: more than %u requests were in flight",
			      (unsigned long long)untimed, bpf_disk_capacity(s->disk));
	for (int i = 0; i < s->n_disk_devs; i++) {
		if (!have_window[i])
			continue;
		if (untimed_of[i] > 0)
			detail_append(latency->detail, sizeof(latency->detail),
				      "%s p50 %.1fms p99 %.1fms (%llu requests, %llu not timed)", s->disk_names[i],
				      s->disk_p50_us[i] / 1000.0, s->disk_p99_us[i] / 1000.0,
				      (unsigned long long)s->disk_completions[i], (unsigned long long)untimed_of[i]);
		else
			detail_append(latency->detail, sizeof(latency->detail), "%s p50 %.1fms p99 %.1fms (%llu requests)",
				      s->disk_names[i], s->disk_p50_us[i] / 1000.0, s->disk_p99_us[i] / 1000.0,
				      (unsigned long long)s->disk_completions[i]);
		if (errors_of[i])
			detail_append(errors->detail, sizeof(errors->detail), "%s %llu failed", s->disk_names[i],
				      (unsigned long long)errors_of[i]);
	}

	if (unmeasured >= 0) {
		signal_sample_set_unobserved(latency, "bpf",
					     "no timed requests completed on %s in the window: %llu requests not timed, "
					     "because more than %u requests were in flight",
					     s->disk_names[unmeasured], (unsigned long long)untimed_of[unmeasured],
					     bpf_disk_capacity(s->disk));
	} else {
		/* No request in the window is no latency, not a missing observation. */
		signal_sample_set(latency, "bpf", (int64_t)((worst_us + 999) / 1000));
		if (completed == 0)
			detail_append(latency->detail, sizeof(latency->detail), "no requests completed in the window");
	}
	log_untimed_requests(s, untimed, unmeasured < 0, completed);
	signal_sample_set(errors, "bpf", (int64_t)failed);
	if (!errors->detail[0])
		snprintf(errors->detail, sizeof(errors->detail), "%llu requests completed",
			 (unsigned long long)completed);
}

static void sample_disk_fallback(struct sampler *s, struct signal_sample *latency, struct signal_sample *errors)
{
	struct diskstats now[DISKLAT_MAX_DEVS];
	uint64_t worst_ms = 0;

	signal_sample_set_unobserved(errors, "none", "no fallback: failed requests are counted by BPF only (%s)",
				     s->disk_reason);
	if (procfs_read_file("/proc/diskstats", read_buffer, sizeof(read_buffer)) < 0) {
		signal_sample_set_unobserved(latency, "diskstats", "cannot read /proc/diskstats");
		return;
	}
	for (int i = 0; i < s->n_disk_devs; i++) {
		if (diskstats_parse(read_buffer, major(s->disk_devs[i]), minor(s->disk_devs[i]), &now[i]) < 0) {
			signal_sample_set_unobserved(latency, "diskstats", "%s is not in /proc/diskstats",
						     s->disk_names[i]);
			s->have_disk_prev = false;
			return;
		}
	}
	if (!s->have_disk_prev) {
		memcpy(s->disk_prev, now, sizeof(now));
		s->have_disk_prev = true;
		signal_sample_set_unobserved(latency, "diskstats", "first sample: the average is measured between two ticks");
		return;
	}
	for (int i = 0; i < s->n_disk_devs; i++) {
		uint64_t ios = now[i].ios - s->disk_prev[i].ios, ms = now[i].io_ms - s->disk_prev[i].io_ms;
		uint64_t avg = ios ? (ms + ios / 2) / ios : 0;

		if (now[i].ios < s->disk_prev[i].ios || now[i].io_ms < s->disk_prev[i].io_ms)
			avg = 0;
		if (avg > worst_ms)
			worst_ms = avg;
		detail_append(latency->detail, sizeof(latency->detail), "%s average %llums over %llu requests",
			      s->disk_names[i], (unsigned long long)avg, (unsigned long long)ios);
	}
	memcpy(s->disk_prev, now, sizeof(now));
	signal_sample_set(latency, "diskstats", (int64_t)worst_ms);
	snprintf(latency->reason, sizeof(latency->reason),
		 "an average per request, not the p99: BPF is unavailable (%s)", s->disk_reason);
}

static void sample_disk(struct sampler *s, struct signal_sample *samples)
{
	struct signal_sample *latency = &samples[SIGNAL_DISK_LATENCY], *errors = &samples[SIGNAL_DISK_ERRORS];

	resolve_disks(s);
	if (s->n_disk_devs == 0) {
		signal_sample_set_unobserved(latency, s->disk ? "bpf" : "diskstats", "%s", s->disk_devs_reason);
		signal_sample_set_unobserved(errors, s->disk ? "bpf" : "none", "%s", s->disk_devs_reason);
		return;
	}
	if (s->disk)
		sample_disk_bpf(s, latency, errors);
	else
		sample_disk_fallback(s, latency, errors);
}

/* Per second, rounded, from a change over elapsed ns. */
static int64_t per_second(uint64_t change, uint64_t elapsed_ns)
{
	if (elapsed_ns == 0)
		return 0;
	return (int64_t)(((unsigned __int128)change * 1000000000ULL + elapsed_ns / 2) / elapsed_ns);
}

/* Lists the three reasons with the most drops in the tick, for the detail. */
static void drop_reasons_detail(struct sampler *s, char *detail, size_t len)
{
	bool used[NETMON_REASONS] = { false };

	for (int rank = 0; rank < 3; rank++) {
		int best = -1;

		for (int i = 0; i < NETMON_REASONS; i++)
			if (!used[i] && s->net_tick_reasons[i] &&
			    (best < 0 || s->net_tick_reasons[i] > s->net_tick_reasons[best]))
				best = i;
		if (best < 0)
			return;
		used[best] = true;
		detail_append(detail, len, "%s %llu", bpf_net_reason_name(s->net, (unsigned)best),
			      (unsigned long long)s->net_tick_reasons[best]);
	}
}

static int read_net_fallback(struct sampler *s, uint64_t *drops, uint64_t *retransmits, char *err, size_t err_len)
{
	char path[PATH_MAX];
	struct netstat_snmp snmp;
	uint64_t dev_drops;

	snprintf(path, sizeof(path), "%s/snmp", s->opts.proc_net_dir);
	if (procfs_read_file(path, read_buffer, sizeof(read_buffer)) < 0 || netstat_parse_snmp(read_buffer, &snmp) < 0) {
		snprintf(err, err_len, "cannot read Tcp RetransSegs from %s", path);
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/dev", s->opts.proc_net_dir);
	if (procfs_read_file(path, read_buffer, sizeof(read_buffer)) < 0 ||
	    netstat_parse_dev_drops(read_buffer, &dev_drops) < 0) {
		snprintf(err, err_len, "cannot read the drop columns of %s", path);
		return -EIO;
	}
	*drops = netstat_snmp_drops(&snmp) + dev_drops;
	*retransmits = snmp.tcp_retrans_segs;
	return 0;
}

static void sample_net(struct sampler *s, uint64_t now_ns, struct signal_sample *samples)
{
	struct signal_sample *drops = &samples[SIGNAL_NET_DROPS], *retrans = &samples[SIGNAL_NET_RETRANSMITS];
	const char *source = s->net ? "bpf" : "procfs";
	uint64_t total_drops, total_retrans, timeouts = 0, elapsed;
	struct bpf_net_totals t;
	char err[SIGNAL_REASON_MAX];

	if (s->net) {
		if (bpf_net_read(s->net, &t) < 0) {
			signal_sample_set_unobserved(drops, source, "reading the BPF counters failed");
			signal_sample_set_unobserved(retrans, source, "reading the BPF counters failed");
			s->have_net_prev = false;
			return;
		}
		total_drops = t.drops_total;
		total_retrans = t.retransmits;
		timeouts = t.xmit_timeouts;
	} else if (read_net_fallback(s, &total_drops, &total_retrans, err, sizeof(err)) < 0) {
		signal_sample_set_unobserved(drops, source, "%s", err);
		signal_sample_set_unobserved(retrans, source, "%s", err);
		s->have_net_prev = false;
		return;
	}

	if (!s->have_net_prev || total_drops < s->net_prev_drops || total_retrans < s->net_prev_retransmits) {
		signal_sample_set_unobserved(drops, source, "first sample: a rate is measured between two ticks");
		signal_sample_set_unobserved(retrans, source, "first sample: a rate is measured between two ticks");
	} else {
		elapsed = now_ns - s->net_prev_time_ns;
		signal_sample_set(drops, source, per_second(total_drops - s->net_prev_drops, elapsed));
		signal_sample_set(retrans, source, per_second(total_retrans - s->net_prev_retransmits, elapsed));
		if (s->net) {
			for (int i = 0; i < NETMON_REASONS; i++)
				s->net_tick_reasons[i] = t.drops[i] - s->net_prev_reasons[i];
			s->net_tick_timeouts = timeouts - s->net_prev_timeouts;
			drop_reasons_detail(s, drops->detail, sizeof(drops->detail));
			if (s->net_tick_timeouts)
				detail_append(drops->detail, sizeof(drops->detail), "%llu transmit timeouts",
					      (unsigned long long)s->net_tick_timeouts);
		} else {
			snprintf(drops->reason, sizeof(drops->reason),
				 "no drop reasons: %s/snmp and %s/dev of the agent's network namespace only (BPF: %s)",
				 s->opts.proc_net_dir, s->opts.proc_net_dir, s->net_reason);
		}
	}
	if (s->net)
		memcpy(s->net_prev_reasons, t.drops, sizeof(t.drops));
	s->net_prev_drops = total_drops;
	s->net_prev_retransmits = total_retrans;
	s->net_prev_timeouts = timeouts;
	s->net_prev_time_ns = now_ns;
	s->have_net_prev = true;
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
	sample_disk(s, out);
	sample_net(s, now_ns, out);
	sample_routes(out);
	sample_runtime(s, &out[SIGNAL_RUNTIME_HEALTHY]);
	sampler_kernel_collect(s, out);
	sampler_cgroups_collect(s, now_ns);

	if (s->opts.api_server_configured)
		signal_sample_set_unobserved(&out[SIGNAL_APISERVER_REACHABLE], "client",
					     "the API client is not built yet");
	else
		signal_sample_set_unobserved(&out[SIGNAL_APISERVER_REACHABLE], "client",
					     "local mode: no API server configured");
}

bool sampler_disk_untimed_requests(const struct sampler *s, uint64_t *ret)
{
	if (!s->disk)
		return false;
	*ret = bpf_disk_lost(s->disk);
	return true;
}

bool sampler_kubelet_expected(const struct sampler *s)
{
	return s->kubelet_expected;
}

static void add_program(struct sampler_program *out, int max, int *n, const char *name, bool loaded,
			const char *reason)
{
	if (*n >= max)
		return;
	out[*n].name = name;
	out[*n].loaded = loaded;
	snprintf(out[*n].reason, sizeof(out[*n].reason), "%s", loaded ? "" : reason);
	(*n)++;
}

int sampler_programs(const struct sampler *s, struct sampler_program *out, int max)
{
	int n = 0;

	add_program(out, max, &n, "memstall", s->memstall != NULL, s->memstall_reason);
	add_program(out, max, &n, "pid", s->pid != NULL, s->pid_reason);
	add_program(out, max, &n, "oomkill", s->oomkill != NULL, s->oomkill_reason);
	add_program(out, max, &n, "disklat", s->disk != NULL, s->disk_reason);
	add_program(out, max, &n, "netmon", s->net != NULL, s->net_reason);
	add_program(out, max, &n, "kubelet", s->kubelet != NULL, s->kubelet_reason);
	return n;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	sampler_kernel_free(s);
	sampler_cgroups_free(s);
	bpf_memstall_free(s->memstall);
	bpf_pid_free(s->pid);
	bpf_disk_free(s->disk);
	bpf_net_free(s->net);
	free(s->net_prev_reasons);
	free(s->net_tick_reasons);
	free(s);
}
