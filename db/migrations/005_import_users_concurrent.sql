-- import_users(), again, for imports running side by side.
--
-- Two things 003 got wrong under concurrency:
--  - Moving the id sequence to max(id) could move it *backwards* (rows of
--    another import not yet committed are invisible), after which new ids
--    collided with existing ones. The sequence now only moves forward.
--  - An id drawn for a row without one can meet an explicit id another
--    import has just written; that row was reported as an email conflict.
--    The draw is now repeated, and errors name the constraint truly hit.

-- One row's upsert: by id when it has one, else by email. Returns true
-- when the row was inserted, false when an existing user was updated.
CREATE FUNCTION import_user_row(p_id bigint, p_username text, p_email text,
    p_created_at timestamp) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	inserted	boolean;
BEGIN
	IF p_id IS NULL THEN
		INSERT INTO users AS u (username, email, created_at)
		VALUES (p_username, p_email,
		    coalesce(p_created_at, now() AT TIME ZONE 'UTC'))
		ON CONFLICT ((lower(email))) DO UPDATE
		SET username = EXCLUDED.username,
		    created_at = coalesce(p_created_at, u.created_at)
		RETURNING (xmax = 0) INTO inserted;
	ELSE
		INSERT INTO users AS u (id, username, email, created_at)
		VALUES (p_id, p_username, p_email,
		    coalesce(p_created_at, now() AT TIME ZONE 'UTC'))
		ON CONFLICT (id) DO UPDATE
		SET username = EXCLUDED.username,
		    email = EXCLUDED.email,
		    created_at = coalesce(p_created_at, u.created_at)
		RETURNING (xmax = 0) INTO inserted;
	END IF;
	RETURN inserted;
END $$;

CREATE OR REPLACE FUNCTION import_users(rows jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r		record;
	inserted	boolean;
	n_created	bigint := 0;
	n_updated	bigint := 0;
	n_skipped	bigint := 0;
	errs		jsonb := '[]'::jsonb;
	pass		int;
	seq		regclass := pg_get_serial_sequence('users', 'id');
	problem		text;
	attempt		int;
BEGIN
	FOR pass IN 1..2 LOOP
		IF pass = 2 THEN
			PERFORM setval(seq, greatest(
			    coalesce((SELECT max(id) FROM users), 0),
			    coalesce(pg_sequence_last_value(seq), 0), 1));
		END IF;

		FOR r IN
			SELECT * FROM jsonb_to_recordset(rows) AS x(line bigint,
			    id bigint, username text, email text,
			    created_at timestamp)
			WHERE (pass = 1) = (x.id IS NOT NULL)
			ORDER BY x.line
		LOOP
			problem := NULL;
			FOR attempt IN 1..5 LOOP
				BEGIN
					inserted := import_user_row(r.id, r.username,
					    r.email, r.created_at);
					problem := NULL;
					EXIT;
				EXCEPTION WHEN unique_violation THEN
					GET STACKED DIAGNOSTICS problem = CONSTRAINT_NAME;
					-- A drawn id taken by a concurrent import's explicit
					-- id: draw again. Anything else is the row's fault.
					EXIT WHEN problem <> 'users_pkey' OR r.id IS NOT NULL;
				END;
			END LOOP;

			IF problem IS NULL THEN
				IF inserted THEN
					n_created := n_created + 1;
				ELSE
					n_updated := n_updated + 1;
				END IF;
			ELSE
				n_skipped := n_skipped + 1;
				IF jsonb_array_length(errs) < 100 THEN
					errs := errs || jsonb_build_object('line', r.line,
					    'error', CASE problem
					    WHEN 'users_email_lower_key' THEN
					        'email already belongs to another user'
					    ELSE 'conflicts with a concurrent write' END);
				END IF;
			END IF;
		END LOOP;
	END LOOP;

	RETURN jsonb_build_object('created', n_created, 'updated', n_updated,
	    'skipped', n_skipped, 'errors', errs);
END $$;
