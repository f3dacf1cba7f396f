/* The click queue: bounded, FIFO, counted drops, the batch JSON. */

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
	strcpy(c.at, "2026-01-02 03:04:05.000006");
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
	struct click	 c[2];
	char		*cols[CLICK_COLUMNS];

	c[0] = make_click(1);
	c[1] = make_click(2);
	free(c[1].short_code);
	c[1].short_code = strdup("a\\b\"c");
	clicks_arrays(c, 2, cols);
	cr_expect_str_eq(cols[0], "{1,2}");
	cr_expect_str_eq(cols[1], "{10,20}");
	cr_expect_str_eq(cols[2], "{\"2026-01-02 03:04:05.000006\","
	    "\"2026-01-02 03:04:05.000006\"}");
	cr_expect_str_eq(cols[3], "{\"abc123\",\"a\\\\b\\\"c\"}");
	cr_expect_str_eq(cols[4], "{\"agent \\\"x\\\"\",NULL}");
	cr_expect_str_eq(cols[5], "{NULL,NULL}");
	clicks_arrays_free(cols);
	cr_expect_null(cols[0]);
	click_release(&c[0]);
	click_release(&c[1]);
}

Test(clickqueue, empty_batch_arrays)
{
	char	*cols[CLICK_COLUMNS];
	int	 i;

	clicks_arrays(NULL, 0, cols);
	for (i = 0; i < CLICK_COLUMNS; i++)
		cr_expect_str_eq(cols[i], "{}");
	clicks_arrays_free(cols);
}
