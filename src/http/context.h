/*
 * What the dispatcher keeps for a request between the times Kore runs its
 * handler: the request id and clock, the matched route and endpoint, the
 * parsed query string and JSON body. It knows no resource: the layer that
 * registered the endpoints (http/router.h) makes the context larger for
 * its own state and frees that state through its cleanup hook.
 */
#ifndef CONTEXT_H
#define CONTEXT_H

#include <time.h>
#include <jansson.h>

#include "core/netaddr.h"
#include "core/query.h"
#include "core/route.h"
#include "http/respond.h"

struct endpoint;

struct http_ctx {
	struct timespec		 started;	/* monotonic; metrics_clock() */
	char			 request_id[REQUEST_ID_SIZE];
	const char		*cache;		/* X-Cache sent, for the log */
	const struct route	*route;
	const struct endpoint	*endpoint;
	char			 param[64];	/* :id or :code, NUL-terminated */
	struct query		 query;
	json_t			*body;		/* owned; JSON routes only */
	int			 admitted;	/* the router's gate let it in */
	struct netaddr		 client;	/* TRUSTED_PROXIES applied */
	char			 client_text[NETADDR_TEXT_MAX];
};

/* Parses ctx->param as a positive id; 0 when it is not one. */
int64_t	ctx_param_id(const struct http_ctx *ctx);

#endif
