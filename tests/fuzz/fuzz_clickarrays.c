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
 * and counted; every batch's six literals parse back, with PostgreSQL's
 * array syntax, into exactly the batch's values (NULL for a missing
 * header, numbers to the digit, text with its quotes and backslashes).
 */

#include <inttypes.h>
#include <string.h>

#include "core/clickqueue.h"
#include "core/text.h"
#include "fuzz.h"

#define MODEL	64

static void	check_batch(const struct click *, size_t,
		    const struct click_arrays *);
static const char *element(const char *, char *, size_t, int *);

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
