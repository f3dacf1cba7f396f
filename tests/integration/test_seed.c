/*
 * The seed data set (SEED_DIR: users.csv, urls.csv, events.csv, loaded
 * before the tests start): it is all there, the API shows it as the CSVs
 * say, its repeated usernames are kept, and re-importing users.csv
 * through POST /users/bulk is an idempotent upsert.
 *
 * Seed rows have ids 1..400 (users), 1..2000 (URLs) and 1..3422 (events);
 * no other test creates, changes or deletes rows in those ranges, and
 * these tests only read them (HEAD, never GET, on seed short links) except
 * for the idempotent re-import.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(seed, .timeout = 120);

#define SEED_USERS	400
#define SEED_URLS	2000
#define SEED_EVENTS	3422
#define MAXF		16

struct table {
	size_t	  nrows;
	size_t	  nfields;
	char	***rows;	/* rows[i][f], header excluded */
};

static int	 csv_record(const char **p, char **fields, int max);
static void	 load_table(const char *name, struct table *t, size_t nfields);
static void	 free_table(struct table *t);
static char	*iso(const char *csv_ts);

/* One RFC 4180 record; fields are malloc'd; returns their number, 0 at end. */
static int
csv_record(const char **pp, char **fields, int max)
{
	const char	*p = *pp;
	char		*buf;
	size_t		 len;
	int		 n = 0, quoted;

	if (*p == '\0')
		return (0);
	buf = malloc(strlen(p) + 1);
	cr_assert_not_null(buf);
	for (;;) {
		len = 0;
		quoted = *p == '"';
		if (quoted) {
			for (p++; *p != '\0'; p++) {
				if (*p == '"' && p[1] == '"')
					buf[len++] = *p++;
				else if (*p == '"')
					break;
				else
					buf[len++] = *p;
			}
			if (*p == '"')
				p++;
		}
		while (*p != '\0' && *p != ',' && *p != '\n' && *p != '\r')
			buf[len++] = *p++;
		if (n < max)
			fields[n++] = strndup(buf, len);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		break;
	}
	free(buf);
	*pp = p;
	return (n);
}

static void
load_table(const char *name, struct table *t, size_t nfields)
{
	char		 path[1024], *data, *f[MAXF];
	const char	*p;
	size_t		 cap = 0;
	int		 n, i;

	snprintf(path, sizeof(path), "%s/%s", seed_dir(), name);
	data = read_whole_file(path, NULL);
	memset(t, 0, sizeof(*t));
	t->nfields = nfields;
	p = data;
	n = csv_record(&p, f, MAXF);	/* header */
	for (i = 0; i < n; i++)
		free(f[i]);
	while ((n = csv_record(&p, f, MAXF)) > 0) {
		cr_assert_eq((size_t)n, nfields, "%s row %zu: %d fields", name,
		    t->nrows + 2, n);
		if (t->nrows == cap) {
			cap = cap ? cap * 2 : 512;
			t->rows = realloc(t->rows, cap * sizeof(*t->rows));
			cr_assert_not_null(t->rows);
		}
		t->rows[t->nrows] = malloc(nfields * sizeof(char *));
		cr_assert_not_null(t->rows[t->nrows]);
		memcpy(t->rows[t->nrows], f, nfields * sizeof(char *));
		t->nrows++;
	}
	free(data);
}

static void
free_table(struct table *t)
{
	size_t	i, j;

	for (i = 0; i < t->nrows; i++) {
		for (j = 0; j < t->nfields; j++)
			free(t->rows[i][j]);
		free(t->rows[i]);
	}
	free(t->rows);
}

/* "2025-12-14 18:57:39" -> "2025-12-14T18:57:39" (in a ring buffer). */
static char *
iso(const char *csv_ts)
{
	char	*s = (char *)pathf("%s", csv_ts);

	if (strlen(s) > 10 && s[10] == ' ')
		s[10] = 'T';
	return (s);
}

