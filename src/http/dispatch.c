/*
 * The single Kore route. Every request comes here first: it gets its
 * request id, the headers every response carries, its client address
 * (the peer, or what a trusted proxy says: TRUSTED_PROXIES), its route
 * and a method check that answers 405 with Allow; OPTIONS is answered
 * here for every route (CORS preflights, http/cors.c). Then the router's
 * gate decides whether it may go on (keys, rate limits), and only then
 * is its query string checked against what the endpoint takes and, for
 * JSON writes, its body parsed: a client without a key learns nothing
 * from those answers, and costs no parsing. Then the endpoint's handler
 * runs, now and each time Kore wakes the request again. The endpoints
 * come from the layer above (http/router.h); nothing here knows a
 * resource.
 */

#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "config/config.h"
#include "core/fields.h"
#include "http/context.h"
#include "http/cors.h"
#include "http/router.h"
#include "http/respond.h"
#include "obs/log.h"
#include "obs/metrics.h"

int	dispatch(struct http_request *);

static struct http_ctx	*ctx_create(struct http_request *);
static int		 ctx_accept(struct http_request *, struct http_ctx *);
static void		 client_set(struct http_request *, struct http_ctx *);
static void		 ctx_free(struct http_request *);
static int		 method_bit(const struct http_request *);
static void		 request_log(struct http_request *, struct http_ctx *,
			    double);
static const struct endpoint *endpoint_find(enum route_id, int);
static int		 route_methods(enum route_id);
static int		 body_parse(struct http_request *, struct http_ctx *);
static int		 query_known(struct http_request *, struct http_ctx *,
			    const struct endpoint *);
static void		 number_out_of_range(struct http_request *,
			    const char *, size_t, int);

/* Set once per worker by http_router_set(); read-only afterwards. */
static const struct router	*router;

void
http_router_set(const struct router *r)
{
	router = r;
}

int
dispatch(struct http_request *req)
{
	struct http_ctx	*ctx;

	if ((ctx = req->hdlr_extra) == NULL) {
		if ((ctx = ctx_create(req)) == NULL)
			return (KORE_RESULT_OK);
	}

	if (!ctx->admitted) {
		switch (router->gate(req, ctx)) {
		case GATE_WAIT:
			return (KORE_RESULT_RETRY);
		case GATE_DONE:
			return (KORE_RESULT_OK);
		case GATE_PASS:
			break;
		}
		ctx->admitted = 1;
		if (!ctx_accept(req, ctx))
			return (KORE_RESULT_OK);
	}

	return (ctx->endpoint->handler(req, ctx));
}

int64_t
ctx_param_id(const struct http_ctx *ctx)
{
	int64_t		id;

	if (query_int64(ctx->param, &id) == -1 || id <= 0)
		return (0);
	return (id);
}

/*
 * What is answered before the gate: an unknown route, a wrong method,
 * OPTIONS; NULL means a response has been sent. The context exists
 * before any refusal, so that ctx_free() records every request, 404s
 * included.
 */
static struct http_ctx *
ctx_create(struct http_request *req)
{
	struct route_match	 m;
	const struct endpoint	*ep;
	struct http_ctx		*ctx;
	int			 method;

	route_match(req->path, &m);

	ctx = kore_calloc(1, router->ctx_size);
	request_id_assign(req, ctx->request_id);
	metrics_clock(&ctx->started);
	metrics_inflight(1);
	ctx->route = m.route;
	req->hdlr_extra = ctx;
	req->onfree = ctx_free;
	client_set(req, ctx);
	cors_headers(req);

	if (m.route->id == ROUTE_NOT_FOUND) {
		respond_error(req, 404, NULL, "no such route");
		return (NULL);
	}

	method = method_bit(req);
	if (method == ROUTE_OPTIONS && req->method == HTTP_METHOD_OPTIONS) {
		cors_options(req, route_methods(m.route->id));
		return (NULL);
	}
	if ((ep = endpoint_find(m.route->id, method)) == NULL) {
		respond_bad_method(req, route_methods(m.route->id) |
		    ROUTE_OPTIONS);
		return (NULL);
	}

	ctx->endpoint = ep;
	/* Too long for any id or code: "" makes the handler answer 404. */
	(void)route_param_copy(&m, ctx->param, sizeof(ctx->param));
	return (ctx);
}

