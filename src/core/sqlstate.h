/*
 * What a PostgreSQL SQLSTATE means to the service: the one classification
 * every caller uses (the request path maps it to a status, the click
 * writer decides between retrying a batch and dropping it). Pure logic.
 */
#ifndef SQLSTATE_H
#define SQLSTATE_H

enum sqlstate_class {
	SQLSTATE_UNAVAILABLE,	/* no answer (""), connection (08), server
				   shutting down (57P), too many clients
				   (53300): the database is not there now */
	SQLSTATE_TRANSIENT,	/* serialization failure, deadlock (40):
				   the same statement may well succeed */
	SQLSTATE_TIMEOUT,	/* statement_timeout or a cancel (57014) */
	SQLSTATE_UNIQUE,	/* 23505 */
	SQLSTATE_FOREIGN_KEY,	/* 23503 */
	SQLSTATE_BAD_VALUE,	/* data exceptions (22): a value it refused */
	SQLSTATE_OTHER		/* a bug or a broken schema */
};

/* sqlstate: the five characters, or "" when the server never answered. */
enum sqlstate_class	sqlstate_classify(const char *sqlstate);

/* 1 when running the statement again later can succeed. */
int			sqlstate_retryable(const char *sqlstate);

/*
 * 1 for an undefined function or table (42883, 42P01): the schema is
 * older than the binary (a migration not run yet). Not worth an
 * immediate retry, but work that can wait (a click batch) should.
 */
int			sqlstate_schema_behind(const char *sqlstate);

#endif
