/*
 * The table of endpoints (api/routes.c): each is the dispatcher's
 * struct endpoint and what the API layer adds to it.
 */
#ifndef ROUTES_H
#define ROUTES_H

#include <stddef.h>

#include "http/router.h"

/* Who may call an endpoint (api/auth.c, docs/security.md). */
enum api_access {
	API_ACCESS_KEY = 0,	/* any key when API_KEYS_REQUIRED=1; a
				   read-only one for GET and HEAD only */
	API_ACCESS_OPEN,	/* never a key, never a rate limit */
	API_ACCESS_ADMIN,	/* an admin key, when keys are required */
	API_ACCESS_KEYS		/* an admin key, always: key management */
};

/*
 * The OpenAPI document (GET /openapi.json, api/web.c) takes each
 * operation's operationId, summary and parameters from here.
 */
struct api_route {
	struct endpoint	 ep;		/* first: what the dispatcher gets */
	const char	*pool;		/* database pool; NULL is DB_NAME */
	const char	*operation;	/* OpenAPI operationId */
	const char	*summary;	/* one line, for the API documentation */
	enum api_access	 access;
};

/* The whole table, in its order. */
const struct api_route	*api_routes(size_t *count);

#endif
