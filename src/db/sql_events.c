/*
 * Every statement on events: the lists, the client's own events, and the
 * click writer's batches. The service's own events (created, updated,
 * deleted) are written by the statements on urls and users, in the same
 * statement as the change they record, with EVENTS_INSERT
 * (db/sql_events.h).
 */

#include "db/sql_events.h"

/* $10: the owner a key is scoped to: the events of their links. */
#define EVENTS_FILTER \
	"($7::bigint IS NULL OR url_id = $7) AND " \
	"($8::bigint IS NULL OR user_id = $8) AND " \
	"($9::text IS NULL OR event_type = $9) AND " \
	"($10::bigint IS NULL OR user_id = $10)"
/*
 * The same when user_id ($8) is given: a plain equality, so a plan made
 * without the parameters' values (a named statement's generic plan) still
 * reads the user's blocks through their index. The owner test compares
 * parameters only: a one-time filter, so a key scoped to another owner
 * reads nothing, as a custom plan would fold it.
 */
#define EVENTS_FILTER_USER \
	"($7::bigint IS NULL OR url_id = $7) AND user_id = $8::bigint AND " \
	"($9::text IS NULL OR event_type = $9) AND " \
	"($10::bigint IS NULL OR $10 = $8)"

/*
 * The lists: LIST_SQL_PAGE and LIST_SQL_BATCH's parameters and answer
 * (db/sql_list.h), over events and the clicks of packs (db/migrations/034).
 * The rows are read as blocks (event_blocks: a row, or a pack of up to 256
 * clicks) in base order through the indexes, at most want + $3 + 1 blocks
 * (want: the events wanted after the offset) and only those whose
 * predecessors hold fewer than want + $3 + 256 events (each block past
 * the first holds one at least; after_id may cut up to 255 from the
 * first), then opened (event_block_rows) and sorted by id: a few hundred
 * rows, whatever the size of the table. A page reads one event more than
 * it shows, which tells whether rows follow it.
 *
 * PostgreSQL plans every statement for its parameters (the filters), and
 * planning visits every partition of each table a subquery reads: the
 * statements read each table twice, the count and the rows.
 */
#define EVENTS_TOTAL(F)							\
	"WITH total AS (SELECT CASE WHEN $4::text IS NOT NULL"		\
	"    THEN list_count($4) ELSE " EVENTS_COUNT(F) " END AS n),"
/*
 * min(events, $5) without opening a pack: each block holds one event at
 * least, so $5 blocks hold $5 events or more.
 */
#define EVENTS_COUNT(F)							\
	"least((SELECT coalesce(sum(live), 0) FROM (SELECT live"	\
	"    FROM event_blocks WHERE " F " LIMIT $5) c), $5)"
#define EVENTS_ROWS(F, name, want, enough)				\
	" blocks AS (SELECT b.base, b.live, sum(b.live) OVER (ORDER BY"	\
	"    b.base ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"	\
	"    AS before FROM event_blocks b WHERE " F			\
	"    AND b.base > coalesce($1::bigint - 256, 0) AND " enough	\
	"    ORDER BY b.base LIMIT " want " + $3::bigint + 1),"		\
	" span AS (SELECT min(base) AS lo, max(base) AS hi,"		\
	"    coalesce(min(coalesce(before, 0)), 0) AS skipped FROM blocks"	\
	"    WHERE " EVENTS_NEEDED(want) "),"				\
	" " name " AS (SELECT r FROM (SELECT b.ev AS r"			\
	"        FROM span, event_blocks b WHERE " F			\
	"        AND NOT b.pack AND b.base BETWEEN span.lo AND span.hi"	\
	"    UNION ALL SELECT o.r FROM span, event_blocks b, LATERAL"	\
	"        (SELECT r FROM event_block_rows(b) r) o"			\
	"        WHERE " F							\
	"        AND b.pack AND b.base BETWEEN span.lo AND span.hi) x"	\
	"    WHERE ($1 IS NULL OR (r).id > $1) ORDER BY (r).id"		\
	"    LIMIT " want " OFFSET $3 - (SELECT skipped FROM span))"
/*
 * The blocks a page needs, a run of the ordered blocks: those that start
 * before want + $3 + 256 events and, without after_id (the blocks'
 * counts are then exact), end after the offset. Only these are read
 * again (span) and opened, and the offset counts from the first of them:
 * a deep page opens and sorts its own few blocks, not the 10 000 events
 * before it. With after_id, skipped is 0.
 */
#define EVENTS_NEEDED(want)						\
	"coalesce(before, 0) < " want " + $3 + 256 AND ($1 IS NOT NULL"	\
	"    OR coalesce(before, 0) + live > $3)"

