/*
 * A ring buffer of clicks. Clicks own their strings; whoever holds a
 * click (the queue, then a batch) releases it.
 */

#include <stdlib.h>
#include <string.h>

#include "core/clickqueue.h"
#include "core/xalloc.h"

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

char *
clicks_json(const struct click *clicks, size_t n)
{
	json_t	*arr, *row;
	char	*out;
	size_t	 i;

	arr = json_array();
	for (i = 0; i < n; i++) {
		row = json_pack("{s:I, s:I, s:s, s:{s:s, s:s?, s:s?}}",
		    "url_id", (json_int_t)clicks[i].url_id,
		    "user_id", (json_int_t)clicks[i].user_id,
		    "at", clicks[i].at,
		    "details",
		    "short_code", clicks[i].short_code,
		    "user_agent", clicks[i].user_agent,
		    "referer", clicks[i].referer);
		if (row == NULL)
			abort();
		json_array_append_new(arr, row);
	}

	out = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(arr);
	if (out == NULL)
		abort();
	return (out);
}
