/*
 * The list statements of every table, written once: each table's file
 * (db/sql_users.c, sql_urls.c, sql_events.c) instantiates them with its
 * name, its JSON renderer and its filter expression. api/list.c runs
 * them.
 */
#ifndef SQL_LIST_H
#define SQL_LIST_H

/*
 * The two statements. Parameters: $1 after_id (NULL: none), $2 limit,
 * $3 offset, $4 count key (NULL: count the rows), $5 most rows to count,
 * $6 the deepest offset served (page) or the largest whole list (batch),
 * then the filters from $7 and, after them, the owner a key is scoped to.
 * filter must hold every row-selecting condition of the filters and the
 * owner, each of the form ($7::type IS NULL OR ...).
 *
 * Page: one row (total, JSON array of the page, largest id on the page,
 * whether rows follow it). The count ignores after_id, a cursor here;
 * the page is not read when the offset is past the total or too deep.
 *
 * Batch: one row (total or NULL, the rows' JSON texts joined by commas,
 * largest id, rows). after_id filters both count and rows, and no row is
 * read when the total is above $6.
 */
#define LIST_SQL_PAGE(table, render, filter)				\
	"WITH total AS (SELECT CASE WHEN $4::text IS NOT NULL"		\
	"    THEN list_count($4) ELSE (SELECT count(*) FROM (SELECT 1"	\
	"    FROM " table " WHERE " filter " LIMIT $5) c) END AS n),"	\
	" page AS (SELECT r FROM " table " r WHERE " filter		\
	"    AND ($1::bigint IS NULL OR id > $1)"			\
	"    AND $3::bigint < (SELECT n FROM total) AND $3 <= $6::bigint" \
	"    ORDER BY id LIMIT $2 OFFSET $3)"				\
	" SELECT (SELECT n FROM total), coalesce((SELECT json_agg("	\
	    render "(page.r) ORDER BY (page.r).id) FROM page), '[]'),"	\
	" (SELECT max((page.r).id) FROM page),"				\
	" (SELECT id FROM " table " WHERE " filter			\
	"    AND id > (SELECT max((page.r).id) FROM page)"		\
	"    ORDER BY id LIMIT 1) IS NOT NULL"

#define LIST_SQL_BATCH(table, render, filter)				\
	"WITH total AS (SELECT CASE WHEN $4::text IS NOT NULL"		\
	"    THEN list_count($4) WHEN $5::bigint IS NOT NULL"		\
	"    THEN (SELECT count(*) FROM (SELECT 1 FROM " table		\
	"    WHERE " filter " AND ($1::bigint IS NULL OR id > $1)"	\
	"    LIMIT $5) c) END AS n),"					\
	" batch AS (SELECT r FROM " table " r WHERE " filter		\
	"    AND ($1::bigint IS NULL OR id > $1)"			\
	"    AND coalesce((SELECT n FROM total) <= $6::bigint, true)"	\
	"    ORDER BY id LIMIT $2 OFFSET $3)"				\
	" SELECT (SELECT n FROM total), (SELECT string_agg("		\
	    render "(batch.r)::text, ',' ORDER BY (batch.r).id)"	\
	"    FROM batch),"						\
	" (SELECT max((batch.r).id) FROM batch),"			\
	" (SELECT count(*) FROM batch)"

#endif
