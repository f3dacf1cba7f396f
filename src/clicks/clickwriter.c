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
 * Each batch is classified (who clicked: core/uaclass.h, through a table
 * of recent User-Agents) and added up per URL and hour and per facet
 * (core/clickqueue.h) as it is taken, in this worker, so PostgreSQL's
 * share of the analytics is one upsert per distinct key of the batch.
 *
 * A failed insert keeps its batch and tries again after a backoff; while
 * the database is down clicks wait in the queue, and when the queue is
 * full new clicks are dropped and counted. On SIGTERM the worker flushes
 * what is left with the same statement, run synchronously (db_run_sync),
 * before it exits.
 *
 * Every click is also appended to the worker's journal, a memory-mapped
 * file (core/clickjournal.h, clicks/journalfile.c), before its 302 is
 * sent, so a worker that is killed loses nothing it answered: the worker
 * forked in its place (same slot, same file) finds the clicks not yet
 * stored and queues them again, the batch that was in flight first and
 * with the same boundaries. Journaled batches go through
 * clicks_insert_once() (db/migrations/031), which stores a batch unless
 * the journal's row says it is stored already: the crashed worker's
 * statement may have committed, or still be running, when its replay
 * comes. A journal that cannot be opened leaves the worker as it was
 * before: clicks in memory only, logged at start.
 */

#include <sys/param.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include "config/config.h"
#include "clicks/clickwriter.h"
#include "clicks/journalfile.h"
#include "core/sqlstate.h"
#include "db/db.h"
#include "db/sql_events.h"
#include "obs/metrics.h"
#include "obs/log.h"

#define CLICK_QUEUE_MAX		100000
#define CLICK_BATCH_MAX		1000
#define RETRY_MIN_MS		100
#define RETRY_MAX_MS		2000
#define CLICK_PACE_MS		50
#define UA_CACHE_SLOTS		4096

struct writer {
	struct clickq		queue;
	struct click		batch[CLICK_BATCH_MAX];
	size_t			batch_len;
	struct click_arrays	batch_cols;	/* buffers reused */
	struct db_call		insert;
	int			in_flight;
	int			retry_pending;
	int			pace_pending;
	uint64_t		last_start_ms;
	uint64_t		retry_ms;
	struct botmatch		*bots;
	struct ua_cache		*agents;
	struct clickj		 journal;
	int			 journaled;	/* 0: no journal file */
	size_t			 align;		/* the replayed first batch */
};

static void	writer_start(void);
static void	writer_done(struct db_call *, void *);
static void	writer_retry(void *, u_int64_t);
static void	writer_paced(void *, u_int64_t);
static int	writer_pace(void);
static void	batch_release(void);
static void	bind_batch(void);
static void	batch_written(void);
static void	batch_take(void);
static void	batch_stored(void);
static void	journal_replay(void);

/* Owned by this worker; lives for the whole process. */
static struct writer	*writer;

void
clickwriter_init(const char *bots, size_t len)
{
	const char	*err;

	writer = kore_calloc(1, sizeof(*writer));
	clickq_init(&writer->queue, CLICK_QUEUE_MAX);
	writer->retry_ms = RETRY_MIN_MS;
	if ((writer->bots = botmatch_create(bots, len, &err)) == NULL)
		fatal("click writer: %s", err);
	writer->agents = ua_cache_create(writer->bots, UA_CACHE_SLOTS);

	if (strcmp(config.click_journal_dir, "") != 0 &&
	    strcmp(config.click_journal_dir, "off") != 0 &&
	    journalfile_open(&writer->journal, config.click_journal_dir,
	    worker->id, config.click_journal_mb) == 0) {
		writer->journaled = 1;
		journal_replay();
	}
}

/*
 * Queues the clicks a worker of this slot journaled and did not store,
 * oldest first. The batch it had in flight (seqs up to sent_last) goes
 * out first and alone, as it was sent. What cannot be read (a damaged
 * file) is cut off there and logged.
 */
static void
journal_replay(void)
{
	struct clickj	*j = &writer->journal;
	struct click	 c;
	uint64_t	 pos = j->h->tail, want = j->h->written_seq + 1;
	size_t		 n = 0;
	int		 rc = 0;

	while (writer->queue.len < CLICK_QUEUE_MAX &&
	    (rc = clickj_read(j, &pos, want, &c)) == 1) {
		(void)clickq_push(&writer->queue, &c);
		want++;
		n++;
	}
	if (rc == 1 && pos < j->h->head) {
		log_event(LOG_LEVEL_ERROR, "click_journal_overflow", "journal "
		    "%s holds more than the queue takes: %zu replayed, the "
		    "rest is dropped", j->h->id, n);
	} else if (rc == -1) {
		log_event(LOG_LEVEL_ERROR, "click_journal_damaged", "journal "
		    "%s unreadable after %zu clicks: the rest is dropped",
		    j->h->id, n);
	}
	/* The crashed worker's batch goes out again as it was sent. */
	if (j->h->sent_last > j->h->written_seq)
		writer->align = MIN(j->h->sent_last - j->h->written_seq, n);
	if (n > 0) {
		log_event(LOG_LEVEL_WARN, "clicks_replayed", "%zu clicks not "
		    "yet stored queued again from journal %s", n, j->h->id);
		writer_start();
	}
}

