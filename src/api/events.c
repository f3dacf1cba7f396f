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
#include "api/list.h"
#include "core/fields.h"
#include "core/validate.h"
#include "http/respond.h"

static const struct api_filter list_filters[] = {
	{ "url_id",	API_FILTER_INT,		0 },
	{ "user_id",	API_FILTER_INT,		0 },
	{ "event_type",	API_FILTER_TEXT,	1 },
	{ NULL,		0,			0 },
};

static const char *const list_names[] = {
	"url_id", "user_id", "event_type", NULL
};

#define EVENTS_FILTER \
	"($7::bigint IS NULL OR url_id = $7) AND " \
	"($8::bigint IS NULL OR user_id = $8) AND " \
	"($9::text IS NULL OR event_type = $9)"

const struct api_list events_list_def = {
	"events", list_filters, list_names,
	LIST_SQL_PAGE("events", "event_json", EVENTS_FILTER),
	LIST_SQL_BATCH("events", "event_json", EVENTS_FILTER),
};

static const char sql_create[] =
	"WITH chk AS (SELECT"
	"    EXISTS (SELECT 1 FROM urls WHERE id = $1) AS url_ok,"
	"    EXISTS (SELECT 1 FROM users WHERE id = $2) AS user_ok),"
	" ins AS (INSERT INTO events (url_id, user_id, event_type, details)"
	"    SELECT $1, $2, $3, coalesce($4::jsonb, '{}'::jsonb) FROM chk"
	"    WHERE url_ok AND user_ok RETURNING events AS r)"
	" SELECT chk.url_ok, chk.user_ok, (SELECT event_json(ins.r) FROM ins),"
	" (SELECT (ins.r).id FROM ins) FROM chk";

static const char sql_get[] =
	"SELECT event_json(e) FROM events e WHERE id = $1";

static const char sql_delete[] =
	"DELETE FROM events WHERE id = $1 RETURNING id";

static int	create_bind(struct http_request *, struct api_ctx *);

int
events_list(struct http_request *req, struct api_ctx *ctx)
{
	return (api_list(req, ctx, &events_list_def));
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

	return (api_created(req, ctx, "events", 2, 3));
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
	json_t			*errors, *details;
	const char		*type;
	size_t			 type_len;
	int64_t			 url_id, user_id;
	char			*text;

	errors = json_object();
	field_int(ctx->body, "url_id", FIELD_REQUIRED, errors, &url_id);
	field_int(ctx->body, "user_id", FIELD_REQUIRED, errors, &user_id);
	field_string(ctx->body, "event_type", FIELD_REQUIRED,
	    validate_event_type, errors, &type, &type_len);
	if (field_object(ctx->body, "details", FIELD_NULLABLE, errors,
	    &details) != FIELD_SET)
		details = NULL;

	if (json_object_size(errors) > 0)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	db_prepare(&ctx->db, sql_create);
	db_param_int(&ctx->db, 0, url_id);
	db_param_int(&ctx->db, 1, user_id);
	db_param_text(&ctx->db, 2, type, type_len);
	if (details != NULL) {
		text = json_dumps(details, JSON_COMPACT);
		if (text == NULL)
			fatal("json_dumps: out of memory");
		db_param_str(&ctx->db, 3, text);
		free(text);
	} else {
		db_param_null(&ctx->db, 3);
	}

	return (1);
}
