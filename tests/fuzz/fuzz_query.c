/*
 * Query strings and pagination: any query string through query_parse(),
 * page_parse() and page_link_header(), as a list request does.
 *
 * Input: one byte of total, one that scales it and picks the deepest
 * offset a page number may reach, eight of last_id (the low bit: more
 * rows follow the page), then the query string (up to its first NUL).
 *
 * Properties: a parsed string yields at most QUERY_MAX_ARGS arguments,
 * each valid UTF-8 without NUL, lying in q->buf, and query_get() finds
 * the last value of each key; page, per_page and after_id are refused
 * exactly when they are not a number (an integer of any size is clamped,
 * never refused), and what comes back is in range; page_offset() cannot
 * overflow (UBSan would stop it); every link of the Link header parses
 * back into the same filters, in order, followed by the page (or
 * after_id) it promises and per_page; "next" is there exactly when more
 * rows follow, as the next page number while that page starts within the
 * offset bound and as after_id=last_id beyond it or in keyset mode;
 * "prev" exactly for a page number above 1, leading to the page before,
 * or back to the last real page (or the deepest reachable one);
 * query_unknown() names the first argument neither list knows;
 * query_int64() and query_bool() agree with strtoll(3) and the
 * documented words.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "core/query.h"
#include "core/validate.h"
#include "fuzz.h"

static const char	path[] = "/users";

static int	is_number(const char *);
static void	check_args(const struct query *, size_t);
static void	check_numbers(const char *);
static void	check_page(const struct query *, const struct page_req *);
static void	check_unknown(const struct query *);
static void	check_links(const struct query *, const struct page_req *,
		    const struct page_result *);
static int	check_link(const struct query *, const struct page_req *,
		    const char *, size_t, int64_t *, int *, int *);
static int	page_key(const char *);
static int	later(const struct query *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz		 f;
	struct query		 q;
	struct page_req		 p;
	struct page_result	 r;
	const char		*bad;
	char			*qs;
	uint64_t		 bits;
	uint8_t			 t, scale;
	size_t			 i;

	fz_init(&f, data, size);
	t = fz_u8(&f);
	scale = fz_u8(&f);
	r.total = (int64_t)t * (scale % 4 == 0 ? 1 : 997);
	switch ((scale >> 2) % 4) {
	case 0:
		r.offset_max = INT64_MAX;
		break;
	case 1:
		r.offset_max = 10000;
		break;
	default:
		r.offset_max = (int64_t)(scale >> 4) * 31;
		break;
	}
	bits = fz_u64(&f);
	r.last_id = (int64_t)(bits >> 1);
	r.has_more = (int)(bits & 1);
	qs = fz_cstr(f.p, f.n);

	if (query_parse(&q, qs) == -1) {
		query_free(&q);
		free(qs);
		return (0);
	}
	check_args(&q, strlen(qs));
	check_unknown(&q);
	for (i = 0; i < q.count; i++)
		check_numbers(q.args[i].value);

	if ((bad = page_parse(&q, &p)) != NULL) {
		CHECK(!strcmp(bad, "page") || !strcmp(bad, "per_page") ||
		    !strcmp(bad, "after_id"), "refused \"%s\"", bad);
		CHECK(!is_number(query_get(&q, bad)), "%s=%s is a number, "
		    "yet refused", bad, query_get(&q, bad));
	} else {
		check_page(&q, &p);
		check_links(&q, &p, &r);
	}

	query_free(&q);
	free(qs);
	return (0);
}

/* Optional '-', then at least one digit, nothing else. */
static int
is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (0);
	}
	return (1);
}

/* q->buf is a copy of the qs_len bytes of the query string. */
static void
check_args(const struct query *q, size_t qs_len)
{
	size_t		 i, j;
	const char	*last, *end = q->buf + qs_len;

	CHECK(q->count <= QUERY_MAX_ARGS, "%zu arguments", q->count);
	for (i = 0; i < q->count; i++) {
		const char *k = q->args[i].key, *v = q->args[i].value;

		CHECK(k >= q->buf && k + strlen(k) <= end && v >= q->buf &&
		    v + strlen(v) <= end, "argument %zu outside the buffer", i);
		CHECK(utf8_valid(k, strlen(k)) && utf8_valid(v, strlen(v)),
		    "argument %zu is not valid UTF-8", i);
		last = v;
		for (j = i + 1; j < q->count; j++) {
			if (!strcmp(q->args[j].key, k))
				last = q->args[j].value;
		}
		CHECK(query_get(q, k) == last, "query_get(\"%s\") is not the "
		    "last value", k);
	}
}

