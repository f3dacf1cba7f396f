/*
 * When pending lookups leave.
 *
 * Every statement costs PostgreSQL its parse, plan, protocol and wake-up
 * whatever it carries, so the fewer statements for the same codes the
 * better; but a code that waits is a request that waits. The rules:
 *
 *   - While a batch is out, the next one waits for it, for at most
 *     LOOKUP_HOLD_MS (a stalled statement must not hold every other miss
 *     back; the caller bounds how many go out at once).
 *   - With none out, the pending codes leave at once if the worker is
 *     not busy (its last batch left LOOKUP_GATHER_MS ago or more), if
 *     LOOKUP_GATHER_MIN of them wait, or if every connection of the
 *     worker is a request asleep on a lookup (no other miss can come).
 *     Otherwise they gather until LOOKUP_GATHER_MS after the last send.
 *
 * So an idle worker sends a lone miss at once, and a busy one sends a
 * batch at most every LOOKUP_GATHER_MS, adding at most that much to a
 * miss. Measured under the MISS benchmark (2 workers, 64 connections):
 * ~7 codes a statement when a batch left the moment the last came back,
 * 17-26 with the gather.
 */

#include "core/lookupgate.h"

uint64_t
lookup_gate_wait(const struct lookup_gate *g)
{
	if (g->in_flight > 0) {
		if (g->since_sent_ms < LOOKUP_HOLD_MS)
			return (LOOKUP_HOLD_MS - g->since_sent_ms);
		return (0);
	}

	if (g->since_sent_ms >= LOOKUP_GATHER_MS ||
	    g->pending >= LOOKUP_GATHER_MIN ||
	    g->waiting >= g->connections)
		return (0);

	return (LOOKUP_GATHER_MS - g->since_sent_ms);
}
