-- Click analytics: who clicked, from where, with what, over time.
--
-- Every click's User-Agent and Referer are classified by the click
-- writer (core/uaclass.c: bot or person by the isbot pattern list,
-- browser and OS family, device class, Referer host), and each batch is
-- added up in the worker into the two tables below (core/clickqueue.c),
-- so that PostgreSQL upserts one row per distinct key of a batch, never
-- one per click, and GET /urls/<id>/stats reads a few hundred rows
-- whatever the number of events (it never scans events).
--
--   url_click_hourly   per URL and UTC hour: clicks, and how many of them
--                      were bots (people = clicks - bot_clicks)
--   url_click_facets   per URL, UTC day, facet and value, people only:
--                      'r' Referer host ('' when none), 'b' browser,
--                      'o' operating system, 'd' device class
--
-- Each click event also says whether a bot made it (click_bot, shown as
-- details.bot). Clicks written before this migration, and events loaded
-- by COPY (seed data), have no classification: they are in
-- url_click_daily (the stats' clicks and daily) but in neither table.
--
-- clicks_insert() gets the aggregates as arrays besides the clicks; the
-- six-argument version stays, so that an instance of the previous
-- release still writes its clicks during a rolling upgrade.

ALTER TABLE events ADD COLUMN click_bot boolean;

CREATE TABLE url_click_hourly (
	url_id		bigint NOT NULL,
	hour		timestamp NOT NULL,
	clicks		bigint NOT NULL,
	bot_clicks	bigint NOT NULL,
	PRIMARY KEY (url_id, hour)
);

CREATE TABLE url_click_facets (
	url_id		bigint NOT NULL,
	facet		"char" NOT NULL,
	day		date NOT NULL,
	value		text NOT NULL,
	clicks		bigint NOT NULL,
	PRIMARY KEY (url_id, facet, day, value)
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

-- The aggregates come sorted by key from the worker; ORDER BY keeps the
-- row locks of two concurrent batches in one order all the same.
CREATE FUNCTION clicks_insert(url_ids bigint[], user_ids bigint[],
    at_us bigint[], short_codes text[], user_agents text[],
    referers text[], bots boolean[],
    h_url bigint[], h_hour bigint[], h_clicks bigint[], h_bots bigint[],
    f_url bigint[], f_day integer[], f_facet text[], f_value text[],
    f_clicks bigint[]) RETURNS void
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

	INSERT INTO url_click_hourly AS h (url_id, hour, clicks, bot_clicks)
	SELECT a.url_id, timestamp 'epoch' + a.hour * interval '1 second',
	    a.clicks, a.bots
	FROM unnest(h_url, h_hour, h_clicks, h_bots)
	    AS a(url_id, hour, clicks, bots)
	ORDER BY 1, 2
	ON CONFLICT (url_id, hour) DO UPDATE
	SET clicks = h.clicks + EXCLUDED.clicks,
	    bot_clicks = h.bot_clicks + EXCLUDED.bot_clicks;

	INSERT INTO url_click_facets AS f (url_id, facet, day, value, clicks)
	SELECT a.url_id, a.facet::"char", date '1970-01-01' + a.day,
	    a.value, a.clicks
	FROM unnest(f_url, f_day, f_facet, f_value, f_clicks)
	    AS a(url_id, day, facet, value, clicks)
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (url_id, facet, day, value) DO UPDATE
	SET clicks = f.clicks + EXCLUDED.clicks;
END $$;

-- A deleted click event leaves the hourly counts, as it leaves
-- url_click_daily (migration 002). The facets keep it: the Referer host
-- and families it counted under are not stored with the event in a form
-- SQL could recompute (docs/api.md says so).
CREATE FUNCTION click_hourly_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE url_click_hourly AS h
	SET clicks = h.clicks - o.n, bot_clicks = h.bot_clicks - o.bots
	FROM (SELECT url_id, date_trunc('hour', "timestamp") AS hour,
	          count(*) AS n, count(*) FILTER (WHERE click_bot) AS bots
	      FROM old_events
	      WHERE event_type = 'click' AND click_bot IS NOT NULL
	      GROUP BY 1, 2 ORDER BY 1, 2) o
	WHERE h.url_id = o.url_id AND h.hour = o.hour;
	RETURN NULL;
END $$;

CREATE TRIGGER events_click_hourly_remove
	AFTER DELETE ON events REFERENCING OLD TABLE AS old_events
	FOR EACH STATEMENT EXECUTE FUNCTION click_hourly_remove();

-- The n values of one facet of a URL with the most clicks between two
-- days, as [{"name", "clicks"}], most first; a Referer host '' (no
-- Referer) is named "(direct)".
CREATE FUNCTION click_facet_top(p_url bigint, p_facet "char", d0 date,
    d1 date, n int) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('name', t.name,
	    'clicks', t.clicks) ORDER BY t.clicks DESC, t.name), '[]')
	FROM (SELECT CASE WHEN value = '' THEN '(direct)' ELSE value END
	          AS name, sum(clicks)::bigint AS clicks
	      FROM url_click_facets
	      WHERE url_id = p_url AND facet = p_facet AND day BETWEEN d0 AND d1
	      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT n) t
$$;
