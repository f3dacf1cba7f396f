/*
 * POST /users/bulk: multipart CSV import, upsert by id (the same file
 * twice gives the same state), bad rows skipped and reported by line,
 * 400 for a missing or empty file, ids continuing above the import.
 *
 * Imported ids are 800000000000 - pid * 100 + slot * 10 + k: no two test
 * processes of one run share them. Rows a previous run left at those ids
 * are deleted first, so every run starts from "absent". They go down as
 * pids go up: an import moves the id sequence past its ids, so ids drawn
 * afterwards by tests running beside this one (CRITERION_JOBS) land above
 * every later test's range instead of inside it.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(bulk, .timeout = 90);

static long long	 id_base(int slot);
static struct http_resp	*upload(const char *csv);
static void		 expect_summary(const struct http_resp *r,
			    json_int_t created, json_int_t updated,
			    json_int_t skipped);
static int		 error_lines_are(const json_t *errors,
			    const long *lines, size_t n);

static long long
id_base(int slot)
{
	long long		 base;
	struct http_resp	*r;
	int			 k;

	base = 800000000000LL - (long long)getpid() * 100 + slot * 10;
	for (k = 0; k < 10; k++) {
		r = http_delete(pathf("/users/%lld", base + k));
		cr_assert(r->status == 204 || r->status == 404,
		    "clearing id %lld: %ld", base + k, r->status);
		http_free(r);
	}
	return (base);
}

static struct http_resp *
upload(const char *csv)
{
	return (http_multipart("/users/bulk", "file", "users.csv", csv,
	    strlen(csv), NULL, NULL));
}

static void
expect_summary(const struct http_resp *r, json_int_t created,
    json_int_t updated, json_int_t skipped)
{
	json_t		*j = r->json, *errs;
	json_int_t	 imported, count;

	cr_assert_eq(r->status, 201, "bulk: %ld %.500s", r->status, r->body);
	cr_expect_eq(json_object_size(j), 6, "bulk answer is exactly {count, "
	    "imported, created, updated, skipped, errors}: %s", r->body);
	cr_expect_eq(jint(j, "created"), created, "created: %s", r->body);
	cr_expect_eq(jint(j, "updated"), updated, "updated: %s", r->body);
	cr_expect_eq(jint(j, "skipped"), skipped, "skipped: %s", r->body);
	imported = jint(j, "imported");
	count = jint(j, "count");
	cr_expect_eq(imported, created + updated, "imported = created + "
	    "updated: %s", r->body);
	/* The contract: count is the number imported, not the rows read. */
	cr_expect_eq(count, imported, "count = imported: %s", r->body);
	errs = json_object_get(j, "errors");
	cr_expect(json_is_array(errs), "errors must be an array");
	if (skipped <= 100)
		cr_expect_eq((json_int_t)json_array_size(errs), skipped,
		    "one error per skipped row: %s", r->body);
}

/* The errors name exactly these lines (in any order), each with a text. */
static int
error_lines_are(const json_t *errors, const long *lines, size_t n)
{
	size_t	i, j;
	json_t	*e;
	int	found;

	if (json_array_size(errors) != n)
		return (0);
	for (i = 0; i < n; i++) {
		found = 0;
		for (j = 0; j < n; j++) {
			e = json_array_get(errors, j);
			if (jint(e, "line") == lines[i] && json_is_string(
			    json_object_get(e, "error")) &&
			    strlen(jstr(e, "error")) > 0)
				found = 1;
		}
		if (!found)
			return (0);
	}
	return (1);
}