/* After the gate: the query string and the body; 0 once answered. */
static int
ctx_accept(struct http_request *req, struct http_ctx *ctx)
{
	const struct endpoint	*ep = ctx->endpoint;

	if (query_parse(&ctx->query, req->query_string) == -1) {
		respond_error(req, 400, NULL, "malformed query string");
		return (0);
	}
	if (!query_known(req, ctx, ep))
		return (0);

	if (ep->json_body && !body_parse(req, ctx))
		return (0);

	return (1);
}

/*
 * The peer, unless it is a trusted proxy (TRUSTED_PROXIES): then the
 * client its X-Forwarded-For or X-Real-IP names (core/netaddr.c).
 */
static void
client_set(struct http_request *req, struct http_ctx *ctx)
{
	struct connection	*c = req->owner;
	struct netaddr		 peer;
	const char		*xff, *real;

	memset(&peer, 0, sizeof(peer));
	if (c != NULL && c->family == AF_INET)
		netaddr_from_v4(ntohl(c->addr.ipv4.sin_addr.s_addr), &peer);
	else if (c != NULL && c->family == AF_INET6)
		memcpy(peer.b, &c->addr.ipv6.sin6_addr, sizeof(peer.b));

	if (config.trusted_proxies.n == 0) {
		ctx->client = peer;
	} else {
		if (!http_request_header(req, "x-forwarded-for", &xff))
			xff = NULL;
		if (!http_request_header(req, "x-real-ip", &real))
			real = NULL;
		netaddr_client(&peer, xff, real, &config.trusted_proxies,
		    &ctx->client);
	}
	netaddr_format(&ctx->client, ctx->client_text);
}

/*
 * Kore frees the request's statements after this runs, so the one that
 * lives inside ctx must be let go here, before ctx itself. The response
 * has been sent (req->status); one reading of the clock serves every
 * record of the request.
 */
static void
ctx_free(struct http_request *req)
{
	struct http_ctx	*ctx = req->hdlr_extra;
	double		 seconds;

	if (ctx == NULL)
		return;

	seconds = metrics_since(&ctx->started);
	metrics_request(ctx->route->id, method_bit(req), req->status, seconds);
	metrics_inflight(-1);
	request_log(req, ctx, seconds);

	if (router->cleanup != NULL)
		router->cleanup(ctx);
	query_free(&ctx->query);
	if (ctx->body != NULL)
		json_decref(ctx->body);
	kore_free(ctx);
	req->hdlr_extra = NULL;
}

static int
method_bit(const struct http_request *req)
{
	switch (req->method) {
	case HTTP_METHOD_GET:
		return (ROUTE_GET);
	case HTTP_METHOD_HEAD:
		return (ROUTE_HEAD);
	case HTTP_METHOD_POST:
		return (ROUTE_POST);
	case HTTP_METHOD_PUT:
		return (ROUTE_PUT);
	case HTTP_METHOD_DELETE:
		return (ROUTE_DELETE);
	case HTTP_METHOD_PATCH:
		return (ROUTE_PATCH);
	default:
		return (ROUTE_OPTIONS);
	}
}

/* HEAD runs the GET handler; Kore leaves the body out. */
static const struct endpoint *
endpoint_find(enum route_id route, int method)
{
	const struct endpoint	*ep;
	size_t			 i;

	if (method == ROUTE_HEAD)
		method = ROUTE_GET;

	for (i = 0; i < router->count; i++) {
		ep = router->endpoints[i];
		if (ep->route == route && ep->method == method)
			return (ep);
	}

	return (NULL);
}

