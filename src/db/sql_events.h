/* The statements on events (db/sql_events.c). */
#ifndef SQL_EVENTS_H
#define SQL_EVENTS_H

/*
 * How the statements on urls and users log an event: this, followed by a
 * SELECT of (url_id, user_id, event_type, timestamp, details). With
 * sql_events_create and clicks_insert(), the only writes of events.
 */
#define EVENTS_INSERT							\
	"INSERT INTO events (url_id, user_id, event_type, \"timestamp\","	\
	" details) "
#define EVENTS_NOW	"now() AT TIME ZONE 'UTC'"

/*
 * Statements on existing rows take, last, the owner a key is scoped to
 * (NULL: none), who sees the events of their own links only.
 */

/*
 * Lists: db/sql_list.h; filters $7 url_id, $8 user_id, $9 event_type;
 * $10 owner.
 */
extern const char	sql_events_page[];
extern const char	sql_events_batch[];
/* The same with user_id ($8) required: named, their plans kept. */
extern const char	sql_events_page_user[];
extern const char	sql_events_batch_user[];
/*
 * $1 url_id, $2 user_id, $3 event_type, $4 details or NULL, $5 owner:
 * (url exists, user exists, event_json or NULL, id); for a scoped key
 * only its owner and the owner's URLs exist.
 */
extern const char	sql_events_create[];
/* $1 id, $2 owner: event_json. */
extern const char	sql_events_get[];
/* $1 id, $2 owner: id. */
extern const char	sql_events_delete[];
/* A batch of clicks, one array per column (clicks/clickwriter.c). */
extern const char	sql_events_clicks[];
extern const char	sql_events_clicks_once[];
extern const char	sql_events_retention[];

#endif
