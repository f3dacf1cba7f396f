/*
 * Request budgets per key and per client address: fixed windows of
 * RATE_LIMIT_WINDOW_MS, counted in Redis so that every instance draws on
 * one budget (cache/ratelimit.c), or, while Redis cannot answer, by each
 * worker in a table of its own (below). Pure logic, no Kore.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_WINDOW_MS	60000
/* "k:<key id>" or "a:<address>": bounded, NUL included. */
#define RATELIMIT_BUCKET_MAX	64

/* What a request is told: X-RateLimit-Limit, -Remaining, -Reset. */
struct ratelimit_result {
	int		allowed;
	uint32_t	limit;
	uint32_t	remaining;
	uint32_t	reset_s;	/* seconds until the window ends, >= 1 */
};

/*
 * The verdict on the count-th request of a window whose end is ttl_ms
 * away (Redis' INCR and PTTL); a ttl_ms below 1 counts as a whole window.
 */
void	ratelimit_judge(uint32_t limit, int64_t count, int64_t ttl_ms,
	    struct ratelimit_result *r);

struct ratelimit_slot {
	char		bucket[RATELIMIT_BUCKET_MAX];
	uint64_t	window_end;	/* ms; 0: free */
	uint32_t	count;
};

/*
 * A worker's own counts: a fixed-size open-addressing table. When it is
 * full, a new bucket takes the slot whose window ends first, so a flood
 * of new addresses can at worst restart someone's window early: the
 * table is a fallback, bounded in memory, not an exact ledger.
 */
struct ratelimit_local {
	struct ratelimit_slot	*slots;
	size_t			 nslots;	/* a power of two */
};

/* nslots is rounded up to a power of two; -1 when out of memory. */
int	ratelimit_local_init(struct ratelimit_local *t, size_t nslots);
void	ratelimit_local_free(struct ratelimit_local *t);
/* Counts one request of bucket at now_ms and judges it. */
void	ratelimit_local_hit(struct ratelimit_local *t, const char *bucket,
	    uint64_t now_ms, uint32_t limit, struct ratelimit_result *r);

#endif
