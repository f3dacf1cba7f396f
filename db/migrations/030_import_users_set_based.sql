-- import_users(), set-based.
--
-- 005 upserted row by row, each in a subtransaction (an EXCEPTION block)
-- and each its own statement, so the statement-level triggers on users
-- (list_counts, migration 010) ran once per row as well: 12 000 rows took
-- more than the 8 s the bulk route may run. The work is now done in a
-- few statements over the whole file: the rows whose email belongs to
-- another user are set aside as errors first, then rows with an id are
-- updated or inserted by id, the id sequence moved past them, then rows
-- without an id updated or inserted by email. The report is the same.
--
-- A concurrent write can still collide with the file (a user created
-- meanwhile with one of its emails, an id drawn by another import): the
-- set-based statements then fail together, and the file goes through the
-- row-by-row function of 005, import_users_rowwise(), which reports
-- such rows one by one as before.

ALTER FUNCTION import_users(jsonb) RENAME TO import_users_rowwise;

CREATE FUNCTION import_users(rows jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	seq		regclass := pg_get_serial_sequence('users', 'id');
	n_created	bigint;
	n_updated	bigint;
	n_skipped	bigint;
	errs		jsonb;
BEGIN
	BEGIN
		CREATE TEMP TABLE import_rows ON COMMIT DROP AS
		SELECT x.line, x.id, x.username, x.email, x.created_at,
		    false AS refused, false AS updated
		FROM jsonb_to_recordset(rows) AS x(line bigint, id bigint,
		    username text, email text, created_at timestamp);

		-- An email another user already has: the row's fault.
		UPDATE import_rows r SET refused = true
		WHERE r.id IS NOT NULL AND EXISTS (SELECT 1 FROM users u
		    WHERE lower(u.email) = lower(r.email) AND u.id <> r.id);

		-- Rows with an id: update by id, insert the rest.
		WITH upd AS (UPDATE users u SET username = r.username,
		    email = r.email, created_at = coalesce(r.created_at,
		    u.created_at)
		    FROM import_rows r
		    WHERE r.id IS NOT NULL AND NOT r.refused AND u.id = r.id
		    RETURNING r.line)
		UPDATE import_rows r SET updated = true FROM upd
		WHERE r.line = upd.line;

		INSERT INTO users (id, username, email, created_at)
		SELECT id, username, email,
		    coalesce(created_at, now() AT TIME ZONE 'UTC')
		FROM import_rows
		WHERE id IS NOT NULL AND NOT refused AND NOT updated
		ORDER BY line;

		-- New ids continue above the largest; never backwards.
		PERFORM setval(seq, greatest(
		    coalesce((SELECT max(id) FROM users), 0),
		    coalesce(pg_sequence_last_value(seq), 0), 1));

		-- Rows without an id: update by email, insert the rest.
		WITH upd AS (UPDATE users u SET username = r.username,
		    created_at = coalesce(r.created_at, u.created_at)
		    FROM import_rows r
		    WHERE r.id IS NULL AND lower(u.email) = lower(r.email)
		    RETURNING r.line)
		UPDATE import_rows r SET updated = true FROM upd
		WHERE r.line = upd.line;

		INSERT INTO users (username, email, created_at)
		SELECT username, email,
		    coalesce(created_at, now() AT TIME ZONE 'UTC')
		FROM import_rows
		WHERE id IS NULL AND NOT updated
		ORDER BY line;
	EXCEPTION WHEN unique_violation THEN
		-- A concurrent write collided: the careful way.
		RETURN import_users_rowwise(rows);
	END;

	SELECT count(*) FILTER (WHERE NOT refused AND NOT updated),
	    count(*) FILTER (WHERE updated), count(*) FILTER (WHERE refused),
	    coalesce((SELECT jsonb_agg(jsonb_build_object('line', line,
	        'error', 'email already belongs to another user')
	        ORDER BY line) FROM (SELECT line FROM import_rows
	        WHERE refused ORDER BY line LIMIT 100) e), '[]'::jsonb)
	INTO n_created, n_updated, n_skipped, errs
	FROM import_rows;

	DROP TABLE import_rows;
	RETURN jsonb_build_object('created', n_created, 'updated', n_updated,
	    'skipped', n_skipped, 'errors', errs);
END $$;
