/*
 * What the host of a link may be. The URL validator (core/validate.c)
 * hands it the host of every original_url a client sends on create and
 * update; it answers NULL or the reason for a 422. Pure logic, no Kore:
 * IDNA by libidn2 (UTS #46), addresses by core/netaddr.c.
 *
 * A host is first brought to the form a browser resolves: IDNA-mapped to
 * ASCII (full-width digits and dots, case, Unicode labels to punycode),
 * a trailing dot dropped, and a name that ends in a number read as the
 * IPv4 address a browser reads in it (WHATWG URL: 0x7f.1 and 2130706433
 * are 127.0.0.1). The checks then run on that form, so no spelling of a
 * host gets past them.
 */
#ifndef URLHOST_H
#define URLHOST_H

#include <stddef.h>

#include "core/netaddr.h"

/* Longest host name kept (RFC 1035: 253; brackets and slack). */
#define URLHOST_MAX	260

enum urlhost_kind {
	URLHOST_NAME,
	URLHOST_IPV4,
	URLHOST_IPV6
};

struct urlhost {
	enum urlhost_kind	kind;
	char			text[URLHOST_MAX + 1];	/* canonical, no brackets */
	struct netaddr		addr;			/* IPV4, IPV6 */
};

/*
 * The rules, built once per process by urlhost_policy_init() and put in
 * force by urlhost_policy_use(); the validator reads the one in force.
 * Without one, internal addresses are refused and nothing else.
 */
struct urlhost_policy {
	int		 allow_internal;
	char		 own[URLHOST_MAX + 1];	/* this service's host; "" none */
	char		**blocked;		/* canonical names, sorted */
	size_t		 nblocked;
};

/*
 * Canonical form of host (len bytes, "[...]" for IPv6) in *out; NULL, or
 * what is wrong with it (a message for the "fields" of a 422).
 */
const char	*urlhost_parse(const char *host, size_t len,
		    struct urlhost *out);

/* NULL when a link may point to host, else why not. */
const char	*urlhost_check(const char *host, size_t len);

/*
 * base_url: the service's public base URL (its host is refused: a link
 * to the service itself loops); blocklist: the operator's file, one host
 * or domain per line (a domain blocks its subdomains too; "*." in front
 * is allowed and means the same), '#' starts a comment. -1 with err
 * filled when an entry is no host name.
 */
int		 urlhost_policy_init(struct urlhost_policy *p,
		    int allow_internal, const char *base_url,
		    const char *blocklist, size_t len, char *err,
		    size_t errlen);
void		 urlhost_policy_use(const struct urlhost_policy *p);
void		 urlhost_policy_free(struct urlhost_policy *p);

#endif