/* The methods of a route: its endpoints', HEAD wherever GET is. */
static int
route_methods(enum route_id route)
{
	size_t	i;
	int	methods = 0;

	for (i = 0; i < router->count; i++) {
		if (router->endpoints[i]->route == route)
			methods |= router->endpoints[i]->method;
	}
	if (methods & ROUTE_GET)
		methods |= ROUTE_HEAD;
	return (methods);
}

/* Every query parameter is one the endpoint takes, or a 400 naming them. */
static int
query_known(struct http_request *req, struct http_ctx *ctx,
    const struct endpoint *ep)
{
	const char *const	*filters, *const *paging, *const *n;
	const char		*bad;
	struct kore_buf		 msg;

	if (ep->query == QUERY_ANY)
		return (1);
	filters = ep->query != QUERY_NONE ? ep->params : NULL;
	paging = ep->query == QUERY_LIST ? page_params : NULL;
	if ((bad = query_unknown(&ctx->query, filters, paging)) == NULL)
		return (1);

	kore_buf_init(&msg, 128);
	kore_buf_appendf(&msg, "unknown query parameter '%s'", bad);
	if (ep->query == QUERY_NONE) {
		kore_buf_appendf(&msg, ": %s takes none",
		    ctx->route->template);
	} else {
		kore_buf_appendf(&msg, "; accepted:");
		for (n = filters; n != NULL && *n != NULL; n++)
			kore_buf_appendf(&msg, " %s%s", *n,
			    n[1] != NULL || paging != NULL ? "," : "");
		for (n = paging; n != NULL && *n != NULL; n++)
			kore_buf_appendf(&msg, " %s%s", *n,
			    n[1] != NULL ? "," : "");
	}
	respond_error(req, 400, NULL, kore_buf_stringify(&msg, NULL));
	kore_buf_cleanup(&msg);
	return (0);
}

/*
 * Any valid JSON text parses (jansson handles \u escapes and surrogate
 * pairs and refuses invalid UTF-8); only an object is a valid body. The
 * Content-Type is not checked: a form-encoded body is refused because it
 * is not JSON, and a JSON body sent with the wrong type still works.
 */
static int
body_parse(struct http_request *req, struct http_ctx *ctx)
{
	json_error_t	 err;
	const char	*data;
	size_t		 len;

	len = req->http_body_length;
	if (len > config.json_body_max) {
		respond_error(req, 413, NULL, "request body is too large");
		return (0);
	}

	if (len == 0 || req->http_body == NULL) {
		respond_error(req, 400, NULL, "request body is empty");
		return (0);
	}

	data = (const char *)req->http_body->data;
	ctx->body = json_loadb(data, len, JSON_ALLOW_NUL, &err);
	if (ctx->body == NULL) {
		if (json_error_code(&err) == json_error_numeric_overflow) {
			number_out_of_range(req, data, len, err.position);
		} else {
			respond_error(req, 400, NULL,
			    "request body is not valid JSON");
		}
		return (0);
	}

	if (!json_is_object(ctx->body)) {
		respond_error(req, 400, NULL,
		    "request body must be a JSON object");
		return (0);
	}

	return (1);
}

/* A number too large for any field is a 422 naming that field. */
static void
number_out_of_range(struct http_request *req, const char *data, size_t len,
    int position)
{
	char		 key[128];
	const char	*field;

	field = field_at_offset(data, len, position > 0 ? (size_t)position : 0,
	    key, sizeof(key));
	respond_invalid_field(req, field != NULL ? field : "body",
	    "number is out of range");
}

static void
request_log(struct http_request *req, struct http_ctx *ctx, double seconds)
{
	struct log_request	r;

	r.request_id = ctx->request_id;
	r.client = ctx->client_text;
	r.route = ctx->route->template;
	r.cache = ctx->cache;
	r.status = req->status;
	r.duration_ms = seconds * 1000.0;
	log_request(req, &r);
}
