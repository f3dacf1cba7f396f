/*
 * Client addresses and ranges (core/netaddr.c): the TRUSTED_PROXIES
 * list an operator writes, the X-Forwarded-For and X-Real-IP headers any
 * client can send through a proxy, and the addresses the URL validator
 * reads out of link hosts.
 *
 * Input: a selector byte, 16 bytes of an address, 16 of a peer, then
 * NUL-separated strings: an address, a range, a range list, an
 * X-Forwarded-For value and an X-Real-IP value.
 *
 * Properties: a parsed address is written back (netaddr_format) in a
 * form that parses to the same address and is its own canonical form
 * (dotted quad for IPv4, lowercase RFC 5952 for IPv6, within
 * NETADDR_TEXT_MAX); netaddr_is_v4 is the ::ffff:0:0/96 prefix; a range
 * parses exactly when its address does and its prefix (1 to 3 digits)
 * fits the family, its network has no bit past the prefix, holds itself,
 * and cidr_contains() agrees with a bit-by-bit comparison; a list parses
 * exactly when every entry (split at commas and blanks) does and there
 * are at most CIDR_LIST_MAX, and it contains what one of its ranges
 * contains; an address in a range this project must refuse links to
 * (the IPv4 ones the header lists, and the same behind the mapped,
 * compatible, NAT64 and 6to4 prefixes) is internal; the client behind
 * proxies is what a model of the right-to-left walk says: the peer when
 * it is not trusted, else the first entry from the right that is not a
 * trusted proxy, stopping at the last good hop before an entry that is
 * no address (blanks and tabs around an entry do not count), X-Real-IP,
 * as it is, only without X-Forwarded-For.
 */

#include <string.h>

#include "core/netaddr.h"
#include "fuzz.h"

#define STRINGS	5

static void	check_address(const char *);
static void	check_cidr(const char *, const struct netaddr *);
static void	check_list(const char *, const struct netaddr *,
		    struct cidr_list *);
static void	check_internal(const struct netaddr *);
static void	check_client(const struct netaddr *, const char *,
		    const char *, const struct cidr_list *);
static int	in_prefix(const struct netaddr *, const struct netaddr *,
		    int);
static int	parse_entry(const char *, size_t, struct netaddr *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netaddr		 a, peer;
	struct cidr_list	 list;
	char			*text, *s[STRINGS];
	size_t			 n, off, i;
	uint8_t			 sel;

	if (size < 33)
		return (0);
	sel = data[0];
	memcpy(a.b, data + 1, 16);
	memcpy(peer.b, data + 17, 16);
	/* Often IPv4, as most clients and proxies are. */
	if (sel & 1)
		memcpy(a.b, (const uint8_t[12]){ [10] = 0xff, [11] = 0xff }, 12);
	if (sel & 2)
		memcpy(peer.b, (const uint8_t[12]){ [10] = 0xff, [11] = 0xff },
		    12);
	n = size - 33;
	if ((text = malloc(n + 1)) == NULL)
		abort();
	memcpy(text, data + 33, n);
	text[n] = '\0';
	for (i = 0, off = 0; i < STRINGS; i++) {
		s[i] = text + off;
		off += strlen(text + off);
		if (off < n)
			off++;
	}

	check_address(s[0]);
	check_cidr(s[1], &a);
	check_internal(&a);
	check_list(s[2], &a, &list);
	check_client(&peer, (sel & 4) ? NULL : s[3], (sel & 8) ? NULL : s[4],
	    &list);
	free(text);
	return (0);
}

