/*
 * Clicks in packs (db/migrations/034): the click writer stores a batch's
 * clicks of one link as one row of click_packs, each click with an id of
 * its own. For a client nothing differs from clicks stored a row each:
 * every click is listed, paged, filtered, read and deleted by id, in id
 * order with the other events, and the counts and totals follow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(packs, .timeout = 90);

#define CLICK_WAIT_MS	5000

static void	redirects(const json_t *url, int n, const char *agent);
static json_t	*clicks_of(json_int_t url_id, size_t want);
static json_t	*walk_pages(json_int_t url_id, int per_page, int keyset);
static void	expect_same_ids(const json_t *a, const json_t *b,
		    const char *what);
static long long pack_sql(const char *sql, json_int_t url_id);

static void
redirects(const json_t *url, int n, const char *agent)
{
	struct http_resp	*r;
	char			 ua[96];
	const char		*hdrs[] = { ua, NULL };
	int			 i;

	snprintf(ua, sizeof(ua), "User-Agent: %s", agent);
	for (i = 0; i < n; i++) {
		r = http_request("GET", pathf("/%s", jstr(url, "short_code")),
		    hdrs, NULL, 0, 0);
		cr_assert_eq(r->status, 302, "redirect %d: %ld", i, r->status);
		http_free(r);
	}
}

static json_t *
clicks_of(json_int_t url_id, size_t want)
{
	json_t	*l;

	l = poll_list(want, CLICK_WAIT_MS,
	    "/events?url_id=%lld&event_type=click", (long long)url_id);
	cr_assert_eq(json_array_size(l), want, "%zu clicks listed, want %zu",
	    json_array_size(l), want);
	expect_ascending_ids(l);
	return (l);
}

/* The link's events, page by page (page=) or after_id by after_id. */
static json_t *
walk_pages(json_int_t url_id, int per_page, int keyset)
{
	json_t		*all = json_array(), *page;
	json_int_t	 after = 0;
	int		 n;

	for (n = 1; n < 1000; n++) {
		if (keyset && after > 0)
			page = get_list("/events?url_id=%lld&per_page=%d"
			    "&after_id=%lld", (long long)url_id, per_page,
			    (long long)after);
		else if (keyset)
			page = get_list("/events?url_id=%lld&per_page=%d",
			    (long long)url_id, per_page);
		else
			page = get_list("/events?url_id=%lld&per_page=%d"
			    "&page=%d", (long long)url_id, per_page, n);
		if (json_array_size(page) == 0) {
			json_decref(page);
			break;
		}
		after = jint(json_array_get(page, json_array_size(page) - 1),
		    "id");
		json_array_extend(all, page);
		json_decref(page);
	}
	return (all);
}

static void
expect_same_ids(const json_t *a, const json_t *b, const char *what)
{
	size_t	i;

	cr_assert_eq(json_array_size(a), json_array_size(b),
	    "%s: %zu events against %zu", what, json_array_size(a),
	    json_array_size(b));
	for (i = 0; i < json_array_size(a); i++)
		cr_assert_eq(jint(json_array_get(a, i), "id"),
		    jint(json_array_get(b, i), "id"), "%s: event %zu differs",
		    what, i);
}

static long long
pack_sql(const char *sql, json_int_t url_id)
{
	char		 id[24];
	const char	*params[1] = { id };

	snprintf(id, sizeof(id), "%lld", (long long)url_id);
	return (db_scalar(sql, 1, params));
}

Test(packs, a_links_clicks_list_page_and_read_like_rows)
{
	json_t		*url = make_user_url(NULL), *all, *walked, *one;
	json_int_t	 id = jint(url, "id");
	struct http_resp *r;
	size_t		 i, picks[3];

	redirects(url, 120, "packs-list/1.0");
	all = clicks_of(id, 120);
	cr_expect_eq(pack_sql("SELECT coalesce(sum(live), 0) FROM click_packs "
	    "WHERE url_id = $1", id), 120, "the clicks are not in packs");
	cr_expect_eq(pack_sql("SELECT count(*) FROM click_packs WHERE "
	    "url_id = $1 AND n > 256", id), 0);

	walked = walk_pages(id, 7, 0);
	json_array_remove(walked, 0);	/* the link's "created" event */
	expect_same_ids(all, walked, "page by page");
	json_decref(walked);
	walked = walk_pages(id, 11, 1);
	json_array_remove(walked, 0);
	expect_same_ids(all, walked, "after_id by after_id");
	json_decref(walked);

	picks[0] = 0;
	picks[1] = 61;
	picks[2] = 119;
	for (i = 0; i < 3; i++) {
		r = http_getf("/events/%lld", (long long)jint(json_array_get(
		    all, picks[i]), "id"));
		cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
		one = take_json(r);
		cr_expect(json_equal(one, json_array_get(all, picks[i])),
		    "GET /events/<id> differs from the list's event %zu",
		    picks[i]);
		cr_expect_str_eq(jstr(json_object_get(one, "details"),
		    "user_agent"), "packs-list/1.0");
		json_decref(one);
	}
	json_decref(all);
	json_decref(url);
}

