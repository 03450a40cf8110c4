/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel tests of the OOM, disk, network, pids and kubelet samplers and of
 * their fallbacks: each test causes the real event (an OOM kill in a small
 * memory cgroup, forks refused by pids.max, direct I/O on a loop device,
 * drops and retransmits in a network namespace, a kubelet binary exiting)
 * and checks what the sampler read. Needs root; every test prints
 * "skip - NAME: WHY" when it cannot run.
 *
 * Output: "ok - NAME", "not ok - NAME: WHY" or "skip - NAME: WHY" per test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cjson/cJSON.h>
#include <linux/aio_abi.h>

#include "daemon/bpf_disk.h"
#include "daemon/bpf_kubelet.h"
#include "daemon/bpf_loader.h"
#include "daemon/bpf_net.h"
#include "daemon/bpf_oomkill.h"
#include "daemon/config.h"
#include "daemon/disk_hist.h"
#include "daemon/diskstats.h"
#include "daemon/kmsg.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/netstat.h"
#include "daemon/procfs.h"
#include "daemon/sampler.h"

#define MEMCG_V1_ROOT "/sys/fs/cgroup/memory"
#define PIDS_V1_ROOT "/sys/fs/cgroup/pids"
#define OOM_LIMIT_BYTES (16u << 20)
#define OOM_COMMAND "nc-oom-victim"
#define GLOBAL_OOM_COMMAND "nc-global-oom"
#define PIDS_MAX 4
#define PIDS_FORKS 12
#define LOOP_IMAGE_BYTES (64u << 20)
#define DIRECT_IOS 256
#define DISK_ERROR_TMPFS_BYTES (1ul << 20)
#define DISK_ERROR_WRITES 1024
#define SMALL_MAP_REQUESTS 2	/* capacity of disklat's request map in the tests that fill it */
/* Requests in flight at once, below the loop driver's queue depth of 128 (drivers/block/loop.c). */
#define BURST_REQUESTS 64
#define BURSTS 8
#define SERIAL_IOS 64
#define UDP_DATAGRAMS 100
#define TCP_PORT 47123

static int failures;

static void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(const char *name, const char *fmt, ...)
{
	va_list args;

	printf("not ok - %s: ", name);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	failures++;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int join_cgroup(const char *dir)
{
	char path[512], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_file(path, pid);
}

static void init_config(struct nodecond_config *cfg)
{
	config_init_defaults(cfg);
	snprintf(cfg->node_name, sizeof(cfg->node_name), "kernel-test");
}

/* ---- OOM kill inside a small memory cgroup ---- */

struct oom_capture {
	struct oomkill_event events[8];
	int n;
};

static void on_oom_event(const struct oomkill_event *e, void *userdata)
{
	struct oom_capture *c = userdata;

	if (c->n < 8)
		c->events[c->n++] = *e;
}

/* Starts a child in cgroup_dir that allocates until the cgroup's limit kills it. */
static pid_t start_oom_victim(const char *cgroup_dir)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_NAME, OOM_COMMAND);
	if (join_cgroup(cgroup_dir) < 0)
		_exit(2);
	for (size_t mb = 0; mb < 256; mb++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(3);
		memset(p, 0x5a, 1 << 20);
	}
	_exit(4);
}

/* Creates a v1 memory cgroup limited to OOM_LIMIT_BYTES; returns 0 or -errno. */
static int make_oom_cgroup(char *dir, size_t len)
{
	char path[600], limit[32];
	int r;

	snprintf(dir, len, "%s/nodecond-oom-%d", MEMCG_V1_ROOT, getpid());
	if (mkdir(dir, 0755) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", dir);
	snprintf(limit, sizeof(limit), "%u", OOM_LIMIT_BYTES);
	r = write_file(path, limit);
	if (r < 0)
		rmdir(dir);
	return r;
}

/* Reads /dev/kmsg records until the "Killed process" line of pid shows up. */
struct kmsg_search {
	pid_t pid;
	struct kmsg_oom killed;
	bool found;
};

static void on_kmsg(const struct kmsg_oom *oom, void *userdata)
{
	struct kmsg_search *q = userdata;

	if (oom->pid == q->pid && oom->line == KMSG_OOM_KILLED) {
		q->killed = *oom;
		q->found = true;
	}
}

static void test_oom_cgroup_kill(void)
{
	const char *name = "oom kill in a small memory cgroup classified as cgroup-confined";
	const char *kname = "oom fallback: /dev/kmsg reports the kill at the cgroup limit";
	struct oom_capture capture = { 0 };
	struct kmsg_search search = { 0 };
	struct bpf_oomkill *o = NULL;
	char dir[512], reason[512];
	struct stat st;
	int status, kmsg_fd, r;
	pid_t pid;

	if (access(MEMCG_V1_ROOT "/memory.limit_in_bytes", F_OK) < 0) {
		/* NOTE: only the v1 (hybrid) layout is exercised here. */
		printf("skip - %s: no cgroup v1 memory controller at %s\n", name, MEMCG_V1_ROOT);
		return;
	}
	if (bpf_oomkill_open(&o, on_oom_event, &capture, reason, sizeof(reason)) < 0) {
		fail(name, "%s", reason);
		return;
	}
	kmsg_fd = kmsg_open();
	r = make_oom_cgroup(dir, sizeof(dir));
	if (r < 0) {
		fail(name, "creating the memory cgroup failed: %s", strerror(-r));
		goto out;
	}
	stat(dir, &st);

	pid = start_oom_victim(dir);
	waitpid(pid, &status, 0);
	sleep_ms(100);
	bpf_oomkill_consume(o);

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		fail(name, "the child was not killed by SIGKILL (status 0x%x)", (unsigned)status);
	} else if (capture.n != 1) {
		fail(name, "expected 1 mark_victim event, got %d", capture.n);
	} else if ((pid_t)capture.events[0].victim_pid != pid) {
		fail(name, "victim pid %u, expected %d", capture.events[0].victim_pid, pid);
	} else if (capture.events[0].has_task && strcmp(capture.events[0].victim_comm, OOM_COMMAND) != 0) {
		fail(name, "victim command \"%s\", expected \"%s\"", capture.events[0].victim_comm, OOM_COMMAND);
	} else if (capture.events[0].scope != OOMKILL_SCOPE_CGROUP) {
		fail(name, "classified as system-wide");
	} else if (capture.events[0].has_task && capture.events[0].victim_cgroup_id != (uint64_t)st.st_ino) {
		fail(name, "victim cgroup id %llu, expected %llu (%s)",
		     (unsigned long long)capture.events[0].victim_cgroup_id, (unsigned long long)st.st_ino, dir);
	} else {
		printf("ok - %s (pid %d, limit cgroup id %llu)\n", name, pid,
		       (unsigned long long)capture.events[0].limit_cgroup_id);
	}

	if (kmsg_fd < 0) {
		printf("skip - %s: cannot read /dev/kmsg: %s\n", kname, strerror(-kmsg_fd));
	} else {
		search.pid = pid;
		kmsg_read_oom(kmsg_fd, on_kmsg, &search, NULL);
		if (!search.found)
			fail(kname, "no \"Killed process %d\" line in /dev/kmsg", pid);
		else if (search.killed.scope != KMSG_OOM_CGROUP)
			fail(kname, "the kill was reported as system-wide");
		else if (strcmp(search.killed.comm, OOM_COMMAND) != 0)
			fail(kname, "command \"%s\", expected \"%s\"", search.killed.comm, OOM_COMMAND);
		else
			printf("ok - %s\n", kname);
	}
	rmdir(dir);
out:
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	bpf_oomkill_free(o);
}

