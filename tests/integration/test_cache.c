/*
 * The redirect cache and the click writer, seen from outside, with Redis
 * and PostgreSQL up (what breaks them is in test_resilience.c):
 *  - a code is a MISS, then a HIT once the fill (fire and forget) landed;
 *  - unknown and inactive codes are cached negatively (the second 404 is
 *    a HIT), and creating or activating the code ends that at once;
 *  - a hot code is answered from the worker's local copy (local_hit);
 *  - every write (PUT, DELETE, user deletion) shows in the very next
 *    redirect, even of a code that was a HIT just before and that every
 *    worker holds a local copy of;
 *  - concurrent redirects write exactly one click each, and a click shows
 *    in GET /events within about 100 ms.
 *
 * Each test owns its users, URLs and codes, so they run in parallel with
 * everything else. Figures (time to HIT, click latency) go to stderr.
 * With SHORTENER_REDIS_CLI set the Redis keys are read too (read only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"
#include "scrape.h"
#include "shortlinks.h"

TestSuite(cache, .timeout = 60);

/* A fill is one Redis round trip after the response: a few ms. */
#define FILL_WAIT_MS		1000
#define CLICK_SETTLE_MS		500
#define CLICK_LATENCY_MAX_MS	1000
#define BURST_N			200
#define BURST_CONNS		16

/* CACHE_TTL_SECONDS and CACHE_NEGATIVE_TTL_SECONDS, the defaults. */
#define CACHE_TTL_MAX		300
#define NEGATIVE_TTL_MAX	10

static void		 wait_tombstone(void);
static long		 await_status_hit(const char *code, long status,
			    long timeout_ms);
static void		 expect_404(const char *code, const char *why);
static void		 expect_key(const char *code, const char *value,
			    long ttl_min, long ttl_max);
static void		 negative_code(char *buf, size_t len);
static void		 spread_local_copies(const char *code);

/*
 * A cached code, asked for by many connections at once: both workers
 * answer it, from Redis and then from their local copies.
 */
static void
spread_local_copies(const char *code)
{
	struct burst	b;

	redirect_burst("HEAD", pathf("/%s", code), BURST_N, BURST_CONNS, &b);
	cr_assert_eq(b.status302, BURST_N, "burst: %ld of %d were 302",
	    b.status302, BURST_N);
}

static void
wait_tombstone(void)
{
	sleep_ms(tombstone_ms() + 200);
}

/*
 * GETs /code until it answers status with X-Cache: HIT; every answer
 * must have that status. The milliseconds it took, or -1.
 */
static long
await_status_hit(const char *code, long status, long timeout_ms)
{
	struct http_resp	*r;
	double			 t0 = now_seconds();
	int			 hit;

	for (;;) {
		r = http_get(pathf("/%s", code));
		cr_assert_eq(r->status, status, "/%s: %ld (X-Cache %s), want "
		    "%ld", code, r->status, xcache(r), status);
		hit = xcache_is(r, "HIT");
		http_free(r);
		if (hit)
			return ((long)((now_seconds() - t0) * 1000));
		if (now_seconds() - t0 > timeout_ms / 1000.0)
			return (-1);
		sleep_ms(2);
	}
}

static void
expect_404(const char *code, const char *why)
{
	struct http_resp	*r = http_get(pathf("/%s", code));

	cr_expect_eq(r->status, 404, "/%s %s: %ld (X-Cache %s, Location %s)",
	    code, why, r->status, xcache(r),
	    http_header(r, "Location") ? http_header(r, "Location") : "-");
	if (r->status == 404)
		expect_error(r, 404, NULL);
	http_free(r);
}

