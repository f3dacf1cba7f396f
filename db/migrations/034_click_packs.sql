-- The click writer's clicks in packs: one row per link per batch, not one
-- row per click (docs/decisions.md, "Clicks in packs").
--
-- A batch's clicks of one link (same link, owner, short code and UTC
-- month) are stored as one row of click_packs: the link's columns once,
-- and the clicks (time from the pack's first, User-Agent, Referer, bot)
-- as the JSON text the worker wrote (core/clickqueue.h), stored as it
-- comes. A hot link's 250 clicks of a batch then cost PostgreSQL one heap
-- tuple, three index entries and a copy of some text, not 250 tuples, 750
-- index entries and seven array elements each: 0.6 us a click here
-- instead of ~5 (issue 16's target is 2). A link clicked once per batch
-- costs what a row did.
--
-- Each click keeps an id of its own. events_id_seq now steps by 256: a
-- pack takes one value, its base, and its clicks are base .. base + n - 1
-- (n <= 256: the worker cuts longer runs). Every other event takes one
-- value as before. Ids stay unique and in the order events were stored,
-- and blocks never overlap, so ordering blocks by base and each block's
-- events by id orders by id.
--
-- Reading: event_blocks is every row of events and every pack, with the
-- columns the lists filter on; both sides are single tables, so an
-- ordered list merges their indexes and opens only the blocks it shows
-- (db/sql_events.c). events_all is every event, rows and clicks of packs
-- alike, with the columns of events, ev (the event as an events row, for
-- event_json()), base and pack (false for a row, whose base is its id). A
-- condition on base reaches the packs' index, one on id alone does not:
-- the API's statements add base > x - 256 for id > x, and base BETWEEN
-- x - 255 AND x AND (pack OR base = x) for id = x.
--
-- Deleting one click of a pack (DELETE /events/<id>, events_delete())
-- turns it into a JSON null and takes it out of the list counts and the
-- hourly totals, as the trigger on events does for a row; a pack with no
-- click left is deleted. Months: click_packs is partitioned like
-- events_clicks, and events_clicks_month(), the sweep and
-- events_retention() (restated from migrations 032 and 033) keep both in
-- step. clicks_insert() (migration 032) stays for an app of before this
-- migration during a rolling deploy: its clicks are rows, as before.

ALTER SEQUENCE events_id_seq INCREMENT BY 256;

CREATE TABLE click_packs (
	base		bigint NOT NULL,
	n		smallint NOT NULL CHECK (n BETWEEN 1 AND 256),
	live		smallint NOT NULL CHECK (live BETWEEN 1 AND n),
	url_id		bigint,
	user_id		bigint,
	"at"		timestamp NOT NULL,
	short_code	text,
	clicks		text COMPRESSION lz4 NOT NULL
) PARTITION BY RANGE ("at");
CREATE TABLE click_packs_default PARTITION OF click_packs DEFAULT;

CREATE INDEX click_packs_base_idx ON click_packs (base);
CREATE INDEX click_packs_url_idx ON click_packs (url_id, base);
CREATE INDEX click_packs_user_idx ON click_packs (user_id, base);

-- The month's partitions of events_clicks and click_packs, created if
-- missing; rows of that month waiting in the default partitions move into
-- them. Returns true when it created either.
CREATE OR REPLACE FUNCTION events_clicks_month(month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	m0	timestamp := date_trunc('month', month);
	m1	timestamp := date_trunc('month', month) + interval '1 month';
	made	boolean := false;
	parent	text;
	part	text;
	col	text;
BEGIN
	FOREACH parent IN ARRAY ARRAY['events_clicks', 'click_packs'] LOOP
		part := parent || '_' || to_char(m0, 'YYYYMM');
		col := CASE parent WHEN 'events_clicks' THEN 'timestamp'
		    ELSE 'at' END;
		CONTINUE WHEN to_regclass(part) IS NOT NULL;
		EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS '
		    'INCLUDING CONSTRAINTS) '
		    'WITH (autovacuum_analyze_scale_factor = 0.2)',
		    part, parent);
		-- A DELETE on a partition fires no trigger of events: the
		-- rows move, the counts stay.
		EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 '
		    'AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
		    parent || '_default', col, col, part) USING m0, m1;
		EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I '
		    'FOR VALUES FROM (%L) TO (%L)', parent, part, m0, m1);
		made := true;
	END LOOP;
	RETURN made;
END $$;

-- Packs exist from now on: this month and the next two get their
-- partition (the upkeep adds the months after them, as for events_clicks).
-- No partition for the months before: a statement on click_packs is
-- planned for every partition it has.
SELECT events_clicks_month(m::date)
FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'),
    date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months',
    interval '1 month') AS m;

CREATE OR REPLACE FUNCTION events_clicks_sweep() RETURNS integer
LANGUAGE sql AS $$
	SELECT count(*) FILTER (WHERE events_clicks_month(m::date))::integer
	FROM (SELECT date_trunc('month', "timestamp") AS m
	      FROM events_clicks_default
	      UNION
	      SELECT date_trunc('month', "at") FROM click_packs_default
	      ORDER BY 1) d