#define EVENTS_PAGE(F)							\
	EVENTS_TOTAL(F)							\
	EVENTS_ROWS(F, "more", "($2::bigint + 1)",			\
	    "$3 < (SELECT n FROM total) AND $3 <= $6::bigint") ","	\
	" page AS (SELECT r FROM more ORDER BY (r).id LIMIT $2)"	\
	" SELECT (SELECT n FROM total), coalesce((SELECT json_agg("	\
	"    event_json(page.r) ORDER BY (page.r).id) FROM page), '[]'),"	\
	" (SELECT max((page.r).id) FROM page),"			\
	" (SELECT count(*) FROM more) > $2"

#define EVENTS_BATCH(F)							\
	"WITH total AS (SELECT CASE WHEN $4::text IS NOT NULL"		\
	"    THEN list_count($4) WHEN $5::bigint IS NULL THEN NULL"	\
	"    WHEN $1::bigint IS NULL THEN " EVENTS_COUNT(F)		\
	"    ELSE (SELECT count(*) FROM (SELECT 1 FROM events_all"	\
	"    WHERE " F " AND base > $1 - 256 AND id > $1"		\
	"    LIMIT $5) c) END AS n),"					\
	EVENTS_ROWS(F, "batch", "$2::bigint", "coalesce((SELECT n FROM total)"	\
	    " <= $6::bigint, true)")					\
	" SELECT (SELECT n FROM total), (SELECT string_agg("		\
	"    event_json(batch.r)::text, ',' ORDER BY (batch.r).id)"	\
	"    FROM batch),"						\
	" (SELECT max((batch.r).id) FROM batch),"			\
	" (SELECT count(*) FROM batch)"

const char sql_events_page[] = EVENTS_PAGE(EVENTS_FILTER);
const char sql_events_batch[] = EVENTS_BATCH(EVENTS_FILTER);
const char sql_events_page_user[] = EVENTS_PAGE(EVENTS_FILTER_USER);
const char sql_events_batch_user[] = EVENTS_BATCH(EVENTS_FILTER_USER);

const char sql_events_create[] =
	"WITH chk AS (SELECT"
	"    EXISTS (SELECT 1 FROM urls WHERE id = $1"
	"        AND ($5::bigint IS NULL OR user_id = $5)) AS url_ok,"
	"    EXISTS (SELECT 1 FROM users WHERE id = $2"
	"        AND ($5::bigint IS NULL OR id = $5)) AS user_ok),"
	" ins AS (" EVENTS_INSERT "SELECT $1, $2, $3, " EVENTS_NOW ","
	"    coalesce($4::jsonb, '{}'::jsonb) FROM chk"
	"    WHERE url_ok AND user_ok RETURNING events AS r)"
	" SELECT chk.url_ok, chk.user_ok, (SELECT event_json(ins.r) FROM ins),"
	" (SELECT (ins.r).id FROM ins) FROM chk";

/* base: the packs' index (db/migrations/034); a row's base is its id. */
const char sql_events_get[] =
	"SELECT event_json(ev) FROM events_all"
	" WHERE base BETWEEN $1::bigint - 255 AND $1 AND (pack OR base = $1)"
	" AND id = $1"
	" AND ($2::bigint IS NULL OR user_id = $2)";

/* events_delete(): a row, or one click of a pack (db/migrations/034). */
const char sql_events_delete[] =
	"SELECT id FROM (SELECT events_delete($1, $2) AS id) d"
	" WHERE id IS NOT NULL";

/*
 * clicks_insert_packs() (db/migrations/034) stores the batch's packs,
 * adds its list counts, and upserts its hourly and facet aggregates
 * (added up by the worker, core/clickqueue.h) with plans it keeps for the
 * session; no trigger of events fires.
 */
const char sql_events_clicks[] =
	"SELECT clicks_insert_packs($1::bigint[], $2::bigint[], $3::text[],"
	"    $4::integer[], $5::bigint[], $6::text,"
	"    $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],"
	"    $11::bigint[], $12::bigint[], $13::integer[], $14::text[],"
	"    $15::text[], $16::text[], $17::text[], $18::bigint[])";

/*
 * The same batch, journaled (db/migrations/031, 034): stored unless the
 * journal $19 already holds up to its last click $21; false when it did.
 */
const char sql_events_clicks_once[] =
	"SELECT clicks_insert_packs_once($19, $20::bigint, $21::bigint,"
	"    $1::bigint[], $2::bigint[], $3::text[],"
	"    $4::integer[], $5::bigint[], $6::text,"
	"    $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],"
	"    $11::bigint[], $12::bigint[], $13::integer[], $14::text[],"
	"    $15::text[], $16::text[], $17::text[], $18::bigint[])";

/*
 * The click partitions' upkeep (db/migrations/032): $1 days of clicks
 * kept (0: all), $2 lock timeout in ms; the months dropped, or -1 when
 * another instance's run was under way.
 */
const char sql_events_retention[] =
	"SELECT events_retention($1::integer, $2::integer)";
