/*
 * Lists: filters, pages, totals and whole lists, for every resource.
 *
 * A paginated list is one statement (LIST_SQL_PAGE): the total, the page
 * rendered as a JSON array by PostgreSQL, its last id and whether rows
 * follow. The total is read from list_counts when the filters given are
 * ones it keeps (none, or one "counted" filter: a whole table, URLs by
 * is_active, events by event_type), and otherwise counted through the
 * filter's index, at most LIST_COUNT_MAX rows: beyond that the response
 * says X-Total-Count-Exact: false. OFFSET costs the rows it skips, so a
 * page deeper than LIST_OFFSET_MAX rows is refused with a pointer to
 * after_id, which costs the same on every page; a page past the end is
 * known from the total and costs nothing.
 *
 * A whole list (neither page nor per_page) is streamed: keyset batches of
 * LIST_BATCH rows, each sent before the next is read, so a worker holds
 * one batch whatever the size, and PostgreSQL runs short statements. The
 * first batch also counts the list (a count it keeps, or through the
 * index, at most LIST_MAX_ROWS + 1 rows): a list above LIST_MAX_ROWS is a
 * 400 telling the client to paginate, before anything is sent. Once the
 * 200 is out, a failure can only cut the connection: the body then lacks
 * its final chunk, which every HTTP client reports as an error.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "config/config.h"
#include "http/respond.h"
#include "http/stream.h"
#include "obs/log.h"

#define LIST_BATCH		1000
#define COUNT_KEY_MAX		160

struct list_state {
	const struct api_list	*list;
	struct page_req		 page;
	struct http_stream	 stream;
	PGresult		*piece;		/* the batch being written */
	int			 streaming;	/* the 200 is out */
	int			 pieces;	/* batches written */
	int			 last;		/* no batch after this one */
	int			 keyed;		/* the total comes from list_counts */
};

static struct list_state *list_start(struct http_request *,
			    struct api_ctx *, const struct api_list *);
static int		 filters_bind(struct http_request *, struct api_ctx *,
			    const struct api_list *, char *, size_t);
static int		 filter_bind(struct http_request *, struct api_ctx *,
			    const struct api_filter *, int, const char **);
static void		 statement_prepare(struct api_ctx *,
			    struct list_state *);
static void		 bind_page(struct api_ctx *, struct list_state *,
			    const char *);
static void		 bind_whole(struct api_ctx *, struct list_state *,
			    const char *);
static int		 st_wait_page(struct http_request *,
			    struct api_ctx *);
static int		 st_wait_batch(struct http_request *,
			    struct api_ctx *);
static int		 st_wait_sent(struct http_request *,
			    struct api_ctx *);
static int		 stream_failed(struct http_request *,
			    struct list_state *);
static void		 piece_release(void *);
static void		 state_free(void *);

int
api_list(struct http_request *req, struct api_ctx *ctx,
    const struct api_list *list)
{
	struct list_state	*ls;

	API_RESUME(req, ctx);
	if ((ls = list_start(req, ctx, list)) == NULL)
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, ls->page.paginated ? st_wait_page :
	    st_wait_batch));
}

/* Parses and binds everything; NULL once an error has been answered. */
static struct list_state *
list_start(struct http_request *req, struct api_ctx *ctx,
    const struct api_list *list)
{
	struct list_state	*ls;
	const char		*bad;
	char			 key[COUNT_KEY_MAX], msg[96];

	ls = kore_calloc(1, sizeof(*ls));
	ls->list = list;
	ctx->state = ls;
	ctx->state_free = state_free;

	if ((bad = page_parse(&ctx->http.query, &ls->page)) != NULL) {
		(void)snprintf(msg, sizeof(msg),
		    "query parameter '%s' must be an integer", bad);
		respond_error(req, 400, NULL, msg);
		return (NULL);
	}

	statement_prepare(ctx, ls);
	if (!filters_bind(req, ctx, list, key, sizeof(key)))
		return (NULL);

	if (ls->page.paginated)
		bind_page(ctx, ls, key);
	else
		bind_whole(ctx, ls, key);
	return (ls);
}

/*
 * $7.. from the query string, then the owner the request's key is
 * scoped to. key gets the list_counts key when the filters given allow
 * one (none, or one counted filter, and no owner: list_counts knows
 * whole tables only), else "".
 */