Test(bulk, import_twice_gives_the_same_state)
{
	struct http_resp	*r;
	long long		 base = id_base(0);
	char			 csv[2048];
	json_t			*before[3];
	int			 k;
	const char		*e0 = uniq_email(), *e1 = uniq_email(),
				*e2 = uniq_email();

	snprintf(csv, sizeof(csv), "id,username,email,created_at\n"
	    "%lld,bulk-a,%s,2024-01-02 03:04:05\n"
	    "%lld,bulk-b,%s,\n"
	    "%lld,bulk-c,%s,2023-12-31T23:59:59\n",
	    base, e0, base + 1, e1, base + 2, e2);

	r = upload(csv);
	expect_summary(r, 3, 0, 0);
	http_free(r);

	r = http_get(pathf("/users/%lld", base));
	cr_assert_eq(r->status, 200, "imported id %lld: %ld", base, r->status);
	cr_expect_str_eq(jstr(r->json, "username"), "bulk-a");
	cr_expect_str_eq(jstr(r->json, "email"), e0);
	cr_expect_str_eq(jstr(r->json, "created_at"), "2024-01-02T03:04:05");
	http_free(r);
	r = http_get(pathf("/users/%lld", base + 2));
	cr_expect_str_eq(jstr(r->json, "created_at"), "2023-12-31T23:59:59");
	http_free(r);
	r = http_get(pathf("/users/%lld", base + 1));
	cr_expect(is_timestamp(jstr(r->json, "created_at")),
	    "an empty created_at gets a time");
	http_free(r);

	for (k = 0; k < 3; k++)
		before[k] = take_json(http_get(pathf("/users/%lld", base + k)));

	r = upload(csv);
	expect_summary(r, 0, 3, 0);
	http_free(r);

	for (k = 0; k < 3; k++) {
		r = http_get(pathf("/users/%lld", base + k));
		cr_expect(json_equal(r->json, before[k]), "re-import changed "
		    "user %lld: %s", base + k, r->body);
		http_free(r);
		json_decref(before[k]);
	}
	if (db_available())
		cr_expect_eq(db_scalar("SELECT count(*) FROM users WHERE id "
		    "BETWEEN $1::bigint AND $1::bigint + 9", 1,
		    (const char *[]){ pathf("%lld", base) }), 3);
}

Test(bulk, changed_rows_update_by_id)
{
	struct http_resp	*r;
	long long		 base = id_base(1);
	char			 csv[1024];
	const char		*e0 = uniq_email(), *e0b = uniq_email();

	snprintf(csv, sizeof(csv), "id,username,email,created_at\n"
	    "%lld,first,%s,2024-05-05 05:05:05\n", base, e0);
	r = upload(csv);
	expect_summary(r, 1, 0, 0);
	http_free(r);

	snprintf(csv, sizeof(csv), "id,username,email,created_at\n"
	    "%lld,second,%s,2024-05-05 05:05:05\n", base, e0b);
	r = upload(csv);
	expect_summary(r, 0, 1, 0);
	http_free(r);

	r = http_get(pathf("/users/%lld", base));
	cr_expect_str_eq(jstr(r->json, "username"), "second");
	cr_expect_str_eq(jstr(r->json, "email"), e0b);
	http_free(r);
}

Test(bulk, bad_rows_are_skipped_and_reported_by_line)
{
	struct http_resp	*r;
	long long		 base = id_base(2);
	json_t			*taken = make_user();
	char			 csv[4096];
	static const long	 lines[] = { 3, 5, 6, 8 };

	snprintf(csv, sizeof(csv), "id,username,email,created_at\n"
	    "%lld,good-1,%s,\n"			/* line 2 */
	    "%lld,bad-email,not-an-email,\n"	/* line 3 */
	    "%lld,good-2,%s,\n"			/* line 4 */
	    "%lld,,%s,\n"			/* line 5: empty username */
	    "abc,bad-id,%s,\n"			/* line 6 */
	    "%lld,good-3,%s,\n"			/* line 7 */
	    "%lld,dup-email,%s,\n",		/* line 8: email taken */
	    base, uniq_email(), base + 1, base + 2, uniq_email(), base + 3,
	    uniq_email(), uniq_email(), base + 4, uniq_email(), base + 5,
	    upper(jstr(taken, "email")));

	r = upload(csv);
	expect_summary(r, 3, 0, 4);
	cr_expect(error_lines_are(json_object_get(r->json, "errors"), lines, 4),
	    "errors must name lines 3, 5, 6 and 8: %s", r->body);
	http_free(r);

	r = http_get(pathf("/users/%lld", base + 4));
	cr_expect_eq(r->status, 200, "a row after bad ones is imported");
	http_free(r);
	r = http_get(pathf("/users/%lld", base + 1));
	cr_expect_eq(r->status, 404, "a bad row is not imported");
	http_free(r);
	r = http_get(pathf("/users/%lld", base + 3));
	cr_expect_eq(r->status, 404);
	http_free(r);
	r = http_get(pathf("/users/%lld", base + 5));
	cr_expect_eq(r->status, 404, "a row with a taken email is skipped");
	http_free(r);
	json_decref(taken);
}

