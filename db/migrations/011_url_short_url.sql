-- A URL's JSON carries short_url, the absolute short link.
--
-- The public base URL is configuration (PUBLIC_BASE_URL), and every
-- response that holds a URL is rendered here, lists included, so the app
-- hands the base to PostgreSQL once per connection, as the session setting
-- shortener.public_base_url (in the connection's options, src/db/db.c),
-- instead of as a parameter of every statement. A session without it (a
-- psql prompt) renders short_url as null.

CREATE OR REPLACE FUNCTION url_json(u urls) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT json_build_object('id', u.id, 'user_id', u.user_id,
	    'short_code', u.short_code,
	    'short_url', current_setting('shortener.public_base_url', true)
	        || '/' || u.short_code,
	    'original_url', u.original_url,
	    'title', u.title, 'is_active', u.is_active,
	    'created_at', api_ts(u.created_at),
	    'updated_at', api_ts(u.updated_at))
$$;
