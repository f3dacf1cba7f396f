/*
 * Hosts of links (core/urlhost.c): the host of every original_url a
 * client sends is brought to the form a browser resolves (IDNA, case,
 * trailing dot, the WHATWG spellings of IPv4) and judged on that form.
 *
 * Input: a selector byte (which policy is in force), then the host, any
 * bytes, in an exact-size buffer.
 *
 * Properties: a host that parses has a canonical text within
 * URLHOST_MAX, plain ASCII without uppercase, blanks or a trailing dot,
 * which parses again to itself (same kind, same address: idempotent);
 * an IPv4 or IPv6 host's text is its address written by netaddr_format;
 * a '%' anywhere is refused; and, the point of it all, every spelling is
 * judged as its canonical form: urlhost_check() gives the host and its
 * canonical text the same verdict. Under a policy that allows internal
 * addresses a host is refused exactly when it is the service's own or on
 * the blocklist (a domain and its subdomains, by a model written here);
 * under the strict one an internal address is refused too.
 */

#include <stdio.h>
#include <string.h>

#include "core/netaddr.h"
#include "core/urlhost.h"
#include "fuzz.h"

static const char	blocklist[] =
    "blocked.example\n"
    "*.evil.test   # a comment\n"
    "\n";

static struct urlhost_policy	strict, lenient;
static int			ready;

static void	setup(void);
static int	under(const char *, const char *);
static void	check_canonical(const char *, size_t, const struct urlhost *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct urlhost	 h;
	const char	*why, *again;
	char		*host;
	size_t		 len;
	int		 lax, listed;

	if (!ready)
		setup();
	if (size < 1)
		return (0);
	lax = data[0] & 1;
	urlhost_policy_use(lax ? &lenient : &strict);
	len = size - 1;
	host = fz_copy(data + 1, len);

	why = urlhost_parse(host, len, &h);
	if (memchr(host, '%', len) != NULL)
		CHECK(why != NULL, "a percent escape in a host was accepted");
	if (why != NULL) {
		CHECK(urlhost_check(host, len) != NULL, "urlhost_check "
		    "accepts what urlhost_parse refuses");
		free(host);
		return (0);
	}
	check_canonical(host, len, &h);

	why = urlhost_check(host, len);
	if (h.kind == URLHOST_IPV6) {
		char	br[URLHOST_MAX + 3];

		(void)snprintf(br, sizeof(br), "[%s]", h.text);
		again = urlhost_check(br, strlen(br));
	} else {
		again = urlhost_check(h.text, strlen(h.text));
	}
	CHECK((why == NULL) == (again == NULL) && (why == NULL ||
	    !strcmp(why, again)), "\"%.*s\" (\"%s\") judged \"%s\", its "
	    "canonical form \"%s\"", (int)len, host, h.text,
	    why != NULL ? why : "ok", again != NULL ? again : "ok");

	listed = !strcmp(h.text, "sho.rt") ||
	    under(h.text, "blocked.example") || under(h.text, "evil.test");
	if (lax)
		CHECK((why != NULL) == listed, "\"%s\": %s, listed %d",
		    h.text, why != NULL ? why : "ok", listed);
	else if (listed || (h.kind != URLHOST_NAME &&
	    netaddr_is_internal(&h.addr)))
		CHECK(why != NULL, "\"%s\" accepted", h.text);
	free(host);
	return (0);
}

static void
check_canonical(const char *host, size_t len, const struct urlhost *h)
{
	struct urlhost	 back;
	char		 addr[NETADDR_TEXT_MAX], br[URLHOST_MAX + 3];
	const char	*t = h->text;
	size_t		 n = strnlen(t, sizeof(h->text)), i;

	CHECK(n > 0 && n <= URLHOST_MAX, "\"%.*s\": canonical text of %zu "
	    "bytes", (int)len, host, n);
	for (i = 0; i < n; i++) {
		CHECK((unsigned char)t[i] > 0x20 && (unsigned char)t[i] < 0x7f &&
		    !(t[i] >= 'A' && t[i] <= 'Z'), "\"%s\": byte %#x", t,
		    (unsigned char)t[i]);
	}
	CHECK(t[n - 1] != '.', "\"%s\": a trailing dot", t);
	if (h->kind != URLHOST_NAME) {
		netaddr_format(&h->addr, addr);
		CHECK(!strcmp(addr, t), "\"%s\" is not its address \"%s\"", t,
		    addr);
		/* [::ffff:a.b.c.d] stays an IPv6 literal, written a.b.c.d. */
		CHECK(h->kind != URLHOST_IPV4 || netaddr_is_v4(&h->addr),
		    "\"%s\": kind %d", t, h->kind);
	}
	if (h->kind == URLHOST_IPV6) {
		(void)snprintf(br, sizeof(br), "[%s]", t);
		CHECK(urlhost_parse(br, strlen(br), &back) == NULL, "\"%s\" "
		    "does not parse again", br);
	} else {
		CHECK(urlhost_parse(t, n, &back) == NULL, "\"%s\" does not "
		    "parse again", t);
	}
	CHECK(back.kind == h->kind && !strcmp(back.text, t) &&
	    (h->kind == URLHOST_NAME || !memcmp(back.addr.b, h->addr.b, 16)),
	    "\"%s\" parses again as \"%s\"", t, back.text);
}

/* name is domain or one of its subdomains. */
static int
under(const char *name, const char *domain)
{
	size_t	n = strlen(name), d = strlen(domain);

	if (n == d)
		return (!strcmp(name, domain));
	return (n > d && name[n - d - 1] == '.' &&
	    !strcmp(name + n - d, domain));
}

static void
setup(void)
{
	char	err[128];

	CHECK(urlhost_policy_init(&strict, 0, "https://SHO.RT:8443/x",
	    blocklist, sizeof(blocklist) - 1, err, sizeof(err)) == 0,
	    "strict policy: %s", err);
	CHECK(urlhost_policy_init(&lenient, 1, "https://sho.rt/",
	    blocklist, sizeof(blocklist) - 1, err, sizeof(err)) == 0,
	    "lenient policy: %s", err);
	CHECK(!strcmp(strict.own, "sho.rt") && strict.nblocked == 2,
	    "policy: own \"%s\", %zu blocked", strict.own, strict.nblocked);
	ready = 1;
}
