/*
 * Short code -> URL lookups in PostgreSQL, shared by every request of a
 * worker that asks for the same code at the same time (a burst of cache
 * misses for one code costs one row, not one per request), and sent in
 * batches: the misses of different codes that wait together cost one
 * statement.
 */
#ifndef CODELOOKUP_H
#define CODELOOKUP_H

#include <sys/queue.h>
#include <stdint.h>

struct http_request;
struct lookup_flight;

enum lookup_status {
	LOOKUP_PENDING,
	LOOKUP_FOUND,
	LOOKUP_ABSENT,		/* unknown or inactive */
	LOOKUP_FAILED		/* database unreachable or erroring */
};

struct lookup_waiter {
	struct http_request		*req;
	struct lookup_flight		*flight;
	enum lookup_status		 status;
	int64_t				 url_id;
	int64_t				 user_id;
	int64_t				 expires_at;	/* epoch s; 0: never */
	int				 capped;	/* has max_clicks */
	int				 patient;	/* waits out an outage */
	char				*url;		/* owned once FOUND */
	TAILQ_ENTRY(lookup_waiter)	 list;
};

/*
 * Puts req to sleep until w->status is no longer LOOKUP_PENDING. A patient
 * waiter is answered LOOKUP_FAILED only after the database stayed
 * unavailable for a few seconds (codelookup.c), any other when the next
 * attempt of its flight fails.
 */
void	code_lookup(struct lookup_waiter *w, struct http_request *req,
	    const char *code, int patient);
/*
 * A stopping worker's: lookups waiting out an unavailable database fail
 * now, and none waits from here on (the drain must not outlast them).
 */
void	code_lookup_drain(void);
/* Leaves the flight (the request is going away) and frees w's result. */
void	code_lookup_release(struct lookup_waiter *w);

#endif