/* The Redis key of code holds value with a TTL in [ttl_min, ttl_max]. */
static void
expect_key(const char *code, const char *value, long ttl_min, long ttl_max)
{
	char	out[512];
	long	ttl;

	if (!redis_cli_available())
		return;
	cr_expect_eq(redis_cli(out, sizeof(out), "GET 'sc:%s'", code), 0);
	if (value != NULL)
		cr_expect_str_eq(out, value, "sc:%s holds \"%s\", want \"%s\"",
		    code, out, value);
	else
		cr_expect(strstr(out, "://") != NULL, "sc:%s holds \"%s\", "
		    "want a cached URL", code, out);
	cr_expect_eq(redis_cli(out, sizeof(out), "PTTL 'sc:%s'", code), 0);
	ttl = strtol(out, NULL, 10);
	cr_expect(ttl >= ttl_min && ttl <= ttl_max, "sc:%s: PTTL %ld ms, want "
	    "%ld..%ld", code, ttl, ttl_min, ttl_max);
}

/*
 * A well-formed code ([A-Za-z0-9_-]{3,32}) that nobody has, copied out of
 * uniq()'s ring, which pathf() reuses.
 */
static void
negative_code(char *buf, size_t len)
{
	const char	*c = uniq("ng");

	cr_assert(strlen(c) <= 32 && strlen(c) < len, "code too long: %s", c);
	snprintf(buf, len, "%s", c);
}

Test(cache, miss_then_hit)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	const char		*code = jstr(url, "short_code");
	const char		*target = jstr(url, "original_url");
	long			 ms;

	/*
	 * A random code cannot have been read before it existed: creating it
	 * only removed the key, so the first redirect misses and fills.
	 */
	if (redis_cli_available()) {
		char	out[64];

		cr_expect_eq(redis_cli(out, sizeof(out), "EXISTS 'sc:%s'",
		    code), 0);
		cr_expect_str_eq(out, "0", "sc:%s exists right after creation",
		    code);
	}

	r = cache_req("GET", pathf("/%s", code));
	expect_302(r, target);
	cr_expect(xcache_is(r, "MISS"), "first redirect: X-Cache %s, want "
	    "MISS", xcache(r));
	http_free(r);

	ms = await_hit(code, target, 0, FILL_WAIT_MS);
	cr_assert_geq(ms, 0, "second redirect never became a HIT within %d ms",
	    FILL_WAIT_MS);
	fprintf(stderr, "cache: MISS -> HIT after %ld ms\n", ms);
	expect_key(code, NULL, (CACHE_TTL_MAX - 10) * 1000L,
	    CACHE_TTL_MAX * 1000L);

	/* The alias reads the same cache. */
	r = cache_req("GET", pathf("/urls/%s/redirect", code));
	expect_302(r, target);
	cr_expect(xcache_is(r, "HIT"), "alias: X-Cache %s, want HIT",
	    xcache(r));
	http_free(r);
	r = cache_req("HEAD", pathf("/%s", code));
	expect_302(r, target);
	cr_expect(xcache_is(r, "HIT"), "HEAD: X-Cache %s, want HIT",
	    xcache(r));
	http_free(r);
	json_decref(url);
}

Test(cache, hot_code_is_answered_from_the_workers_local_copy)
{
	json_t		*url = make_user_url(NULL);
	const char	*code = jstr(url, "short_code");
	struct scrape	*s;
	double		 before, after;

	cache_code(code, jstr(url, "original_url"));
	s = scrape_fetch();
	before = scrape_value(s, "shortener_cache_lookups_total",
	    "result=\"local_hit\"");
	scrape_free(s);
	spread_local_copies(code);
	s = scrape_fetch();
	after = scrape_value(s, "shortener_cache_lookups_total",
	    "result=\"local_hit\"");
	scrape_free(s);
	cr_expect_gt(after, before, "a burst of %d redirects of a cached code "
	    "must be answered partly from local copies (LOCAL_CACHE_MS)",
	    BURST_N);
	json_decref(url);
}

