/*
 * Rate limits in Redis.
 *
 * One command per request: a script that INCRs "rl:<bucket>", gives a new
 * key the window's lifetime (PEXPIRE) and answers the count and the time
 * left (PTTL). A script rather than a pipelined INCR and PEXPIRE: it is
 * atomic, so no key can be left without an expiry by a connection lost
 * between the two, and it answers the window's end, which becomes
 * X-RateLimit-Reset without comparing the clocks of the instances. Redis
 * keeps the compiled script; each call sends its 200 bytes again, which
 * costs less than the round trip an EVALSHA miss would.
 *
 * The command runs under the Redis client's budget (REDIS_TIMEOUT_MS)
 * like a cache lookup. When Redis is down, tripped, over budget or
 * refusing, the request is judged by the worker's own table
 * (core/ratelimit.c) against its share of the limit, the limit divided
 * by the instance's workers: an instance then allows about one budget
 * by itself, and N instances N budgets, until Redis is back. A limit
 * never turns into an outage. The keys live in the cache's Redis
 * database, so the FLUSHDB a worker sends after an outage
 * (cache/urlcache.c) also starts every window afresh.
 */

#include <stdio.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "cache/limiter.h"
#include "cache/redis.h"
#include "obs/log.h"

#define LOCAL_SLOTS	8192
#define KEY_PREFIX	"rl:"
#define LOG_EVERY_MS	60000

static const char	window_script[] =
	"local n = redis.call('INCR', KEYS[1]) "
	"local t = redis.call('PTTL', KEYS[1]) "
	"if n == 1 or t < 0 then "
	"redis.call('PEXPIRE', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end "
	"return {n, t}";

static void	reply(void *, enum redis_status, redisReply *);
static void	local_judge(struct limiter_call *);

/* Owned by this worker: its counts while Redis cannot answer. */
static struct ratelimit_local	local;
static uint64_t			logged_ms;	/* last refusal logged */

void
limiter_init(void)
{
	if (ratelimit_local_init(&local, LOCAL_SLOTS) == -1)
		fatal("rate limit table: out of memory");
}

int
limiter_hit(struct limiter_call *c, struct http_request *req,
    const char *bucket, uint32_t limit)
{
	char		 key[RATELIMIT_BUCKET_MAX + sizeof(KEY_PREFIX)];
	char		 window[16];
	const char	*argv[5];

	memset(c, 0, sizeof(*c));
	c->req = req;
	c->limit = limit;
	(void)snprintf(c->bucket, sizeof(c->bucket), "%s", bucket);
	(void)snprintf(key, sizeof(key), KEY_PREFIX "%s", c->bucket);
	(void)snprintf(window, sizeof(window), "%d", RATELIMIT_WINDOW_MS);

	argv[0] = "EVAL";
	argv[1] = window_script;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = window;
	if ((c->op = redis_command_argv(reply, c, 5, argv, NULL)) == NULL) {
		local_judge(c);
		return (1);
	}

	c->pending = 1;
	http_request_sleep(req);
	return (0);
}

void
limiter_release(struct limiter_call *c)
{
	if (c->op != NULL)
		redis_cancel(c->op);
	c->op = NULL;
}

static void
reply(void *arg, enum redis_status st, redisReply *r)
{
	struct limiter_call	*c = arg;

	c->op = NULL;
	c->pending = 0;
	if (st == REDIS_ST_OK && r->type == REDIS_REPLY_ARRAY &&
	    r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		c->shared = 1;
		ratelimit_judge(c->limit, r->element[0]->integer,
		    r->element[1]->integer, &c->result);
	} else {
		if (st == REDIS_ST_ERROR && (logged_ms == 0 ||
		    kore_time_ms() - logged_ms >= LOG_EVERY_MS)) {
			logged_ms = kore_time_ms();
			log_event(LOG_LEVEL_WARN, "rate_limit_error",
			    "redis refused the rate limit script (%s); "
			    "counting per worker", r->str != NULL ? r->str :
			    "?");
		}
		local_judge(c);
	}
	http_request_wakeup(c->req);
}

/* This worker's share of the limit, counted here. */
static void
local_judge(struct limiter_call *c)
{
	uint32_t	share, n;

	/* worker_count counts Kore's two service slots too. */
	n = worker_count > KORE_WORKER_BASE ?
	    (uint32_t)(worker_count - KORE_WORKER_BASE) : 1;
	share = (c->limit + n - 1) / n;
	ratelimit_local_hit(&local, c->bucket, kore_time_ms(),
	    share > 0 ? share : 1, &c->result);
}