Test(seed, all_seed_rows_are_in_the_database)
{
	seed_dir();
	cr_expect_eq(db_scalar("SELECT count(*) FROM users WHERE id <= 400",
	    0, NULL), SEED_USERS);
	cr_expect_eq(db_scalar("SELECT count(*) FROM urls WHERE id <= 2000",
	    0, NULL), SEED_URLS);
	cr_expect_eq(db_scalar("SELECT count(*) FROM events WHERE id <= 3422",
	    0, NULL), SEED_EVENTS);
	cr_expect_gt(db_scalar("SELECT count(*) FROM (SELECT username FROM "
	    "users WHERE id <= 400 GROUP BY username HAVING count(*) > 1) d",
	    0, NULL), 0, "the seed repeats usernames");
}

Test(seed, users_read_back_as_in_the_csv)
{
	struct table		 t;
	struct http_resp	*r;
	size_t			 i, picks[] = { 0, 1, 199, 399 };

	load_table("users.csv", &t, 4);
	cr_assert_eq(t.nrows, SEED_USERS);
	for (i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		char **row = t.rows[picks[i]];

		r = http_get(pathf("/users/%s", row[0]));
		cr_assert_eq(r->status, 200, "seed user %s: %ld", row[0],
		    r->status);
		cr_expect_str_eq(jstr(r->json, "username"), row[1]);
		cr_expect_str_eq(jstr(r->json, "email"), row[2]);
		cr_expect_str_eq(jstr(r->json, "created_at"), iso(row[3]));
		http_free(r);
	}
	free_table(&t);
}

Test(seed, urls_read_back_as_in_the_csv)
{
	struct table		 t;
	struct http_resp	*r;
	size_t			 i, picks[] = { 0, 999, 1999 };
	json_t			*title;

	load_table("urls.csv", &t, 8);
	cr_assert_eq(t.nrows, SEED_URLS);
	for (i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		char **row = t.rows[picks[i]];

		r = http_get(pathf("/urls/%s", row[0]));
		cr_assert_eq(r->status, 200, "seed url %s: %ld", row[0],
		    r->status);
		cr_expect_eq(jint(r->json, "user_id"), strtoll(row[1], NULL, 10));
		cr_expect_str_eq(jstr(r->json, "short_code"), row[2]);
		cr_expect_str_eq(jstr(r->json, "original_url"), row[3]);
		title = json_object_get(r->json, "title");
		if (*row[4] == '\0')
			cr_expect(json_is_null(title) || (json_is_string(title)
			    && json_string_length(title) == 0));
		else
			cr_expect_str_eq(jstr(r->json, "title"), row[4]);
		cr_expect_eq(json_is_true(json_object_get(r->json,
		    "is_active")), strcasecmp(row[5], "true") == 0,
		    "is_active of url %s", row[0]);
		cr_expect_str_eq(jstr(r->json, "created_at"), iso(row[6]));
		cr_expect_str_eq(jstr(r->json, "updated_at"), iso(row[7]));
		http_free(r);
	}
	free_table(&t);
}

Test(seed, events_read_back_as_in_the_csv)
{
	struct table		 t;
	struct http_resp	*r;
	size_t			 i, picks[] = { 0, 1710, 3421 };
	json_t			*want;

	load_table("events.csv", &t, 6);
	cr_assert_eq(t.nrows, SEED_EVENTS);
	for (i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		char **row = t.rows[picks[i]];

		r = http_get(pathf("/events/%s", row[0]));
		cr_assert_eq(r->status, 200, "seed event %s: %ld", row[0],
		    r->status);
		cr_expect_eq(jint(r->json, "url_id"), strtoll(row[1], NULL, 10));
		cr_expect_eq(jint(r->json, "user_id"), strtoll(row[2], NULL, 10));
		cr_expect_str_eq(jstr(r->json, "event_type"), row[3]);
		cr_expect_str_eq(jstr(r->json, "timestamp"), iso(row[4]));
		want = *row[5] ? json_loads(row[5], 0, NULL) : json_object();
		cr_expect(json_equal(json_object_get(r->json, "details"), want),
		    "details of event %s: %s vs %s", row[0], r->body, row[5]);
		json_decref(want);
		http_free(r);
	}
	free_table(&t);
}

