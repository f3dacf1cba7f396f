/*
 * Redis connection URLs.
 *
 * The accepted form is the one redis-cli -u and most clients take:
 *
 *	redis://[[user]:password@]host[:port][/db]
 *
 * with port 6379 and database 0 when left out. As in redis-cli, userinfo
 * without a colon is a password, not a user name; a user (Redis 6 ACL)
 * needs "user:password@". User and password are percent-decoded, since a
 * generated password may well contain '@', ':' or '/'; a %00 is refused
 * because it could not reach AUTH intact. An IPv6 literal goes in
 * brackets, as in any URL.
 *
 * Anything this module does not act on is an error rather than being
 * ignored: rediss:// (hiredis 0.14 has no TLS), query parameters (no
 * option is read from them) and text after the database number. A
 * mistyped URL should fail loudly at start-up, not connect somewhere
 * else. Error messages never contain the URL, which holds the password.
 */

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "core/redisurl.h"

#define SCHEME		"redis://"
#define SCHEME_TLS	"rediss://"

static int	parse_userinfo(const char *, const char *, struct redis_url *,
		    const char **);
static int	parse_hostport(const char *, const char *, struct redis_url *,
		    const char **);
static int	parse_db(const char *, struct redis_url *, const char **);
static int	decode(const char *, const char *, char *, size_t,
		    const char **);
static int	parse_uint(const char *, const char *, long, long *);
static int	hexval(int);

int
redisurl_parse(const char *url, struct redis_url *out, const char **err)
{
	const char	*p, *q, *auth_end, *at;

	memset(out, 0, sizeof(*out));
	out->port = REDISURL_DEFAULT_PORT;

	if (strncasecmp(url, SCHEME, strlen(SCHEME)) != 0) {
		if (strncasecmp(url, SCHEME_TLS, strlen(SCHEME_TLS)) == 0)
			*err = "rediss:// (TLS) is not supported";
		else
			*err = "the URL must start with redis://";
		return (-1);
	}
	p = url + strlen(SCHEME);
	auth_end = p + strcspn(p, "/?#");

	/* The last '@' ends userinfo: a raw '@' in a password still works. */
	at = NULL;
	for (q = p; q < auth_end; q++) {
		if (*q == '@')
			at = q;
	}
	if (at != NULL) {
		if (parse_userinfo(p, at, out, err) == -1)
			return (-1);
		p = at + 1;
	}

	if (parse_hostport(p, auth_end, out, err) == -1)
		return (-1);
	return (parse_db(auth_end, out, err));
}

static int
parse_userinfo(const char *s, const char *end, struct redis_url *out,
    const char **err)
{
	const char	*colon;

	colon = memchr(s, ':', (size_t)(end - s));
	if (colon == NULL) {
		return (decode(s, end, out->password, sizeof(out->password),
		    err));
	}
	if (decode(s, colon, out->user, sizeof(out->user), err) == -1)
		return (-1);
	return (decode(colon + 1, end, out->password, sizeof(out->password),
	    err));
}

static int
parse_hostport(const char *s, const char *end, struct redis_url *out,
    const char **err)
{
	const char	*host, *host_end, *after, *c;
	long		 port;
	size_t		 len;

	if (s < end && *s == '[') {
		host = s + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (host_end == NULL) {
			*err = "unterminated '[' in the host";
			return (-1);
		}
		after = host_end + 1;
	} else {
		host = s;
		host_end = memchr(s, ':', (size_t)(end - s));
		if (host_end == NULL)
			host_end = end;
		after = host_end;
	}

	len = (size_t)(host_end - host);
	if (len == 0) {
		*err = "the host is missing";
		return (-1);
	}
	if (len > REDISURL_HOST_MAX) {
		*err = "the host is too long";
		return (-1);
	}
	for (c = host; c < host_end; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f ||
		    *c == '[' || *c == ']') {
			*err = "the host contains an invalid character";
			return (-1);
		}
	}
	memcpy(out->host, host, len);
	out->host[len] = '\0';

	if (after == end)
		return (0);
	if (*after != ':') {
		*err = "unexpected text after the host";
		return (-1);
	}
	if (parse_uint(after + 1, end, 65535, &port) == -1 || port == 0) {
		*err = "the port must be a number from 1 to 65535";
		return (-1);
	}
	out->port = (int)port;
	return (0);
}

/* s is where the authority ended: at the NUL, or a '/', '?' or '#'. */
static int
parse_db(const char *s, struct redis_url *out, const char **err)
{
	long	db;

	if (*s == '\0')
		return (0);
	if (*s != '/') {
		*err = "query strings and fragments are not supported";
		return (-1);
	}
	s++;
	if (*s == '\0')
		return (0);
	if (parse_uint(s, s + strcspn(s, "/?#"), INT_MAX, &db) == -1) {
		*err = "the database must be a non-negative number";
		return (-1);
	}
	if (s[strcspn(s, "/?#")] != '\0') {
		*err = "unexpected text after the database number";
		return (-1);
	}
	out->db = (int)db;
	return (0);
}

/* Percent-decodes [s, end) into out, NUL-terminated. */
static int
decode(const char *s, const char *end, char *out, size_t outsz,
    const char **err)
{
	size_t	n;
	int	hi, lo, ch;

	for (n = 0; s < end; n++) {
		ch = (unsigned char)*s++;
		if (ch == '%') {
			if (end - s < 2 || (hi = hexval(s[0])) == -1 ||
			    (lo = hexval(s[1])) == -1) {
				*err = "bad percent-encoding in the credentials";
				return (-1);
			}
			ch = hi * 16 + lo;
			s += 2;
		}
		if (ch == '\0') {
			*err = "the credentials contain a NUL (%00)";
			return (-1);
		}
		if (n + 1 >= outsz) {
			*err = "the user name or password is too long";
			return (-1);
		}
		out[n] = (char)ch;
	}
	out[n] = '\0';
	return (0);
}

/* Digits only, no sign or space, at least one, at most max. */
static int
parse_uint(const char *s, const char *end, long max, long *v)
{
	long	n;

	if (s == end)
		return (-1);
	for (n = 0; s < end; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		n = n * 10 + (*s - '0');
		if (n > max)
			return (-1);
	}
	*v = n;
	return (0);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}
