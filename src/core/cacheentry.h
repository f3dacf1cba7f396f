/*
 * What the redirect cache stores under "sc:<code>". A positive entry
 * carries everything a redirect and its click event need, so a cache hit
 * touches nothing else:
 *
 *	"1:<url_id>:<user_id>:<original_url>"
 *
 * The leading "1" is the format version: a deploy that changes the format
 * changes it, and older entries read as misses instead of as garbage.
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

#endif
