/*
 * The click pipeline: every redirect queues a click whose User-Agent and
 * Referer are the client's headers (cleaned by text_clean()), and the
 * click writer sends a batch to PostgreSQL as one array literal per
 * column (clicks_arrays()). A literal that does not read back as the
 * same values is a batch PostgreSQL refuses, retried forever, or a click
 * stored with someone else's text.
 *
 * Input: a queue capacity, then a program of pushes (ids, time, code,
 * headers of arbitrary bytes, or none) and takes.
 *
 * Properties: the queue is a bounded FIFO, as a model of it says: takes
 * return the oldest clicks in order, a push to a full queue is dropped
 * and counted; every batch's seven per-click literals parse back, with
 * PostgreSQL's array syntax, into exactly the batch's values (NULL for a
 * missing header, numbers to the digit, text with its quotes and
 * backslashes, the bot flag); the aggregates sent with them are what a
 * model computes from the batch: one hourly row per URL and UTC hour
 * (floor, negative times included), sorted, with its clicks, bot clicks
 * and latest click; one facet row per URL, UTC day, Referer host and
 * class of the people's clicks (bots left out), with its clicks; the
 * totals add up to the batch.
 */

#include <inttypes.h>
#include <string.h>

#include "core/clickqueue.h"
#include "core/text.h"
#include "core/uaclass.h"
#include "fuzz.h"

#define MODEL	64

static void	check_batch(const struct click *, size_t,
		    const struct click_arrays *);
static const char *element(const char *, char *, size_t, int *);
static size_t	parse_column(const char *, char **, size_t);
static void	check_aggregates(const struct click *, size_t,
		    const struct click_arrays *);
static int64_t	floor_of(int64_t, int64_t);

#define HOUR_US	INT64_C(3600000000)
#define DAY_US	INT64_C(86400000000)
#define MAXROWS	16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz		 f;
	struct clickq		 q;
	struct click		 c, batch[16];
	struct click_arrays	 a;
	char			*ua, *ref, *code;
	int64_t			 model[MODEL];
	size_t			 cap, head = 0, len = 0, n, i, steps;
	uint64_t		 dropped = 0;

	fz_init(&f, data, size);
	cap = 1 + fz_range(&f, 15);
	clickq_init(&q, cap);
	memset(&a, 0, sizeof(a));
	for (steps = 0; steps < 200 && f.n > 0; steps++) {
		if (fz_u8(&f) % 3 != 0) {
			c.url_id = (int64_t)fz_u64(&f);
			c.user_id = (int64_t)fz_u64(&f);
			c.at_us = (int64_t)fz_u64(&f);
			code = fz_str(&f, 32);
			c.short_code = text_clean(code, 32);
			free(code);
			ua = fz_str(&f, 300);
			ref = fz_str(&f, 100);
			c.user_agent = fz_u8(&f) % 4 ? text_clean(ua, 512) :
			    NULL;
			c.referer = fz_u8(&f) % 2 ? text_clean(ref, 512) : NULL;
			/* What the writer's ua_cache_classify() would say. */
			c.cls.bot = fz_u8(&f) % 2;
			c.cls.browser = fz_u8(&f) % UA_BROWSER_COUNT;
			c.cls.os = fz_u8(&f) % UA_OS_COUNT;
			c.cls.device = fz_u8(&f) % UA_DEVICE_COUNT;
			free(ua);
			free(ref);
			if (len == cap) {
				CHECK(clickq_push(&q, &c) == -1, "a push to a "
				    "full queue was kept");
				dropped++;
			} else {
				model[(head + len) % MODEL] = c.url_id;
				len++;
				CHECK(clickq_push(&q, &c) == 0, "a push to a "
				    "queue of %zu/%zu was dropped", len - 1, cap);
			}
			CHECK(q.dropped == dropped, "dropped %" PRIu64 ", not %"
			    PRIu64, q.dropped, dropped);
			continue;
		}
		n = clickq_take(&q, batch, 1 + fz_range(&f, 15));
		CHECK(n == (len < n ? len : n) && n <= len, "took %zu of %zu",
		    n, len);
		for (i = 0; i < n; i++) {
			CHECK(batch[i].url_id == model[(head + i) % MODEL],
			    "click %zu out of order", i);
		}
		head = (head + n) % MODEL;
		len -= n;
		clicks_arrays(batch, n, &a);
		check_batch(batch, n, &a);
		check_aggregates(batch, n, &a);
		for (i = 0; i < n; i++)
			click_release(&batch[i]);
	}
	CHECK(q.len == len, "queue holds %zu, model %zu", q.len, len);
	clicks_arrays_free(&a);
	clickq_free(&q);
	return (0);
}

