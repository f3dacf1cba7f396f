/*
 * Dependencies going away and coming back while the service runs.
 *
 * PostgreSQL: every route that needs the database answers a quick 503
 * JSON with Retry-After, /health stays 200, /ready turns 503, and once
 * PostgreSQL is back the service recovers by itself (no restart), reads
 * first time. Paused (SIGSTOP: connects hang instead of failing), cached
 * redirects stay fast once each worker has paid for one connect that
 * timed out. Clicks of cached links wait in the workers' queues while it
 * is down and are all written when it returns, or when the app is told
 * to stop (SIGTERM flushes them), never lost and never doubled.
 *
 * Redis: stopped, redirects still answer 302 from PostgreSQL (X-Cache:
 * BYPASS), /ready says "cache":"degraded" with a 200, and the cache is
 * used again once Redis is back, without a restart. Paused (CLIENT
 * PAUSE), every redirect still completes within the cache's time budget
 * plus the database's, and a write made meanwhile is not undone by a
 * stale entry afterwards.
 *
 * These stop the database, the cache and the app that every other test
 * uses, so the suite must run on its own, after the others, with the two
 * invocations written out below this comment.
 *
 * They need shell commands in the environment (scripts/test.py sets
 * them): SHORTENER_PG_STOP / SHORTENER_PG_START,
 * SHORTENER_PG_PAUSE / SHORTENER_PG_RESUME,
 * SHORTENER_REDIS_STOP / SHORTENER_REDIS_START, SHORTENER_REDIS_CLI and
 * SHORTENER_APP_STOP / SHORTENER_APP_START; a test whose commands are
 * missing is skipped. Whatever a test broke is restored in its fini hook
 * (restore_all) whatever happened in between, assertion failures
 * included.
 */
// tests/bin/integration --filter '!(resilience/*)'
// tests/bin/integration --filter 'resilience/*'
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

#include "client.h"
#include "fixtures.h"
#include "scrape.h"
#include "shortlinks.h"

#define STOP_WAIT_S	10.0
#define START_WAIT_S	20.0	/* from the start command's return */
#define FAST_S		5.0	/* a 503 must not hang */
#define RESPAWN_REQUESTS 30	/* before and after a worker is killed */

TestSuite(resilience, .timeout = 240);

static int	 pg_stopped;
static int	 pg_paused;
static int	 redis_stopped;
static int	 redis_paused;
static int	 app_stopped;
static pid_t	 pg_starter;	/* a SHORTENER_PG_START running in a child */

static void	 ensure_pg_started(void);
static void	 restore_all(void);
static int	 wait_background(pid_t *pid);
static void	 expect_503(struct http_resp *r, const char *what);
static long	 status_of(struct http_resp *r);

static void
ensure_pg_started(void)
{
	const char	*start = getenv("SHORTENER_PG_START");

	if (pg_stopped && start != NULL) {
		if (system(start) != 0)
			fprintf(stderr, "resilience: \"%s\" failed\n", start);
		pg_stopped = 0;
	}
}

/* The fini hook of every test that breaks something other than PG. */
static void
restore_all(void)
{
	const char	*cli = env_cmd("SHORTENER_REDIS_CLI");
	char		*cmd;

	if (pg_paused && env_cmd("SHORTENER_PG_RESUME") != NULL) {
		(void)run_cmd(env_cmd("SHORTENER_PG_RESUME"));
		pg_paused = 0;
	}
	/* A start command still running in the background: let it end. */
	if (pg_starter > 0 && wait_background(&pg_starter) == 0)
		pg_stopped = 0;
	ensure_pg_started();
	if (redis_paused && cli != NULL) {
		if (asprintf(&cmd, "%s CLIENT UNPAUSE >/dev/null", cli) >= 0) {
			(void)run_cmd(cmd);
			free(cmd);
		}
		redis_paused = 0;
	}
	if (redis_stopped && env_cmd("SHORTENER_REDIS_START") != NULL) {
		(void)run_cmd(env_cmd("SHORTENER_REDIS_START"));
		redis_stopped = 0;
	}
	if (app_stopped && env_cmd("SHORTENER_APP_START") != NULL) {
		(void)run_cmd(env_cmd("SHORTENER_APP_START"));
		app_stopped = 0;
	}
}

static void
expect_503(struct http_resp *r, const char *what)
{
	cr_expect_eq(r->status, 503, "%s with PostgreSQL down: %ld %.300s",
	    what, r->status, r->body);
	if (r->status == 503) {
		expect_error(r, 503, NULL);
		cr_expect_not_null(http_header(r, "Retry-After"),
		    "%s: 503 without Retry-After", what);
	}
	cr_expect_lt(r->elapsed, FAST_S, "%s took %.1f s", what, r->elapsed);
	http_free(r);
}

static long
status_of(struct http_resp *r)
{
	long	s = r->status;

	http_free(r);
	return (s);
}

