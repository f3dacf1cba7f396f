/*
 * The redirect cache on top of the Redis client: lookups of short codes,
 * fills after a database lookup, and invalidations that a write waits for
 * before it is acknowledged.
 */
#ifndef URLCACHE_H
#define URLCACHE_H

#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cacheentry.h"
#include "core/shortcode.h"

struct http_request;
struct kore_timer;
struct redis_op;

enum urlcache_result {
	URLCACHE_PENDING,
	URLCACHE_HIT,		/* entry holds the URL */
	URLCACHE_NEGATIVE,	/* known absent or inactive */
	URLCACHE_MISS,		/* not cached: look up and fill */
	URLCACHE_MISS_NOFILL,	/* just invalidated: look up, do not fill */
	URLCACHE_BYPASS		/* Redis down, slow or erroring */
};

struct urlcache_get {
	struct http_request	*req;
	struct redis_op		*op;
	enum urlcache_result	 result;
	struct cache_entry	 entry;		/* points into value */
	char			*value;		/* owned */
	int			 local;		/* the hit came from the worker */
	uint64_t		 sent_ms;	/* when GET went to Redis */
	char			 code[SHORTCODE_CUSTOM_MAX + 1];
};

/*
 * Starts a lookup. Returns 1 when the worker's local cache answered at
 * once (g->result = URLCACHE_HIT, req not asleep); 0 with req asleep
 * until g->result is settled; -1 with g->result = URLCACHE_BYPASS (req
 * not asleep) when the cache cannot be used right now.
 */
int	urlcache_get(struct urlcache_get *g, struct http_request *req,
	    const char *code);
void	urlcache_get_release(struct urlcache_get *g);

/* Fire and forget; never overwrite what is there (see urlcache.c). */
void	urlcache_fill(const char *code, const struct cache_entry *e);
void	urlcache_fill_absent(const char *code);

#define URLCACHE_CHUNK	500

/*
 * A write's invalidation of the codes it changed, sent in chunks of at
 * most URLCACHE_CHUNK codes, one chunk in flight at a time.
 */
struct urlcache_inval {
	struct http_request	*req;
	char			**codes;	/* owned copies */
	size_t			 count;
	size_t			 next;		/* first code not yet sent */
	size_t			 sent;		/* codes in the chunk in flight */
	struct redis_op		*op;		/* the chunk in flight */
	int			 how;		/* enum urlcache_how */
	size_t			 pending;	/* chunks to go, and the hold */
	int			 hold;		/* waits out local copies */
	struct kore_timer	*hold_timer;
};

enum urlcache_how {
	URLCACHE_TOMBSTONE,	/* the code existed: block refills for a while */
	URLCACHE_DELETE		/* a new random code: only a negative entry */
};

/*
 * Invalidates codes; returns the number of things still awaited, with req
 * asleep until inv->pending is 0: Redis' replies and, for tombstones, the
 * lifetime of any worker's local copy (see urlcache.c). Codes that
 * cannot be invalidated now are retried (as tombstones) in the
 * background until Redis takes them.
 */
size_t	urlcache_invalidate(struct urlcache_inval *inv,
	    struct http_request *req, const char **codes, size_t count,
	    enum urlcache_how how);
void	urlcache_inval_release(struct urlcache_inval *inv);

/* Once per worker, after redis_init(). */
void	urlcache_init(void);

/* 1 when lookups currently go to Redis. */
int	urlcache_up(void);

#endif
