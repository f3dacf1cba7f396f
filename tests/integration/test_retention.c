/*
 * Click retention by partition (db/migrations/032, clicks/retention.c):
 * the harness runs the app with CLICK_RETENTION_DAYS=36500 and
 * CLICK_UPKEEP_S=2, so clicks dated 1901 are a century old and worker 1's
 * upkeep drops their month within seconds. Made in PostgreSQL directly
 * (the API dates every event itself): the old clicks go into the
 * default partition, the upkeep moves them into a partition of their
 * month and drops it. What must hold: the old clicks are gone, today's
 * stay, the list counts still equal the rows (the drop takes its rows out
 * of them), and the link's stats still count every click (the totals are
 * not touched).
 */
#include <stdio.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(retention, .timeout = 60);

static long long	url_events(const char *id, const char *when);
static long long	counts_off(void);
static json_int_t	stats_clicks(json_int_t url_id);

/* The link's clicks before 1902 (when "old") or after it. */
static long long
url_events(const char *id, const char *when)
{
	const char	*params[2] = { id, when };

	return (db_scalar("SELECT count(*) FROM events_all WHERE url_id = $1 "
	    "AND event_type = 'click' AND CASE $2 WHEN 'old' THEN "
	    "\"timestamp\" < '1902-01-01' ELSE \"timestamp\" >= '1902-01-01' "
	    "END", 2, params));
}

/*
 * Events the list counts claim minus the events there are, in one
 * snapshot (list_count() is a function of its own, with a snapshot of its
 * own: a batch of clicks committed in between would tell a difference).
 */
static long long
counts_off(void)
{
	return (db_scalar("SELECT (SELECT sum(n) FROM list_counts WHERE "
	    "key = 'events') - (SELECT count(*) FROM events_all)", 0, NULL));
}

static json_int_t
stats_clicks(json_int_t url_id)
{
	struct http_resp	*r;
	json_t			*j;
	json_int_t		 n;

	r = http_get(pathf("/urls/%lld/stats", (long long)url_id));
	cr_assert_eq(r->status, 200, "stats: %ld %s", r->status, r->body);
	j = take_json(r);
	n = jint(j, "clicks");
	json_decref(j);
	return (n);
}

Test(retention, old_months_are_dropped_whole_and_totals_stay)
{
	json_t		*url = make_user_url(NULL);
	char		 id[24], user[24];
	const char	*params[2] = { id, user };
	double		 deadline;
	long long	 off;

	snprintf(id, sizeof(id), "%lld", (long long)jint(url, "id"));
	snprintf(user, sizeof(user), "%lld", (long long)jint(url, "user_id"));
	off = counts_off();
	cr_assert_eq(off, 0, "list counts differ before the test by %lld "
	    "(%lld counted, %lld in packs)", off,
	    db_scalar("SELECT sum(n) FROM list_counts WHERE key = 'events'",
	    0, NULL), db_scalar("SELECT coalesce(sum(live), 0) FROM "
	    "click_packs", 0, NULL));

	cr_assert_eq(db_scalar("WITH i AS (INSERT INTO events (url_id, "
	    "user_id, event_type, \"timestamp\", click_short_code, "
	    "click_user_agent, click_referer) SELECT $1::bigint, $2::bigint, "
	    "'click', t, 'retention', 'test', '' FROM unnest(ARRAY["
	    "timestamp '1901-03-15 10:00', '1901-03-20 11:00', "
	    "'1901-04-02 12:00', now() AT TIME ZONE 'UTC', "
	    "now() AT TIME ZONE 'UTC']) AS t RETURNING 1) "
	    "SELECT count(*) FROM i", 2, params), 5);
	/* Two clicks of a pack (db/migrations/034), in March 1901 too. */
	cr_assert_eq(db_scalar("SELECT count(*) FROM (SELECT "
	    "clicks_insert_packs(ARRAY[$1::bigint], ARRAY[$2::bigint], "
	    "'{retention}', '{2}', ARRAY[(extract(epoch FROM timestamp "
	    "'1901-03-16 09:00') * 1e6)::bigint], '[[0,\"test\",null,false],"
	    "[5,\"test\",null,false]]', '{}', '{}', '{}', '{}', '{}', '{}', "
	    "'{}', '{}', '{}', '{}', '{}', '{}')) c", 2, params), 1);
	cr_assert_eq(url_events(id, "old"), 5);
	cr_assert_eq(stats_clicks(jint(url, "id")), 5);

	deadline = now_seconds() + 30;
	while (url_events(id, "old") != 0 && now_seconds() < deadline)
		sleep_ms(200);

	cr_expect_eq(url_events(id, "old"), 0, "the 1901 clicks were not "
	    "dropped within 30 s (is CLICK_RETENTION_DAYS=36500, "
	    "CLICK_UPKEEP_S=2 set?)");
	cr_expect_eq(db_scalar("SELECT count(*) FROM pg_class WHERE relname "
	    "IN ('events_clicks_190103', 'events_clicks_190104', "
	    "'click_packs_190103', 'click_packs_190104')", 0, NULL), 0,
	    "the months of 1901 still have partitions");
	cr_expect_eq(url_events(id, "new"), 2, "today's clicks must stay");
	cr_expect_eq(counts_off(), 0, "the drop left the list counts off");
	cr_expect_eq(stats_clicks(jint(url, "id")), 5,
	    "the stats must still count the dropped clicks");
	json_decref(url);
}

/*
 * Every month of clicks, those migration 033 found and those made since,
 * is analyzed after 20% growth, not the global 2% (docs/decisions.md,
 * "Click partitions analyzed after 20% growth"). The month made here is
 * of 1850: the test holds the upkeep's advisory lock while it looks, and
 * then the app's upkeep (CLICK_RETENTION_DAYS=36500) drops it again.
 */
Test(retention, click_months_are_analyzed_after_a_fifth_of_growth)
{
	const char	*unset = "SELECT count(*) FROM pg_inherits i "
	    "JOIN pg_class c ON c.oid = i.inhrelid "
	    "WHERE i.inhparent = 'events_clicks'::regclass "
	    "AND c.relname <> 'events_clicks_default' AND "
	    "NOT coalesce('autovacuum_analyze_scale_factor=0.2' = "
	    "ANY (c.reloptions), false)";
	const char	*old = "SELECT count(*) FROM pg_class "
	    "WHERE relname = 'events_clicks_185001'";
	double		 deadline;

	cr_assert_eq(db_scalar("SELECT 1 FROM (SELECT pg_advisory_lock(727032)) "
	    "l", 0, NULL), 1);
	cr_assert_gt(db_scalar("SELECT count(*) FROM pg_inherits WHERE "
	    "inhparent = 'events_clicks'::regclass", 0, NULL), 1,
	    "no click month partitions");
	cr_expect_eq(db_scalar(unset, 0, NULL), 0,
	    "click months without the analyze setting");
	cr_expect_eq(db_scalar("SELECT events_clicks_month('1850-01-01')::int",
	    0, NULL), 1, "events_clicks_month made no partition");
	cr_expect_eq(db_scalar(old, 0, NULL), 1);
	cr_expect_eq(db_scalar(unset, 0, NULL), 0,
	    "a new month was made without the analyze setting");
	cr_assert_eq(db_scalar("SELECT pg_advisory_unlock(727032)::int",
	    0, NULL), 1);

	deadline = now_seconds() + 30;
	while (db_scalar(old, 0, NULL) != 0 && now_seconds() < deadline)
		sleep_ms(200);
	cr_expect_eq(db_scalar(old, 0, NULL), 0, "the 1850 month was not "
	    "dropped by the upkeep within 30 s");
}