static int
filters_bind(struct http_request *req, struct api_ctx *ctx,
    const struct api_list *list, char *key, size_t keylen)
{
	const struct api_filter	*f, *one;
	const char		*value, *one_value;
	int			 i, given, r;

	given = 0;
	one = NULL;
	one_value = NULL;
	for (i = 0, f = list->filters; f->name != NULL; i++, f++) {
		if ((r = filter_bind(req, ctx, f, 6 + i, &value)) == -1)
			return (0);
		if (r == 1) {
			given++;
			one = f;
			one_value = value;
		}
	}
	api_bind_owner(ctx, 6 + i);

	if (ctx->who.owner > 0)
		key[0] = '\0';
	else if (given == 0)
		(void)snprintf(key, keylen, "%s", list->table);
	else if (given > 1 || !one->counted ||
	    snprintf(key, keylen, "%s:%s=%s", list->table, one->name,
	    one_value) >= (int)keylen)
		key[0] = '\0';

	return (1);
}

/*
 * One optional filter into parameter i: 0 when absent (NULL), 1 with
 * *value its canonical text, -1 after a 400 when it is malformed.
 */
static int
filter_bind(struct http_request *req, struct api_ctx *ctx,
    const struct api_filter *f, int i, const char **value)
{
	const char	*v, *want;
	char		 msg[128];
	int64_t		 n;
	int		 b;

	if ((v = query_get(&ctx->http.query, f->name)) == NULL) {
		db_param_null(&ctx->db, i);
		return (0);
	}

	*value = v;
	switch (f->kind) {
	case API_FILTER_INT:
		if (query_int64(v, &n) == 0) {
			db_param_int(&ctx->db, i, n);
			return (1);
		}
		want = "an integer";
		break;
	case API_FILTER_BOOL:
		if (query_bool(v, &b) == 0) {
			db_param_bool(&ctx->db, i, b);
			*value = b ? "true" : "false";
			return (1);
		}
		want = "true, false, 1 or 0";
		break;
	default:
		db_param_str(&ctx->db, i, v);
		return (1);
	}

	(void)snprintf(msg, sizeof(msg), "query parameter '%s' must be %s",
	    f->name, want);
	respond_error(req, 400, NULL, msg);
	return (-1);
}

/*
 * The list's statement, or its named one for a filter (struct
 * api_list_by) when the query gives that filter.
 */
static void
statement_prepare(struct api_ctx *ctx, struct list_state *ls)
{
	const struct api_list		*list = ls->list;
	const struct api_list_by	*by = list->by;
	int				 page = ls->page.paginated;

	if (by == NULL || query_get(&ctx->http.query, by->filter) == NULL ||
	    (by->unless != NULL &&
	    query_get(&ctx->http.query, by->unless) != NULL)) {
		api_prepare(ctx, page ? list->sql_page : list->sql_batch);
		return;
	}
	api_prepare(ctx, page ? by->sql_page : by->sql_batch);
	db_name(&ctx->db, page ? by->page_name : by->batch_name);
}

/* A page: after_id is a cursor, not counted. */
static void
bind_page(struct api_ctx *ctx, struct list_state *ls, const char *key)
{
	if (ls->page.has_after)
		db_param_int(&ctx->db, 0, ls->page.after_id);
	else
		db_param_null(&ctx->db, 0);
	db_param_int(&ctx->db, 1, page_limit(&ls->page));
	db_param_int(&ctx->db, 2, page_offset(&ls->page));
	ls->keyed = key[0] != '\0';
	db_param_str(&ctx->db, 3, ls->keyed ? key : NULL);
	db_param_int(&ctx->db, 4, config.list_count_max + 1);
	db_param_int(&ctx->db, 5, config.list_offset_max);
}

/* The first batch of a whole list: after_id filters it, count included. */
static void
bind_whole(struct api_ctx *ctx, struct list_state *ls, const char *key)
{
	if (ls->page.has_after) {
		db_param_int(&ctx->db, 0, ls->page.after_id);
		key = "";
	} else {
		db_param_null(&ctx->db, 0);
	}
	db_param_int(&ctx->db, 1, LIST_BATCH);
	db_param_int(&ctx->db, 2, 0);
	db_param_str(&ctx->db, 3, key[0] != '\0' ? key : NULL);
	db_param_int(&ctx->db, 4, config.list_max_rows + 1);
	db_param_int(&ctx->db, 5, config.list_max_rows);
}

