/* The click queue: bounded, FIFO, counted drops, the batch arrays. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/clickqueue.h"

static struct click
make_click(int64_t id)
{
	struct click	c;

	memset(&c, 0, sizeof(c));
	c.url_id = id;
	c.user_id = id * 10;
	c.at_us = 1767323045000006 + id;
	c.short_code = strdup("abc123");
	c.user_agent = id % 2 ? strdup("agent \"x\"") : NULL;
	c.referer = NULL;
	return (c);
}

Test(clickqueue, fifo_and_batches)
{
	struct clickq	q;
	struct click	c, out[3];
	size_t		n, i;
	int64_t		want;

	clickq_init(&q, 8);
	for (i = 1; i <= 5; i++) {
		c = make_click((int64_t)i);
		cr_assert_eq(clickq_push(&q, &c), 0);
	}

	want = 1;
	while ((n = clickq_take(&q, out, 3)) > 0) {
		for (i = 0; i < n; i++) {
			cr_expect_eq(out[i].url_id, want++);
			click_release(&out[i]);
		}
	}
	cr_expect_eq(want, 6);
	cr_expect_eq(q.len, 0);
	clickq_free(&q);
}

Test(clickqueue, full_queue_drops_and_counts)
{
	struct clickq	q;
	struct click	c, out;
	int		i;

	clickq_init(&q, 3);
	for (i = 1; i <= 5; i++) {
		c = make_click(i);
		(void)clickq_push(&q, &c);
	}
	cr_expect_eq(q.len, 3);
	cr_expect_eq(q.dropped, 2);

	/* The oldest clicks are kept; wrap-around keeps order. */
	cr_assert_eq(clickq_take(&q, &out, 1), 1);
	cr_expect_eq(out.url_id, 1);
	click_release(&out);
	c = make_click(6);
	cr_expect_eq(clickq_push(&q, &c), 0);
	cr_assert_eq(clickq_take(&q, &out, 1), 1);
	cr_expect_eq(out.url_id, 2);
	click_release(&out);
	clickq_free(&q);
}

Test(clickqueue, batch_arrays)
{
	struct click		c[2];
	struct click_arrays	a;

	c[0] = make_click(1);
	c[1] = make_click(2);
	free(c[1].short_code);
	c[1].short_code = strdup("a\\b\"c");
	memset(&a, 0, sizeof(a));
	clicks_arrays(c, 2, &a);
	cr_expect_str_eq(a.col[0], "{1,2}");
	cr_expect_str_eq(a.col[1], "{10,20}");
	cr_expect_str_eq(a.col[2], "{1767323045000007,1767323045000008}");
	cr_expect_str_eq(a.col[3], "{\"abc123\",\"a\\\\b\\\"c\"}");
	cr_expect_str_eq(a.col[4], "{\"agent \\\"x\\\"\",NULL}");
	cr_expect_str_eq(a.col[5], "{NULL,NULL}");

	/* The next batch reuses the buffers and leaves nothing behind. */
	clicks_arrays(c, 1, &a);
	cr_expect_str_eq(a.col[0], "{1}");
	cr_expect_str_eq(a.col[3], "{\"abc123\"}");
	cr_expect_str_eq(a.col[5], "{NULL}");
	clicks_arrays_free(&a);
	cr_expect_null(a.col[0]);
	click_release(&c[0]);
	click_release(&c[1]);
}

Test(clickqueue, empty_batch_arrays)
{
	struct click_arrays	a;
	int			i;

	memset(&a, 0, sizeof(a));
	clicks_arrays(NULL, 0, &a);
	for (i = 0; i < CLICK_COLUMNS; i++)
		cr_expect_str_eq(a.col[i], "{}");
	clicks_arrays_free(&a);
}

Test(clickqueue, integers_at_their_limits)
{
	struct click		c;
	struct click_arrays	a;

	c = make_click(1);
	c.url_id = INT64_MAX;
	c.user_id = INT64_MIN;
	c.at_us = 0;
	memset(&a, 0, sizeof(a));
	clicks_arrays(&c, 1, &a);
	cr_expect_str_eq(a.col[0], "{9223372036854775807}");
	cr_expect_str_eq(a.col[1], "{-9223372036854775808}");
	cr_expect_str_eq(a.col[2], "{0}");
	clicks_arrays_free(&a);
	click_release(&c);
}