static void
check_address(const char *s)
{
	struct netaddr	a, b;
	char		text[NETADDR_TEXT_MAX], again[NETADDR_TEXT_MAX];
	size_t		i;

	if (netaddr_parse(s, strlen(s), &a) == -1)
		return;
	netaddr_format(&a, text);
	CHECK(strlen(text) < NETADDR_TEXT_MAX, "format of \"%s\"", s);
	CHECK(netaddr_parse(text, strlen(text), &b) == 0 &&
	    !memcmp(a.b, b.b, 16), "\"%s\" written as \"%s\" reads back "
	    "otherwise", s, text);
	netaddr_format(&b, again);
	CHECK(!strcmp(text, again), "\"%s\" is not canonical: \"%s\"", text,
	    again);
	for (i = 0; text[i] != '\0'; i++)
		CHECK(!(text[i] >= 'A' && text[i] <= 'Z'), "uppercase in "
		    "\"%s\"", text);
	CHECK(netaddr_is_v4(&a) == (strchr(text, ':') == NULL),
	    "\"%s\": is_v4 %d", text, netaddr_is_v4(&a));
}

static void
check_cidr(const char *s, const struct netaddr *a)
{
	struct netaddr	 addr, masked;
	struct cidr	 c;
	const char	*slash;
	size_t		 alen, plen, i;
	int		 ok, bits = -1, max;

	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	ok = netaddr_parse(s, alen, &addr) == 0;
	max = memchr(s, ':', alen) != NULL ? 128 : 32;
	if (ok && slash != NULL) {
		plen = strlen(slash + 1);
		ok = plen >= 1 && plen <= 3;
		for (i = 0, bits = 0; ok && i < plen; i++) {
			ok = slash[1 + i] >= '0' && slash[1 + i] <= '9';
			bits = bits * 10 + (slash[1 + i] - '0');
		}
		ok = ok && bits <= max;
	} else if (ok) {
		bits = max;
	}
	CHECK((cidr_parse(s, strlen(s), &c) == 0) == ok, "cidr_parse(\"%s\") "
	    "%s", s, ok ? "refused" : "accepted");
	if (!ok)
		return;
	CHECK(c.bits == (max == 32 ? 96 + bits : bits), "\"%s\": %d bits", s,
	    c.bits);
	CHECK(in_prefix(&c.net, &addr, c.bits), "\"%s\": network outside "
	    "its address's prefix", s);
	memset(&masked, 0, sizeof(masked));
	for (i = 0; i < 128; i++) {
		if ((int)i < c.bits && (c.net.b[i / 8] & (0x80 >> (i % 8))))
			masked.b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	CHECK(!memcmp(masked.b, c.net.b, 16), "\"%s\": bits past the prefix",
	    s);
	CHECK(cidr_contains(&c, &c.net) && cidr_contains(&c, &addr),
	    "\"%s\" does not hold itself", s);
	CHECK(cidr_contains(&c, a) == in_prefix(&c.net, a, c.bits),
	    "\"%s\": contains %d", s, cidr_contains(&c, a));
}

static void
check_list(const char *s, const struct netaddr *a, struct cidr_list *l)
{
	struct cidr	 one;
	const char	*p, *start, *bad = NULL;
	size_t		 n = 0, i;
	int		 ok = 1, any = 0, rc;

	for (p = s; ok;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		ok = n < CIDR_LIST_MAX &&
		    cidr_parse(start, (size_t)(p - start), &one) == 0;
		if (ok)
			any |= cidr_contains(&one, a);
		n++;
	}
	rc = cidr_list_parse(s, l, &bad);
	CHECK((rc == 0) == ok, "cidr_list_parse(\"%s\") %s", s, ok ?
	    "refused" : "accepted");
	if (rc == -1) {
		CHECK(bad != NULL && bad >= s && bad < s + strlen(s),
		    "bad entry outside the list");
		l->n = 0;
		return;
	}
	CHECK(l->n == n && l->n <= CIDR_LIST_MAX, "%zu ranges, %zu entries",
	    l->n, n);
	CHECK(cidr_list_contains(l, a) == any, "list contains %d",
	    cidr_list_contains(l, a));
	for (i = 0; i < l->n; i++)
		CHECK(l->r[i].bits >= 0 && l->r[i].bits <= 128, "bits");
}

/* The IPv4 ranges netaddr.h lists (one direction: these must be internal). */
static void
check_internal(const struct netaddr *a)
{
	static const struct { uint32_t net; int bits; } v4[] = {
		{ 0x00000000, 8 },	/* this network */
		{ 0x0a000000, 8 },	/* RFC 1918 */
		{ 0x64400000, 10 },	/* shared, CGNAT */
		{ 0x7f000000, 8 },	/* loopback */
		{ 0xa9fe0000, 16 },	/* link-local (cloud metadata) */
		{ 0xac100000, 12 },	/* RFC 1918 */
		{ 0xc0a80000, 16 },	/* RFC 1918 */
		{ 0xc6120000, 15 },	/* benchmarking */
		{ 0xe0000000, 4 },	/* multicast */
		{ 0xf0000000, 4 },	/* reserved, broadcast */
	};
	struct netaddr	 mapped, wrapped;
	uint32_t	 x;
	size_t		 i;

	x = (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 |
	    (uint32_t)a->b[14] << 8 | a->b[15];
	netaddr_from_v4(x, &mapped);
	CHECK(netaddr_is_v4(&mapped), "netaddr_from_v4 is not IPv4");
	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		if ((x ^ v4[i].net) >> (32 - v4[i].bits) != 0)
			continue;
		CHECK(netaddr_is_internal(&mapped), "%u.%u.%u.%u is not "
		    "internal", a->b[12], a->b[13], a->b[14], a->b[15]);
	}
	if (!netaddr_is_internal(&mapped))
		return;
	/* The same address behind the prefixes that carry IPv4. */
	memset(&wrapped, 0, sizeof(wrapped));		/* ::a.b.c.d */
	memcpy(wrapped.b + 12, a->b + 12, 4);
	CHECK(netaddr_is_internal(&wrapped), "IPv4-compatible form");
	memset(&wrapped, 0, sizeof(wrapped));		/* 64:ff9b::/96 */
	wrapped.b[1] = 0x64;
	wrapped.b[2] = 0xff;
	wrapped.b[3] = 0x9b;
	memcpy(wrapped.b + 12, a->b + 12, 4);
	CHECK(netaddr_is_internal(&wrapped), "NAT64 form");
	memcpy(&wrapped, a, sizeof(wrapped));		/* 2002:V4::/48 */
	wrapped.b[0] = 0x20;
	wrapped.b[1] = 0x02;
	memcpy(wrapped.b + 2, a->b + 12, 4);
	CHECK(netaddr_is_internal(&wrapped), "6to4 form");
}

/* The walk from the right, written out on its own. */
static void
check_client(const struct netaddr *peer, const char *xff,
    const char *real_ip, const struct cidr_list *trusted)
{
	struct netaddr	 want, got, hop;
	const char	*end, *start;

	want = *peer;
	if (cidr_list_contains(trusted, peer)) {
		if (xff == NULL || xff[0] == '\0') {
			/* X-Real-IP as it is: an address or nothing. */
			if (real_ip != NULL &&
			    netaddr_parse(real_ip, strlen(real_ip), &hop) == 0)
				want = hop;
		} else {
			end = xff + strlen(xff);
			for (;;) {
				for (start = end; start > xff &&
				    start[-1] != ','; start--)
					;
				if (!parse_entry(start, (size_t)(end - start),
				    &hop))
					break;
				want = hop;
				if (!cidr_list_contains(trusted, &hop) ||
				    start == xff)
					break;
				end = start - 1;
			}
		}
	}
	netaddr_client(peer, xff, real_ip, trusted, &got);
	CHECK(!memcmp(got.b, want.b, 16), "the client behind \"%s\" (X-Real-IP "
	    "\"%s\") is not the one the walk finds", xff != NULL ? xff :
	    "(none)", real_ip != NULL ? real_ip : "(none)");
}

/* An X-Forwarded-For entry: blanks and tabs around an address. */
static int
parse_entry(const char *s, size_t len, struct netaddr *out)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return (netaddr_parse(s, len, out) == 0);
}

static int
in_prefix(const struct netaddr *net, const struct netaddr *a, int bits)
{
	int	i;

	for (i = 0; i < bits; i++) {
		if ((net->b[i / 8] ^ a->b[i / 8]) & (0x80 >> (i % 8)))
			return (0);
	}
	return (1);
}
