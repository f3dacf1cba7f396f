/* When pending short code lookups leave (core/lookupgate.c). */

#include <criterion/criterion.h>

#include "core/lookupgate.h"

/* A busy worker between batches: one sent 1 ms ago, 64 connections. */
static struct lookup_gate
busy(void)
{
	struct lookup_gate	g = { .in_flight = 0, .pending = 5,
	    .since_sent_ms = 1, .waiting = 5, .connections = 64 };

	return (g);
}

Test(lookupgate, an_idle_worker_sends_a_lone_miss_at_once)
{
	struct lookup_gate	g = busy();

	g.pending = 1;
	g.waiting = 1;
	g.since_sent_ms = 5000;
	cr_expect_eq(lookup_gate_wait(&g), 0);
	g.since_sent_ms = LOOKUP_GATHER_MS;
	cr_expect_eq(lookup_gate_wait(&g), 0);
}

Test(lookupgate, a_busy_worker_gathers_until_the_window_ends)
{
	struct lookup_gate	g = busy();

	cr_expect_eq(lookup_gate_wait(&g), LOOKUP_GATHER_MS - 1);
	g.since_sent_ms = 0;
	cr_expect_eq(lookup_gate_wait(&g), LOOKUP_GATHER_MS);
}

Test(lookupgate, enough_codes_leave_at_once)
{
	struct lookup_gate	g = busy();

	g.pending = LOOKUP_GATHER_MIN - 1;
	g.waiting = LOOKUP_GATHER_MIN - 1;
	cr_expect_gt(lookup_gate_wait(&g), 0);
	g.pending = LOOKUP_GATHER_MIN;
	g.waiting = LOOKUP_GATHER_MIN;
	cr_expect_eq(lookup_gate_wait(&g), 0);
}

/* Every connection asleep on a lookup: no other miss can come. */
Test(lookupgate, nothing_else_can_come_so_nothing_waits)
{
	struct lookup_gate	g = busy();

	g.connections = 6;
	g.waiting = 5;
	cr_expect_gt(lookup_gate_wait(&g), 0);
	g.waiting = 6;
	cr_expect_eq(lookup_gate_wait(&g), 0);
	/* A waiter counted before its connection closed. */
	g.connections = 4;
	cr_expect_eq(lookup_gate_wait(&g), 0);
}

Test(lookupgate, a_batch_out_holds_the_next_until_it_stalls)
{
	struct lookup_gate	g = busy();

	g.in_flight = 1;
	g.pending = 200;
	g.waiting = 64;
	g.since_sent_ms = 3;
	cr_expect_eq(lookup_gate_wait(&g), LOOKUP_HOLD_MS - 3);
	g.since_sent_ms = LOOKUP_HOLD_MS;
	cr_expect_eq(lookup_gate_wait(&g), 0, "a stalled batch must not hold "
	    "the next one back");
}
