/*
 * Query string parsing, strict integers, pagination (clamping, overflow,
 * keyset) and the exact Link header strings clients will follow.
 */

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/query.h"

static void	parse_ok(struct query *q, const char *qs);
static void	page_ok(struct query *q, struct page_req *p, const char *qs);
static void	keyset_link_is(const char *, const char *, int64_t, int64_t,
		    int, const char *);
static void	link_is(const char *path, const char *qs, int64_t total,
		    int64_t last_id, const char *want);

/* ---------------------------------------------------------------- parse */

Test(query_parse, basic)
{
	struct query	q;

	parse_ok(&q, "a=1&b=two");
	cr_assert_eq(q.count, 2);
	cr_assert_str_eq(q.args[0].key, "a");
	cr_assert_str_eq(q.args[0].value, "1");
	cr_assert_str_eq(query_get(&q, "b"), "two");
	cr_assert_null(query_get(&q, "c"));
	cr_assert_null(query_get(&q, "A"));
	query_free(&q);
}

Test(query_parse, empty_and_null)
{
	struct query	q;

	parse_ok(&q, NULL);
	cr_assert_eq(q.count, 0);
	cr_assert_null(query_get(&q, "a"));
	query_free(&q);

	parse_ok(&q, "");
	cr_assert_eq(q.count, 0);
	query_free(&q);

	parse_ok(&q, "&&a=1&&");
	cr_assert_eq(q.count, 1);
	cr_assert_str_eq(query_get(&q, "a"), "1");
	query_free(&q);
}

Test(query_parse, last_value_wins)
{
	struct query	q;

	parse_ok(&q, "page=1&page=7");
	cr_assert_eq(q.count, 2);
	cr_assert_str_eq(query_get(&q, "page"), "7");
	query_free(&q);
}

Test(query_parse, flag_and_odd_equals)
{
	struct query	q;

	parse_ok(&q, "flag&k=&=v&x=a=b");
	cr_assert_eq(q.count, 4);
	cr_assert_str_eq(query_get(&q, "flag"), "");
	cr_assert_str_eq(query_get(&q, "k"), "");
	cr_assert_str_eq(query_get(&q, ""), "v");
	cr_assert_str_eq(query_get(&q, "x"), "a=b");
	query_free(&q);
}

Test(query_parse, percent_decoding)
{
	struct query	q;

	parse_ok(&q, "u=a%20b+c&e=x%40y.com&p=%2B1&%41%62=k&m=%c3%A9&amp=%26");
	cr_assert_str_eq(query_get(&q, "u"), "a b c");
	cr_assert_str_eq(query_get(&q, "e"), "x@y.com");
	cr_assert_str_eq(query_get(&q, "p"), "+1");
	cr_assert_str_eq(query_get(&q, "Ab"), "k");
	cr_assert_str_eq(query_get(&q, "m"), "\xc3\xa9");
	cr_assert_str_eq(query_get(&q, "amp"), "&");
	query_free(&q);
}

Test(query_parse, bad_escapes)
{
	static const char	*bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%4g", "a=%g4", "a=1%", "%=1",
		"a=%%41", "a=%00", "%00=1", "a=x%00y",
		"a=%ff", "a=%C3", "a=%ED%A0%80", "a=%C0%AF",
	};
	struct query		 q;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(query_parse(&q, bad[i]), -1, "%s accepted",
		    bad[i]);
		query_free(&q);
	}
}