$$;

-- The blocks of ids: a row of events (base = its id, one event) or a pack
-- (base .. base + n - 1), with the columns the lists filter on. Both
-- sides are single tables, so PostgreSQL merges their indexes in base
-- order (an ordered list reads a few blocks, not every pack).
CREATE VIEW event_blocks AS
	SELECT e.id AS base, false AS pack, 1::smallint AS live, e.url_id,
	    e.user_id, e.event_type, e AS ev, NULL::click_packs AS pk
	FROM events e
	UNION ALL
	SELECT p.base, true, p.live, p.url_id, p.user_id, 'click'::text,
	    NULL::events, p
	FROM click_packs p;

-- A block's events, in id order: the row, or each live click of the pack
-- as an events row.
CREATE FUNCTION event_block_rows(b event_blocks) RETURNS SETOF events
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT b.ev WHERE (b.pk).base IS NULL
	UNION ALL
	SELECT ROW((b.pk).base + c.i - 1, (b.pk).url_id, (b.pk).user_id,
	    'click', (b.pk)."at" + (c.e ->> 0)::bigint *
	    interval '1 microsecond', '{}'::jsonb, (b.pk).short_code,
	    c.e ->> 1, c.e ->> 2, (c.e ->> 3)::boolean)::events
	FROM jsonb_array_elements((b.pk).clicks::jsonb) WITH ORDINALITY
	    AS c(e, i)
	WHERE (b.pk).base IS NOT NULL AND jsonb_typeof(c.e) = 'array'
$$;

-- Every event, rows and clicks of packs alike: the columns of events, the
-- event as an events row (ev) and its block's base. A condition on base,
-- url_id, user_id or event_type reaches the indexes; one on id alone does
-- not.
CREATE VIEW events_all AS
	SELECT r.id, b.url_id, b.user_id, b.event_type, r."timestamp",
	    r.details, r.click_short_code, r.click_user_agent,
	    r.click_referer, r.click_bot, b.base, b.pack, r AS ev
	FROM event_blocks b, event_block_rows(b) r;

