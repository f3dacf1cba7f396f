/*
 * Short links: GET/HEAD /<code>, the /urls/<code>/redirect alias, click
 * events, cache coherence after updates and deletes, and the stats that
 * the clicks feed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"
#include "shortlinks.h"

TestSuite(redirect, .timeout = 60);

#define CLICK_WAIT_MS	2500

static void	expect_redirect(const struct http_resp *r, const char *target);
static size_t	clicks_now(json_int_t url_id);
static json_t	*poll_stats(json_int_t url_id, json_int_t want, int ms);

static void
expect_redirect(const struct http_resp *r, const char *target)
{
	const char	*loc, *cc, *xc;

	cr_assert_eq(r->status, 302, "expected 302, got %ld %.300s", r->status,
	    r->body);
	loc = http_header(r, "Location");
	cr_expect_not_null(loc, "302 without Location");
	if (loc != NULL)
		cr_expect_str_eq(loc, target);
	cc = http_header(r, "Cache-Control");
	cr_expect(cc != NULL && strcmp(cc, "private, max-age=0") == 0,
	    "Cache-Control must be \"private, max-age=0\", is %s",
	    cc ? cc : "(none)");
	xc = http_header(r, "X-Cache");
	cr_expect(xc != NULL && (strcmp(xc, "HIT") == 0 ||
	    strcmp(xc, "MISS") == 0 || strcmp(xc, "BYPASS") == 0),
	    "X-Cache must be HIT, MISS or BYPASS, is %s", xc ? xc : "(none)");
}

static size_t
clicks_now(json_int_t url_id)
{
	json_t	*l = get_list("/events?url_id=%lld&event_type=click",
		    (long long)url_id);
	size_t	 n = json_array_size(l);

	json_decref(l);
	return (n);
}

static json_t *
poll_stats(json_int_t url_id, json_int_t want, int ms)
{
	struct http_resp	*r;
	double			 deadline = now_seconds() + ms / 1000.0;
	json_t			*j;

	for (;;) {
		r = http_get(pathf("/urls/%lld/stats", (long long)url_id));
		cr_assert_eq(r->status, 200, "stats: %ld %s", r->status,
		    r->body);
		j = take_json(r);
		if (jint(j, "clicks") >= want || now_seconds() > deadline)
			return (j);
		json_decref(j);
		sleep_ms(100);
	}
}

Test(redirect, get_is_302_and_writes_one_click)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev, *d;
	json_int_t		 id = jint(url, "id");
	const char		*code = jstr(url, "short_code");
	const char		*hdrs[] = { "User-Agent: itest-agent/1.0",
				    "Referer: https://ref.example/page", NULL };

	r = http_request("GET", pathf("/%s", code), hdrs, NULL, 0, 0);
	expect_redirect(r, jstr(url, "original_url"));
	http_free(r);

	ev = poll_list(1, CLICK_WAIT_MS, "/events?url_id=%lld&event_type=click",
	    (long long)id);
	cr_assert_eq(json_array_size(ev), 1, "one click event within %d ms",
	    CLICK_WAIT_MS);
	cr_expect_eq(jint(json_array_get(ev, 0), "url_id"), id);
	d = json_object_get(json_array_get(ev, 0), "details");
	cr_assert(json_is_object(d), "click details must be an object");
	cr_expect_str_eq(jstr(d, "short_code"), code);
	cr_expect_str_eq(jstr(d, "user_agent"), "itest-agent/1.0");
	cr_expect_str_eq(jstr(d, "referer"), "https://ref.example/page");
	cr_expect(labs(ts_age(jstr(json_array_get(ev, 0), "timestamp"))) < 300,
	    "a click's timestamp is now (UTC): %s",
	    jstr(json_array_get(ev, 0), "timestamp"));
	json_decref(ev);

	sleep_ms(300);
	cr_expect_eq(clicks_now(id), 1, "exactly one click per redirect");
	json_decref(url);
}

Test(redirect, every_redirect_counts)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev;
	int			 i;

	for (i = 0; i < 5; i++) {
		r = http_get(pathf("/%s", jstr(url, "short_code")));
		expect_redirect(r, jstr(url, "original_url"));
		http_free(r);
	}
	ev = poll_list(5, CLICK_WAIT_MS, "/events?url_id=%lld&event_type=click",
	    (long long)jint(url, "id"));
	cr_expect_eq(json_array_size(ev), 5, "5 redirects, %zu clicks",
	    json_array_size(ev));
	expect_ascending_ids(ev);
	json_decref(ev);
	json_decref(url);
}

Test(redirect, second_hit_comes_from_the_cache)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	const char		*xc;
	double			 deadline;
	int			 i, hit = 0;

	r = http_get(pathf("/%s", jstr(url, "short_code")));
	expect_redirect(r, jstr(url, "original_url"));
	xc = http_header(r, "X-Cache");
	/* Redis runs for this suite: a bypass is the failure to catch. */
	cr_assert(xc != NULL && strcmp(xc, "BYPASS") != 0,
	    "the first redirect bypassed the cache (X-Cache %s)",
	    xc != NULL ? xc : "missing");
	http_free(r);
	/*
	 * The creation's tombstone (CACHE_TOMBSTONE_MS) keeps a new code out
	 * of the cache for its lifetime; the first redirect after it fills.
	 */
	deadline = now_seconds() + (tombstone_ms() + 3000) / 1000.0;
	for (i = 0; !hit && (i == 0 || now_seconds() < deadline); i++) {
		if (i > 0)
			sleep_ms(100);
		r = http_get(pathf("/%s", jstr(url, "short_code")));
		expect_redirect(r, jstr(url, "original_url"));
		xc = http_header(r, "X-Cache");
		hit = xc != NULL && strcmp(xc, "HIT") == 0;
		http_free(r);
	}
	cr_expect(hit, "a repeated redirect must become a cache HIT");
	json_decref(url);
}

