/*
 * What a request carries between the times Kore runs its handler: the
 * matched route, its parsed inputs and the statement in flight. Created
 * by the dispatcher on the first run, freed with the request.
 */
#ifndef CONTEXT_H
#define CONTEXT_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "cache/urlcache.h"
#include "core/query.h"
#include "http/respond.h"
#include "core/route.h"
#include "db/db.h"

struct api_ctx;

/* KORE_RESULT_OK when a response was sent, KORE_RESULT_RETRY to wait. */
typedef int	(*api_handler)(struct http_request *, struct api_ctx *);

struct api_ctx {
	struct timespec		 started;	/* monotonic; metrics_clock() */
	char			 request_id[REQUEST_ID_SIZE];
	const char		*cache;		/* X-Cache sent, for the log */
	const struct route	*route;
	api_handler		 handler;
	char			 param[64];	/* :id or :code, NUL-terminated */
	struct query		 query;
	json_t			*body;		/* owned; JSON routes only */
	struct db_call		 db;
	struct urlcache_inval	 inval;
	int			 inval_started;
	int			 step;		/* the handler's own progress */
	int			 tries;
	void			*state;		/* handler-owned */
	void			(*state_free)(void *);
};

/* Parses ctx->param as a positive id; 0 when it is not one. */
int64_t	ctx_param_id(const struct api_ctx *ctx);

#endif
