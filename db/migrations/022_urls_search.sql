-- GET /urls?q=: find a link by its code or a piece of its original URL
-- (the web app's search box).
--
-- A substring search cannot use a btree; a trigram index (pg_trgm, in
-- PostgreSQL's contrib, shipped with Debian's postgresql package and
-- trusted: no superuser needed) serves ILIKE '%piece%' for pieces of
-- three characters or more. It costs URL writes a GIN insert, which
-- nothing on the redirect path pays. The build reads urls once: seconds
-- per million rows, blocking URL writes meanwhile.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX urls_original_url_trgm ON urls
	USING gin (original_url gin_trgm_ops);