Test(bulk, errors_are_capped_at_100)
{
	struct http_resp	*r;
	char			*csv, *p;
	size_t			 cap = 150 * 64 + 128;
	int			 i;

	csv = malloc(cap);
	cr_assert_not_null(csv);
	p = csv + sprintf(csv, "id,username,email,created_at\n");
	for (i = 0; i < 150; i++)
		p += sprintf(p, ",bad-%d,not-an-email-%d,\n", i, i);
	r = upload(csv);
	expect_summary(r, 0, 0, 150);
	cr_expect_eq(json_array_size(json_object_get(r->json, "errors")), 100,
	    "errors are capped at 100");
	http_free(r);
	free(csv);
}

Test(bulk, rows_without_id_get_fresh_ids)
{
	struct http_resp	*r;
	char			 csv[1024];
	const char		*e0 = uniq_email(), *e1 = uniq_email();
	json_t			*l;

	snprintf(csv, sizeof(csv), "username,email\nno-id-a,%s\nno-id-b,%s\n",
	    e0, e1);
	r = upload(csv);
	expect_summary(r, 2, 0, 0);
	http_free(r);
	l = get_list("/users?email=%s", qenc(e0));
	cr_expect_eq(json_array_size(l), 1);
	cr_expect_gt(jint(json_array_get(l, 0), "id"), 0);
	cr_expect_str_eq(jstr(json_array_get(l, 0), "username"), "no-id-a");
	json_decref(l);

	snprintf(csv, sizeof(csv), "id,username,email,created_at\n"
	    ",blank-id,%s,\n", uniq_email());
	r = upload(csv);
	expect_summary(r, 1, 0, 0);
	http_free(r);
}

Test(bulk, new_ids_continue_above_the_largest_imported)
{
	struct http_resp	*r;
	long long		 base = id_base(3);
	char			 csv[1024];
	json_t			*u;

	snprintf(csv, sizeof(csv), "id,username,email,created_at\n"
	    "%lld,top,%s,\n", base + 9, uniq_email());
	r = upload(csv);
	expect_summary(r, 1, 0, 0);
	http_free(r);

	u = make_user();
	cr_expect_gt(jint(u, "id"), base + 9, "POST /users after an import "
	    "got id %lld, not above %lld", (long long)jint(u, "id"), base + 9);
	json_decref(u);
}

Test(bulk, quoted_fields_crlf_and_utf8)
{
	struct http_resp	*r;
	long long		 base = id_base(4);
	char			 csv[1024];

	snprintf(csv, sizeof(csv), "id,username,email,created_at\r\n"
	    "%lld,\"Smith, John\",%s,\r\n"
	    "%lld,\"Say \"\"hi\"\"\",%s,\r\n"
	    "%lld,Jos\xc3\xa9 \xf0\x9f\x98\x80,%s,\r\n",
	    base, uniq_email(), base + 1, uniq_email(), base + 2, uniq_email());
	r = upload(csv);
	expect_summary(r, 3, 0, 0);
	http_free(r);

	r = http_get(pathf("/users/%lld", base));
	cr_expect_str_eq(jstr(r->json, "username"), "Smith, John");
	cr_expect(strchr(jstr(r->json, "email"), '\r') == NULL,
	    "CR leaked into the email");
	http_free(r);
	r = http_get(pathf("/users/%lld", base + 1));
	cr_expect_str_eq(jstr(r->json, "username"), "Say \"hi\"");
	http_free(r);
	r = http_get(pathf("/users/%lld", base + 2));
	cr_expect_str_eq(jstr(r->json, "username"),
	    "Jos\xc3\xa9 \xf0\x9f\x98\x80");
	http_free(r);
}