/* The sampler, BPF or not: the kill is an event at the limit and memory.oomKills stays 0. */
static void test_oom_sampler(bool disable_bpf)
{
	const char *name = disable_bpf ? "oom kill at a cgroup limit not counted as node pressure (kmsg fallback)" :
					 "oom kill at a cgroup limit not counted as node pressure (bpf)";
	struct sampler_options opts = { .disable_bpf = disable_bpf };
	struct signal_sample samples[_SIGNAL_MAX];
	struct sampler_event events[SAMPLER_EVENTS_MAX];
	struct nodecond_config cfg;
	struct sampler *s;
	uint64_t dropped;
	char dir[512];
	const struct sampler_event *e = NULL;
	int status, n;
	pid_t pid;

	if (access(MEMCG_V1_ROOT "/memory.limit_in_bytes", F_OK) < 0) {
		printf("skip - %s: no cgroup v1 memory controller at %s\n", name, MEMCG_V1_ROOT);
		return;
	}
	init_config(&cfg);
	if (sampler_new(&s, &cfg, &opts) < 0) {
		fail(name, "sampler_new failed");
		return;
	}
	sampler_collect(s, monotonic_ns(), samples);
	if (make_oom_cgroup(dir, sizeof(dir)) < 0) {
		fail(name, "creating the memory cgroup failed");
		sampler_free(s);
		return;
	}
	pid = start_oom_victim(dir);
	waitpid(pid, &status, 0);
	sleep_ms(100);
	sampler_collect(s, monotonic_ns(), samples);
	n = sampler_events(s, events, SAMPLER_EVENTS_MAX, &dropped);
	for (int i = 0; i < n; i++)
		if (events[i].type == SAMPLER_EVENT_OOM_KILL && events[i].pid == pid)
			e = &events[i];

	if (!samples[SIGNAL_MEMORY_OOM_KILLS].observed)
		fail(name, "memory.oomKills has no observation: %s", samples[SIGNAL_MEMORY_OOM_KILLS].reason);
	else if (strcmp(samples[SIGNAL_MEMORY_OOM_KILLS].source, disable_bpf ? "kmsg" : "bpf") != 0)
		fail(name, "source %s", samples[SIGNAL_MEMORY_OOM_KILLS].source);
	else if (!e)
		fail(name, "no oomKill event for pid %d", pid);
	else if (!e->cgroup_limit)
		fail(name, "the event says system-wide (classified by %s)", e->classified_by);
	else if (strcmp(e->command, OOM_COMMAND) != 0)
		fail(name, "command \"%s\", expected \"%s\"", e->command, OOM_COMMAND);
	else if (samples[SIGNAL_MEMORY_OOM_KILLS].value != 0)
		fail(name, "memory.oomKills is %lld, expected 0", (long long)samples[SIGNAL_MEMORY_OOM_KILLS].value);
	else
		printf("ok - %s (classified by %s, cgroup \"%s\")\n", name, e->classified_by, e->cgroup);
	rmdir(dir);
	sampler_free(s);
}

/*
 * Starts a child, outside any limited memory cgroup, that allocates until the
 * kernel's system-wide OOM killer takes it. oom_score_adj 1000 makes it the
 * first choice. It gives up after twice the machine's memory.
 */
static pid_t start_global_oom_victim(uint64_t mem_total)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_NAME, GLOBAL_OOM_COMMAND);
	if (write_file("/proc/self/oom_score_adj", "1000") < 0)
		_exit(2);
	for (uint64_t done = 0; done < 2 * mem_total; done += 16u << 20) {
		char *p = mmap(NULL, 16u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(3);
		memset(p, 0x5a, 16u << 20);
	}
	_exit(4);
}

/* Checks that a system-wide kill is an event and counts in memory.oomKills, with BPF or without. */
static void test_oom_system_wide(bool disable_bpf)
{
	const char *name = disable_bpf ? "system-wide oom kill counted as node pressure (kmsg fallback)" :
					 "system-wide oom kill counted as node pressure (bpf)";
	struct sampler_options opts = { .disable_bpf = disable_bpf };
	struct signal_sample samples[_SIGNAL_MAX];
	struct sampler_event events[SAMPLER_EVENTS_MAX];
	const struct sampler_event *e = NULL;
	struct oom_capture capture = { 0 };
	struct bpf_oomkill *o = NULL;
	struct nodecond_config cfg;
	struct meminfo mem;
	char reason[512];
	static char text[16 * 1024];
	struct sampler *s;
	uint64_t dropped;
	int status, n;
	pid_t pid;

	/* NOTE: this runs only in the kernel matrix's guests: on a shared
	 * host it would push every other process into reclaim. */
	if (!getenv("NODECOND_KERNEL_GUEST")) {
		printf("skip - %s: fills the machine's memory, so it runs only in the kernel matrix's "
		       "guests (make test-kernels)\n", name);
		return;
	}
	if (procfs_read_file("/proc/meminfo", text, sizeof(text)) < 0 ||
	    procfs_parse_meminfo(text, &mem) < 0 || !mem.has_mem_total) {
		fail(name, "reading /proc/meminfo failed");
		return;
	}
	init_config(&cfg);
	if (sampler_new(&s, &cfg, &opts) < 0) {
		fail(name, "sampler_new failed");
		return;
	}
	/* The BPF event's own classification, which the sampler uses only
	 * when the kernel log has no report of the kill. */
	if (!disable_bpf && bpf_oomkill_open(&o, on_oom_event, &capture, reason, sizeof(reason)) < 0) {
		fail(name, "%s", reason);
		sampler_free(s);
		return;
	}
	sampler_collect(s, monotonic_ns(), samples);
	pid = start_global_oom_victim((uint64_t)mem.mem_total);
	waitpid(pid, &status, 0);
	sleep_ms(100);
	sampler_collect(s, monotonic_ns(), samples);
	if (o)
		bpf_oomkill_consume(o);
	n = sampler_events(s, events, SAMPLER_EVENTS_MAX, &dropped);
	for (int i = 0; i < n; i++)
		if (events[i].type == SAMPLER_EVENT_OOM_KILL && events[i].pid == pid)
			e = &events[i];

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail(name, "the child was not killed by SIGKILL (status 0x%x)", (unsigned)status);
	else if (!samples[SIGNAL_MEMORY_OOM_KILLS].observed)
		fail(name, "memory.oomKills has no observation: %s", samples[SIGNAL_MEMORY_OOM_KILLS].reason);
	else if (strcmp(samples[SIGNAL_MEMORY_OOM_KILLS].source, disable_bpf ? "kmsg" : "bpf") != 0)
		fail(name, "source %s", samples[SIGNAL_MEMORY_OOM_KILLS].source);
	else if (!e)
		fail(name, "no oomKill event for pid %d", pid);
	else if (e->cgroup_limit)
		fail(name, "the event says at a cgroup limit (classified by %s, cgroup \"%s\")",
		     e->classified_by, e->cgroup);
	else if (strcmp(e->command, GLOBAL_OOM_COMMAND) != 0)
		fail(name, "command \"%s\", expected \"%s\"", e->command, GLOBAL_OOM_COMMAND);
	else if (samples[SIGNAL_MEMORY_OOM_KILLS].value != 1)
		fail(name, "memory.oomKills is %lld, expected 1", (long long)samples[SIGNAL_MEMORY_OOM_KILLS].value);
	else if (o && capture.n != 1)
		fail(name, "expected 1 mark_victim event, got %d", capture.n);
	else if (o && (pid_t)capture.events[0].victim_pid != pid)
		fail(name, "BPF victim pid %u, expected %d", capture.events[0].victim_pid, pid);
	else if (o && capture.events[0].scope != OOMKILL_SCOPE_SYSTEM)
		fail(name, "BPF classified the kill at a cgroup limit (limit cgroup id %llu)",
		     (unsigned long long)capture.events[0].limit_cgroup_id);
	else
		printf("ok - %s (pid %d, classified by %s%s)\n", name, pid, e->classified_by,
		       o ? ", and by bpf alone as system-wide" : "");
	bpf_oomkill_free(o);
	sampler_free(s);
}

/* ---- forks refused by pids.max ---- */

static int count_failed_forks(const char *dir)
{
	int pipefd[2], failed = 0;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		pid_t children[PIDS_FORKS];
		int n_children = 0;
		char byte;

		close(pipefd[0]);
		if (join_cgroup(dir) < 0)
			_exit(2);
		for (int i = 0; i < PIDS_FORKS; i++) {
			pid_t c = fork();

			if (c == 0) {
				pause();
				_exit(0);
			}
			if (c < 0)
				failed++;
			else
				children[n_children++] = c;
		}
		byte = (char)failed;
		if (write(pipefd[1], &byte, 1) != 1)
			_exit(3);
		/* Only this child's own children, by pid. */
		for (int i = 0; i < n_children; i++) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
		}
		_exit(0);
	}
	close(pipefd[1]);
	{
		char byte = -1;

		if (read(pipefd[0], &byte, 1) == 1)
			failed = byte;
		else
			failed = -EIO;
	}
	close(pipefd[0]);
	waitpid(pid, NULL, 0);
	return failed;
}

