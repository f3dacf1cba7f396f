-- How each resource looks in the API, defined once, next to the tables.
--
-- Responses are rendered by PostgreSQL: its JSON output is always valid
-- and correctly escaped, and a list becomes a single value the server
-- sends as it is, with no per-row work in the application.

CREATE FUNCTION api_ts(ts timestamp) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS')
$$;

CREATE FUNCTION user_json(u users) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT json_build_object('id', u.id, 'username', u.username,
	    'email', u.email, 'created_at', api_ts(u.created_at))
$$;

CREATE FUNCTION url_json(u urls) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT json_build_object('id', u.id, 'user_id', u.user_id,
	    'short_code', u.short_code, 'original_url', u.original_url,
	    'title', u.title, 'is_active', u.is_active,
	    'created_at', api_ts(u.created_at),
	    'updated_at', api_ts(u.updated_at))
$$;

CREATE FUNCTION event_json(e events) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT json_build_object('id', e.id, 'url_id', e.url_id,
	    'user_id', e.user_id, 'event_type', e.event_type,
	    'timestamp', api_ts(e."timestamp"), 'details', e.details)
$$;
