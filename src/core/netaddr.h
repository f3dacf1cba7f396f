/*
 * IP addresses, CIDR ranges and the client address behind proxies. Pure
 * logic, no Kore: the dispatcher asks it who the client is
 * (TRUSTED_PROXIES), the URL validator whether a link points inside a
 * private network (core/urlhost.c).
 */
#ifndef NETADDR_H
#define NETADDR_H

#include <stddef.h>
#include <stdint.h>

/* Longest text form, NUL included (INET6_ADDRSTRLEN). */
#define NETADDR_TEXT_MAX	46

/* An IPv4 address is stored as ::ffff:a.b.c.d, so one compare fits both. */
struct netaddr {
	uint8_t		b[16];
};

struct cidr {
	struct netaddr	net;	/* masked */
	int		bits;	/* of the 128; an IPv4 /n is 96 + n */
};

/* A list of ranges, filled by cidr_list_parse(). */
#define CIDR_LIST_MAX	32

struct cidr_list {
	struct cidr	r[CIDR_LIST_MAX];
	size_t		n;
};

/*
 * Parses an address in its strict text form (dotted quad, or RFC 4291
 * IPv6 without brackets or zone). 0, or -1 when s is no address.
 */
int	netaddr_parse(const char *s, size_t len, struct netaddr *out);
/* Dotted quad for IPv4 (mapped) addresses, RFC 5952 for the rest. */
void	netaddr_format(const struct netaddr *a, char out[NETADDR_TEXT_MAX]);
int	netaddr_is_v4(const struct netaddr *a);
void	netaddr_from_v4(uint32_t host_order, struct netaddr *out);

/*
 * 1 when a is in a range no public link should point to: loopback,
 * "this network", RFC 1918 private, shared (CGNAT), link-local,
 * benchmarking, multicast, reserved and broadcast for IPv4; unspecified,
 * loopback, unique local, link-local, site-local and multicast for IPv6,
 * and the IPv4 ones behind IPv4-mapped, IPv4-compatible, NAT64 and 6to4
 * prefixes.
 */
int	netaddr_is_internal(const struct netaddr *a);

/* "10.0.0.0/8", "::1", "192.168.1.7" (a /32). 0 or -1. */
int	cidr_parse(const char *s, size_t len, struct cidr *out);
int	cidr_contains(const struct cidr *c, const struct netaddr *a);

/*
 * A comma- or blank-separated list of addresses and ranges; 0, or -1
 * with *bad pointing at the first entry that does not parse (or the one
 * past CIDR_LIST_MAX).
 */
int	cidr_list_parse(const char *s, struct cidr_list *out,
	    const char **bad);
int	cidr_list_contains(const struct cidr_list *l,
	    const struct netaddr *a);

/*
 * Who the client is. When peer is not a trusted proxy, the peer. When it
 * is, X-Forwarded-For is read from its right end: each trusted proxy
 * added the address it saw, so the first address from the right that is
 * not a trusted proxy is the client (whatever the client itself wrote
 * further left is not believed). An entry that is no address ends the
 * walk at the hop that added it. Without X-Forwarded-For, X-Real-IP when
 * it is an address. Either header may be NULL. The answer goes to *out.
 */
void	netaddr_client(const struct netaddr *peer, const char *xff,
	    const char *real_ip, const struct cidr_list *trusted,
	    struct netaddr *out);

#endif
