/*
 * A ring buffer of clicks. Clicks own their strings; whoever holds a
 * click (the queue, then a batch) releases it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clickqueue.h"
#include "core/xalloc.h"

struct strbuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

static void	array_element(struct strbuf *, const char *);
static void	strbuf_init(struct strbuf *, size_t);
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
clicks_arrays(const struct click *clicks, size_t n, char *out[CLICK_COLUMNS])
{
	struct strbuf	b[CLICK_COLUMNS];
	char		num[24];
	size_t		i;
	int		col, len;

	for (col = 0; col < CLICK_COLUMNS; col++) {
		strbuf_init(&b[col], 64 + n * 24);
		strbuf_add(&b[col], "{", 1);
	}

	for (i = 0; i < n; i++) {
		for (col = 0; col < CLICK_COLUMNS; col++) {
			if (i > 0)
				strbuf_add(&b[col], ",", 1);
		}
		len = snprintf(num, sizeof(num), "%lld",
		    (long long)clicks[i].url_id);
		strbuf_add(&b[0], num, (size_t)len);
		len = snprintf(num, sizeof(num), "%lld",
		    (long long)clicks[i].user_id);
		strbuf_add(&b[1], num, (size_t)len);
		array_element(&b[2], clicks[i].at);
		array_element(&b[3], clicks[i].short_code);
		array_element(&b[4], clicks[i].user_agent);
		array_element(&b[5], clicks[i].referer);
	}

	for (col = 0; col < CLICK_COLUMNS; col++) {
		strbuf_add(&b[col], "}", 1);
		out[col] = strbuf_take(&b[col]);
	}
}

void
clicks_arrays_free(char *out[CLICK_COLUMNS])
{
	int	col;

	for (col = 0; col < CLICK_COLUMNS; col++) {
		free(out[col]);
		out[col] = NULL;
	}
}

/* A quoted element: only '"' and '\\' need a backslash; NULL is NULL. */
static void
array_element(struct strbuf *b, const char *s)
{
	const char	*run;

	if (s == NULL) {
		strbuf_add(b, "NULL", 4);
		return;
	}

	strbuf_add(b, "\"", 1);
	for (run = s; *s != '\0'; s++) {
		if (*s != '"' && *s != '\\')
			continue;
		strbuf_add(b, run, (size_t)(s - run));
		strbuf_add(b, "\\", 1);
		run = s;
	}
	strbuf_add(b, run, (size_t)(s - run));
	strbuf_add(b, "\"", 1);
}

static void
strbuf_init(struct strbuf *b, size_t cap)
{
	b->data = xmalloc(cap);
	b->cap = cap;
	b->len = 0;
}

static void
strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	while (b->len + n + 1 > b->cap) {
		b->cap *= 2;
		b->data = xreallocarray(b->data, b->cap, 1);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static char *
strbuf_take(struct strbuf *b)
{
	b->data[b->len] = '\0';
	return (b->data);
}
