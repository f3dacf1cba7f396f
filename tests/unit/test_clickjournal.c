/*
 * The click journal's format: what is appended is read back in order,
 * whole or not at all; the ring wraps, fills and frees; a region that is
 * not a journal, or a damaged record, is never trusted.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/clickjournal.h"

#define ID	"0123456789abcdef0123456789abcdef"
#define BOOT	"6f1a2b3c-0000-4000-8000-000000000001"
#define SMALL	(CLICKJ_HEADER + 4096)

static struct click
make_click(int64_t n, const char *ua, const char *ref)
{
	struct click	c;

	memset(&c, 0, sizeof(c));
	c.url_id = n;
	c.user_id = n * 10;
	c.at_us = 1767323045000006 + n;
	c.short_code = strdup("abc123");
	c.user_agent = ua != NULL ? strdup(ua) : NULL;
	c.referer = ref != NULL ? strdup(ref) : NULL;
	return (c);
}

static int
attach(struct clickj *j, void *base, size_t len, const char *id)
{
	uint64_t	dropped;

	return (clickj_attach(j, base, len, id, BOOT, &dropped));
}

static void *
region(size_t len)
{
	void	*p = calloc(1, len);

	cr_assert_not_null(p);
	return (p);
}

/* Reads every unstored click from a fresh attach, as a new worker would. */
static size_t
replay(void *base, size_t len, struct click *out, size_t max, int *rc)
{
	struct clickj	j;
	uint64_t	pos, want;
	size_t		n = 0;

	cr_assert_eq(attach(&j, base, len, ID), 0, "not kept");
	pos = j.h->tail;
	want = j.h->written_seq + 1;
	while (n < max && (*rc = clickj_read(&j, &pos, want, &out[n])) == 1) {
		want++;
		n++;
	}
	return (n);
}

Test(clickjournal, a_fresh_region_is_initialised_and_then_kept)
{
	struct clickj	j;
	void		*base = region(SMALL);

	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	cr_assert_str_eq(j.h->id, ID);
	cr_assert_eq(clickj_pending(&j), 0);
	cr_assert_eq(attach(&j, base, SMALL, "ffffffffffffffffffffffffffffffff"),
	    0);
	cr_assert_str_eq(j.h->id, ID, "an existing journal keeps its id");
	cr_assert_eq(attach(&j, base, CLICKJ_HEADER + 100, ID), -1);
	free(base);
}

Test(clickjournal, clicks_come_back_in_order_with_their_fields)
{
	struct clickj	j;
	struct click	c[3], out[4];
	void		*base = region(SMALL);
	size_t		n, i;
	int		rc;

	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	c[0] = make_click(1, "Mozilla/5.0", NULL);
	c[1] = make_click(2, NULL, "https://ref.example/");
	c[2] = make_click(3, "", "");
	for (i = 0; i < 3; i++) {
		cr_assert_eq(clickj_append(&j, &c[i]), 0);
		cr_assert_eq(c[i].seq, i + 1);
	}
	cr_assert_eq(clickj_pending(&j), 3);

	n = replay(base, SMALL, out, 4, &rc);
	cr_assert_eq(n, 3);
	cr_assert_eq(rc, 0);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(out[i].url_id, c[i].url_id);
		cr_assert_eq(out[i].user_id, c[i].user_id);
		cr_assert_eq(out[i].at_us, c[i].at_us);
		cr_assert_eq(out[i].seq, c[i].seq);
		cr_assert_eq(out[i].jend, c[i].jend);
		cr_assert_str_eq(out[i].short_code, "abc123");
	}
	cr_assert_str_eq(out[0].user_agent, "Mozilla/5.0");
	cr_assert_null(out[0].referer, "an absent header stays absent");
	cr_assert_null(out[1].user_agent);
	cr_assert_str_eq(out[1].referer, "https://ref.example/");
	cr_assert_str_eq(out[2].user_agent, "", "empty is not absent");
	for (i = 0; i < 3; i++) {
		click_release(&c[i]);
		click_release(&out[i]);
	}
	free(base);
}

Test(clickjournal, stored_clicks_are_not_replayed_and_a_sent_batch_is_known)
{
	struct clickj	j;
	struct click	c[5], out[5];
	void		*base = region(SMALL);
	size_t		n, i;
	int		rc;

	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	for (i = 0; i < 5; i++) {
		c[i] = make_click((int64_t)i + 1, "ua", NULL);
		cr_assert_eq(clickj_append(&j, &c[i]), 0);
	}
	clickj_sent(&j, 2);
	clickj_written(&j, 2, c[1].jend);
	cr_assert_eq(j.h->sent_last, 0);
	clickj_sent(&j, 4);		/* then the worker dies */

	n = replay(base, SMALL, out, 5, &rc);
	cr_assert_eq(n, 3);
	cr_assert_eq(out[0].seq, 3);
	cr_assert_eq(out[2].seq, 5);
	cr_assert_eq(j.h->sent_last, 4, "the batch out: seqs 3 and 4");
	for (i = 0; i < 5; i++)
		click_release(&c[i]);
	for (i = 0; i < n; i++)
		click_release(&out[i]);
	free(base);
}