/*
 * GET /events/<id> is a statement each connection prepares once
 * (api/events.c); after five runs PostgreSQL may keep one generic plan for
 * it. Every event of a link, read by id more times than that on every
 * connection, is the list's; an id a pack left unused is a 404.
 */
Test(packs, every_event_read_by_id_over_and_over)
{
	json_t		*url = make_user_url(NULL), *all, *one, *ev;
	json_int_t	 id = jint(url, "id");
	struct http_resp *r;
	long long	 unused;
	size_t		 i;
	int		 round;

	redirects(url, 40, "packs-by-id/1.0");
	(void)clicks_of(id, 40);
	all = get_list("/events?url_id=%lld&per_page=100", (long long)id);
	cr_assert_eq(json_array_size(all), 41, "%zu events",
	    json_array_size(all));
	unused = pack_sql("SELECT max(base + n) FROM click_packs WHERE "
	    "url_id = $1 AND n < 256", id);
	cr_assert_gt(unused, 0, "no pack with room left");

	for (round = 0; round < 3; round++) {
		json_array_foreach(all, i, ev) {
			r = http_getf("/events/%lld", (long long)jint(ev, "id"));
			cr_assert_eq(r->status, 200, "round %d, event %zu: %ld %s",
			    round, i, r->status, r->body);
			one = take_json(r);
			cr_assert(json_equal(one, ev), "round %d: GET /events/"
			    "<id> differs from the list's event %zu", round, i);
			json_decref(one);
		}
		r = http_getf("/events/%lld", unused);
		expect_error(r, 404, NULL);
		http_free(r);
	}
	json_decref(all);
	json_decref(url);
}

Test(packs, a_click_of_a_pack_is_deleted_alone)
{
	json_t		*url = make_user_url(NULL), *all, *after;
	json_int_t	 id = jint(url, "id"), gone;
	struct http_resp *r;
	const char	*path;
	size_t		 i;

	redirects(url, 5, "packs-delete/1.0");
	all = clicks_of(id, 5);
	gone = jint(json_array_get(all, 2), "id");
	path = pathf("/events/%lld", (long long)gone);

	r = http_delete(path);
	cr_assert_eq(r->status, 204, "%ld %s", r->status, r->body);
	http_free(r);
	r = http_get(path);
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_delete(path);
	expect_error(r, 404, NULL);
	http_free(r);

	after = clicks_of(id, 4);
	cr_expect_eq(find_id(after, gone), -1, "the deleted click is listed");
	json_decref(after);
	cr_expect_eq(pack_sql("SELECT coalesce(sum(live), 0) FROM click_packs "
	    "WHERE url_id = $1", id), 4);

	/* Deleting the rest deletes the packs. */
	for (i = 0; i < 5; i++) {
		if (i == 2)
			continue;
		r = http_delete(pathf("/events/%lld", (long long)jint(
		    json_array_get(all, i), "id")));
		cr_expect_eq(r->status, 204, "%ld %s", r->status, r->body);
		http_free(r);
	}
	after = get_list("/events?url_id=%lld&event_type=click",
	    (long long)id);
	cr_expect_eq(json_array_size(after), 0);
	json_decref(after);
	cr_expect_eq(pack_sql("SELECT count(*) FROM click_packs WHERE "
	    "url_id = $1", id), 0, "a pack with no click left stays");
	json_decref(all);
	json_decref(url);
}

