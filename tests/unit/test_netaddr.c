/*
 * Addresses, ranges and the client address behind trusted proxies: what
 * may be believed of X-Forwarded-For and X-Real-IP, and what not.
 */

#include <criterion/criterion.h>

#include <string.h>

#include "core/netaddr.h"

static struct netaddr
addr(const char *s)
{
	struct netaddr	a;

	cr_assert_eq(netaddr_parse(s, strlen(s), &a), 0, "%s", s);
	return (a);
}

static const char *
text(const struct netaddr *a)
{
	static char	buf[NETADDR_TEXT_MAX];

	netaddr_format(a, buf);
	return (buf);
}

static const char *
client(const char *peer, const char *xff, const char *real,
    const char *trusted)
{
	struct cidr_list	l;
	struct netaddr		p, out;
	const char		*bad;

	cr_assert_eq(cidr_list_parse(trusted, &l, &bad), 0);
	p = addr(peer);
	netaddr_client(&p, xff, real, &l, &out);
	return (text(&out));
}

Test(netaddr, parse_and_format)
{
	struct netaddr	a;

	cr_expect_str_eq(text(&(struct netaddr){ 0 }), "::");
	a = addr("192.0.2.7");
	cr_expect(netaddr_is_v4(&a));
	cr_expect_str_eq(text(&a), "192.0.2.7");
	a = addr("2001:DB8::1");
	cr_expect_not(netaddr_is_v4(&a));
	cr_expect_str_eq(text(&a), "2001:db8::1");
	a = addr("::ffff:10.0.0.1");
	cr_expect(netaddr_is_v4(&a));
	cr_expect_str_eq(text(&a), "10.0.0.1");
	cr_expect_eq(netaddr_parse("127.1", 5, &a), -1);
	cr_expect_eq(netaddr_parse("0177.0.0.1", 10, &a), -1);
	cr_expect_eq(netaddr_parse("1.2.3.4 ", 8, &a), -1);
	cr_expect_eq(netaddr_parse("fe80::1%eth0", 12, &a), -1);
	cr_expect_eq(netaddr_parse("", 0, &a), -1);
	cr_expect_eq(netaddr_parse("1.2.3.4\0", 8, &a), -1);
}

Test(netaddr, cidr)
{
	struct cidr	c;
	struct netaddr	a;

	cr_assert_eq(cidr_parse("10.0.0.0/8", 10, &c), 0);
	a = addr("10.200.3.4");
	cr_expect(cidr_contains(&c, &a));
	a = addr("11.0.0.1");
	cr_expect_not(cidr_contains(&c, &a));
	a = addr("::ffff:10.0.0.1");
	cr_expect(cidr_contains(&c, &a));

	cr_assert_eq(cidr_parse("172.16.5.9/12", 13, &c), 0);	/* masked */
	a = addr("172.31.0.1");
	cr_expect(cidr_contains(&c, &a));
	a = addr("172.32.0.1");
	cr_expect_not(cidr_contains(&c, &a));

	cr_assert_eq(cidr_parse("fd00::/8", 8, &c), 0);
	a = addr("fd12::1");
	cr_expect(cidr_contains(&c, &a));
	a = addr("fe80::1");
	cr_expect_not(cidr_contains(&c, &a));

	cr_assert_eq(cidr_parse("0.0.0.0/0", 9, &c), 0);
	a = addr("8.8.8.8");
	cr_expect(cidr_contains(&c, &a));
	a = addr("2001:db8::1");
	cr_expect_not(cidr_contains(&c, &a));

	cr_assert_eq(cidr_parse("203.0.113.9", 11, &c), 0);	/* a /32 */
	a = addr("203.0.113.9");
	cr_expect(cidr_contains(&c, &a));
	a = addr("203.0.113.10");
	cr_expect_not(cidr_contains(&c, &a));

	cr_expect_eq(cidr_parse("10.0.0.0/33", 11, &c), -1);
	cr_expect_eq(cidr_parse("::/129", 6, &c), -1);
	cr_expect_eq(cidr_parse("10.0.0.0/", 9, &c), -1);
	cr_expect_eq(cidr_parse("10.0.0.0/8x", 11, &c), -1);
	cr_expect_eq(cidr_parse("nginx/8", 7, &c), -1);
}

