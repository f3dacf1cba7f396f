/*
 * What the redirect cache stores under "sc:<code>". A positive entry
 * carries everything a redirect and its click event need, so a cache hit
 * touches nothing else:
 *
 *	"2:<url_id>:<user_id>:<expires>:<capped>:<original_url>"
 *
 * The leading "2" is the format version: a deploy that changes the format
 * changes it, and older entries read as misses instead of as garbage
 * (version 1 had no lifecycle fields). <expires> is the link's expiry in
 * seconds since 1970-01-01 UTC, 0 for none: every replica decides from
 * the entry itself, with its own clock, that an expired link is gone, so
 * an expiry needs no invalidation. <capped> is 1 when the link has a
 * click cap (max_clicks): such a redirect must still claim its click in
 * the database, the only exact counter (api/redirect.c).
 * "!" marks a code known not to exist (or to be inactive); "~" is the
 * tombstone an invalidation leaves, which is a miss that must not be
 * refilled until it expires (see docs/decisions.md). Pure logic.
 */
#ifndef CACHEENTRY_H
#define CACHEENTRY_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_KEY_PREFIX	"sc:"
#define CACHE_KEY_MAX		48

enum cache_entry_kind {
	CACHE_ENTRY_URL,
	CACHE_ENTRY_ABSENT,	/* negative: unknown or inactive */
	CACHE_ENTRY_TOMBSTONE,	/* just invalidated: miss, do not fill */
	CACHE_ENTRY_INVALID	/* unreadable: treat as a miss */
};

struct cache_entry {
	int64_t		 url_id;
	int64_t		 user_id;
	int64_t		 expires_at;	/* epoch seconds; 0: never */
	int		 capped;	/* max_clicks is set */
	const char	*url;		/* points into the decoded buffer */
	size_t		 url_len;
};

extern const char	cache_value_absent[];
extern const char	cache_value_tombstone[];

/* "sc:<code>" into buf; -1 when it does not fit. */
int			cache_key(char *buf, size_t len, const char *code);
/* Returns a malloc'd value and its length in *len. */
char			*cache_entry_encode(const struct cache_entry *e,
			    size_t *len);
enum cache_entry_kind	cache_entry_decode(const char *value, size_t len,
			    struct cache_entry *e);
/* 1 when e's link has expired at now (epoch seconds). */
int			cache_entry_expired(const struct cache_entry *e,
			    int64_t now);

#endif