Test(seed, repeated_usernames_are_all_listed)
{
	struct table	 t;
	json_t		*l;
	size_t		 i, j, n = 0, best = 0, bi = 0, got = 0;

	load_table("users.csv", &t, 4);
	for (i = 0; i < t.nrows; i++) {
		n = 0;
		for (j = 0; j < t.nrows; j++)
			if (strcmp(t.rows[i][1], t.rows[j][1]) == 0)
				n++;
		if (n > best) {
			best = n;
			bi = i;
		}
	}
	cr_assert_geq(best, 2, "users.csv has no repeated username");
	l = get_list("/users?username=%s", qenc(t.rows[bi][1]));
	expect_ascending_ids(l);
	for (i = 0; i < json_array_size(l); i++)
		if (jint(json_array_get(l, i), "id") <= SEED_USERS)
			got++;
	cr_expect_eq(got, best, "username %s: %zu seed users listed, the CSV "
	    "has %zu", t.rows[bi][1], got, best);
	json_decref(l);
	free_table(&t);
}

Test(seed, short_links_resolve)
{
	struct table		 t;
	struct http_resp	*r;
	size_t			 i;
	int			 active = 0, inactive = 0;

	load_table("urls.csv", &t, 8);
	/* HEAD only: no click event lands on seed data. */
	for (i = 0; i < t.nrows && (active < 3 || inactive < 2); i++) {
		char **row = t.rows[i];

		if (strcasecmp(row[5], "true") == 0 && active < 3) {
			r = http_head(pathf("/%s", row[2]));
			cr_expect_eq(r->status, 302, "seed code %s: %ld", row[2],
			    r->status);
			if (http_header(r, "Location") != NULL)
				cr_expect_str_eq(http_header(r, "Location"),
				    row[3]);
			http_free(r);
			active++;
		} else if (strcasecmp(row[5], "true") != 0 && inactive < 2) {
			r = http_head(pathf("/%s", row[2]));
			cr_expect_eq(r->status, 404, "inactive seed code %s: %ld",
			    row[2], r->status);
			http_free(r);
			inactive++;
		}
	}
	free_table(&t);
}

Test(seed, filters_match_the_csv)
{
	struct table	 t;
	json_t		*l;
	size_t		 i, n = 0;
	long		 pos;
	const char	*uid;

	load_table("urls.csv", &t, 8);
	uid = t.rows[0][1];
	l = get_list("/urls?user_id=%s", uid);
	for (i = 0; i < t.nrows; i++) {
		if (strcmp(t.rows[i][1], uid) != 0)
			continue;
		n++;
		pos = find_id(l, strtoll(t.rows[i][0], NULL, 10));
		cr_expect_geq(pos, 0, "url %s of user %s not listed",
		    t.rows[i][0], uid);
	}
	cr_expect_eq(json_array_size(l), n, "user %s has %zu seed URLs", uid,
	    n);
	expect_ascending_ids(l);
	json_decref(l);
	free_table(&t);
}

Test(seed, stats_match_the_seed_clicks)
{
	struct table		 t;
	struct http_resp	*r;
	long			*clicks;
	char			**last;
	size_t			 i;
	long			 best = 0, bu = 0, u;

	load_table("events.csv", &t, 6);
	clicks = calloc(SEED_URLS + 1, sizeof(long));
	last = calloc(SEED_URLS + 1, sizeof(char *));
	cr_assert(clicks != NULL && last != NULL);
	for (i = 0; i < t.nrows; i++) {
		if (strcmp(t.rows[i][3], "click") != 0)
			continue;
		u = strtol(t.rows[i][1], NULL, 10);
		if (u < 1 || u > SEED_URLS)
			continue;
		clicks[u]++;
		if (last[u] == NULL || strcmp(t.rows[i][4], last[u]) > 0)
			last[u] = t.rows[i][4];
		if (clicks[u] > best) {
			best = clicks[u];
			bu = u;
		}
	}
	if (best == 0) {
		free_table(&t);
		cr_skip_test("no click events in the seed");
	}
	r = http_get(pathf("/urls/%ld/stats", bu));
	cr_assert_eq(r->status, 200, "stats of seed url %ld: %ld", bu,
	    r->status);
	cr_expect_eq(jint(r->json, "clicks"), best, "url %ld: %ld seed clicks, "
	    "stats say %lld", bu, best, (long long)jint(r->json, "clicks"));
	cr_expect_str_eq(jstr(r->json, "last_click_at"), iso(last[bu]));
	http_free(r);
	free(clicks);
	free(last);
	free_table(&t);
}