Test(netaddr, lists)
{
	struct cidr_list	l;
	const char		*bad;

	cr_assert_eq(cidr_list_parse("", &l, &bad), 0);
	cr_expect_eq(l.n, 0);
	cr_assert_eq(cidr_list_parse(" 127.0.0.1, 10.0.0.0/8 ::1 ,,", &l,
	    &bad), 0);
	cr_expect_eq(l.n, 3);
	cr_assert_eq(cidr_list_parse("127.0.0.1,nginx,::1", &l, &bad), -1);
	cr_expect_str_eq(bad, "nginx,::1");
}

Test(netaddr, internal_ranges)
{
	static const char *const	in[] = {
		"127.0.0.1", "10.1.1.1", "172.16.0.1", "192.168.0.1",
		"169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.251",
		"255.255.255.255", "::1", "::", "fe80::1", "fc00::1",
		"ff02::1", "::ffff:192.168.0.1", "::127.0.0.1",
		"64:ff9b::7f00:1", "2002:a00:1::", "2001:db8::1", NULL
	};
	static const char *const	out[] = {
		"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.0",
		"100.128.0.0", "2001:4860:4860::8888", "64:ff9b::808:808",
		"2002:808:808::", NULL
	};
	struct netaddr	a;
	size_t		i;

	for (i = 0; in[i] != NULL; i++) {
		a = addr(in[i]);
		cr_expect(netaddr_is_internal(&a), "%s", in[i]);
	}
	for (i = 0; out[i] != NULL; i++) {
		a = addr(out[i]);
		cr_expect_not(netaddr_is_internal(&a), "%s", out[i]);
	}
}

Test(netaddr, the_client_of_an_untrusted_peer_is_the_peer)
{
	cr_expect_str_eq(client("203.0.113.5", "1.2.3.4", "1.2.3.4", ""),
	    "203.0.113.5");
	cr_expect_str_eq(client("203.0.113.5", "1.2.3.4", "1.2.3.4",
	    "127.0.0.1"), "203.0.113.5");
}

Test(netaddr, a_trusted_proxy_names_the_client)
{
	/* nginx alone: it overwrites X-Forwarded-For with what it saw. */
	cr_expect_str_eq(client("127.0.0.1", "198.51.100.7", NULL,
	    "127.0.0.1"), "198.51.100.7");
	cr_expect_str_eq(client("127.0.0.1", NULL, "198.51.100.7",
	    "127.0.0.1"), "198.51.100.7");
	/* What the client wrote on the left is not believed. */
	cr_expect_str_eq(client("10.0.0.2", "6.6.6.6, 198.51.100.7",
	    NULL, "10.0.0.0/8"), "198.51.100.7");
	/* A chain of trusted proxies is walked through. */
	cr_expect_str_eq(client("10.0.0.2", "198.51.100.7, 10.0.0.9,10.0.0.3",
	    NULL, "10.0.0.0/8"), "198.51.100.7");
	/* All trusted: the leftmost. */
	cr_expect_str_eq(client("10.0.0.2", "10.0.0.5, 10.0.0.9", NULL,
	    "10.0.0.0/8"), "10.0.0.5");
	/* Garbage stops the walk at the hop that added it. */
	cr_expect_str_eq(client("10.0.0.2", "1.1.1.1, unknown, 10.0.0.9",
	    NULL, "10.0.0.0/8"), "10.0.0.9");
	cr_expect_str_eq(client("10.0.0.2", "not-an-address", NULL,
	    "10.0.0.0/8"), "10.0.0.2");
	cr_expect_str_eq(client("127.0.0.1", NULL, "localhost",
	    "127.0.0.1"), "127.0.0.1");
	/* IPv6 peers and clients. */
	cr_expect_str_eq(client("::1", "2001:db8::7", NULL, "::1"),
	    "2001:db8::7");
}
