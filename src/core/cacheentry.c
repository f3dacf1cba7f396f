/*
 * Cache entry encoding. Decoding is strict: anything that is not exactly
 * an entry this code wrote is CACHE_ENTRY_INVALID, which the caller
 * treats as a miss, so a corrupted or foreign value can cost a database
 * query but never a wrong redirect.
 */

#include <string.h>

#include "core/cacheentry.h"
#include "core/numfmt.h"
#include "core/xalloc.h"

/* "2:" three numbers and a flag, each with its ':'. */
#define CACHE_ENTRY_FIXED_MAX	(2 + 3 * (NUMFMT_INT64_MAX + 1) + 2)

static const char	*parse_id(const char *, const char *, int64_t *);
static const char	*parse_uint(const char *, const char *, int64_t *);
static int		 url_printable(const char *, const char *);

const char	cache_value_absent[] = "!";
const char	cache_value_tombstone[] = "~";

int
cache_key(char *buf, size_t len, const char *code)
{
	size_t	n = strlen(code);

	if (sizeof(CACHE_KEY_PREFIX) + n > len)
		return (-1);
	memcpy(buf, CACHE_KEY_PREFIX, sizeof(CACHE_KEY_PREFIX) - 1);
	memcpy(buf + sizeof(CACHE_KEY_PREFIX) - 1, code, n + 1);
	return (0);
}

/* "2:<url_id>:<user_id>:<expires_at>:<capped>:<url>", without printf. */
char *
cache_entry_encode(const struct cache_entry *e, size_t *len)
{
	char	*out, *p;

	out = xmalloc(CACHE_ENTRY_FIXED_MAX + e->url_len + 1);
	p = out;
	*p++ = '2';
	*p++ = ':';
	p += numfmt_int64(p, e->url_id);
	*p++ = ':';
	p += numfmt_int64(p, e->user_id);
	*p++ = ':';
	p += numfmt_int64(p, e->expires_at);
	*p++ = ':';
	*p++ = e->capped ? '1' : '0';
	*p++ = ':';
	memcpy(p, e->url, e->url_len);
	p += e->url_len;
	*p = '\0';
	*len = (size_t)(p - out);
	return (out);
}

enum cache_entry_kind
cache_entry_decode(const char *value, size_t len, struct cache_entry *e)
{
	const char	*p, *end;

	if (len == 1 && value[0] == cache_value_absent[0])
		return (CACHE_ENTRY_ABSENT);
	if (len == 1 && value[0] == cache_value_tombstone[0])
		return (CACHE_ENTRY_TOMBSTONE);

	end = value + len;
	if (len < 2 || value[0] != '2' || value[1] != ':')
		return (CACHE_ENTRY_INVALID);

	p = value + 2;
	if ((p = parse_id(p, end, &e->url_id)) == NULL)
		return (CACHE_ENTRY_INVALID);
	if ((p = parse_id(p, end, &e->user_id)) == NULL)
		return (CACHE_ENTRY_INVALID);
	if ((p = parse_uint(p, end, &e->expires_at)) == NULL)
		return (CACHE_ENTRY_INVALID);
	if (end - p < 2 || (p[0] != '0' && p[0] != '1') || p[1] != ':')
		return (CACHE_ENTRY_INVALID);
	e->capped = p[0] == '1';
	p += 2;
	if (p == end || !url_printable(p, end))
		return (CACHE_ENTRY_INVALID);

	e->url = p;
	e->url_len = end - p;
	return (CACHE_ENTRY_URL);
}

int
cache_entry_expired(const struct cache_entry *e, int64_t now)
{
	return (e->expires_at != 0 && now >= e->expires_at);
}

/* A positive decimal id followed by ':'; returns what follows. */
static const char *
parse_id(const char *p, const char *end, int64_t *out)
{
	if (p == end || *p < '1' || *p > '9')
		return (NULL);
	return (parse_uint(p, end, out));
}

/* A decimal number >= 0 without leading zeros, then ':'. */
static const char *
parse_uint(const char *p, const char *end, int64_t *out)
{
	int64_t		v;

	if (p == end || *p < '0' || *p > '9')
		return (NULL);
	if (*p == '0' && p + 1 < end && p[1] != ':')
		return (NULL);

	v = 0;
	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return (NULL);
		v = v * 10 + (*p - '0');
		p++;
	}

	if (p == end || *p != ':')
		return (NULL);

	*out = v;
	return (p + 1);
}

/* The URL becomes a Location header: no control bytes may reach it. */
static int
url_printable(const char *p, const char *end)
{
	for (; p < end; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return (0);
	}
	return (1);
}
