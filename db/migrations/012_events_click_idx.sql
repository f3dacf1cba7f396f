-- GET /events?event_type=click, first page and keyset pages.
--
-- Migration 007 took clicks out of events_type_idx to spare every click
-- a btree insert into (event_type, id). Without any index, a page of
-- clicks walks the primary key and filters: cheap while clicks are most
-- of the table, a scan of every earlier non-click row when they are not
-- (200 000 rows skipped for the first page on a seed whose first ids are
-- `created` events: 40 ms). This index holds only the id of each click:
-- an 8-byte key appended at the right edge of the tree, the cheapest
-- insert an index can cost, and it serves the filter in id order.

CREATE INDEX events_click_idx ON events (id) WHERE event_type = 'click';
