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
	c[1].referer = strdup("https://r.example/\"q\"\\");
	c[1].cls.bot = 1;
	memset(&a, 0, sizeof(a));
	clicks_arrays(c, 2, &a);
	cr_expect_eq(a.packs, 2);
	cr_expect_str_eq(a.col[0], "{1,2}");
	cr_expect_str_eq(a.col[1], "{10,20}");
	cr_expect_str_eq(a.col[2], "{\"abc123\",\"a\\\\b\\\"c\"}");
	cr_expect_str_eq(a.col[3], "{1,1}");
	cr_expect_str_eq(a.col[4], "{1767323045000007,1767323045000008}");
	cr_expect_str_eq(a.col[5], "[[0,\"agent \\\"x\\\"\",null,false]]\x1e"
	    "[[0,null,\"https://r.example/\\\"q\\\"\\\\\",true]]");

	/* The next batch reuses the buffers and leaves nothing behind. */
	clicks_arrays(c, 1, &a);
	cr_expect_str_eq(a.col[0], "{1}");
	cr_expect_str_eq(a.col[2], "{\"abc123\"}");
	cr_expect_str_eq(a.col[5], "[[0,\"agent \\\"x\\\"\",null,false]]");
	clicks_arrays_free(&a);
	cr_expect_null(a.col[0]);
	click_release(&c[0]);
	click_release(&c[1]);
}

/*
 * A link's clicks share a pack, in the order they came, whatever came
 * between them; another owner, short code or month makes another pack.
 */
Test(clickqueue, packs_by_link_and_month)
{
	struct click		c[6];
	struct click_arrays	a;
	size_t			i;
	/* 2026-01-31T23:59:59.999999Z: the next microsecond is February. */
	int64_t			t = INT64_C(1769903999999999);

	for (i = 0; i < 6; i++) {
		c[i] = make_click(5);
		c[i].at_us = t - 10 + (int64_t)i;
	}
	c[1].url_id = 4;		/* another link */
	c[3].user_id = 99;		/* the same link, another owner */
	free(c[4].short_code);
	c[4].short_code = strdup("other");
	c[5].at_us = t + 1;		/* February */
	memset(&a, 0, sizeof(a));
	clicks_arrays(c, 6, &a);
	cr_expect_eq(a.packs, 5);
	cr_expect_str_eq(a.col[0], "{4,5,5,5,5}");
	cr_expect_str_eq(a.col[1], "{50,50,50,50,99}");
	cr_expect_str_eq(a.col[2],
	    "{\"abc123\",\"abc123\",\"other\",\"abc123\",\"abc123\"}");
	cr_expect_str_eq(a.col[3], "{1,2,1,1,1}");
	cr_expect_str_eq(a.col[4], "{1769903999999990,1769903999999989,"
	    "1769903999999993,1769904000000000,1769903999999992}");
	/* Link 5's January pack: clicks 0 and 2, times from the first. */
	cr_expect(strstr(a.col[5], "\x1e[[0,\"agent \\\"x\\\"\",null,false],"
	    "[2,\"agent \\\"x\\\"\",null,false]]\x1e") != NULL, "%s",
	    a.col[5]);
	clicks_arrays_free(&a);
	for (i = 0; i < 6; i++)
		click_release(&c[i]);
}

/* 600 clicks of a link: packs of 256, 256 and 88, in order. */
Test(clickqueue, packs_hold_at_most_256)
{
	struct click		c[600];
	struct click_arrays	a;
	size_t			i, seps;
	const char		*p;

	for (i = 0; i < 600; i++) {
		c[i] = make_click(7);
		c[i].at_us += (int64_t)i;
	}
	memset(&a, 0, sizeof(a));
	clicks_arrays(c, 600, &a);
	cr_expect_eq(a.packs, 3);
	cr_expect_str_eq(a.col[3], "{256,256,88}");
	cr_expect_str_eq(a.col[4], "{1767323045000013,1767323045000269,"
	    "1767323045000525}");
	for (seps = 0, p = a.col[5]; *p != '\0'; p++)
		seps += *p == CLICK_PACK_SEP;
	cr_expect_eq(seps, 2);
	cr_expect(strstr(a.col[5], ",[255,") != NULL);
	cr_expect(strstr(a.col[5], ",[256,") == NULL);
	clicks_arrays_free(&a);
	for (i = 0; i < 600; i++)
		click_release(&c[i]);
}

Test(clickqueue, empty_batch_arrays)
{
	struct click_arrays	a;
	int			i;

	memset(&a, 0, sizeof(a));
	clicks_arrays(NULL, 0, &a);
	for (i = 0; i < CLICK_COLUMNS; i++)
		cr_expect_str_eq(a.col[i], i == 5 ? "" : "{}");
	cr_expect_eq(a.packs, 0);
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
	cr_expect_str_eq(a.col[4], "{0}");
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
	/*
	 * Each pack: [[0,"<512 escaped quotes>",null,false]] (1 043 bytes)
	 * and a separator but the last.
	 */
	cr_expect_eq(a.packs, 1000);
	cr_expect_eq(strlen(a.col[5]), 1000 * 1043 + 999);
	cr_expect_eq(a.col[5][0], '[');
	cr_expect_eq(a.col[5][strlen(a.col[5]) - 1], ']');
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

	/* Hours: url 3 at 04:00, url 7 at 03:00 (4 clicks, 1 bot). */
	cr_expect_str_eq(a.col[6], "{3,7}");
	cr_expect_str_eq(a.col[7], "{1767326400,1767322800}");
	cr_expect_str_eq(a.col[8], "{1,4}");
	cr_expect_str_eq(a.col[9], "{0,1}");
	cr_expect_str_eq(a.col[10], "{1767326645000000,1767323045000003}",
	    "the latest click of each hour, the bot's included");
	cr_expect_eq(a.hourly, 2);
	/* People: url 3's one, url 7's three in two kinds, day 20455. */
	cr_expect_str_eq(a.col[11], "{3,7,7}");
	cr_expect_str_eq(a.col[12], "{20455,20455,20455}");
	cr_expect_str_eq(a.col[13], "{\"\",\"\",\"news.example.com\"}");
	cr_expect_str_eq(a.col[14], "{\"Safari\",\"Firefox\",\"Firefox\"}");
	cr_expect_str_eq(a.col[15], "{\"Linux\",\"Linux\",\"Linux\"}");
	cr_expect_str_eq(a.col[16], "{\"desktop\",\"desktop\",\"desktop\"}");
	cr_expect_str_eq(a.col[17], "{1,1,2}");
	cr_expect_eq(a.facets, 3);
	clicks_arrays_free(&a);
	for (i = 0; i < 5; i++)
		click_release(&c[i]);
}
