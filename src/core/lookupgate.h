/*
 * When a worker sends its pending short code lookups to PostgreSQL
 * (core/lookupgate.c; used by db/codelookup.c). Pure logic.
 */
#ifndef LOOKUPGATE_H
#define LOOKUPGATE_H

#include <stdint.h>

/* A batch out longer than this no longer holds the next one back. */
#define LOOKUP_HOLD_MS		20
/* A busy worker's short list gathers for up to this after its last send. */
#define LOOKUP_GATHER_MS	2
/* This many codes waiting leave at once. */
#define LOOKUP_GATHER_MIN	32

struct lookup_gate {
	uint32_t	in_flight;	/* batches out */
	uint32_t	pending;	/* codes waiting for a batch, > 0 */
	uint64_t	since_sent_ms;	/* since the last batch left */
	uint32_t	waiting;	/* requests asleep on a lookup */
	uint32_t	connections;	/* the worker's open connections */
};

/* 0: send the pending codes now; else come back in that many ms. */
uint64_t	lookup_gate_wait(const struct lookup_gate *g);

#endif
