-- Link lifecycle: an expiry and a click cap, both optional.
--
-- expires_at: from that moment (UTC) the link answers 410 on every
-- replica. The redirect cache carries the expiry in its entries
-- (core/cacheentry.h), so every instance decides from its own clock and
-- nothing needs invalidating when the moment comes.
--
-- max_clicks: the link redirects at most that many times. The count that
-- enforces it is cap_used, claimed by a conditional UPDATE before each
-- counted redirect of a capped link (api/redirect.c): the row lock makes
-- the claims of every worker of every instance take turns, so the cap
-- holds exactly, whatever the concurrency. Only capped links pay for
-- that; the others keep the redirect path that never touches the
-- database on a cache hit. cap_used counts what the cap allows: when a
-- cap is put on a link that had none, it starts from the clicks the link
-- has already had (url_click_daily).
--
-- Adding nullable columns, and one with a constant default, rewrites no
-- row (PostgreSQL 11 and later): instant on any size of table.

ALTER TABLE urls
	ADD COLUMN expires_at timestamp,
	ADD COLUMN max_clicks bigint,
	ADD COLUMN cap_used bigint NOT NULL DEFAULT 0,
	ADD CONSTRAINT urls_max_clicks_positive CHECK (max_clicks > 0);

CREATE OR REPLACE FUNCTION url_json(u urls) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT json_build_object('id', u.id, 'user_id', u.user_id,
	    'short_code', u.short_code,
	    'short_url', current_setting('shortener.public_base_url', true)
	        || '/' || u.short_code,
	    'original_url', u.original_url,
	    'title', u.title, 'is_active', u.is_active,
	    'created_at', api_ts(u.created_at),
	    'updated_at', api_ts(u.updated_at),
	    'expires_at', api_ts(u.expires_at),
	    'max_clicks', u.max_clicks,
	    'clicks_left', CASE WHEN u.max_clicks IS NOT NULL
	        THEN greatest(u.max_clicks - u.cap_used, 0) END)
$$;
