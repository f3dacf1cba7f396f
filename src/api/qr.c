/*
 * GET /urls/<id>/qr.svg and /urls/<id>/qr.png: the QR code of a URL's
 * short link (its short_url: the public base URL and the code), drawn by
 * core/qrimage.c from libqrencode's symbol. ?size= (pixels), ?ecc= (L, M,
 * Q, H) and ?margin= (modules) are checked before the database is asked;
 * a bad one is a 400 naming it. A code never changes, so the image may be
 * cached for a day.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "config/config.h"
#include "core/qrimage.h"
#include "db/sql_urls.h"
#include "http/respond.h"

const char *const url_qr_names[] = { "size", "ecc", "margin", NULL };

struct qr_state {
	struct qr_options	opts;
	int			png;
};

static int	qr_start(struct http_request *, struct http_ctx *, int);
static int	st_wait_code(struct http_request *, struct api_ctx *);

int
url_qr_svg(struct http_request *req, struct http_ctx *h)
{
	return (qr_start(req, h, 0));
}

int
url_qr_png(struct http_request *req, struct http_ctx *h)
{
	return (qr_start(req, h, 1));
}

static int
qr_start(struct http_request *req, struct http_ctx *h, int png)
{
	struct api_ctx		*ctx = api_ctx(h);
	struct qr_state		*st;
	struct qr_options	 o;
	const char		*bad, *why;
	char			 msg[160];

	API_RESUME(req, ctx);
	bad = qr_options_parse(query_get(&h->query, "size"),
	    query_get(&h->query, "ecc"), query_get(&h->query, "margin"), &o,
	    &why);
	if (bad != NULL) {
		(void)snprintf(msg, sizeof(msg), "query parameter '%s' %s",
		    bad, why);
		respond_error(req, 400, NULL, msg);
		return (KORE_RESULT_OK);
	}

	st = kore_calloc(1, sizeof(*st));
	st->opts = o;
	st->png = png;
	ctx->state = st;
	ctx->state_free = kore_free;
	if (!api_by_id_start(req, ctx, sql_urls_code, "url"))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_code));
}

static int
st_wait_code(struct http_request *req, struct api_ctx *ctx)
{
	struct qr_state	*st = ctx->state;
	char		 text[640];
	void		*img;
	size_t		 len;

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "url"));

	(void)snprintf(text, sizeof(text), "%s/%s", config.public_base_url,
	    db_value(&ctx->db, 0, 0));
	if (st->png)
		img = qr_png(text, &st->opts, &len);
	else
		img = qr_svg(text, &st->opts, &len);
	if (img == NULL) {
		respond_error(req, 500, NULL, "the QR code could not be made");
		return (KORE_RESULT_OK);
	}

	http_response_header(req, "cache-control", "public, max-age=86400");
	respond_text(req, 200, st->png ? "image/png" :
	    "image/svg+xml; charset=utf-8", img, len);
	free(img);
	return (KORE_RESULT_OK);
}
