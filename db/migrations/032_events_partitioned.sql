-- Clicks in partitions of their own (docs/decisions.md, "Clicks in their
-- own partitions").
--
-- events becomes a table partitioned by event type: clicks go to
-- events_clicks, itself partitioned by month of "timestamp"; every other
-- event (created, updated, deleted, and whatever a client posts) goes to
-- events_other. For clients nothing changes: the table is still called
-- events, with the same columns, and every statement on it is the same.
--
-- What it buys:
--   - a click no longer pays for the statement triggers on events. The
--     click writer inserts into events_clicks directly (a statement on a
--     partition fires none of its parent's triggers) and clicks_insert()
--     adds the list counts once per batch; the clicks the worker
--     classified were never in url_click_daily, and unclassified ones
--     (none today) are added there by clicks_insert() itself;
--   - a click updates three btrees (id, url, user), not four: the
--     partial index of click ids (migration 012) is the id index of the
--     click partitions, and events_type_idx only exists on events_other;
--   - old clicks can be dropped a month at a time (events_retention(),
--     run by the app when CLICK_RETENTION_DAYS is set): DROP TABLE, not
--     DELETE, so the per-day, hourly and facet totals keep every click.
--
-- A partitioned table cannot have a primary key on id alone (a unique
-- index must hold the partition key): every partition has a btree on id,
-- and ids come from one sequence, as before. Clicks with a timestamp
-- outside the months that have a partition (a client's POST /events of a
-- click in 1999) land in events_clicks_default; events_retention() moves
-- such rows into their month when it creates that month's partition.
--
-- The rows are copied once, here: at 10M events that is a few minutes
-- with the table locked (docs/deploy.md says so).

LOCK TABLE events IN ACCESS EXCLUSIVE MODE;

CREATE TEMP TABLE events_seq_state ON COMMIT DROP AS
	SELECT last_value, is_called FROM events_id_seq;

ALTER TABLE events RENAME TO events_unpartitioned;
DROP FUNCTION event_json(events_unpartitioned);
DROP FUNCTION event_details(events_unpartitioned);

CREATE TABLE events (
	id		bigint NOT NULL,
	url_id		bigint,
	user_id		bigint,
	event_type	text NOT NULL,
	"timestamp"	timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
	details		jsonb NOT NULL DEFAULT '{}'::jsonb,
	click_short_code text,
	click_user_agent text,
	click_referer	text,
	click_bot	boolean,
	CONSTRAINT events_details_check CHECK (jsonb_typeof(details) = 'object'),
	CONSTRAINT events_click_columns_only_for_clicks CHECK (
	    click_short_code IS NULL OR
	    (event_type = 'click' AND details = '{}'::jsonb))
) PARTITION BY LIST (event_type);

CREATE TABLE events_clicks PARTITION OF events
	FOR VALUES IN ('click') PARTITION BY RANGE ("timestamp");
CREATE TABLE events_clicks_default PARTITION OF events_clicks DEFAULT;
CREATE TABLE events_other PARTITION OF events DEFAULT;

-- The month's partition of events_clicks, named events_clicks_YYYYMM,
-- created if missing; rows of that month waiting in the default
-- partition move into it. Returns true when it created one.
CREATE FUNCTION events_clicks_month(month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	m0	timestamp := date_trunc('month', month);
	m1	timestamp := date_trunc('month', month) + interval '1 month';
	part	text := 'events_clicks_' || to_char(m0, 'YYYYMM');
BEGIN
	IF to_regclass(part) IS NOT NULL THEN
		RETURN false;
	END IF;
	EXECUTE format('CREATE TABLE %I (LIKE events_clicks INCLUDING '
	    'DEFAULTS INCLUDING CONSTRAINTS)', part);
	-- A DELETE on the partition itself fires no trigger of events: the
	-- rows move, the counts stay.
	EXECUTE format('WITH moved AS (DELETE FROM events_clicks_default '
	    'WHERE "timestamp" >= $1 AND "timestamp" < $2 RETURNING *) '
	    'INSERT INTO %I SELECT * FROM moved', part) USING m0, m1;
	EXECUTE format('ALTER TABLE events_clicks ATTACH PARTITION %I '
	    'FOR VALUES FROM (%L) TO (%L)', part, m0, m1);
	RETURN true;
END $$;

-- Every month from the first click to two months from now, so that a
-- click of today never waits in the default partition.
SELECT events_clicks_month(m::date)
FROM generate_series(
    date_trunc('month', least(now() AT TIME ZONE 'UTC',
        (SELECT min("timestamp") FROM events_unpartitioned
         WHERE event_type = 'click'))),
    date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months',
    interval '1 month') AS m;

-- The rows, without the triggers (the counts and totals hold them).
INSERT INTO events SELECT id, url_id, user_id, event_type, "timestamp",
    details, click_short_code, click_user_agent, click_referer, click_bot
FROM events_unpartitioned;
DROP TABLE events_unpartitioned;

CREATE SEQUENCE events_id_seq OWNED BY events.id;
SELECT setval('events_id_seq', last_value, is_called) FROM events_seq_state;
ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval('events_id_seq');
ALTER TABLE events_clicks ALTER COLUMN id
	SET DEFAULT nextval('events_id_seq');

CREATE INDEX events_id_idx ON events (id);
CREATE INDEX events_url_id_idx ON events (url_id, id);
CREATE INDEX events_user_id_idx ON events (user_id, id);
CREATE INDEX events_type_idx ON events_other (event_type, id);

CREATE FUNCTION event_details(e events) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN e.click_short_code IS NULL THEN e.details
	    ELSE jsonb_build_object('short_code', e.click_short_code,
	        'user_agent', e.click_user_agent,
	        'referer', e.click_referer)
	        || CASE WHEN e.click_bot IS NULL THEN '{}'::jsonb
	           ELSE jsonb_build_object('bot', e.click_bot) END END
$$;

CREATE FUNCTION event_json(e events) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT json_build_object('id', e.id, 'url_id', e.url_id,
	    'user_id', e.user_id, 'event_type', e.event_type,
	    'timestamp', api_ts(e."timestamp"), 'details', event_details(e))
$$;

CREATE TRIGGER events_click_totals_add AFTER INSERT ON events
	REFERENCING NEW TABLE AS new_events
	FOR EACH STATEMENT EXECUTE FUNCTION click_totals_add();
CREATE TRIGGER events_click_totals_remove AFTER DELETE ON events
	REFERENCING OLD TABLE AS old_events
	FOR EACH STATEMENT EXECUTE FUNCTION click_totals_remove();
CREATE TRIGGER events_counts_insert AFTER INSERT ON events
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_events();
CREATE TRIGGER events_counts_delete AFTER DELETE ON events
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_events();
CREATE TRIGGER events_counts_truncate AFTER TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_truncate();

-- The click writer's batch, straight into events_clicks: the triggers
-- above do not fire, so the batch adds its own counts, and the
-- unclassified clicks among it (a worker that could not classify) their
-- per-day totals, as click_totals_add() would.
CREATE OR REPLACE FUNCTION clicks_insert(url_ids bigint[], user_ids bigint[],
    at_us bigint[], short_codes text[], user_agents text[],
    referers text[], bots boolean[],
    h_url bigint[], h_hour bigint[], h_clicks bigint[], h_bots bigint[],
    h_last bigint[],
    f_url bigint[], f_day integer[], f_ref text[], f_browser text[],
    f_os text[], f_device text[], f_clicks bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	n	bigint := cardinality(url_ids);
BEGIN
	INSERT INTO events_clicks (url_id, user_id, event_type, "timestamp",
	    click_short_code, click_user_agent, click_referer, click_bot)
	SELECT c.url_id, c.user_id, 'click',
	    timestamp 'epoch' + c.at_us * interval '1 microsecond',
	    c.short_code, c.user_agent, c.referer, c.bot
	FROM unnest(url_ids, user_ids, at_us, short_codes, user_agents,
	    referers, bots) AS c(url_id, user_id, at_us, short_code,
	    user_agent, referer, bot);
	-- list_counts_add()'s statement, inline: PL/pgSQL keeps its plan,
	-- a call of the SQL function would plan it again for every batch.
	IF n > 0 THEN
		INSERT INTO list_counts AS lc (key, shard, n)
		VALUES ('events', (pg_backend_pid() % 16)::smallint, n),
		    ('events:event_type=click', (pg_backend_pid() % 16)::smallint,
		    n)
		ON CONFLICT (key, shard) DO UPDATE SET n = lc.n + EXCLUDED.n;
	END IF;

	IF array_position(bots, NULL) IS NOT NULL THEN
		INSERT INTO url_click_daily AS d (url_id, day, clicks,
		    last_click_at)
		SELECT c.url_id, c.at::date, count(*), max(c.at)
		FROM (SELECT u.url_id, timestamp 'epoch' +
		          u.at_us * interval '1 microsecond' AS at
		      FROM unnest(url_ids, at_us, bots) AS u(url_id, at_us, bot)
		      WHERE u.bot IS NULL AND u.url_id IS NOT NULL) c
		GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (url_id, day) DO UPDATE
		SET clicks = d.clicks + EXCLUDED.clicks,
		    last_click_at = greatest(d.last_click_at,
		        EXCLUDED.last_click_at);
	END IF;

	INSERT INTO url_click_hourly AS h (url_id, hour, clicks, bot_clicks,
	    last_click_at)
	SELECT a.url_id, timestamp 'epoch' + a.hour * interval '1 second',
	    a.clicks, a.bots,
	    timestamp 'epoch' + a.last_us * interval '1 microsecond'
	FROM unnest(h_url, h_hour, h_clicks, h_bots, h_last)
	    AS a(url_id, hour, clicks, bots, last_us)
	ORDER BY 1, 2
	ON CONFLICT (url_id, hour) DO UPDATE
	SET clicks = h.clicks + EXCLUDED.clicks,
	    bot_clicks = h.bot_clicks + EXCLUDED.bot_clicks,
	    last_click_at = greatest(h.last_click_at, EXCLUDED.last_click_at);

	INSERT INTO url_click_facets AS f (url_id, day, referrer, browser, os,
	    device, clicks)
	SELECT a.url_id, date '1970-01-01' + a.day, a.ref, a.browser, a.os,
	    a.device, a.clicks
	FROM unnest(f_url, f_day, f_ref, f_browser, f_os, f_device, f_clicks)
	    AS a(url_id, day, ref, browser, os, device, clicks)
	ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (url_id, day, referrer, browser, os, device) DO UPDATE
	SET clicks = f.clicks + EXCLUDED.clicks;
END $$;

-- Moves the clicks waiting in the default partition into partitions of
-- their months (a seed loaded after this migration, a partition the
-- upkeep could not create in time). Returns the number of months.
CREATE FUNCTION events_clicks_sweep() RETURNS integer
LANGUAGE sql AS $$
	SELECT count(*) FILTER (WHERE events_clicks_month(m::date))::integer
	FROM (SELECT DISTINCT date_trunc('month', "timestamp") AS m
	      FROM events_clicks_default ORDER BY 1) d
$$;

-- Partition upkeep, run by the app (docs/configuration.md,
-- CLICK_RETENTION_DAYS): the months up to two ahead get their partition,
-- the default partition is swept, and with keep_days > 0 every month
-- whose last day is more than keep_days old is dropped, its rows taken
-- out of the list counts first. The totals (url_click_daily, _hourly,
-- _facets) are not touched: a dropped month still counts in the stats.
-- One run at a time (the instances' workers all call it); a lock it
-- cannot get within lock_ms fails the run, and the next one does the
-- work. Returns the number of partitions dropped, or -1 when another run
-- was under way.
CREATE FUNCTION events_retention(keep_days integer, lock_ms integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	now_utc	timestamp := now() AT TIME ZONE 'UTC';
	horizon	timestamp := now_utc - make_interval(days => keep_days);
	p	record;
	n	bigint;
	dropped	integer := 0;
BEGIN
	IF NOT pg_try_advisory_xact_lock(727032) THEN
		RETURN -1;
	END IF;
	PERFORM set_config('lock_timeout', lock_ms || 'ms', true);
	PERFORM events_clicks_month(m::date)
	FROM generate_series(date_trunc('month', now_utc),
	    date_trunc('month', now_utc) + interval '2 months',
	    interval '1 month') AS m;
	PERFORM events_clicks_sweep();
	IF keep_days <= 0 THEN
		RETURN 0;
	END IF;
	FOR p IN
		SELECT c.oid::regclass AS part
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events_clicks'::regclass
		    AND c.relname ~ '^events_clicks_[0-9]{6}$'
		    AND to_date(right(c.relname, 6), 'YYYYMM')
		        + interval '1 month' <= horizon
		ORDER BY c.relname
	LOOP
		EXECUTE format('LOCK TABLE events_clicks, %s IN ACCESS '
		    'EXCLUSIVE MODE', p.part);
		EXECUTE format('SELECT count(*) FROM %s', p.part) INTO n;
		IF n > 0 THEN
			PERFORM list_counts_add(jsonb_build_object('events', -n,
			    'events:event_type=click', -n));
		END IF;
		EXECUTE format('DROP TABLE %s', p.part);
		dropped := dropped + 1;
	END LOOP;
	RETURN dropped;
END $$;
