/*
 * Redirect cache.
 *
 * Keys are "sc:<code>" (core/cacheentry.h). Positive entries live for
 * CACHE_TTL_SECONDS, negative ones ("this code does not redirect") for
 * CACHE_NEGATIVE_TTL_SECONDS, so a scan of random codes reaches
 * PostgreSQL once per code and window rather than once per request.
 *
 * Never stale. A write that changes what a code redirects to (update,
 * delete, user deletion, and creation, which must end a negative entry)
 * replaces the key with a tombstone for CACHE_TOMBSTONE_MS, and waits for
 * Redis to confirm before the client hears that the write succeeded, so
 * the next request on any replica misses and reads the new row. Fills
 * are SET ... NX: they never overwrite a tombstone, which closes the race
 * in which a redirect read the old row just before the write committed
 * and would otherwise cache it just after the invalidation.
 *
 * When Redis cannot be reached the write is still acknowledged (the
 * database is the truth) and the invalidation is retried in the
 * background, every RETRY_MS, until Redis takes it; and every worker
 * that loses its connection empties the cache when it gets it back, before
 * its next lookup (cache_reconnected). The Redis database named by
 * REDIS_URL therefore belongs to this cache alone. See docs/decisions.md.
 *
 * The local cache. Each worker keeps its recent hits (core/localcache.h)
 * for LOCAL_CACHE_MS and answers a hot code without asking Redis. A copy
 * is good until LOCAL_CACHE_MS after the GET that brought it was *sent*,
 * so it never outlives, by that much, the Redis value it copied: Redis
 * executed the GET after it was sent. A tombstone write, in turn, holds
 * its acknowledgement for LOCAL_CACHE_MS (plus a clock tick each side)
 * after Redis confirmed it. Every local copy of the old value was made
 * from a GET that Redis answered before the tombstone, so sent before
 * it: by the time the client hears of the write, every such copy on
 * every worker of every replica has expired. Only durations are
 * compared, never clocks across machines. The price is LOCAL_CACHE_MS
 * more on each update and delete; LOCAL_CACHE_MS=0 turns it all off.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app/config.h"
#include "cache/redis.h"
#include "cache/urlcache.h"
#include "core/localcache.h"
#include "obs/log.h"

#define RETRY_MS		500
#define RETRY_MAX_CODES		100000
#define LOCAL_SLOTS		4096
/* kore_time_ms() truncates: one tick for the reader, one for the timer. */
#define LOCAL_HOLD_MARGIN_MS	2

struct retry_code {
	char			*code;
	TAILQ_ENTRY(retry_code)	 list;
};

static int	local_get(struct urlcache_get *, const char *);
static void	local_put(struct urlcache_get *);
static void	get_done(void *, enum redis_status, redisReply *);
static void	inval_done(void *, enum redis_status, redisReply *);
static void	inval_settled(struct urlcache_inval *);
static void	hold_done(void *, u_int64_t);
static struct redis_op	*tombstone(const char *, redis_cb, void *);
static struct redis_op	*forget(const char *, redis_cb, void *);
static void	retry_add(const char *);
static void	retry_run(void *, u_int64_t);
static void	retry_done(void *, enum redis_status, redisReply *);
static void	cache_reconnected(int);

/* Owned by this worker: invalidations Redis has not confirmed yet. */
static TAILQ_HEAD(, retry_code)	retries = TAILQ_HEAD_INITIALIZER(retries);
static size_t			retry_count;
static int			retry_armed;

/* Owned by this worker: its local copies of recent hits. */
static struct localcache	local;

void
urlcache_init(void)
{
	if (config.local_cache_ms > 0 &&
	    localcache_init(&local, LOCAL_SLOTS) == -1)
		fatal("local cache: out of memory");
	redis_on_up(cache_reconnected);
}

/*
 * A worker that lost Redis cannot know which invalidations it, or any
 * other worker or replica, failed to deliver meanwhile: the first thing
 * it does on the new connection, before any lookup, is empty the cache
 * (FLUSHDB ASYNC, instant for Redis) and resend its own pending
 * invalidations. An outage thus costs a cold cache, never a stale one.
 */
static void
cache_reconnected(int reconnect)
{
	if (!reconnect)
		return;
	localcache_clear(&local);
	(void)redis_command(NULL, NULL, "FLUSHDB ASYNC");
	if (!TAILQ_EMPTY(&retries))
		retry_run(NULL, 0);
}

int
urlcache_up(void)
{
	return (redis_up());
}

