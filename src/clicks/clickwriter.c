/*
 * Click writer.
 *
 * Redirects append clicks to a bounded in-memory queue and return at
 * once. The writer keeps at most one insert in flight: when it is idle a
 * new click is sent immediately (so a click shows up in GET /events within
 * milliseconds at low load), and while an insert runs the queue fills up
 * and the next insert takes everything waiting, up to CLICK_BATCH_MAX
 * rows, as one multi-row statement. Under load batches grow by themselves;
 * idle, they stay small and fast.
 *
 * Inserts also start at most once every CLICK_PACE_MS unless a whole
 * batch is waiting. Each statement costs PostgreSQL about 300 us whatever
 * its size (parse, plan, the totals trigger, commit and its fsync), and
 * without the pace a busy worker sent one every few milliseconds with a
 * hundred rows or so. Paced, the same clicks go in a few large inserts;
 * a click still reaches the database within CLICK_PACE_MS plus one insert.
 *
 * A failed insert keeps its batch and tries again after a backoff; while
 * the database is down clicks wait in the queue, and when the queue is
 * full new clicks are dropped and counted. On SIGTERM the worker flushes
 * what is left over a synchronous connection before it exits. A SIGKILLed
 * worker loses the clicks it held (at most one batch plus the queue).
 */

#include <sys/param.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include "app/config.h"
#include "clicks/clickwriter.h"
#include "db/dbasync.h"
#include "obs/metrics.h"
#include "obs/log.h"

#define CLICK_QUEUE_MAX		100000
#define CLICK_BATCH_MAX		1000
#define RETRY_MIN_MS		100
#define RETRY_MAX_MS		2000
#define CLICK_PACE_MS		50

/*
 * clicks_insert() (db/migrations/009) inserts the batch with a plan it
 * keeps for the session; the statement-level trigger on events turns the
 * batch into one upsert per (url, day) in url_click_daily.
 */
static const char sql_insert[] =
	"SELECT clicks_insert($1::bigint[], $2::bigint[], $3::bigint[],"
	"    $4::text[], $5::text[], $6::text[])";

struct writer {
	struct clickq		queue;
	struct click		batch[CLICK_BATCH_MAX];
	size_t			batch_len;
	struct click_arrays	batch_cols;	/* buffers reused */
	struct db_async		insert;
	int			in_flight;
	int			retry_pending;
	int			pace_pending;
	uint64_t		last_start_ms;
	uint64_t		retry_ms;
	struct clickwriter_stats stats;
};

static void	writer_start(void);
static void	writer_done(struct db_async *, PGresult *, const char *);
static void	writer_retry(void *, u_int64_t);
static void	writer_paced(void *, u_int64_t);
static int	writer_pace(void);
static void	batch_release(void);
static int	flush_sync(PGconn *, const struct click_arrays *);
static int	in_flight_committed(void);

/* Owned by this worker; lives for the whole process. */
static struct writer	*writer;

void
clickwriter_init(void)
{
	writer = kore_calloc(1, sizeof(*writer));
	clickq_init(&writer->queue, CLICK_QUEUE_MAX);
	writer->retry_ms = RETRY_MIN_MS;
}

void
clickwriter_push(struct click *c)
{
	if (writer->queue.len + writer->batch_len >= CLICK_QUEUE_MAX) {
		writer->queue.dropped++;
		click_release(c);
		return;
	}

	(void)clickq_push(&writer->queue, c);
	if (!writer->in_flight && !writer->retry_pending &&
	    !writer->pace_pending)
		writer_start();
}

void
clickwriter_stats(struct clickwriter_stats *out)
{
	*out = writer->stats;
	out->queued = writer->queue.len + writer->batch_len;
	out->dropped = writer->queue.dropped;
}

/* Takes the next batch, unless one is still waiting to be retried. */
static void
writer_start(void)
{
	int	i;

	if (writer->batch_len == 0) {
		if (writer->queue.len == 0 || writer_pace())
			return;
		writer->batch_len = clickq_take(&writer->queue, writer->batch,
		    CLICK_BATCH_MAX);
		clicks_arrays(writer->batch, writer->batch_len,
		    &writer->batch_cols);
	}

	writer->in_flight = 1;
	writer->last_start_ms = kore_time_ms();
	writer->insert.query = sql_insert;
	writer->insert.nparams = CLICK_COLUMNS;
	for (i = 0; i < CLICK_COLUMNS; i++)
		writer->insert.values[i] = writer->batch_cols.col[i];
	writer->insert.done = writer_done;
	db_async_run(&writer->insert);
}

/*
 * A success frees the batch and goes on with what queued up meanwhile;
 * a failure keeps it for a retry after a backoff.
 */
