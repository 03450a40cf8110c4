/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network counters of one network namespace from /proc/net/snmp and
 * /proc/net/dev: the fallback sources of net.drops and net.retransmits.
 */
#ifndef NODECOND_DAEMON_NETSTAT_H
#define NODECOND_DAEMON_NETSTAT_H

#include <stdint.h>

/* Counters of /proc/net/snmp that count dropped packets, and RetransSegs. */
struct netstat_snmp {
	uint64_t ip_in_discards;
	uint64_t ip_out_discards;
	uint64_t udp_no_ports;		/* datagrams to a port without a socket */
	uint64_t udp_in_errors;		/* receive buffer overflows and checksum errors included */
	uint64_t tcp_retrans_segs;
};

/*
 * Parses /proc/net/snmp, whose sections are pairs of lines, names then
 * values ("Tcp: ... RetransSegs ..." / "Tcp: ... 12 ..."). Returns 0, or
 * -ENOENT when the Tcp RetransSegs column is missing.
 */
int netstat_parse_snmp(const char *text, struct netstat_snmp *ret);

/* Sums the receive and transmit "drop" columns of every interface in /proc/net/dev. */
int netstat_parse_dev_drops(const char *text, uint64_t *ret);

/* The drops netstat_parse_snmp() found, summed. */
uint64_t netstat_snmp_drops(const struct netstat_snmp *s);

#endif