int
urlcache_get(struct urlcache_get *g, struct http_request *req,
    const char *code)
{
	char	key[CACHE_KEY_MAX];

	memset(g, 0, sizeof(*g));
	g->req = req;
	g->result = URLCACHE_BYPASS;

	if (local_get(g, code))
		return (1);
	if (cache_key(key, sizeof(key), code) == -1)
		return (-1);
	g->sent_ms = kore_time_ms();
	if ((g->op = redis_command(get_done, g, "GET %s", key)) == NULL)
		return (-1);

	(void)kore_strlcpy(g->code, code, sizeof(g->code));
	g->result = URLCACHE_PENDING;
	http_request_sleep(req);
	return (0);
}

static int
local_get(struct urlcache_get *g, const char *code)
{
	struct cache_entry	e;

	if (!localcache_get(&local, code, kore_time_ms(), &e))
		return (0);
	if ((g->value = malloc(e.url_len + 1)) == NULL)
		fatal("malloc: out of memory");
	memcpy(g->value, e.url, e.url_len);
	g->value[e.url_len] = '\0';
	g->entry = e;
	g->entry.url = g->value;
	g->local = 1;
	g->result = URLCACHE_HIT;
	return (1);
}

/* Keeps a hit until LOCAL_CACHE_MS after its GET was sent, if still ahead. */
static void
local_put(struct urlcache_get *g)
{
	uint64_t	until;

	if (config.local_cache_ms <= 0 || g->code[0] == '\0')
		return;
	until = g->sent_ms + (uint64_t)config.local_cache_ms;
	if (kore_time_ms() < until)
		(void)localcache_put(&local, g->code, &g->entry, until);
}

void
urlcache_get_release(struct urlcache_get *g)
{
	if (g->op != NULL)
		redis_cancel(g->op);
	g->op = NULL;
	free(g->value);
	g->value = NULL;
}

static void
get_done(void *arg, enum redis_status st, redisReply *reply)
{
	struct urlcache_get	*g = arg;

	g->op = NULL;
	g->result = URLCACHE_BYPASS;

	if (st == REDIS_ST_OK && reply->type == REDIS_REPLY_NIL) {
		g->result = URLCACHE_MISS;
	} else if (st == REDIS_ST_OK && reply->type == REDIS_REPLY_STRING) {
		if ((g->value = malloc(reply->len + 1)) == NULL)
			fatal("malloc: out of memory");
		memcpy(g->value, reply->str, reply->len);
		g->value[reply->len] = '\0';

		switch (cache_entry_decode(g->value, reply->len, &g->entry)) {
		case CACHE_ENTRY_URL:
			g->result = URLCACHE_HIT;
			local_put(g);
			break;
		case CACHE_ENTRY_ABSENT:
			g->result = URLCACHE_NEGATIVE;
			break;
		case CACHE_ENTRY_TOMBSTONE:
			g->result = URLCACHE_MISS_NOFILL;
			break;
		case CACHE_ENTRY_INVALID:
			g->result = URLCACHE_MISS;
			break;
		}
	}

	http_request_wakeup(g->req);
}

void
urlcache_fill(const char *code, const struct cache_entry *e)
{
	char		 key[CACHE_KEY_MAX], ttl[16];
	const char	*argv[6];
	size_t		 argvlen[6], len;
	char		*value;

	if (cache_key(key, sizeof(key), code) == -1)
		return;

	value = cache_entry_encode(e, &len);
	(void)snprintf(ttl, sizeof(ttl), "%d", config.cache_ttl);
	argv[0] = "SET"; argv[1] = key; argv[2] = value;
	argv[3] = "EX"; argv[4] = ttl; argv[5] = "NX";
	argvlen[0] = 3; argvlen[1] = strlen(key); argvlen[2] = len;
	argvlen[3] = 2; argvlen[4] = strlen(ttl); argvlen[5] = 2;
	(void)redis_command_argv(NULL, NULL, 6, argv, argvlen);
	free(value);
}

void
urlcache_fill_absent(const char *code)
{
	char	key[CACHE_KEY_MAX];

	if (cache_key(key, sizeof(key), code) == -1)
		return;
	(void)redis_command(NULL, NULL, "SET %s %s EX %d NX", key,
	    cache_value_absent, config.cache_negative_ttl);
}

