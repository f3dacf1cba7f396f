/*
 * GET /users, /urls, /events: one implementation of filtering, paging,
 * counting and whole-list streaming for every resource (list.c). A
 * resource describes its list with a struct api_list and two statements
 * made by the LIST_SQL_* macros from its table, its JSON renderer and its
 * filter expression.
 */
#ifndef LIST_H
#define LIST_H

#include "api/common.h"

enum api_filter_kind {
	API_FILTER_INT,
	API_FILTER_BOOL,
	API_FILTER_TEXT
};

/*
 * A query-string filter, bound to $7, $8, ... in table order (NULL when
 * absent; db/sql_list.h). counted: list_counts keeps a count per value of this filter
 * (db/migrations/010_list_counts.sql), under "<table>:<name>=<value>".
 */
struct api_filter {
	const char		*name;
	enum api_filter_kind	 kind;
	int			 counted;
};

/*
 * Statements for one filter, used instead of the list's own when that
 * filter is given and `unless` is not (a filter whose own index reads
 * less, which the list's custom plans use): the same parameters, the
 * filter required, so they can be named (db_prepare_named: planned once
 * per connection, generically). For a list whose statement costs more to
 * plan than to run for a filter the lists' hot paths use
 * (db/sql_events.c).
 */
struct api_list_by {
	const char		*filter;	/* one of the list's filters */
	const char		*unless;	/* a filter that reads less: NULL */
	const char		*page_name;
	const char		*sql_page;
	const char		*batch_name;
	const char		*sql_batch;
};

struct api_list {
	const char		*table;		/* also the count key */
	const struct api_filter	*filters;
	const char *const	*names;		/* the filters' names, NULL-ended */
	const char		*sql_page;	/* db/sql_list.h: LIST_SQL_PAGE */
	const char		*sql_batch;	/* LIST_SQL_BATCH */
	const struct api_list_by *by;	/* or NULL */
};

/* Serves the list; a handler's whole body. */
int	api_list(struct http_request *req, struct api_ctx *ctx,
	    const struct api_list *list);

#endif