Test(packs, rows_and_packs_list_in_id_order)
{
	json_t		*user, *url = make_user_url(&user), *list;
	json_int_t	 uid = jint(user, "id"), posted;
	struct http_resp *r;
	const char	*type = uniq("between");
	long		 at;

	redirects(url, 3, "packs-order/1.0");
	json_decref(clicks_of(jint(url, "id"), 3));
	r = http_sendf("POST", "/events", "{\"url_id\":%lld,\"user_id\":%lld,"
	    "\"event_type\":\"%s\"}", (long long)jint(url, "id"),
	    (long long)uid, type);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	posted = jint(r->json, "id");
	http_free(r);
	redirects(url, 2, "packs-order/1.0");
	json_decref(clicks_of(jint(url, "id"), 5));

	list = get_list("/events?user_id=%lld", (long long)uid);
	expect_ascending_ids(list);
	at = find_id(list, posted);
	cr_assert(at >= 0, "the posted event is not listed");
	cr_expect_str_eq(jstr(json_array_get(list, at - 1), "event_type"),
	    "click");
	cr_expect_str_eq(jstr(json_array_get(list, at + 1), "event_type"),
	    "click");
	cr_expect_eq(json_array_size(list) - (size_t)at, 3,
	    "two clicks after the posted event, found %zu",
	    json_array_size(list) - (size_t)at - 1);
	json_decref(list);

	list = get_list("/events?user_id=%lld&event_type=click&per_page=2"
	    "&after_id=%lld", (long long)uid, (long long)posted);
	cr_expect_eq(json_array_size(list), 2);
	expect_ascending_ids(list);
	json_decref(list);
	json_decref(url);
	json_decref(user);
}

/*
 * The writer's statement itself (clicks_insert_packs()) with a batch as
 * core/clickqueue.h makes it: a full pack of one link, a small one of
 * another, JSON text with escaped quotes. Every click is an event.
 */
Test(packs, a_batch_of_two_packs_reads_back)
{
	json_t		*ua, *ub, *user, *list, *d;
	char		 sa[24], sb[24], su[24];
	const char	*params[3] = { sa, sb, su };
	struct http_resp *r;

	ua = make_user_url(&user);
	ub = make_url(jint(user, "id"), "https://example.com/packs-b", NULL);
	snprintf(sa, sizeof(sa), "%lld", (long long)jint(ua, "id"));
	snprintf(sb, sizeof(sb), "%lld", (long long)jint(ub, "id"));
	snprintf(su, sizeof(su), "%lld", (long long)jint(user, "id"));

	cr_assert_eq(db_scalar("WITH t AS (SELECT (extract(epoch FROM now() "
	    "AT TIME ZONE 'UTC') * 1e6)::bigint AS us) SELECT count(*) FROM "
	    "(SELECT clicks_insert_packs(ARRAY[$1, $2]::bigint[], "
	    "ARRAY[$3, $3]::bigint[], '{packs,packs}', '{256,3}', "
	    "ARRAY[t.us, t.us], '[' || (SELECT string_agg(format("
	    "'[%s,\"ua \\\"q\\\" %s\",null,false]', g - 1, g), ',' ORDER BY g) "
	    "FROM generate_series(1, 256) g) || ']' || chr(30) || "
	    "'[[0,null,\"https://r.example/\",true],[1,null,null,false],"
	    "[2,\"x\",null,false]]', '{}', '{}', '{}', '{}', '{}', '{}', '{}', "
	    "'{}', '{}', '{}', '{}', '{}') FROM t) c", 3, params), 1);

	list = get_list("/events?url_id=%s&event_type=click", sa);
	cr_assert_eq(json_array_size(list), 256);
	expect_ascending_ids(list);
	cr_expect_eq(jint(json_array_get(list, 255), "id") -
	    jint(json_array_get(list, 0), "id"), 255,
	    "a pack's ids are base .. base + 255");
	d = json_object_get(json_array_get(list, 0), "details");
	cr_expect_str_eq(jstr(d, "user_agent"), "ua \"q\" 1");
	cr_expect_str_eq(jstr(d, "short_code"), "packs");
	cr_expect(json_is_null(json_object_get(d, "referer")), "no Referer");
	cr_expect(json_is_false(json_object_get(d, "bot")));
	json_decref(list);

	list = get_list("/events?url_id=%s", sb);
	cr_assert_eq(json_array_size(list), 4, "created and 3 clicks");
	d = json_object_get(json_array_get(list, 1), "details");
	cr_expect_str_eq(jstr(d, "referer"), "https://r.example/");
	cr_expect(json_is_true(json_object_get(d, "bot")));
	cr_expect_eq(jint(json_array_get(list, 1), "user_id"),
	    jint(user, "id"));
	json_decref(list);

	r = http_getf("/events?url_id=%s&event_type=click&per_page=100"
	    "&page=3", sa);
	cr_assert_eq(r->status, 200);
	cr_expect_eq(json_array_size(r->json), 56);
	cr_expect_str_eq(http_header(r, "X-Total-Count"), "256");
	http_free(r);
	json_decref(ua);
	json_decref(ub);
	json_decref(user);
}
