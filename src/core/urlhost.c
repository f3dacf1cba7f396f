/*
 * Hosts of links.
 *
 * A shortener turns any URL into a link on its own trusted domain, so
 * what it agrees to redirect to is a security decision: a link to
 * 169.254.169.254 or to a router's admin page is a ready-made request
 * forgery for whoever clicks it from inside a network, and a link back to
 * the service itself is a redirect loop. These rules run on the host as
 * a browser will resolve it, never on its spelling:
 *
 *  - invisible and bidirectional-control code points are refused before
 *    anything else (IDNA would silently delete a soft hyphen or a
 *    zero-width joiner, so "pay\u00adpal.com" would display one way and
 *    go another); so are percent escapes, which browsers decode before
 *    resolving and which no honest host needs;
 *  - libidn2 maps the rest as UTS #46 says (what browsers do): case,
 *    full-width forms, ideographic full stops, Unicode labels to
 *    punycode; a host IDNA refuses is not a host;
 *  - a name whose last label is a number is an IPv4 address to a
 *    browser, in any of the WHATWG URL spellings (decimal, octal with a
 *    leading 0, hex with 0x, one to four parts): it is parsed the same
 *    way and judged as that address;
 *  - loopback, private, link-local and the other internal ranges
 *    (core/netaddr.c), and localhost names, are refused unless the
 *    operator allows them (URL_ALLOW_PRIVATE_HOSTS);
 *  - the service's own public host, and the operator's blocklist (a
 *    domain blocks its subdomains), are refused always.
 *
 * Names are not resolved: a public name that points to a private
 * address (DNS rebinding services) is for the blocklist to catch; a
 * resolver in the request path would cost every create a network round
 * trip and still be fooled by a short TTL.
 */

#include <idn2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/netaddr.h"
#include "core/urlhost.h"
#include "core/validate.h"
#include "core/xalloc.h"

#define MSG_HOST	"must have a valid host"
#define MSG_INVISIBLE	"must not contain invisible or bidirectional " \
			"control characters in the host"
#define MSG_PERCENT	"must not percent-encode the host"
#define MSG_INTERNAL	"must not point to a loopback, private or " \
			"link-local address"
#define MSG_OWN		"must not point to this service (a redirect loop)"
#define MSG_BLOCKED	"points to a blocked host"

static int		 cp_is_invisible(uint32_t);
static const char	*scan_host(const char *, size_t);
static const char	*parse_name(const char *, size_t, struct urlhost *);
static int		 name_chars_ok(const char *);
static int		 ends_in_number(const char *);
static int		 ipv4_number(const char *, size_t, uint64_t *);
static int		 ipv4_parse(const char *, struct netaddr *);
static int		 is_localhost(const char *);
static int		 blocked(const struct urlhost_policy *,
			    const struct urlhost *);
static int		 name_cmp(const void *, const void *);
static int		 base_url_host(const char *, struct urlhost *);
static const char	*entry_add(struct urlhost_policy *, const char *,
			    size_t);

static const struct urlhost_policy	default_policy;

/* Set once per process by urlhost_policy_use(); read-only afterwards. */
static const struct urlhost_policy	*policy = &default_policy;

const char *
urlhost_parse(const char *host, size_t len, struct urlhost *out)
{
	char	buf[URLHOST_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > URLHOST_MAX)
		return (MSG_HOST);

	if (host[0] == '[') {
		if (len < 4 || host[len - 1] != ']' ||
		    netaddr_parse(host + 1, len - 2, &out->addr) == -1)
			return (MSG_HOST);
		out->kind = URLHOST_IPV6;
		netaddr_format(&out->addr, buf);
		(void)snprintf(out->text, sizeof(out->text), "%s", buf);
		return (NULL);
	}

	return (parse_name(host, len, out));
}

const char *
urlhost_check(const char *host, size_t len)
{
	struct urlhost	 h;
	const char	*why;

	if ((why = urlhost_parse(host, len, &h)) != NULL)
		return (why);

	if (!policy->allow_internal) {
		if (h.kind != URLHOST_NAME && netaddr_is_internal(&h.addr))
			return (MSG_INTERNAL);
		if (h.kind == URLHOST_NAME && is_localhost(h.text))
			return (MSG_INTERNAL);
	}
	if (policy->own[0] != '\0' && strcmp(h.text, policy->own) == 0)
		return (MSG_OWN);
	if (blocked(policy, &h))
		return (MSG_BLOCKED);
	return (NULL);
}

