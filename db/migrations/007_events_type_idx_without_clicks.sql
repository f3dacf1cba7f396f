-- events_type_idx, without the clicks.
--
-- Clicks are nearly every row of events and the one kind written on the
-- redirect path: indexing their event_type cost each click a third btree
-- insert (about 2.5 us of PostgreSQL CPU in a batch, a sixth of the
-- insert). A filter on event_type=click gains nothing from that index
-- anyway: almost every row matches, so the primary key, in id order, is
-- the plan. The other types are rare and keep their index; PostgreSQL
-- proves event_type = 'created' implies event_type <> 'click' and uses
-- it for them.
--
-- The build blocks writes to events while it runs (inserts wait for it;
-- clicks queue up in the app meanwhile): seconds per million rows.

DROP INDEX events_type_idx;
CREATE INDEX events_type_idx ON events (event_type, id)
	WHERE event_type <> 'click';
