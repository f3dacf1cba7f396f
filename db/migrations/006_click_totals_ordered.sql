-- click_totals_add(), again: two batches of clicks inserted at the same
-- time could update the same (url, day) rows in opposite orders and
-- deadlock (SQLSTATE 40P01). Upserting in key order makes every batch take
-- its row locks in the same order.

CREATE OR REPLACE FUNCTION click_totals_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO url_click_daily AS d (url_id, day, clicks, last_click_at)
	SELECT url_id, "timestamp"::date, count(*), max("timestamp")
	FROM new_events
	WHERE event_type = 'click' AND url_id IS NOT NULL
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
	      GROUP BY url_id, "timestamp"::date
	      ORDER BY url_id, "timestamp"::date) o
	WHERE d.url_id = o.url_id AND d.day = o.day;
	DELETE FROM url_click_daily WHERE clicks <= 0;
	RETURN NULL;
END $$;
