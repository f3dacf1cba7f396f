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
 * Many codes at once. Deleting a user with a hundred thousand links must
 * invalidate them all without flooding the connection: a command per code
 * would queue thousands of replies behind one another, blow the few
 * milliseconds each command is given, and trip the connection's breaker
 * (cache/redis.c), which empties the cache and drops the rest. So a write
 * sends its codes in chunks of CHUNK, one Lua script per chunk that sets
 * every tombstone in it, and sends the next chunk only when Redis has
 * answered the last: Redis spends well under a millisecond per chunk and
 * other commands interleave. The retry queue drains the same way. Should
 * it overflow (RETRY_MAX_CODES), it is replaced by one FLUSHDB, retried
 * until Redis takes it: an invalidation is never dropped, at worst the
 * whole cache is.
 *
 * A chunk that only ran out of its budget (a loaded machine, a slow
 * script) is not Redis being down: the other workers may still read the
 * old entries. So a timed-out chunk is sent again, holding the write's
 * answer, for up to INVAL_PATIENCE_MS (short: a Redis that has stalled
 * for everyone holds every write that long); only after that, or when the
 * connection is down, does the rest go to the retry queue and the write
 * get acknowledged. The tombstones are idempotent, so a chunk executed
 * twice (the late first copy and the resend) does no harm.
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

#include "config/config.h"
#include "cache/redis.h"
#include "cache/urlcache.h"
#include "core/localcache.h"
#include "core/numfmt.h"
#include "obs/log.h"

#define RETRY_MS		500
#define RETRY_MAX_CODES		100000
#define CHUNK			URLCACHE_CHUNK
#define LOCAL_SLOTS		4096
/* kore_time_ms() truncates: one tick for the reader, one for the timer. */
#define LOCAL_HOLD_MARGIN_MS	2
#define INVAL_PATIENCE_MS	300

struct retry_code {
	char			*code;
	TAILQ_ENTRY(retry_code)	 list;
};

/* A chunk of the retry queue on its way to Redis. */
struct retry_chunk {
	char			*codes[CHUNK];
	size_t			 count;
};

/* Every tombstone of a chunk in one command: KEYS, then value and PX. */
static const char tombstone_script[] =
	"for i = 1, #KEYS do "
	"redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end "
	"return #KEYS";

static int	local_get(struct urlcache_get *, const char *);
static void	local_put(struct urlcache_get *);
static void	get_done(void *, enum redis_status, redisReply *);
static void	inval_send(struct urlcache_inval *);
static void	inval_done(void *, enum redis_status, redisReply *);
static void	inval_settled(struct urlcache_inval *);
static void	hold_done(void *, u_int64_t);
static struct redis_op	*tombstones(char *const *, size_t, redis_cb, void *);
static struct redis_op	*forget(const char *, redis_cb, void *);
static void	set_nx(const char *, const char *, size_t, int64_t);
static void	retry_add(const char *);
static void	retry_tick(void *, u_int64_t);
static void	retry_run(void);
static void	retry_done(void *, enum redis_status, redisReply *);
static void	flush_done(void *, enum redis_status, redisReply *);
static void	retry_arm(void);
static void	cache_reconnected(int);

/* Owned by this worker: invalidations Redis has not confirmed yet. */
static TAILQ_HEAD(, retry_code)	retries = TAILQ_HEAD_INITIALIZER(retries);
static size_t			retry_count;
static int			retry_armed;
static int			retry_in_flight;	/* a chunk or the flush */
static int			flush_pending;		/* the queue overflowed */

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
	if (!TAILQ_EMPTY(&retries) || flush_pending)
		retry_run();
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
	char		 key[CACHE_KEY_MAX];
	const char	*argv[2];

	memset(g, 0, sizeof(*g));
	g->req = req;
	g->result = URLCACHE_BYPASS;

	if (local_get(g, code))
		return (1);
	if (cache_key(key, sizeof(key), code) == -1)
		return (-1);
	argv[0] = "GET";
	argv[1] = key;
	g->sent_ms = kore_time_ms();
	if ((g->op = redis_command_argv(get_done, g, 2, argv, NULL)) == NULL)
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
	char	 key[CACHE_KEY_MAX];
	char	*value;
	size_t	 len;

	if (cache_key(key, sizeof(key), code) == -1)
		return;
	value = cache_entry_encode(e, &len);
	set_nx(key, value, len, config.cache_ttl);
	free(value);
}

void
urlcache_fill_absent(const char *code)
{
	char	key[CACHE_KEY_MAX];

	if (cache_key(key, sizeof(key), code) == -1)
		return;
	set_nx(key, cache_value_absent, strlen(cache_value_absent),
	    config.cache_negative_ttl);
}

