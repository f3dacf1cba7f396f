/*
 * A ring buffer of clicks. Clicks own their strings; whoever holds a
 * click (the queue, then a batch) releases it.
 */

#include <stdlib.h>
#include <string.h>

#include "core/clickqueue.h"
#include "core/numfmt.h"
#include "core/xalloc.h"

struct strbuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/*
 * One click's share of an aggregate row, before equal keys are added up:
 * an hourly row (url, hour) or a facet row (url, day and the click's
 * Referer host and families).
 */
struct agg_row {
	int64_t		 url_id;
	int64_t		 bucket;	/* hour start (s) or day number */
	const char	*ref;		/* facet rows; NULL in hourly rows */
	uint8_t		 browser, os, device;
	int64_t		 clicks;
	int64_t		 bots;
	int64_t		 last_us;	/* hourly: the latest click */
};

/* A click's place in the batch's packs: its link and month, then order. */
struct pack_key {
	int64_t		 url_id;
	int64_t		 user_id;
	const char	*short_code;
	int32_t		 month;		/* UTC: year * 12 + month - 1 */
	uint32_t	 i;		/* its place in the batch */
};

/* The one column that is not an array literal: the packs' JSON texts. */
#define PACK_TEXT	(CLICK_PACK_COLUMNS - 1)

#define HOUR_US		INT64_C(3600000000)
#define DAY_US		INT64_C(86400000000)

static void	array_int(struct strbuf *, int64_t);
static void	array_element(struct strbuf *, const char *);
static void	strbuf_init(struct strbuf *, char *, size_t, size_t);
static void	strbuf_reserve(struct strbuf *, size_t);
static void	strbuf_add(struct strbuf *, const char *, size_t);
static char	*strbuf_take(struct strbuf *);
static void	packs(const struct click *, size_t, struct click_arrays *,
		    struct strbuf *);
static void	pack_clicks(struct strbuf *, const struct click *,
		    const struct pack_key *, size_t);
static int	pack_cmp(const void *, const void *);
static int	pack_same(const struct pack_key *, const struct pack_key *);
static int32_t	utc_month(int64_t);
static void	json_string(struct strbuf *, const char *);
static void	aggregate(const struct click *, size_t, struct click_arrays *,
		    struct strbuf *);
static size_t	agg_merge(struct agg_row *, size_t);
static int	agg_cmp(const void *, const void *);
static int64_t	floor_div(int64_t, int64_t);

void
clickq_init(struct clickq *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->ring = xreallocarray(NULL, cap, sizeof(*q->ring));
	q->cap = cap;
}

void
clickq_free(struct clickq *q)
{
	struct click	c;

	while (clickq_take(q, &c, 1) == 1)
		click_release(&c);
	free(q->ring);
	memset(q, 0, sizeof(*q));
}

int
clickq_push(struct clickq *q, struct click *c)
{
	if (q->len == q->cap) {
		q->dropped++;
		click_release(c);
		return (-1);
	}

	q->ring[(q->head + q->len) % q->cap] = *c;
	q->len++;
	return (0);
}

size_t
clickq_take(struct clickq *q, struct click *out, size_t max)
{
	size_t	n;

	for (n = 0; n < max && q->len > 0; n++) {
		out[n] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}

	return (n);
}

void
click_release(struct click *c)
{
	free(c->short_code);
	free(c->user_agent);
	free(c->referer);
	c->short_code = c->user_agent = c->referer = NULL;
}

/*
 * Array literals and one plain text instead of a JSON document: the batch
 * is built inside the worker's event loop, where a thousand rows through
 * a JSON library cost milliseconds of stalled requests; this is a sort
 * and one pass of memcpy.
 */
void
clicks_arrays(const struct click *clicks, size_t n, struct click_arrays *a)
{
	struct strbuf	b[CLICK_COLUMNS];
	int		col;

	for (col = 0; col < CLICK_COLUMNS; col++) {
		strbuf_init(&b[col], a->col[col], a->cap[col], 64 + n * 24);
		if (col != PACK_TEXT)
			strbuf_add(&b[col], "{", 1);
	}
	packs(clicks, n, a, b);
	aggregate(clicks, n, a, b);
	for (col = 0; col < CLICK_COLUMNS; col++) {
		if (col != PACK_TEXT)
			strbuf_add(&b[col], "}", 1);
		a->col[col] = strbuf_take(&b[col]);
		a->cap[col] = b[col].cap;
	}
}

void
clicks_arrays_free(struct click_arrays *a)
{
	int	col;

	for (col = 0; col < CLICK_COLUMNS; col++)
		free(a->col[col]);
	free(a->rows);
	free(a->keys);
	free(a->hosts);
	memset(a, 0, sizeof(*a));
}

/*
 * Columns 0-5: the clicks sorted by link, month and arrival, each run of
 * equal keys cut into packs of CLICK_PACK_MAX at most. Packs go out in
 * key order; a pack's clicks in the order they came.
 */
