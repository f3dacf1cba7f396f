/*
 * GET /<code> and its alias GET /urls/<code>/redirect.
 *
 * The lookup and the click it causes are one statement: an inactive,
 * deleted or unknown code finds no row, so it is a 404 and records
 * nothing. HEAD answers the same without a click, for monitors and link
 * previews.
 */

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "core/shortcode.h"
#include "core/text.h"
#include "http/respond.h"

/* Longest User-Agent or Referer kept in a click event, in bytes. */
#define CLICK_HEADER_MAX	512

static const char sql_redirect[] =
	"WITH u AS (SELECT id, user_id, original_url FROM urls"
	"    WHERE short_code = $1 AND is_active),"
	" clicked AS (INSERT INTO events (url_id, user_id, event_type, details)"
	"    SELECT id, user_id, 'click', jsonb_build_object("
	"    'short_code', $1::text, 'user_agent', $2::text,"
	"    'referer', $3::text) FROM u WHERE $4)"
	" SELECT original_url FROM u";

static void	bind_header(struct http_request *, struct api_ctx *,
		    const char *, int);

int
redirect(struct http_request *req, struct api_ctx *ctx)
{
	const char	*url;

	if (ctx->step == 0) {
		if (!shortcode_is_wellformed(ctx->param, strlen(ctx->param)))
			return (api_not_found(req, "short link"));
		db_prepare(&ctx->db, sql_redirect);
		db_param_str(&ctx->db, 0, ctx->param);
		bind_header(req, ctx, "user-agent", 1);
		bind_header(req, ctx, "referer", 2);
		db_param_bool(&ctx->db, 3, req->method == HTTP_METHOD_GET);
		ctx->step = 1;
	}

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "short link"));

	url = db_value(&ctx->db, 0, 0);
	http_response_header(req, "location", url);
	http_response_header(req, "cache-control", "private, max-age=0");
	http_response_header(req, "x-cache", "BYPASS");
	http_response(req, 302, NULL, 0);
	return (KORE_RESULT_OK);
}

static void
bind_header(struct http_request *req, struct api_ctx *ctx, const char *name,
    int i)
{
	const char	*value;
	char		*clean;

	if (!http_request_header(req, name, &value)) {
		db_param_null(&ctx->db, i);
		return;
	}

	clean = text_clean(value, CLICK_HEADER_MAX);
	db_param_str(&ctx->db, i, clean);
	free(clean);
}