static void test_pids_cgroup_limit(void)
{
	const char *name = "pids.max refusals counted per cgroup, not as node pressure";
	struct sampler_options opts = { .disable_bpf = true };
	struct signal_sample samples[_SIGNAL_MAX];
	struct nodecond_config cfg;
	char dir[512], path[600], rel[64];
	const cJSON *list, *item, *found = NULL;
	struct sampler *s;
	cJSON *details;
	int failed;

	if (access(PIDS_V1_ROOT, F_OK) < 0) {
		printf("skip - %s: no cgroup v1 pids hierarchy at %s\n", name, PIDS_V1_ROOT);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/nodecond-pids-%d", PIDS_V1_ROOT, getpid());
	snprintf(rel, sizeof(rel), "/nodecond-pids-%d", getpid());
	if (mkdir(dir, 0755) < 0) {
		fail(name, "mkdir %s: %s", dir, strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/pids.max", dir);
	write_file(path, "4");

	init_config(&cfg);
	sampler_new(&s, &cfg, &opts);
	sampler_collect(s, monotonic_ns(), samples);
	/* The child itself is one of the PIDS_MAX tasks. */
	failed = count_failed_forks(dir);
	sampler_collect(s, monotonic_ns(), samples);

	details = sampler_details_json(s);
	list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(details, "pid.cgroupForkFailures"),
						 "cgroups");
	cJSON_ArrayForEach(item, list)
		if (strcmp(cJSON_GetObjectItemCaseSensitive(item, "cgroup")->valuestring, rel) == 0)
			found = item;

	if (failed != PIDS_FORKS - (PIDS_MAX - 1))
		fail(name, "%d forks failed, expected %d", failed, PIDS_FORKS - (PIDS_MAX - 1));
	else if (!found)
		fail(name, "cgroup %s not listed under pid.cgroupForkFailures", rel);
	else if (cJSON_GetObjectItemCaseSensitive(found, "failures")->valuedouble != failed)
		fail(name, "failures %.0f, expected %d", cJSON_GetObjectItemCaseSensitive(found, "failures")->valuedouble,
		     failed);
	else if (cJSON_GetObjectItemCaseSensitive(found, "newInTick")->valuedouble != failed)
		fail(name, "newInTick %.0f, expected %d", cJSON_GetObjectItemCaseSensitive(found, "newInTick")->valuedouble,
		     failed);
	else if (!samples[SIGNAL_PID_AVAILABLE].observed ||
		 samples[SIGNAL_PID_AVAILABLE].value < samples[SIGNAL_PID_AVAILABLE].capacity / 2)
		fail(name, "pid.available moved: %lld of %lld", (long long)samples[SIGNAL_PID_AVAILABLE].value,
		     (long long)samples[SIGNAL_PID_AVAILABLE].capacity);
	else
		printf("ok - %s (%d refused in %s)\n", name, failed, rel);
	cJSON_Delete(details);
	sampler_free(s);
	rmdir(dir);
}

/* ---- direct I/O on a loop device ---- */

struct loop_dev {
	char image[128];
	char dir[64];
	char dev[64];
	bool tmpfs;	/* dir is a tmpfs mount of its own */
};

static int run_command(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	if (!p)
		return -errno;
	if (out) {
		n = fread(out, 1, len - 1, p);
		out[n] = '\0';
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
			out[--n] = '\0';
	}
	return pclose(p) == 0 ? 0 : -EIO;
}

static void loop_remove_files(struct loop_dev *l)
{
	unlink(l->image);
	if (l->tmpfs)
		umount(l->dir);
	rmdir(l->dir);
}

/*
 * Creates a loop device on a sparse LOOP_IMAGE_BYTES file. With tmpfs_bytes
 * above 0 the file sits on a tmpfs of that size, so writes beyond it fail
 * inside the loop driver as real failed requests. Returns 0 or -errno.
 */
static int loop_create(struct loop_dev *l, unsigned long tmpfs_bytes)
{
	char cmd[256], options[64];
	int fd;

	memset(l, 0, sizeof(*l));
	snprintf(l->dir, sizeof(l->dir), "/var/tmp/nodecond-disk-XXXXXX");
	if (!mkdtemp(l->dir))
		return -errno;
	if (tmpfs_bytes) {
		snprintf(options, sizeof(options), "size=%lu,mode=0700", tmpfs_bytes);
		if (mount("nodecond-test", l->dir, "tmpfs", 0, options) < 0) {
			int r = -errno;

			rmdir(l->dir);
			return r;
		}
		l->tmpfs = true;
	}
	snprintf(l->image, sizeof(l->image), "%s/image", l->dir);
	fd = open(l->image, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, LOOP_IMAGE_BYTES) < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		loop_remove_files(l);
		return r;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "losetup --find --show %s 2>/dev/null", l->image);
	if (run_command(cmd, l->dev, sizeof(l->dev)) < 0 || strncmp(l->dev, "/dev/loop", 9) != 0) {
		loop_remove_files(l);
		return -ENODEV;
	}
	return 0;
}

static void loop_destroy(struct loop_dev *l)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "losetup --detach %s", l->dev);
	run_command(cmd, NULL, 0);
	loop_remove_files(l);
}

/*
 * Runs count direct 4 KiB I/Os on dev, from offset 0 and wrapping at 4 MiB:
 * writes and reads in turn, or writes only. Returns how many succeeded, or
 * -errno when dev cannot be opened. With io_errors, counts the I/Os that
 * failed with EIO or ENOSPC, the errors of a failed request. Others, such as
 * a write of 0 bytes when the kernel could not drop cached pages of the
 * range first, end before a request is made.
 */
static int direct_io(const char *dev, int count, bool writes_only, int *io_errors)
{
	void *buf;
	int fd, done = 0;
	ssize_t n;

	if (posix_memalign(&buf, 4096, 4096))
		return -ENOMEM;
	memset(buf, 0xab, 4096);
	fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (int i = 0; i < count; i++) {
		off_t off = (off_t)(i % 1024) * 4096;
		bool is_read = !writes_only && i % 2;

		n = is_read ? pread(fd, buf, 4096, off) : pwrite(fd, buf, 4096, off);
		if (n == 4096)
			done++;
		else if (io_errors && n < 0 && (errno == EIO || errno == ENOSPC))
			(*io_errors)++;
	}
	close(fd);
	free(buf);
	return done;
}

static void test_disk_loop(void)
{
	const char *name = "disk service time from direct I/O on a loop device";
	const char *fname = "disk fallback: /proc/diskstats counts the loop device's requests";
	struct diskstats before, after;
	struct bpf_disk_window w;
	struct bpf_disk *d = NULL;
	struct loop_dev l;
	char reason[512];
	static char text[256 * 1024];
	struct stat st;
	dev_t disks[4];
	int done, n;
	uint64_t p50, p99;

	if (loop_create(&l, 0) < 0) {
		printf("skip - %s: cannot create a loop device (losetup)\n", name);
		return;
	}
	stat(l.dev, &st);
	n = diskstats_disks_of_dev("/sys", st.st_rdev, disks, NULL, 4);
	if (n != 1 || disks[0] != st.st_rdev) {
		fail(name, "the loop device does not map to itself as a whole disk (%d disks)", n);
		goto out;
	}
	if (bpf_disk_open(&d, reason, sizeof(reason)) < 0) {
		fail(name, "%s", reason);
		goto out;
	}
	bpf_disk_set_devices(d, &st.st_rdev, 1);
	procfs_read_file("/proc/diskstats", text, sizeof(text));
	diskstats_parse(text, major(st.st_rdev), minor(st.st_rdev), &before);

	done = direct_io(l.dev, DIRECT_IOS, false, NULL);
	bpf_disk_read_window(d, 0, &w);
	procfs_read_file("/proc/diskstats", text, sizeof(text));
	diskstats_parse(text, major(st.st_rdev), minor(st.st_rdev), &after);
	p50 = disk_hist_percentile_us(w.hist, DISKLAT_BUCKETS, 500);
	p99 = disk_hist_percentile_us(w.hist, DISKLAT_BUCKETS, 990);

	if (done != DIRECT_IOS)
		fail(name, "%d of %d direct I/Os succeeded", done, DIRECT_IOS);
	/* One completion may be missed, as test_disk_errors() explains. */
	else if (w.completions + 1 < DIRECT_IOS)
		fail(name, "%llu completions timed, expected at least %d", (unsigned long long)w.completions,
		     DIRECT_IOS - 1);
	else if (w.errors != 0)
		fail(name, "%llu failed requests", (unsigned long long)w.errors);
	else if (p50 == 0 || p99 < p50 || p99 > 10 * 1000 * 1000)
		fail(name, "implausible percentiles: p50 %llu us, p99 %llu us", (unsigned long long)p50,
		     (unsigned long long)p99);
	else
		printf("ok - %s (%s: %llu requests, p50 %llu us, p99 %llu us)\n", name, l.dev,
		       (unsigned long long)w.completions, (unsigned long long)p50, (unsigned long long)p99);

	if (after.ios - before.ios < DIRECT_IOS)
		fail(fname, "%llu requests counted, expected at least %d", (unsigned long long)(after.ios - before.ios),
		     DIRECT_IOS);
	else
		printf("ok - %s (%llu requests, %llu ms)\n", fname, (unsigned long long)(after.ios - before.ios),
		       (unsigned long long)(after.io_ms - before.io_ms));
	bpf_disk_free(d);
out:
	loop_destroy(&l);
}