Test(cache, unknown_code_is_cached_until_created)
{
	struct http_resp	*r;
	json_t			*user = make_user(), *url;
	const char		*target = "https://example.com/was-negative";
	char			 code[40];
	long			 ms;

	negative_code(code, sizeof(code));
	r = cache_req("GET", pathf("/%s", code));
	expect_error(r, 404, NULL);
	cr_expect(xcache_is(r, "MISS"), "first 404: X-Cache %s, want MISS",
	    xcache(r));
	http_free(r);

	ms = await_status_hit(code, 404, FILL_WAIT_MS);
	cr_assert_geq(ms, 0, "the second 404 never became a HIT within %d ms",
	    FILL_WAIT_MS);
	fprintf(stderr, "cache: negative entry after %ld ms\n", ms);
	expect_key(code, "!", 1, NEGATIVE_TTL_MAX * 1000L);

	url = make_url(jint(user, "id"), target,
	    json_pack("{s:s}", "short_code", code));
	r = http_get(pathf("/%s", code));
	expect_302(r, target);
	cr_expect(!xcache_is(r, "HIT"), "just created: X-Cache %s",
	    xcache(r));
	http_free(r);
	json_decref(url);
	json_decref(user);
}

Test(cache, inactive_code_is_cached_until_activated)
{
	struct http_resp	*r;
	json_t			*user = make_user(), *url;
	const char		*target = "https://example.com/inactive-cached";
	const char		*code;

	url = make_url(jint(user, "id"), target,
	    json_pack("{s:b}", "is_active", 0));
	code = jstr(url, "short_code");
	wait_tombstone();
	r = cache_req("GET", pathf("/%s", code));
	expect_error(r, 404, NULL);
	cr_expect(xcache_is(r, "MISS"), "first 404: X-Cache %s", xcache(r));
	http_free(r);
	cr_assert_geq(await_status_hit(code, 404, FILL_WAIT_MS), 0,
	    "an inactive code is cached negatively");

	r = http_send("PUT", pathf("/urls/%lld", (long long)jint(url, "id")),
	    "{\"is_active\":true}");
	cr_assert_eq(r->status, 200, "PUT: %ld %s", r->status, r->body);
	http_free(r);
	r = http_get(pathf("/%s", code));
	expect_302(r, target);
	http_free(r);
	json_decref(url);
	json_decref(user);
}

Test(cache, deactivation_applies_to_the_very_next_redirect)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	const char		*code = jstr(url, "short_code");
	int			 i;

	cache_code(code, jstr(url, "original_url"));
	spread_local_copies(code);
	r = http_send("PUT", pathf("/urls/%lld", (long long)jint(url, "id")),
	    "{\"is_active\":false}");
	cr_assert_eq(r->status, 200, "PUT: %ld %s", r->status, r->body);
	http_free(r);
	for (i = 0; i < 5; i++)
		expect_404(code, "after is_active:false");
	/* Read from PostgreSQL while the tombstone is there, not cached. */
	expect_key(code, "~", 1, tombstone_ms());

	wait_tombstone();
	expect_404(code, "after the tombstone");
	json_decref(url);
}

Test(cache, new_target_applies_to_the_very_next_redirect)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	const char		*code = jstr(url, "short_code");
	const char		*target = "https://example.org/moved-target";
	int			 i;

	cache_code(code, jstr(url, "original_url"));
	spread_local_copies(code);
	r = http_sendf("PUT", pathf("/urls/%lld", (long long)jint(url, "id")),
	    "{\"original_url\":\"%s\"}", target);
	cr_assert_eq(r->status, 200, "PUT: %ld %s", r->status, r->body);
	http_free(r);
	for (i = 0; i < 5; i++) {
		r = cache_req("GET", pathf("/%s", code));
		expect_302(r, target);
		cr_expect(xcache_is(r, "MISS"), "during the tombstone: X-Cache "
		    "%s, want MISS", xcache(r));
		http_free(r);
	}

	/* Once the tombstone is gone the new target is what gets cached. */
	wait_tombstone();
	cr_expect_geq(await_hit(code, target, 1, FILL_WAIT_MS), 0,
	    "the new target never became a HIT");
	json_decref(url);
}

Test(cache, deletion_applies_to_the_very_next_redirect)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	const char		*code = jstr(url, "short_code");
	int			 i;

	cache_code(code, jstr(url, "original_url"));
	spread_local_copies(code);
	r = http_delete(pathf("/urls/%lld", (long long)jint(url, "id")));
	cr_assert_eq(r->status, 204, "DELETE: %ld %s", r->status, r->body);
	http_free(r);
	for (i = 0; i < 5; i++)
		expect_404(code, "after DELETE /urls/<id>");
	json_decref(url);
}

