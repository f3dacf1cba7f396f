/*
 * Upkeep of the click partitions (db/migrations/032): events_clicks has
 * a partition per month. Every CLICK_UPKEEP_S (an hour), worker 1 of each
 * instance runs events_retention(), which creates the partitions of the
 * months up to two ahead, moves clicks that wait in the default partition
 * into their month, and, when CLICK_RETENTION_DAYS is set, drops the
 * months older than that, whole (DROP TABLE, not DELETE: the per-day,
 * hourly and facet totals keep every click).
 *
 * The statement runs on the long-statement pool, under a lock timeout of
 * its own: a partition it cannot lock at once (a long GET /events holds
 * it) is left to the next run. Instances run it concurrently without
 * harm: the function takes an advisory lock, and a run that finds it
 * taken does nothing. A failure is logged and the next period retries;
 * nothing waits on this, so nothing else changes. The statement is
 * cleaned up when it ends, and at worker exit if it is still running.
 */

#include <stdio.h>

#include <kore/kore.h>

#include "clicks/retention.h"
#include "config/config.h"
#include "db/db.h"
#include "db/sql_events.h"
#include "obs/log.h"

#define FIRST_RUN_MS	2000	/* after the worker's start */
#define LOCK_MS		500

/* The one statement; owned by worker 1 of the instance, else unused. */
static struct db_call	upkeep;
static int		upkeep_running;

static void	upkeep_tick(void *, u_int64_t);
static void	upkeep_done(struct db_call *, void *);

void
retention_init(void)
{
	if (worker == NULL || worker->id != 1)
		return;
	kore_timer_add(upkeep_tick, FIRST_RUN_MS, NULL, KORE_TIMER_ONESHOT);
}

void
retention_stop(void)
{
	if (!upkeep_running)
		return;
	db_cleanup(&upkeep);
	upkeep_running = 0;
}

static void
upkeep_tick(void *arg, u_int64_t now)
{
	(void)arg;
	(void)now;

	kore_timer_add(upkeep_tick, (u_int64_t)config.click_upkeep_s * 1000,
	    NULL, KORE_TIMER_ONESHOT);
	if (upkeep_running)
		return;
	upkeep_running = 1;
	db_prepare(&upkeep, sql_events_retention);
	upkeep.dbname = DB_LONG_NAME;
	db_param_int(&upkeep, 0, config.click_retention_days);
	db_param_int(&upkeep, 1, LOCK_MS);
	db_start(&upkeep, upkeep_done, NULL);
}

static void
upkeep_done(struct db_call *db, void *arg)
{
	int64_t		dropped;

	(void)arg;
	upkeep_running = 0;
	if (db->status != DB_DONE || db_rows(db) != 1) {
		log_event(LOG_LEVEL_WARN, "click_upkeep_failed",
		    "click partition upkeep failed (%s), next run in %d s",
		    db->sqlstate[0] ? db->sqlstate : "database unreachable",
		    config.click_upkeep_s);
		db_cleanup(db);
		return;
	}
	dropped = db_int(db, 0, 0);
	db_cleanup(db);
	if (dropped > 0) {
		log_event(LOG_LEVEL_INFO, "click_retention",
		    "dropped %" PRId64 " month(s) of clicks older than %d days",
		    dropped, config.click_retention_days);
	}
}