Test(resilience, database_outage_is_503_and_recovers,
    .fini = ensure_pg_started)
{
	const char		*stop = getenv("SHORTENER_PG_STOP");
	const char		*start = getenv("SHORTENER_PG_START");
	struct http_resp	*r;
	json_t			*user, *url, *ok;
	json_int_t		 uid, lid;
	const char		*code;
	const char		*csv = "username,email\ndown,down@example.com\n";
	double			 deadline;
	long			 s;
	int			 i;

	if (stop == NULL || *stop == '\0' || start == NULL || *start == '\0')
		cr_skip_test("SHORTENER_PG_STOP/SHORTENER_PG_START not set");

	url = make_user_url(&user);
	uid = jint(user, "id");
	lid = jint(url, "id");
	code = jstr(url, "short_code");
	r = http_get("/ready");
	cr_assert_eq(r->status, 200, "/ready before the outage: %ld",
	    r->status);
	http_free(r);

	/* Down. */
	pg_stopped = 1;
	cr_assert_eq(system(stop), 0, "\"%s\" failed", stop);

	deadline = now_seconds() + STOP_WAIT_S;
	do {
		s = status_of(http_get(pathf("/users/%lld", (long long)uid)));
		if (s != 503)
			sleep_ms(200);
	} while (s != 503 && now_seconds() < deadline);
	cr_assert_eq(s, 503, "GET /users/<id> never became 503 within %.0f s "
	    "(last %ld)", STOP_WAIT_S, s);

	expect_503(http_get(pathf("/users/%lld", (long long)uid)),
	    "GET /users/<id>");
	expect_503(http_get("/users"), "GET /users");
	expect_503(http_get("/users?page=2&per_page=5"), "GET /users?page=2");
	expect_503(http_sendf("POST", "/users", "{\"username\":\"down\","
	    "\"email\":\"%s\"}", uniq_email()), "POST /users");
	expect_503(http_send("PUT", pathf("/users/%lld", (long long)uid),
	    "{\"username\":\"down\"}"), "PUT /users/<id>");
	expect_503(http_get("/urls"), "GET /urls");
	expect_503(http_get(pathf("/urls/%lld", (long long)lid)),
	    "GET /urls/<id>");
	expect_503(http_sendf("POST", "/urls", "{\"user_id\":%lld,"
	    "\"original_url\":\"https://example.com/down\"}", (long long)uid),
	    "POST /urls");
	expect_503(http_get(pathf("/urls/%lld/stats", (long long)lid)),
	    "GET /urls/<id>/stats");
	expect_503(http_get("/events"), "GET /events");
	expect_503(http_sendf("POST", "/events", "{\"url_id\":%lld,\"user_id\":"
	    "%lld,\"event_type\":\"down\"}", (long long)lid, (long long)uid),
	    "POST /events");
	expect_503(http_multipart("/users/bulk", "file", "u.csv", csv,
	    strlen(csv), NULL, NULL), "POST /users/bulk");

	/* A cached link may still redirect; it must not fail otherwise. */
	r = http_get(pathf("/%s", code));
	cr_expect(r->status == 302 || r->status == 503,
	    "redirect with PostgreSQL down: %ld", r->status);
	http_free(r);

	/* Client errors stay client errors. */
	r = http_send("POST", "/users", "not json");
	cr_expect(r->status == 400 || r->status == 503, "malformed body: %ld",
	    r->status);
	http_free(r);

	ok = json_pack("{s:s}", "status", "ok");
	r = http_get("/health");
	cr_expect_eq(r->status, 200, "/health must stay 200: %ld", r->status);
	cr_expect(json_equal(r->json, ok), "/health: %s", r->body);
	http_free(r);
	json_decref(ok);

	r = http_request("GET", "/ready", NULL, NULL, 0, HTTP_NO_ERRSHAPE);
	cr_expect_eq(r->status, 503, "/ready with PostgreSQL down: %ld %s",
	    r->status, r->body);
	cr_expect_str_neq(jstr(r->json, "database"), "ok",
	    "/ready must not say database ok: %s", r->body);
	cr_expect_lt(r->elapsed, FAST_S);
	http_free(r);

	/* Back up: the service must recover without a restart. */
	cr_assert_eq(system(start), 0, "\"%s\" failed", start);
	pg_stopped = 0;

	deadline = now_seconds() + START_WAIT_S;
	do {
		s = status_of(http_get(pathf("/users/%lld", (long long)uid)));
		if (s != 200)
			sleep_ms(250);
	} while (s != 200 && now_seconds() < deadline);
	cr_assert_eq(s, 200, "GET /users/<id> did not recover within %.0f s "
	    "(last %ld)", START_WAIT_S, s);

	/* Every pooled connection died with the server: reads retry. */
	for (i = 0; i < 20; i++)
		cr_expect_eq(status_of(http_get(pathf("/urls/%lld",
		    (long long)lid))), 200, "read #%d after recovery", i);

	deadline = now_seconds() + START_WAIT_S;
	do {
		s = status_of(http_get("/ready"));
		if (s != 200)
			sleep_ms(250);
	} while (s != 200 && now_seconds() < deadline);
	cr_expect_eq(s, 200, "/ready did not recover (last %ld)", s);

	deadline = now_seconds() + START_WAIT_S;
	do {
		s = status_of(http_sendf("POST", "/users", "{\"username\":"
		    "\"back\",\"email\":\"%s\"}", uniq_email()));
		if (s != 201)
			sleep_ms(250);
	} while (s != 201 && now_seconds() < deadline);
	cr_expect_eq(s, 201, "POST /users did not recover (last %ld)", s);

	r = http_get(pathf("/%s", code));
	cr_expect_eq(r->status, 302, "redirect after recovery: %ld", r->status);
	http_free(r);
	json_decref(url);
	json_decref(user);
}

/* ---- the cache and the click writer ---------------------------------- */

#define PAUSE_MS		3000
#define PAUSE_BOUND_S		0.250	/* budget (5 ms) + database time */
/* A write resends its timed-out tombstones for 300 ms (cache/urlcache.c). */
#define WRITE_PAUSE_BOUND_S	(0.300 + PAUSE_BOUND_S)
#define CACHE_BACK_S		15.0	/* reconnect backoff (<= 5 s) + tombstone */
#define CLICKS_BACK_MS		15000	/* writer backoff (<= 2 s) + reconnects */
#define QUEUED_CLICKS		25

static const char	*need_cmd(const char *name);
static void		 sleep_until(double t);
static pid_t		 start_in_background(const char *cmd);
static double		 await_pg_accepting(double timeout_s);
static long long	 sigterm_round(void);
static int		 await_ready_cache(const char *want, double timeout_s);
static void		 await_database(json_int_t url_id);
static void		 await_any_database(void);
static void		 redirect_many(const char *code, const char *target,
			    int n, const char *want_xcache);

static const char *
need_cmd(const char *name)
{
	const char	*v = env_cmd(name);

	if (v == NULL)
		cr_skip_test("%s is not set", name);
	return (v);
}

/* Sleeps until now_seconds() is t (no sleep when it is past). */
static void
sleep_until(double t)
{
	double	left = t - now_seconds();

	if (left > 0)
		sleep_ms((long)(left * 1000) + 1);
}

/* Runs cmd in a child process; its pid. */
static pid_t
start_in_background(const char *cmd)
{
	pid_t	pid;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(run_cmd(cmd) == 0 ? 0 : 1);
	return (pid);
}

/* Waits for *pid (when set) and clears it; 0 when it exited with 0. */
static int
wait_background(pid_t *pid)
{
	int	st;

	if (*pid <= 0)
		return (0);
	while (waitpid(*pid, &st, 0) == -1 && errno == EINTR)
		;
	*pid = 0;
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1);
}

/*
 * Polls DATABASE_URL until PostgreSQL accepts connections: the time it
 * did (now_seconds()), or -1 after timeout_s.
 */
static double
await_pg_accepting(double timeout_s)
{
	const char	*url = env_cmd("DATABASE_URL");
	double		 deadline = now_seconds() + timeout_s;

	if (url == NULL)
		cr_skip_test("DATABASE_URL is not set");
	while (PQping(url) != PQPING_OK) {
		if (now_seconds() > deadline)
			return (-1);
		sleep_ms(5);
	}
	return (now_seconds());
}

/* Polls /ready (always 200 here) until "cache" is want; 1 when it was. */
static int
await_ready_cache(const char *want, double timeout_s)
{
	struct http_resp	*r;
	double			 deadline = now_seconds() + timeout_s;
	int			 ok;

	for (;;) {
		r = http_get("/ready");
		cr_assert_eq(r->status, 200, "/ready with PostgreSQL up: %ld %s",
		    r->status, r->body);
		cr_expect_str_eq(jstr(r->json, "database"), "ok", "/ready: %s",
		    r->body);
		ok = strcmp(jstr(r->json, "cache"), want) == 0;
		http_free(r);
		if (ok)
			return (1);
		if (now_seconds() > deadline)
			return (0);
		sleep_ms(50);
	}
}

/* Until the app reads from PostgreSQL again (its pool reconnects). */
static void
await_database(json_int_t url_id)
{
	double	deadline = now_seconds() + START_WAIT_S;
	long	s;

	do {
		s = status_of(http_get(pathf("/urls/%lld", (long long)url_id)));
		if (s != 200)
			sleep_ms(100);
	} while (s != 200 && now_seconds() < deadline);
	cr_assert_eq(s, 200, "GET /urls/<id> did not recover within %.0f s "
	    "(last %ld)", START_WAIT_S, s);
}

/*
 * Like await_database, with a read that needs no row of its own, until
 * AWAIT_IN_A_ROW reads in a row answer 200, each on a new connection
 * ("Connection: close"), so that they reach every worker: a worker whose
 * connect gate is still closed after an earlier test answers 503 while
 * another already answers 200.
 */
#define AWAIT_IN_A_ROW	8

