/*
 * The interface between the dispatcher (http/dispatch.c) and the layer
 * that serves the routes (api/routes.c): one table of endpoints, each a
 * route of core/route.h with one method and what the dispatcher must know
 * to take its requests (a JSON body or not, which query parameters, the
 * handler). The table is the only place that says which methods a route
 * has: Allow headers are computed from it.
 *
 * The dispatcher allocates ctx_size bytes per request, a struct http_ctx
 * at their start (the registering layer's context begins with one), and
 * calls cleanup(ctx) when the request is freed, before it frees the rest.
 *
 * Before an endpoint's handler, its query string or its body is looked
 * at, the request passes the gate (who may call it, how often: the API's
 * keys and rate limits, api/auth.c). The gate may sleep; the dispatcher
 * calls it again on each wake-up until it lets the request pass or has
 * answered it.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>

#include "http/context.h"

struct http_request;

/* KORE_RESULT_OK when a response was sent, KORE_RESULT_RETRY to wait. */
typedef int	(*http_handler)(struct http_request *, struct http_ctx *);

/*
 * Query strings: the API's routes refuse what they do not know (a typo
 * such as ?userid= must not return the whole table); a short link's own
 * query string (?utm_source=...) and the probes of monitors and load
 * balancers are never an error.
 */
enum query_rule {
	QUERY_NONE,		/* no parameter accepted */
	QUERY_ANY,		/* ignored */
	QUERY_LIST,		/* params and page_params (core/query.h) */
	QUERY_PARAMS		/* params only */
};

struct endpoint {
	enum route_id		 route;
	int			 method;	/* ROUTE_* bit; GET serves HEAD */
	http_handler		 handler;
	int			 json_body;	/* parsed before the handler */
	enum query_rule		 query;
	const char *const	*params;	/* QUERY_LIST: the filters;
						   QUERY_PARAMS: all */
};

enum gate_result {
	GATE_PASS,		/* on to the endpoint */
	GATE_WAIT,		/* asleep; call the gate again when woken */
	GATE_DONE		/* the gate has answered the request */
};

struct router {
	const struct endpoint *const	*endpoints;
	size_t				 count;
	size_t				 ctx_size;	/* >= sizeof(http_ctx) */
	void				(*cleanup)(struct http_ctx *);
	enum gate_result		(*gate)(struct http_request *,
					    struct http_ctx *);
};

/* Once per worker, before the first request; r must outlive the worker. */
void	http_router_set(const struct router *r);

#endif