int
urlhost_policy_init(struct urlhost_policy *p, int allow_internal,
    const char *base_url, const char *list, size_t len, char *err,
    size_t errlen)
{
	struct urlhost	 own;
	const char	*line, *end, *nl, *why;
	size_t		 n;
	int		 lineno;

	memset(p, 0, sizeof(*p));
	p->allow_internal = allow_internal;
	if (base_url != NULL && base_url_host(base_url, &own) == 0)
		(void)snprintf(p->own, sizeof(p->own), "%s", own.text);

	end = list != NULL ? list + len : NULL;
	for (line = list, lineno = 1; line != NULL && line < end;
	    line = nl + 1, lineno++) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		n = (size_t)(nl - line);
		if (memchr(line, '#', n) != NULL)
			n = (size_t)((const char *)memchr(line, '#', n) - line);
		if ((why = entry_add(p, line, n)) != NULL) {
			(void)snprintf(err, errlen, "line %d: %s", lineno, why);
			urlhost_policy_free(p);
			return (-1);
		}
	}

	if (p->nblocked > 0)
		qsort(p->blocked, p->nblocked, sizeof(*p->blocked), name_cmp);
	return (0);
}

void
urlhost_policy_use(const struct urlhost_policy *p)
{
	policy = p != NULL ? p : &default_policy;
}

void
urlhost_policy_free(struct urlhost_policy *p)
{
	size_t	i;

	for (i = 0; i < p->nblocked; i++)
		free(p->blocked[i]);
	free(p->blocked);
	p->blocked = NULL;
	p->nblocked = 0;
}

/* One blocklist line, comment removed; blank lines are skipped. */
static const char *
entry_add(struct urlhost_policy *p, const char *s, size_t n)
{
	struct urlhost	 h;
	const char	*why;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		n--;
	if (n == 0)
		return (NULL);
	if (n > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	if ((why = urlhost_parse(s, n, &h)) != NULL)
		return (why);

	p->blocked = xreallocarray(p->blocked, p->nblocked + 1,
	    sizeof(*p->blocked));
	p->blocked[p->nblocked++] = xstrdup(h.text);
	return (NULL);
}

/* The host of an absolute http(s) URL, as config.c accepts it. */
static int
base_url_host(const char *url, struct urlhost *out)
{
	const char	*s, *end;

	if ((s = strstr(url, "://")) == NULL)
		return (-1);
	s += 3;
	end = s + strcspn(s, "/?#");
	if (memchr(s, '@', (size_t)(end - s)) != NULL)
		s = (const char *)memchr(s, '@', (size_t)(end - s)) + 1;
	if (*s == '[') {
		end = memchr(s, ']', (size_t)(end - s));
		if (end == NULL)
			return (-1);
		end++;
	} else if (memchr(s, ':', (size_t)(end - s)) != NULL) {
		end = memchr(s, ':', (size_t)(end - s));
	}
	return (urlhost_parse(s, (size_t)(end - s), out) == NULL ? 0 : -1);
}

static const char *
parse_name(const char *host, size_t len, struct urlhost *out)
{
	char		 buf[URLHOST_MAX + 1], *ascii;
	const char	*why;
	size_t		 n;
	int		 rc;

	if ((why = scan_host(host, len)) != NULL)
		return (why);

	memcpy(buf, host, len);
	buf[len] = '\0';
	ascii = NULL;
	rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK || ascii == NULL || strlen(ascii) > URLHOST_MAX) {
		idn2_free(ascii);
		return (MSG_HOST);
	}
	(void)snprintf(out->text, sizeof(out->text), "%s", ascii);
	idn2_free(ascii);

	/* One trailing dot names the same host ("example.com."). */
	n = strlen(out->text);
	if (n > 1 && out->text[n - 1] == '.')
		out->text[--n] = '\0';
	if (!name_chars_ok(out->text))
		return (MSG_HOST);

	if (ends_in_number(out->text)) {
		if (ipv4_parse(out->text, &out->addr) == -1)
			return (MSG_HOST);
		out->kind = URLHOST_IPV4;
		netaddr_format(&out->addr, out->text);
		return (NULL);
	}

	out->kind = URLHOST_NAME;
	return (NULL);
}

/* Percent escapes and the code points a reader cannot see. */
static const char *
scan_host(const char *s, size_t len)
{
	size_t		off, n;
	uint32_t	cp;

	for (off = 0; off < len; off += n) {
		n = utf8_decode((const unsigned char *)s + off, len - off, &cp);
		if (n == 0 || cp == 0)
			return (MSG_HOST);
		if (cp == '%')
			return (MSG_PERCENT);
		if (cp_is_invisible(cp))
			return (MSG_INVISIBLE);
	}
	return (NULL);
}

/*
 * Default_Ignorable_Code_Point and the bidirectional controls, plus the
 * Hangul fillers that render as nothing: what IDNA would delete or a
 * reader would not see.
 */