Test(cache, user_deletion_applies_to_all_their_codes_at_once)
{
	struct http_resp	*r;
	json_t			*user = make_user(), *urls[3];
	char			 target[128];
	int			 i;

	for (i = 0; i < 3; i++) {
		snprintf(target, sizeof(target), "https://example.com/%s",
		    uniq("gone"));
		urls[i] = make_url(jint(user, "id"), target, NULL);
	}
	for (i = 0; i < 3; i++) {
		cache_code(jstr(urls[i], "short_code"),
		    jstr(urls[i], "original_url"));
		spread_local_copies(jstr(urls[i], "short_code"));
	}

	r = http_delete(pathf("/users/%lld", (long long)jint(user, "id")));
	cr_assert_eq(r->status, 204, "DELETE /users: %ld %s", r->status,
	    r->body);
	http_free(r);
	for (i = 0; i < 3; i++)
		expect_404(jstr(urls[i], "short_code"), "after DELETE /users");
	for (i = 0; i < 3; i++)
		json_decref(urls[i]);
	json_decref(user);
}

Test(cache, concurrent_redirects_write_one_click_each)
{
	struct http_resp	*r;
	struct burst		 b;
	json_t			*url = make_user_url(NULL);
	json_int_t		 id = jint(url, "id");
	long			 n;

	redirect_burst("GET", pathf("/%s", jstr(url, "short_code")), BURST_N,
	    BURST_CONNS, &b);
	fprintf(stderr, "cache: %d GETs over %d connections in %.0f ms: "
	    "max %.1f ms, mean %.1f ms; HIT %ld MISS %ld BYPASS %ld\n",
	    BURST_N, BURST_CONNS, b.wall_s * 1000, b.max_s * 1000,
	    b.sum_s * 1000 / (b.sent ? b.sent : 1), b.hit, b.miss, b.bypass);
	cr_assert_eq(b.transport, 0, "%ld transport errors", b.transport);
	cr_assert_eq(b.status302, BURST_N, "%ld of %d redirects were 302",
	    b.status302, BURST_N);

	n = await_clicks(id, BURST_N, 5000, CLICK_SETTLE_MS);
	cr_expect_eq(n, BURST_N, "%d redirects wrote %ld click events",
	    BURST_N, n);

	r = http_get(pathf("/urls/%lld/stats", (long long)id));
	cr_assert_eq(r->status, 200, "stats: %ld %s", r->status, r->body);
	cr_expect_eq(jint(r->json, "clicks"), BURST_N, "stats: %s", r->body);
	http_free(r);
	json_decref(url);
}

Test(cache, click_shows_in_events_within_100_ms)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	json_int_t		 id = jint(url, "id");
	const char		*code = jstr(url, "short_code");
	double			 t0, ms, worst = 0, sum = 0;
	int			 i, samples = 5;

	cache_code(code, jstr(url, "original_url"));
	for (i = 0; i < samples; i++) {
		r = http_get(pathf("/%s", code));
		expect_302(r, jstr(url, "original_url"));
		http_free(r);
		t0 = now_seconds();
		while (click_count(id) < i + 1 &&
		    now_seconds() - t0 < CLICK_LATENCY_MAX_MS / 1000.0)
			sleep_ms(1);
		ms = (now_seconds() - t0) * 1000;
		cr_expect_eq(click_count(id), i + 1, "click #%d not in GET "
		    "/events after %.0f ms", i + 1, ms);
		sum += ms;
		if (ms > worst)
			worst = ms;
		sleep_ms(50);
	}
	fprintf(stderr, "cache: click visible in GET /events after %.1f ms "
	    "mean, %.1f ms max (%d samples)\n", sum / samples, worst, samples);
	cr_expect_lt(worst, CLICK_LATENCY_MAX_MS);
	json_decref(url);
}
