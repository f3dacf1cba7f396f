/*
 * Test data and helpers shared by the integration tests: unique names,
 * creating the users and URLs a test owns, polling for asynchronously
 * written events, and direct PostgreSQL access (DATABASE_URL) to check
 * what the API cannot show.
 *
 * Tests run in parallel processes against one database, so nothing here
 * relies on global counts: every test creates the rows it looks at, with
 * names that include the process id, a counter and the clock.
 */
#ifndef ITEST_FIXTURES_H
#define ITEST_FIXTURES_H

#include <stddef.h>
#include <jansson.h>

#include <postgresql/libpq-fe.h>

#include "client.h"

/* "prefix-<pid>-<n>-<clock>": unique across processes and runs. */
const char	*uniq(const char *prefix);
/* A unique, valid, lower-case e-mail address. */
const char	*uniq_email(void);

/* Field access that never crashes on a missing key. */
json_int_t	 jint(const json_t *o, const char *key);
const char	*jstr(const json_t *o, const char *key);	/* "<missing>" */

/* Steals the parsed body of r (a new reference) and frees r. */
json_t		*take_json(struct http_resp *r);

/* POST /users with unique values; asserts 201; returns the user. */
json_t		*make_user(void);
/* POST /urls for user_id; extra: NULL or an object merged in (stolen). */
json_t		*make_url(json_int_t user_id, const char *original_url,
		    json_t *extra);
/* A user with one URL; *user_out gets the user (may be NULL). */
json_t		*make_user_url(json_t **user_out);

/* GET of a list: asserts 200 and a JSON array, returns it. */
json_t		*get_list(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* Polls a list until it has at least want items or timeout_ms passes. */
json_t		*poll_list(size_t want, int timeout_ms, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Asserts strictly ascending "id"s. */
void		 expect_ascending_ids(const json_t *arr);
/* Index of the element whose "id" is id, or -1. */
long		 find_id(const json_t *arr, json_int_t id);

/* "YYYY-MM-DDTHH:MM:SS" exactly. */
int		 is_timestamp(const char *s);
/* "YYYY-MM-DD" exactly. */
int		 is_date(const char *s);
/* Seconds between a "YYYY-MM-DDTHH:MM:SS" UTC time and now (now - ts). */
long		 ts_age(const char *ts);
/* UTC today as "YYYY-MM-DD". */
void		 utc_today(char out[11]);

void		 sleep_ms(long ms);
double		 now_seconds(void);

/* 1 when DATABASE_URL is set. */
int		 db_available(void);
/* DATABASE_URL connection (cached), or cr_skip when unset. */
PGconn		*db(void);
/* A single integer from a query with text parameters; asserts success. */
long long	 db_scalar(const char *sql, int nparams,
		    const char *const *params);

/* SEED_DIR or cr_skip. */
const char	*seed_dir(void);
char		*read_whole_file(const char *path, size_t *len);

/* Percent-encodes a query value into a static ring of buffers. */
const char	*qenc(const char *s);
/* Upper-cases an ASCII copy into a static ring of buffers. */
const char	*upper(const char *s);

/*
 * The base URL the service builds short_url and Location from:
 * PUBLIC_BASE_URL when set (the test scripts set it), else the URL the
 * tests talk to.
 */
const char	*public_base_url(void);
/*
 * Asserts r (a 201) names its new resource in Location:
 * <public base URL>/<collection>/<the "id" of the body>.
 */
void		 expect_location(const struct http_resp *r,
		    const char *collection);

/* "/users/<id>" style paths into a static ring of buffers. */
const char	*pathf(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

#endif
