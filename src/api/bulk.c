/*
 * POST /users/bulk: a CSV of users as multipart field "file".
 *
 * The multipart body is read by core/multipart.c, not by Kore's
 * http_populate_multipart_form(), which drops parts without a filename or
 * shorter than 3 bytes and quoted boundaries, and which, living in the
 * kore binary, cannot be fuzzed with the other parsers (docs/testing.md).
 *
 * The CSV is parsed and every row validated here (core/csvusers.c); the
 * rows that pass go to import_users() in one statement, which upserts by
 * id, moves the id sequence past the largest id and reports the rows the
 * database refused. Bad rows never stop the others, and the same file
 * imported twice leaves the same state.
 */

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "core/csvusers.h"
#include "core/multipart.h"
#include "db/sql_users.h"
#include "http/respond.h"

static const char msg_expected[] =
    "expected multipart/form-data with a CSV in field 'file'";

static int	bulk_read(struct http_request *, struct api_ctx *);
static int	st_wait_import(struct http_request *, struct api_ctx *);
static void	bulk_state_free(void *);
static int	bulk_respond(struct http_request *, struct csvusers *,
		    json_t *);
static int	error_line_cmp(const void *, const void *);

int
users_bulk(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!bulk_read(req, ctx))
		return (KORE_RESULT_OK);
	if (ctx->db.query == NULL)
		return (bulk_respond(req, ctx->state, NULL));
	return (api_then(req, ctx, st_wait_import));
}

static int
st_wait_import(struct http_request *req, struct api_ctx *ctx)
{
	json_t		*result;
	json_error_t	 err;

	API_AWAIT(req, ctx);
	result = json_loadb(db_value(&ctx->db, 0, 0),
	    (size_t)db_length(&ctx->db, 0, 0), 0, &err);
	if (result == NULL)
		fatal("import_users returned invalid JSON: %s", err.text);

	return (bulk_respond(req, ctx->state, result));
}

/*
 * The body is read in place (core/multipart.c): Kore keeps it in memory,
 * as conf/shortener.conf never turns http_body_disk_offload on, which the
 * dispatcher's JSON bodies rely on as well.
 */
static int
bulk_read(struct http_request *req, struct api_ctx *ctx)
{
	struct csvusers		*csv;
	json_t			*json;
	const char		*type, *why, *body, *data;
	char			 boundary[MULTIPART_BOUNDARY_MAX + 1], *rows;
	size_t			 len;

	if (!http_request_header(req, "content-type", &type) ||
	    multipart_boundary(type, boundary, sizeof(boundary)) == -1) {
		respond_error(req, 400, NULL, msg_expected);
		return (0);
	}

	body = req->http_body != NULL ? (const char *)req->http_body->data : "";
	len = req->http_body != NULL ? req->http_body_length : 0;
	switch (multipart_find(body, len, boundary, "file", &data, &len)) {
	case MULTIPART_FOUND:
		break;
	case MULTIPART_ABSENT:
		respond_error(req, 400, NULL, msg_expected);
		return (0);
	case MULTIPART_MALFORMED:
		respond_error(req, 400, NULL, "malformed multipart/form-data body");
		return (0);
	}

	csv = kore_calloc(1, sizeof(*csv));
	ctx->state = csv;
	ctx->state_free = bulk_state_free;

	if (csvusers_parse(data, len, csv, &why) == -1) {
		respond_error(req, 400, NULL, why);
		return (0);
	}

	if (csv->nrows == 0)
		return (1);

	json = csvusers_rows_json(csv);
	rows = json_dumps(json, JSON_COMPACT);
	json_decref(json);
	if (rows == NULL)
		fatal("json_dumps: out of memory");
	api_prepare(ctx, sql_users_import);
	db_param_str(&ctx->db, 0, rows);
	free(rows);
	return (1);
}

static void
bulk_state_free(void *arg)
{
	csvusers_free(arg);
	kore_free(arg);
}

/*
 * The CSV's own errors and the database's are merged by line; the
 * response carries at most CSVUSERS_MAX_ERRORS of them.
 */
static int
bulk_respond(struct http_request *req, struct csvusers *csv, json_t *result)
{
	json_t		*errors, *db_errors, *body;
	json_int_t	 created, updated, db_skipped;
	size_t		 i, n;
	json_t		**sorted;

	created = updated = db_skipped = 0;
	errors = csvusers_errors_json(csv);
	if (result != NULL) {
		created = json_integer_value(json_object_get(result, "created"));
		updated = json_integer_value(json_object_get(result, "updated"));
		db_skipped = json_integer_value(json_object_get(result,
		    "skipped"));
		db_errors = json_object_get(result, "errors");
		json_array_extend(errors, db_errors);
	}

	n = json_array_size(errors);
	sorted = kore_calloc(n + 1, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = json_incref(json_array_get(errors, i));
	qsort(sorted, n, sizeof(*sorted), error_line_cmp);
	json_array_clear(errors);
	for (i = 0; i < n; i++) {
		if (i < CSVUSERS_MAX_ERRORS)
			json_array_append(errors, sorted[i]);
		json_decref(sorted[i]);
	}
	kore_free(sorted);

	/* count is what was stored, as the contract says: imported. */
	body = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}",
	    "count", created + updated,
	    "imported", created + updated,
	    "created", created,
	    "updated", updated,
	    "skipped", (json_int_t)csv->skipped + db_skipped,
	    "errors", errors);

	if (result != NULL)
		json_decref(result);
	respond_object(req, 201, body);
	return (KORE_RESULT_OK);
}

static int
error_line_cmp(const void *a, const void *b)
{
	json_int_t	la, lb;

	la = json_integer_value(json_object_get(*(json_t *const *)a, "line"));
	lb = json_integer_value(json_object_get(*(json_t *const *)b, "line"));
	return ((la > lb) - (la < lb));
}