Test(query_parse, too_many_args)
{
	struct query	q;
	char		buf[512];
	size_t		off, i;

	off = 0;
	for (i = 0; i < QUERY_MAX_ARGS; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%sk%zu=%zu", i ? "&" : "", i, i);

	parse_ok(&q, buf);
	cr_assert_eq(q.count, QUERY_MAX_ARGS);
	cr_assert_str_eq(query_get(&q, "k31"), "31");
	query_free(&q);

	(void)snprintf(buf + off, sizeof(buf) - off, "&one=more");
	cr_assert_eq(query_parse(&q, buf), -1);
	query_free(&q);
}

Test(query_parse, free_twice_is_safe)
{
	struct query	q;

	parse_ok(&q, "a=1");
	query_free(&q);
	query_free(&q);
	cr_assert_null(q.buf);
	cr_assert_eq(q.count, 0);
}

/* ----------------------------------------------------------- int, bool */

Test(query_int64, accepted)
{
	int64_t	v;

	cr_assert_eq(query_int64("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(query_int64("42", &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(query_int64("-42", &v), 0);
	cr_assert_eq(v, -42);
	cr_assert_eq(query_int64("007", &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(query_int64("9223372036854775807", &v), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(query_int64("-9223372036854775808", &v), 0);
	cr_assert_eq(v, INT64_MIN);
}

Test(query_int64, refused)
{
	static const char	*bad[] = {
		"", "-", "+1", " 1", "1 ", "1a", "a1", "0x10", "1.5", "1e3",
		"--1", "-+1", "1,000", "９",
		"9223372036854775808", "-9223372036854775809",
		"18446744073709551616", "99999999999999999999999",
	};
	int64_t			 v;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		cr_assert_eq(query_int64(bad[i], &v), -1, "\"%s\" accepted",
		    bad[i]);
		cr_assert_eq(v, 12345, "\"%s\" wrote *out", bad[i]);
	}
}

Test(query_bool, words)
{
	int	b;

	cr_assert_eq(query_bool("true", &b), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(query_bool("TRUE", &b), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(query_bool("1", &b), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(query_bool("False", &b), 0);
	cr_assert_eq(b, 0);
	cr_assert_eq(query_bool("0", &b), 0);
	cr_assert_eq(b, 0);
	cr_assert_eq(query_bool("", &b), -1);
	cr_assert_eq(query_bool("yes", &b), -1);
	cr_assert_eq(query_bool("t", &b), -1);
	cr_assert_eq(query_bool("truee", &b), -1);
	cr_assert_eq(query_bool("2", &b), -1);
	cr_assert_eq(query_bool("01", &b), -1);
	cr_assert_eq(query_bool(" true", &b), -1);
}

/* ----------------------------------------------------------- pagination */

Test(page, defaults_not_paginated)
{
	struct query	q;
	struct page_req	p;

	page_ok(&q, &p, "username=bob");
	cr_assert_eq(p.paginated, 0);
	cr_assert_eq(p.page, 1);
	cr_assert_eq(p.per_page, PER_PAGE_DEFAULT);
	cr_assert_eq(p.has_after, 0);
	cr_assert_eq(page_limit(&p), -1);
	cr_assert_eq(page_offset(&p), 0);
	query_free(&q);
}

Test(page, page_alone_or_per_page_alone)
{
	struct query	q;
	struct page_req	p;

	page_ok(&q, &p, "page=3");
	cr_assert(p.paginated);
	cr_assert_eq(p.page, 3);
	cr_assert_eq(page_limit(&p), 50);
	cr_assert_eq(page_offset(&p), 100);
	query_free(&q);

	page_ok(&q, &p, "per_page=10");
	cr_assert(p.paginated);
	cr_assert_eq(p.page, 1);
	cr_assert_eq(page_limit(&p), 10);
	cr_assert_eq(page_offset(&p), 0);
	query_free(&q);
}

Test(page, clamped)
{
	struct query	q;
	struct page_req	p;

	page_ok(&q, &p, "page=0&per_page=0");
	cr_assert_eq(p.page, 1);
	cr_assert_eq(p.per_page, 1);
	query_free(&q);

	page_ok(&q, &p, "page=-5&per_page=-1");
	cr_assert_eq(p.page, 1);
	cr_assert_eq(p.per_page, 1);
	query_free(&q);

	page_ok(&q, &p, "per_page=1000");
	cr_assert_eq(p.per_page, 1000);
	query_free(&q);

	page_ok(&q, &p, "per_page=1001");
	cr_assert_eq(p.per_page, PER_PAGE_MAX);
	query_free(&q);
}

Test(page, clamped_beyond_int64)
{
	struct query	q;
	struct page_req	p;

	page_ok(&q, &p, "page=99999999999999999999999&per_page=1"
	    "8446744073709551616");
	cr_assert_eq(p.page, PAGE_MAX);
	cr_assert_eq(p.per_page, PER_PAGE_MAX);
	/* The offset of the largest page must not wrap around. */
	cr_assert_gt(page_offset(&p), 0);
	cr_assert_eq(page_offset(&p), (PAGE_MAX - 1) * PER_PAGE_MAX);
	query_free(&q);

	page_ok(&q, &p, "page=-99999999999999999999999&per_page=-1"
	    "8446744073709551616");
	cr_assert_eq(p.page, 1);
	cr_assert_eq(p.per_page, 1);
	query_free(&q);
}

Test(page, non_numbers)
{
	static const struct {
		const char	*qs;
		const char	*name;
	} cases[] = {
		{ "page=abc", "page" },
		{ "page=", "page" },
		{ "page", "page" },
		{ "page=1.5", "page" },
		{ "page=%201", "page" },
		{ "per_page=ten", "per_page" },
		{ "per_page=+5", "per_page" },
		{ "page=2&per_page=0x10", "per_page" },
		{ "after_id=x", "after_id" },
		{ "after_id=", "after_id" },
		{ "after_id=1e3&per_page=5", "after_id" },
	};
	struct query		q;
	struct page_req		p;
	const char		*bad;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(query_parse(&q, cases[i].qs), 0);
		bad = page_parse(&q, &p);
		cr_assert_not_null(bad, "%s accepted", cases[i].qs);
		cr_assert_str_eq(bad, cases[i].name, "%s", cases[i].qs);
		query_free(&q);
	}
}

Test(page, keyset)
{
	struct query	q;
	struct page_req	p;

	/* after_id alone filters but does not paginate. */
	page_ok(&q, &p, "after_id=10");
	cr_assert(p.has_after);
	cr_assert_eq(p.after_id, 10);
	cr_assert_eq(p.paginated, 0);
	cr_assert_eq(page_limit(&p), -1);
	query_free(&q);

	page_ok(&q, &p, "after_id=10&per_page=20&page=4");
	cr_assert(p.paginated);
	cr_assert_eq(page_limit(&p), 20);
	cr_assert_eq(page_offset(&p), 0, "page must be ignored");
	query_free(&q);

	page_ok(&q, &p, "after_id=-3");
	cr_assert_eq(p.after_id, 0);
	query_free(&q);

	page_ok(&q, &p, "after_id=99999999999999999999");
	cr_assert_eq(p.after_id, INT64_MAX);
	query_free(&q);
}

/* ------------------------------------------------------------ Link header */

Test(link, middle_page)
{
	link_is("/users", "page=2&per_page=10", 35, 0,
	    "</users?page=3&per_page=10>; rel=\"next\", "
	    "</users?page=1&per_page=10>; rel=\"prev\"");
}

Test(link, first_and_last_page)
{
	link_is("/users", "page=1&per_page=10", 35, 0,
	    "</users?page=2&per_page=10>; rel=\"next\"");
	link_is("/users", "page=4&per_page=10", 35, 0,
	    "</users?page=3&per_page=10>; rel=\"prev\"");
	/* Exactly full: 20 rows, page 2 of 10 is the last one. */
	link_is("/users", "page=2&per_page=10", 20, 0,
	    "</users?page=1&per_page=10>; rel=\"prev\"");
	link_is("/users", "page=1&per_page=10", 11, 0,
	    "</users?page=2&per_page=10>; rel=\"next\"");
}

Test(link, default_per_page)
{
	link_is("/urls", "page=1", 120, 0,
	    "</urls?page=2&per_page=50>; rel=\"next\"");
}

Test(link, single_page_and_empty)
{
	link_is("/users", "page=1&per_page=10", 10, 0, NULL);
	link_is("/users", "page=1&per_page=10", 0, 0, NULL);
	link_is("/users", "per_page=10", 3, 0, NULL);
}

Test(link, beyond_the_end)
{
	/* prev leads back to the last page that has rows. */
	link_is("/users", "page=10&per_page=10", 35, 0,
	    "</users?page=4&per_page=10>; rel=\"prev\"");
	link_is("/users", "page=5&per_page=10", 0, 0,
	    "</users?page=1&per_page=10>; rel=\"prev\"");
}

Test(link, not_paginated)
{
	link_is("/users", "", 500, 0, NULL);
	link_is("/users", "username=bob", 500, 0, NULL);
	link_is("/users", "after_id=3", 500, 0, NULL);
}

Test(link, keeps_other_args_encoded)
{
	link_is("/users", "username=a+b&page=2&email=x%40y.com&per_page=1",
	    3, 0,
	    "</users?username=a%20b&email=x%40y.com&page=3&per_page=1>; "
	    "rel=\"next\", "
	    "</users?username=a%20b&email=x%40y.com&page=1&per_page=1>; "
	    "rel=\"prev\"");
	link_is("/events", "event_type=%C3%A9t%C3%A9&per_page=1&x=a%26b%3Dc",
	    2, 0,
	    "</events?event_type=%C3%A9t%C3%A9&x=a%26b%3Dc&page=2"
	    "&per_page=1>; rel=\"next\"");
	/* A repeated key once, with the value the list used. */
	link_is("/urls", "is_active=true&user_id=7&user_id=8&per_page=5",
	    6, 0,
	    "</urls?is_active=true&user_id=8&page=2&per_page=5>; "
	    "rel=\"next\"");
	link_is("/urls", "k=-._~&per_page=1", 2, 0,
	    "</urls?k=-._~&page=2&per_page=1>; rel=\"next\"");
}

/*
 * 31 repeats of a filter and per_page: 32 arguments, the most a query
 * may have. The link used to repeat all 31 and add page: 33, which the
 * service refuses when the client follows it.
 */
Test(link, repeated_key_keeps_link_followable)
{
	struct query		q, back;
	struct page_req		p;
	struct page_result	r = { 5, 0, 1, INT64_MAX };
	char			qs[512], *got, *link;
	size_t			i, n = 0;

	for (i = 0; i < 31; i++)
		n += (size_t)snprintf(qs + n, sizeof(qs) - n, "user_id=%zu&", i);
	snprintf(qs + n, sizeof(qs) - n, "per_page=1");
	page_ok(&q, &p, qs);
	got = page_link_header("/urls", &q, &p, &r);
	query_free(&q);
	cr_assert_not_null(got);
	cr_expect_str_eq(got, "</urls?user_id=30&page=2&per_page=1>; "
	    "rel=\"next\"");
	link = strndup(got + strlen("</urls?"), strcspn(got, ">") -
	    strlen("</urls?"));
	cr_expect_eq(query_parse(&back, link), 0, "%s", link);
	query_free(&back);
	free(link);
	free(got);
}

Test(link, keyset)
{
	/* A next page exactly when rows follow this one. */
	keyset_link_is("/urls", "after_id=100&per_page=10", 500, 120, 1,
	    "</urls?after_id=120&per_page=10>; rel=\"next\"");
	keyset_link_is("/urls", "after_id=100&per_page=10", 500, 120, 0, NULL);
	keyset_link_is("/urls", "after_id=100&per_page=10", 0, 0, 0, NULL);
	keyset_link_is("/urls", "user_id=3&page=9&after_id=100&per_page=2", 5,
	    104, 1,
	    "</urls?user_id=3&after_id=104&per_page=2>; rel=\"next\"");
}

Test(link, deep_pages_turn_into_keyset)
{
	/*
	 * offset_max 100 (keyset_link_is): page 10 of 10 starts at 90, page
	 * 11 would start at 100, still served; page 12 at 110 is not, so the
	 * link from page 11 continues with after_id.
	 */
	keyset_link_is("/urls", "page=10&per_page=10", 500, 95, 1,
	    "</urls?page=11&per_page=10>; rel=\"next\", "
	    "</urls?page=9&per_page=10>; rel=\"prev\"");
	keyset_link_is("/urls", "page=11&per_page=10", 500, 107, 1,
	    "</urls?after_id=107&per_page=10>; rel=\"next\", "
	    "</urls?page=10&per_page=10>; rel=\"prev\"");
	/* Beyond the end of a long list: prev is the deepest page served. */
	keyset_link_is("/urls", "page=90&per_page=10", 500, 0, 0,
	    "</urls?page=11&per_page=10>; rel=\"prev\"");
	/* The last page: no next, whatever the total says. */
	keyset_link_is("/urls", "page=11&per_page=10", 500, 107, 0,
	    "</urls?page=10&per_page=10>; rel=\"prev\"");
}

/* --------------------------------------------------------- query_unknown */

Test(query_unknown, names_the_first_unknown)
{
	static const char *const filters[] = { "user_id", "is_active", NULL };
	struct query	q;

	parse_ok(&q, "user_id=3&page=2&per_page=5&after_id=1&is_active=1");
	cr_assert_null(query_unknown(&q, filters, page_params));
	query_free(&q);

	parse_ok(&q, "user_id=3&userid=4&zzz=1");
	cr_assert_str_eq(query_unknown(&q, filters, page_params), "userid");
	query_free(&q);

	/* A list without filters, and a route that takes nothing. */
	parse_ok(&q, "page=1&user_id=3");
	cr_assert_str_eq(query_unknown(&q, NULL, page_params), "user_id");
	cr_assert_str_eq(query_unknown(&q, NULL, NULL), "page");
	query_free(&q);

	/* Keys are exact: no case folding, no prefix match. */
	parse_ok(&q, "User_id=3");
	cr_assert_str_eq(query_unknown(&q, filters, NULL), "User_id");
	query_free(&q);
	parse_ok(&q, "");
	cr_assert_null(query_unknown(&q, NULL, NULL));
	query_free(&q);
}

/* ------------------------------------------------------------- helpers */

static void
keyset_link_is(const char *path, const char *qs, int64_t total,
    int64_t last_id, int has_more, const char *want)
{
	struct query		q;
	struct page_req		p;
	struct page_result	r;
	char			*got;

	page_ok(&q, &p, qs);
	r.total = total;
	r.last_id = last_id;
	r.has_more = has_more;
	r.offset_max = 100;
	got = page_link_header(path, &q, &p, &r);
	query_free(&q);

	if (want == NULL) {
		cr_assert_null(got, "%s: unexpected \"%s\"", qs, got);
		return;
	}
	cr_assert_not_null(got, "%s: no Link header", qs);
	cr_expect_str_eq(got, want, "%s", qs);
	free(got);
}

static void
parse_ok(struct query *q, const char *qs)
{
	cr_assert_eq(query_parse(q, qs), 0, "query_parse(\"%s\") failed",
	    qs ? qs : "(null)");
}

static void
page_ok(struct query *q, struct page_req *p, const char *qs)
{
	const char	*bad;

	parse_ok(q, qs);
	bad = page_parse(q, p);
	cr_assert_null(bad, "page_parse(\"%s\") refused %s", qs, bad);
}

static void
link_is(const char *path, const char *qs, int64_t total, int64_t last_id,
    const char *want)
{
	struct query		q;
	struct page_req		p;
	struct page_result	r;
	char			*got;

	page_ok(&q, &p, qs);
	r.total = total;
	r.last_id = last_id;
	r.has_more = p.paginated && p.page * p.per_page < total;
	r.offset_max = INT64_MAX;
	got = page_link_header(path, &q, &p, &r);
	query_free(&q);

	if (want == NULL) {
		cr_assert_null(got, "%s: unexpected \"%s\"", qs, got);
		return;
	}
	cr_assert_not_null(got, "%s: no Link header", qs);
	cr_expect_str_eq(got, want, "%s", qs);
	free(got);
}