static int
st_wait_page(struct http_request *req, struct api_ctx *ctx)
{
	struct list_state	*ls = ctx->state;
	const struct page_req	*p = &ls->page;
	struct page_result	 r;
	char			*link, num[24], msg[192];
	int64_t			 offset;
	int			 inexact;

	API_AWAIT(req, ctx);
	r.total = db_int(&ctx->db, 0, 0);
	r.last_id = db_isnull(&ctx->db, 0, 2) ? 0 : db_int(&ctx->db, 0, 2);
	r.has_more = !strcmp(db_value(&ctx->db, 0, 3), "t");
	r.offset_max = config.list_offset_max;
	offset = page_offset(p);

	/*
	 * Too deep, unless known to be past the end: a count through the
	 * index that stopped at its bound says nothing about where that is.
	 */
	inexact = !ls->keyed && r.total > config.list_count_max;
	if (offset > config.list_offset_max && (offset < r.total || inexact)) {
		(void)snprintf(msg, sizeof(msg), "page %" PRId64 " starts "
		    "%" PRId64 " rows in, deeper than the %ld a page number "
		    "may reach: walk the list with after_id (the Link "
		    "header's next)", p->page, offset, config.list_offset_max);
		respond_error(req, 400, NULL, msg);
		return (KORE_RESULT_OK);
	}

	/* A count through the index stopped at LIST_COUNT_MAX + 1 rows. */
	if (inexact) {
		r.total = config.list_count_max;
		http_response_header(req, "x-total-count-exact", "false");
	}
	(void)snprintf(num, sizeof(num), "%" PRId64, r.total);
	http_response_header(req, "x-total-count", num);

	if ((link = page_link_header(req->path, &ctx->http.query, p, &r)) != NULL) {
		http_response_header(req, "link", link);
		free(link);
	}

	respond_json(req, 200, db_value(&ctx->db, 0, 1),
	    (size_t)db_length(&ctx->db, 0, 1));
	return (KORE_RESULT_OK);
}

static int
st_wait_batch(struct http_request *req, struct api_ctx *ctx)
{
	struct list_state	*ls = ctx->state;
	char		msg[160];
	int64_t		rows;

	if (ls->streaming) {
		switch (db_run(req, &ctx->db)) {
		case DB_PENDING:
			return (KORE_RESULT_RETRY);
		case DB_FAILED:
			return (stream_failed(req, ls));
		case DB_DONE:
			break;
		}
	} else {
		API_AWAIT(req, ctx);
		if (!db_isnull(&ctx->db, 0, 0) &&
		    db_int(&ctx->db, 0, 0) > config.list_max_rows) {
			(void)snprintf(msg, sizeof(msg), "the list has more "
			    "than %ld rows: paginate it with per_page and "
			    "after_id", config.list_max_rows);
			respond_error(req, 400, NULL, msg);
			return (KORE_RESULT_OK);
		}
		respond_content_json(req);
		stream_begin(&ls->stream, req, 200);
		stream_put(&ls->stream, "[", 1);
		ls->streaming = 1;
	}

	rows = db_int(&ctx->db, 0, 3);
	if (rows == 0 || ls->stream.head) {
		stream_put(&ls->stream, "]", 1);
		stream_end(&ls->stream);
		return (KORE_RESULT_OK);
	}

	/* The next batch starts after this one; it counts nothing. */
	ls->last = rows < LIST_BATCH;
	db_param_int(&ctx->db, 0, db_int(&ctx->db, 0, 2));
	db_param_null(&ctx->db, 3);
	db_param_null(&ctx->db, 4);
	ls->piece = db_take_result(&ctx->db);
	ctx->resume = st_wait_sent;
	if (ls->pieces++ > 0)
		stream_put(&ls->stream, ",", 1);
	stream_write(&ls->stream, PQgetvalue(ls->piece, 0, 1),
	    (size_t)PQgetlength(ls->piece, 0, 1), piece_release, ls);

	/*
	 * Written at once: go on now. A request woken from inside its own
	 * handler is not run again before Kore's next wait (up to 100 ms).
	 */
	if (!ls->stream.pending)
		return (st_wait_sent(req, ctx));
	return (KORE_RESULT_RETRY);
}

/* The batch is out: the next one, or the end of the list. */
static int
st_wait_sent(struct http_request *req, struct api_ctx *ctx)
{
	struct list_state	*ls = ctx->state;
	if (ls->stream.pending)
		return (KORE_RESULT_RETRY);

	if (ls->last) {
		stream_put(&ls->stream, "]", 1);
		stream_end(&ls->stream);
		return (KORE_RESULT_OK);
	}

	db_rearm(&ctx->db);
	return (api_then(req, ctx, st_wait_batch));
}

/* The status is out: only cutting the connection can tell the client. */
static int
stream_failed(struct http_request *req, struct list_state *ls)
{
	log_event(LOG_LEVEL_WARN, "list_stream_failed", "a whole list of %s "
	    "failed after its first batch; connection closed",
	    ls->list->table);
	if (req->owner != NULL)
		kore_connection_disconnect(req->owner);
	return (KORE_RESULT_OK);
}

static void
piece_release(void *arg)
{
	struct list_state	*ls = arg;

	db_result_free(ls->piece);
	ls->piece = NULL;
}

static void
state_free(void *arg)
{
	struct list_state	*ls = arg;

	if (ls->piece != NULL)
		db_result_free(ls->piece);
	kore_free(ls);
}