Test(redirect, head_is_302_without_body_or_click)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev;
	json_int_t		 id = jint(url, "id");
	const char		*code = jstr(url, "short_code");

	r = http_head(pathf("/%s", code));
	expect_redirect(r, jstr(url, "original_url"));
	cr_expect_eq(r->body_len, 0);
	http_free(r);
	r = http_head(pathf("/urls/%s/redirect", code));
	expect_redirect(r, jstr(url, "original_url"));
	http_free(r);

	/* Then one GET: once its click shows, the HEADs' would have too. */
	r = http_get(pathf("/%s", code));
	expect_redirect(r, jstr(url, "original_url"));
	http_free(r);
	ev = poll_list(1, CLICK_WAIT_MS, "/events?url_id=%lld&event_type=click",
	    (long long)id);
	json_decref(ev);
	sleep_ms(300);
	cr_expect_eq(clicks_now(id), 1, "HEAD must not write a click");
	json_decref(url);
}

Test(redirect, alias_route_redirects_and_clicks)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev;

	r = http_get(pathf("/urls/%s/redirect", jstr(url, "short_code")));
	expect_redirect(r, jstr(url, "original_url"));
	http_free(r);
	ev = poll_list(1, CLICK_WAIT_MS, "/events?url_id=%lld&event_type=click",
	    (long long)jint(url, "id"));
	cr_expect_eq(json_array_size(ev), 1, "the alias writes a click too");
	json_decref(ev);

	r = http_get(pathf("/urls/%s/redirect/", jstr(url, "short_code")));
	expect_redirect(r, jstr(url, "original_url"));
	http_free(r);
	json_decref(url);
}

Test(redirect, trailing_slash_redirects)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);

	r = http_get(pathf("/%s/", jstr(url, "short_code")));
	expect_redirect(r, jstr(url, "original_url"));
	http_free(r);
	json_decref(url);
}

Test(redirect, custom_codes_redirect_and_codes_are_case_sensitive)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *url;
	char			 code[40], swapped[40];
	size_t			 i;

	snprintf(code, sizeof(code), "Ab_%.28s", uniq("x"));
	url = make_url(jint(u, "id"), "https://example.com/custom-redirect",
	    json_pack("{s:s}", "short_code", code));
	r = http_get(pathf("/%s", code));
	expect_redirect(r, "https://example.com/custom-redirect");
	http_free(r);

	/* Codes come from [A-Za-z0-9]: "Ab_x" and "aB_X" are two codes. */
	for (i = 0; code[i] != '\0'; i++)
		swapped[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ?
		    code[i] - 32 : code[i] >= 'A' && code[i] <= 'Z' ?
		    code[i] + 32 : code[i]);
	swapped[i] = '\0';
	r = http_get(pathf("/%s", swapped));
	expect_error(r, 404, NULL);
	http_free(r);
	json_decref(url);
	json_decref(u);
}