static void
await_any_database(void)
{
	static const char *const	 close_hdrs[] = {
		"Connection: close", NULL
	};
	double				 deadline = now_seconds() + START_WAIT_S;
	struct http_resp		*r;
	long				 s;
	int				 row = 0;

	do {
		r = http_request("GET", "/users?per_page=1", close_hdrs, NULL,
		    0, 0);
		s = r->status;
		http_free(r);
		row = s == 200 ? row + 1 : 0;
		if (s != 200)
			sleep_ms(100);
	} while (row < AWAIT_IN_A_ROW && now_seconds() < deadline);
	cr_assert_eq(row, AWAIT_IN_A_ROW, "GET /users did not answer 200 "
	    "%d times in a row within %.0f s (last %ld)", AWAIT_IN_A_ROW,
	    START_WAIT_S, s);
}

/* n GETs of /code: each a 302 to target with X-Cache want (or any). */
static void
redirect_many(const char *code, const char *target, int n,
    const char *want_xcache)
{
	struct http_resp	*r;
	int			 i;

	for (i = 0; i < n; i++) {
		r = http_get(pathf("/%s", code));
		expect_302(r, target);
		if (want_xcache != NULL)
			cr_expect(xcache_is(r, want_xcache), "redirect #%d: "
			    "X-Cache %s, want %s", i, xcache(r), want_xcache);
		http_free(r);
	}
}

Test(resilience, cache_outage_bypasses_and_recovers, .fini = restore_all)
{
	const char		*stop = need_cmd("SHORTENER_REDIS_STOP");
	const char		*start = need_cmd("SHORTENER_REDIS_START");
	const char		*moved = "https://example.org/moved-while-down";
	struct http_resp	*r;
	json_t			*user, *url, *fresh;
	const char		*code, *target;
	double			 deadline, t0;
	long			 ms;
	int			 i, bypass = 0;

	url = make_user_url(&user);
	code = jstr(url, "short_code");
	target = jstr(url, "original_url");
	cache_code(code, target);
	cr_assert(await_ready_cache("ok", 5.0), "/ready: cache not ok with "
	    "Redis up");

	redis_stopped = 1;
	cr_assert_eq(run_cmd(stop), 0, "\"%s\" failed", stop);

	/* The workers notice at once (EOF): the next redirects bypass. */
	deadline = now_seconds() + STOP_WAIT_S;
	while (!bypass && now_seconds() < deadline) {
		r = http_get(pathf("/%s", code));
		expect_302(r, target);
		bypass = xcache_is(r, "BYPASS");
		http_free(r);
		if (!bypass)
			sleep_ms(50);
	}
	cr_assert(bypass, "no X-Cache: BYPASS within %.0f s of stopping Redis",
	    STOP_WAIT_S);
	for (i = 0; i < 20; i++) {
		r = http_get(pathf("/%s", code));
		expect_302(r, target);
		cr_expect(xcache_is(r, "BYPASS"), "Redis down: X-Cache %s",
		    xcache(r));
		cr_expect_lt(r->elapsed, FAST_S, "a redirect took %.1f s",
		    r->elapsed);
		http_free(r);
	}
	r = http_get("/nOsUcHcOdE9");
	expect_error(r, 404, NULL);
	http_free(r);

	cr_expect(await_ready_cache("degraded", STOP_WAIT_S),
	    "/ready never said cache degraded with Redis down");
	for (i = 0; i < 5; i++)
		cr_expect(await_ready_cache("degraded", 0), "/ready #%d: cache "
		    "not degraded with Redis down", i);

	/* Writes are acknowledged, and redirects read the database. */
	r = http_sendf("PUT", pathf("/urls/%lld", (long long)jint(url, "id")),
	    "{\"original_url\":\"%s\"}", moved);
	cr_assert_eq(r->status, 200, "PUT with Redis down: %ld %s", r->status,
	    r->body);
	cr_expect_lt(r->elapsed, FAST_S);
	http_free(r);
	redirect_many(code, moved, 3, "BYPASS");
	fresh = make_url(jint(user, "id"), "https://example.com/born-down",
	    NULL);
	redirect_many(jstr(fresh, "short_code"), "https://example.com/born-down",
	    2, "BYPASS");

	/* Back: the cache is used again without restarting the app. */
	cr_assert_eq(run_cmd(start), 0, "\"%s\" failed", start);
	redis_stopped = 0;
	t0 = now_seconds();
	ms = await_hit(code, moved, 1, (long)(CACHE_BACK_S * 1000));
	cr_assert_geq(ms, 0, "no cache HIT within %.0f s of Redis' return",
	    CACHE_BACK_S);
	fprintf(stderr, "resilience: HIT again %.1f s after Redis restarted\n",
	    now_seconds() - t0);
	cr_expect(await_ready_cache("ok", CACHE_BACK_S), "/ready: cache not ok "
	    "after Redis' return");
	json_decref(fresh);
	json_decref(url);
	json_decref(user);
}

Test(resilience, cache_pause_keeps_redirects_fast, .fini = restore_all)
{
	struct http_resp	*r;
	struct burst		 b;
	json_t			*url = make_user_url(NULL);
	const char		*code = jstr(url, "short_code");
	const char		*target = jstr(url, "original_url");
	double			 t0, worst = 0, el;
	long			 hit = 0, miss = 0, bypass = 0, n = 0;

	need_cmd("SHORTENER_REDIS_CLI");
	cache_code(code, target);

	redis_paused = 1;
	t0 = now_seconds();
	cr_assert_eq(redis_cli(NULL, 0, "CLIENT PAUSE %d", PAUSE_MS), 0,
	    "CLIENT PAUSE failed");
	/* Sequential, then a concurrent burst, then sequential again. */
	while (now_seconds() - t0 < PAUSE_MS / 1000.0 - 0.5) {
		if (n == 100) {
			redirect_burst("GET", pathf("/%s", code), 200, 16, &b);
			cr_expect_eq(b.status302, 200, "burst in the pause: "
			    "%ld of 200 were 302 (%ld transport errors)",
			    b.status302, b.transport);
			cr_expect_lt(b.max_s, PAUSE_BOUND_S, "burst in the "
			    "pause: slowest %.0f ms", b.max_s * 1000);
			fprintf(stderr, "resilience: 200 GETs over 16 "
			    "connections in the pause: max %.1f ms, mean %.1f "
			    "ms; HIT %ld MISS %ld BYPASS %ld\n", b.max_s * 1000,
			    b.sum_s * 1000 / 200, b.hit, b.miss, b.bypass);
		}
		r = http_get(pathf("/%s", code));
		el = r->elapsed;
		expect_302(r, target);
		cr_expect_lt(el, PAUSE_BOUND_S, "redirect #%ld in the pause "
		    "took %.0f ms (X-Cache %s)", n, el * 1000, xcache(r));
		hit += xcache_is(r, "HIT");
		miss += xcache_is(r, "MISS");
		bypass += xcache_is(r, "BYPASS");
		http_free(r);
		if (el > worst)
			worst = el;
		n++;
	}
	fprintf(stderr, "resilience: %ld sequential redirects in a %d ms "
	    "CLIENT PAUSE: max %.1f ms; HIT %ld MISS %ld BYPASS %ld\n", n,
	    PAUSE_MS, worst * 1000, hit, miss, bypass);
	cr_expect_gt(bypass, 0, "a paused Redis cannot have served them all");

	/* The pause ends by itself; the cache must come back. */
	sleep_until(t0 + PAUSE_MS / 1000.0 + 0.1);
	redis_paused = 0;
	t0 = now_seconds();
	cr_expect_geq(await_hit(code, target, 1, (long)(CACHE_BACK_S * 1000)),
	    0, "no cache HIT within %.0f s after the pause", CACHE_BACK_S);
	fprintf(stderr, "resilience: HIT again %.1f s after the pause ended\n",
	    now_seconds() - t0);
	json_decref(url);
}

