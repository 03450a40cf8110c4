/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/netstat.h"

/* Returns the value under column name of the section whose lines start with prefix ("Tcp:"). */
static int snmp_value(const char *text, const char *prefix, const char *name, uint64_t *ret)
{
	size_t plen = strlen(prefix);
	const char *line = text;

	while (line && *line) {
		const char *next = strchr(line, '\n');

		if (strncmp(line, prefix, plen) == 0 && next && strncmp(next + 1, prefix, plen) == 0) {
			const char *names = line + plen, *values = next + 1 + plen;
			const char *names_end = next, *values_end = values + strcspn(values, "\n");

			/* Walk both lines column by column. */
			while (names < names_end && values < values_end) {
				size_t nlen, vlen;

				names += strspn(names, " ");
				values += strspn(values, " ");
				nlen = strcspn(names, " \n");
				vlen = strcspn(values, " \n");
				if (nlen == 0 || vlen == 0)
					break;
				if (nlen == strlen(name) && strncmp(names, name, nlen) == 0) {
					char *end;

					errno = 0;
					*ret = strtoull(values, &end, 10);
					if (errno || end == values)
						return -EINVAL;
					return 0;
				}
				names += nlen;
				values += vlen;
			}
			return -ENOENT;
		}
		line = next ? next + 1 : NULL;
	}
	return -ENOENT;
}

int netstat_parse_snmp(const char *text, struct netstat_snmp *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	r = snmp_value(text, "Tcp:", "RetransSegs", &ret->tcp_retrans_segs);
	if (r < 0)
		return r;
	/* The others are optional: a kernel without IPv4 UDP statistics still has TCP's. */
	snmp_value(text, "Ip:", "InDiscards", &ret->ip_in_discards);
	snmp_value(text, "Ip:", "OutDiscards", &ret->ip_out_discards);
	snmp_value(text, "Udp:", "NoPorts", &ret->udp_no_ports);
	snmp_value(text, "Udp:", "InErrors", &ret->udp_in_errors);
	return 0;
}

uint64_t netstat_snmp_drops(const struct netstat_snmp *s)
{
	return s->ip_in_discards + s->ip_out_discards + s->udp_no_ports + s->udp_in_errors;
}

int netstat_parse_dev_drops(const char *text, uint64_t *ret)
{
	const char *line = text;
	uint64_t total = 0;
	int interfaces = 0;

	while (line && *line) {
		const char *colon = strchr(line, ':');
		const char *next = strchr(line, '\n');
		unsigned long long f[16];

		/* The two header lines have '|' before any ':'. */
		if (colon && (!next || colon < next) && !memchr(line, '|', (size_t)(colon - line))) {
			if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
				   &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10],
				   &f[11]) != 12)
				return -EINVAL;
			/* Receive: bytes packets errs drop ...; transmit starts at the ninth. */
			total += f[3] + f[11];
			interfaces++;
		}
		line = next ? next + 1 : NULL;
	}
	if (interfaces == 0)
		return -ENOENT;
	*ret = total;
	return 0;
}
