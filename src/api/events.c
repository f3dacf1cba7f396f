/*
 * /events: the audit log. The service writes created, updated, deleted
 * and click events itself; clients may add their own. Events name their
 * URL and user without foreign keys, so they outlive both; creating one
 * still requires both to exist at that moment.
 */

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "core/bodies.h"
#include "http/respond.h"

#define EVENTS_FILTER \
	"($1::bigint IS NULL OR url_id = $1) AND " \
	"($2::bigint IS NULL OR user_id = $2) AND " \
	"($3::text IS NULL OR event_type = $3)"

static const char sql_list[] =
	"WITH page AS (SELECT e FROM events e WHERE " EVENTS_FILTER
	"    AND ($4::bigint IS NULL OR id > $4) ORDER BY id LIMIT $5 OFFSET $6)"
	" SELECT CASE WHEN $7 THEN (SELECT count(*) FROM events WHERE "
	EVENTS_FILTER " AND ($4::bigint IS NULL OR id > $4)) END,"
	" coalesce((SELECT json_agg(event_json(page.e) ORDER BY (page.e).id)"
	"     FROM page), '[]'),"
	" (SELECT max((page.e).id) FROM page)";

static const struct api_filter list_filters[] = {
	{ "url_id",	API_FILTER_INT },
	{ "user_id",	API_FILTER_INT },
	{ "event_type",	API_FILTER_TEXT },
};

static const char sql_create[] =
	"WITH chk AS (SELECT"
	"    EXISTS (SELECT 1 FROM urls WHERE id = $1) AS url_ok,"
	"    EXISTS (SELECT 1 FROM users WHERE id = $2) AS user_ok),"
	" ins AS (INSERT INTO events (url_id, user_id, event_type, details)"
	"    SELECT $1, $2, $3, coalesce($4::jsonb, '{}'::jsonb) FROM chk"
	"    WHERE url_ok AND user_ok RETURNING events AS r)"
	" SELECT chk.url_ok, chk.user_ok, (SELECT event_json(ins.r) FROM ins)"
	" FROM chk";

static const char sql_get[] =
	"SELECT event_json(e) FROM events e WHERE id = $1";

static const char sql_delete[] =
	"DELETE FROM events WHERE id = $1 RETURNING id";

static int	create_bind(struct http_request *, struct api_ctx *);

int
events_list(struct http_request *req, struct api_ctx *ctx)
{
	return (api_list(req, ctx, sql_list, list_filters,
	    sizeof(list_filters) / sizeof(list_filters[0])));
}

int
events_create(struct http_request *req, struct api_ctx *ctx)
{
	if (ctx->step == 0) {
		if (!create_bind(req, ctx))
			return (KORE_RESULT_OK);
		ctx->step = 1;
	}

	API_AWAIT(req, ctx);
	if (strcmp(db_value(&ctx->db, 0, 0), "t"))
		return (api_not_found(req, "url"));
	if (strcmp(db_value(&ctx->db, 0, 1), "t"))
		return (api_not_found(req, "user"));

	respond_json(req, 201, db_value(&ctx->db, 0, 2),
	    (size_t)db_length(&ctx->db, 0, 2));
	return (KORE_RESULT_OK);
}

int
event_get(struct http_request *req, struct api_ctx *ctx)
{
	return (api_fetch_by_id(req, ctx, sql_get, "event"));
}

int
event_delete(struct http_request *req, struct api_ctx *ctx)
{
	if (ctx->step == 0 &&
	    !api_by_id_start(req, ctx, sql_delete, "event"))
		return (KORE_RESULT_OK);

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "event"));
	respond_no_content(req);
	return (KORE_RESULT_OK);
}

static int
create_bind(struct http_request *req, struct api_ctx *ctx)
{
	struct event_body	 b;
	json_t			*errors;
	char			*text;

	errors = json_object();
	if (body_event_create(ctx->body, &b, errors) == -1)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	db_prepare(&ctx->db, sql_create);
	db_param_int(&ctx->db, 0, b.url_id);
	db_param_int(&ctx->db, 1, b.user_id);
	db_param_text(&ctx->db, 2, b.event_type, b.event_type_len);
	if (b.details != NULL) {
		text = json_dumps(b.details, JSON_COMPACT);
		if (text == NULL)
			fatal("json_dumps: out of memory");
		db_param_str(&ctx->db, 3, text);
		free(text);
	} else {
		db_param_null(&ctx->db, 3);
	}

	return (1);
}
