/*
 * Lists at any size: unknown query parameters, exact totals from the
 * maintained counts, bounded counts (X-Total-Count-Exact), deep pages
 * refused with a pointer to after_id and Link headers that lead there,
 * whole lists streamed in batches, and the 400 above LIST_MAX_ROWS.
 *
 * Large lists are made in PostgreSQL directly: events of a user id that
 * no API user has (events carry no foreign keys), removed again at the
 * end of the test, so parallel tests never see them in their own lists.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(lists, .timeout = 120);

static long long	 ghost_user(void);
static void		 ghost_events(long long user, const char *type,
			    long n);
static void		 ghost_drop(long long user);
static long		 header_long(const struct http_resp *r,
			    const char *name);
static long		 list_max_rows(void);
static void		 expect_unknown(const char *method, const char *path,
			    const char *body, const char *accepted);

/* A user id far above any the API hands out, unique to this test. */
static long long
ghost_user(void)
{
	return (9000000000000LL + (long long)getpid() * 1000 +
	    (long long)(now_seconds() * 1000) % 1000);
}

static void
ghost_events(long long user, const char *type, long n)
{
	char		 u[24], c[24];
	const char	*params[3] = { u, type, c };

	snprintf(u, sizeof(u), "%lld", user);
	snprintf(c, sizeof(c), "%ld", n);
	cr_assert_eq(db_scalar("WITH i AS (INSERT INTO events (user_id, "
	    "event_type, details) SELECT $1::bigint, $2, jsonb_build_object("
	    "'n', g) FROM generate_series(1, $3::int) g RETURNING 1) "
	    "SELECT count(*) FROM i", 3, params), n);
}

static void
ghost_drop(long long user)
{
	char		 u[24];
	const char	*params[1] = { u };

	snprintf(u, sizeof(u), "%lld", user);
	(void)db_scalar("WITH d AS (DELETE FROM events WHERE user_id = $1 "
	    "RETURNING 1) SELECT count(*) FROM d", 1, params);
}

static long
header_long(const struct http_resp *r, const char *name)
{
	const char	*v = http_header(r, name);

	return (v != NULL ? strtol(v, NULL, 10) : -1);
}

static long
list_max_rows(void)
{
	const char	*v = getenv("LIST_MAX_ROWS");

	return (v != NULL && *v != '\0' ? strtol(v, NULL, 10) : 100000);
}

static void
expect_unknown(const char *method, const char *path, const char *body,
    const char *accepted)
{
	struct http_resp	*r;

	r = body != NULL ? http_send(method, path, body) :
	    http_request(method, path, NULL, NULL, 0, 0);
	expect_error(r, 400, NULL);
	cr_expect(strstr(jstr(r->json, "error"), "unknown query parameter") !=
	    NULL, "%s %s: %s", method, path, r->body);
	cr_expect(strstr(jstr(r->json, "error"), accepted) != NULL,
	    "%s %s: the error names what is accepted (%s): %s", method, path,
	    accepted, r->body);
	http_free(r);
}

Test(lists, unknown_query_parameters_are_a_400_naming_the_accepted)
{
	struct http_resp	*r;
	json_t			*user, *url;
	const char		*email = uniq_email();
	char			 body[256];

	url = make_user_url(&user);
	expect_unknown("GET", "/urls?userid=1", NULL,
	    "user_id, is_active, short_code, q, page, per_page, after_id");
	expect_unknown("GET", "/users?name=bob&page=1", NULL,
	    "username, email, page, per_page, after_id");
	expect_unknown("GET", "/events?urlid=3", NULL,
	    "url_id, user_id, event_type, page, per_page, after_id");
	expect_unknown("GET", pathf("/urls/%lld?verbose=1",
	    (long long)jint(url, "id")), NULL, "takes none");
	expect_unknown("GET", pathf("/urls/%lld/stats?days=7",
	    (long long)jint(url, "id")), NULL, "from, to");
	expect_unknown("DELETE", pathf("/urls/%lld?force=1",
	    (long long)jint(url, "id")), NULL, "takes none");

	/* A refused write changes nothing. */
	snprintf(body, sizeof(body), "{\"username\":\"x\",\"email\":\"%s\"}",
	    email);
	expect_unknown("POST", "/users?notify=1", body, "takes none");
	r = http_getf("/users?email=%s", qenc(email));
	cr_expect_str_eq(r->body, "[]", "nothing was created: %s", r->body);
	http_free(r);
	r = http_get(pathf("/urls/%lld", (long long)jint(url, "id")));
	cr_expect_eq(r->status, 200, "the URL is still there");
	http_free(r);

	/* A short link's own query string is never an error, nor a probe's. */
	r = http_request("HEAD", pathf("/%s?utm_source=x&userid=1",
	    jstr(url, "short_code")), NULL, NULL, 0, 0);
	cr_expect_eq(r->status, 302, "redirect with a query: %ld", r->status);
	http_free(r);
	r = http_get("/health?probe=lb");
	cr_expect_eq(r->status, 200);
	http_free(r);
	json_decref(url);
	json_decref(user);
}

