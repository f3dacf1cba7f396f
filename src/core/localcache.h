/*
 * A worker's own copy of recent cache hits, in front of Redis.
 *
 * A fixed table of slots, one entry per slot: a code hashes to its slot
 * and replaces whatever lived there, so memory is bounded by the slot
 * count and a lookup is one hash and one string compare. Every entry has
 * a deadline (monotonic milliseconds) after which it is never returned;
 * src/cache/urlcache.c sets it and explains why that keeps redirects
 * from going stale across replicas. Pure logic, no I/O.
 */
#ifndef LOCALCACHE_H
#define LOCALCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/cacheentry.h"
#include "core/shortcode.h"

struct localcache_slot {
	char		 code[SHORTCODE_CUSTOM_MAX + 1];	/* "" when empty */
	uint64_t	 valid_until_ms;
	int64_t		 url_id;
	int64_t		 user_id;
	int64_t		 expires_at;
	int		 capped;
	char		*url;		/* owned */
	size_t		 url_len;
};

struct localcache {
	struct localcache_slot	*slots;
	size_t			 mask;		/* slot count - 1 */
};

/* slots: rounded up to a power of two, at least 1. -1: out of memory. */
int	localcache_init(struct localcache *lc, size_t slots);
void	localcache_free(struct localcache *lc);

/*
 * The entry for code if it is still valid at now_ms: 1 and *e filled
 * (e->url points into the cache, valid until the next put or clear);
 * otherwise 0.
 */
int	localcache_get(struct localcache *lc, const char *code, uint64_t now_ms,
	    struct cache_entry *e);

/* Stores a copy of e for code until valid_until_ms; -1 when it cannot. */
int	localcache_put(struct localcache *lc, const char *code,
	    const struct cache_entry *e, uint64_t valid_until_ms);

void	localcache_clear(struct localcache *lc);

#endif
