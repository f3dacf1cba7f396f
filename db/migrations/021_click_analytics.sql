-- Click analytics: who clicked, from where, with what, over time.
--
-- Every click's User-Agent and Referer are classified by the click
-- writer (core/uaclass.c: bot or person by the isbot pattern list,
-- browser and OS family, device class, Referer host), and each batch is
-- added up in the worker into the two tables below (core/clickqueue.c),
-- so that PostgreSQL upserts one row per distinct key of a batch, never
-- one per click, and does no grouping of its own. GET /urls/<id>/stats
-- reads a few hundred rows whatever the number of events (it never scans
-- events).
--
--   url_click_hourly   per URL and UTC hour: clicks, how many of them
--                      were bots (people = clicks - bot_clicks), and the
--                      latest click
--   url_click_facets   per URL, UTC day and kind of visitor (Referer
--                      host, '' when none; browser; OS; device), people
--                      only: one row per combination rather than one per
--                      facet, so a URL usually costs a batch one or two
--                      rows here
--
-- Each click event also says whether a bot made it (click_bot, shown as
-- details.bot). A classified click (click_bot set) is counted in
-- url_click_hourly and no longer in url_click_daily: migration 002's
-- trigger now skips classified rows, so the stats read their totals from
-- both tables and a click costs one per-URL upsert, as before, not two.
-- Clicks written before this migration, and events loaded by COPY (seed
-- data), have no classification: they stay in url_click_daily and in no
-- breakdown.
--
-- clicks_insert() gets the aggregates as arrays besides the clicks; the
-- six-argument version stays, so that an instance of the previous
-- release still writes its clicks (unclassified) during a rolling
-- upgrade.

ALTER TABLE events ADD COLUMN click_bot boolean;

CREATE TABLE url_click_hourly (
	url_id		bigint NOT NULL,
	hour		timestamp NOT NULL,
	clicks		bigint NOT NULL,
	bot_clicks	bigint NOT NULL,
	last_click_at	timestamp NOT NULL,
	PRIMARY KEY (url_id, hour)
);

CREATE TABLE url_click_facets (
	url_id		bigint NOT NULL,
	day		date NOT NULL,
	referrer	text NOT NULL,
	browser		text NOT NULL,
	os		text NOT NULL,
	device		text NOT NULL,
	clicks		bigint NOT NULL,
	PRIMARY KEY (url_id, day, referrer, browser, os, device)
);

CREATE OR REPLACE FUNCTION event_details(e events) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN e.click_short_code IS NULL THEN e.details
	    ELSE jsonb_build_object('short_code', e.click_short_code,
	        'user_agent', e.click_user_agent,
	        'referer', e.click_referer)
	        || CASE WHEN e.click_bot IS NULL THEN '{}'::jsonb
	           ELSE jsonb_build_object('bot', e.click_bot) END END
$$;

-- Migration 006's functions, for unclassified clicks only.
CREATE OR REPLACE FUNCTION click_totals_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO url_click_daily AS d (url_id, day, clicks, last_click_at)
	SELECT url_id, "timestamp"::date, count(*), max("timestamp")
	FROM new_events
	WHERE event_type = 'click' AND url_id IS NOT NULL
	    AND click_bot IS NULL
	GROUP BY url_id, "timestamp"::date
	ORDER BY url_id, "timestamp"::date
	ON CONFLICT (url_id, day) DO UPDATE
	SET clicks = d.clicks + EXCLUDED.clicks,
	    last_click_at = greatest(d.last_click_at, EXCLUDED.last_click_at);
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION click_totals_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE url_click_daily AS d
	SET clicks = d.clicks - o.n
	FROM (SELECT url_id, "timestamp"::date AS day, count(*) AS n
	      FROM old_events
	      WHERE event_type = 'click' AND url_id IS NOT NULL
	          AND click_bot IS NULL
	      GROUP BY url_id, "timestamp"::date
	      ORDER BY url_id, "timestamp"::date) o
	WHERE d.url_id = o.url_id AND d.day = o.day;
	DELETE FROM url_click_daily WHERE clicks <= 0;

	-- Classified clicks leave the hourly counts. The facets keep them:
	-- the kind of visitor is not stored with the event in a form SQL
	-- could recompute (docs/api.md says so).
	UPDATE url_click_hourly AS h
	SET clicks = h.clicks - o.n, bot_clicks = h.bot_clicks - o.bots
	FROM (SELECT url_id, date_trunc('hour', "timestamp") AS hour,
	          count(*) AS n, count(*) FILTER (WHERE click_bot) AS bots
	      FROM old_events
	      WHERE event_type = 'click' AND url_id IS NOT NULL
	          AND click_bot IS NOT NULL
	      GROUP BY 1, 2 ORDER BY 1, 2) o
	WHERE h.url_id = o.url_id AND h.hour = o.hour;
	RETURN NULL;