Test(lists, totals_are_exact_and_keyset_counts_the_whole_list)
{
	struct http_resp	*r;
	json_t			*user, *urls[5];
	char			 next[128];
	int			 i;

	user = make_user();
	for (i = 0; i < 5; i++)
		urls[i] = make_url(jint(user, "id"), "https://example.com/t",
		    NULL);
	r = http_sendf("PUT", pathf("/urls/%lld", (long long)jint(urls[4],
	    "id")), "{\"is_active\":false}");
	cr_assert_eq(r->status, 200);
	http_free(r);

	r = http_getf("/urls?user_id=%lld&per_page=2",
	    (long long)jint(user, "id"));
	cr_expect_eq(header_long(r, "X-Total-Count"), 5);
	cr_expect_null(http_header(r, "X-Total-Count-Exact"));
	http_free(r);
	r = http_getf("/urls?user_id=%lld&is_active=false&per_page=2",
	    (long long)jint(user, "id"));
	cr_expect_eq(header_long(r, "X-Total-Count"), 1);
	http_free(r);

	/* after_id is a cursor: the total is still the whole list. */
	r = http_getf("/urls?user_id=%lld&after_id=%lld&per_page=2",
	    (long long)jint(user, "id"), (long long)jint(urls[1], "id"));
	cr_expect_eq(header_long(r, "X-Total-Count"), 5, "keyset total");
	cr_expect_eq(json_array_size(r->json), 2);
	cr_expect_eq(jint(json_array_get(r->json, 0), "id"),
	    jint(urls[2], "id"));
	snprintf(next, sizeof(next), "after_id=%lld&per_page=2>; rel=\"next\"",
	    (long long)jint(urls[3], "id"));
	cr_expect(http_header(r, "Link") != NULL &&
	    strstr(http_header(r, "Link"), next) != NULL, "Link: %s",
	    http_header(r, "Link"));
	http_free(r);
	r = http_getf("/urls?user_id=%lld&after_id=%lld&per_page=2",
	    (long long)jint(user, "id"), (long long)jint(urls[3], "id"));
	cr_expect_eq(json_array_size(r->json), 1);
	cr_expect_null(http_header(r, "Link"), "the last keyset page has no "
	    "next: %s", http_header(r, "Link"));
	http_free(r);

	/* The whole table's count is the maintained one, equal to count(*). */
	r = http_get("/urls?per_page=1");
	cr_expect(header_long(r, "X-Total-Count") >= db_scalar(
	    "SELECT count(*) - 50 FROM urls", 0, NULL) &&
	    header_long(r, "X-Total-Count") <= db_scalar(
	    "SELECT count(*) + 50 FROM urls", 0, NULL),
	    "X-Total-Count of /urls is count(*) give or take the URLs other "
	    "tests create meanwhile: %ld", header_long(r, "X-Total-Count"));
	cr_expect_eq(db_scalar("SELECT count(*) FROM (SELECT key FROM "
	    "list_counts GROUP BY key HAVING sum(n) < 0) k", 0, NULL), 0,
	    "no count is negative");
	http_free(r);
	for (i = 0; i < 5; i++)
		json_decref(urls[i]);
	json_decref(user);
}

Test(lists, deep_pages_lead_to_after_id)
{
	struct http_resp	*r;
	long long		 ghost = ghost_user();
	const char		*type = uniq("deep");
	const char		*link;
	long			 n = 10100;

	ghost_events(ghost, type, n);

	/* Counted by event_type: exact at any size. */
	r = http_getf("/events?event_type=%s&per_page=1", qenc(type));
	cr_expect_eq(header_long(r, "X-Total-Count"), n);
	cr_expect_null(http_header(r, "X-Total-Count-Exact"));
	http_free(r);

	/* Counted through the index: bounded, and said so. */
	r = http_getf("/events?user_id=%lld&per_page=1", ghost);
	cr_expect_eq(header_long(r, "X-Total-Count"), 10000);
	cr_expect_str_eq(http_header(r, "X-Total-Count-Exact"), "false");
	http_free(r);

	/* Page 201 of 50 starts at row 10 000: served, next is keyset. */
	r = http_getf("/events?user_id=%lld&page=201&per_page=50", ghost);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_expect_eq(json_array_size(r->json), 50);
	link = http_header(r, "Link");
	cr_expect(link != NULL && strstr(link, "after_id=") != NULL &&
	    strstr(link, "rel=\"next\"") != NULL && strstr(link,
	    "page=200&per_page=50>; rel=\"prev\"") != NULL, "Link: %s", link);
	http_free(r);

	r = http_getf("/events?user_id=%lld&page=202&per_page=50", ghost);
	expect_error(r, 400, NULL);
	cr_expect(strstr(jstr(r->json, "error"), "after_id") != NULL,
	    "the error points at after_id: %s", r->body);
	http_free(r);

	/* Past the end costs nothing and is still an empty page. */
	r = http_getf("/events?event_type=%s&page=99999999&per_page=50",
	    qenc(type));
	cr_expect_eq(r->status, 200);
	cr_expect_str_eq(r->body, "[]");
	cr_expect(http_header(r, "Link") != NULL && strstr(http_header(r,
	    "Link"), "page=201&per_page=50>; rel=\"prev\"") != NULL,
	    "prev is the deepest page served: %s", http_header(r, "Link"));
	http_free(r);
	ghost_drop(ghost);
}

