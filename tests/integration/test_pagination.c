/*
 * Lists: bare ascending arrays, page/per_page with X-Total-Count and an
 * RFC 8288 Link header, clamping, keyset after_id, and filters combined
 * with pagination. Each test pages over rows it created itself (one user's
 * URLs, one URL's events, one unique username), so parallel tests cannot
 * shift its pages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(pagination, .timeout = 60);

#define NURLS	7

struct owned {
	json_int_t	user_id;
	json_int_t	ids[NURLS];
};

static void	make_owned(struct owned *o);
static long	total_count(const struct http_resp *r);
static char	*link_target(const char *link, const char *rel);
static const char *path_of(const char *url);
static void	expect_ids(const json_t *arr, const json_int_t *ids, size_t n,
		    const char *what);
static struct http_resp *get_page(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

static void
make_owned(struct owned *o)
{
	json_t	*u = make_user(), *url;
	char	 target[128];
	int	 i;

	o->user_id = jint(u, "id");
	for (i = 0; i < NURLS; i++) {
		snprintf(target, sizeof(target), "https://example.com/p/%d", i);
		url = make_url(o->user_id, target, NULL);
		o->ids[i] = jint(url, "id");
		json_decref(url);
	}
	json_decref(u);
}

static struct http_resp *
get_page(const char *fmt, ...)
{
	struct http_resp	*r;
	va_list			 ap;
	char			*path;

	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0)
		cr_assert_fail();
	va_end(ap);
	r = http_get(path);
	cr_assert_eq(r->status, 200, "GET %s: %ld %.300s", path, r->status,
	    r->body);
	cr_assert(json_is_array(r->json), "GET %s: not an array", path);
	free(path);
	return (r);
}

static long
total_count(const struct http_resp *r)
{
	const char	*v = http_header(r, "X-Total-Count");

	cr_expect_not_null(v, "a paginated list needs X-Total-Count");
	return (v != NULL ? strtol(v, NULL, 10) : -1);
}

/*
 * The URI of the link with rel (quoted or not) in a Link header value,
 * malloc'd, or NULL.
 */
static char *
link_target(const char *link, const char *rel)
{
	const char	*p = link, *lt, *gt, *end, *r;
	char		 q1[64], q2[64];

	if (link == NULL)
		return (NULL);
	snprintf(q1, sizeof(q1), "rel=\"%s\"", rel);
	snprintf(q2, sizeof(q2), "rel=%s", rel);
	while ((lt = strchr(p, '<')) != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL)
			return (NULL);
		end = strchr(gt, '<');
		if (end == NULL)
			end = gt + strlen(gt);
		for (r = gt; r < end; r++) {
			if (strncasecmp(r, q1, strlen(q1)) == 0 ||
			    (strncasecmp(r, q2, strlen(q2)) == 0 &&
			    strchr(" ;,", r[strlen(q2)] ? r[strlen(q2)] : ' ')))
				return (strndup(lt + 1, (size_t)(gt - lt - 1)));
		}
		p = gt;
	}
	return (NULL);
}

/* Drops scheme and authority from an absolute URI. */
static const char *
path_of(const char *url)
{
	const char	*p;

	if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
		p = strstr(url, "://") + 3;
		p = strchr(p, '/');
		return (p != NULL ? p : "/");
	}
	return (url);
}

static void
expect_ids(const json_t *arr, const json_int_t *ids, size_t n,
    const char *what)
{
	size_t	i;

	cr_expect_eq(json_array_size(arr), n, "%s: %zu items, expected %zu",
	    what, json_array_size(arr), n);
	for (i = 0; i < n && i < json_array_size(arr); i++)
		cr_expect_eq(jint(json_array_get(arr, i), "id"), ids[i],
		    "%s: item %zu is id %lld, expected %lld", what, i,
		    (long long)jint(json_array_get(arr, i), "id"),
		    (long long)ids[i]);
}