Test(resilience, write_during_cache_pause_is_not_undone, .fini = restore_all)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	const char		*code = jstr(url, "short_code");
	const char		*old = jstr(url, "original_url");
	const char		*moved = "https://example.org/moved-in-pause";
	const char		*loc;
	double			 t0, now, first = -1, last = -1;
	int			 n = 0, stale = 0;

	need_cmd("SHORTENER_REDIS_CLI");
	cache_code(code, old);

	redis_paused = 1;
	t0 = now_seconds();
	cr_assert_eq(redis_cli(NULL, 0, "CLIENT PAUSE %d", 1500), 0,
	    "CLIENT PAUSE failed");
	r = http_sendf("PUT", pathf("/urls/%lld", (long long)jint(url, "id")),
	    "{\"original_url\":\"%s\"}", moved);
	cr_assert_eq(r->status, 200, "PUT in the pause: %ld %s", r->status,
	    r->body);
	cr_expect_lt(r->elapsed, WRITE_PAUSE_BOUND_S, "PUT in the pause took "
	    "%.0f ms", r->elapsed * 1000);
	http_free(r);

	/* During the pause, and for a while after it: never the old one. */
	while ((now = now_seconds()) < t0 + 1.5 + 4.0) {
		r = http_head(pathf("/%s", code));
		cr_assert_eq(r->status, 302, "HEAD /%s: %ld", code, r->status);
		loc = http_header(r, "Location");
		if (loc == NULL || strcmp(loc, moved) != 0) {
			cr_expect(loc != NULL && strcmp(loc, old) == 0,
			    "Location %s", loc ? loc : "(none)");
			if (stale++ == 0)
				first = now - t0;
			last = now - t0;
		}
		http_free(r);
		n++;
		sleep_ms(10);
	}
	redis_paused = 0;
	fprintf(stderr, "resilience: %d redirects after a PUT in a 1.5 s "
	    "pause, %d to the old target", n, stale);
	if (stale > 0)
		fprintf(stderr, " (from %.2f s to %.2f s after the pause began)",
		    first, last);
	fprintf(stderr, "\n");
	cr_expect_eq(stale, 0, "%d of %d redirects after PUT /urls/<id> (made "
	    "during a Redis pause) went to the old target, from %.2f s to "
	    "%.2f s after the pause began (it lasted 1.5 s)", stale, n, first,
	    last);
	json_decref(url);
}

Test(resilience, clicks_wait_while_database_is_down, .fini = restore_all)
{
	const char	*stop = need_cmd("SHORTENER_PG_STOP");
	const char	*start = need_cmd("SHORTENER_PG_START");
	json_t		*url = make_user_url(NULL);
	json_int_t	 id = jint(url, "id");
	const char	*code = jstr(url, "short_code");
	struct http_resp *r;
	double		 t0;
	long		 n;

	/* HEADs: cached, and not a single click yet. */
	cache_code(code, jstr(url, "original_url"));
	cr_assert_eq(click_count(id), 0);

	pg_stopped = 1;
	cr_assert_eq(run_cmd(stop), 0, "\"%s\" failed", stop);
	redirect_many(code, jstr(url, "original_url"), QUEUED_CLICKS, "HIT");
	sleep_ms(1000);	/* a few failed inserts and backoffs */
	cr_assert_eq(run_cmd(start), 0, "\"%s\" failed", start);
	pg_stopped = 0;

	t0 = now_seconds();
	await_database(id);
	n = await_clicks(id, QUEUED_CLICKS, CLICKS_BACK_MS, 500);
	fprintf(stderr, "resilience: %ld queued clicks written %.1f s after "
	    "PostgreSQL returned\n", n, now_seconds() - t0);
	cr_expect_eq(n, QUEUED_CLICKS, "%d redirects while PostgreSQL was down, "
	    "%ld click events once it was back", QUEUED_CLICKS, n);
	r = http_get(pathf("/urls/%lld/stats", (long long)id));
	cr_expect_eq(jint(r->json, "clicks"), QUEUED_CLICKS, "stats: %s",
	    r->body);
	http_free(r);
	json_decref(url);
}

/*
 * One round of sigterm_flushes_queued_clicks: clicks queued while
 * PostgreSQL is down, PostgreSQL back, SIGTERM at once, the app started
 * again; asserts that exactly the queued clicks exist. Returns how many
 * of them a retry of the writer had written before the SIGTERM (then the
 * flush at exit was not what saved them).
 */
static long long
sigterm_round(void)
{
	const char	*pg_stop = need_cmd("SHORTENER_PG_STOP");
	const char	*pg_start = need_cmd("SHORTENER_PG_START");
	const char	*app_stop = need_cmd("SHORTENER_APP_STOP");
	const char	*app_start = need_cmd("SHORTENER_APP_START");
	json_t		*url = make_user_url(NULL);
	json_int_t	 id = jint(url, "id");
	const char	*code = jstr(url, "short_code");
	double		 t0, t_up, t_term;
	long long	 before;
	long		 n;
	char		 id_buf[32];
	const char	*id_text = id_buf;

	snprintf(id_buf, sizeof(id_buf), "%lld", (long long)id);
	cache_code(code, jstr(url, "original_url"));
	cr_assert_eq(click_count(id), 0);

	pg_stopped = 1;
	cr_assert_eq(run_cmd(pg_stop), 0, "\"%s\" failed", pg_stop);
	t0 = now_seconds();
	redirect_many(code, jstr(url, "original_url"), QUEUED_CLICKS, "HIT");

	/*
	 * The writer retries 0.1, 0.3, 0.7, 1.5 and 3.1 s after the first
	 * failed insert, then every 2 s. PostgreSQL is started just after the
	 * 1.5 s one and the SIGTERM goes out the moment it accepts
	 * connections, so a retry seldom comes first: what writes the queue
	 * is the flush at exit.
	 */
	sleep_until(t0 + 1.6);
	pg_starter = start_in_background(pg_start);
	t_up = await_pg_accepting(60.0);
	cr_assert_geq(t_up, 0, "PostgreSQL did not accept connections");
	before = db_scalar("SELECT count(*) FROM events_all WHERE url_id = $1 "
	    "AND event_type = 'click'", 1, &id_text);
	app_stopped = 1;
	t_term = now_seconds();
	cr_assert_eq(run_cmd(app_stop), 0, "\"%s\" failed", app_stop);
	cr_assert_eq(wait_background(&pg_starter), 0, "\"%s\" failed",
	    pg_start);
	pg_stopped = 0;
	fprintf(stderr, "resilience: PostgreSQL accepting %.2f s and SIGTERM "
	    "%.2f s after the first queued click; %lld of %d clicks were "
	    "written before it\n", t_up - t0, t_term - t0, before,
	    QUEUED_CLICKS);
	cr_assert_eq(run_cmd(app_start), 0, "\"%s\" failed", app_start);
	app_stopped = 0;

	await_database(id);
	n = await_clicks(id, QUEUED_CLICKS, 5000, 500);
	cr_assert_eq(n, QUEUED_CLICKS, "%d clicks queued at SIGTERM, %ld click "
	    "events after the restart", QUEUED_CLICKS, n);
	json_decref(url);
	return (before);
}

/* A retry that beat the SIGTERM proves nothing: then another round. */
Test(resilience, sigterm_flushes_queued_clicks, .fini = restore_all)
{
	long long	before = -1;
	int		round;

	for (round = 0; round < 3 && before != 0; round++)
		before = sigterm_round();
	cr_expect_eq(before, 0, "in %d rounds a retry always wrote the clicks "
	    "before the SIGTERM: the flush at exit was never tested", round);
}