/* Each column's literal reads back into the batch's values. */
static void
check_batch(const struct click *b, size_t n, const struct click_arrays *a)
{
	char		 val[2048], want[32];
	const char	*p;
	const char	*text;
	size_t		 col, i;
	int		 null;

	for (col = 0; col < CLICK_ROW_COLUMNS; col++) {
		p = a->col[col];
		CHECK(*p == '{', "column %zu: \"%s\"", col, p);
		p++;
		for (i = 0; i < n; i++) {
			if (i > 0) {
				CHECK(*p == ',', "column %zu: no ',' at \"%s\"",
				    col, p);
				p++;
			}
			p = element(p, val, sizeof(val), &null);
			if (col < 3) {
				snprintf(want, sizeof(want), "%" PRId64,
				    col == 0 ? b[i].url_id : col == 1 ?
				    b[i].user_id : b[i].at_us);
				CHECK(!null && !strcmp(val, want), "column %zu "
				    "row %zu: %s, not %s", col, i, val, want);
				continue;
			}
			if (col == 6) {
				CHECK(!null && !strcmp(val, b[i].cls.bot ? "t" :
				    "f"), "row %zu: bot \"%s\"", i, val);
				continue;
			}
			text = col == 3 ? b[i].short_code : col == 4 ?
			    b[i].user_agent : b[i].referer;
			CHECK(text == NULL ? null : !null && !strcmp(val, text),
			    "column %zu row %zu: \"%s\" for \"%s\"", col, i,
			    null ? "NULL" : val, text != NULL ? text : "NULL");
		}
		CHECK(!strcmp(p, "}"), "column %zu ends with \"%s\"", col, p);
	}
}

/* floor(a / b) for b > 0, written apart from the code under test. */
static int64_t
floor_of(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	if (a % b < 0)
		q--;
	return (q);
}

/* The elements of one literal, each a malloc'd string ("NULL" for NULL). */
static size_t
parse_column(const char *p, char **out, size_t max)
{
	char	val[2048];
	size_t	n = 0;
	int	null;

	CHECK(*p == '{', "aggregate column \"%s\"", p);
	p++;
	while (*p != '}') {
		if (n > 0) {
			CHECK(*p == ',', "no ',' at \"%s\"", p);
			p++;
		}
		CHECK(n < max, "more aggregate rows than clicks");
		p = element(p, val, sizeof(val), &null);
		if ((out[n++] = strdup(null ? "NULL" : val)) == NULL)
			abort();
	}
	CHECK(p[1] == '\0', "aggregate column ends with \"%s\"", p);
	return (n);
}

