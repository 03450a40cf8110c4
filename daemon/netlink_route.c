/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/netlink_route.h"

/* Large enough for a page of dump messages, as the kernel sends them. */
#define NETLINK_BUFFER_SIZE 32768

static int dump_request(int fd, uint16_t type, unsigned char family, uint32_t seq)
{
	/* rtm_family and ifi_family are both the first byte of the payload. */
	struct {
		struct nlmsghdr nh;
		union {
			struct rtmsg rtm;
			struct ifinfomsg ifi;
		} u;
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(type == RTM_GETLINK ? sizeof(struct ifinfomsg) : sizeof(struct rtmsg));
	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = seq;
	req.u.rtm.rtm_family = family;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

static void add_ifindex(struct route_state *st, int ifindex)
{
	for (int i = 0; i < st->n_default_links; i++)
		if (st->default_ifindex[i] == ifindex)
			return;
	if (st->n_default_links < NETLINK_ROUTE_LINKS_MAX)
		st->default_ifindex[st->n_default_links++] = ifindex;
}

static void handle_route(struct nlmsghdr *nh, struct route_state *st)
{
	struct rtmsg *rtm = NLMSG_DATA(nh);
	int len = (int)RTM_PAYLOAD(nh);
	uint32_t table = rtm->rtm_table;
	int oif = 0;
	struct rtattr *multipath = NULL;

	if (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
		return;
	for (struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_TABLE)
			table = *(uint32_t *)RTA_DATA(a);
		else if (a->rta_type == RTA_OIF)
			oif = *(int *)RTA_DATA(a);
		else if (a->rta_type == RTA_MULTIPATH)
			multipath = a;
	}
	if (table != RT_TABLE_MAIN)
		return;

	st->has_default_route = true;
	if (oif > 0)
		add_ifindex(st, oif);
	if (multipath) {
		struct rtnexthop *nh_hop = RTA_DATA(multipath);
		int left = (int)RTA_PAYLOAD(multipath);

		while (left >= (int)sizeof(*nh_hop) && nh_hop->rtnh_len >= sizeof(*nh_hop) &&
		       nh_hop->rtnh_len <= left) {
			add_ifindex(st, nh_hop->rtnh_ifindex);
			left -= NLMSG_ALIGN(nh_hop->rtnh_len);
			nh_hop = RTNH_NEXT(nh_hop);
		}
	}
}

static void handle_link(struct nlmsghdr *nh, struct route_state *st)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	unsigned flags = ifi->ifi_flags;

	if (!(flags & IFF_UP) || !(flags & IFF_LOWER_UP))
		return;
	for (int i = 0; i < st->n_default_links; i++)
		if (st->default_ifindex[i] == ifi->ifi_index)
			st->n_route_links++;
}

/* Reads one dump to its end, handing each message to the handler. */
static int read_dump(int fd, uint32_t seq, char *buf, struct route_state *st,
		     void (*handler)(struct nlmsghdr *, struct route_state *))
{
	for (;;) {
		ssize_t n = recv(fd, buf, NETLINK_BUFFER_SIZE, 0);
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)n;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error ? e->error : -EIO;
			}
			handler(nh, st);
		}
	}
}

int netlink_route_read(struct route_state *ret)
{
	static const unsigned char families[] = { AF_INET, AF_INET6 };
	static char buf[NETLINK_BUFFER_SIZE] __attribute__((aligned(4)));
	static uint32_t seq;
	struct timeval timeout = { .tv_sec = 1 };
	int fd, r = 0;

	memset(ret, 0, sizeof(*ret));
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* A dump never takes this long; the timeout only guards the tick. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

	for (size_t i = 0; i < sizeof(families) && r == 0; i++) {
		r = dump_request(fd, RTM_GETROUTE, families[i], ++seq);
		if (r == 0)
			r = read_dump(fd, seq, buf, ret, handle_route);
		/* A kernel without IPv6 answers the IPv6 dump with an error. */
		if (r == -EAFNOSUPPORT && families[i] == AF_INET6)
			r = 0;
	}
	if (r == 0 && ret->n_default_links > 0) {
		r = dump_request(fd, RTM_GETLINK, AF_UNSPEC, ++seq);
		if (r == 0)
			r = read_dump(fd, seq, buf, ret, handle_link);
	}
	close(fd);
	return r;
}