/*
 * A worker killed as a crash would kill it (SIGKILL) is forked again by
 * Kore, and what it counted stays counted: the counters live in memory
 * the parent mapped before the fork, not in the worker. After N requests,
 * the kill and N more, every scrape has counted exactly 2N, and the CPU
 * time of the instance has not gone backwards.
 */
Test(resilience, metrics_survive_a_worker_respawn)
{
	static const char *const	 close_hdrs[] = {
		"Connection: close", NULL
	};
	const char			*own = "route=\"/metrics\","
					    "method=\"DELETE\",status=\"405\"";
	struct scrape			*s;
	struct http_resp		*r;
	pid_t				 parent, before[64], after[64];
	size_t				 nbefore, nafter, j;
	double				 c0, cpu, deadline;
	int				 i, gone;

	/*
	 * A SIGKILLed worker never writes its coverage counters: a clean
	 * restart first saves what this run of the app has counted so far.
	 */
	if (getenv("SHORTENER_APP_STOP") != NULL &&
	    getenv("SHORTENER_APP_START") != NULL) {
		cr_assert_eq(run_cmd(getenv("SHORTENER_APP_STOP")), 0);
		cr_assert_eq(run_cmd(getenv("SHORTENER_APP_START")), 0);
	}

	if ((parent = app_parent_pid()) <= 0)
		cr_skip_test("SHORTENER_APP_PIDFILE not set");
	nbefore = app_worker_pids(parent, before, 64);
	cr_assert_geq(nbefore, 1, "no workers under pid %d", (int)parent);

	s = scrape_fetch();
	cr_assert_null(s->error, "%s", s->error);
	c0 = scrape_value(s, "http_requests_total", own);
	scrape_free(s);

	for (i = 0; i < 2 * RESPAWN_REQUESTS; i++) {
		if (i == RESPAWN_REQUESTS) {
			cr_assert_eq(scrape_wait_value("http_requests_total",
			    own, c0 + i, 3000), c0 + i);
			s = scrape_fetch();
			cpu = scrape_value(s, "process_cpu_seconds_total", "");
			scrape_free(s);

			cr_assert_eq(kill(before[0], SIGKILL), 0);
			deadline = now_seconds() + START_WAIT_S;
			do {
				sleep_ms(100);
				nafter = app_worker_pids(parent, after, 64);
				for (gone = 1, j = 0; j < nafter; j++)
					gone &= after[j] != before[0];
			} while ((!gone || nafter < nbefore) &&
			    now_seconds() < deadline);
			cr_assert(gone && nafter == nbefore, "worker %d not "
			    "replaced (%zu workers)", (int)before[0], nafter);
		}
		r = http_request("DELETE", "/metrics", close_hdrs, NULL, 0, 0);
		cr_assert_eq(r->status, 405, "DELETE /metrics: %ld", r->status);
		http_free(r);
	}

	cr_expect_eq(scrape_wait_value("http_requests_total", own,
	    c0 + 2 * RESPAWN_REQUESTS, 3000), c0 + 2 * RESPAWN_REQUESTS);
	for (i = 0; i < 6; i++) {
		s = scrape_fetch();
		cr_expect_null(s->error, "%s", s->error);
		cr_expect_eq(scrape_value(s, "http_requests_total", own),
		    c0 + 2 * RESPAWN_REQUESTS, "scrape %d after the respawn", i);
		cr_expect_geq(scrape_value(s, "process_cpu_seconds_total", ""),
		    cpu, "scrape %d: CPU time went backwards", i);
		scrape_free(s);
	}
}

/*
 * Redirect lookups that reach PostgreSQL (a MISS: here unknown codes, so
 * nothing is cached before the restart) must be answered right after
 * PostgreSQL restarted, when the workers' pools still hold the dead
 * connections of the old server. Each request comes on a new connection
 * so that every worker is asked.
 */
Test(resilience, lookups_answer_after_database_restart, .fini = restore_all)
{
	const char	*stop = need_cmd("SHORTENER_PG_STOP");
	const char	*start = need_cmd("SHORTENER_PG_START");
	json_t		*url = make_user_url(NULL);
	struct burst	 b;
	int		 i, answered = 0, hung = 0;
	double		 worst = 0;

	/* Every worker opens pooled connections. */
	redirect_burst("GET", pathf("/urls/%lld", (long long)jint(url, "id")),
	    200, 16, &b);
	cr_assert_eq(b.transport, 0);

	pg_stopped = 1;
	cr_assert_eq(run_cmd(stop), 0, "\"%s\" failed", stop);
	cr_assert_eq(run_cmd(start), 0, "\"%s\" failed", start);
	pg_stopped = 0;

	for (i = 0; i < 24; i++) {
		redirect_burst("GET", pathf("/%s", uniq("rs")), 1, 1, &b);
		if (b.transport > 0)
			hung++;
		else
			answered++;
		cr_expect(b.transport > 0 || b.other == 1, "an unknown code "
		    "must be a 404");
		if (b.max_s > worst)
			worst = b.max_s;
	}
	fprintf(stderr, "resilience: after a PostgreSQL restart, %d of %d "
	    "uncached lookups answered, %d hung (slowest %.0f ms)\n", answered,
	    answered + hung, hung, worst * 1000);
	cr_expect_eq(hung, 0, "%d of %d redirects needing PostgreSQL got no "
	    "answer within 5 s after it restarted", hung, answered + hung);
	json_decref(url);
}

/*
 * A redirect that needs PostgreSQL while it is down is not answered 503
 * at once: its lookup is tried again every 250 ms for up to 5 s
 * (db/codelookup.c, LOOKUP_PATIENCE_MS). Here the request goes out with
 * the database stopped, PostgreSQL starts RESTART_DOWN_S later, and the
 * answer must be the 302, from the database (not a cache HIT), after it
 * waited out the restart.
 */
#define RESTART_DOWN_S		1.0
#define LOOKUP_PATIENCE_S	5.0

/*
 * A GET of url's short link sent with PostgreSQL stopped (and Redis paused
 * for a while, when pause_redis), PostgreSQL started RESTART_DOWN_S later
 * in the background: asserts a 302 that waited out the restart and returns
 * it for the caller's X-Cache check.
 */
static struct http_resp *
redirect_across_restart(json_t *url, int pause_redis, const char *what)
{
	const char		*stop = need_cmd("SHORTENER_PG_STOP");
	const char		*start = need_cmd("SHORTENER_PG_START");
	struct http_resp	*r;
	char			*cmd;

	if (pause_redis)
		need_cmd("SHORTENER_REDIS_CLI");
	pg_stopped = 1;
	cr_assert_eq(run_cmd(stop), 0, "\"%s\" failed", stop);
	if (pause_redis) {
		redis_paused = 1;
		cr_assert_eq(redis_cli(NULL, 0, "CLIENT PAUSE %d", 4000), 0,
		    "CLIENT PAUSE failed");
	}
	if (asprintf(&cmd, "sleep %.1f && %s", RESTART_DOWN_S, start) < 0)
		cr_assert_fail("asprintf");
	pg_starter = start_in_background(cmd);
	free(cmd);

	r = http_get(pathf("/%s", jstr(url, "short_code")));
	cr_assert_eq(wait_background(&pg_starter), 0, "\"%s\" failed",
	    start);
	pg_stopped = 0;
	fprintf(stderr, "resilience: %s, PostgreSQL stopped for %.1f s: %ld "
	    "(X-Cache %s) after %.2f s\n", what, RESTART_DOWN_S, r->status,
	    http_header(r, "x-cache"), r->elapsed);
	expect_302(r, jstr(url, "original_url"));
	cr_expect_geq(r->elapsed, RESTART_DOWN_S * 0.8, "answered after "
	    "%.2f s: sent after PostgreSQL was up again?", r->elapsed);
	return (r);
}