Test(redirect, unknown_code_is_404_json)
{
	struct http_resp	*r;

	r = http_get("/nOsUcHcOdE9");
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_head("/nOsUcHcOdE9");
	cr_expect_eq(r->status, 404);
	http_free(r);
	r = http_get("/urls/nOsUcHcOdE9/redirect");
	expect_error(r, 404, NULL);
	http_free(r);
	/* Not even shaped like a code. */
	r = http_get("/x");
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_get("/has.dot.in.it");
	expect_error(r, 404, NULL);
	http_free(r);
}

Test(redirect, inactive_link_is_404_without_click)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *url;

	url = make_url(jint(u, "id"), "https://example.com/off",
	    json_pack("{s:b}", "is_active", 0));
	r = http_get(pathf("/%s", jstr(url, "short_code")));
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_head(pathf("/%s", jstr(url, "short_code")));
	cr_expect_eq(r->status, 404);
	http_free(r);
	r = http_get(pathf("/urls/%s/redirect", jstr(url, "short_code")));
	expect_error(r, 404, NULL);
	http_free(r);
	sleep_ms(700);
	cr_expect_eq(clicks_now(jint(url, "id")), 0);
	json_decref(url);
	json_decref(u);
}

Test(redirect, updates_apply_to_the_very_next_request)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	json_int_t		 id = jint(url, "id");
	const char		*code = jstr(url, "short_code");
	int			 i;

	/* Warm every cache the service has. */
	for (i = 0; i < 3; i++) {
		r = http_get(pathf("/%s", code));
		expect_redirect(r, jstr(url, "original_url"));
		http_free(r);
	}

	r = http_send("PUT", pathf("/urls/%lld", (long long)id),
	    "{\"is_active\":false}");
	cr_assert_eq(r->status, 200);
	http_free(r);
	for (i = 0; i < 4; i++) {
		r = http_get(pathf("/%s", code));
		expect_error(r, 404, NULL);
		http_free(r);
	}

	r = http_send("PUT", pathf("/urls/%lld", (long long)id),
	    "{\"is_active\":true,\"original_url\":\"https://example.org/new\"}");
	cr_assert_eq(r->status, 200);
	http_free(r);
	for (i = 0; i < 4; i++) {
		r = http_get(pathf("/%s", code));
		expect_redirect(r, "https://example.org/new");
		http_free(r);
	}
	json_decref(url);
}

Test(redirect, delete_applies_to_the_very_next_request)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	const char		*code = jstr(url, "short_code");
	int			 i;

	for (i = 0; i < 3; i++) {
		r = http_get(pathf("/%s", code));
		expect_redirect(r, jstr(url, "original_url"));
		http_free(r);
	}
	r = http_delete(pathf("/urls/%lld", (long long)jint(url, "id")));
	cr_assert_eq(r->status, 204);
	http_free(r);
	for (i = 0; i < 4; i++) {
		r = http_get(pathf("/%s", code));
		expect_error(r, 404, NULL);
		http_free(r);
	}
	json_decref(url);
}

Test(redirect, long_user_agent_is_truncated)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev, *d;
	char			*ua, *hdr;
	const char		*hdrs[2];
	const char		*got;

	ua = malloc(3001);
	cr_assert_not_null(ua);
	memset(ua, 'A', 3000);
	ua[3000] = '\0';
	if (asprintf(&hdr, "User-Agent: %s", ua) < 0)
		cr_assert_fail();
	hdrs[0] = hdr;
	hdrs[1] = NULL;
	r = http_request("GET", pathf("/%s", jstr(url, "short_code")), hdrs,
	    NULL, 0, 0);
	expect_redirect(r, jstr(url, "original_url"));
	http_free(r);

	ev = poll_list(1, CLICK_WAIT_MS, "/events?url_id=%lld&event_type=click",
	    (long long)jint(url, "id"));
	cr_assert_eq(json_array_size(ev), 1);
	d = json_object_get(json_array_get(ev, 0), "details");
	got = jstr(d, "user_agent");
	cr_expect(strlen(got) < 3000 && strncmp(got, ua, strlen(got)) == 0,
	    "user_agent must be a truncated prefix (length %zu)", strlen(got));
	json_decref(ev);
	free(hdr);
	free(ua);
	json_decref(url);
}

