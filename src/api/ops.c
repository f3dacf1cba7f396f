/*
 * Liveness and readiness. /health answers whenever the worker serves
 * requests and touches nothing else, so an orchestrator never restarts
 * an instance because a dependency is down; /ready asks the database and
 * turns away traffic (503) when it cannot be reached. A cache that is down
 * only degrades the service (redirects bypass it), so it never fails
 * readiness.
 */

#include "api/api.h"
#include "api/common.h"
#include "cache/urlcache.h"
#include "http/respond.h"

static const char body_health[] = "{\"status\":\"ok\"}";

static void	ready_respond(struct http_request *, int);
static int	st_wait_probe(struct http_request *, struct api_ctx *);

int
ops_health(struct http_request *req, struct http_ctx *h)
{
	respond_json(req, 200, body_health, sizeof(body_health) - 1);
	return (KORE_RESULT_OK);
}

int
ops_ready(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	api_prepare(ctx, "SELECT 1");
	return (api_then(req, ctx, st_wait_probe));
}

static int
st_wait_probe(struct http_request *req, struct api_ctx *ctx)
{
	switch (db_run(req, &ctx->db)) {
	case DB_PENDING:
		return (KORE_RESULT_RETRY);
	case DB_FAILED:
		ready_respond(req, 0);
		break;
	case DB_DONE:
		ready_respond(req, 1);
		break;
	}

	return (KORE_RESULT_OK);
}

static void
ready_respond(struct http_request *req, int database_ok)
{
	json_t	*body;

	body = json_pack("{s:s, s:s, s:s}",
	    "status", database_ok ? "ready" : "unavailable",
	    "database", database_ok ? "ok" : "down",
	    "cache", urlcache_up() ? "ok" : "degraded");

	if (!database_ok)
		respond_retry_after(req);
	respond_object(req, database_ok ? 200 : 503, body);
}