static void test_disk_errors(void)
{
	const char *name = "failed requests on a loop device counted as disk errors";
	struct bpf_disk_window w;
	struct bpf_disk *d = NULL;
	struct loop_dev l;
	char reason[512];
	struct stat st;
	int done, failed = 0, r;

	r = loop_create(&l, DISK_ERROR_TMPFS_BYTES);
	if (r < 0) {
		printf("skip - %s: cannot create a loop device on a small tmpfs: %s\n", name,
		       strerror(-r));
		return;
	}
	stat(l.dev, &st);
	if (bpf_disk_open(&d, reason, sizeof(reason)) < 0) {
		fail(name, "%s", reason);
		goto out;
	}
	bpf_disk_set_devices(d, &st.st_rdev, 1);
	bpf_disk_read_window(d, 0, &w);

	done = direct_io(l.dev, DISK_ERROR_WRITES, true, &failed);
	bpf_disk_read_window(d, 0, &w);

	if (done < 0)
		fail(name, "opening %s failed: %s", l.dev, strerror(-done));
	else if (failed == 0)
		fail(name, "no write failed with EIO or ENOSPC although %d KiB were written to a %lu KiB tmpfs "
		     "(%d of %d writes succeeded)", DISK_ERROR_WRITES * 4, DISK_ERROR_TMPFS_BYTES / 1024, done,
		     DISK_ERROR_WRITES);
	/*
	 * NOTE: on this machine's 6.18 the kernel now and then does not run
	 * a program attached to block_rq_complete when the completion runs in
	 * softirq on top of another task. Measured here: 13 of 516,531
	 * completions that a tracefs instance saw, with no recursion miss
	 * counted. One missing failure is allowed for that; a count above the
	 * failed writes is not.
	 */
	else if (w.errors > (uint64_t)failed || (uint64_t)failed - w.errors > 1)
		fail(name, "%d writes failed with EIO or ENOSPC, %llu failed requests counted (%d writes "
		     "succeeded, %llu completions, %llu issues not timed)",
		     failed, (unsigned long long)w.errors, done, (unsigned long long)w.completions,
		     (unsigned long long)bpf_disk_lost(d));
	else if (w.completions - w.errors < (uint64_t)done)
		fail(name, "%llu requests succeeded, expected at least the %d writes that did",
		     (unsigned long long)(w.completions - w.errors), done);
	else
		printf("ok - %s (%s: %d of %d writes failed, %llu of %llu requests failed)\n", name,
		       l.dev, failed, DISK_ERROR_WRITES, (unsigned long long)w.errors,
		       (unsigned long long)w.completions);
	bpf_disk_free(d);
out:
	loop_destroy(&l);
}

/* Cumulative counters of a block device, from /sys/block/NAME/stat. */
struct block_stat {
	uint64_t completed;	/* reads and writes completed */
	uint64_t in_flight;
};

static int read_block_stat(const char *dev, struct block_stat *ret)
{
	const char *slash = strrchr(dev, '/');
	unsigned long long f[9];
	char path[128], text[512];

	snprintf(path, sizeof(path), "/sys/block/%s/stat", slash ? slash + 1 : dev);
	if (procfs_read_file(path, text, sizeof(text)) < 0)
		return -EIO;
	if (sscanf(text, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4],
		   &f[5], &f[6], &f[7], &f[8]) != 9)
		return -EINVAL;
	ret->completed = f[0] + f[4];
	ret->in_flight = f[8];
	return 0;
}

/*
 * Waits up to 1 s for dev to have no request in flight, then reads its
 * counters, because an I/O returns to its caller before the block layer
 * counts the request as completed. Returns 0, -ETIMEDOUT or the read's
 * -errno.
 */
static int read_block_stat_idle(const char *dev, struct block_stat *ret)
{
	for (int i = 0; i < 100; i++) {
		int r = read_block_stat(dev, ret);

		if (r < 0 || ret->in_flight == 0)
			return r;
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/*
 * Runs bursts of BURST_REQUESTS direct 4 KiB requests on dev, each burst
 * submitted with one io_submit() and waited for whole, so that many
 * requests are in flight at once. With writes, even requests write and odd
 * ones read. Without, all read. Requests lie 8 KiB apart, so none merge.
 * Returns how many succeeded, or -errno (-ENOSYS for a kernel without AIO).
 */
static int io_bursts(const char *dev, int bursts, bool writes)
{
	struct iocb iocbs[BURST_REQUESTS], *list[BURST_REQUESTS];
	struct io_event events[BURST_REQUESTS];
	aio_context_t ctx = 0;
	int fd, done = 0, r = 0;
	char *bufs;

	if (posix_memalign((void **)&bufs, 4096, BURST_REQUESTS * 4096))
		return -ENOMEM;
	memset(bufs, 0xcd, BURST_REQUESTS * 4096);
	fd = open(dev, (writes ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (syscall(SYS_io_setup, BURST_REQUESTS, &ctx) < 0) {
		r = -errno;
		goto out;
	}

	for (int b = 0; b < bursts && r == 0; b++) {
		long submitted, reaped = 0;

		for (int i = 0; i < BURST_REQUESTS; i++) {
			memset(&iocbs[i], 0, sizeof(iocbs[i]));
			iocbs[i].aio_fildes = (uint32_t)fd;
			iocbs[i].aio_lio_opcode = writes && i % 2 == 0 ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			iocbs[i].aio_buf = (uint64_t)(uintptr_t)(bufs + (size_t)i * 4096);
			iocbs[i].aio_nbytes = 4096;
			iocbs[i].aio_offset = (int64_t)((b * BURST_REQUESTS + i) % 512) * 8192;
			list[i] = &iocbs[i];
		}
		submitted = syscall(SYS_io_submit, ctx, (long)BURST_REQUESTS, list);
		if (submitted < 0) {
			r = -errno;
			break;
		}
		while (reaped < submitted) {
			long n = syscall(SYS_io_getevents, ctx, submitted - reaped, submitted - reaped, events, NULL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = -errno;
				break;
			}
			for (long i = 0; i < n; i++)
				if (events[i].res == 4096)
					done++;
			reaped += n;
		}
	}
	syscall(SYS_io_destroy, ctx);
out:
	if (fd >= 0)
		close(fd);
	free(bufs);
	return r < 0 ? r : done;
}

/*
 * disklat with room for SMALL_MAP_REQUESTS requests in flight, against
 * bursts of BURST_REQUESTS. The requests that find the map full must be
 * counted as lost, and timed and lost requests must add up to what the
 * device completed. Afterwards the map must be empty again.
 */
static void test_disk_full_map(void)
{
	const char *lname = "disk full map counts lost requests";
	const char *cname = "disk timed plus lost equals completions";
	const char *ename = "disk map empty after a burst";
	struct block_stat before = { 0 }, after = { 0 };
	struct bpf_disk_window w;
	struct bpf_disk *d = NULL;
	uint64_t lost_before, lost, completed;
	int64_t gap;
	struct loop_dev l;
	char reason[512];
	struct stat st;
	int done, r;

	r = loop_create(&l, 0);
	if (r < 0) {
		printf("skip - %s: cannot create a loop device (losetup): %s\n", lname, strerror(-r));
		printf("skip - %s: cannot create a loop device (losetup): %s\n", cname, strerror(-r));
		printf("skip - %s: cannot create a loop device (losetup): %s\n", ename, strerror(-r));
		return;
	}
	stat(l.dev, &st);
	if (bpf_disk_open_with_capacity(&d, SMALL_MAP_REQUESTS, reason, sizeof(reason)) < 0) {
		fail(lname, "%s", reason);
		printf("skip - %s: disklat did not load\n", cname);
		printf("skip - %s: disklat did not load\n", ename);
		goto out;
	}
	bpf_disk_set_devices(d, &st.st_rdev, 1);

	r = read_block_stat_idle(l.dev, &before);
	bpf_disk_read_window(d, 0, &w);
	lost_before = bpf_disk_lost(d);
	done = io_bursts(l.dev, BURSTS, true);
	if (r == 0)
		r = read_block_stat_idle(l.dev, &after);
	bpf_disk_read_window(d, 0, &w);
	lost = bpf_disk_lost(d) - lost_before;

	if (done == -ENOSYS) {
		printf("skip - %s: io_submit() is missing: kernel built without CONFIG_AIO\n", lname);
		printf("skip - %s: io_submit() is missing: kernel built without CONFIG_AIO\n", cname);
		printf("skip - %s: io_submit() is missing: kernel built without CONFIG_AIO\n", ename);
		goto free_disk;
	}
	if (done != BURSTS * BURST_REQUESTS)
		fail(lname, "%d of %d requests on %s succeeded%s%s", done, BURSTS * BURST_REQUESTS, l.dev,
		     done < 0 ? ": " : "", done < 0 ? strerror(-done) : "");
	else if (lost == 0)
		fail(lname, "no request counted as lost, although %d bursts of %d requests went to a map of %d "
		     "entries (%llu timed)", BURSTS, BURST_REQUESTS, SMALL_MAP_REQUESTS,
		     (unsigned long long)w.completions);
	else if (w.lost != lost)
		fail(lname, "the disk's window counts %llu lost requests, the total %llu", (unsigned long long)w.lost,
		     (unsigned long long)lost);
	else
		printf("ok - %s (%s: %llu of %d requests lost, %llu timed)\n", lname, l.dev,
		       (unsigned long long)lost, BURSTS * BURST_REQUESTS, (unsigned long long)w.completions);

	/* One completion may be missed, as test_disk_errors() explains. */
	completed = after.completed - before.completed;
	gap = (int64_t)completed - (int64_t)(w.completions + lost);
	if (r < 0)
		fail(cname, "reading /sys/block of %s failed: %s", l.dev, strerror(-r));
	else if (gap > 1 || gap < -1)
		fail(cname, "%llu timed + %llu lost = %llu, but %s completed %llu reads and writes (gap %lld, at "
		     "most 1 allowed)", (unsigned long long)w.completions, (unsigned long long)lost,
		     (unsigned long long)(w.completions + lost), l.dev, (unsigned long long)completed, (long long)gap);
	else
		printf("ok - %s (%llu timed + %llu lost, %llu completed, gap %lld)\n", cname,
		       (unsigned long long)w.completions, (unsigned long long)lost, (unsigned long long)completed,
		       (long long)gap);

	/*
	 * With one request in flight at a time, a loss means that entries of
	 * the burst's requests fill the map. One entry left by a skipped
	 * completion (see test_disk_errors()) still leaves room.
	 */
	before = after;
	lost_before = bpf_disk_lost(d);
	done = direct_io(l.dev, SERIAL_IOS, false, NULL);
	if (r == 0)
		r = read_block_stat_idle(l.dev, &after);
	bpf_disk_read_window(d, 0, &w);
	lost = bpf_disk_lost(d) - lost_before;
	completed = after.completed - before.completed;
	gap = (int64_t)completed - (int64_t)w.completions;
	if (done != SERIAL_IOS)
		fail(ename, "%d of %d serial direct I/Os succeeded", done, SERIAL_IOS);
	else if (r < 0)
		fail(ename, "reading /sys/block of %s failed: %s", l.dev, strerror(-r));
	else if (lost != 0)
		fail(ename, "%llu of %d serial requests lost: the burst's requests left entries in the %d-entry map",
		     (unsigned long long)lost, SERIAL_IOS, SMALL_MAP_REQUESTS);
	else if (gap > 1 || gap < -1)
		fail(ename, "%llu of %llu serial requests timed (gap %lld, at most 1 allowed)",
		     (unsigned long long)w.completions, (unsigned long long)completed, (long long)gap);
	else
		printf("ok - %s (%llu of %llu serial requests timed, none lost)\n", ename,
		       (unsigned long long)w.completions, (unsigned long long)completed);
free_disk:
	bpf_disk_free(d);
out:
	loop_destroy(&l);
}

/* Mounts a new ext2 filesystem on l's device at l->dir/mnt. Returns 0 or -errno. */
static int loop_mount_ext2(struct loop_dev *l, char *mnt, size_t len)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "mke2fs -F %s >/dev/null 2>&1", l->dev);
	if (run_command(cmd, NULL, 0) < 0)
		return -ENOENT;
	snprintf(mnt, len, "%s/mnt", l->dir);
	if (mkdir(mnt, 0700) < 0)
		return -errno;
	/* The ext4 driver mounts ext2 where the kernel has no ext2 driver of its own. */
	if (mount(l->dev, mnt, "ext2", 0, NULL) == 0 || mount(l->dev, mnt, "ext4", 0, NULL) == 0)
		return 0;
	rmdir(mnt);
	return -errno;
}

/*
 * Creates a sampler whose nodefs and imagefs are the filesystem mounted at
 * mnt, with room for SMALL_MAP_REQUESTS requests in flight in disklat's map
 * and warning_ms between untimed-request warnings (0: the agent's default).
 * cfg must outlive the sampler. Returns 0 or a negative errno.
 */
static int new_disk_sampler(const char *mnt, struct nodecond_config *cfg, int64_t warning_ms,
			    struct sampler **ret)
{
	struct sampler_options opts = {
		.disk_max_requests = SMALL_MAP_REQUESTS,
		.disk_warning_interval_ms = warning_ms,
	};

	init_config(cfg);
	snprintf(cfg->nodefs_path, sizeof(cfg->nodefs_path), "%s", mnt);
	snprintf(cfg->imagefs_path, sizeof(cfg->imagefs_path), "%s", mnt);
	return sampler_new(ret, cfg, &opts);
}

/*
 * Runs bursts of reads on dev between two ticks of s and copies the
 * disk.latency sample of the second tick to ret. bursts 0 runs no I/O.
 */
static int sampler_tick_after_bursts(struct sampler *s, const char *dev, int bursts, struct signal_sample *ret)
{
	static struct signal_sample samples[_SIGNAL_MAX];
	int r = bursts > 0 ? io_bursts(dev, bursts, false) : 0;

	sampler_collect(s, monotonic_ns(), samples);
	*ret = samples[SIGNAL_DISK_LATENCY];
	return r;
}

/* Counts the lines of path that contain text. */
static int count_lines_with(const char *path, const char *text)
{
	char line[2048];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, text))
			n++;
	fclose(f);
	return n;
}

