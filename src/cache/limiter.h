/*
 * Request budgets shared by every instance: one count per bucket and
 * window in Redis (core/ratelimit.h for the windows), so that three
 * instances behind nginx give a key one budget, not three. While Redis
 * cannot answer within its budget, each worker counts on its own.
 */
#ifndef LIMITER_H
#define LIMITER_H

#include <stdint.h>

#include "core/ratelimit.h"

struct http_request;
struct redis_op;

struct limiter_call {
	struct http_request	*req;
	struct redis_op		*op;
	int			 pending;	/* Redis has not answered */
	int			 shared;	/* Redis' count: every instance's */
	uint32_t		 limit;
	char			 bucket[RATELIMIT_BUCKET_MAX];
	struct ratelimit_result	 result;
};

/* Once per worker, after redis_init(). */
void	limiter_init(void);

/*
 * Counts one request of bucket against limit per window. 1 when judged
 * at once (c->result; Redis unusable, so this worker's own count); 0
 * with req asleep until c->pending is 0 and c->result set.
 */
int	limiter_hit(struct limiter_call *c, struct http_request *req,
	    const char *bucket, uint32_t limit);
void	limiter_release(struct limiter_call *c);

#endif
