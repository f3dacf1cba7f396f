/*
 * The click pipeline: every redirect queues a click whose User-Agent and
 * Referer are the client's headers (cleaned by text_clean()), and the
 * click writer sends a batch to PostgreSQL as array literals and one text
 * of JSON packs (clicks_arrays()). A literal or pack that does not read
 * back as the same values is a batch PostgreSQL refuses, retried forever,
 * a pack no list can open, or a click stored with someone else's text.
 *
 * Input: a queue capacity, then a program of pushes (ids, time, code,
 * headers of arbitrary bytes, or none) and takes.
 *
 * Properties: the queue is a bounded FIFO, as a model of it says: takes
 * return the oldest clicks in order, a push to a full queue is dropped
 * and counted; every batch's five pack literals parse back, with
 * PostgreSQL's array syntax, and its packs' text splits at U+001E into as
 * many JSON arrays (strict JSON: no raw control character, only the
 * escapes JSON has), which together hold every click of the batch exactly
 * once: a pack's clicks share link, owner, short code and UTC month, come
 * in batch order, and read back as the batch's values (time from the
 * pack's first, null for a missing header, text with its quotes and
 * backslashes, the bot flag); the aggregates sent with them are what a
 * model computes from the batch: one hourly row per URL and UTC hour
 * (floor, negative times included), sorted, with its clicks, bot clicks
 * and latest click; one facet row per URL, UTC day, Referer host and
 * class of the people's clicks (bots left out), with its clicks; the
 * totals add up to the batch.
 */

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "core/clickqueue.h"
#include "core/text.h"
#include "core/uaclass.h"
#include "fuzz.h"

#define MODEL	64

static void	check_batch(const struct click *, size_t,
		    const struct click_arrays *);
static const char *check_pack(const struct click *, size_t, int *,
		    const char *, char **, size_t);
static const char *json_value(const char *, char *, size_t, int *);
static int64_t	month_of(int64_t);
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

/* The packs' literals and texts hold each click of the batch once. */
static void
check_batch(const struct click *b, size_t n, const struct click_arrays *a)
{
	char		*v[CLICK_PACK_COLUMNS - 1][MAXROWS];
	const char	*p = a->col[5];
	int		 used[MAXROWS] = { 0 };
	size_t		 col, k, i;

	CHECK(a->packs <= n && (n == 0) == (a->packs == 0), "%zu packs for "
	    "%zu clicks", a->packs, n);
	for (col = 0; col < CLICK_PACK_COLUMNS - 1; col++) {
		CHECK(parse_column(a->col[col], v[col], MAXROWS) == a->packs,
		    "pack column %zu: not %zu elements", col, a->packs);
	}
	for (k = 0; k < a->packs; k++) {
		if (k > 0) {
			CHECK(*p == CLICK_PACK_SEP, "no separator before pack "
			    "%zu: \"%.40s\"", k, p);
			p++;
		}
		char *pk[CLICK_PACK_COLUMNS - 1] = { v[0][k], v[1][k], v[2][k],
		    v[3][k], v[4][k] };
		p = check_pack(b, n, used, p, pk, k);
	}
	CHECK(*p == '\0', "the packs' text goes on: \"%.40s\"", p);
	for (i = 0; i < n; i++)
		CHECK(used[i], "click %zu is in no pack", i);
	for (col = 0; col < CLICK_PACK_COLUMNS - 1; col++) {
		for (k = 0; k < a->packs; k++)
			free(v[col][k]);
	}
}

/*
 * One pack (columns url, user, code, n, first; then its JSON text at p):
 * each element the earliest click of the batch with the pack's key not
 * yet seen. Returns the end of its JSON.
 */
static const char *
check_pack(const struct click *b, size_t n, int *used, const char *p,
    char **pk, size_t k)
{
	char		 val[2048];
	int64_t		 url = strtoll(pk[0], NULL, 10);
	int64_t		 user = strtoll(pk[1], NULL, 10);
	int64_t		 first = strtoll(pk[4], NULL, 10);
	int64_t		 month = month_of(first);
	long		 len = strtol(pk[3], NULL, 10), e;
	size_t		 i;
	int		 null;
	const struct click *c;

	CHECK(len >= 1 && len <= CLICK_PACK_MAX, "pack %zu of %ld", k, len);
	CHECK(*p == '[', "pack %zu: \"%.40s\"", k, p);
	p++;
	for (e = 0; e < len; e++) {
		CHECK(*p == (e == 0 ? '[' : ','), "pack %zu element %ld: "
		    "\"%.40s\"", k, e, p);
		p += e == 0 ? 1 : 2;
		CHECK(e == 0 || p[-1] == '[', "pack %zu: no '[' at %ld", k, e);
		for (i = 0; i < n; i++) {
			if (!used[i] && b[i].url_id == url &&
			    b[i].user_id == user &&
			    !strcmp(b[i].short_code, pk[2]) &&
			    month_of(b[i].at_us) == month)
				break;
		}
		CHECK(i < n, "pack %zu element %ld: no click of its key left",
		    k, e);
		c = &b[i];
		used[i] = 1;
		CHECK(e > 0 || c->at_us == first, "pack %zu: first %" PRId64
		    " is not its earliest click's time", k, first);
		p = json_value(p, val, sizeof(val), &null);
		CHECK(!null && strtoll(val, NULL, 10) == c->at_us - first,
		    "pack %zu element %ld: time %s", k, e, val);
		CHECK(*p++ == ',', "pack %zu: no ','", k);
		p = json_value(p, val, sizeof(val), &null);
		CHECK(c->user_agent == NULL ? null : !null &&
		    !strcmp(val, c->user_agent), "pack %zu: User-Agent", k);
		CHECK(*p++ == ',', "pack %zu: no ','", k);
		p = json_value(p, val, sizeof(val), &null);
		CHECK(c->referer == NULL ? null : !null &&
		    !strcmp(val, c->referer), "pack %zu: Referer", k);
		CHECK(*p++ == ',', "pack %zu: no ','", k);
		p = json_value(p, val, sizeof(val), &null);
		CHECK(!strcmp(val, c->cls.bot ? "true" : "false"), "pack %zu: "
		    "bot %s", k, val);
		CHECK(*p++ == ']', "pack %zu: element not closed", k);
	}
	CHECK(*p++ == ']', "pack %zu not closed", k);
	return (p);
}