/*
 * Sends stderr, and so the agent's log, to a new file at path, with
 * warnings enabled. Returns the saved stderr for stderr_restore(), or -1
 * when the file cannot be created.
 */
static int stderr_to_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), saved;
	int level = log_get_max_level();

	if (fd < 0)
		return -1;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_set_max_level(level > LOG_WARNING ? level : LOG_WARNING);
	return saved;
}

/* Puts back the stderr that stderr_to_file() saved, and the log level. */
static void stderr_restore(int saved, int level)
{
	if (saved < 0)
		return;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_set_max_level(level);
}

/*
 * The whole sampler on an ext2 filesystem on a loop device, disklat with
 * room for SMALL_MAP_REQUESTS requests in flight: four windows with bursts
 * of reads in the first, second and fourth. The detail of disk.latency must
 * name the untimed requests in exactly those windows, and the warning must
 * be logged in the first and fourth only.
 */
static void test_disk_untimed_detail(void)
{
	const char *name = "disk.latency detail names untimed requests";
	const char *wname = "disk untimed warning once per streak";
	const char *rname = "disk untimed warning rate limited";
	struct signal_sample latency[4];
	struct nodecond_config cfg;
	struct sampler *s = NULL;
	struct signal_sample first[_SIGNAL_MAX];
	char mnt[128], log_path[160], phrase[96];
	const char *loop_name;
	int saved_stderr, level = log_get_max_level(), warnings, r;
	int io[4];
	struct loop_dev l;

	r = loop_create(&l, 0);
	if (r < 0) {
		printf("skip - %s: cannot create a loop device (losetup): %s\n", name, strerror(-r));
		printf("skip - %s: cannot create a loop device (losetup): %s\n", wname, strerror(-r));
		printf("skip - %s: cannot create a loop device (losetup): %s\n", rname, strerror(-r));
		return;
	}
	loop_name = strrchr(l.dev, '/') + 1;
	snprintf(phrase, sizeof(phrase), " requests not timed: more than %d requests were in flight",
		 SMALL_MAP_REQUESTS);
	r = loop_mount_ext2(&l, mnt, sizeof(mnt));
	if (r < 0) {
		printf("skip - %s: cannot make and mount an ext2 filesystem on %s (mke2fs of e2fsprogs or "
		       "busybox): %s\n", name, l.dev, strerror(-r));
		printf("skip - %s: no ext2 filesystem on %s\n", wname, l.dev);
		printf("skip - %s: no ext2 filesystem on %s\n", rname, l.dev);
		loop_destroy(&l);
		return;
	}
	/* 1 ms between warnings, so every streak can log and the streak rule alone decides. */
	if (new_disk_sampler(mnt, &cfg, 1, &s) < 0) {
		fail(name, "sampler_new failed");
		printf("skip - %s: no sampler\n", wname);
		printf("skip - %s: no sampler\n", rname);
		goto out;
	}
	sampler_collect(s, monotonic_ns(), first);

	/* The sampler logs its warning to stderr, so stderr goes to a file for the four windows. */
	snprintf(log_path, sizeof(log_path), "%s/agent.log", l.dir);
	saved_stderr = stderr_to_file(log_path);
	io[0] = sampler_tick_after_bursts(s, l.dev, 2, &latency[0]);
	io[1] = sampler_tick_after_bursts(s, l.dev, 2, &latency[1]);
	io[2] = sampler_tick_after_bursts(s, l.dev, 0, &latency[2]);
	io[3] = sampler_tick_after_bursts(s, l.dev, 2, &latency[3]);
	stderr_restore(saved_stderr, level);
	warnings = count_lines_with(log_path, "requests not timed in the window");
	unlink(log_path);

	if (strcmp(first[SIGNAL_DISK_LATENCY].source, "bpf") != 0)
		fail(name, "disk.latency comes from %s, not bpf: %s", first[SIGNAL_DISK_LATENCY].source,
		     first[SIGNAL_DISK_LATENCY].reason);
	else if (io[0] == -ENOSYS)
		printf("skip - %s: io_submit() is missing: kernel built without CONFIG_AIO\n", name);
	else if (io[0] != 2 * BURST_REQUESTS || io[1] != 2 * BURST_REQUESTS || io[3] != 2 * BURST_REQUESTS)
		fail(name, "%d, %d and %d of %d reads on %s succeeded in windows 1, 2 and 4", io[0], io[1], io[3],
		     2 * BURST_REQUESTS, l.dev);
	else if (!strstr(latency[0].detail, loop_name))
		fail(name, "%s is not watched: the detail is \"%s\"", loop_name, latency[0].detail);
	else if (!strstr(latency[0].detail, phrase))
		fail(name, "window 1 with bursts: \"%s\" lacks \"N%s\"", latency[0].detail, phrase);
	else if (!strstr(latency[1].detail, phrase))
		fail(name, "window 2 with bursts: \"%s\" lacks \"N%s\"", latency[1].detail, phrase);
	else if (strstr(latency[2].detail, "not timed"))
		fail(name, "window 3 without I/O: \"%s\" names untimed requests", latency[2].detail);
	else if (!strstr(latency[3].detail, phrase))
		fail(name, "window 4 with bursts: \"%s\" lacks \"N%s\"", latency[3].detail, phrase);
	else
		printf("ok - %s (window 1: \"%s\")\n", name, latency[0].detail);

	if (saved_stderr < 0)
		printf("skip - %s: cannot create %s to capture the log\n", wname, log_path);
	else if (strcmp(first[SIGNAL_DISK_LATENCY].source, "bpf") != 0 || io[0] == -ENOSYS)
		printf("skip - %s: disk.latency does not come from disklat, or AIO is missing\n", wname);
	else if (warnings != 2)
		fail(wname, "%d warnings naming untimed requests, expected 2 (windows 1 and 4 of 4, the first "
		     "after a window without)", warnings);
	else
		printf("ok - %s\n", wname);
	sampler_free(s);
	s = NULL;

	/* The agent's interval: of two streaks a few ticks apart, only the first logs. */
	if (saved_stderr < 0 || strcmp(first[SIGNAL_DISK_LATENCY].source, "bpf") != 0 || io[0] == -ENOSYS) {
		printf("skip - %s: no log capture, disklat or AIO\n", rname);
		goto out;
	}
	if (new_disk_sampler(mnt, &cfg, 0, &s) < 0) {
		fail(rname, "sampler_new failed");
		goto out;
	}
	sampler_collect(s, monotonic_ns(), first);
	saved_stderr = stderr_to_file(log_path);
	sampler_tick_after_bursts(s, l.dev, 2, &latency[0]);
	sampler_tick_after_bursts(s, l.dev, 0, &latency[1]);
	sampler_tick_after_bursts(s, l.dev, 2, &latency[2]);
	stderr_restore(saved_stderr, level);
	warnings = count_lines_with(log_path, "requests not timed in the window");
	unlink(log_path);
	if (saved_stderr < 0)
		printf("skip - %s: cannot create %s to capture the log\n", rname, log_path);
	else if (!strstr(latency[2].detail, phrase))
		fail(rname, "the second streak left no untimed requests: \"%s\"", latency[2].detail);
	else if (warnings != 1)
		fail(rname, "%d warnings naming untimed requests in two streaks, expected 1", warnings);
	else
		printf("ok - %s\n", rname);
	sampler_free(s);
out:
	umount(mnt);
	rmdir(mnt);
	loop_destroy(&l);
}

