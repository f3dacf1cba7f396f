/*
 * PostgreSQL going away and coming back while the service runs: every
 * route that needs the database answers a quick 503 JSON with
 * Retry-After, /health stays 200, /ready turns 503, and once PostgreSQL is
 * back the service recovers by itself (no restart), reads first time.
 *
 * This stops the database that every other test uses, so it is one test
 * in its own suite and must run on its own, after the others, with the
 * two invocations written out below this comment.
 *
 * SHORTENER_PG_STOP and SHORTENER_PG_START are shell commands; without
 * them the test is skipped. The database is started again in the fini
 * hook whatever happened in between.
 */
// tests/bin/integration --filter '!(resilience/*)'
// tests/bin/integration --filter 'resilience/*'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"
#include "scrape.h"

#define STOP_WAIT_S	10.0
#define START_WAIT_S	20.0	/* from the start command's return */
#define FAST_S		5.0	/* a 503 must not hang */
#define RESPAWN_REQUESTS 30	/* before and after a worker is killed */

TestSuite(resilience, .timeout = 240);

static int	 pg_stopped;

static void	 ensure_pg_started(void);
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