Test(pagination, no_parameters_return_the_whole_filtered_list)
{
	struct owned	 o;
	json_t		*l;

	make_owned(&o);
	l = get_list("/urls?user_id=%lld", (long long)o.user_id);
	expect_ids(l, o.ids, NURLS, "whole list");
	json_decref(l);
}

Test(pagination, pages_carry_total_and_links)
{
	struct http_resp	*r;
	struct owned		 o;
	const char		*link;
	char			*next, *prev;

	make_owned(&o);

	r = get_page("/urls?user_id=%lld&page=1&per_page=3",
	    (long long)o.user_id);
	expect_ids(r->json, o.ids, 3, "page 1");
	cr_expect_eq(total_count(r), NURLS);
	link = http_header(r, "Link");
	next = link_target(link, "next");
	prev = link_target(link, "prev");
	cr_expect_not_null(next, "page 1 of 3 links next: %s",
	    link ? link : "(no Link)");
	cr_expect_null(prev, "page 1 has no prev: %s", link ? link : "");
	free(next);
	free(prev);
	http_free(r);

	r = get_page("/urls?user_id=%lld&page=2&per_page=3",
	    (long long)o.user_id);
	expect_ids(r->json, o.ids + 3, 3, "page 2");
	cr_expect_eq(total_count(r), NURLS);
	link = http_header(r, "Link");
	next = link_target(link, "next");
	prev = link_target(link, "prev");
	cr_expect_not_null(next, "page 2 of 3 links next");
	cr_expect_not_null(prev, "page 2 of 3 links prev");
	free(next);
	free(prev);
	http_free(r);

	r = get_page("/urls?user_id=%lld&page=3&per_page=3",
	    (long long)o.user_id);
	expect_ids(r->json, o.ids + 6, 1, "page 3");
	cr_expect_eq(total_count(r), NURLS);
	link = http_header(r, "Link");
	next = link_target(link, "next");
	prev = link_target(link, "prev");
	cr_expect_null(next, "the last page has no next: %s",
	    link ? link : "");
	cr_expect_not_null(prev, "page 3 links prev");
	free(next);
	free(prev);
	http_free(r);

	r = get_page("/urls?user_id=%lld&page=4&per_page=3",
	    (long long)o.user_id);
	cr_expect_eq(json_array_size(r->json), 0, "past the end: []");
	cr_expect_eq(total_count(r), NURLS);
	http_free(r);
}

Test(pagination, links_are_followable_and_keep_filters)
{
	struct http_resp	*r, *r2;
	struct owned		 o;
	char			*next, *prev;

	make_owned(&o);
	r = get_page("/urls?user_id=%lld&per_page=3", (long long)o.user_id);
	next = link_target(http_header(r, "Link"), "next");
	cr_assert_not_null(next, "no rel=next on page 1");
	r2 = get_page("%s", path_of(next));
	expect_ids(r2->json, o.ids + 3, 3, "rel=next of page 1");
	prev = link_target(http_header(r2, "Link"), "prev");
	cr_assert_not_null(prev, "no rel=prev on page 2");
	http_free(r2);
	r2 = get_page("%s", path_of(prev));
	expect_ids(r2->json, o.ids, 3, "rel=prev of page 2");
	http_free(r2);
	free(next);
	free(prev);
	http_free(r);
}

Test(pagination, per_page_alone_starts_at_page_1_and_page_alone_uses_50)
{
	struct http_resp	*r;
	struct owned		 o;

	make_owned(&o);
	r = get_page("/urls?user_id=%lld&per_page=2", (long long)o.user_id);
	expect_ids(r->json, o.ids, 2, "per_page=2");
	cr_expect_eq(total_count(r), NURLS);
	http_free(r);

	r = get_page("/urls?user_id=%lld&page=1", (long long)o.user_id);
	expect_ids(r->json, o.ids, NURLS, "page=1 (per_page 50)");
	cr_expect_eq(total_count(r), NURLS);
	cr_expect_null(link_target(http_header(r, "Link"), "next"));
	http_free(r);
}