static void
packs(const struct click *clicks, size_t n, struct click_arrays *a,
    struct strbuf *b)
{
	struct pack_key	*k;
	size_t		 i, start, len;

	a->packs = 0;
	if (n == 0)
		return;
	if (n > a->keys_cap) {
		a->keys_cap = n;
		a->keys = xreallocarray(a->keys, n, sizeof(*a->keys));
	}
	k = a->keys;
	for (i = 0; i < n; i++) {
		k[i].url_id = clicks[i].url_id;
		k[i].user_id = clicks[i].user_id;
		k[i].short_code = clicks[i].short_code;
		k[i].month = utc_month(clicks[i].at_us);
		k[i].i = (uint32_t)i;
	}
	qsort(k, n, sizeof(*k), pack_cmp);

	for (start = 0; start < n; start += len) {
		for (len = 1; start + len < n && len < CLICK_PACK_MAX &&
		    pack_same(&k[start], &k[start + len]); len++)
			;
		if (a->packs > 0) {
			for (i = 0; i < PACK_TEXT; i++)
				strbuf_add(&b[i], ",", 1);
			strbuf_add(&b[PACK_TEXT], (char []){ CLICK_PACK_SEP }, 1);
		}
		array_int(&b[0], k[start].url_id);
		array_int(&b[1], k[start].user_id);
		array_element(&b[2], k[start].short_code);
		array_int(&b[3], (int64_t)len);
		array_int(&b[4], clicks[k[start].i].at_us);
		pack_clicks(&b[PACK_TEXT], clicks, &k[start], len);
		a->packs++;
	}
}

/* [[at_us - first,"User-Agent","Referer",bot],...] */
static void
pack_clicks(struct strbuf *b, const struct click *clicks,
    const struct pack_key *k, size_t len)
{
	const struct click	*c;
	int64_t			 first = clicks[k[0].i].at_us;
	size_t			 i;

	strbuf_add(b, "[", 1);
	for (i = 0; i < len; i++) {
		c = &clicks[k[i].i];
		strbuf_add(b, i > 0 ? ",[" : "[", i > 0 ? 2 : 1);
		array_int(b, c->at_us - first);
		strbuf_add(b, ",", 1);
		json_string(b, c->user_agent);
		strbuf_add(b, ",", 1);
		json_string(b, c->referer);
		if (c->cls.bot)
			strbuf_add(b, ",true]", 6);
		else
			strbuf_add(b, ",false]", 7);
	}
	strbuf_add(b, "]", 1);
}

/*
 * The hourly and facet rows of the batch, into columns 6-17 (opened with
 * "{" by the caller, closed by it). One scratch row per click for each,
 * sorted and added up: a few thousand rows, well under a millisecond.
 */
static void
aggregate(const struct click *clicks, size_t n, struct click_arrays *a,
    struct strbuf *b)
{
	struct agg_row	*r;
	size_t		 i, nh, nf, k;

	if (n > a->rows_cap) {
		a->rows_cap = n;
		a->rows = xreallocarray(a->rows, a->rows_cap, sizeof(*a->rows));
	}
	if (n > a->hosts_cap) {
		a->hosts_cap = n;
		a->hosts = xreallocarray(a->hosts, n, REFERER_HOST_MAX + 1);
	}

	r = a->rows;
	for (i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].url_id = clicks[i].url_id;
		r[i].bucket = floor_div(clicks[i].at_us, HOUR_US) * 3600;
		r[i].clicks = 1;
		r[i].bots = clicks[i].cls.bot;
		r[i].last_us = clicks[i].at_us;
	}
	nh = agg_merge(r, n);
	for (i = 0; i < nh; i++) {
		for (k = 6; k <= 10; k++) {
			if (i > 0)
				strbuf_add(&b[k], ",", 1);
		}
		array_int(&b[6], r[i].url_id);
		array_int(&b[7], r[i].bucket);
		array_int(&b[8], r[i].clicks);
		array_int(&b[9], r[i].bots);
		array_int(&b[10], r[i].last_us);
	}

	nf = 0;
	for (i = 0; i < n; i++) {
		const struct click	*c = &clicks[i];
		char			*host;

		if (c->cls.bot)
			continue;
		host = a->hosts + i * (REFERER_HOST_MAX + 1);
		referer_host(c->referer, host);
		memset(&r[nf], 0, sizeof(r[nf]));
		r[nf].url_id = c->url_id;
		r[nf].bucket = floor_div(c->at_us, DAY_US);
		r[nf].ref = host;
		r[nf].browser = c->cls.browser;
		r[nf].os = c->cls.os;
		r[nf].device = c->cls.device;
		r[nf].clicks = 1;
		nf++;
	}
	nf = agg_merge(r, nf);
	for (i = 0; i < nf; i++) {
		for (k = 11; k <= 17; k++) {
			if (i > 0)
				strbuf_add(&b[k], ",", 1);
		}
		array_int(&b[11], r[i].url_id);
		array_int(&b[12], r[i].bucket);
		array_element(&b[13], r[i].ref);
		array_element(&b[14], ua_browser_name(r[i].browser));
		array_element(&b[15], ua_os_name(r[i].os));
		array_element(&b[16], ua_device_name(r[i].device));
		array_int(&b[17], r[i].clicks);
	}
	a->hourly = nh;
	a->facets = nf;
}