Test(lists, whole_lists_stream_every_row)
{
	struct http_resp	*r;
	long long		 ghost = ghost_user();
	json_t			*all;
	json_int_t		 first, last;
	size_t			 i;
	long			 n = 2345;
	char			 req[256];
	int			 len;

	ghost_events(ghost, uniq("whole"), n);

	r = http_getf("/events?user_id=%lld", ghost);
	cr_assert_eq(r->status, 200, "%ld %.300s", r->status, r->body);
	cr_assert(json_is_array(r->json), "a whole list is one JSON array");
	cr_expect_eq((long)json_array_size(r->json), n, "every row, once");
	cr_expect_null(http_header(r, "X-Total-Count"), "not paginated");
	expect_ascending_ids(r->json);
	all = json_incref(r->json);
	http_free(r);
	for (i = 0; i < json_array_size(all); i++) {
		cr_expect_eq(jint(json_object_get(json_array_get(all, i),
		    "details"), "n"), (json_int_t)i + 1, "row %zu", i);
	}
	first = jint(json_array_get(all, 0), "id");
	last = jint(json_array_get(all, json_array_size(all) - 1), "id");

	/* after_id alone filters the whole list. */
	r = http_getf("/events?user_id=%lld&after_id=%lld", ghost,
	    (long long)first);
	cr_expect_eq((long)json_array_size(r->json), n - 1);
	http_free(r);
	r = http_getf("/events?user_id=%lld&after_id=%lld", ghost,
	    (long long)last);
	cr_expect_str_eq(r->body, "[]");
	http_free(r);

	r = http_head(pathf("/events?user_id=%lld", ghost));
	cr_expect_eq(r->status, 200);
	cr_expect_eq(r->body_len, 0);
	http_free(r);

	/* HTTP/1.0 has no chunks: the body ends with the connection. */
	len = snprintf(req, sizeof(req), "GET /events?user_id=%lld HTTP/1.0"
	    "\r\nHost: t\r\n\r\n", ghost);
	r = http_raw(req, (size_t)len, 0);
	cr_expect_eq(r->status, 200);
	cr_expect(r->json != NULL && json_equal(r->json, all),
	    "HTTP/1.0 gets the same list (%zu bytes)", r->body_len);
	http_free(r);
	json_decref(all);
	ghost_drop(ghost);
}

Test(lists, whole_lists_above_the_cap_are_a_400)
{
	struct http_resp	*r;
	long long		 ghost = ghost_user();
	const char		*type = uniq("cap");
	long			 cap = list_max_rows();
	long long		 after;
	char			 u[24];
	const char		*params[1] = { u };

	if (cap > 200000)
		cr_skip_test("LIST_MAX_ROWS is %ld: too many rows to make", cap);
	ghost_events(ghost, type, cap + 1);

	r = http_getf("/events?user_id=%lld", ghost);
	expect_error(r, 400, NULL);
	cr_expect(strstr(jstr(r->json, "error"), "more than") != NULL &&
	    strstr(jstr(r->json, "error"), "after_id") != NULL &&
	    strstr(jstr(r->json, "error"), "per_page") != NULL,
	    "tells the client to paginate: %s", r->body);
	cr_expect(r->elapsed < 2.0, "refused without reading the rows: %.3f s",
	    r->elapsed);
	http_free(r);

	/* The same through the maintained count. */
	r = http_getf("/events?event_type=%s", qenc(type));
	expect_error(r, 400, NULL);
	cr_expect(strstr(jstr(r->json, "error"), "more than") != NULL, "%s",
	    r->body);
	http_free(r);

	/* Below the cap again once after_id cuts it. */
	snprintf(u, sizeof(u), "%lld", ghost);
	after = db_scalar("SELECT id FROM events WHERE user_id = $1 "
	    "ORDER BY id OFFSET 1500 LIMIT 1", 1, params);
	r = http_getf("/events?user_id=%lld&after_id=%lld", ghost, after);
	cr_expect_eq(r->status, 200);
	cr_expect_eq((long)json_array_size(r->json), cap + 1 - 1501);
	http_free(r);

	/* Paginated, any size is fine. */
	r = http_getf("/events?user_id=%lld&per_page=1000", ghost);
	cr_expect_eq(r->status, 200);
	cr_expect_eq(json_array_size(r->json), 1000);
	http_free(r);
	ghost_drop(ghost);
}
