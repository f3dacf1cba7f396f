-- No stored URL can break a response header.
--
-- original_url goes into the Location header of every redirect. The API
-- refuses control characters (core/validate.c), but a loader, a psql
-- prompt or a future code path could still store a CR/LF and split the
-- response. This constraint refuses, whoever writes, C0 controls (CR and
-- LF among them), DEL and C1 controls; the redirect path checks again
-- before it sends (src/api/redirect.c).
--
-- Added NOT VALID here (instant, no scan under the ACCESS EXCLUSIVE lock
-- that ALTER TABLE takes) and validated by 015 in a transaction of its
-- own, which scans under a lock that lets reads and writes go on. Should
-- 015 fail, the rows it names are found with
--   SELECT id, short_code FROM urls
--   WHERE original_url ~ '[\x01-\x1f\x7f-\x9f]';
-- and must be fixed or deleted first.

ALTER TABLE urls ADD CONSTRAINT urls_original_url_header_safe
	CHECK (original_url !~ '[\x01-\x1f\x7f-\x9f]') NOT VALID;
