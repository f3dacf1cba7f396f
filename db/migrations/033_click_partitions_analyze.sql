-- Click partitions analyzed after 20% growth, not 2% (docs/decisions.md,
-- "Click partitions analyzed after 20% growth").
--
-- conf/postgresql.conf sets autovacuum_analyze_scale_factor = 0.02 for
-- every table: statistics follow urls and the small, often updated
-- tables closely. A month of clicks is different: it only grows, and an
-- ANALYZE of a large partition costs the same whatever changed (it reads
-- and sorts a 30 000-row sample: ~0.38 s of CPU for a 10M-row month
-- here). At 2% of a 10M-row month one is due every 200 000 clicks, so
-- from ~3 300 clicks a second it runs at every autovacuum visit, while
-- the month's distribution of links and users barely moves between two.
--
-- The partitions that exist get the setting here; events_clicks_month()
-- (migration 032, restated unchanged but for the WITH clause) gives it to
-- the months it makes from now on. The default partition holds only what
-- waits for a sweep and keeps the global setting.

DO $$
DECLARE
	part	regclass;
BEGIN
	FOR part IN
		SELECT i.inhrelid::regclass FROM pg_inherits i
		WHERE i.inhparent = 'events_clicks'::regclass
		    AND i.inhrelid <> 'events_clicks_default'::regclass
	LOOP
		EXECUTE format('ALTER TABLE %s SET '
		    '(autovacuum_analyze_scale_factor = 0.2)', part);
	END LOOP;
END $$;

CREATE OR REPLACE FUNCTION events_clicks_month(month date) RETURNS boolean
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
	    'DEFAULTS INCLUDING CONSTRAINTS) '
	    'WITH (autovacuum_analyze_scale_factor = 0.2)', part);
	-- A DELETE on the partition itself fires no trigger of events: the
	-- rows move, the counts stay.
	EXECUTE format('WITH moved AS (DELETE FROM events_clicks_default '
	    'WHERE "timestamp" >= $1 AND "timestamp" < $2 RETURNING *) '
	    'INSERT INTO %I SELECT * FROM moved', part) USING m0, m1;
	EXECUTE format('ALTER TABLE events_clicks ATTACH PARTITION %I '
	    'FOR VALUES FROM (%L) TO (%L)', part, m0, m1);
	RETURN true;
END $$;
