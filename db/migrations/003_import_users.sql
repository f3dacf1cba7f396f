-- import_users(rows): the whole of POST /users/bulk in one statement, so
-- one call is one transaction. The application has parsed and validated
-- the CSV; this function only meets the database's own constraints.
--
-- rows: [{"line": L, "id": N|null, "username": s, "email": s,
--         "created_at": "YYYY-MM-DD HH:MM:SS"|null}, ...]
-- Returns {"created": a, "updated": b, "skipped": c,
--          "errors": [{"line": L, "error": s}, ...]}.
--
-- A row with an id is upserted by id; a row without one by email, which
-- is what makes importing the same file twice leave the same state.
--
-- Rows that carry an id are written first and the id sequence is moved
-- past the largest id before rows without one draw from it, so a drawn id
-- never lands on an id the same file names. Each row runs in its own
-- subtransaction: a conflicting email skips that row, not the file.

CREATE FUNCTION import_users(rows jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r		record;
	inserted	boolean;
	n_created	bigint := 0;
	n_updated	bigint := 0;
	n_skipped	bigint := 0;
	errs		jsonb := '[]'::jsonb;
	pass		int;
BEGIN
	FOR pass IN 1..2 LOOP
		IF pass = 2 THEN
			PERFORM setval(pg_get_serial_sequence('users', 'id'),
			    greatest(coalesce((SELECT max(id) FROM users), 0), 1),
			    (SELECT max(id) FROM users) IS NOT NULL);
		END IF;

		FOR r IN
			SELECT * FROM jsonb_to_recordset(rows) AS x(line bigint,
			    id bigint, username text, email text,
			    created_at timestamp)
			WHERE (pass = 1) = (x.id IS NOT NULL)
			ORDER BY x.line
		LOOP
			BEGIN
				IF r.id IS NULL THEN
					INSERT INTO users AS u (username, email, created_at)
					VALUES (r.username, r.email, coalesce(r.created_at,
					    now() AT TIME ZONE 'UTC'))
					ON CONFLICT ((lower(email))) DO UPDATE
					SET username = EXCLUDED.username,
					    created_at = coalesce(r.created_at, u.created_at)
					RETURNING (xmax = 0) INTO inserted;
				ELSE
					INSERT INTO users AS u (id, username, email, created_at)
					VALUES (r.id, r.username, r.email, coalesce(r.created_at,
					    now() AT TIME ZONE 'UTC'))
					ON CONFLICT (id) DO UPDATE
					SET username = EXCLUDED.username,
					    email = EXCLUDED.email,
					    created_at = coalesce(r.created_at, u.created_at)
					RETURNING (xmax = 0) INTO inserted;
				END IF;

				IF inserted THEN
					n_created := n_created + 1;
				ELSE
					n_updated := n_updated + 1;
				END IF;
			EXCEPTION WHEN unique_violation THEN
				n_skipped := n_skipped + 1;
				IF jsonb_array_length(errs) < 100 THEN
					errs := errs || jsonb_build_object('line', r.line,
					    'error', 'email already belongs to another user');
				END IF;
			END;
		END LOOP;
	END LOOP;

	RETURN jsonb_build_object('created', n_created, 'updated', n_updated,
	    'skipped', n_skipped, 'errors', errs);
END $$;
