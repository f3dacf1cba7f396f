/*
 * Addresses and ranges.
 *
 * Every address is kept in 16 bytes, IPv4 ones as IPv4-mapped IPv6
 * (::ffff:a.b.c.d), so a list of ranges can mix both families and one
 * prefix compare serves all: an IPv4 /n is the mapped /(96 + n). The
 * kernel's own parser (inet_pton) decides what an address is: no octal,
 * no shortened IPv4, no zone index. What a browser reads as an IPv4
 * address in a URL is another matter, handled by core/urlhost.c, which
 * brings it here once parsed.
 *
 * The client address. A proxy that is trusted appended the address it
 * saw to X-Forwarded-For; anything to the left of that came from
 * further out and may be forged. Walking the header from the right and
 * stopping at the first address that is not a trusted proxy therefore
 * finds the nearest hop no trusted party vouches for: the client, or the
 * last untrusted proxy, but never a value the client chose. Only peers
 * in TRUSTED_PROXIES are asked at all; everyone else is their own
 * socket address.
 */

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "core/netaddr.h"
#include "core/numfmt.h"

#define TEXT_IN_MAX	64

struct range {
	const char	*cidr;
	int		 embedded_v4_at;	/* byte offset, or -1 */
};

static int	prefix_eq(const uint8_t *, const uint8_t *, int);
static int	v4_internal(const struct netaddr *);
static int	in_ranges(const struct netaddr *, const struct cidr *,
		    size_t);
static void	ranges_init(void);
static void	embedded_v4(const struct netaddr *, int, struct netaddr *);
static size_t	trim(const char **, size_t);

/* Parsed once, on first use (see ranges_init); read-only afterwards. */
static struct cidr	v4_cidrs[16];
static size_t		v4_count;
static struct cidr	v6_cidrs[16];
static int		v6_embed[16];
static size_t		v6_count;
static int		ranges_ready;

/* IPv4: RFC 6890 special-purpose ranges a public link has no use for. */
static const char *const	v4_internal_ranges[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
	"169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
	"192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
	"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", NULL
};

/* IPv6: internal ones, and prefixes that carry an IPv4 address. */
static const struct range	v6_ranges[] = {
	{ "::/128", -1 }, { "::1/128", -1 }, { "fc00::/7", -1 },
	{ "fe80::/10", -1 }, { "fec0::/10", -1 }, { "ff00::/8", -1 },
	{ "100::/64", -1 }, { "2001:db8::/32", -1 }, { "64:ff9b:1::/48", -1 },
	{ "::/96", 12 },		/* IPv4-compatible (deprecated) */
	{ "64:ff9b::/96", 12 },		/* NAT64 */
	{ "2002::/16", 2 },		/* 6to4 */
	{ NULL, -1 }
};

int
netaddr_parse(const char *s, size_t len, struct netaddr *out)
{
	char		buf[TEXT_IN_MAX];
	struct in_addr	v4;

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';

	if (inet_pton(AF_INET, buf, &v4) == 1) {
		netaddr_from_v4(ntohl(v4.s_addr), out);
		return (0);
	}
	if (inet_pton(AF_INET6, buf, out->b) == 1)
		return (0);
	return (-1);
}

void
netaddr_from_v4(uint32_t v4, struct netaddr *out)
{
	memset(out->b, 0, 10);
	out->b[10] = 0xff;
	out->b[11] = 0xff;
	out->b[12] = (uint8_t)(v4 >> 24);
	out->b[13] = (uint8_t)(v4 >> 16);
	out->b[14] = (uint8_t)(v4 >> 8);
	out->b[15] = (uint8_t)v4;
}

int
netaddr_is_v4(const struct netaddr *a)
{
	static const uint8_t	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return (memcmp(a->b, mapped, sizeof(mapped)) == 0);
}

void
netaddr_format(const struct netaddr *a, char out[NETADDR_TEXT_MAX])
{
	size_t	n = 0;
	int	i;

	/* Every request formats its client: no printf for the common case. */
	if (netaddr_is_v4(a)) {
		for (i = 12; i < 16; i++) {
			if (i > 12)
				out[n++] = '.';
			n += numfmt_int64(out + n, a->b[i]);
		}
		out[n] = '\0';
		return;
	}
	if (inet_ntop(AF_INET6, a->b, out, NETADDR_TEXT_MAX) == NULL)
		out[0] = '\0';
}

int
netaddr_is_internal(const struct netaddr *a)
{
	struct netaddr	v4;
	size_t		i;

	ranges_init();
	if (netaddr_is_v4(a))
		return (v4_internal(a));

	for (i = 0; i < v6_count; i++) {
		if (!cidr_contains(&v6_cidrs[i], a))
			continue;
		if (v6_embed[i] < 0)
			return (1);
		embedded_v4(a, v6_embed[i], &v4);
		return (v4_internal(&v4));
	}

	return (0);
}

