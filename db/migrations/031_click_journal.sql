-- Clicks that survive a crash (docs/decisions.md, "Clicks that survive a
-- crash"). Each worker appends every click it answers to a journal file
-- before the 302 goes out, and a worker that takes the place of a crashed
-- one sends what was not stored yet again. Here, per journal, the last
-- click stored: a batch sent twice (the crashed worker's, still in flight,
-- and its replay) is stored once.
--
-- clicks_insert_once() locks the journal's row before it looks: a replay
-- that meets the crashed worker's statement still running waits for it
-- and then sees what it stored (READ COMMITTED re-reads the locked row).
-- Batches are replayed with the boundaries they were sent with, so a
-- batch is either wholly stored or not at all; an overlap would be a bug
-- in the writer and is refused (SQLSTATE SC001), never stored twice.

CREATE TABLE click_journals (
	journal_id	text PRIMARY KEY,
	written_seq	bigint NOT NULL,
	updated_at	timestamp NOT NULL DEFAULT now()
);

CREATE FUNCTION clicks_insert_once(journal text, first_seq bigint,
    last_seq bigint, url_ids bigint[], user_ids bigint[],
    at_us bigint[], short_codes text[], user_agents text[],
    referers text[], bots boolean[],
    h_url bigint[], h_hour bigint[], h_clicks bigint[], h_bots bigint[],
    h_last bigint[],
    f_url bigint[], f_day integer[], f_ref text[], f_browser text[],
    f_os text[], f_device text[], f_clicks bigint[]) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	stored	bigint;
BEGIN
	SELECT written_seq INTO stored FROM click_journals
	WHERE journal_id = journal FOR UPDATE;
	IF NOT FOUND THEN
		INSERT INTO click_journals (journal_id, written_seq)
		VALUES (journal, 0) ON CONFLICT DO NOTHING;
		SELECT written_seq INTO stored FROM click_journals
		WHERE journal_id = journal FOR UPDATE;
	END IF;
	IF stored >= last_seq THEN
		RETURN false;
	END IF;
	IF stored >= first_seq THEN
		RAISE EXCEPTION 'click journal %: batch % to % overlaps what is '
		    'stored (up to %)', journal, first_seq, last_seq, stored
		    USING ERRCODE = 'SC001';
	END IF;
	PERFORM clicks_insert(url_ids, user_ids, at_us, short_codes,
	    user_agents, referers, bots, h_url, h_hour, h_clicks, h_bots,
	    h_last, f_url, f_day, f_ref, f_browser, f_os, f_device, f_clicks);
	UPDATE click_journals SET written_seq = last_seq, updated_at = now()
	WHERE journal_id = journal;
	RETURN true;
END $$;