END $$;

-- The aggregates come sorted by key from the worker; ORDER BY keeps the
-- row locks of two concurrent batches in one order all the same.
CREATE FUNCTION clicks_insert(url_ids bigint[], user_ids bigint[],
    at_us bigint[], short_codes text[], user_agents text[],
    referers text[], bots boolean[],
    h_url bigint[], h_hour bigint[], h_clicks bigint[], h_bots bigint[],
    h_last bigint[],
    f_url bigint[], f_day integer[], f_ref text[], f_browser text[],
    f_os text[], f_device text[], f_clicks bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO events (url_id, user_id, event_type, "timestamp",
	    click_short_code, click_user_agent, click_referer, click_bot)
	SELECT c.url_id, c.user_id, 'click',
	    timestamp 'epoch' + c.at_us * interval '1 microsecond',
	    c.short_code, c.user_agent, c.referer, c.bot
	FROM unnest(url_ids, user_ids, at_us, short_codes, user_agents,
	    referers, bots) AS c(url_id, user_id, at_us, short_code,
	    user_agent, referer, bot);

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

-- The clicks of a URL per UTC day, classified or not.
CREATE FUNCTION url_clicks_by_day(p_url bigint, d0 date, d1 date)
RETURNS TABLE (day date, clicks bigint, people bigint, bots bigint,
    last_click_at timestamp)
LANGUAGE sql STABLE AS $$
	SELECT day, sum(clicks)::bigint, sum(people)::bigint,
	    sum(bots)::bigint, max(last_click_at)
	FROM (SELECT day, clicks, 0 AS people, 0 AS bots, last_click_at
	      FROM url_click_daily
	      WHERE url_id = p_url AND day BETWEEN d0 AND d1
	      UNION ALL
	      SELECT hour::date, clicks, clicks - bot_clicks, bot_clicks,
	          last_click_at
	      FROM url_click_hourly
	      WHERE url_id = p_url AND hour >= d0 AND hour < d1 + 1) t
	GROUP BY day
$$;

-- The n values of one facet of a URL's people between two days, as
-- [{"name", "clicks"}], most first; a Referer host '' (no Referer) is
-- named "(direct)". facet: referrer, browser, os or device.
CREATE FUNCTION click_facet_top(p_url bigint, facet text, d0 date, d1 date,
    n int) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('name', t.name,
	    'clicks', t.clicks) ORDER BY t.clicks DESC, t.name), '[]')
	FROM (SELECT CASE WHEN v = '' THEN '(direct)' ELSE v END AS name,
	          sum(clicks)::bigint AS clicks
	      FROM (SELECT CASE facet WHEN 'referrer' THEN referrer
	                WHEN 'browser' THEN browser WHEN 'os' THEN os
	                ELSE device END AS v, clicks
	            FROM url_click_facets
	            WHERE url_id = p_url AND day BETWEEN d0 AND d1) f
	      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT n) t
$$;