Test(clickjournal, the_ring_fills_frees_and_wraps)
{
	struct clickj	j;
	struct click	c, out[200];
	void		*base = region(SMALL);
	char		ua[200];
	size_t		n, appended = 0, i;
	uint64_t	last_end = 0, last_seq = 0;
	int		rc, round;

	memset(ua, 'u', sizeof(ua) - 1);
	ua[sizeof(ua) - 1] = '\0';
	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	for (round = 0; round < 5; round++) {
		/* Fill the ring until it refuses. */
		for (;;) {
			c = make_click((int64_t)appended + 1, ua, "r");
			rc = clickj_append(&j, &c);
			if (rc == -1) {
				click_release(&c);
				break;
			}
			last_end = c.jend;
			last_seq = c.seq;
			appended++;
			click_release(&c);
		}
		cr_assert_gt(clickj_pending(&j), 0);
		cr_assert_leq(j.h->head - j.h->tail, j.cap);

		/* Everything unstored reads back, across the wrap. */
		n = replay(base, SMALL, out, 200, &rc);
		cr_assert_eq(rc, 0);
		cr_assert_eq(n, clickj_pending(&j));
		cr_assert_eq(out[n - 1].seq, last_seq);
		for (i = 0; i < n; i++)
			click_release(&out[i]);

		/* Stored: the whole ring is free again. */
		clickj_written(&j, last_seq, last_end);
		cr_assert_eq(clickj_pending(&j), 0);
	}
	cr_assert_gt(j.h->head, 2 * j.cap, "wrapped at least twice");
	free(base);
}

Test(clickjournal, a_record_without_its_head_update_is_not_there)
{
	struct clickj	j;
	struct click	c, out[2];
	void		*base = region(SMALL);
	uint64_t	head = 0;
	size_t		n;
	int		rc;

	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	c = make_click(1, "ua", NULL);
	cr_assert_eq(clickj_append(&j, &c), 0);
	click_release(&c);
	head = j.h->head;
	c = make_click(2, "ua", NULL);
	cr_assert_eq(clickj_append(&j, &c), 0);
	click_release(&c);
	j.h->head = head;	/* killed before it published the second */

	n = replay(base, SMALL, out, 2, &rc);
	cr_assert_eq(n, 1);
	cr_assert_eq(rc, 0);
	click_release(&out[0]);
	free(base);
}

Test(clickjournal, damage_stops_the_replay_there)
{
	struct clickj	j;
	struct click	c, out[3];
	void		*base = region(SMALL);
	uint64_t	second = 0;
	size_t		n, i;
	int		rc;

	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	for (i = 0; i < 3; i++) {
		c = make_click((int64_t)i + 1, "ua", NULL);
		cr_assert_eq(clickj_append(&j, &c), 0);
		if (i == 0)
			second = c.jend;
		click_release(&c);
	}
	/* The second record's length points past the ring. */
	memset(j.ring + second, 0xff, 4);

	n = replay(base, SMALL, out, 3, &rc);
	cr_assert_eq(n, 1);
	cr_assert_eq(rc, -1);
	click_release(&out[0]);

	/* A header that is not a journal's is started afresh. */
	memset(base, 0x5a, 64);
	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	cr_assert_eq(clickj_pending(&j), 0);
	free(base);
}

Test(clickjournal, killed_between_storing_and_moving_the_tail)
{
	struct clickj	j;
	struct click	c[4], out[4];
	void		*base = region(SMALL);
	size_t		n, i;
	int		rc;

	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	for (i = 0; i < 4; i++) {
		c[i] = make_click((int64_t)i + 1, "ua", NULL);
		cr_assert_eq(clickj_append(&j, &c[i]), 0);
	}
	/* Batch 1-2 stored: written_seq moved, the tail not yet. */
	j.h->written_seq = 2;

	n = replay(base, SMALL, out, 4, &rc);
	cr_assert_eq(rc, 0, "stored records are skipped, not damage");
	cr_assert_eq(n, 2);
	cr_assert_eq(out[0].seq, 3);
	cr_assert_eq(out[1].seq, 4);
	for (i = 0; i < 4; i++)
		click_release(&c[i]);
	for (i = 0; i < n; i++)
		click_release(&out[i]);
	free(base);
}

Test(clickjournal, a_seq_is_never_given_out_twice)
{
	struct clickj	j;
	struct click	c;
	void		*base = region(SMALL);
	uint64_t	head = 0;
	int		i;

	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	for (i = 0; i < 5; i++) {
		c = make_click(i + 1, "ua", NULL);
		cr_assert_eq(clickj_append(&j, &c), 0);
		if (i == 1)
			head = c.jend;
		click_release(&c);
	}
	/* Damage cut the journal after the second record. */
	j.h->head = head;
	cr_assert_eq(attach(&j, base, SMALL, ID), 0);
	c = make_click(9, "ua", NULL);
	cr_assert_eq(clickj_append(&j, &c), 0);
	cr_assert_eq(c.seq, 6, "seq %llu: 3-5 may be in the database",
	    (unsigned long long)c.seq);
	click_release(&c);
	free(base);
}

Test(clickjournal, a_journal_of_an_earlier_boot_or_a_bad_header_starts_afresh)
{
	struct clickj	j;
	struct click	c;
	void		*base = region(SMALL);
	uint64_t	dropped;
	int		i;

	cr_assert_eq(attach(&j, base, SMALL, ID), 1);
	for (i = 0; i < 3; i++) {
		c = make_click(i + 1, "ua", NULL);
		cr_assert_eq(clickj_append(&j, &c), 0);
		click_release(&c);
	}
	cr_assert_eq(clickj_attach(&j, base, SMALL, "ffffffffffffffffffffffffffffffff",
	    "another-boot", &dropped), 1);
	cr_assert_eq(dropped, 3);
	cr_assert_str_eq(j.h->id, "ffffffffffffffffffffffffffffffff",
	    "a new id: the old one's seqs may be in the database");
	cr_assert_eq(clickj_pending(&j), 0);

	j.h->head = UINT64_MAX - 7;
	cr_assert_eq(clickj_attach(&j, base, SMALL, ID, "another-boot",
	    &dropped), 1);
	free(base);
}
