-- Row counts that lists can read without counting.
--
-- X-Total-Count on a paginated list used to be a count(*) of the filtered
-- table on every request: 0.1 s on 1M URLs, 0.6-1.1 s on 10M events. The
-- counts that can be large whatever the data (a whole table, URLs by
-- is_active, events by event_type) are kept here instead, by
-- statement-level triggers with transition tables: a statement that
-- writes N rows costs one upsert per key it touches, not N. Every other
-- filter the API has (a user's URLs, a URL's or a user's events, a
-- username, an email, a short code) selects through an index and is
-- counted there, up to a bound (docs/decisions.md).
--
-- Keys: 'users', 'urls', 'urls:is_active=true|false', 'events',
-- 'events:event_type=<type>'. Each key is spread over 16 shards picked by
-- the writing backend, so concurrent writers (the click writers of every
-- worker) do not queue on one row lock; a reader sums the shards. The
-- counts change in the same transaction as the rows, so a statement sees
-- counts and rows of the same snapshot: exact, not eventually right.

CREATE TABLE list_counts (
	key	text NOT NULL,
	shard	smallint NOT NULL,
	n	bigint NOT NULL,
	PRIMARY KEY (key, shard)
);

-- Adds delta rows (key, n) to this backend's shard, in key order so that
-- two statements of the same shard take their row locks in one order.
CREATE FUNCTION list_counts_add(deltas jsonb) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO list_counts AS c (key, shard, n)
	SELECT d.key, (pg_backend_pid() % 16)::smallint, d.value::bigint
	FROM jsonb_each_text(deltas) AS d
	WHERE d.value::bigint <> 0
	ORDER BY d.key
	ON CONFLICT (key, shard) DO UPDATE SET n = c.n + EXCLUDED.n
$$;

CREATE FUNCTION list_counts_users() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	delta	bigint;
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT count(*) INTO delta FROM new_rows;
	ELSE
		SELECT -count(*) INTO delta FROM old_rows;
	END IF;
	PERFORM list_counts_add(jsonb_build_object('users', delta));
	RETURN NULL;
END $$;

CREATE FUNCTION list_counts_urls() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	deltas	jsonb;
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT jsonb_build_object('urls', count(*),
		    'urls:is_active=true', count(*) FILTER (WHERE is_active),
		    'urls:is_active=false', count(*) FILTER (WHERE NOT is_active))
		INTO deltas FROM new_rows;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT jsonb_build_object('urls', -count(*),
		    'urls:is_active=true', -count(*) FILTER (WHERE is_active),
		    'urls:is_active=false', -count(*) FILTER (WHERE NOT is_active))
		INTO deltas FROM old_rows;
	ELSE
		SELECT jsonb_build_object(
		    'urls:is_active=true', n.t - o.t,
		    'urls:is_active=false', o.t - n.t)
		INTO deltas
		FROM (SELECT count(*) FILTER (WHERE is_active) AS t
		      FROM new_rows) n,
		     (SELECT count(*) FILTER (WHERE is_active) AS t
		      FROM old_rows) o;
	END IF;
	PERFORM list_counts_add(deltas);
	RETURN NULL;
END $$;

CREATE FUNCTION list_counts_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	deltas	jsonb;
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT jsonb_object_agg(k, n) INTO deltas FROM (
		    SELECT 'events:event_type=' || event_type AS k, count(*) AS n
		    FROM new_rows GROUP BY event_type
		    UNION ALL
		    SELECT 'events', count(*) FROM new_rows) t;
	ELSE
		SELECT jsonb_object_agg(k, -n) INTO deltas FROM (
		    SELECT 'events:event_type=' || event_type AS k, count(*) AS n
		    FROM old_rows GROUP BY event_type
		    UNION ALL
		    SELECT 'events', count(*) FROM old_rows) t;
	END IF;
	PERFORM list_counts_add(deltas);
	RETURN NULL;
END $$;

CREATE FUNCTION list_counts_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM list_counts
	WHERE key = TG_TABLE_NAME OR key LIKE TG_TABLE_NAME || ':%';
	RETURN NULL;
END $$;

CREATE TRIGGER users_counts_insert AFTER INSERT ON users
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_users();
CREATE TRIGGER users_counts_delete AFTER DELETE ON users
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_users();
CREATE TRIGGER users_counts_truncate AFTER TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_truncate();

CREATE TRIGGER urls_counts_insert AFTER INSERT ON urls
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_urls();
CREATE TRIGGER urls_counts_delete AFTER DELETE ON urls
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_urls();
CREATE TRIGGER urls_counts_update AFTER UPDATE ON urls
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_urls();
CREATE TRIGGER urls_counts_truncate AFTER TRUNCATE ON urls
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_truncate();

CREATE TRIGGER events_counts_insert AFTER INSERT ON events
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_events();
CREATE TRIGGER events_counts_delete AFTER DELETE ON events
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_events();
CREATE TRIGGER events_counts_truncate AFTER TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION list_counts_truncate();

-- What is there already.
INSERT INTO list_counts (key, shard, n)
SELECT 'users', 0, count(*) FROM users
UNION ALL
SELECT 'urls', 0, count(*) FROM urls
UNION ALL
SELECT 'urls:is_active=' || is_active, 0, count(*) FROM urls GROUP BY is_active
UNION ALL
SELECT 'events', 0, count(*) FROM events
UNION ALL
SELECT 'events:event_type=' || event_type, 0, count(*) FROM events
GROUP BY event_type;

-- How many rows a list of this key holds.
CREATE FUNCTION list_count(k text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(n), 0)::bigint FROM list_counts WHERE key = k
$$;
