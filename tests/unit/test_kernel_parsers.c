/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers and pure helpers behind the kernel signals: /dev/kmsg OOM
 * reports, /proc/net/snmp and /proc/net/dev, /proc/diskstats, partitions
 * mapped to their disk in a fake sysfs tree, the disk latency histogram,
 * the kubelet healthz URL and status line, and cgroup mounts.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include <linux/types.h>

#include "bpf/disklat.h"
#include "daemon/disk_hist.h"
#include "daemon/diskstats.h"
#include "daemon/kmsg.h"
#include "daemon/kubelet_probe.h"
#include "daemon/netstat.h"
#include "daemon/procfs.h"

static void kmsg_killed_at_cgroup_limit(void **state)
{
	static const char record[] =
		"3,1234,5678901,-;Memory cgroup out of memory: Killed process 4242 (nc-oom-victim) "
		"total-vm:270000kB, anon-rss:16000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:600kB oom_score_adj:0\n"
		" SUBSYSTEM=memory\n";
	struct kmsg_oom oom;

	assert_int_equal(kmsg_parse_oom(record, &oom), 0);
	assert_int_equal(oom.line, KMSG_OOM_KILLED);
	assert_int_equal(oom.scope, KMSG_OOM_CGROUP);
	assert_int_equal(oom.pid, 4242);
	assert_string_equal(oom.comm, "nc-oom-victim");
}

static void kmsg_killed_system_wide(void **state)
{
	struct kmsg_oom oom;

	assert_int_equal(kmsg_parse_oom("3,1,2,-;Out of memory: Killed process 17 (java) total-vm:1kB\n", &oom), 0);
	assert_int_equal(oom.scope, KMSG_OOM_SYSTEM);
	assert_int_equal(oom.pid, 17);
	assert_string_equal(oom.comm, "java");
	assert_int_equal(kmsg_parse_oom("Out of memory (oom_kill_allocating_task): Killed process 18 (a b) total-vm:1kB",
					&oom), 0);
	assert_int_equal(oom.scope, KMSG_OOM_SYSTEM);
	assert_string_equal(oom.comm, "a b");
}

static void kmsg_command_with_parenthesis(void **state)
{
	struct kmsg_oom oom;

	assert_int_equal(kmsg_parse_oom("3,1,2,-;Out of memory: Killed process 5 (x) y) total-vm:1kB\n", &oom), 0);
	assert_string_equal(oom.comm, "x) y");
}

static void kmsg_constraint_summary(void **state)
{
	static const char record[] =
		"6,99,1000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
		"oom_memcg=/pod1,task_memcg=/pod1,task=web,1,pid=77,uid=0\n";
	struct kmsg_oom oom;

	assert_int_equal(kmsg_parse_oom(record, &oom), 0);
	assert_int_equal(oom.line, KMSG_OOM_CONSTRAINT);
	assert_int_equal(oom.scope, KMSG_OOM_CGROUP);
	assert_string_equal(oom.constraint, "CONSTRAINT_MEMCG");
	assert_string_equal(oom.comm, "web,1");
	assert_int_equal(oom.pid, 77);
	assert_int_equal(kmsg_parse_oom("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=a,pid=3,uid=0", &oom),
			 0);
	assert_int_equal(oom.scope, KMSG_OOM_SYSTEM);
}

static void kmsg_other_records_ignored(void **state)
{
	struct kmsg_oom oom;

	assert_int_equal(kmsg_parse_oom("6,1,2,-;eth0: link up\n", &oom), -ENOENT);
	assert_int_equal(kmsg_parse_oom("6,1,2,-;audit: Killed process 3 (x)\n", &oom), -ENOENT);
	assert_int_equal(kmsg_parse_oom("3,1,2,-;Out of memory: Killed process abc (x)\n", &oom), -EINVAL);
	assert_int_equal(kmsg_parse_oom("oom-kill:constraint=CONSTRAINT_NONE,task=a\n", &oom), -EINVAL);
}