static void
check_numbers(const char *s)
{
	long long	 ref;
	int64_t		 v;
	int		 b, rc;
	char		*end;

	rc = query_int64(s, &v);
	if (!is_number(s)) {
		CHECK(rc == -1, "query_int64(\"%s\") accepted", s);
	} else {
		errno = 0;
		ref = strtoll(s, &end, 10);
		if (errno == ERANGE)
			CHECK(rc == -1, "query_int64(\"%s\") out of range", s);
		else
			CHECK(rc == 0 && v == ref, "query_int64(\"%s\") = %"
			    PRId64 ", strtoll %lld", s, v, ref);
	}

	rc = query_bool(s, &b);
	if (!strcasecmp(s, "true") || !strcmp(s, "1"))
		CHECK(rc == 0 && b == 1, "query_bool(\"%s\")", s);
	else if (!strcasecmp(s, "false") || !strcmp(s, "0"))
		CHECK(rc == 0 && b == 0, "query_bool(\"%s\")", s);
	else
		CHECK(rc == -1, "query_bool(\"%s\") accepted", s);
}

static void
check_page(const struct query *q, const struct page_req *p)
{
	CHECK(p->page >= 1 && p->page <= PAGE_MAX, "page %" PRId64, p->page);
	CHECK(p->per_page >= 1 && p->per_page <= PER_PAGE_MAX,
	    "per_page %" PRId64, p->per_page);
	CHECK(p->after_id >= 0, "after_id %" PRId64, p->after_id);
	CHECK(p->paginated == (query_get(q, "page") != NULL ||
	    query_get(q, "per_page") != NULL), "paginated %d", p->paginated);
	CHECK(p->has_after == (query_get(q, "after_id") != NULL),
	    "has_after %d", p->has_after);
	CHECK(page_limit(p) == (p->paginated ? p->per_page : -1), "limit");
	CHECK(page_offset(p) >= 0 && (p->paginated && !p->has_after ?
	    page_offset(p) == (p->page - 1) * p->per_page :
	    page_offset(p) == 0), "offset %" PRId64, page_offset(p));
}

/* The filters of /urls, as its route takes them, and the paging keys. */
static void
check_unknown(const struct query *q)
{
	static const char *const filters[] = { "user_id", "is_active",
	    "short_code", "q", NULL };
	const char	*got;
	size_t		 i;

	got = query_unknown(q, filters, page_params);
	for (i = 0; i < q->count; i++) {
		const char *k = q->args[i].key;

		if (page_key(k) || !strcmp(k, "user_id") ||
		    !strcmp(k, "is_active") || !strcmp(k, "short_code") ||
		    !strcmp(k, "q"))
			continue;
		CHECK(got == k, "query_unknown: \"%s\", want \"%s\"",
		    got != NULL ? got : "(null)", k);
		return;
	}
	CHECK(got == NULL, "query_unknown: \"%s\" of known keys", got);
	CHECK(query_unknown(q, NULL, NULL) == (q->count > 0 ?
	    q->args[0].key : NULL), "query_unknown without lists");
}

