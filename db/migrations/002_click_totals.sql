-- Per-URL, per-day click totals for GET /urls/<id>/stats.
--
-- Maintained by statement-level triggers with transition tables: a batch
-- of N clicks inserted in one statement costs one upsert per (url, day),
-- not N updates of the same hot row. COPY fires these triggers too, so
-- seed loading fills the totals as a side effect.

CREATE TABLE url_click_daily (
	url_id		bigint NOT NULL,
	day		date NOT NULL,
	clicks		bigint NOT NULL,
	last_click_at	timestamp NOT NULL,
	PRIMARY KEY (url_id, day)
);

CREATE FUNCTION click_totals_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO url_click_daily AS d (url_id, day, clicks, last_click_at)
	SELECT url_id, "timestamp"::date, count(*), max("timestamp")
	FROM new_events
	WHERE event_type = 'click' AND url_id IS NOT NULL
	GROUP BY url_id, "timestamp"::date
	ON CONFLICT (url_id, day) DO UPDATE
	SET clicks = d.clicks + EXCLUDED.clicks,
	    last_click_at = greatest(d.last_click_at, EXCLUDED.last_click_at);
	RETURN NULL;
END $$;

CREATE FUNCTION click_totals_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE url_click_daily AS d
	SET clicks = d.clicks - o.n
	FROM (SELECT url_id, "timestamp"::date AS day, count(*) AS n
	      FROM old_events
	      WHERE event_type = 'click' AND url_id IS NOT NULL
	      GROUP BY url_id, "timestamp"::date) o
	WHERE d.url_id = o.url_id AND d.day = o.day;
	DELETE FROM url_click_daily WHERE clicks <= 0;
	RETURN NULL;
END $$;

CREATE TRIGGER events_click_totals_add
	AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
	FOR EACH STATEMENT EXECUTE FUNCTION click_totals_add();

CREATE TRIGGER events_click_totals_remove
	AFTER DELETE ON events REFERENCING OLD TABLE AS old_events
	FOR EACH STATEMENT EXECUTE FUNCTION click_totals_remove();