int
cidr_parse(const char *s, size_t len, struct cidr *out)
{
	const char	*slash;
	size_t		 alen, i;
	int		 bits, max, byte;

	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if (netaddr_parse(s, alen, &out->net) == -1)
		return (-1);

	max = memchr(s, ':', alen) != NULL ? 128 : 32;
	bits = max;
	if (slash != NULL) {
		if (len - alen < 2 || len - alen > 4)
			return (-1);
		bits = 0;
		for (i = alen + 1; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return (-1);
			bits = bits * 10 + (s[i] - '0');
		}
		if (bits > max)
			return (-1);
	}

	out->bits = max == 32 ? 96 + bits : bits;
	for (i = 0; i < 16; i++) {
		byte = out->bits - (int)i * 8;
		if (byte >= 8)
			continue;
		out->net.b[i] &= byte <= 0 ? 0 : (uint8_t)(0xff << (8 - byte));
	}
	return (0);
}

int
cidr_contains(const struct cidr *c, const struct netaddr *a)
{
	return (prefix_eq(c->net.b, a->b, c->bits));
}

int
cidr_list_parse(const char *s, struct cidr_list *out, const char **bad)
{
	const char	*p, *start;
	size_t		 len;

	out->n = 0;
	p = s;
	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return (0);
		start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - start);
		if (out->n == CIDR_LIST_MAX ||
		    cidr_parse(start, len, &out->r[out->n]) == -1) {
			*bad = start;
			return (-1);
		}
		out->n++;
	}
}

int
cidr_list_contains(const struct cidr_list *l, const struct netaddr *a)
{
	return (in_ranges(a, l->r, l->n));
}

void
netaddr_client(const struct netaddr *peer, const char *xff,
    const char *real_ip, const struct cidr_list *trusted,
    struct netaddr *out)
{
	struct netaddr	 hop;
	const char	*end, *start, *entry;
	size_t		 len;

	*out = *peer;
	if (!cidr_list_contains(trusted, peer))
		return;

	if (xff == NULL || *xff == '\0') {
		if (real_ip != NULL &&
		    netaddr_parse(real_ip, strlen(real_ip), &hop) == 0)
			*out = hop;
		return;
	}

	end = xff + strlen(xff);
	for (;;) {
		start = end;
		while (start > xff && start[-1] != ',')
			start--;
		entry = start;
		len = trim(&entry, (size_t)(end - start));
		if (netaddr_parse(entry, len, &hop) == -1)
			return;
		*out = hop;
		if (!cidr_list_contains(trusted, &hop) || start == xff)
			return;
		end = start - 1;	/* the comma */
	}
}

static size_t
trim(const char **s, size_t len)
{
	while (len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		len--;
	}
	while (len > 0 && ((*s)[len - 1] == ' ' || (*s)[len - 1] == '\t'))
		len--;
	return (len);
}

static int
prefix_eq(const uint8_t *a, const uint8_t *b, int bits)
{
	int	full = bits / 8, rest = bits % 8;
	uint8_t	mask;

	if (memcmp(a, b, (size_t)full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] & mask) == (b[full] & mask));
}

static int
v4_internal(const struct netaddr *a)
{
	ranges_init();
	/* 255.255.255.255 is inside 240.0.0.0/4. */
	return (in_ranges(a, v4_cidrs, v4_count));
}

static int
in_ranges(const struct netaddr *a, const struct cidr *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (cidr_contains(&r[i], a))
			return (1);
	}
	return (0);
}

/* The tables above, parsed by the code they test. */
static void
ranges_init(void)
{
	size_t	i;

	if (ranges_ready)
		return;
	for (i = 0; v4_internal_ranges[i] != NULL; i++) {
		(void)cidr_parse(v4_internal_ranges[i],
		    strlen(v4_internal_ranges[i]), &v4_cidrs[v4_count++]);
	}
	for (i = 0; v6_ranges[i].cidr != NULL; i++) {
		(void)cidr_parse(v6_ranges[i].cidr, strlen(v6_ranges[i].cidr),
		    &v6_cidrs[v6_count]);
		v6_embed[v6_count++] = v6_ranges[i].embedded_v4_at;
	}
	ranges_ready = 1;
}

static void
embedded_v4(const struct netaddr *a, int at, struct netaddr *out)
{
	netaddr_from_v4((uint32_t)a->b[at] << 24 | (uint32_t)a->b[at + 1] << 16 |
	    (uint32_t)a->b[at + 2] << 8 | a->b[at + 3], out);
}