static void
check_links(const struct query *q, const struct page_req *p,
    const struct page_result *r)
{
	char		*links, *at;
	int64_t		 last_page, got;
	int		 rel, after, checked, have_next = 0, have_prev = 0;
	int		 by_page;
	size_t		 n;

	links = page_link_header(path, q, p, r);
	by_page = !p->has_after && p->page * p->per_page <= r->offset_max;
	last_page = r->total <= 0 ? 1 : (r->total - 1) / p->per_page + 1;
	if (last_page - 1 > r->offset_max / p->per_page)
		last_page = r->offset_max / p->per_page + 1;
	for (at = links; at != NULL && *at != '\0';) {
		n = strcspn(at, ",");
		while (at[n] == ',' && at[n + 1] != ' ')
			n += 1 + strcspn(at + n + 1, ",");
		checked = check_link(q, p, at, n, &got, &rel, &after);
		if (rel == 'n') {
			CHECK(!have_next, "two next links");
			have_next = 1;
			CHECK(!checked || (by_page ? !after && got ==
			    p->page + 1 : after && got == r->last_id),
			    "next leads to %s=%" PRId64, after ? "after_id" :
			    "page", got);
		} else {
			CHECK(!have_prev && !p->has_after, "a prev link");
			have_prev = 1;
			CHECK(!checked || (!after && got == (p->page - 1 <
			    last_page ? p->page - 1 : last_page)),
			    "prev leads to %" PRId64, got);
		}
		at += n;
		if (*at == ',')
			at += 2;
	}
	if (!p->paginated) {
		CHECK(links == NULL, "links for a whole list");
		return;
	}
	CHECK(have_next == r->has_more, "next %d: page %" PRId64 " per_page %"
	    PRId64 " total %" PRId64, have_next, p->page, p->per_page,
	    r->total);
	CHECK(have_prev == (!p->has_after && p->page > 1), "prev %d",
	    have_prev);
	CHECK((links != NULL) == (have_next || have_prev), "empty header");
	free(links);
}

static int
page_key(const char *k)
{
	return (!strcmp(k, "page") || !strcmp(k, "per_page") ||
	    !strcmp(k, "after_id"));
}

/* Does q give arg i's key again after it? */
static int
later(const struct query *q, size_t i)
{
	size_t	j;

	for (j = i + 1; j < q->count; j++) {
		if (!strcmp(q->args[j].key, q->args[i].key))
			return (1);
	}
	return (0);
}

/*
 * One `<path?query>; rel="next"` (len bytes at s): the query parses back
 * into q's other arguments, in order, each key once with the value the
 * list used (its last), then page or after_id (*got, *after), then
 * per_page.
 * Returns 0 (only *rel set) beyond the bound query.h documents.
 */
static int
check_link(const struct query *q, const struct page_req *p, const char *s,
    size_t len, int64_t *got, int *rel, int *after)
{
	struct query	 back;
	char		*text, *gt;
	size_t		 i, j;

	*after = 0;
	text = fz_cstr((const uint8_t *)s, len);
	CHECK(text[0] == '<', "link \"%.*s\"", (int)len, s);
	gt = strchr(text, '>');
	CHECK(gt != NULL && (!strcmp(gt, ">; rel=\"next\"") ||
	    !strcmp(gt, ">; rel=\"prev\"")), "link \"%s\"", text);
	*rel = gt[8];
	*gt = '\0';
	CHECK(!strncmp(text + 1, path, strlen(path)) &&
	    text[1 + strlen(path)] == '?', "link path \"%s\"", text);

	for (i = j = 0; i < q->count; i++) {
		if (!page_key(q->args[i].key) && !later(q, i))
			j++;
	}
	if (j > QUERY_MAX_ARGS - 2) {
		free(text);
		return (0);
	}
	CHECK(query_parse(&back, text + 2 + strlen(path)) == 0,
	    "link query \"%s\" does not parse", text);

	for (i = j = 0; i < q->count; i++) {
		const char *k = q->args[i].key;

		if (page_key(k) || later(q, i))
			continue;
		CHECK(j < back.count && !strcmp(back.args[j].key, k) &&
		    !strcmp(back.args[j].value, q->args[i].value),
		    "argument %zu (%s) lost in \"%s\"", i, k, text);
		j++;
	}
	CHECK(back.count == j + 2, "%zu arguments in \"%s\"", back.count,
	    text);
	*after = !strcmp(back.args[j].key, "after_id");
	CHECK((*after || !strcmp(back.args[j].key, "page")) &&
	    query_int64(back.args[j].value, got) == 0, "\"%s\"", text);
	CHECK(!strcmp(back.args[j + 1].key, "per_page") &&
	    atoll(back.args[j + 1].value) == p->per_page, "\"%s\"", text);
	query_free(&back);
	free(text);
	return (1);
}
