/*
 * Shared test data helpers; see fixtures.h.
 */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fixtures.h"

#define RING	32
#define RINGLEN	512

static char	*ring_next(void);
static int	 matches(const char *re, const char *s);
static json_t	*vget_list(const char *fmt, va_list ap);

static char	 ring[RING][RINGLEN];
static int	 ring_pos;
static unsigned	 counter;
static PGconn	*conn;

static char *
ring_next(void)
{
	char	*p = ring[ring_pos];

	ring_pos = (ring_pos + 1) % RING;
	return (p);
}

const char *
uniq(const char *prefix)
{
	struct timespec	 ts;
	char		*p = ring_next();

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(p, RINGLEN, "%s-%ld-%u-%lx%lx", prefix, (long)getpid(),
	    ++counter, (unsigned long)ts.tv_sec % 0x1000000,
	    (unsigned long)ts.tv_nsec / 1000);
	return (p);
}

const char *
uniq_email(void)
{
	char	*p = ring_next();

	snprintf(p, RINGLEN, "%s@itest.example.com", uniq("u"));
	return (p);
}

json_int_t
jint(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_integer(v) ? json_integer_value(v) : -1);
}

const char *
jstr(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_string(v) ? json_string_value(v) : "<missing>");
}

json_t *
take_json(struct http_resp *r)
{
	json_t	*j = json_incref(r->json);

	http_free(r);
	return (j);
}

json_t *
make_user(void)
{
	struct http_resp	*r;
	json_t			*body;

	body = json_pack("{s:s, s:s}", "username", uniq("user"),
	    "email", uniq_email());
	r = http_send_json("POST", "/users", body);
	json_decref(body);
	cr_assert_eq(r->status, 201, "POST /users: %ld %s", r->status,
	    r->body);
	cr_assert(json_is_object(r->json) && jint(r->json, "id") > 0,
	    "POST /users: no id: %s", r->body);
	return (take_json(r));
}

json_t *
make_url(json_int_t user_id, const char *original_url, json_t *extra)
{
	struct http_resp	*r;
	json_t			*body;

	body = json_pack("{s:I, s:s}", "user_id", user_id, "original_url",
	    original_url);
	if (extra != NULL) {
		json_object_update(body, extra);
		json_decref(extra);
	}
	r = http_send_json("POST", "/urls", body);
	json_decref(body);
	cr_assert_eq(r->status, 201, "POST /urls: %ld %s", r->status,
	    r->body);
	cr_assert(json_is_object(r->json) && jint(r->json, "id") > 0,
	    "POST /urls: no id: %s", r->body);
	return (take_json(r));
}

json_t *
make_user_url(json_t **user_out)
{
	json_t	*user, *url;
	char	 target[256];

	user = make_user();
	snprintf(target, sizeof(target), "https://example.com/%s",
	    uniq("target"));
	url = make_url(jint(user, "id"), target, NULL);
	if (user_out != NULL)
		*user_out = user;
	else
		json_decref(user);
	return (url);
}

static json_t *
vget_list(const char *fmt, va_list ap)
{
	struct http_resp	*r;
	char			*path;

	if (vasprintf(&path, fmt, ap) < 0)
		cr_assert_fail("vasprintf");
	r = http_get(path);
	cr_assert_eq(r->status, 200, "GET %s: %ld %.300s", path, r->status,
	    r->body);
	cr_assert(json_is_array(r->json), "GET %s: not an array: %.300s",
	    path, r->body);
	free(path);
	return (take_json(r));
}

json_t *
get_list(const char *fmt, ...)
{
	json_t	*j;
	va_list	 ap;

	va_start(ap, fmt);
	j = vget_list(fmt, ap);
	va_end(ap);
	return (j);
}

json_t *
poll_list(size_t want, int timeout_ms, const char *fmt, ...)
{
	json_t	*j;
	va_list	 ap;
	double	 deadline = now_seconds() + timeout_ms / 1000.0;

	for (;;) {
		va_start(ap, fmt);
		j = vget_list(fmt, ap);
		va_end(ap);
		if (json_array_size(j) >= want || now_seconds() > deadline)
			return (j);
		json_decref(j);
		sleep_ms(100);
	}
}

void
expect_ascending_ids(const json_t *arr)
{
	size_t		 i;
	json_int_t	 prev = -1, id;

	for (i = 0; i < json_array_size(arr); i++) {
		id = jint(json_array_get(arr, i), "id");
		cr_expect(id > prev, "ids not ascending at index %zu: %lld "
		    "after %lld", i, (long long)id, (long long)prev);
		prev = id;
	}
}