static const char snmp_text[] =
	"Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes\n"
	"Ip: 1 64 1000 0 0 0 0 7 990 800 3 0\n"
	"Icmp: InMsgs InErrors\n"
	"Icmp: 5 0\n"
	"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
	"Tcp: 1 200 120000 -1 10 10 0 0 2 500 480 42 0 1 0\n"
	"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n"
	"Udp: 100 11 2 90 2 0 0 0 0\n";

static void snmp_counters(void **state)
{
	struct netstat_snmp s;

	assert_int_equal(netstat_parse_snmp(snmp_text, &s), 0);
	assert_int_equal(s.tcp_retrans_segs, 42);
	assert_int_equal(s.ip_in_discards, 7);
	assert_int_equal(s.ip_out_discards, 3);
	assert_int_equal(s.udp_no_ports, 11);
	assert_int_equal(s.udp_in_errors, 2);
	assert_int_equal(netstat_snmp_drops(&s), 23);
}

static void snmp_without_tcp_rejected(void **state)
{
	struct netstat_snmp s;

	assert_int_equal(netstat_parse_snmp("Ip: Forwarding\nIp: 1\n", &s), -ENOENT);
	assert_int_equal(netstat_parse_snmp("Tcp: RetransSegs\nTcp: many\n", &s), -EINVAL);
}

static void dev_drops_summed(void **state)
{
	static const char text[] =
		"Inter-|   Receive                                                |  Transmit\n"
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
		"    lo:  1000      10    0    1    0     0          0         0     1000      10    0    2    0     0       0          0\n"
		"  eth0: 9000      90    1    4    0     0          0         0     8000      80    0    8    0     0       0          0\n";
	uint64_t drops;

	assert_int_equal(netstat_parse_dev_drops(text, &drops), 0);
	assert_int_equal(drops, 15);
	assert_int_equal(netstat_parse_dev_drops("Inter-| x\n face |y\n", &drops), -ENOENT);
	assert_int_equal(netstat_parse_dev_drops("lo: 1 2 3\n", &drops), -EINVAL);
}

