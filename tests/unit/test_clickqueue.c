/* The click queue: bounded, FIFO, counted drops, the batch JSON. */

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

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

Test(clickqueue, batch_json)
{
	struct click	 c[2];
	json_t		*arr, *row;
	char		*s;

	c[0] = make_click(1);
	c[1] = make_click(2);
	s = clicks_json(c, 2);
	arr = json_loads(s, 0, NULL);
	cr_assert_not_null(arr, "%s", s);
	cr_assert_eq(json_array_size(arr), 2);
	row = json_array_get(arr, 0);
	cr_expect_eq(json_integer_value(json_object_get(row, "url_id")), 1);
	cr_expect_eq(json_integer_value(json_object_get(row, "user_id")), 10);
	cr_expect_str_eq(json_string_value(json_object_get(row, "at")),
	    "2026-01-02 03:04:05.000006");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(row,
	    "details"), "user_agent")), "agent \"x\"");
	row = json_array_get(arr, 1);
	cr_expect(json_is_null(json_object_get(json_object_get(row,
	    "details"), "user_agent")));
	json_decref(arr);
	free(s);
	click_release(&c[0]);
	click_release(&c[1]);
}