/* UTC year * 12 + month, from the C library. */
static int64_t
month_of(int64_t at_us)
{
	time_t		t = (time_t)floor_of(at_us, 1000000);
	struct tm	tm;

	CHECK(gmtime_r(&t, &tm) != NULL, "gmtime of %" PRId64, at_us);
	return ((int64_t)tm.tm_year * 12 + tm.tm_mon);
}

/*
 * One JSON value of a pack: a string (strict: no raw control character,
 * only JSON's escapes), null, or a bare token (number, true, false).
 */
static const char *
json_value(const char *p, char *out, size_t len, int *null)
{
	size_t	o = 0;

	*null = 0;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			CHECK(*p != '\0' && o < len - 1, "unterminated string");
			CHECK((unsigned char)*p >= 0x20 && *p != CLICK_PACK_SEP,
			    "a raw control character in a JSON string");
			if (*p == '\\') {
				p++;
				CHECK(*p == '"' || *p == '\\', "escape \\%c",
				    *p);
			}
			out[o++] = *p;
		}
		out[o] = '\0';
		return (p + 1);
	}
	while (*p != ',' && *p != ']' && *p != '\0') {
		CHECK(strchr("-0123456789truefalsn", *p) != NULL && o < len - 1,
		    "bad JSON token");
		out[o++] = *p++;
	}
	out[o] = '\0';
	CHECK(o > 0, "empty JSON value");
	*null = !strcmp(out, "null");
	return (p);
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

	for (col = CLICK_PACK_COLUMNS; col < CLICK_COLUMNS; col++)
		rows[col] = parse_column(a->col[col], v[col], MAXROWS);
	for (col = 6; col <= 10; col++)
		CHECK(rows[col] == a->hourly, "hourly column %zu: %zu rows, "
		    "%zu sent", col, rows[col], a->hourly);
	for (col = 11; col <= 17; col++)
		CHECK(rows[col] == a->facets, "facet column %zu: %zu rows, "
		    "%zu sent", col, rows[col], a->facets);

	for (r = 0; r < a->hourly; r++) {
		url = strtoll(v[6][r], NULL, 10);
		hour = strtoll(v[7][r], NULL, 10);
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
		    v[6][r], v[7][r]);
		snprintf(want, sizeof(want), "%" PRId64, clicks);
		CHECK(!strcmp(v[8][r], want), "hourly clicks %s, not %s",
		    v[8][r], want);
		snprintf(want, sizeof(want), "%" PRId64, bots);
		CHECK(!strcmp(v[9][r], want), "hourly bots %s, not %s",
		    v[9][r], want);
		snprintf(want, sizeof(want), "%" PRId64, last);
		CHECK(!strcmp(v[10][r], want), "hourly last %s, not %s",
		    v[10][r], want);
		sum += clicks;
	}
	CHECK(sum == (int64_t)n, "hourly rows hold %" PRId64 " of %zu clicks",
	    sum, n);

	for (i = 0; i < n; i++)
		referer_host(b[i].referer, host[i]);
	sum = 0;
	for (r = 0; r < a->facets; r++) {
		url = strtoll(v[11][r], NULL, 10);
		day = strtoll(v[12][r], NULL, 10);
		clicks = 0;
		for (i = 0; i < n; i++) {
			if (b[i].cls.bot || b[i].url_id != url ||
			    floor_of(b[i].at_us, DAY_US) != day ||
			    strcmp(host[i], v[13][r]) != 0 ||
			    strcmp(ua_browser_name(b[i].cls.browser), v[14][r]) ||
			    strcmp(ua_os_name(b[i].cls.os), v[15][r]) ||
			    strcmp(ua_device_name(b[i].cls.device), v[16][r]))
				continue;
			clicks++;
		}
		snprintf(want, sizeof(want), "%" PRId64, clicks);
		CHECK(clicks > 0 && !strcmp(v[17][r], want), "facet row %zu: "
		    "%s clicks, the batch has %s", r, v[17][r], want);
		for (i = 0; i < r; i++) {
			CHECK(strcmp(v[11][i], v[11][r]) ||
			    strcmp(v[12][i], v[12][r]) ||
			    strcmp(v[13][i], v[13][r]) ||
			    strcmp(v[14][i], v[14][r]) ||
			    strcmp(v[15][i], v[15][r]) ||
			    strcmp(v[16][i], v[16][r]), "facet rows %zu and %zu "
			    "share a key", i, r);
		}
		sum += clicks;
	}
	for (i = 0; i < n; i++)
		people += !b[i].cls.bot;
	CHECK(sum == people, "facet rows hold %" PRId64 " of %" PRId64
	    " people's clicks", sum, people);

	for (col = CLICK_PACK_COLUMNS; col < CLICK_COLUMNS; col++) {
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