static void diskstats_kernel_layouts(void **state)
{
	static const char text[] =
		/* Linux 5.5 and later: 17 numbers after the name. */
		" 254       0 vda 100 0 800 40 50 0 400 60 0 90 100 5 0 40 3 2 7\n"
		/* Before 4.18: 11 numbers. */
		"   7       0 loop0 10 0 80 4 20 0 160 6 0 9 10\n"
		/* Linux 4.18 to 5.4: discards, no flushes. */
		"   8       0 sda 1 0 8 1 2 0 16 2 0 3 3 4 0 32 5\n";
	struct diskstats d;

	assert_int_equal(diskstats_parse(text, 254, 0, &d), 0);
	assert_int_equal(d.ios, 100 + 50 + 5 + 2);
	assert_int_equal(d.io_ms, 40 + 60 + 3 + 7);
	assert_int_equal(diskstats_parse(text, 7, 0, &d), 0);
	assert_int_equal(d.ios, 30);
	assert_int_equal(d.io_ms, 10);
	assert_int_equal(diskstats_parse(text, 8, 0, &d), 0);
	assert_int_equal(d.ios, 1 + 2 + 4);
	assert_int_equal(d.io_ms, 1 + 2 + 5);
	assert_int_equal(diskstats_parse(text, 9, 9, &d), -ENOENT);
	assert_int_equal(diskstats_parse("  1 2 short 3\n", 1, 2, &d), -EINVAL);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A fake sysfs: sda with partition sda1, and dm-0 on top of sda1 and sdb. */
static void partitions_map_to_disks(void **state)
{
	char root[] = "/tmp/nodecond-sysfs-XXXXXX", path[PATH_MAX], cmd[PATH_MAX * 2];
	char names[4][32];
	dev_t disks[4];

	assert_non_null(mkdtemp(root));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p dev/block devices/sda/sda1 devices/sdb devices/dm-0/slaves && "
		 "ln -s ../../devices/sda dev/block/8:0 && ln -s ../../devices/sda/sda1 dev/block/8:1 && "
		 "ln -s ../../devices/sdb dev/block/8:16 && ln -s ../../devices/dm-0 dev/block/253:0 && "
		 "ln -s ../../sda/sda1 devices/dm-0/slaves/sda1 && ln -s ../../sdb devices/dm-0/slaves/sdb",
		 root);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/devices/sda/dev", root);
	write_text(path, "8:0\n");
	snprintf(path, sizeof(path), "%s/devices/sda/sda1/dev", root);
	write_text(path, "8:1\n");
	snprintf(path, sizeof(path), "%s/devices/sda/sda1/partition", root);
	write_text(path, "1\n");
	snprintf(path, sizeof(path), "%s/devices/sdb/dev", root);
	write_text(path, "8:16\n");
	snprintf(path, sizeof(path), "%s/devices/dm-0/dev", root);
	write_text(path, "253:0\n");

	assert_int_equal(diskstats_disks_of_dev(root, makedev(8, 1), disks, names, 4), 1);
	assert_int_equal(disks[0], makedev(8, 0));
	assert_string_equal(names[0], "sda");
	assert_int_equal(diskstats_disks_of_dev(root, makedev(8, 0), disks, names, 4), 1);
	assert_int_equal(disks[0], makedev(8, 0));
	assert_int_equal(diskstats_disks_of_dev(root, makedev(253, 0), disks, names, 4), 2);
	assert_true((disks[0] == makedev(8, 0) && disks[1] == makedev(8, 16)) ||
		    (disks[1] == makedev(8, 0) && disks[0] == makedev(8, 16)));
	assert_int_equal(diskstats_disks_of_dev(root, makedev(0, 42), disks, names, 4), 0);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void histogram_buckets(void **state)
{
	uint64_t lower, upper;

	for (uint64_t us = 0; us < 8; us++)
		assert_int_equal(disk_hist_bucket(us), us);
	assert_int_equal(disk_hist_bucket(8), 8);
	assert_int_equal(disk_hist_bucket(15), 15);
	assert_int_equal(disk_hist_bucket(16), 16);
	assert_int_equal(disk_hist_bucket(UINT64_MAX), DISKLAT_BUCKETS - 1);
	/* Every value lies inside its own bucket's bounds. */
	for (uint64_t us = 1; us < (1ULL << 25); us = us * 3 / 2 + 1) {
		disk_hist_bucket_bounds(disk_hist_bucket(us), &lower, &upper);
		assert_true(lower <= us && us < upper);
		assert_true(upper - lower <= lower / 8 + 1);
	}
}

static void histogram_resolves_thresholds(void **state)
{
	/* 1100 ms and 2000 ms must not share a bucket, nor 1900 ms and 2100 ms. */
	assert_true(disk_hist_bucket(1100000) != disk_hist_bucket(2000000));
	assert_true(disk_hist_bucket(1900000) < disk_hist_bucket(2100000));
}

static void histogram_percentiles(void **state)
{
	uint64_t hist[DISKLAT_BUCKETS] = { 0 };
	uint64_t lower, upper, p50, p99;

	assert_int_equal(disk_hist_percentile_us(hist, DISKLAT_BUCKETS, 990), 0);
	/* 99 fast requests (100 us) and one slow (2 s): p50 is fast, p99 at the fast bucket's top. */
	hist[disk_hist_bucket(100)] = 99;
	hist[disk_hist_bucket(2000000)] = 1;
	p50 = disk_hist_percentile_us(hist, DISKLAT_BUCKETS, 500);
	p99 = disk_hist_percentile_us(hist, DISKLAT_BUCKETS, 990);
	disk_hist_bucket_bounds(disk_hist_bucket(100), &lower, &upper);
	assert_true(p50 >= lower && p50 < upper);
	assert_true(p99 >= lower && p99 <= upper);
	/* Two slow requests in 100 make the p99 slow. */
	hist[disk_hist_bucket(100)] = 98;
	hist[disk_hist_bucket(2000000)] = 2;
	p99 = disk_hist_percentile_us(hist, DISKLAT_BUCKETS, 990);
	disk_hist_bucket_bounds(disk_hist_bucket(2000000), &lower, &upper);
	assert_true(p99 >= lower && p99 <= upper);
	assert_true(p99 > 1900000);
}

static void probe_urls(void **state)
{
	struct kubelet_probe_target t;
	struct sockaddr_in *sin = (struct sockaddr_in *)&t.addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t.addr;

	assert_int_equal(kubelet_probe_parse_url("http://127.0.0.1:10248/healthz", &t), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 10248);
	assert_string_equal(t.path, "/healthz");
	assert_string_equal(t.host, "127.0.0.1:10248");
	assert_int_equal(kubelet_probe_parse_url("http://localhost:8080", &t), 0);
	assert_int_equal(ntohs(sin->sin_port), 8080);
	assert_string_equal(t.path, "/");
	assert_int_equal(kubelet_probe_parse_url("http://[::1]:10248/healthz", &t), 0);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 10248);
	assert_int_equal(kubelet_probe_parse_url("http://10.0.0.1/x", &t), 0);
	assert_int_equal(ntohs(sin->sin_port), 80);

	assert_int_equal(kubelet_probe_parse_url("https://127.0.0.1:10250/healthz", &t), -EPROTONOSUPPORT);
	assert_int_equal(kubelet_probe_parse_url("http://kubelet.local:10248/healthz", &t), -EINVAL);
	assert_int_equal(kubelet_probe_parse_url("http://127.0.0.1:99999/", &t), -EINVAL);
	assert_int_equal(kubelet_probe_parse_url("http://127.0.0.1:/", &t), -EINVAL);
	assert_int_equal(kubelet_probe_parse_url("ftp://127.0.0.1/", &t), -EINVAL);
	assert_int_equal(kubelet_probe_parse_url("http://[::1/", &t), -EINVAL);
}