-- The click writer's batch (core/clickqueue.h): its packs, each with its
-- clicks as the JSON text the worker wrote (stored as it comes: no array
-- of the batch is parsed click by click), the packs' texts separated by
-- U+001E; the list counts; the hourly and facet aggregates the worker
-- added up, as clicks_insert() (migration 032) upserts them. The worker
-- classifies every click, so none goes to url_click_daily.
-- clicks_insert() stays for an app of before this migration.
CREATE FUNCTION clicks_insert_packs(p_url bigint[], p_user bigint[],
    p_code text[], p_n integer[], p_first bigint[], p_clicks text,
    h_url bigint[], h_hour bigint[], h_clicks bigint[], h_bots bigint[],
    h_last bigint[],
    f_url bigint[], f_day integer[], f_ref text[], f_browser text[],
    f_os text[], f_device text[], f_clicks bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	n	bigint := 0;
	k	integer;
BEGIN
	FOREACH k IN ARRAY p_n LOOP
		n := n + k;
	END LOOP;
	INSERT INTO click_packs (base, n, live, url_id, user_id, "at",
	    short_code, clicks)
	SELECT nextval('events_id_seq'), p.n, p.n, p.url_id, p.user_id,
	    timestamp 'epoch' + p.first_us * interval '1 microsecond',
	    p.code, p.clicks
	FROM unnest(p_url, p_user, p_code, p_n, p_first,
	    string_to_array(p_clicks, chr(30)))
	    AS p(url_id, user_id, code, n, first_us, clicks);
	-- list_counts_add()'s statement, inline: PL/pgSQL keeps its plan,
	-- a call of the SQL function would plan it again for every batch.
	IF n > 0 THEN
		INSERT INTO list_counts AS lc (key, shard, n)
		VALUES ('events', (pg_backend_pid() % 16)::smallint, n),
		    ('events:event_type=click', (pg_backend_pid() % 16)::smallint,
		    n)
		ON CONFLICT (key, shard) DO UPDATE SET n = lc.n + EXCLUDED.n;
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

-- The same batch, journaled: clicks_insert_once() (migration 031) for
-- packs. Stored unless the journal already holds up to its last click;
-- false when it did.
CREATE FUNCTION clicks_insert_packs_once(journal text, first_seq bigint,
    last_seq bigint, p_url bigint[], p_user bigint[],
    p_code text[], p_n integer[], p_first bigint[], p_clicks text,
    h_url bigint[], h_hour bigint[], h_clicks bigint[], h_bots bigint[],
    h_last bigint[],
    f_url bigint[], f_day integer[], f_ref text[], f_browser text[],
    f_os text[], f_device text[], f_clicks bigint[]) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	stored	bigint;
BEGIN
	SELECT written_seq INTO stored FROM click_journals
	WHERE journal_id = journal FOR UPDATE;
	IF NOT FOUND THEN
		INSERT INTO click_journals (journal_id, written_seq)
		VALUES (journal, 0) ON CONFLICT DO NOTHING;
		SELECT written_seq INTO stored FROM click_journals
		WHERE journal_id = journal FOR UPDATE;
	END IF;
	IF stored >= last_seq THEN
		RETURN false;
	END IF;
	IF stored >= first_seq THEN
		RAISE EXCEPTION 'click journal %: batch % to % overlaps what is '
		    'stored (up to %)', journal, first_seq, last_seq, stored
		    USING ERRCODE = 'SC001';
	END IF;
	PERFORM clicks_insert_packs(p_url, p_user, p_code, p_n, p_first,
	    p_clicks, h_url, h_hour, h_clicks, h_bots, h_last, f_url, f_day,
	    f_ref, f_browser, f_os, f_device, f_clicks);
	UPDATE click_journals SET written_seq = last_seq, updated_at = now()
	WHERE journal_id = journal;
	RETURN true;
END $$;

-- DELETE /events/<id> (owner: the user a key is scoped to, or NULL): a
-- row of events goes through its triggers; a click of a pack is taken out
-- of the pack, the list counts and the totals the same way. Returns the
-- id, or NULL when there is no such event.
CREATE FUNCTION events_delete(event_id bigint, owner bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	p	record;
	k	integer;
	at	timestamp;
BEGIN
	DELETE FROM events WHERE id = event_id
	    AND (owner IS NULL OR user_id = owner);
	IF FOUND THEN
		RETURN event_id;
	END IF;
	SELECT cp.tableoid::regclass AS part, cp.base, cp.url_id, cp.live,
	    cp."at", cp.clicks::jsonb -> (event_id - cp.base)::integer AS e
	INTO p FROM click_packs cp
	WHERE cp.base BETWEEN event_id - 255 AND event_id
	    AND event_id < cp.base + cp.n
	    AND (owner IS NULL OR cp.user_id = owner)
	FOR UPDATE;
	IF NOT FOUND OR jsonb_typeof(p.e) IS DISTINCT FROM 'array' THEN
		RETURN NULL;
	END IF;
	k := event_id - p.base;
	IF p.live = 1 THEN
		EXECUTE format('DELETE FROM %s WHERE base = $1', p.part)
		USING p.base;
	ELSE
		EXECUTE format('UPDATE %s SET clicks = jsonb_set(clicks::jsonb, '
		    '$2, ''null'')::text, live = live - 1 WHERE base = $1',
		    p.part) USING p.base, ARRAY[k::text];
	END IF;
	PERFORM list_counts_add(jsonb_build_object('events', -1,
	    'events:event_type=click', -1));
	IF p.url_id IS NULL THEN
		RETURN event_id;
	END IF;
	-- As click_totals_remove() (migration 021) does for a classified
	-- click: it leaves the hourly counts, the facets keep it.
	at := p."at" + (p.e ->> 0)::bigint * interval '1 microsecond';
	UPDATE url_click_hourly
	SET clicks = clicks - 1,
	    bot_clicks = bot_clicks - (p.e ->> 3)::boolean::integer
	WHERE url_id = p.url_id AND hour = date_trunc('hour', at);
	RETURN event_id;
END $$;

-- Partition upkeep (restated from migration 032): the months of
-- click_packs are made, swept and dropped with those of events_clicks,
-- their live clicks taken out of the list counts.
CREATE OR REPLACE FUNCTION events_retention(keep_days integer,
    lock_ms integer) RETURNS integer
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
		SELECT c.oid::regclass AS part, i.inhparent::regclass AS parent,
		    CASE i.inhparent WHEN 'events_clicks'::regclass
		        THEN 'count(*)' ELSE 'coalesce(sum(live), 0)' END AS rows
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE (i.inhparent = 'events_clicks'::regclass
		        AND c.relname ~ '^events_clicks_[0-9]{6}$'
		    OR i.inhparent = 'click_packs'::regclass
		        AND c.relname ~ '^click_packs_[0-9]{6}$')
		    AND to_date(right(c.relname, 6), 'YYYYMM')
		        + interval '1 month' <= horizon
		ORDER BY right(c.relname, 6), c.relname
	LOOP
		EXECUTE format('LOCK TABLE %s, %s IN ACCESS EXCLUSIVE MODE',
		    p.parent, p.part);
		EXECUTE format('SELECT %s FROM %s', p.rows, p.part) INTO n;
		IF n > 0 THEN
			PERFORM list_counts_add(jsonb_build_object('events', -n,
			    'events:event_type=click', -n));
		END IF;
		EXECUTE format('DROP TABLE %s', p.part);
		IF p.parent = 'events_clicks'::regclass THEN
			dropped := dropped + 1;
		END IF;
	END LOOP;
	RETURN dropped;
END $$;

-- TRUNCATE events (a seed loaded with --replace) empties the packs too:
-- the list counts of events are reset by its own trigger.
CREATE FUNCTION click_packs_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE click_packs;
	RETURN NULL;
END $$;
CREATE TRIGGER events_packs_truncate AFTER TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION click_packs_truncate();