Test(bulk, missing_or_empty_file_is_400)
{
	struct http_resp	*r;

	r = http_multipart("/users/bulk", "other", "users.csv",
	    "username,email\na,a@example.com\n", 31, NULL, NULL);
	expect_error(r, 400, NULL);
	http_free(r);

	r = http_multipart("/users/bulk", NULL, NULL, NULL, 0, "note", "hi");
	expect_error(r, 400, NULL);
	http_free(r);

	r = http_multipart("/users/bulk", "file", "users.csv", "", 0, NULL,
	    NULL);
	expect_error(r, 400, NULL);
	http_free(r);

	r = http_send("POST", "/users/bulk", "{\"file\":\"id,username\"}");
	expect_error(r, 400, NULL);
	http_free(r);

	r = http_request("POST", "/users/bulk", NULL, "", 0, 0);
	expect_error(r, 400, NULL);
	http_free(r);

	/* A header without the email column cannot be imported. */
	r = upload("id,username\n1,x\n");
	expect_error(r, 400, NULL);
	http_free(r);
}

Test(bulk, header_only_file_imports_nothing)
{
	struct http_resp	*r;

	r = upload("id,username,email,created_at\n");
	cr_expect_eq(r->status, 201, "header only: %ld %s", r->status, r->body);
	expect_summary(r, 0, 0, 0);
	http_free(r);
}

/*
 * Imports of the same new emails at the same time: the set-based import
 * of one collides with another's rows (unique violation) and goes the
 * row-by-row way instead; every upload is answered, every email ends up
 * exactly once, and across all reports each row was created once.
 */
Test(bulk, concurrent_imports_of_the_same_rows)
{
	enum { IMPORTS = 4, ROWS = 1500 };
	char		*csv, *p, tag[64];
	const char	*pattern;
	int		 fds[IMPORTS][2], i;
	pid_t		 pids[IMPORTS];
	long		 created = 0, updated = 0, got[2];
	size_t		 cap = (size_t)ROWS * 96 + 64;

	snprintf(tag, sizeof(tag), "%s", uniq("same"));
	csv = malloc(cap);
	cr_assert_not_null(csv);
	p = csv + sprintf(csv, "username,email\n");
	for (i = 0; i < ROWS; i++)
		p += sprintf(p, "same,%s-%d@example.org\n", tag, i);

	for (i = 0; i < IMPORTS; i++) {
		cr_assert_eq(pipe(fds[i]), 0);
		if ((pids[i] = fork()) == 0) {
			struct http_resp *r = upload(csv);

			got[0] = r->status == 201 ? jint(r->json, "created") : -1;
			got[1] = r->status == 201 ? jint(r->json, "updated") : -1;
			(void)write(fds[i][1], got, sizeof(got));
			_exit(0);
		}
		close(fds[i][1]);
	}
	for (i = 0; i < IMPORTS; i++) {
		cr_assert_eq(read(fds[i][0], got, sizeof(got)),
		    (ssize_t)sizeof(got));
		close(fds[i][0]);
		(void)waitpid(pids[i], NULL, 0);
		cr_expect(got[0] >= 0, "import %d was not a 201", i);
		cr_expect_eq(got[0] + got[1], ROWS, "import %d stored every row",
		    i);
		created += got[0];
		updated += got[1];
	}
	cr_expect_eq(created, ROWS, "each row created once over all imports");
	cr_expect_eq(updated, (long)ROWS * (IMPORTS - 1));
	pattern = pathf("%s-%%", tag);
	cr_expect_eq(db_scalar("SELECT count(*) FROM users WHERE email LIKE $1",
	    1, &pattern), ROWS, "each email once");
	free(csv);
}
