/*
 * Fixed windows.
 *
 * A window opens with a bucket's first request and lasts
 * RATELIMIT_WINDOW_MS; every request in it counts, the one that takes
 * the count past the limit and every later one in the window is refused,
 * and the count starts again with the next window. Simpler than a
 * sliding window or a token bucket and, in Redis, a single INCR (plus a
 * PEXPIRE on the first) per request; the price is that a client may
 * spend up to twice its budget across a window boundary, which a
 * per-minute abuse limit can afford. The window belongs to Redis' clock
 * (its key's TTL), so instances whose clocks disagree still share it.
 *
 * The local table serves while Redis cannot: each worker then counts its
 * own requests (docs/security.md says what budget that gives).
 */

#include <stdlib.h>
#include <string.h>

#include "core/ratelimit.h"

#define PROBES	8

static uint64_t	bucket_hash(const char *);

void
ratelimit_judge(uint32_t limit, int64_t count, int64_t ttl_ms,
    struct ratelimit_result *r)
{
	if (ttl_ms < 1 || ttl_ms > RATELIMIT_WINDOW_MS)
		ttl_ms = RATELIMIT_WINDOW_MS;
	if (count < 1)
		count = 1;
	r->limit = limit;
	r->allowed = count <= (int64_t)limit;
	r->remaining = r->allowed ? (uint32_t)(limit - count) : 0;
	r->reset_s = (uint32_t)((ttl_ms + 999) / 1000);
}

int
ratelimit_local_init(struct ratelimit_local *t, size_t nslots)
{
	size_t	n = 1;

	while (n < nslots)
		n <<= 1;
	if ((t->slots = calloc(n, sizeof(*t->slots))) == NULL)
		return (-1);
	t->nslots = n;
	return (0);
}

void
ratelimit_local_free(struct ratelimit_local *t)
{
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}

void
ratelimit_local_hit(struct ratelimit_local *t, const char *bucket,
    uint64_t now_ms, uint32_t limit, struct ratelimit_result *r)
{
	struct ratelimit_slot	*s, *victim;
	size_t			 i, at;

	at = (size_t)bucket_hash(bucket) & (t->nslots - 1);
	victim = NULL;
	for (i = 0; i < PROBES && i < t->nslots; i++) {
		s = &t->slots[(at + i) & (t->nslots - 1)];
		if (s->window_end > now_ms &&
		    strcmp(s->bucket, bucket) == 0) {
			s->count++;
			ratelimit_judge(limit, s->count,
			    (int64_t)(s->window_end - now_ms), r);
			return;
		}
		if (victim == NULL || s->window_end < victim->window_end)
			victim = s;
	}

	/* A new window: the free or expired slot, or the one ending first. */
	(void)strncpy(victim->bucket, bucket, sizeof(victim->bucket) - 1);
	victim->bucket[sizeof(victim->bucket) - 1] = '\0';
	victim->window_end = now_ms + RATELIMIT_WINDOW_MS;
	victim->count = 1;
	ratelimit_judge(limit, 1, RATELIMIT_WINDOW_MS, r);
}

/* FNV-1a. */
static uint64_t
bucket_hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (h);
}
