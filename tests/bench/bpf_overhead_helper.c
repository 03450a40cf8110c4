/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helper of tests/bench/bpf_overhead.sh.
 *
 *   bpf_overhead_helper attach DEV EXE   load and attach every nodecond BPF
 *                                    sampler (disklat watching block device DEV,
 *                                    kubelet watching executable EXE), print
 *                                    "ready", and keep them attached until stdin
 *                                    closes
 *   bpf_overhead_helper floor OBJ    the same with every program of BPF object
 *                                    file OBJ (the empty programs of floor.bpf.c
 *                                    or the counters of counter.bpf.c)
 *   bpf_overhead_helper forkexec N   N fork+exec+wait of /bin/true
 *   bpf_overhead_helper blockio DEV N    N direct 4 KiB reads and writes on DEV
 *   bpf_overhead_helper packets N    N UDP datagrams over loopback to a bound
 *                                    socket and N to a closed port (dropped)
 *
 * The load commands print "ops SECONDS" for the script to turn into a rate.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "daemon/bpf_disk.h"
#include "daemon/bpf_kubelet.h"
#include "daemon/bpf_loader.h"
#include "daemon/bpf_memstall.h"
#include "daemon/bpf_net.h"
#include "daemon/bpf_oomkill.h"
#include "daemon/bpf_pid.h"
#include "daemon/log.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ignore_oom(const struct oomkill_event *e, void *userdata)
{
}

static void ignore_exit(const struct kubelet_exit_event *e, void *userdata)
{
}

/* Prints "ready", then waits until the script closes standard input. */
static void wait_for_stdin_eof(void)
{
	char line[16];

	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
}

static int attach(const char *dev, const char *exe)
{
	struct bpf_memstall *memstall;
	struct bpf_pid *pid;
	struct bpf_oomkill *oom;
	struct bpf_disk *disk;
	struct bpf_net *net;
	struct bpf_kubelet *kubelet;
	char reason[512];
	struct stat st;
	int r;

	if (stat(dev, &st) < 0) {
		fprintf(stderr, "stat %s: %s\n", dev, strerror(errno));
		return 1;
	}
	bpf_loader_init();
	if (bpf_memstall_open(&memstall, reason, sizeof(reason)) < 0 ||
	    bpf_pid_open(&pid, reason, sizeof(reason)) < 0 ||
	    bpf_oomkill_open(&oom, ignore_oom, NULL, reason, sizeof(reason)) < 0 ||
	    bpf_disk_open(&disk, reason, sizeof(reason)) < 0 || bpf_net_open(&net, reason, sizeof(reason)) < 0 ||
	    bpf_kubelet_open(&kubelet, ignore_exit, NULL, reason, sizeof(reason)) < 0) {
		fprintf(stderr, "loading failed: %s\n", reason);
		return 1;
	}
	bpf_disk_set_devices(disk, &st.st_rdev, 1);
	/* A configured kubelet that the loads never execute: every exec takes
	 * the inode comparison, as on a node. */
	r = bpf_kubelet_set_executable(kubelet, exe);
	if (r < 0) {
		fprintf(stderr, "watching %s failed: %s\n", exe, strerror(-r));
		return 1;
	}
	wait_for_stdin_eof();
	bpf_kubelet_free(kubelet);
	bpf_net_free(net);
	bpf_disk_free(disk);
	bpf_oomkill_free(oom);
	bpf_pid_free(pid);
	bpf_memstall_free(memstall);
	return 0;
}

static int attach_floor(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	int n_links = 0;
	struct bpf_link *links[16];

	if (!obj || bpf_object__load(obj) < 0) {
		fprintf(stderr, "loading %s failed: %s\n", path, strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (n_links == (int)(sizeof(links) / sizeof(links[0]))) {
			fprintf(stderr, "%s has more than %d programs\n", path, n_links);
			return 1;
		}
		links[n_links] = bpf_program__attach(prog);
		if (!links[n_links]) {
			fprintf(stderr, "attaching %s failed: %s\n", bpf_program__name(prog),
				strerror(errno));
			return 1;
		}
		n_links++;
	}
	wait_for_stdin_eof();
	for (int i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}

static int forkexec(long n)
{
	double start = now_s();

	for (long i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		waitpid(p, NULL, 0);
	}
	printf("%ld %.6f\n", n, now_s() - start);
	return 0;
}

static int blockio(const char *dev, long n)
{
	void *buf;
	double start;
	int fd;

	if (posix_memalign(&buf, 4096, 4096))
		return 1;
	memset(buf, 0x5a, 4096);
	fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	start = now_s();
	for (long i = 0; i < n; i++) {
		off_t off = (off_t)(i % 4096) * 4096;

		if ((i % 2 ? pread(fd, buf, 4096, off) : pwrite(fd, buf, 4096, off)) != 4096) {
			fprintf(stderr, "I/O on %s failed: %s\n", dev, strerror(errno));
			return 1;
		}
	}
	printf("%ld %.6f\n", n, now_s() - start);
	close(fd);
	free(buf);
	return 0;
}

static int packets(long n)
{
	struct sockaddr_in open_port = { .sin_family = AF_INET }, closed = { .sin_family = AF_INET };
	socklen_t len = sizeof(open_port);
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char byte = 'x';
	double start;

	inet_pton(AF_INET, "127.0.0.1", &open_port.sin_addr);
	closed = open_port;
	closed.sin_port = htons(9);
	if (bind(rx, (struct sockaddr *)&open_port, sizeof(open_port)) < 0 ||
	    getsockname(rx, (struct sockaddr *)&open_port, &len) < 0)
		return 1;
	start = now_s();
	for (long i = 0; i < n; i++) {
		sendto(tx, &byte, 1, 0, (struct sockaddr *)&open_port, sizeof(open_port));
		recv(rx, &byte, 1, 0);
		sendto(tx, &byte, 1, 0, (struct sockaddr *)&closed, sizeof(closed));
	}
	printf("%ld %.6f\n", n, now_s() - start);
	return 0;
}

int main(int argc, char **argv)
{
	log_open();
	log_set_max_level(LOG_WARNING);
	if (argc == 4 && strcmp(argv[1], "attach") == 0)
		return attach(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "floor") == 0)
		return attach_floor(argv[2]);
	if (argc == 3 && strcmp(argv[1], "forkexec") == 0)
		return forkexec(atol(argv[2]));
	if (argc == 4 && strcmp(argv[1], "blockio") == 0)
		return blockio(argv[2], atol(argv[3]));
	if (argc == 3 && strcmp(argv[1], "packets") == 0)
		return packets(atol(argv[2]));
	fprintf(stderr, "usage: see the comment at the top of tests/bench/bpf_overhead_helper.c\n");
	return 2;
}