/* Sorts rows and adds up equal keys in place; returns the distinct ones. */
static size_t
agg_merge(struct agg_row *r, size_t n)
{
	size_t	i, out;

	if (n == 0)
		return (0);
	qsort(r, n, sizeof(*r), agg_cmp);
	out = 0;
	for (i = 1; i < n; i++) {
		if (agg_cmp(&r[out], &r[i]) == 0) {
			r[out].clicks += r[i].clicks;
			r[out].bots += r[i].bots;
			if (r[i].last_us > r[out].last_us)
				r[out].last_us = r[i].last_us;
		} else {
			r[++out] = r[i];
		}
	}
	return (out + 1);
}

/* The order of the tables' primary keys. */
static int
agg_cmp(const void *pa, const void *pb)
{
	const struct agg_row	*a = pa, *b = pb;
	int			 c;

	if (a->url_id != b->url_id)
		return (a->url_id < b->url_id ? -1 : 1);
	if (a->bucket != b->bucket)
		return (a->bucket < b->bucket ? -1 : 1);
	if (a->ref == NULL || b->ref == NULL)
		return (0);
	if ((c = strcmp(a->ref, b->ref)) != 0)
		return (c);
	if (a->browser != b->browser)
		return (a->browser < b->browser ? -1 : 1);
	if (a->os != b->os)
		return (a->os < b->os ? -1 : 1);
	return (a->device < b->device ? -1 : a->device > b->device);
}

/* The order of packs: link, month, then arrival. */
static int
pack_cmp(const void *pa, const void *pb)
{
	const struct pack_key	*a = pa, *b = pb;

	if (pack_same(a, b))
		return (a->i < b->i ? -1 : a->i > b->i);
	if (a->url_id != b->url_id)
		return (a->url_id < b->url_id ? -1 : 1);
	if (a->user_id != b->user_id)
		return (a->user_id < b->user_id ? -1 : 1);
	if (a->month != b->month)
		return (a->month < b->month ? -1 : 1);
	return (strcmp(a->short_code, b->short_code));
}

/* 1 when two clicks may share a pack. */
static int
pack_same(const struct pack_key *a, const struct pack_key *b)
{
	return (a->url_id == b->url_id && a->user_id == b->user_id &&
	    a->month == b->month && strcmp(a->short_code, b->short_code) == 0);
}

/* year * 12 + month - 1 of a UTC time (H. Hinnant's civil_from_days). */
static int32_t
utc_month(int64_t at_us)
{
	int64_t	z, era, doe, yoe, doy, mp, y, m;

	z = floor_div(at_us, DAY_US) + 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	return ((int32_t)(y * 12 + m - 1));
}

/* A JSON string of clean text (core/text.h): '"' and '\\' escaped. */
static void
json_string(struct strbuf *b, const char *s)
{
	char	*p;

	if (s == NULL) {
		strbuf_add(b, "null", 4);
		return;
	}
	strbuf_reserve(b, 2 * strlen(s) + 2);
	p = b->data + b->len;
	*p++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	b->len = (size_t)(p - b->data);
}

/* Division rounding towards minus infinity (times before 1970). */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	return ((a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q);
}

/* Decimal, without snprintf: a third of the batch's cost was printf. */
static void
array_int(struct strbuf *b, int64_t v)
{
	strbuf_reserve(b, NUMFMT_INT64_MAX + 1);
	b->len += numfmt_int64(b->data + b->len, v);
}

/* A quoted element: only '"' and '\\' need a backslash; NULL is NULL. */
static void
array_element(struct strbuf *b, const char *s)
{
	char	*p;
	size_t	 len;

	if (s == NULL) {
		strbuf_add(b, "NULL", 4);
		return;
	}

	len = strlen(s);
	strbuf_reserve(b, 2 * len + 2);
	p = b->data + b->len;
	*p++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	b->len = (size_t)(p - b->data);
}

/* Starts empty in buf (of cap bytes) when there is one, else allocates. */
static void
strbuf_init(struct strbuf *b, char *buf, size_t cap, size_t want)
{
	if (buf == NULL) {
		buf = xmalloc(want);
		cap = want;
	}
	b->data = buf;
	b->cap = cap;
	b->len = 0;
}

/* Room for n more bytes and the final NUL. */
static void
strbuf_reserve(struct strbuf *b, size_t n)
{
	while (b->len + n + 1 > b->cap) {
		b->cap *= 2;
		b->data = xreallocarray(b->data, b->cap, 1);
	}
}

static void
strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	strbuf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static char *
strbuf_take(struct strbuf *b)
{
	b->data[b->len] = '\0';
	return (b->data);
}