Test(resilience, uncached_redirect_waits_out_a_database_restart,
    .fini = restore_all)
{
	json_t			*url = make_user_url(NULL);
	struct http_resp	*r;

	r = redirect_across_restart(url, 0, "an uncached redirect");
	cr_expect(!xcache_is(r, "HIT"), "the link must not have been "
	    "cached: X-Cache %s", http_header(r, "x-cache"));
	http_free(r);
	json_decref(url);
}

/*
 * Redis over its budget (CLIENT PAUSE: up, but silent) as well: the
 * redirect's first lookup is not patient (a second look in the cache
 * might answer), the second look is over budget too, and only then does
 * it wait for the database. A 302 with X-Cache BYPASS.
 */
Test(resilience, redirect_waits_when_neither_cache_nor_database_answers,
    .fini = restore_all)
{
	json_t			*url = make_user_url(NULL);
	struct http_resp	*r;

	r = redirect_across_restart(url, 1, "a redirect with Redis paused");
	cr_expect(xcache_is(r, "BYPASS"), "X-Cache %s, not BYPASS: was Redis "
	    "paused?", http_header(r, "x-cache"));
	http_free(r);
	json_decref(url);
}

/*
 * The patience is bounded: with PostgreSQL down for good, the same
 * redirect is a 503 JSON with Retry-After once it ran out, well before
 * nginx's 10 s read timeout would try another instance.
 */
Test(resilience, uncached_redirect_gives_up_after_its_patience,
    .fini = restore_all)
{
	const char		*stop = need_cmd("SHORTENER_PG_STOP");
	json_t			*url = make_user_url(NULL);
	struct http_resp	*r;

	pg_stopped = 1;
	cr_assert_eq(run_cmd(stop), 0, "\"%s\" failed", stop);
	r = http_get(pathf("/%s", jstr(url, "short_code")));
	fprintf(stderr, "resilience: an uncached redirect with PostgreSQL "
	    "down: %ld after %.2f s\n", r->status, r->elapsed);
	cr_assert_eq(r->status, 503, "uncached redirect with PostgreSQL "
	    "down: %ld %.300s", r->status, r->body);
	expect_error(r, 503, NULL);
	cr_expect_not_null(http_header(r, "Retry-After"), "503 without "
	    "Retry-After");
	cr_expect_geq(r->elapsed, LOOKUP_PATIENCE_S - 1.0, "503 after "
	    "%.2f s: the lookup was not tried again", r->elapsed);
	cr_expect_leq(r->elapsed, LOOKUP_PATIENCE_S + 2.0, "503 after "
	    "%.2f s", r->elapsed);
	http_free(r);
	json_decref(url);
}

/*
 * A worker told to stop while a redirect waits out a database outage
 * answers it (503) as its drain begins, instead of letting the wait
 * outlast the drain: the app is stopped STOP_AFTER_S after the request
 * went out, and the 503 must come well before the patience (5 s) ends.
 */
#define STOP_AFTER_S		0.5

Test(resilience, stopping_worker_answers_waiting_redirects,
    .fini = restore_all)
{
	const char		*stop = need_cmd("SHORTENER_PG_STOP");
	const char		*app_stop = need_cmd("SHORTENER_APP_STOP");
	const char		*app_start = need_cmd("SHORTENER_APP_START");
	json_t			*url = make_user_url(NULL);
	struct http_resp	*r;
	pid_t			 stopper;
	char			*cmd;

	pg_stopped = 1;
	cr_assert_eq(run_cmd(stop), 0, "\"%s\" failed", stop);
	if (asprintf(&cmd, "sleep %.1f && %s", STOP_AFTER_S, app_stop) < 0)
		cr_assert_fail("asprintf");
	app_stopped = 1;
	stopper = start_in_background(cmd);
	free(cmd);

	r = http_get(pathf("/%s", jstr(url, "short_code")));
	cr_assert_eq(wait_background(&stopper), 0, "\"%s\" failed",
	    app_stop);
	fprintf(stderr, "resilience: a redirect waiting for PostgreSQL, its "
	    "app stopped %.1f s later: %ld after %.2f s\n", STOP_AFTER_S,
	    r->status, r->elapsed);
	cr_expect_eq(r->status, 503, "%ld %.300s", r->status, r->body);
	if (r->status == 503)
		expect_error(r, 503, NULL);
	cr_expect_lt(r->elapsed, STOP_AFTER_S + 2.0, "answered %.2f s after "
	    "it was sent: the drain waited for its patience", r->elapsed);
	http_free(r);

	cr_assert_eq(run_cmd(app_start), 0, "\"%s\" failed", app_start);
	app_stopped = 0;
	json_decref(url);
}

/*
 * A flood of misses while the database is down is not held in memory: a
 * worker lets at most LOOKUP_PATIENT_MAX requests wait out the outage
 * (src/db/codelookup.c) and answers the rest at once. FLOOD_N requests
 * for codes nobody asked for before, all on connections of their own and
 * all in flight together, reach the workers however Kore spreads them;
 * whatever the spread, at most workers x (LOOKUP_PATIENT_MAX + 1) of them
 * can be waiting, so at least the rest must be answered quickly. Some
 * must still wait (the cap is not "fail everything"), and every answer is
 * the usual 503 JSON.
 */
#define FLOOD_N			1600
#define LOOKUP_PATIENT_MAX	512	/* src/db/codelookup.c */
#define FLOOD_FAST_S		2.5	/* answered without waiting */
#define FLOOD_WAITED_S		(LOOKUP_PATIENCE_S - 1.0)

struct flood_req {
	char	body[256];
	size_t	len;
};

static size_t
flood_body(char *p, size_t size, size_t n, void *arg)
{
	struct flood_req	*fr = arg;
	size_t			 k = size * n;

	if (k > sizeof(fr->body) - 1 - fr->len)
		k = sizeof(fr->body) - 1 - fr->len;
	memcpy(fr->body + fr->len, p, k);
	fr->len += k;
	fr->body[fr->len] = '\0';
	return (size * n);
}