/*
 * Bursts of reads on the watched loop device, then a reload that points
 * nodefs and imagefs at /proc, which has no disk, and one back before the
 * next tick. Changing the disks starts the window over and drops the
 * completions counted before, so the first window after the change must not
 * name the requests lost before it either.
 */
static void test_disk_untimed_reload(void)
{
	const char *name = "disk reload leaves earlier untimed requests out";
	static struct signal_sample samples[_SIGNAL_MAX];
	struct signal_sample *latency = &samples[SIGNAL_DISK_LATENCY];
	struct nodecond_config cfg, no_disk_cfg;
	uint64_t untimed_before = 0, untimed_after = 0;
	struct sampler *s = NULL;
	struct loop_dev l;
	char mnt[128];
	int io, r;

	r = loop_create(&l, 0);
	if (r < 0) {
		printf("skip - %s: cannot create a loop device (losetup): %s\n", name, strerror(-r));
		return;
	}
	r = loop_mount_ext2(&l, mnt, sizeof(mnt));
	if (r < 0) {
		printf("skip - %s: cannot make and mount an ext2 filesystem on %s (mke2fs of e2fsprogs or "
		       "busybox): %s\n", name, l.dev, strerror(-r));
		loop_destroy(&l);
		return;
	}
	if (new_disk_sampler(mnt, &cfg, 0, &s) < 0) {
		fail(name, "sampler_new failed");
		goto out;
	}
	no_disk_cfg = cfg;
	snprintf(no_disk_cfg.nodefs_path, sizeof(no_disk_cfg.nodefs_path), "/proc");
	snprintf(no_disk_cfg.imagefs_path, sizeof(no_disk_cfg.imagefs_path), "/proc");

	sampler_collect(s, monotonic_ns(), samples);
	if (strcmp(latency->source, "bpf") != 0) {
		fail(name, "disk.latency comes from %s, not bpf: %s", latency->source, latency->reason);
		goto free_sampler;
	}
	sampler_disk_untimed_requests(s, &untimed_before);
	io = io_bursts(l.dev, 2, false);
	sampler_disk_untimed_requests(s, &untimed_after);
	sampler_reconfigure(s, &no_disk_cfg);
	sampler_collect(s, monotonic_ns(), samples);
	sampler_reconfigure(s, &cfg);
	sampler_collect(s, monotonic_ns(), samples);

	if (io == -ENOSYS)
		printf("skip - %s: io_submit() is missing: kernel built without CONFIG_AIO\n", name);
	else if (io != 2 * BURST_REQUESTS)
		fail(name, "%d of %d reads on %s succeeded", io, 2 * BURST_REQUESTS, l.dev);
	else if (untimed_after == untimed_before)
		fail(name, "the bursts on %s left no request untimed in a map of %d entries", l.dev,
		     SMALL_MAP_REQUESTS);
	else if (!latency->observed)
		fail(name, "disk.latency not observed after the reload: %s", latency->reason);
	else if (strstr(latency->detail, "not timed"))
		fail(name, "the first window after the reload names untimed requests: \"%s\"", latency->detail);
	else
		printf("ok - %s (%llu untimed before the reload, then \"%s\")\n", name,
		       (unsigned long long)(untimed_after - untimed_before), latency->detail);
free_sampler:
	sampler_free(s);
out:
	umount(mnt);
	rmdir(mnt);
	loop_destroy(&l);
}

/*
 * Opens the newest BPF hash map named "started" with max_entries entries:
 * the request map of the disklat that the calling test just loaded.
 * Returns its fd, or a negative errno.
 */
static int open_request_map(__u32 max_entries, __u32 *ret_value_size)
{
	__u32 id = 0, found = 0, value_size = 0;

	while (bpf_map_get_next_id(id, &id) == 0) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, "started") == 0 &&
		    info.max_entries == max_entries && id > found) {
			found = id;
			value_size = info.value_size;
		}
		close(fd);
	}
	if (!found)
		return -ENOENT;
	*ret_value_size = value_size;
	return bpf_map_get_fd_by_id(found);
}

/*
 * The whole sampler with a request map that the test fills with keys that
 * are no request's address, so every request to the disk goes untimed and
 * none completes timed. disk.latency must then be not observed, with a
 * reason that names the disk: a busy disk must not read as an idle one.
 */