static void
check_aggregates(const struct click *b, size_t n,
    const struct click_arrays *a)
{
	char		*v[CLICK_COLUMNS][MAXROWS], want[64];
	char		 host[MAXROWS][REFERER_HOST_MAX + 1];
	size_t		 rows[CLICK_COLUMNS], col, r, i;
	int64_t		 url, hour, day, clicks, bots, last, sum = 0, people = 0;
	int64_t		 purl = 0, phour = 0;

	for (col = CLICK_ROW_COLUMNS; col < CLICK_COLUMNS; col++)
		rows[col] = parse_column(a->col[col], v[col], MAXROWS);
	for (col = 7; col <= 11; col++)
		CHECK(rows[col] == a->hourly, "hourly column %zu: %zu rows, "
		    "%zu sent", col, rows[col], a->hourly);
	for (col = 12; col <= 18; col++)
		CHECK(rows[col] == a->facets, "facet column %zu: %zu rows, "
		    "%zu sent", col, rows[col], a->facets);

	for (r = 0; r < a->hourly; r++) {
		url = strtoll(v[7][r], NULL, 10);
		hour = strtoll(v[8][r], NULL, 10);
		CHECK(r == 0 || url > purl || (url == purl && hour > phour),
		    "hourly rows out of order at %zu", r);
		purl = url;
		phour = hour;
		clicks = bots = 0;
		last = INT64_MIN;
		for (i = 0; i < n; i++) {
			if (b[i].url_id != url ||
			    floor_of(b[i].at_us, HOUR_US) * 3600 != hour)
				continue;
			clicks++;
			bots += b[i].cls.bot;
			if (b[i].at_us > last)
				last = b[i].at_us;
		}
		CHECK(clicks > 0, "an hourly row (%s, %s) of no click",
		    v[7][r], v[8][r]);
		snprintf(want, sizeof(want), "%" PRId64, clicks);
		CHECK(!strcmp(v[9][r], want), "hourly clicks %s, not %s",
		    v[9][r], want);
		snprintf(want, sizeof(want), "%" PRId64, bots);
		CHECK(!strcmp(v[10][r], want), "hourly bots %s, not %s",
		    v[10][r], want);
		snprintf(want, sizeof(want), "%" PRId64, last);
		CHECK(!strcmp(v[11][r], want), "hourly last %s, not %s",
		    v[11][r], want);
		sum += clicks;
	}
	CHECK(sum == (int64_t)n, "hourly rows hold %" PRId64 " of %zu clicks",
	    sum, n);

	for (i = 0; i < n; i++)
		referer_host(b[i].referer, host[i]);
	sum = 0;
	for (r = 0; r < a->facets; r++) {
		url = strtoll(v[12][r], NULL, 10);
		day = strtoll(v[13][r], NULL, 10);
		clicks = 0;
		for (i = 0; i < n; i++) {
			if (b[i].cls.bot || b[i].url_id != url ||
			    floor_of(b[i].at_us, DAY_US) != day ||
			    strcmp(host[i], v[14][r]) != 0 ||
			    strcmp(ua_browser_name(b[i].cls.browser), v[15][r]) ||
			    strcmp(ua_os_name(b[i].cls.os), v[16][r]) ||
			    strcmp(ua_device_name(b[i].cls.device), v[17][r]))
				continue;
			clicks++;
		}
		snprintf(want, sizeof(want), "%" PRId64, clicks);
		CHECK(clicks > 0 && !strcmp(v[18][r], want), "facet row %zu: "
		    "%s clicks, the batch has %s", r, v[18][r], want);
		for (i = 0; i < r; i++) {
			CHECK(strcmp(v[12][i], v[12][r]) ||
			    strcmp(v[13][i], v[13][r]) ||
			    strcmp(v[14][i], v[14][r]) ||
			    strcmp(v[15][i], v[15][r]) ||
			    strcmp(v[16][i], v[16][r]) ||
			    strcmp(v[17][i], v[17][r]), "facet rows %zu and %zu "
			    "share a key", i, r);
		}
		sum += clicks;
	}
	for (i = 0; i < n; i++)
		people += !b[i].cls.bot;
	CHECK(sum == people, "facet rows hold %" PRId64 " of %" PRId64
	    " people's clicks", sum, people);

	for (col = CLICK_ROW_COLUMNS; col < CLICK_COLUMNS; col++) {
		for (r = 0; r < rows[col]; r++)
			free(v[col][r]);
	}
}

/*
 * One element of a PostgreSQL array literal: a quoted string (a
 * backslash escapes the next character), NULL, or an unquoted token.
 */
static const char *
element(const char *p, char *out, size_t len, int *null)
{
	size_t	o = 0;

	*null = 0;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			CHECK(*p != '\0' && o < len - 1, "unterminated "
			    "element");
			if (*p == '\\')
				p++;
			CHECK(*p != '\0', "a backslash at the end");
			out[o++] = *p;
		}
		out[o] = '\0';
		return (p + 1);
	}
	while (*p != ',' && *p != '}' && *p != '\0') {
		CHECK(*p != '"' && *p != '\\' && *p != ' ' && o < len - 1,
		    "bad unquoted element");
		out[o++] = *p++;
	}
	out[o] = '\0';
	CHECK(o > 0, "empty element");
	*null = !strcmp(out, "NULL");
	return (p);
}
