/*
 * The single Kore route. Every request comes here first: it gets its
 * request id, its route, a method check that answers 405 with Allow, its
 * query string and, for JSON writes, its body. Then the endpoint's
 * handler runs, now and each time Kore wakes the request again.
 */

#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "api/api.h"
#include "app/config.h"
#include "core/fields.h"
#include "http/context.h"
#include "http/respond.h"
#include "obs/log.h"
#include "obs/metrics.h"

int	dispatch(struct http_request *);

struct endpoint {
	enum route_id	route;
	int		method;		/* ROUTE_* bit */
	api_handler	handler;
	int		json_body;
};

static struct api_ctx	*ctx_create(struct http_request *);
static void		 ctx_free(struct http_request *);
static int		 method_bit(const struct http_request *);
static void		 request_log(struct http_request *, struct api_ctx *,
			    double);
static const struct endpoint *endpoint_find(enum route_id, int);
static int		 body_parse(struct http_request *, struct api_ctx *);
static void		 number_out_of_range(struct http_request *,
			    const char *, size_t, int);

static const struct endpoint endpoints[] = {
	{ ROUTE_USERS,		ROUTE_GET,	users_list,	0 },
	{ ROUTE_USERS,		ROUTE_POST,	users_create,	1 },
	{ ROUTE_USERS_BULK,	ROUTE_POST,	users_bulk,	0 },
	{ ROUTE_USER,		ROUTE_GET,	user_get,	0 },
	{ ROUTE_USER,		ROUTE_PUT,	user_update,	1 },
	{ ROUTE_USER,		ROUTE_DELETE,	user_delete,	0 },
	{ ROUTE_URLS,		ROUTE_GET,	urls_list,	0 },
	{ ROUTE_URLS,		ROUTE_POST,	urls_create,	1 },
	{ ROUTE_URL,		ROUTE_GET,	url_get,	0 },
	{ ROUTE_URL,		ROUTE_PUT,	url_update,	1 },
	{ ROUTE_URL,		ROUTE_DELETE,	url_delete,	0 },
	{ ROUTE_URL_STATS,	ROUTE_GET,	url_stats,	0 },
	{ ROUTE_URL_REDIRECT,	ROUTE_GET,	redirect,	0 },
	{ ROUTE_EVENTS,		ROUTE_GET,	events_list,	0 },
	{ ROUTE_EVENTS,		ROUTE_POST,	events_create,	1 },
	{ ROUTE_EVENT,		ROUTE_GET,	event_get,	0 },
	{ ROUTE_EVENT,		ROUTE_DELETE,	event_delete,	0 },
	{ ROUTE_HEALTH,		ROUTE_GET,	ops_health,	0 },
	{ ROUTE_READY,		ROUTE_GET,	ops_ready,	0 },
	{ ROUTE_METRICS,	ROUTE_GET,	metrics_page,	0 },
	{ ROUTE_REDIRECT,	ROUTE_GET,	redirect,	0 },
};

int
dispatch(struct http_request *req)
{
	struct api_ctx	*ctx;

	if ((ctx = req->hdlr_extra) == NULL) {
		if ((ctx = ctx_create(req)) == NULL)
			return (KORE_RESULT_OK);
	}

	return (ctx->handler(req, ctx));
}

int64_t
ctx_param_id(const struct api_ctx *ctx)
{
	int64_t		id;

	if (query_int64(ctx->param, &id) == -1 || id <= 0)
		return (0);
	return (id);
}

/*
 * Everything that can be refused before an endpoint runs is refused
 * here; NULL means a response has been sent. The context exists before
 * any refusal, so that ctx_free() records every request, 404s included.
 */
static struct api_ctx *
ctx_create(struct http_request *req)
{
	struct route_match	 m;
	const struct endpoint	*ep;
	struct api_ctx		*ctx;

	route_match(req->path, &m);

	ctx = kore_calloc(1, sizeof(*ctx));
	request_id_assign(req, ctx->request_id);
	metrics_clock(&ctx->started);
	metrics_inflight(1);
	ctx->route = m.route;
	req->hdlr_extra = ctx;
	req->onfree = ctx_free;

	if (m.route->id == ROUTE_NOT_FOUND) {
		respond_error(req, 404, NULL, "no such route");
		return (NULL);
	}

	if ((ep = endpoint_find(m.route->id, method_bit(req))) == NULL) {
		respond_bad_method(req, m.route->methods);
		return (NULL);
	}

	ctx->handler = ep->handler;
	/* Too long for any id or code: "" makes the handler answer 404. */
	(void)route_param_copy(&m, ctx->param, sizeof(ctx->param));

	if (query_parse(&ctx->query, req->query_string) == -1) {
		respond_error(req, 400, NULL, "malformed query string");
		return (NULL);
	}

	if (ep->json_body && !body_parse(req, ctx))
		return (NULL);

	return (ctx);
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
	struct api_ctx	*ctx = req->hdlr_extra;
	double		 seconds;

	if (ctx == NULL)
		return;

	seconds = metrics_since(&ctx->started);
	metrics_request(ctx->route->id, method_bit(req), req->status, seconds);
	metrics_inflight(-1);
	request_log(req, ctx, seconds);

	db_cleanup(&ctx->db);
	urlcache_inval_release(&ctx->inval);
	query_free(&ctx->query);
	if (ctx->body != NULL)
		json_decref(ctx->body);
	if (ctx->state_free != NULL)
		ctx->state_free(ctx->state);
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
	size_t	i;

	if (method == ROUTE_HEAD)
		method = ROUTE_GET;

	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		if (endpoints[i].route == route && endpoints[i].method == method)
			return (&endpoints[i]);
	}

	return (NULL);
}

/*
 * Any valid JSON text parses (jansson handles \u escapes and surrogate
 * pairs and refuses invalid UTF-8); only an object is a valid body. The
 * Content-Type is not checked: a form-encoded body is refused because it
 * is not JSON, and a JSON body sent with the wrong type still works.
 */
static int
body_parse(struct http_request *req, struct api_ctx *ctx)
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
request_log(struct http_request *req, struct api_ctx *ctx, double seconds)
{
	struct log_request	r;

	r.request_id = ctx->request_id;
	r.route = ctx->route->template;
	r.cache = ctx->cache;
	r.status = req->status;
	r.duration_ms = seconds * 1000.0;
	log_request(req, &r);
}
