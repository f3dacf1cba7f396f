/*
 * Shared endpoint plumbing. Error mapping lives here and nowhere else, so
 * a constraint violation means the same status on every route.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "core/sqlstate.h"
#include "config/config.h"
#include "http/respond.h"
#include "obs/log.h"

static const char		*constraint_message(const char *);
static int			 st_wait_row(struct http_request *,
				    struct api_ctx *);
static int			 st_wait_invalidated(struct http_request *,
				    struct api_ctx *);

/* What a violated constraint means to the client. */
static const struct {
	const char	*constraint;
	const char	*message;
} constraint_messages[] = {
	{ "users_email_lower_key", "a user with this email already exists" },
	{ "urls_short_code_key", "this short code is already taken" },
	{ "urls_user_id_fkey", "user not found" },
	{ "api_keys_user_id_fkey", "user not found" },
};

int
api_db_error(struct http_request *req, struct api_ctx *ctx)
{
	const char	*state = ctx->db.sqlstate;

	switch (sqlstate_classify(state)) {
	case SQLSTATE_UNAVAILABLE:
	case SQLSTATE_TRANSIENT:
		respond_unavailable(req, "the database is unavailable");
		break;
	case SQLSTATE_TIMEOUT:
		/* statement_timeout: the route's budget ran out. */
		respond_unavailable(req, "the database did not answer in time");
		break;
	case SQLSTATE_UNIQUE:
		respond_error(req, 409, NULL,
		    constraint_message(ctx->db.constraint));
		break;
	case SQLSTATE_FOREIGN_KEY:
		respond_error(req, 404, NULL,
		    constraint_message(ctx->db.constraint));
		break;
	case SQLSTATE_BAD_VALUE:
		respond_error(req, 422, NULL, "a value cannot be stored");
		break;
	case SQLSTATE_OTHER:
		log_event(LOG_LEVEL_ERROR, "database_error",
		    "unexpected database error %s on %s",
		    state, ctx->http.route->template);
		respond_error(req, 500, NULL, NULL);
		break;
	}

	return (KORE_RESULT_OK);
}

int
api_invalidate(struct http_request *req, struct api_ctx *ctx,
    const char **codes, size_t count, enum urlcache_how how,
    api_state next)
{
	ctx->after = next;
	(void)urlcache_invalidate(&ctx->inval, req, codes, count, how);
	return (api_then(req, ctx, st_wait_invalidated));
}

/* Redis has confirmed, and local copies have expired (cache/urlcache.c). */
static int
st_wait_invalidated(struct http_request *req, struct api_ctx *ctx)
{
	if (ctx->inval.pending > 0)
		return (KORE_RESULT_RETRY);
	return (api_then(req, ctx, ctx->after));
}

int
api_then(struct http_request *req, struct api_ctx *ctx, api_state next)
{
	ctx->resume = next;
	return (next(req, ctx));
}

int
api_by_id_start(struct http_request *req, struct api_ctx *ctx,
    const char *sql, const char *what)
{
	ctx->what = what;
	if (ctx_param_id(&ctx->http) == 0) {
		api_not_found(req, what);
		return (0);
	}

	api_prepare(ctx, sql);
	db_param_int(&ctx->db, 0, ctx_param_id(&ctx->http));
	api_bind_owner(ctx, 1);
	return (1);
}

void
api_bind_owner(struct api_ctx *ctx, int i)
{
	if (ctx->who.owner > 0)
		db_param_int(&ctx->db, i, ctx->who.owner);
	else
		db_param_null(&ctx->db, i);
}

int
api_fetch_by_id(struct http_request *req, struct http_ctx *h,
    const char *sql, const char *what)
{
	return (api_fetch_by_id_named(req, h, NULL, sql, what));
}

int
api_fetch_by_id_named(struct http_request *req, struct http_ctx *h,
    const char *name, const char *sql, const char *what)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!api_by_id_start(req, ctx, sql, what))
		return (KORE_RESULT_OK);
	if (name != NULL)
		db_name(&ctx->db, name);
	return (api_then(req, ctx, st_wait_row));
}

/* The row of a GET by id, sent as it is; none is a 404. */
static int
st_wait_row(struct http_request *req, struct api_ctx *ctx)
{
	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, ctx->what));
	return (api_send_value(req, 200, ctx));
}

int
api_created(struct http_request *req, struct api_ctx *ctx,
    const char *collection, int value_col, int id_col)
{
	char	location[640];

	(void)snprintf(location, sizeof(location), "%s/%s/%s",
	    config.public_base_url, collection, db_value(&ctx->db, 0, id_col));
	http_response_header(req, "location", location);
	respond_json(req, 201, db_value(&ctx->db, 0, value_col),
	    (size_t)db_length(&ctx->db, 0, value_col));
	return (KORE_RESULT_OK);
}

int
api_send_value(struct http_request *req, int status, struct api_ctx *ctx)
{
	respond_json(req, status, db_value(&ctx->db, 0, 0),
	    (size_t)db_length(&ctx->db, 0, 0));
	return (KORE_RESULT_OK);
}

int
api_not_found(struct http_request *req, const char *what)
{
	char	msg[64];

	(void)snprintf(msg, sizeof(msg), "%s not found", what);
	respond_error(req, 404, NULL, msg);
	return (KORE_RESULT_OK);
}

int
api_invalid(struct http_request *req, json_t *errors)
{
	respond_invalid(req, errors);
	return (KORE_RESULT_OK);
}

static const char *
constraint_message(const char *constraint)
{
	size_t	i;

	for (i = 0; constraint != NULL &&
	    i < sizeof(constraint_messages) / sizeof(constraint_messages[0]);
	    i++) {
		if (!strcmp(constraint, constraint_messages[i].constraint))
			return (constraint_messages[i].message);
	}

	return (NULL);
}