static void test_disk_untimed_unobserved(void)
{
	const char *name = "disk with no timed request not observed";
	struct signal_sample samples[_SIGNAL_MAX], latency;
	unsigned char value[64] = { 0 };
	struct nodecond_config cfg;
	struct sampler *s = NULL;
	__u32 value_size = 0;
	const char *loop_name;
	char mnt[128];
	int map_fd = -1, io, r;
	struct loop_dev l;

	r = loop_create(&l, 0);
	if (r < 0) {
		printf("skip - %s: cannot create a loop device (losetup): %s\n", name, strerror(-r));
		return;
	}
	loop_name = strrchr(l.dev, '/') + 1;
	r = loop_mount_ext2(&l, mnt, sizeof(mnt));
	if (r < 0) {
		printf("skip - %s: cannot make and mount an ext2 filesystem on %s: %s\n", name, l.dev, strerror(-r));
		loop_destroy(&l);
		return;
	}
	if (new_disk_sampler(mnt, &cfg, 0, &s) < 0) {
		fail(name, "sampler_new failed");
		goto out;
	}
	/* Two ticks: the first opens the window, the second takes the completions of the mount's I/O. */
	sampler_collect(s, monotonic_ns(), samples);
	sampler_collect(s, monotonic_ns(), samples);
	if (strcmp(samples[SIGNAL_DISK_LATENCY].source, "bpf") != 0) {
		fail(name, "disk.latency comes from %s, not bpf: %s", samples[SIGNAL_DISK_LATENCY].source,
		     samples[SIGNAL_DISK_LATENCY].reason);
		goto free_sampler;
	}
	map_fd = open_request_map(SMALL_MAP_REQUESTS, &value_size);
	if (map_fd < 0 || value_size > sizeof(value)) {
		fail(name, "disklat's request map of %d entries not found: %s", SMALL_MAP_REQUESTS,
		     map_fd < 0 ? strerror(-map_fd) : "value larger than expected");
		goto free_sampler;
	}
	for (__u64 key = 1; key <= SMALL_MAP_REQUESTS; key++) {
		if (bpf_map_update_elem(map_fd, &key, value, BPF_ANY) < 0) {
			fail(name, "filling the request map failed: %s", strerror(errno));
			goto free_sampler;
		}
	}

	io = sampler_tick_after_bursts(s, l.dev, 2, &latency);
	if (io == -ENOSYS)
		printf("skip - %s: io_submit() is missing: kernel built without CONFIG_AIO\n", name);
	else if (io != 2 * BURST_REQUESTS)
		fail(name, "%d of %d reads on %s succeeded", io, 2 * BURST_REQUESTS, l.dev);
	else if (latency.observed)
		fail(name, "disk.latency observed as %lld ms although no request was timed: \"%s\"",
		     (long long)latency.value, latency.detail);
	else if (!strstr(latency.reason, loop_name) || !strstr(latency.reason, "no timed requests"))
		fail(name, "the reason does not name %s and the missing timed requests: \"%s\"", loop_name,
		     latency.reason);
	else if (!strstr(latency.detail, "not timed"))
		fail(name, "the detail does not count the untimed requests: \"%s\"", latency.detail);
	else
		printf("ok - %s (%s)\n", name, latency.reason);
free_sampler:
	if (map_fd >= 0)
		close(map_fd);
	sampler_free(s);
out:
	umount(mnt);
	rmdir(mnt);
	loop_destroy(&l);
}

/* ---- network namespace: drops and retransmits ---- */

static int bring_up_loopback(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0))
		r = -errno;
	close(fd);
	return r;
}

/*
 * Runs fn in a child inside a new network namespace. The child waits for a
 * byte on go before fn, so the parent can read /proc/CHILD/net first.
 */
struct netns_child {
	pid_t pid;
	int go_fd;
	int done_fd;
};

static int netns_start(struct netns_child *c, int (*fn)(void))
{
	int go[2], done[2];

	if (pipe(go) < 0 || pipe(done) < 0)
		return -errno;
	c->pid = fork();
	if (c->pid == 0) {
		char byte = 0;

		close(go[1]);
		close(done[0]);
		if (unshare(CLONE_NEWNET) < 0 || bring_up_loopback() < 0)
			byte = 1;
		if (write(done[1], &byte, 1) != 1 || byte)
			_exit(2);
		if (read(go[0], &byte, 1) != 1)
			_exit(3);
		byte = (char)fn();
		if (write(done[1], &byte, 1) != 1)
			_exit(4);
		pause();
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	c->go_fd = go[1];
	c->done_fd = done[0];
	{
		char byte = 1;

		if (read(c->done_fd, &byte, 1) != 1 || byte)
			return -EPERM;
	}
	return 0;
}

/* Lets the child run fn and waits for its result (0 for success). */
static int netns_run(struct netns_child *c)
{
	char byte = 0;

	if (write(c->go_fd, &byte, 1) != 1 || read(c->done_fd, &byte, 1) != 1)
		return -EIO;
	return byte;
}

static void netns_stop(struct netns_child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	close(c->go_fd);
	close(c->done_fd);
}

static int read_child_snmp(pid_t pid, struct netstat_snmp *ret)
{
	static char text[64 * 1024];
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/net/snmp", pid);
	if (procfs_read_file(path, text, sizeof(text)) < 0)
		return -EIO;
	return netstat_parse_snmp(text, ret);
}

static int send_to_closed_port(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 1;
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	for (int i = 0; i < UDP_DATAGRAMS; i++)
		sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	close(fd);
	return 0;
}

static int find_reason(const struct bpf_net *n, const char *reason)
{
	for (unsigned i = 0; i < NETMON_REASONS; i++)
		if (strcmp(bpf_net_reason_name(n, i), reason) == 0)
			return (int)i;
	return -1;
}

static void test_net_drops(struct bpf_net *n)
{
	const char *name = "drops in a network namespace counted with their reason";
	const char *fname = "net fallback: /proc/net/snmp NoPorts counts the same drops";
	struct netstat_snmp before, after;
	struct bpf_net_totals t0, t1;
	struct netns_child c;
	int reason;

	if (netns_start(&c, send_to_closed_port) < 0) {
		printf("skip - %s: cannot create a network namespace\n", name);
		return;
	}
	read_child_snmp(c.pid, &before);
	bpf_net_read(n, &t0);
	if (netns_run(&c) != 0) {
		fail(name, "the child could not send");
		netns_stop(&c);
		return;
	}
	bpf_net_read(n, &t1);
	read_child_snmp(c.pid, &after);
	netns_stop(&c);

	reason = find_reason(n, "NO_SOCKET");
	if (!bpf_net_has_reasons(n))
		printf("skip - %s: the kernel has no drop reasons\n", name);
	else if (reason < 0)
		fail(name, "the kernel has no NO_SOCKET drop reason");
	else if (t1.drops[reason] - t0.drops[reason] < UDP_DATAGRAMS)
		fail(name, "NO_SOCKET drops grew by %llu, expected at least %d",
		     (unsigned long long)(t1.drops[reason] - t0.drops[reason]), UDP_DATAGRAMS);
	else
		printf("ok - %s (NO_SOCKET +%llu)\n", name, (unsigned long long)(t1.drops[reason] - t0.drops[reason]));

	if (after.udp_no_ports - before.udp_no_ports != UDP_DATAGRAMS)
		fail(fname, "NoPorts grew by %llu, expected %d",
		     (unsigned long long)(after.udp_no_ports - before.udp_no_ports), UDP_DATAGRAMS);
	else
		printf("ok - %s\n", fname);
}

/* Connects over loopback, then drops every packet from the server's port and sends data. */
static int tcp_with_lost_acks(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT) };
	int server, client, accepted, one = 1;
	char cmd[256];

	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(server, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(server, 1) < 0)
		return 1;
	client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(client, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return 2;
	accepted = accept(server, NULL, NULL);
	if (accepted < 0)
		return 3;

	snprintf(cmd, sizeof(cmd),
		 "nft add table inet nodecond_test && "
		 "nft add chain inet nodecond_test out '{ type filter hook output priority 0; }' && "
		 "nft add rule inet nodecond_test out tcp sport %d drop", TCP_PORT);
	if (system(cmd) != 0)
		return 4;
	if (send(client, "data", 4, 0) != 4)
		return 5;
	/* The first retransmit waits at least 200 ms, the next ones double. */
	sleep_ms(1600);
	close(accepted);
	close(client);
	close(server);
	return 0;
}

static void test_net_retransmits(struct bpf_net *n)
{
	const char *name = "retransmits from a TCP connection whose ACKs are dropped";
	const char *fname = "net fallback: /proc/net/snmp RetransSegs counts the retransmits";
	struct netstat_snmp before, after;
	struct bpf_net_totals t0, t1;
	struct netns_child c;
	int reason, r;

	if (access("/usr/sbin/nft", X_OK) < 0) {
		printf("skip - %s: nft (package nftables) is not installed\n", name);
		return;
	}
	if (netns_start(&c, tcp_with_lost_acks) < 0) {
		printf("skip - %s: cannot create a network namespace\n", name);
		return;
	}
	read_child_snmp(c.pid, &before);
	bpf_net_read(n, &t0);
	r = netns_run(&c);
	bpf_net_read(n, &t1);
	read_child_snmp(c.pid, &after);
	netns_stop(&c);
	if (r != 0) {
		fail(name, "the connection in the namespace failed at step %d", r);
		return;
	}

	reason = find_reason(n, "NETFILTER_DROP");
	if (!bpf_net_has_retransmits(n))
		printf("skip - %s: no tcp_retransmit_skb tracepoint\n", name);
	else if (t1.retransmits - t0.retransmits < 2)
		fail(name, "retransmits grew by %llu, expected at least 2",
		     (unsigned long long)(t1.retransmits - t0.retransmits));
	else if (reason >= 0 && t1.drops[reason] - t0.drops[reason] < 2)
		fail(name, "NETFILTER_DROP drops grew by %llu, expected at least 2",
		     (unsigned long long)(t1.drops[reason] - t0.drops[reason]));
	else
		printf("ok - %s (+%llu retransmits)\n", name, (unsigned long long)(t1.retransmits - t0.retransmits));

	if (after.tcp_retrans_segs - before.tcp_retrans_segs < 2)
		fail(fname, "RetransSegs grew by %llu, expected at least 2",
		     (unsigned long long)(after.tcp_retrans_segs - before.tcp_retrans_segs));
	else
		printf("ok - %s (+%llu)\n", fname, (unsigned long long)(after.tcp_retrans_segs - before.tcp_retrans_segs));
}