static int
cp_is_invisible(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return (1);
	switch (cp) {
	case 0xad: case 0x34f: case 0x61c: case 0x115f: case 0x1160:
	case 0x17b4: case 0x17b5: case 0x3164: case 0xfeff: case 0xffa0:
		return (1);
	}
	return ((cp >= 0x180b && cp <= 0x180f) ||
	    (cp >= 0x200b && cp <= 0x200f) ||	/* zero width, LRM, RLM */
	    (cp >= 0x202a && cp <= 0x202e) ||	/* embeddings, overrides */
	    (cp >= 0x2060 && cp <= 0x206f) ||	/* invisible operators, isolates */
	    (cp >= 0xfe00 && cp <= 0xfe0f) ||	/* variation selectors */
	    (cp >= 0xfff0 && cp <= 0xfffb) ||
	    (cp >= 0x1bca0 && cp <= 0x1bca3) ||
	    (cp >= 0x1d173 && cp <= 0x1d17a) ||
	    (cp >= 0xe0000 && cp <= 0xe0fff));	/* tags, selectors */
}

/*
 * After IDNA: letters, digits, "-", "_", "~" and dots between non-empty
 * labels; at least one letter or digit.
 */
static int
name_chars_ok(const char *s)
{
	size_t		i;
	int		seen = 0;
	unsigned char	c;

	if (s[0] == '.')
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			seen = 1;
		else if (c == '.' && s[i + 1] == '.')
			return (0);
		else if (c != '.' && c != '-' && c != '_' && c != '~')
			return (0);
	}
	/*
	 * Past the one trailing dot dropped before: an empty last label
	 * ("evil.com.."), which would otherwise keep a dot in the canonical
	 * text and miss the blocklist.
	 */
	if (i > 0 && s[i - 1] == '.')
		return (0);
	return (seen);
}

/*
 * WHATWG URL "ends in a number": the last label is digits, or 0x and hex
 * digits, however large (a number too large is an invalid host, not a
 * name).
 */
static int
ends_in_number(const char *s)
{
	const char	*last;

	last = strrchr(s, '.');
	last = last != NULL ? last + 1 : s;
	if (*last == '\0')
		return (0);
	if (strspn(last, "0123456789") == strlen(last))
		return (1);
	return ((last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) &&
	    strspn(last + 2, "0123456789abcdefABCDEF") == strlen(last + 2));
}

/* One part: 0x-hex, 0-octal or decimal; "0x" alone is 0 (WHATWG). */
static int
ipv4_number(const char *s, size_t len, uint64_t *out)
{
	const char	*digits;
	size_t		 i;
	int		 base = 10, d;

	if (len == 0)
		return (-1);
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	} else if (len >= 2 && s[0] == '0') {
		base = 8;
		s++;
		len--;
	}
	digits = "0123456789abcdef";
	*out = 0;
	for (i = 0; i < len; i++) {
		const char *at = strchr(digits, s[i] | 0x20);

		if (s[i] == '\0' || at == NULL ||
		    (d = (int)(at - digits)) >= base)
			return (-1);
		*out = *out * (uint64_t)base + (uint64_t)d;
		if (*out > UINT32_MAX)
			return (-1);
	}
	return (0);
}

/* WHATWG IPv4 parser: 1 to 4 parts, the last one fills what is left. */
static int
ipv4_parse(const char *s, struct netaddr *out)
{
	uint64_t	 parts[4], v;
	const char	*p, *dot;
	size_t		 n = 0, i;

	for (p = s; ; p = dot + 1) {
		dot = strchr(p, '.');
		if (n == 4 || ipv4_number(p, dot != NULL ?
		    (size_t)(dot - p) : strlen(p), &parts[n]) == -1)
			return (-1);
		n++;
		if (dot == NULL)
			break;
	}
	for (i = 0; i + 1 < n; i++) {
		if (parts[i] > 255)
			return (-1);
	}
	if (parts[n - 1] >= (uint64_t)1 << (8 * (5 - n)))
		return (-1);

	v = parts[n - 1];
	for (i = 0; i + 1 < n; i++)
		v += parts[i] << (8 * (3 - i));
	netaddr_from_v4((uint32_t)v, out);
	return (0);
}

/* Browsers resolve these to loopback without asking DNS. */
static int
is_localhost(const char *s)
{
	size_t	n = strlen(s);

	return (strcmp(s, "localhost") == 0 ||
	    (n > 10 && strcmp(s + n - 10, ".localhost") == 0));
}

/* An address as written in the list; a name or any domain above it. */
static int
blocked(const struct urlhost_policy *p, const struct urlhost *h)
{
	const char	*s, *dot;

	if (p->nblocked == 0)
		return (0);
	for (s = h->text; s != NULL; s = dot != NULL ? dot + 1 : NULL) {
		if (bsearch(&s, p->blocked, p->nblocked, sizeof(*p->blocked),
		    name_cmp) != NULL)
			return (1);
		dot = h->kind == URLHOST_NAME ? strchr(s, '.') : NULL;
	}
	return (0);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}
