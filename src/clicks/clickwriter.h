/*
 * The per-worker click writer: redirects hand it clicks and never wait;
 * it writes them to the events table in batches.
 */
#ifndef CLICKWRITER_H
#define CLICKWRITER_H

#include <stdint.h>

#include "core/clickqueue.h"

struct clickwriter_stats {
	uint64_t	queued;		/* now waiting, in flight included */
	uint64_t	dropped;	/* since the worker started */
};

/*
 * Once per worker, after the database is registered. bots: the isbot
 * pattern list (core/uaclass.h), which classifies each click's
 * User-Agent as its batch is written; a list that does not compile stops
 * the worker.
 */
void	clickwriter_init(const char *bots, size_t len);
/* Queues c (taking ownership); never blocks. */
void	clickwriter_push(struct click *c);
/* At worker exit: writes what is left synchronously. */
void	clickwriter_flush(void);
void	clickwriter_stats(struct clickwriter_stats *out);

#endif