Test(pagination, out_of_range_numbers_are_clamped)
{
	struct http_resp	*r;
	struct owned		 o;

	make_owned(&o);
	r = get_page("/urls?user_id=%lld&page=0&per_page=2",
	    (long long)o.user_id);
	expect_ids(r->json, o.ids, 2, "page=0 is page 1");
	http_free(r);
	r = get_page("/urls?user_id=%lld&page=-3&per_page=2",
	    (long long)o.user_id);
	expect_ids(r->json, o.ids, 2, "page=-3 is page 1");
	http_free(r);
	r = get_page("/urls?user_id=%lld&per_page=0", (long long)o.user_id);
	expect_ids(r->json, o.ids, 1, "per_page=0 is 1");
	http_free(r);
	r = get_page("/urls?user_id=%lld&per_page=-5", (long long)o.user_id);
	expect_ids(r->json, o.ids, 1, "per_page=-5 is 1");
	http_free(r);
	r = get_page("/urls?user_id=%lld&per_page=5000", (long long)o.user_id);
	expect_ids(r->json, o.ids, NURLS, "per_page=5000");
	http_free(r);
}

Test(pagination, per_page_is_capped_at_1000)
{
	struct http_resp	*r;
	long			 total;
	size_t			 n;

	/* Global lists: only the cap is asserted, not their contents. */
	r = get_page("/events?per_page=5000");
	total = total_count(r);
	n = json_array_size(r->json);
	cr_expect_leq(n, 1000, "per_page=5000 returned %zu items", n);
	if (total > 1000)
		cr_expect_eq(n, 1000, "%ld events, per_page=5000 returned %zu",
		    total, n);
	expect_ascending_ids(r->json);
	http_free(r);

	r = get_page("/urls?per_page=1001&page=1");
	n = json_array_size(r->json);
	cr_expect_leq(n, 1000);
	if (total_count(r) > 1000)
		cr_expect_eq(n, 1000);
	http_free(r);
}

Test(pagination, non_numbers_are_400)
{
	struct http_resp	*r;

	r = http_get("/urls?per_page=abc");
	expect_error(r, 400, NULL);
	http_free(r);
	r = http_get("/urls?page=abc&per_page=10");
	expect_error(r, 400, NULL);
	http_free(r);
	r = http_get("/events?page=2x");
	expect_error(r, 400, NULL);
	http_free(r);
	r = http_get("/users?per_page=1.5");
	expect_error(r, 400, NULL);
	http_free(r);
}

Test(pagination, after_id_is_keyset)
{
	struct http_resp	*r;
	struct owned		 o;
	json_t			*l;

	make_owned(&o);
	l = get_list("/urls?user_id=%lld&after_id=%lld", (long long)o.user_id,
	    (long long)o.ids[2]);
	expect_ids(l, o.ids + 3, NURLS - 3, "after_id");
	json_decref(l);

	r = get_page("/urls?user_id=%lld&after_id=%lld&per_page=2",
	    (long long)o.user_id, (long long)o.ids[2]);
	expect_ids(r->json, o.ids + 3, 2, "after_id + per_page");
	http_free(r);

	l = get_list("/urls?user_id=%lld&after_id=%lld", (long long)o.user_id,
	    (long long)o.ids[NURLS - 1]);
	cr_expect_eq(json_array_size(l), 0);
	json_decref(l);

	l = get_list("/urls?user_id=%lld&after_id=0", (long long)o.user_id);
	expect_ids(l, o.ids, NURLS, "after_id=0");
	json_decref(l);
}

Test(pagination, keyset_walks_a_global_list)
{
	struct http_resp	*r;
	json_int_t		 last;
	size_t			 i;

	r = get_page("/urls?per_page=20");
	if (json_array_size(r->json) == 0) {
		http_free(r);
		cr_skip_test("no URLs");
	}
	last = jint(json_array_get(r->json, json_array_size(r->json) - 1),
	    "id");
	http_free(r);
	r = get_page("/urls?per_page=20&after_id=%lld", (long long)last);
	expect_ascending_ids(r->json);
	for (i = 0; i < json_array_size(r->json); i++)
		cr_expect_gt(jint(json_array_get(r->json, i), "id"), last);
	http_free(r);
}

