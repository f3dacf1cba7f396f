/*
 * REDIS_URL: any string through redisurl_parse(). Operators type it, but
 * it is read at every worker start, and a wrong parse connects somewhere
 * else or leaks the password into a log.
 *
 * Properties: an accepted URL has a host of at most REDISURL_HOST_MAX
 * bytes without blanks, controls or brackets, a port in 1..65535 and a
 * database >= 0, and every field is NUL-terminated within its array;
 * written back as a URL (credentials percent-encoded, an IPv6 host in
 * brackets) it parses to the same fields (round trip); a refused URL
 * gets one of the fixed reasons, which quote nothing of it (the password
 * stays out of the logs).
 */

#include <stdio.h>
#include <string.h>

#include "core/redisurl.h"
#include "fuzz.h"

static const char	*reasons[] = {
	"bad percent-encoding in the credentials",
	"query strings and fragments are not supported",
	"rediss:// (TLS) is not supported",
	"the URL must start with redis://",
	"the credentials contain a NUL (%00)",
	"the database must be a non-negative number",
	"the host contains an invalid character",
	"the host is missing",
	"the host is too long",
	"the port must be a number from 1 to 65535",
	"the user name or password is too long",
	"unexpected text after the database number",
	"unexpected text after the host",
	"unterminated '[' in the host",
};

static void	encode(char *, size_t *, const char *);
static void	check_fields(const char *, const struct redis_url *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redis_url	 u, back;
	const char		*err = NULL;
	char			*url, again[4096];
	size_t			 n;

	url = fz_cstr(data, size);
	if (redisurl_parse(url, &u, &err) == -1) {
		for (n = 0; n < sizeof(reasons) / sizeof(reasons[0]) &&
		    (err == NULL || strcmp(err, reasons[n]) != 0); n++)
			;
		CHECK(n < sizeof(reasons) / sizeof(reasons[0]),
		    "reason \"%s\" is none of the fixed ones", err);
		free(url);
		return (0);
	}
	check_fields(url, &u);

	n = (size_t)snprintf(again, sizeof(again), "redis://");
	if (u.user[0] != '\0' || u.password[0] != '\0') {
		if (u.user[0] != '\0') {
			encode(again, &n, u.user);
			again[n++] = ':';
		}
		encode(again, &n, u.password);
		again[n++] = '@';
	}
	n += (size_t)snprintf(again + n, sizeof(again) - n,
	    strchr(u.host, ':') != NULL ? "[%s]:%d/%d" : "%s:%d/%d", u.host,
	    u.port, u.db);
	CHECK(redisurl_parse(again, &back, &err) == 0, "\"%s\" (from \"%s\") "
	    "refused: %s", again, url, err);
	CHECK(!strcmp(back.host, u.host) && !strcmp(back.user, u.user) &&
	    !strcmp(back.password, u.password) && back.port == u.port &&
	    back.db == u.db, "\"%s\" and \"%s\" differ", url, again);
	free(url);
	return (0);
}

/* Every byte but the RFC 3986 unreserved ones as %XX. */
static void
encode(char *out, size_t *n, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	unsigned char		c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			out[(*n)++] = (char)c;
			continue;
		}
		out[(*n)++] = '%';
		out[(*n)++] = hex[c >> 4];
		out[(*n)++] = hex[c & 15];
	}
	out[*n] = '\0';
}

static void
check_fields(const char *url, const struct redis_url *u)
{
	const char	*c;

	CHECK(memchr(u->host, '\0', sizeof(u->host)) != NULL &&
	    memchr(u->user, '\0', sizeof(u->user)) != NULL &&
	    memchr(u->password, '\0', sizeof(u->password)) != NULL,
	    "an unterminated field from \"%s\"", url);
	CHECK(u->host[0] != '\0' && strlen(u->host) <= REDISURL_HOST_MAX,
	    "host \"%s\"", u->host);
	for (c = u->host; *c != '\0'; c++)
		CHECK((unsigned char)*c > ' ' && *c != 0x7f && *c != '[' &&
		    *c != ']' && *c != '/' && *c != '@', "host \"%s\" from "
		    "\"%s\"", u->host, url);
	CHECK(u->port >= 1 && u->port <= 65535, "port %d", u->port);
	CHECK(u->db >= 0, "db %d", u->db);
}
