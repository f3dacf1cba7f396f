/*
 * Every endpoint of the service, in one table: its route and method, its
 * handler, what the dispatcher must check before it runs (a JSON body,
 * the query parameters it takes), the database pool whose statement
 * timeout it runs under, the one-line summary the API documentation
 * shows, and who may call it (api/routes.h). The
 * dispatcher gets this table (http/router.h) and computes Allow from it;
 * nothing else lists methods.
 */

#include <stddef.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/common.h"
#include "api/list.h"
#include "api/routes.h"
#include "config/config.h"
#include "http/router.h"

#define JSON	1
#define LONG	DB_LONG_NAME
#define KEY	API_ACCESS_KEY
#define OPEN	API_ACCESS_OPEN
#define ADMIN	API_ACCESS_ADMIN
#define KEYS	API_ACCESS_KEYS

/*
 * The routes; an API user's reading order. The filters of a list are
 * its table's (api_list.names), so the dispatcher refuses a parameter
 * the list would not bind.
 */
static const struct api_route routes[] = {
	{ { ROUTE_USERS, ROUTE_GET, users_list, 0, QUERY_LIST,
	    users_list_names }, NULL, "listUsers", "List users", KEY },
	{ { ROUTE_USERS, ROUTE_POST, users_create, JSON, QUERY_NONE, NULL },
	    NULL, "createUser", "Create a user", ADMIN },
	{ { ROUTE_USERS_BULK, ROUTE_POST, users_bulk, 0, QUERY_NONE, NULL },
	    LONG, "importUsers", "Import users from a CSV file", ADMIN },
	{ { ROUTE_USER, ROUTE_GET, user_get, 0, QUERY_NONE, NULL }, NULL,
	    "getUser", "Get a user", KEY },
	{ { ROUTE_USER, ROUTE_PUT, user_update, JSON, QUERY_NONE, NULL }, NULL,
	    "updateUser", "Update a user", KEY },
	{ { ROUTE_USER, ROUTE_DELETE, user_delete, 0, QUERY_NONE, NULL }, LONG,
	    "deleteUser", "Delete a user and their URLs", ADMIN },
	{ { ROUTE_URLS, ROUTE_GET, urls_list, 0, QUERY_LIST, urls_list_names },
	    NULL, "listUrls", "List URLs", KEY },
	{ { ROUTE_URLS, ROUTE_POST, urls_create, JSON, QUERY_NONE, NULL },
	    NULL, "createUrl", "Create a short link", KEY },
	{ { ROUTE_URL, ROUTE_GET, url_get, 0, QUERY_NONE, NULL }, NULL,
	    "getUrl", "Get a URL", KEY },
	{ { ROUTE_URL, ROUTE_PUT, url_update, JSON, QUERY_NONE, NULL }, NULL,
	    "updateUrl", "Update a URL", KEY },
	{ { ROUTE_URL, ROUTE_DELETE, url_delete, 0, QUERY_NONE, NULL }, NULL,
	    "deleteUrl", "Delete a URL", KEY },
	{ { ROUTE_URL_STATS, ROUTE_GET, url_stats, 0, QUERY_PARAMS,
	    url_stats_names }, NULL, "getUrlStats", "Clicks of a URL", KEY },
	{ { ROUTE_URL_REDIRECT, ROUTE_GET, redirect, 0, QUERY_ANY, NULL }, NULL,
	    "followShortLinkAlias", "Follow a short link (alias)", OPEN },
	{ { ROUTE_EVENTS, ROUTE_GET, events_list, 0, QUERY_LIST,
	    events_list_names }, NULL, "listEvents", "List events", KEY },
	{ { ROUTE_EVENTS, ROUTE_POST, events_create, JSON, QUERY_NONE, NULL },
	    NULL, "createEvent", "Record an event", KEY },
	{ { ROUTE_EVENT, ROUTE_GET, event_get, 0, QUERY_NONE, NULL }, NULL,
	    "getEvent", "Get an event", KEY },
	{ { ROUTE_EVENT, ROUTE_DELETE, event_delete, 0, QUERY_NONE, NULL },
	    NULL, "deleteEvent", "Delete an event", KEY },
	{ { ROUTE_KEYS, ROUTE_GET, keys_list, 0, QUERY_LIST, keys_list_names },
	    NULL, "listKeys", "List API keys", KEYS },
	{ { ROUTE_KEYS, ROUTE_POST, keys_create, JSON, QUERY_NONE, NULL },
	    NULL, "createKey", "Create an API key (shown once)", KEYS },
	{ { ROUTE_KEY, ROUTE_GET, key_get, 0, QUERY_NONE, NULL }, NULL,
	    "getKey", "Get an API key (without its secret)", KEYS },
	{ { ROUTE_KEY, ROUTE_DELETE, key_revoke, 0, QUERY_NONE, NULL }, NULL,
	    "revokeKey", "Revoke an API key", KEYS },
	{ { ROUTE_HEALTH, ROUTE_GET, ops_health, 0, QUERY_ANY, NULL }, NULL,
	    "health", "Liveness", OPEN },
	{ { ROUTE_READY, ROUTE_GET, ops_ready, 0, QUERY_ANY, NULL }, NULL,
	    "ready", "Readiness", OPEN },
	{ { ROUTE_METRICS, ROUTE_GET, metrics_page, 0, QUERY_ANY, NULL }, NULL,
	    "metrics", "Prometheus metrics (not on the public port)", OPEN },
	{ { ROUTE_URL_QR_SVG, ROUTE_GET, url_qr_svg, 0, QUERY_PARAMS,
	    url_qr_names }, NULL, "getUrlQrSvg",
	    "QR code of a short link (SVG)", KEY },
	{ { ROUTE_URL_QR_PNG, ROUTE_GET, url_qr_png, 0, QUERY_PARAMS,
	    url_qr_names }, NULL, "getUrlQrPng",
	    "QR code of a short link (PNG)", KEY },
	{ { ROUTE_HOME, ROUTE_GET, web_home, 0, QUERY_ANY, NULL }, NULL,
	    "webApp", "The web app", OPEN },
	{ { ROUTE_DOCS, ROUTE_GET, web_docs, 0, QUERY_ANY, NULL }, NULL,
	    "apiReference", "This API reference (Swagger UI)", OPEN },
	{ { ROUTE_OPENAPI, ROUTE_GET, web_openapi, 0, QUERY_ANY, NULL }, NULL,
	    "openapi", "The OpenAPI document", OPEN },
	{ { ROUTE_STATIC, ROUTE_GET, web_static, 0, QUERY_ANY, NULL }, NULL,
	    "staticFile", "A script, style or image of the web app", OPEN },
	{ { ROUTE_REDIRECT, ROUTE_GET, redirect, 0, QUERY_ANY, NULL }, NULL,
	    "followShortLink", "Follow a short link", OPEN },
};

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

static void	ctx_cleanup(struct http_ctx *);

/* Built once per worker by api_routes_register(); read-only afterwards. */
static const struct endpoint	*endpoints[NROUTES];
static struct router		 router;

void
api_routes_register(void)
{
	size_t	i;

	for (i = 0; i < NROUTES; i++)
		endpoints[i] = &routes[i].ep;
	router.endpoints = endpoints;
	router.count = NROUTES;
	router.ctx_size = sizeof(struct api_ctx);
	router.cleanup = ctx_cleanup;
	router.gate = api_gate;
	http_router_set(&router);
	web_openapi_init();
}

const struct api_route *
api_routes(size_t *count)
{
	*count = NROUTES;
	return (routes);
}

void
api_prepare(struct api_ctx *ctx, const char *sql)
{
	const struct api_route	*r;

	r = (const struct api_route *)ctx->http.endpoint;
	ctx->db.dbname = r->pool;
	db_prepare(&ctx->db, sql);
}

/* What an API request holds beyond the dispatcher's part. */
static void
ctx_cleanup(struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	db_cleanup(&ctx->db);
	api_gate_release(ctx);
	urlcache_inval_release(&ctx->inval);
	if (ctx->state_free != NULL)
		ctx->state_free(ctx->state);
}