/* SET key value EX ttl NX, framed by core/resp.c: no printf per fill. */
static void
set_nx(const char *key, const char *value, size_t len, int64_t ttl)
{
	char		 ttl_text[NUMFMT_INT64_MAX];
	const char	*argv[6];
	size_t		 argvlen[6];

	argv[0] = "SET"; argv[1] = key; argv[2] = value;
	argv[3] = "EX"; argv[4] = ttl_text; argv[5] = "NX";
	argvlen[0] = 3; argvlen[1] = strlen(key); argvlen[2] = len;
	argvlen[3] = 2; argvlen[4] = numfmt_int64(ttl_text, ttl);
	argvlen[5] = 2;
	(void)redis_command_argv(NULL, NULL, 6, argv, argvlen);
}

size_t
urlcache_invalidate(struct urlcache_inval *inv, struct http_request *req,
    const char **codes, size_t count, enum urlcache_how how)
{
	size_t	i;

	memset(inv, 0, sizeof(*inv));
	if (count == 0)
		return (0);

	inv->req = req;
	inv->how = how;
	inv->count = count;
	inv->patience = kore_time_ms() + INVAL_PATIENCE_MS;
	inv->codes = kore_calloc(count, sizeof(*inv->codes));
	for (i = 0; i < count; i++)
		inv->codes[i] = kore_strdup(codes[i]);

	/* One for the chunks (inval_send() settles it), one for the hold. */
	inv->pending = 1;
	if (how == URLCACHE_TOMBSTONE && config.local_cache_ms > 0) {
		inv->hold = 1;
		inv->pending++;
	}

	http_request_sleep(req);
	inval_send(inv);
	return (inv->pending);
}

/*
 * The next chunk, or the end of the chunks. A chunk Redis cannot take now
 * goes to the retry queue with everything after it: the write is still
 * acknowledged, the database being the truth (see the top of the file).
 */
static void
inval_send(struct urlcache_inval *inv)
{
	size_t	n, i;

	if (inv->next == inv->count) {
		inval_settled(inv);
		return;
	}

	n = inv->count - inv->next < CHUNK ? inv->count - inv->next : CHUNK;
	if (n == 1 && inv->how == URLCACHE_DELETE)
		inv->op = forget(inv->codes[inv->next], inval_done, inv);
	else
		inv->op = tombstones(&inv->codes[inv->next], n, inval_done, inv);
	if (inv->op != NULL) {
		inv->sent = n;
		return;
	}

	for (i = inv->next; i < inv->count; i++)
		retry_add(inv->codes[i]);
	inv->next = inv->count;
	inval_settled(inv);
}

void
urlcache_inval_release(struct urlcache_inval *inv)
{
	size_t	i;

	/* Gone before Redis answered: what it may not have taken is retried. */
	if (inv->hold_timer != NULL)
		kore_timer_remove(inv->hold_timer);
	if (inv->op != NULL)
		redis_cancel(inv->op);
	for (i = inv->next; i < inv->count; i++)
		retry_add(inv->codes[i]);
	for (i = 0; i < inv->count; i++)
		kore_free(inv->codes[i]);
	kore_free(inv->codes);
	memset(inv, 0, sizeof(*inv));
}

static void
inval_done(void *arg, enum redis_status st, redisReply *reply)
{
	struct urlcache_inval	*inv = arg;
	size_t			 i;

	inv->op = NULL;
	if (st == REDIS_ST_OK) {
		inv->next += inv->sent;
		inv->sent = 0;
		inval_send(inv);
		return;
	}

	/* Slow, not gone: the same chunk again while the write can wait. */
	if (st == REDIS_ST_TIMEOUT && kore_time_ms() < inv->patience) {
		inv->sent = 0;
		inval_send(inv);
		return;
	}

	/* Redis is in trouble: no more chunks now, the queue retries. */
	for (i = inv->next; i < inv->count; i++)
		retry_add(inv->codes[i]);
	inv->next = inv->count;
	inval_settled(inv);
}

/*
 * Redis has answered every chunk (or some went to the retry queue): now
 * wait out the local copies made before the tombstones.
 */