static void probe_status_lines(void **state)
{
	assert_int_equal(kubelet_probe_parse_status("HTTP/1.1 200 OK\r\n"), 200);
	assert_int_equal(kubelet_probe_parse_status("HTTP/1.0 500 Internal Server Error\r\n"), 500);
	assert_int_equal(kubelet_probe_parse_status("HTTP/2 200\r\n"), -EINVAL);
	assert_int_equal(kubelet_probe_parse_status("SSH-2.0-OpenSSH\r\n"), -EINVAL);
	assert_int_equal(kubelet_probe_parse_status(""), -EINVAL);
}

static void cgroup_mounts(void **state)
{
	static const char hybrid[] =
		"30 24 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:5 - cgroup2 cgroup2 rw\n"
		"31 24 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:6 - cgroup cgroup rw,memory\n"
		"32 24 0:28 / /sys/fs/cgroup/pids rw,nosuid shared:7 - cgroup cgroup rw,pids\n"
		"33 24 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:8 - cgroup cgroup rw,cpu,cpuacct\n";
	static const char v2[] = "30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:5 - cgroup2 cgroup2 rw,nsdelegate\n";
	char buf[256];

	assert_int_equal(procfs_find_cgroup_mount(hybrid, "memory", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/memory");
	assert_int_equal(procfs_find_cgroup_mount(hybrid, "pids", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/pids");
	assert_int_equal(procfs_find_cgroup_mount(hybrid, "cpuacct", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/cpu,cpuacct");
	assert_int_equal(procfs_find_cgroup_mount(hybrid, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/unified");
	assert_int_equal(procfs_find_cgroup_mount(v2, "memory", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "");
	assert_int_equal(procfs_find_cgroup_mount(v2, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kmsg_killed_at_cgroup_limit),
		cmocka_unit_test(kmsg_killed_system_wide),
		cmocka_unit_test(kmsg_command_with_parenthesis),
		cmocka_unit_test(kmsg_constraint_summary),
		cmocka_unit_test(kmsg_other_records_ignored),
		cmocka_unit_test(snmp_counters),
		cmocka_unit_test(snmp_without_tcp_rejected),
		cmocka_unit_test(dev_drops_summed),
		cmocka_unit_test(diskstats_kernel_layouts),
		cmocka_unit_test(partitions_map_to_disks),
		cmocka_unit_test(histogram_buckets),
		cmocka_unit_test(histogram_resolves_thresholds),
		cmocka_unit_test(histogram_percentiles),
		cmocka_unit_test(probe_urls),
		cmocka_unit_test(probe_status_lines),
		cmocka_unit_test(cgroup_mounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