Test(pagination, filters_combine_with_pagination)
{
	struct http_resp	*r;
	struct owned		 o;
	json_int_t		 off[3], on[4];
	json_t			*l;
	int			 i, k = 0, m = 0;

	make_owned(&o);
	for (i = 0; i < NURLS; i++) {
		if (i % 2 == 1) {
			r = http_send("PUT", pathf("/urls/%lld",
			    (long long)o.ids[i]), "{\"is_active\":false}");
			cr_assert_eq(r->status, 200);
			http_free(r);
			off[k++] = o.ids[i];
		} else {
			on[m++] = o.ids[i];
		}
	}

	l = get_list("/urls?user_id=%lld&is_active=false",
	    (long long)o.user_id);
	expect_ids(l, off, 3, "is_active=false");
	json_decref(l);
	l = get_list("/urls?is_active=0&user_id=%lld", (long long)o.user_id);
	expect_ids(l, off, 3, "is_active=0");
	json_decref(l);
	l = get_list("/urls?user_id=%lld&is_active=true",
	    (long long)o.user_id);
	expect_ids(l, on, 4, "is_active=true");
	json_decref(l);
	l = get_list("/urls?user_id=%lld&is_active=1", (long long)o.user_id);
	expect_ids(l, on, 4, "is_active=1");
	json_decref(l);

	r = get_page("/urls?user_id=%lld&is_active=false&per_page=2&page=2",
	    (long long)o.user_id);
	expect_ids(r->json, off + 2, 1, "filtered page 2");
	cr_expect_eq(total_count(r), 3, "X-Total-Count counts the filtered "
	    "list");
	http_free(r);

	r = http_get("/urls?is_active=yes");
	expect_error(r, 400, NULL);
	http_free(r);
	r = http_get("/urls?user_id=abc");
	expect_error(r, 400, NULL);
	http_free(r);
}

Test(pagination, events_and_users_paginate_too)
{
	struct http_resp	*r;
	json_t			*user, *url, *l;
	json_int_t		 ids[5], uids[3];
	const char		*name = uniq("pager");
	int			 i;

	url = make_user_url(&user);
	for (i = 0; i < 4; i++) {
		r = http_sendf("POST", "/events", "{\"url_id\":%lld,\"user_id\":"
		    "%lld,\"event_type\":\"page%d\"}", (long long)jint(url, "id"),
		    (long long)jint(user, "id"), i);
		cr_assert_eq(r->status, 201);
		http_free(r);
	}
	l = get_list("/events?url_id=%lld", (long long)jint(url, "id"));
	cr_assert_eq(json_array_size(l), 5, "created + 4");
	for (i = 0; i < 5; i++)
		ids[i] = jint(json_array_get(l, (size_t)i), "id");
	json_decref(l);

	r = get_page("/events?url_id=%lld&per_page=2&page=3",
	    (long long)jint(url, "id"));
	expect_ids(r->json, ids + 4, 1, "events page 3");
	cr_expect_eq(total_count(r), 5);
	http_free(r);
	r = get_page("/events?url_id=%lld&per_page=2&after_id=%lld",
	    (long long)jint(url, "id"), (long long)ids[1]);
	expect_ids(r->json, ids + 2, 2, "events after_id");
	http_free(r);

	for (i = 0; i < 3; i++) {
		r = http_sendf("POST", "/users", "{\"username\":\"%s\","
		    "\"email\":\"%s\"}", name, uniq_email());
		cr_assert_eq(r->status, 201);
		uids[i] = jint(r->json, "id");
		http_free(r);
	}
	r = get_page("/users?username=%s&per_page=2&page=2", qenc(name));
	expect_ids(r->json, uids + 2, 1, "users page 2");
	cr_expect_eq(total_count(r), 3);
	cr_expect_not_null(link_target(http_header(r, "Link"), "prev"));
	http_free(r);
	json_decref(url);
	json_decref(user);
}