static void run_net_tests(void)
{
	struct bpf_net *n;
	char reason[512];

	if (bpf_net_open(&n, reason, sizeof(reason)) < 0) {
		fail("netmon sampler opens", "%s", reason);
		return;
	}
	printf("ok - netmon sampler opens (drop reasons: %s)\n", bpf_net_has_reasons(n) ? "yes" : "no");
	test_net_drops(n);
	test_net_retransmits(n);
	bpf_net_free(n);
}

/* ---- kubelet exit ---- */

struct kubelet_capture {
	struct kubelet_exit_event events[8];
	int n;
};

static void on_kubelet_exit(const struct kubelet_exit_event *e, void *userdata)
{
	struct kubelet_capture *c = userdata;

	if (c->n < 8)
		c->events[c->n++] = *e;
}

static int copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 0755 %s", from, to, to);
	return run_command(cmd, NULL, 0);
}

static pid_t start_program(const char *path, const char *comm)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (comm)
			prctl(PR_SET_NAME, comm);
		execl(path, comm ? comm : "kubelet", "30", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void test_kubelet_exit(void)
{
	const char *name = "kubelet exit seen by executable path, not by command";
	struct kubelet_capture capture = { 0 };
	struct bpf_kubelet *k = NULL;
	char dir[] = "/var/tmp/nodecond-kubelet-XXXXXX", exe[128], decoy[128], reason[512];
	pid_t pid, decoy_pid;
	int status;

	if (!mkdtemp(dir)) {
		fail(name, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(exe, sizeof(exe), "%s/kubelet", dir);
	snprintf(decoy, sizeof(decoy), "%s/other", dir);
	if (copy_file("/bin/sleep", exe) < 0 || copy_file("/bin/sleep", decoy) < 0) {
		fail(name, "copying /bin/sleep failed");
		goto out;
	}
	if (bpf_kubelet_open(&k, on_kubelet_exit, &capture, reason, sizeof(reason)) < 0) {
		fail(name, "%s", reason);
		goto out;
	}
	if (bpf_kubelet_set_executable(k, exe) < 0) {
		fail(name, "set_executable failed");
		goto out;
	}

	pid = start_program(exe, NULL);
	/* A different binary whose command name is "kubelet" must not count. */
	decoy_pid = start_program(decoy, "kubelet");
	sleep_ms(200);
	kill(decoy_pid, SIGTERM);
	waitpid(decoy_pid, NULL, 0);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	sleep_ms(50);
	bpf_kubelet_consume(k);

	if (capture.n != 1)
		fail(name, "expected 1 exit event, got %d", capture.n);
	else if ((pid_t)capture.events[0].pid != pid)
		fail(name, "event for pid %u, expected %d", capture.events[0].pid, pid);
	else if ((capture.events[0].exit_code & 0x7f) != SIGTERM)
		fail(name, "exit status 0x%x, expected signal %d", (unsigned)capture.events[0].exit_code, SIGTERM);
	else
		printf("ok - %s (pid %d)\n", name, pid);
out:
	bpf_kubelet_free(k);
	unlink(exe);
	unlink(decoy);
	rmdir(dir);
}

/* Starts a child process that replies "HTTP/1.1 200 OK" to every connection on fd. */
static pid_t start_healthz_server(int fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	for (;;) {
		static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
		char request[1024];
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			_exit(1);
		if (read(c, request, sizeof(request)) > 0 && write(c, answer, sizeof(answer) - 1) < 0)
			_exit(2);
		close(c);
	}
}

struct wake_state {
	struct loop *loop;
	int wakes;
};

static void on_wake(void *userdata)
{
	struct wake_state *w = userdata;

	w->wakes++;
	loop_exit(w->loop, 0);
}

static void on_give_up(struct loop_source *source, void *userdata)
{
	loop_exit(userdata, 1);
}

static void test_kubelet_exit_probe(void)
{
	const char *name = "kubelet exit starts a healthz probe and an immediate re-evaluation";
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t addr_len = sizeof(addr);
	struct sampler_options opts = { 0 };
	struct signal_sample samples[_SIGNAL_MAX];
	struct sampler_event events[SAMPLER_EVENTS_MAX];
	struct wake_state w = { 0 };
	struct nodecond_config cfg;
	struct sampler *s = NULL;
	char dir[] = "/var/tmp/nodecond-kubelet-XXXXXX", exe[128];
	pid_t server = -1, kubelet = -1;
	bool seen = false;
	uint64_t dropped;
	int fd, r, n;

	if (!mkdtemp(dir)) {
		fail(name, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(exe, sizeof(exe), "%s/kubelet", dir);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	if (copy_file("/bin/sleep", exe) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, 8) < 0 || getsockname(fd, (struct sockaddr *)&addr, &addr_len) < 0) {
		fail(name, "setting up the binary or the healthz server failed: %s", strerror(errno));
		goto out;
	}
	server = start_healthz_server(fd);

	init_config(&cfg);
	snprintf(cfg.kubelet_executable, sizeof(cfg.kubelet_executable), "%s", exe);
	snprintf(cfg.kubelet_healthz_url, sizeof(cfg.kubelet_healthz_url), "http://127.0.0.1:%d/healthz",
		 ntohs(addr.sin_port));
	kubelet = start_program(exe, NULL);
	sleep_ms(100);
	if (sampler_new(&s, &cfg, &opts) < 0 || loop_new(&w.loop) < 0) {
		fail(name, "creating the sampler or the loop failed");
		goto out;
	}
	r = sampler_attach_loop(s, w.loop, on_wake, &w);
	if (r == 0)
		r = loop_add_timer(w.loop, 5000, 0, on_give_up, w.loop, NULL);
	if (r < 0) {
		fail(name, "attaching to the loop failed: %s", strerror(-r));
		goto out;
	}
	/* The first tick finds the kubelet by /proc/PID/exe and starts the per-tick probe. */
	sampler_collect(s, monotonic_ns(), samples);

	kill(kubelet, SIGTERM);
	waitpid(kubelet, NULL, 0);
	kubelet = -1;
	r = loop_run(w.loop);
	sampler_collect(s, monotonic_ns(), samples);
	n = sampler_events(s, events, SAMPLER_EVENTS_MAX, &dropped);
	for (int i = 0; i < n; i++)
		seen = seen || events[i].type == SAMPLER_EVENT_KUBELET_EXIT;

	if (r != 0 || w.wakes != 1)
		fail(name, "the sampler did not ask for a re-evaluation within 5 s (%d wakes)", w.wakes);
	else if (!seen)
		fail(name, "no kubeletExit event recorded");
	else if (!samples[SIGNAL_KUBELET_HEALTHY].observed || samples[SIGNAL_KUBELET_HEALTHY].value != 1)
		fail(name, "kubelet.healthy not 1 after the probe: %s", samples[SIGNAL_KUBELET_HEALTHY].reason);
	else
		printf("ok - %s (%s)\n", name, samples[SIGNAL_KUBELET_HEALTHY].detail);
out:
	sampler_free(s);
	loop_free(w.loop);
	if (kubelet > 0) {
		kill(kubelet, SIGKILL);
		waitpid(kubelet, NULL, 0);
	}
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	close(fd);
	unlink(exe);
	rmdir(dir);
}

static void skip_all(const char *reason)
{
	printf("skipped: %s\n", reason);
	printf("skip - kernel signal tests: %s\n", reason);
}

int main(void)
{
	char reason[512];

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_open();
	log_set_max_level(getenv("NODECOND_TEST_DEBUG") ? LOG_DEBUG : LOG_ERR);
	bpf_loader_init();

	if (geteuid() != 0) {
		skip_all("not running as root");
		return 0;
	}
	if (bpf_loader_check(reason, sizeof(reason)) < 0) {
		skip_all(reason);
		return 0;
	}

	test_oom_cgroup_kill();
	test_oom_sampler(false);
	test_oom_sampler(true);
	test_oom_system_wide(false);
	test_oom_system_wide(true);
	test_pids_cgroup_limit();
	test_disk_loop();
	test_disk_errors();
	test_disk_full_map();
	test_disk_untimed_detail();
	test_disk_untimed_reload();
	test_disk_untimed_unobserved();
	run_net_tests();
	test_kubelet_exit();
	test_kubelet_exit_probe();
	return failures ? 1 : 0;
}
