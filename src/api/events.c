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
#include "core/bodies.h"
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

/*
 * A user's events: named statements. Planning the list visits every
 * partition of events and click_packs (5-10 ms at 10M events), its run
 * a few; with user_id a required equality the generic plan PostgreSQL
 * keeps reads the user's blocks through their index (db/sql_events.c).
 * With url_id too, the list's own statement: the link's index reads less.
 */
static const struct api_list_by events_by_user = {
	"user_id", "url_id", "events_page_user", sql_events_page_user,
	"events_batch_user", sql_events_batch_user,
};

static const struct api_list events_list_def = {
	"events", list_filters, events_list_names,
	sql_events_page, sql_events_batch, &events_by_user,
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
	/*
	 * Named: planning it visits every partition of events and
	 * click_packs (2-3 ms at 10M events, 10-16 ms on a connection's
	 * first statement), running its generic plan 0.4-0.6 ms.
	 */
	return (api_fetch_by_id_named(req, h, "event_get", sql_events_get,
	    "event"));
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
	struct event_body	 b;
	json_t			*errors;
	char			*text;

	errors = json_object();
	if (body_event_create(ctx->http.body, &b, errors) == -1)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	api_prepare(ctx, sql_events_create);
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
	api_bind_owner(ctx, 4);

	return (1);
}