long
find_id(const json_t *arr, json_int_t id)
{
	size_t	i;

	for (i = 0; i < json_array_size(arr); i++)
		if (jint(json_array_get(arr, i), "id") == id)
			return ((long)i);
	return (-1);
}

static int
matches(const char *re, const char *s)
{
	regex_t	rx;
	int	ok;

	if (s == NULL)
		return (0);
	cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return (ok);
}

int
is_timestamp(const char *s)
{
	return (matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}$", s));
}

int
is_date(const char *s)
{
	return (matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", s));
}

long
ts_age(const char *ts)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return (-999999);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return ((long)(time(NULL) - timegm(&tm)));
}

void
utc_today(char out[11])
{
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

void
sleep_ms(long ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1)
		;
}

double
now_seconds(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

int
db_available(void)
{
	const char	*url = getenv("DATABASE_URL");

	return (url != NULL && *url != '\0');
}

PGconn *
db(void)
{
	const char	*url = getenv("DATABASE_URL");

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return (conn);
	if (url == NULL || *url == '\0')
		cr_skip_test("DATABASE_URL is not set");
	if (conn != NULL)
		PQfinish(conn);
	conn = PQconnectdb(url);
	cr_assert_eq(PQstatus(conn), CONNECTION_OK, "connect DATABASE_URL: %s",
	    PQerrorMessage(conn));
	return (conn);
}

long long
db_scalar(const char *sql, int nparams, const char *const *params)
{
	PGresult	*res;
	long long	 v;

	res = PQexecParams(db(), sql, nparams, NULL, params, NULL, NULL, 0);
	/*
	 * A connection opened before a resilience test restarted PostgreSQL
	 * still reads CONNECTION_OK and fails its next query; db() then
	 * sees it bad and connects again.
	 */
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQstatus(conn) == CONNECTION_BAD) {
		PQclear(res);
		res = PQexecParams(db(), sql, nparams, NULL, params, NULL,
		    NULL, 0);
	}
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	cr_assert(PQntuples(res) == 1 && PQnfields(res) >= 1,
	    "%s: not one row", sql);
	v = PQgetisnull(res, 0, 0) ? -1 : strtoll(PQgetvalue(res, 0, 0),
	    NULL, 10);
	PQclear(res);
	return (v);
}

const char *
seed_dir(void)
{
	const char	*d = getenv("SEED_DIR");

	if (d == NULL || *d == '\0')
		cr_skip_test("SEED_DIR is not set");
	return (d);
}

char *
read_whole_file(const char *path, size_t *len)
{
	FILE	*f;
	char	*data;
	long	 n;

	f = fopen(path, "rb");
	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	cr_assert_not_null(data);
	cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n, "read %s", path);
	data[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return (data);
}

const char *
qenc(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*p = ring_next(), *o = p;
	const unsigned char	*u = (const unsigned char *)s;

	for (; *u != '\0' && o < p + RINGLEN - 4; u++) {
		if (isalnum(*u) || *u == '-' || *u == '_' || *u == '.' ||
		    *u == '~') {
			*o++ = (char)*u;
		} else {
			*o++ = '%';
			*o++ = hex[*u >> 4];
			*o++ = hex[*u & 15];
		}
	}
	*o = '\0';
	return (p);
}

const char *
upper(const char *s)
{
	char	*p = ring_next();
	size_t	 i;

	for (i = 0; s[i] != '\0' && i < RINGLEN - 1; i++)
		p[i] = (char)toupper((unsigned char)s[i]);
	p[i] = '\0';
	return (p);
}

const char *
pathf(const char *fmt, ...)
{
	char	*p = ring_next();
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(p, RINGLEN, fmt, ap);
	va_end(ap);
	return (p);
}

const char *
public_base_url(void)
{
	const char	*v = getenv("PUBLIC_BASE_URL");

	return (v != NULL && *v != '\0' ? v : client_base_url());
}

void
expect_location(const struct http_resp *r, const char *collection)
{
	const char	*loc = http_header(r, "Location");

	cr_assert_not_null(loc, "a 201 without Location: %s", r->body);
	cr_expect_str_eq(loc, pathf("%s/%s/%lld", public_base_url(),
	    collection, (long long)jint(r->json, "id")),
	    "Location names the new resource");
}
