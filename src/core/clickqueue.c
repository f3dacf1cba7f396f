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

static void	array_int(struct strbuf *, int64_t);
static void	array_element(struct strbuf *, const char *);
static void	strbuf_init(struct strbuf *, char *, size_t, size_t);
static void	strbuf_reserve(struct strbuf *, size_t);
static void	strbuf_add(struct strbuf *, const char *, size_t);
static char	*strbuf_take(struct strbuf *);

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
 * Array literals instead of a JSON document: the batch is built inside
 * the worker's event loop, where a thousand rows through a JSON library
 * cost milliseconds of stalled requests; this is one pass of memcpy.
 */
void
clicks_arrays(const struct click *clicks, size_t n, struct click_arrays *a)
{
	struct strbuf	b[CLICK_COLUMNS];
	size_t		i;
	int		col;

	for (col = 0; col < CLICK_COLUMNS; col++) {
		strbuf_init(&b[col], a->col[col], a->cap[col], 64 + n * 24);
		strbuf_add(&b[col], "{", 1);
	}

	for (i = 0; i < n; i++) {
		for (col = 0; col < CLICK_COLUMNS; col++) {
			if (i > 0)
				strbuf_add(&b[col], ",", 1);
		}
		array_int(&b[0], clicks[i].url_id);
		array_int(&b[1], clicks[i].user_id);
		array_int(&b[2], clicks[i].at_us);
		array_element(&b[3], clicks[i].short_code);
		array_element(&b[4], clicks[i].user_agent);
		array_element(&b[5], clicks[i].referer);
	}

	for (col = 0; col < CLICK_COLUMNS; col++) {
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
	memset(a, 0, sizeof(*a));
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
