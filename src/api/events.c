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
#include "db/sql_events.h"
#include "core/fields.h"
#include "core/validate.h"
#include "http/respond.h"

static const struct api_filter list_filters[] = {
	{ "url_id",	API_FILTER_INT,		0 },
	{ "user_id",	API_FILTER_INT,		0 },
	{ "event_type",	API_FILTER_TEXT,	1 },
	{ NULL,		0,			0 },
};

const char *const events_list_names[] = {
	"url_id", "user_id", "event_type", NULL
};

static const struct api_list events_list_def = {
	"events", list_filters, events_list_names,
	sql_events_page, sql_events_batch,
};

static int	create_bind(struct http_request *, struct api_ctx *);
static int	st_wait_insert(struct http_request *, struct api_ctx *);
static int	st_wait_delete(struct http_request *, struct api_ctx *);

int
events_list(struct http_request *req, struct http_ctx *h)
{
	return (api_list(req, api_ctx(h), &events_list_def));
}

int
events_create(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!create_bind(req, ctx))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_insert));
}

static int
st_wait_insert(struct http_request *req, struct api_ctx *ctx)
{
	API_AWAIT(req, ctx);
	if (strcmp(db_value(&ctx->db, 0, 0), "t"))
		return (api_not_found(req, "url"));
	if (strcmp(db_value(&ctx->db, 0, 1), "t"))
		return (api_not_found(req, "user"));
	return (api_created(req, ctx, "events", 2, 3));
}

int
event_get(struct http_request *req, struct http_ctx *h)
{
	return (api_fetch_by_id(req, h, sql_events_get, "event"));
}

int
event_delete(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!api_by_id_start(req, ctx, sql_events_delete, "event"))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_delete));
}

static int
st_wait_delete(struct http_request *req, struct api_ctx *ctx)
{
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
	field_int(ctx->http.body, "url_id", FIELD_REQUIRED, errors, &url_id);
	field_int(ctx->http.body, "user_id", FIELD_REQUIRED, errors, &user_id);
	field_string(ctx->http.body, "event_type", FIELD_REQUIRED,
	    validate_event_type, errors, &type, &type_len);
	if (field_object(ctx->http.body, "details", FIELD_NULLABLE, errors,
	    &details) != FIELD_SET)
		details = NULL;

	if (json_object_size(errors) > 0)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	api_prepare(ctx, sql_events_create);
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
	api_bind_owner(ctx, 4);

	return (1);
}