/* A full batch of the longest headers outgrows the first buffers. */
Test(clickqueue, large_batch_grows_buffers)
{
	struct click		c[1000];
	struct click_arrays	a;
	char			agent[513];
	size_t			i;

	memset(agent, '"', sizeof(agent) - 1);
	agent[sizeof(agent) - 1] = '\0';
	for (i = 0; i < 1000; i++) {
		c[i] = make_click((int64_t)i);
		free(c[i].user_agent);
		c[i].user_agent = strdup(agent);
	}
	memset(&a, 0, sizeof(a));
	clicks_arrays(c, 1000, &a);
	/* Each element: 512 escaped quotes, 2 quotes, a comma (not the last). */
	cr_expect_eq(strlen(a.col[4]), 2 + 1000 * (1024 + 2) + 999);
	cr_expect_eq(a.col[4][0], '{');
	cr_expect_eq(a.col[4][strlen(a.col[4]) - 1], '}');
	clicks_arrays_free(&a);
	for (i = 0; i < 1000; i++)
		click_release(&c[i]);
}

/*
 * The batch's aggregates: one hourly row per URL and hour, bots counted
 * there, with the latest click; one facet row per URL, day, Referer host
 * and families, people only; keys sorted.
 */
Test(clickqueue, aggregates_per_batch)
{
	struct click		c[5];
	struct click_arrays	a;
	size_t			i;
	/* 2026-01-02T03:04:05Z and an hour later, in microseconds. */
	int64_t			t0 = INT64_C(1767323045000000);

	for (i = 0; i < 5; i++) {
		c[i] = make_click(7);
		c[i].at_us = t0 + (int64_t)i;
		c[i].cls.browser = UA_BROWSER_FIREFOX;
		c[i].cls.os = UA_OS_LINUX;
		c[i].cls.device = UA_DEVICE_DESKTOP;
	}
	c[1].referer = strdup("https://News.Example.com:443/a?b");
	c[2].referer = strdup("https://news.example.com/other");
	c[3].cls.bot = 1;
	c[3].cls.device = UA_DEVICE_BOT;
	c[4].url_id = 3;
	c[4].at_us = t0 + INT64_C(3600000000);
	c[4].cls.browser = UA_BROWSER_SAFARI;
	memset(&a, 0, sizeof(a));
	clicks_arrays(c, 5, &a);

	cr_expect_str_eq(a.col[6], "{f,f,f,t,f}");
	/* Hours: url 3 at 04:00, url 7 at 03:00 (4 clicks, 1 bot). */
	cr_expect_str_eq(a.col[7], "{3,7}");
	cr_expect_str_eq(a.col[8], "{1767326400,1767322800}");
	cr_expect_str_eq(a.col[9], "{1,4}");
	cr_expect_str_eq(a.col[10], "{0,1}");
	cr_expect_str_eq(a.col[11], "{1767326645000000,1767323045000003}",
	    "the latest click of each hour, the bot's included");
	cr_expect_eq(a.hourly, 2);
	/* People: url 3's one, url 7's three in two kinds, day 20455. */
	cr_expect_str_eq(a.col[12], "{3,7,7}");
	cr_expect_str_eq(a.col[13], "{20455,20455,20455}");
	cr_expect_str_eq(a.col[14], "{\"\",\"\",\"news.example.com\"}");
	cr_expect_str_eq(a.col[15], "{\"Safari\",\"Firefox\",\"Firefox\"}");
	cr_expect_str_eq(a.col[16], "{\"Linux\",\"Linux\",\"Linux\"}");
	cr_expect_str_eq(a.col[17], "{\"desktop\",\"desktop\",\"desktop\"}");
	cr_expect_str_eq(a.col[18], "{1,1,2}");
	cr_expect_eq(a.facets, 3);
	clicks_arrays_free(&a);
	for (i = 0; i < 5; i++)
		click_release(&c[i]);
}