size_t
urlcache_invalidate(struct urlcache_inval *inv, struct http_request *req,
    const char **codes, size_t count, enum urlcache_how how)
{
	struct urlcache_slot	*slot;
	size_t			 i;

	memset(inv, 0, sizeof(*inv));
	if (count == 0)
		return (0);

	inv->req = req;
	inv->count = count;
	inv->slots = kore_calloc(count, sizeof(*inv->slots));

	for (i = 0; i < count; i++) {
		slot = &inv->slots[i];
		slot->inv = inv;
		slot->code = kore_strdup(codes[i]);
		if (how == URLCACHE_DELETE)
			slot->op = forget(codes[i], inval_done, slot);
		else
			slot->op = tombstone(codes[i], inval_done, slot);
		if (slot->op == NULL)
			retry_add(codes[i]);
		else
			inv->pending++;
	}

	if (how == URLCACHE_TOMBSTONE && config.local_cache_ms > 0) {
		inv->hold = 1;
		inv->pending++;
		if (inv->pending == 1)
			inval_settled(inv);
	}

	if (inv->pending > 0)
		http_request_sleep(req);
	return (inv->pending);
}

void
urlcache_inval_release(struct urlcache_inval *inv)
{
	size_t	i;

	if (inv->hold_timer != NULL)
		kore_timer_remove(inv->hold_timer);
	for (i = 0; i < inv->count; i++) {
		if (inv->slots[i].op != NULL) {
			redis_cancel(inv->slots[i].op);
			retry_add(inv->slots[i].code);
		}
		kore_free(inv->slots[i].code);
	}
	kore_free(inv->slots);
	memset(inv, 0, sizeof(*inv));
}

static void
inval_done(void *arg, enum redis_status st, redisReply *reply)
{
	struct urlcache_slot	*slot = arg;
	struct urlcache_inval	*inv = slot->inv;

	slot->op = NULL;
	if (st != REDIS_ST_OK)
		retry_add(slot->code);

	if (--inv->pending == 0)
		http_request_wakeup(inv->req);
	else if (inv->pending == 1 && inv->hold)
		inval_settled(inv);
}

/*
 * Redis has answered every command (or some went to the retry queue):
 * now wait out the local copies made before the tombstones.
 */
static void
inval_settled(struct urlcache_inval *inv)
{
	inv->hold_timer = kore_timer_add(hold_done,
	    (u_int64_t)config.local_cache_ms + LOCAL_HOLD_MARGIN_MS, inv,
	    KORE_TIMER_ONESHOT);
}

static void
hold_done(void *arg, u_int64_t now)
{
	struct urlcache_inval	*inv = arg;

	inv->hold_timer = NULL;
	inv->hold = 0;
	if (--inv->pending == 0)
		http_request_wakeup(inv->req);
}

static struct redis_op *
tombstone(const char *code, redis_cb cb, void *arg)
{
	char	key[CACHE_KEY_MAX];

	if (cache_key(key, sizeof(key), code) == -1)
		return (NULL);
	return (redis_command(cb, arg, "SET %s %s PX %d", key,
	    cache_value_tombstone, config.cache_tombstone_ms));
}

/*
 * A code just drawn at random was never served, so nothing can have read
 * an old row of it: dropping a negative entry someone's probe left is
 * enough, and its first redirects may fill the cache at once.
 */
static struct redis_op *
forget(const char *code, redis_cb cb, void *arg)
{
	char	key[CACHE_KEY_MAX];

	if (cache_key(key, sizeof(key), code) == -1)
		return (NULL);
	return (redis_command(cb, arg, "DEL %s", key));
}

static void
retry_add(const char *code)
{
	struct retry_code	*r;

	if (retry_count >= RETRY_MAX_CODES) {
		log_event(LOG_LEVEL_ERROR, "cache_invalidation_dropped",
		    "invalidation backlog full, "
		    "'%s' will expire by its TTL", code);
		return;
	}

	r = kore_calloc(1, sizeof(*r));
	r->code = kore_strdup(code);
	TAILQ_INSERT_TAIL(&retries, r, list);
	retry_count++;

	if (!retry_armed) {
		retry_armed = 1;
		kore_timer_add(retry_run, RETRY_MS, NULL, KORE_TIMER_ONESHOT);
	}
}

/* Sends every pending invalidation Redis will take now. */
static void
retry_run(void *arg, u_int64_t now)
{
	struct retry_code	*r;

	retry_armed = 0;
	while ((r = TAILQ_FIRST(&retries)) != NULL) {
		if (tombstone(r->code, retry_done, r->code) == NULL)
			break;
		TAILQ_REMOVE(&retries, r, list);
		retry_count--;
		kore_free(r);
	}

	if (!TAILQ_EMPTY(&retries)) {
		retry_armed = 1;
		kore_timer_add(retry_run, RETRY_MS, NULL, KORE_TIMER_ONESHOT);
	}
}

static void
retry_done(void *arg, enum redis_status st, redisReply *reply)
{
	char	*code = arg;

	if (st != REDIS_ST_OK)
		retry_add(code);
	kore_free(code);
}