void
clickwriter_push(struct click *c)
{
	/* Full queue, or full journal: dropped and counted, never waited for. */
	if (writer->queue.len + writer->batch_len >= CLICK_QUEUE_MAX ||
	    (writer->journaled && clickj_append(&writer->journal, c) == -1)) {
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
	out->queued = writer->queue.len + writer->batch_len;
	out->dropped = writer->queue.dropped;
}

/* Takes the next batch, unless one is still waiting to be retried. */
static void
writer_start(void)
{
	if (writer->batch_len == 0) {
		if (writer->queue.len == 0 || writer_pace())
			return;
		batch_take();
	}

	writer->in_flight = 1;
	writer->last_start_ms = kore_time_ms();
	bind_batch();
	db_start(&writer->insert, writer_done, NULL);
}

/* The next batch from the queue, classified and added up. */
static void
batch_take(void)
{
	size_t	i, max = CLICK_BATCH_MAX;

	if (writer->align > 0) {
		max = MIN(max, writer->align);
		writer->align = 0;
	}
	writer->batch_len = clickq_take(&writer->queue, writer->batch, max);
	for (i = 0; i < writer->batch_len; i++) {
		ua_cache_classify(writer->agents, writer->batch[i].user_agent,
		    &writer->batch[i].cls);
	}
	clicks_arrays(writer->batch, writer->batch_len, &writer->batch_cols);
}

/* The batch's columns, kept alive by the writer, as $1..$18. */
static void
bind_batch(void)
{
	int	i;

	struct click	*last = &writer->batch[writer->batch_len - 1];

	if (!writer->journaled || writer->batch[0].seq == 0) {
		db_prepare(&writer->insert, sql_events_clicks);
	} else {
		db_prepare(&writer->insert, sql_events_clicks_once);
		db_param_ref(&writer->insert, CLICK_COLUMNS,
		    writer->journal.h->id);
		db_param_int(&writer->insert, CLICK_COLUMNS + 1,
		    (int64_t)writer->batch[0].seq);
		db_param_int(&writer->insert, CLICK_COLUMNS + 2,
		    (int64_t)last->seq);
		clickj_sent(&writer->journal, last->seq);
	}
	for (i = 0; i < CLICK_COLUMNS; i++)
		db_param_ref(&writer->insert, i, writer->batch_cols.col[i]);
}

/* The batch is stored (or refused for good): the journal lets it go. */
static void
batch_stored(void)
{
	struct click	*last;

	if (!writer->journaled || writer->batch_len == 0)
		return;
	last = &writer->batch[writer->batch_len - 1];
	if (last->seq != 0)
		clickj_written(&writer->journal, last->seq, last->jend);
}

/*
 * A success frees the batch and goes on with what queued up meanwhile;
 * a failure keeps it for a retry after a backoff.
 */
static void
writer_done(struct db_call *db, void *arg)
{
	const char	*sqlstate = db->sqlstate;
	int		 ok = db->status == DB_DONE;

	writer->in_flight = 0;

	/*
	 * Refused by the server, not lost on the way: retrying cannot help,
	 * unless the schema is behind the binary (a migration not run yet):
	 * the batch waits, journaled, for it.
	 */
	if (!ok && !sqlstate_retryable(sqlstate) &&
	    !sqlstate_schema_behind(sqlstate)) {
		log_event(LOG_LEVEL_ERROR, "clicks_dropped",
		    "batch of %zu refused (%s), dropped",
		    writer->batch_len, sqlstate);
		writer->queue.dropped += writer->batch_len;
		batch_release();
		writer_start();
		return;
	}

	if (!ok) {
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

	batch_written();
	writer->retry_ms = RETRY_MIN_MS;
	batch_release();
	writer_start();
}

static void
batch_written(void)
{
	metrics_click_batch(writer->batch_len);
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

	batch_stored();

	for (i = 0; i < writer->batch_len; i++)
		click_release(&writer->batch[i]);
	writer->batch_len = 0;
}

/*
 * At exit the event loop is gone. An insert still in flight is waited
 * for on its own connection, so its batch is neither lost nor written
 * twice; what is left is written with the same statement, synchronously.
 */
void
clickwriter_flush(void)
{
	uint64_t	lost;

	if (writer == NULL)
		return;

	if (writer->in_flight) {
		if (db_finish_sync(&writer->insert) == DB_DONE) {
			batch_written();
			batch_release();
		}
		writer->in_flight = 0;
	}

	for (;;) {
		if (writer->batch_len == 0) {
			batch_take();
			if (writer->batch_len == 0)
				break;
		}
		bind_batch();
		if (db_run_sync(&writer->insert) != DB_DONE)
			break;
		batch_written();
		batch_release();
	}

	lost = writer->batch_len + writer->queue.len;
	if (lost > 0 && writer->journaled) {
		log_event(LOG_LEVEL_WARN, "clicks_journaled", "%" PRIu64
		    " clicks not stored at exit (%s): kept in journal %s for "
		    "the next start", lost, writer->insert.sqlstate[0] ?
		    writer->insert.sqlstate : "database unreachable",
		    writer->journal.h->id);
	} else if (lost > 0) {
		log_event(LOG_LEVEL_ERROR, "clicks_lost", "%" PRIu64 " clicks "
		    "lost at exit (%s)", lost, writer->insert.sqlstate[0] ?
		    writer->insert.sqlstate : "database unreachable");
	}
	db_cleanup(&writer->insert);
}