Test(resilience, miss_flood_in_an_outage_waits_only_up_to_the_cap,
    .fini = restore_all)
{
	const char		*stop = need_cmd("SHORTENER_PG_STOP");
	struct flood_req	*reqs, *fr;
	CURLM			*m;
	CURLMsg			*msg;
	CURL			*easy;
	pid_t			 parent, pids[64];
	size_t			 nworkers;
	double			 el, slowest = 0;
	long			 status, fast = 0, waited = 0, other = 0, s;
	long			 bound;
	char			*url;
	int			 i, running, left;

	if ((parent = app_parent_pid()) <= 0)
		cr_skip_test("SHORTENER_APP_PIDFILE not set");
	/* Every child counts as a worker: the bound can only get weaker. */
	nworkers = app_worker_pids(parent, pids, 64);
	cr_assert_geq(nworkers, 1, "no workers under pid %d", (int)parent);
	bound = FLOOD_N - (long)nworkers * (LOOKUP_PATIENT_MAX + 1);
	cr_assert_gt(bound, 0, "%zu workers: raise FLOOD_N", nworkers);

	reqs = calloc(FLOOD_N, sizeof(*reqs));
	cr_assert_not_null(reqs);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	cr_assert_not_null(m);

	pg_stopped = 1;
	cr_assert_eq(run_cmd(stop), 0, "\"%s\" failed", stop);
	for (i = 0; i < FLOOD_N; i++) {
		if (asprintf(&url, "%s/%s", client_base_url(),
		    uniq("fl")) < 0)
			cr_assert_fail("asprintf");
		easy = curl_easy_init();
		cr_assert_not_null(easy);
		curl_easy_setopt(easy, CURLOPT_URL, url);
		curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
		    (long)((LOOKUP_PATIENCE_S + 5.0) * 1000));
		curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, flood_body);
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, &reqs[i]);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)&reqs[i]);
		cr_assert_eq(curl_multi_add_handle(m, easy), CURLM_OK);
		free(url);
	}

	do {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			status = 0;
			el = 0;
			curl_easy_getinfo(msg->easy_handle,
			    CURLINFO_RESPONSE_CODE, &status);
			curl_easy_getinfo(msg->easy_handle,
			    CURLINFO_TOTAL_TIME, &el);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&fr);
			if (msg->data.result != CURLE_OK || status != 503 ||
			    strstr(fr->body, "\"error\"") == NULL) {
				if (other++ < 5) {
					cr_log_error("flood: curl %s, status "
					    "%ld: %.200s", curl_easy_strerror(
					    msg->data.result), status,
					    fr->body);
				}
			} else if (el < FLOOD_FAST_S)
				fast++;
			else if (el >= FLOOD_WAITED_S)
				waited++;
			if (el > slowest)
				slowest = el;
			curl_multi_remove_handle(m, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running > 0);
	curl_multi_cleanup(m);
	free(reqs);

	fprintf(stderr, "resilience: %d uncached redirects at once, "
	    "PostgreSQL down, %zu workers: %ld answered 503 within %.1f s "
	    "(at least %ld must be), %ld after waiting %.0f s or more, %ld "
	    "otherwise; slowest %.2f s\n", FLOOD_N, nworkers, fast,
	    FLOOD_FAST_S, bound, waited, FLOOD_WAITED_S, other, slowest);
	cr_expect_eq(other, 0, "%ld of %d were not a 503 JSON error", other,
	    FLOOD_N);
	cr_expect_geq(fast, bound, "only %ld of %d answered at once: more "
	    "than %d requests per worker waited", fast, FLOOD_N,
	    LOOKUP_PATIENT_MAX + 1);
	cr_expect_gt(waited, 0, "none waited: the cap failed them all");
	cr_expect_leq(slowest, LOOKUP_PATIENCE_S + 3.0, "slowest %.2f s",
	    slowest);

	/* The workers are still there and still answer. */
	s = status_of(http_get("/health"));
	cr_expect_eq(s, 200, "/health after the flood: %ld", s);
}

/* ---- PostgreSQL paused ----------------------------------------------- */

#define PG_PAUSE_S		10.0	/* PostgreSQL stays paused this long */
#define PG_GRACE_S		5.0	/* two 2 s connects, perhaps in turn */
#define PG_FAST_S		0.300	/* a cached redirect, database paused */
#define PG_MIN_FAST		40	/* timed redirects after the grace */
#define PG_BG_MAX		24	/* database requests in flight at most */
#define PG_BG_TIMEOUT_MS	1000L	/* then the client gives up */
#define PG_RESUME_S		5.0	/* probe backoff (<= 2 s) + a probe */

/* Requests for the database, sent without waiting for their answers. */
struct background {
	CURLM	*multi;
	int	 running;
	long	 sent, unavailable, timeouts, other;
};

static size_t	bg_discard(char *p, size_t size, size_t n, void *arg);
static void	bg_add(struct background *bg, const char *path);
static void	bg_pump(struct background *bg, int wait_ms);

static size_t
bg_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return (size * n);
}

/* GET path on a connection of its own, so that it may reach any worker. */
static void
bg_add(struct background *bg, const char *path)
{
	CURL	*easy;
	char	*url;

	if (asprintf(&url, "%s%s", client_base_url(), path) < 0)
		cr_assert_fail("asprintf");
	easy = curl_easy_init();
	cr_assert_not_null(easy);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, PG_BG_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, bg_discard);
	cr_assert_eq(curl_multi_add_handle(bg->multi, easy), CURLM_OK);
	free(url);	/* curl copies it */
	bg->running++;
	bg->sent++;
}

/*
 * Moves the requests along (waiting up to wait_ms for something to do)
 * and counts the finished ones: a 503 or no answer in time is what a
 * paused database may give; anything else is counted as other.
 */