Test(redirect, stats_of_a_new_url_are_empty)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *daily, *day;
	size_t			 i;

	r = http_get(pathf("/urls/%lld/stats", (long long)jint(url, "id")));
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_expect_eq(jint(r->json, "url_id"), jint(url, "id"));
	cr_expect_str_eq(jstr(r->json, "short_code"), jstr(url, "short_code"));
	cr_expect_eq(jint(r->json, "clicks"), 0);
	cr_expect(json_is_null(json_object_get(r->json, "last_click_at")),
	    "last_click_at is null before any click");
	/* Sparse ([]) or a dense 30-day series of zeros: both say "none". */
	daily = json_object_get(r->json, "daily");
	cr_expect(json_is_array(daily) && json_array_size(daily) <= 31,
	    "daily is an array of at most the last 30 days: %s", r->body);
	for (i = 0; i < json_array_size(daily); i++) {
		day = json_array_get(daily, i);
		cr_expect(is_date(jstr(day, "date")), "daily date: %s",
		    jstr(day, "date"));
		cr_expect_eq(jint(day, "clicks"), 0, "no clicks yet");
	}
	cr_expect(json_is_object(json_object_get(r->json, "period")),
	    "the period's analytics (docs/api.md): %s", r->body);
	cr_expect_eq(json_object_size(r->json), 6, "stats are exactly {url_id, "
	    "short_code, clicks, last_click_at, daily, period}: %s", r->body);
	http_free(r);
	json_decref(url);
}

Test(redirect, stats_count_redirects_but_not_heads)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *st, *daily, *day;
	json_t			*ev;
	json_int_t		 id = jint(url, "id");
	char			 today[11];
	size_t			 i;
	int			 found = 0;

	for (i = 0; i < 3; i++) {
		r = http_get(pathf("/%s", jstr(url, "short_code")));
		cr_expect_eq(r->status, 302);
		http_free(r);
	}
	r = http_head(pathf("/%s", jstr(url, "short_code")));
	http_free(r);

	st = poll_stats(id, 3, CLICK_WAIT_MS);
	cr_expect_eq(jint(st, "clicks"), 3, "3 redirects, stats say %lld",
	    (long long)jint(st, "clicks"));
	cr_expect(is_timestamp(jstr(st, "last_click_at")), "last_click_at: %s",
	    jstr(st, "last_click_at"));
	daily = json_object_get(st, "daily");
	cr_assert(json_is_array(daily));
	utc_today(today);
	for (i = 0; i < json_array_size(daily); i++) {
		day = json_array_get(daily, i);
		cr_expect(is_date(jstr(day, "date")), "daily date: %s",
		    jstr(day, "date"));
		cr_expect_eq(json_object_size(day), 2, "{date, clicks}");
		if (strcmp(jstr(day, "date"), today) == 0) {
			found = 1;
			cr_expect_eq(jint(day, "clicks"), 3);
		}
	}
	cr_expect(found, "daily has today's (UTC) row");
	ev = get_list("/events?url_id=%lld&event_type=click", (long long)id);
	cr_expect_str_eq(jstr(st, "last_click_at"), jstr(json_array_get(ev,
	    json_array_size(ev) - 1), "timestamp"),
	    "last_click_at is the last click's timestamp");
	json_decref(ev);
	json_decref(st);

	sleep_ms(300);
	st = poll_stats(id, 3, 0);
	cr_expect_eq(jint(st, "clicks"), 3, "the HEAD was counted");
	json_decref(st);
	json_decref(url);
}

Test(redirect, stats_of_unknown_url_is_404)
{
	struct http_resp	*r;
	json_t			*url;

	r = http_get("/urls/999999999999/stats");
	expect_error(r, 404, NULL);
	http_free(r);

	url = make_user_url(NULL);
	r = http_get(pathf("/urls/%lld/stats/", (long long)jint(url, "id")));
	cr_expect_eq(r->status, 200, "/urls/<id>/stats/: %ld", r->status);
	http_free(r);
	r = http_delete(pathf("/urls/%lld", (long long)jint(url, "id")));
	http_free(r);
	r = http_get(pathf("/urls/%lld/stats", (long long)jint(url, "id")));
	expect_error(r, 404, NULL);
	http_free(r);
	json_decref(url);
}
