-- Checks every existing row against 014's constraint (see there), under
-- SHARE UPDATE EXCLUSIVE: redirects and writes go on meanwhile.

ALTER TABLE urls VALIDATE CONSTRAINT urls_original_url_header_safe;