static void
inval_settled(struct urlcache_inval *inv)
{
	inv->pending--;
	if (inv->hold) {
		inv->hold_timer = kore_timer_add(hold_done,
		    (u_int64_t)config.local_cache_ms + LOCAL_HOLD_MARGIN_MS,
		    inv, KORE_TIMER_ONESHOT);
	} else if (inv->pending == 0) {
		http_request_wakeup(inv->req);
	}
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

/* SET sc:<code> ~ PX <ms> for one code, the script for more. */
static struct redis_op *
tombstones(char *const *codes, size_t n, redis_cb cb, void *arg)
{
	char			 keys[CHUNK][CACHE_KEY_MAX], px[24], nkeys[24];
	const char		*argv[CHUNK + 5];
	size_t			 i, argc;

	for (i = 0; i < n; i++) {
		if (cache_key(keys[i], sizeof(keys[i]), codes[i]) == -1)
			return (NULL);
	}
	if (n == 1) {
		return (redis_command(cb, arg, "SET %s %s PX %d", keys[0],
		    cache_value_tombstone, config.cache_tombstone_ms));
	}

	(void)snprintf(nkeys, sizeof(nkeys), "%zu", n);
	(void)snprintf(px, sizeof(px), "%d", config.cache_tombstone_ms);
	argc = 0;
	argv[argc++] = "EVAL";
	argv[argc++] = tombstone_script;
	argv[argc++] = nkeys;
	for (i = 0; i < n; i++)
		argv[argc++] = keys[i];
	argv[argc++] = cache_value_tombstone;
	argv[argc++] = px;
	return (redis_command_argv(cb, arg, (int)argc, argv, NULL));
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

/* Beyond RETRY_MAX_CODES the queue gives way to one FLUSHDB. */
static void
retry_add(const char *code)
{
	struct retry_code	*r;

	if (flush_pending)
		return;

	if (retry_count >= RETRY_MAX_CODES) {
		log_event(LOG_LEVEL_WARN, "cache_invalidation_overflow",
		    "%zu invalidations wait for Redis: the cache will be "
		    "emptied instead", retry_count + 1);
		while ((r = TAILQ_FIRST(&retries)) != NULL) {
			TAILQ_REMOVE(&retries, r, list);
			kore_free(r->code);
			kore_free(r);
		}
		retry_count = 0;
		flush_pending = 1;
		retry_arm();
		return;
	}

	r = kore_calloc(1, sizeof(*r));
	r->code = kore_strdup(code);
	TAILQ_INSERT_TAIL(&retries, r, list);
	retry_count++;
	retry_arm();
}

static void
retry_arm(void)
{
	if (retry_armed || retry_in_flight)
		return;
	retry_armed = 1;
	kore_timer_add(retry_tick, RETRY_MS, NULL, KORE_TIMER_ONESHOT);
}

static void
retry_tick(void *arg, u_int64_t now)
{
	retry_armed = 0;
	retry_run();
}

/* Sends the flush, or the next chunk of the queue; one at a time. */
static void
retry_run(void)
{
	struct retry_chunk	*chunk;
	struct retry_code	*r;
	size_t			 i;

	if (retry_in_flight)
		return;

	if (flush_pending) {
		if (redis_command(flush_done, NULL, "FLUSHDB ASYNC") != NULL)
			retry_in_flight = 1;
		else
			retry_arm();
		return;
	}
	if (TAILQ_EMPTY(&retries))
		return;

	chunk = kore_calloc(1, sizeof(*chunk));
	TAILQ_FOREACH(r, &retries, list) {
		if (chunk->count == CHUNK)
			break;
		chunk->codes[chunk->count++] = r->code;
	}
	if (tombstones(chunk->codes, chunk->count, retry_done, chunk) == NULL) {
		kore_free(chunk);
		retry_arm();
		return;
	}

	/* The chunk owns its codes now: they were the queue's first. */
	for (i = 0; i < chunk->count; i++) {
		r = TAILQ_FIRST(&retries);
		TAILQ_REMOVE(&retries, r, list);
		kore_free(r);
		retry_count--;
	}
	retry_in_flight = 1;
}

static void
retry_done(void *arg, enum redis_status st, redisReply *reply)
{
	struct retry_chunk	*chunk = arg;
	size_t			 i;

	/* Taken: on with the next chunk; refused: again in RETRY_MS. */
	retry_in_flight = 0;
	for (i = 0; i < chunk->count; i++) {
		if (st != REDIS_ST_OK)
			retry_add(chunk->codes[i]);
		kore_free(chunk->codes[i]);
	}
	kore_free(chunk);

	if (st == REDIS_ST_OK)
		retry_run();
}

static void
flush_done(void *arg, enum redis_status st, redisReply *reply)
{
	retry_in_flight = 0;
	if (st == REDIS_ST_OK) {
		flush_pending = 0;
		log_event(LOG_LEVEL_WARN, "cache_flushed", "the cache was "
		    "emptied in place of an overflowing invalidation queue");
	}
	if (!TAILQ_EMPTY(&retries) || flush_pending)
		retry_arm();
}
