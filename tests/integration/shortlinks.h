/*
 * Helpers for the tests of short links, the redirect cache and clicks:
 * the X-Cache header, waiting for a code to be cached, counting click
 * events, bursts of concurrent redirects (curl multi), and redis-cli
 * against the test's private Redis (SHORTENER_REDIS_CLI).
 *
 * What the cache promises (src/cache/urlcache.c): a redirect is a HIT
 * (from Redis), a MISS (from PostgreSQL, then cached with SET NX and a
 * TTL) or a BYPASS (Redis unusable); every write of a code puts a
 * tombstone in its key for CACHE_TOMBSTONE_MS, during which redirects are
 * MISSes that do not fill. A URL is therefore cached only after its
 * creation's tombstone has expired, which await_hit() waits out.
 */
#ifndef ITEST_SHORTLINKS_H
#define ITEST_SHORTLINKS_H

#include <stddef.h>
#include <jansson.h>

#include "client.h"

/* The X-Cache header of r, or "(none)". */
const char	*xcache(const struct http_resp *r);
/* 1 when r says X-Cache: want. */
int		 xcache_is(const struct http_resp *r, const char *want);

/* CACHE_TOMBSTONE_MS as the app has it (the default unless exported). */
long		 tombstone_ms(void);

/*
 * method ("GET" or "HEAD") of path, asked again (up to 5 times, 20 ms
 * apart) while the answer is X-Cache: BYPASS. A BYPASS is the cache
 * being over its few-ms budget on a busy machine, not a decision of the
 * cache, and it neither reads nor fills: tests that assert HIT or MISS
 * use this so that scheduling noise does not fail them.
 */
struct http_resp *cache_req(const char *method, const char *path);

/* Asserts a 302 to target. */
void		 expect_302(const struct http_resp *r, const char *target);

/*
 * Redirects (HEAD, so no click is written, or GET) until one says
 * X-Cache: HIT or timeout_ms passes; asserts every answer is a 302 to
 * target. Returns the milliseconds it took, or -1 on timeout.
 */
long		 await_hit(const char *code, const char *target, int use_head,
		    long timeout_ms);
/* await_hit with a HEAD and room for the creation's tombstone; asserts. */
void		 cache_code(const char *code, const char *target);

/* The number of click events of url_id (X-Total-Count of one page). */
long		 click_count(json_int_t url_id);
/*
 * Polls click_count until it reaches want and then stays put for
 * settle_ms (so that a surplus would show), or until timeout_ms passes.
 * Returns the last count.
 */
long		 await_clicks(json_int_t url_id, long want, long timeout_ms,
		    long settle_ms);

struct burst {
	long	sent;
	long	status302;
	long	other;		/* any other status */
	long	transport;	/* curl failures */
	long	hit, miss, bypass;
	double	max_s;		/* slowest request */
	double	sum_s;
	double	wall_s;		/* the whole burst */
};

/*
 * n requests of method ("GET" or "HEAD") to path over conns concurrent
 * keep-alive connections (curl multi, one process; new connections each
 * call, so successive bursts may reach other workers); fills out. A
 * request without an answer within 5 s counts as a transport failure.
 */
void		 redirect_burst(const char *method, const char *path, int n,
		    int conns, struct burst *out);

/*
 * Runs SHORTENER_REDIS_CLI with args appended (a shell word list) and
 * returns its first output line in out (may be NULL); the exit status,
 * or -1. Skips the test when SHORTENER_REDIS_CLI is unset.
 */
int		 redis_cli(char *out, size_t outlen, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* 1 when SHORTENER_REDIS_CLI is set. */
int		 redis_cli_available(void);

/* getenv(name) when set and non-empty, else NULL. */
const char	*env_cmd(const char *name);
/* system(cmd) with the command logged; 0 on a zero exit status. */
int		 run_cmd(const char *cmd);

#endif
