/*
 * The table of endpoints (api/routes.c): each is the dispatcher's
 * struct endpoint and what the API layer adds to it.
 */
#ifndef ROUTES_H
#define ROUTES_H

#include <stddef.h>

#include "http/router.h"

/*
 * The OpenAPI document (GET /openapi.json, api/web.c) takes each
 * operation's operationId, summary and parameters from here.
 */
struct api_route {
	struct endpoint	 ep;		/* first: what the dispatcher gets */
	const char	*pool;		/* database pool; NULL is DB_NAME */
	const char	*operation;	/* OpenAPI operationId */
	const char	*summary;	/* one line, for the API documentation */
};

/* The whole table, in its order. */
const struct api_route	*api_routes(size_t *count);

#endif
