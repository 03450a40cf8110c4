/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Default routes and the links that carry them, read over rtnetlink.
 */
#ifndef NODECOND_DAEMON_NETLINK_ROUTE_H
#define NODECOND_DAEMON_NETLINK_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#define NETLINK_ROUTE_LINKS_MAX 64

struct route_state {
	bool has_default_route;       /* IPv4 or IPv6, main table */
	int n_route_links;            /* links with a default route, up with carrier */
	int n_default_links;          /* links with a default route, in any state */
	int default_ifindex[NETLINK_ROUTE_LINKS_MAX];
};

/* Reads the current default routes and their links' state. Returns 0 or -errno. */
int netlink_route_read(struct route_state *ret);

#endif