static void
writer_done(struct db_async *a, PGresult *res, const char *sqlstate)
{
	writer->in_flight = 0;

	/*
	 * Refused by the server, not lost on the way: retrying cannot help,
	 * except after a deadlock or serialization failure (class 40) or
	 * when the server is shutting down (57).
	 */
	if (res == NULL && sqlstate[0] != '\0' && strncmp(sqlstate, "08", 2) &&
	    strncmp(sqlstate, "57", 2) && strncmp(sqlstate, "40", 2)) {
		log_event(LOG_LEVEL_ERROR, "clicks_dropped",
		    "batch of %zu refused (%s), dropped",
		    writer->batch_len, sqlstate);
		writer->queue.dropped += writer->batch_len;
		batch_release();
		writer_start();
		return;
	}

	if (res == NULL) {
		log_event(LOG_LEVEL_WARN, "clicks_retry",
		    "insert of %zu failed (%s), retry "
		    "in %" PRIu64 " ms", writer->batch_len,
		    sqlstate[0] ? sqlstate : "database unreachable",
		    writer->retry_ms);
		writer->retry_pending = 1;
		kore_timer_add(writer_retry, writer->retry_ms, NULL,
		    KORE_TIMER_ONESHOT);
		writer->retry_ms = MIN(writer->retry_ms * 2, RETRY_MAX_MS);
		return;
	}

	metrics_click_batch(writer->batch_len);
	writer->stats.written += writer->batch_len;
	writer->stats.batches++;
	writer->stats.last_batch = writer->batch_len;
	writer->retry_ms = RETRY_MIN_MS;
	batch_release();
	writer_start();
}

static void
writer_retry(void *arg, u_int64_t now)
{
	writer->retry_pending = 0;
	if (!writer->in_flight)
		writer_start();
}

/*
 * 1 when the next insert must wait for its turn (a timer then starts it):
 * the last one started less than CLICK_PACE_MS ago and no full batch is
 * waiting. A batch kept for a retry is never held back: it has its own
 * backoff.
 */
static int
writer_pace(void)
{
	uint64_t	since;

	if (writer->pace_pending)
		return (1);
	if (writer->queue.len >= CLICK_BATCH_MAX)
		return (0);
	since = kore_time_ms() - writer->last_start_ms;
	if (since >= CLICK_PACE_MS)
		return (0);

	writer->pace_pending = 1;
	kore_timer_add(writer_paced, CLICK_PACE_MS - since, NULL,
	    KORE_TIMER_ONESHOT);
	return (1);
}

static void
writer_paced(void *arg, u_int64_t now)
{
	writer->pace_pending = 0;
	if (!writer->in_flight && !writer->retry_pending)
		writer_start();
}

static void
batch_release(void)
{
	size_t	i;

	for (i = 0; i < writer->batch_len; i++)
		click_release(&writer->batch[i]);
	writer->batch_len = 0;
}

/*
 * At exit the event loop is gone. An insert still in flight is waited
 * for on its own connection (PQgetResult blocks), so its batch is neither
 * lost nor written twice; what is left is written over a connection of
 * its own.
 */
void
clickwriter_flush(void)
{
	PGconn		*conn;
	uint64_t	 lost;

	if (writer == NULL)
		return;
	if (writer->batch_len == 0 && writer->queue.len == 0)
		return;

	if (writer->in_flight) {
		if (in_flight_committed())
			batch_release();
		db_async_cancel(&writer->insert);
		writer->in_flight = 0;
	}

	conn = PQconnectdb(config.database_url);
	for (;;) {
		if (writer->batch_len == 0) {
			writer->batch_len = clickq_take(&writer->queue,
			    writer->batch, CLICK_BATCH_MAX);
			if (writer->batch_len == 0)
				break;
			clicks_arrays(writer->batch, writer->batch_len,
			    &writer->batch_cols);
		}
		if (PQstatus(conn) != CONNECTION_OK ||
		    !flush_sync(conn, &writer->batch_cols))
			break;
		metrics_click_batch(writer->batch_len);
		writer->stats.written += writer->batch_len;
		batch_release();
	}

	lost = writer->batch_len + writer->queue.len;
	if (lost > 0) {
		log_event(LOG_LEVEL_ERROR, "clicks_lost",
		    "%" PRIu64 " clicks lost at exit: %s",
		    lost, PQerrorMessage(conn));
	}
	PQfinish(conn);
}

/*
 * Waits for the insert in flight to finish; 1 when it committed. Only a
 * statement actually sent on a live connection is waited for.
 */
static int
in_flight_committed(void)
{
	PGconn		*conn;
	PGresult	*res;
	int		 ok;

	if (writer->insert.sql.conn == NULL ||
	    writer->insert.sql.state != KORE_PGSQL_STATE_WAIT)
		return (0);

	conn = writer->insert.sql.conn->db;
	ok = 0;
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			ok = 1;
		PQclear(res);
	}
	if (ok) {
		metrics_click_batch(writer->batch_len);
		writer->stats.written += writer->batch_len;
	}
	return (ok);
}

static int
flush_sync(PGconn *conn, const struct click_arrays *a)
{
	PGresult	*res;
	int		 ok;

	res = PQexecParams(conn, sql_insert, CLICK_COLUMNS, NULL,
	    (const char * const *)a->col, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;	/* one void row */
	PQclear(res);
	return (ok);
}
