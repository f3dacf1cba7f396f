/*
 * Every statement on events: the lists, the client's own events, and the
 * click writer's batches. The service's own events (created, updated,
 * deleted) are written by the statements on urls and users, in the same
 * statement as the change they record, with EVENTS_INSERT
 * (db/sql_events.h).
 */

#include "db/sql_events.h"
#include "db/sql_list.h"

/* $10: the owner a key is scoped to: the events of their links. */
#define EVENTS_FILTER \
	"($7::bigint IS NULL OR url_id = $7) AND " \
	"($8::bigint IS NULL OR user_id = $8) AND " \
	"($9::text IS NULL OR event_type = $9) AND " \
	"($10::bigint IS NULL OR user_id = $10)"

const char sql_events_page[] = LIST_SQL_PAGE("events", "event_json",
    EVENTS_FILTER);
const char sql_events_batch[] = LIST_SQL_BATCH("events", "event_json",
    EVENTS_FILTER);

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

const char sql_events_get[] =
	"SELECT event_json(e) FROM events e WHERE id = $1"
	" AND ($2::bigint IS NULL OR user_id = $2)";

const char sql_events_delete[] =
	"DELETE FROM events WHERE id = $1"
	" AND ($2::bigint IS NULL OR user_id = $2) RETURNING id";

/*
 * clicks_insert() (db/migrations/032) inserts the batch into the click
 * partitions directly, adds its list counts, and upserts its hourly and
 * facet aggregates (added up by the worker) with plans it keeps for the
 * session; no trigger of events fires.
 */
const char sql_events_clicks[] =
	"SELECT clicks_insert($1::bigint[], $2::bigint[], $3::bigint[],"
	"    $4::text[], $5::text[], $6::text[], $7::boolean[],"
	"    $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],"
	"    $12::bigint[], $13::bigint[], $14::integer[], $15::text[],"
	"    $16::text[], $17::text[], $18::text[], $19::bigint[])";

/*
 * The same batch, journaled (db/migrations/031): stored unless the
 * journal $20 already holds up to its last click $22; false when it did.
 */
const char sql_events_clicks_once[] =
	"SELECT clicks_insert_once($20, $21::bigint, $22::bigint,"
	"    $1::bigint[], $2::bigint[], $3::bigint[],"
	"    $4::text[], $5::text[], $6::text[], $7::boolean[],"
	"    $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],"
	"    $12::bigint[], $13::bigint[], $14::integer[], $15::text[],"
	"    $16::text[], $17::text[], $18::text[], $19::bigint[])";

/*
 * The click partitions' upkeep (db/migrations/032): $1 days of clicks
 * kept (0: all), $2 lock timeout in ms; the months dropped, or -1 when
 * another instance's run was under way.
 */
const char sql_events_retention[] =
	"SELECT events_retention($1::integer, $2::integer)";