Test(seed, seed_ids_paginate_deterministically)
{
	struct http_resp	*r;
	size_t			 i;

	seed_dir();
	r = http_get("/users?per_page=100&page=4");
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_array_size(r->json), 100);
	for (i = 0; i < 100; i++)
		cr_expect_eq(jint(json_array_get(r->json, i), "id"),
		    (json_int_t)(301 + i));
	cr_expect_geq(strtol(http_header(r, "X-Total-Count") ?
	    http_header(r, "X-Total-Count") : "0", NULL, 10), SEED_USERS);
	http_free(r);

	r = http_get("/users?page=2");
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_array_size(r->json), 50, "per_page defaults to 50");
	for (i = 0; i < 50; i++)
		cr_expect_eq(jint(json_array_get(r->json, i), "id"),
		    (json_int_t)(51 + i));
	http_free(r);

	r = http_get("/events?per_page=1000&page=4");
	cr_assert_eq(r->status, 200);
	cr_assert_geq(json_array_size(r->json), 422);
	for (i = 0; i < 422; i++)
		cr_expect_eq(jint(json_array_get(r->json, i), "id"),
		    (json_int_t)(3001 + i));
	http_free(r);

	r = http_get("/urls?after_id=1995&per_page=5");
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_array_size(r->json), 5);
	for (i = 0; i < 5; i++)
		cr_expect_eq(jint(json_array_get(r->json, i), "id"),
		    (json_int_t)(1996 + i));
	http_free(r);
}

Test(seed, reimporting_users_csv_is_an_idempotent_upsert)
{
	struct http_resp	*r;
	struct table		 t;
	char			 path[1024], *data;
	size_t			 len;
	json_t			*u;

	snprintf(path, sizeof(path), "%s/users.csv", seed_dir());
	data = read_whole_file(path, &len);
	r = http_multipart("/users/bulk", "file", "users.csv", data, len, NULL,
	    NULL);
	cr_assert_eq(r->status, 201, "%ld %.500s", r->status, r->body);
	cr_expect_eq(jint(r->json, "created"), 0, "%s", r->body);
	cr_expect_eq(jint(r->json, "updated"), SEED_USERS, "%s", r->body);
	cr_expect_eq(jint(r->json, "skipped"), 0, "%s", r->body);
	cr_expect_eq(json_array_size(json_object_get(r->json, "errors")), 0);
	cr_expect_eq(jint(r->json, "imported"), SEED_USERS);
	http_free(r);
	free(data);

	load_table("users.csv", &t, 4);
	r = http_get(pathf("/users/%s", t.rows[9][0]));
	cr_expect_str_eq(jstr(r->json, "username"), t.rows[9][1]);
	cr_expect_str_eq(jstr(r->json, "email"), t.rows[9][2]);
	cr_expect_str_eq(jstr(r->json, "created_at"), iso(t.rows[9][3]));
	http_free(r);
	free_table(&t);

	u = make_user();
	cr_expect_gt(jint(u, "id"), SEED_USERS);
	json_decref(u);
	if (db_available())
		cr_expect_eq(db_scalar("SELECT count(*) FROM users WHERE "
		    "id <= 400", 0, NULL), SEED_USERS);
}