static void
bg_pump(struct background *bg, int wait_ms)
{
	CURLMsg	*msg;
	long	 status;
	int	 left, still;

	curl_multi_perform(bg->multi, &still);
	if (wait_ms > 0 && still > 0) {
		curl_multi_poll(bg->multi, NULL, 0, wait_ms, NULL);
		curl_multi_perform(bg->multi, &still);
	}
	while ((msg = curl_multi_info_read(bg->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		status = 0;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
		    &status);
		if (msg->data.result == CURLE_OPERATION_TIMEDOUT)
			bg->timeouts++;
		else if (msg->data.result == CURLE_OK && status == 503)
			bg->unavailable++;
		else {
			bg->other++;
			cr_log_error("database request in the pause: curl %s, "
			    "status %ld", curl_easy_strerror(msg->data.result),
			    status);
		}
		curl_multi_remove_handle(bg->multi, msg->easy_handle);
		curl_easy_cleanup(msg->easy_handle);
		bg->running--;
	}
}

/*
 * PostgreSQL paused (SIGSTOP) rather than stopped: the kernel still
 * accepts connections and nobody answers them, so kore_pgsql's
 * synchronous connect blocks its worker for connect_timeout (2 s). Each
 * worker may pay that once; after it, while the database stays paused
 * and requests keep asking for it (unknown codes, API reads, each given
 * up after 1 s), redirects of a cached link must stay fast. Each comes
 * on a new connection, so that a stalled worker (which holds new
 * connections back too) would show. Resumed, the app must read from
 * PostgreSQL again by itself.
 */
Test(resilience, database_pause_keeps_cached_redirects_fast,
    .fini = restore_all)
{
	static const char *const	 close_hdrs[] = {
		"Connection: close", NULL
	};
	const char			*pause = need_cmd("SHORTENER_PG_PAUSE");
	const char			*resume = need_cmd("SHORTENER_PG_RESUME");
	json_t				*url;
	json_int_t			 id;
	const char			*code, *target;
	struct background		 bg;
	struct http_resp		*r;
	double				 t0, t, el, worst = 0, worst_grace = 0;
	double				 stalled = 0;
	long				 n = 0, fast = 0, slow = 0, s;

	/* An earlier test may have just brought PostgreSQL back. */
	await_any_database();
	url = make_user_url(NULL);
	id = jint(url, "id");
	code = jstr(url, "short_code");
	target = jstr(url, "original_url");

	/*
	 * A worker that gets its Redis connection back empties the cache
	 * first (cache/urlcache.c); one still reconnecting after an earlier
	 * test would drop the entry cached below in the middle of the pause.
	 */
	cr_assert_eq(scrape_wait_value("shortener_redis_up", "", 1, 15000), 1,
	    "some worker is not connected to Redis");
	cache_code(code, target);
	memset(&bg, 0, sizeof(bg));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	bg.multi = curl_multi_init();
	cr_assert_not_null(bg.multi);

	pg_paused = 1;
	cr_assert_eq(run_cmd(pause), 0, "\"%s\" failed", pause);
	t0 = now_seconds();
	while ((t = now_seconds() - t0) < PG_PAUSE_S) {
		/* Two more each round: every third an API read. */
		if (bg.running < PG_BG_MAX)
			bg_add(&bg, pathf("/%s", uniq("pz")));
		if (bg.running < PG_BG_MAX)
			bg_add(&bg, bg.sent % 3 == 2 ? pathf("/urls/%lld",
			    (long long)id) : pathf("/%s", uniq("pz")));
		bg_pump(&bg, 0);

		r = http_request("GET", pathf("/%s", code), close_hdrs, NULL,
		    0, 0);
		el = r->elapsed;
		expect_302(r, target);
		http_free(r);
		if (t < PG_GRACE_S) {
			if (el > worst_grace)
				worst_grace = el;
		} else {
			n++;
			if (el < PG_FAST_S)
				fast++;
			else {
				slow++;
				stalled += el;
			}
			if (el > worst)
				worst = el;
		}
		bg_pump(&bg, 20);
	}
	/* Every answer counted comes from the pause. */
	while (bg.running > 0)
		bg_pump(&bg, 100);
	curl_multi_cleanup(bg.multi);
	cr_assert_eq(run_cmd(resume), 0, "\"%s\" failed", resume);
	pg_paused = 0;
	t0 = now_seconds();
	fprintf(stderr, "resilience: PostgreSQL paused %.0f s: %ld database "
	    "requests (%ld answered 503, %ld gave up after %ld ms); cached "
	    "redirects: slowest %.0f ms in the first %.0f s, then %ld of %ld "
	    "under %.0f ms (slowest %.0f ms)\n", PG_PAUSE_S, bg.sent,
	    bg.unavailable, bg.timeouts, PG_BG_TIMEOUT_MS, worst_grace * 1000,
	    PG_GRACE_S, fast, n, PG_FAST_S * 1000, worst * 1000);

	cr_expect_eq(slow, 0, "%ld of %ld cached redirects took %.0f ms or "
	    "more (%.1f s in all, slowest %.0f ms) after the first %.0f s of a "
	    "PostgreSQL pause", slow, n, PG_FAST_S * 1000, stalled,
	    worst * 1000, PG_GRACE_S);
	cr_expect_geq(fast, PG_MIN_FAST, "only %ld fast cached redirects in "
	    "%.0f s", fast, PG_PAUSE_S - PG_GRACE_S);
	cr_expect_eq(bg.other, 0, "%ld database requests in the pause got "
	    "something else than a 503 or no answer", bg.other);
	cr_expect_gt(bg.unavailable, 0, "no database request in the pause "
	    "was answered 503");

	do {
		s = status_of(http_get(pathf("/urls/%lld", (long long)id)));
		if (s != 200)
			sleep_ms(50);
	} while (s != 200 && now_seconds() - t0 < PG_RESUME_S);
	cr_expect_eq(s, 200, "GET /urls/<id> did not recover within %.0f s "
	    "of PostgreSQL resuming (last %ld)", PG_RESUME_S, s);
	fprintf(stderr, "resilience: GET /urls/<id> answered 200 %.2f s after "
	    "PostgreSQL resumed\n", now_seconds() - t0);
	json_decref(url);
}

/*
 * Concurrent misses of one code cause one database query per worker,
 * not one per request (src/db/codelookup.c). PostgreSQL is paused so
 * that the first lookup is still in flight when the rest arrive; it
 * resumes in the background while the burst waits. HEAD, so that no
 * click insert of its own is among the statements; inserts of clicks
 * earlier tests left queued are counted (click batches) and taken off.
 * This suite runs alone, so every other statement is this burst's.
 */
#define COALESCE_N		40
#define COALESCE_MAX_QUERIES	4	/* one per worker, and a margin */

Test(resilience, concurrent_misses_share_one_query, .fini = restore_all)
{
	const char	*pause = need_cmd("SHORTENER_PG_PAUSE");
	const char	*resume = need_cmd("SHORTENER_PG_RESUME");
	json_t		*url, *events;
	const char	*code;
	struct http_resp *r;
	struct scrape	*s;
	struct burst	 b;
	char		 cmd[1024];
	double		 q0, q1, batches;
	pid_t		 resumer;
	int		 i;

	/* An earlier test may have just brought PostgreSQL back. */
	await_any_database();
	url = make_user_url(NULL);
	code = jstr(url, "short_code");

	/*
	 * Each worker gets an idle, live database connection to send on: an
	 * earlier test restarted PostgreSQL, and a worker whose pooled
	 * connections are dead would connect anew (synchronously, in
	 * kore_pgsql) inside the pause. Sequential requests may all reach
	 * one worker; a concurrent burst reaches each.
	 */
	for (i = 0; i < 3; i++) {
		redirect_burst("GET", pathf("/urls/%lld",
		    (long long)jint(url, "id")), 32, 16, &b);
		cr_assert_eq(b.transport, 0);
	}
	/*
	 * The lookup is a named statement: it runs on the workers' pool of
	 * named statements (db/db.c), whose connections are made live the
	 * same way, by a read that runs there too: the link's "created"
	 * event by id.
	 */
	events = get_list("/events?url_id=%lld", (long long)jint(url, "id"));
	cr_assert_eq(json_array_size(events), 1);
	for (i = 0; i < 3; i++) {
		redirect_burst("GET", pathf("/events/%lld", (long long)jint(
		    json_array_get(events, 0), "id")), 32, 16, &b);
		cr_assert_eq(b.transport, 0);
	}
	json_decref(events);
	r = http_get(pathf("/urls/%lld", (long long)jint(url, "id")));
	cr_assert_eq(r->status, 200);
	http_free(r);
	s = scrape_fetch();
	q0 = scrape_value(s, "shortener_db_query_duration_seconds_count", "");
	batches = scrape_value(s, "shortener_click_batch_size_count", "");
	scrape_free(s);

	pg_paused = 1;
	cr_assert_eq(run_cmd(pause), 0, "\"%s\" failed", pause);
	(void)snprintf(cmd, sizeof(cmd), "sleep 0.5 && %s", resume);
	resumer = start_in_background(cmd);
	redirect_burst("HEAD", pathf("/%s", code), COALESCE_N, COALESCE_N, &b);
	cr_assert_eq(wait_background(&resumer), 0, "\"%s\" failed", cmd);
	pg_paused = 0;

	s = scrape_fetch();
	q1 = scrape_value(s, "shortener_db_query_duration_seconds_count", "") -
	    (scrape_value(s, "shortener_click_batch_size_count", "") - batches);
	scrape_free(s);
	fprintf(stderr, "resilience: %d concurrent redirects of one uncached "
	    "code (%ld MISS, %ld BYPASS): %.0f database statements\n",
	    COALESCE_N, b.miss, b.bypass, q1 - q0);

	cr_expect_eq(b.status302, COALESCE_N, "%ld of %d were 302",
	    b.status302, COALESCE_N);
	/* MISS and BYPASS both ask the database. */
	cr_expect_geq(b.miss + b.bypass, COALESCE_N / 2, "only %ld of %d "
	    "asked the database: the burst did not test coalescing",
	    b.miss + b.bypass, COALESCE_N);
	cr_expect_leq(q1 - q0, COALESCE_MAX_QUERIES, "%.0f statements for %ld "
	    "concurrent lookups of one code", q1 - q0, b.miss + b.bypass);
	json_decref(url);
}
