/*
 * The users CSV: line numbers across CRLF, blank lines and quoted
 * newlines; header handling; per-row errors, duplicates and the error
 * cap; the JSON it hands the handler; and the real seed file.
 */

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/csvusers.h"

#define HDR	"id,username,email,created_at\n"

static void	parse_ok(const char *csv, struct csvusers *c);
static void	parse_fails(const char *csv, size_t len, const char *why);
static void	error_is(const struct csvusers *c, size_t i, long line,
		    const char *msg);
static char	*read_file(const char *path, size_t *len);
static char	*dump(json_t *json);

/* ---------------------------------------------------------------- basic */

Test(csvusers, basic_rows)
{
	struct csvusers	c;

	parse_ok(HDR
	    "1,alice,alice@example.com,2025-01-02 03:04:05\n"
	    "2,bob,bob@example.com,\n", &c);
	cr_assert_eq(c.nrows, 2);
	cr_assert_eq(c.nerrors, 0);
	cr_assert_eq(c.skipped, 0);

	cr_assert_eq(c.rows[0].line, 2);
	cr_assert(c.rows[0].has_id);
	cr_assert_eq(c.rows[0].id, 1);
	cr_assert_str_eq(c.rows[0].username, "alice");
	cr_assert_str_eq(c.rows[0].email, "alice@example.com");
	cr_assert_str_eq(c.rows[0].created_at, "2025-01-02 03:04:05");

	cr_assert_eq(c.rows[1].line, 3);
	cr_assert_eq(c.rows[1].id, 2);
	cr_assert_null(c.rows[1].created_at);
	csvusers_free(&c);
	cr_assert_eq(c.nrows, 0);
	cr_assert_null(c.rows);
}

Test(csvusers, optional_columns_absent_or_empty)
{
	struct csvusers	c;

	parse_ok("username,email\nalice,alice@example.com\n", &c);
	cr_assert_eq(c.nrows, 1);
	cr_assert_not(c.rows[0].has_id);
	cr_assert_null(c.rows[0].created_at);
	csvusers_free(&c);

	parse_ok(HDR ",alice,alice@example.com,\n", &c);
	cr_assert_eq(c.nrows, 1);
	cr_assert_not(c.rows[0].has_id);
	cr_assert_null(c.rows[0].created_at);
	csvusers_free(&c);
}

Test(csvusers, column_order_case_and_extras)
{
	struct csvusers	c;

	parse_ok(" EMAIL ,Notes,\"  UserName \",ID,extra\n"
	    "a@example.com,\"likes, commas\",ann,7,\n", &c);
	cr_assert_eq(c.nrows, 1);
	cr_assert_eq(c.nerrors, 0);
	cr_assert_str_eq(c.rows[0].username, "ann");
	cr_assert_str_eq(c.rows[0].email, "a@example.com");
	cr_assert_eq(c.rows[0].id, 7);
	csvusers_free(&c);
}

Test(csvusers, crlf_and_no_final_newline)
{
	struct csvusers	c;

	parse_ok("id,username,email,created_at\r\n"
	    "1,a,a@example.com,2024-02-29T10:00:00\r\n"
	    "\r\n"
	    "3,c,c@example.com,", &c);
	cr_assert_eq(c.nrows, 2);
	cr_assert_eq(c.nerrors, 0);
	cr_assert_eq(c.rows[0].line, 2);
	cr_assert_str_eq(c.rows[0].created_at, "2024-02-29T10:00:00");
	cr_assert_eq(c.rows[1].line, 4);
	cr_assert_eq(c.rows[1].id, 3);
	csvusers_free(&c);
}

Test(csvusers, bare_cr_lines)
{
	struct csvusers	c;

	parse_ok("username,email\r" "a,a@example.com\r" "b,b@example.com\r",
	    &c);
	cr_assert_eq(c.nrows, 2);
	cr_assert_eq(c.rows[1].line, 3);
	csvusers_free(&c);
}

Test(csvusers, byte_order_mark)
{
	struct csvusers	c;

	parse_ok("\xef\xbb\xbfid,username,email\n1,a,a@example.com\n", &c);
	cr_assert_eq(c.nrows, 1);
	cr_assert(c.rows[0].has_id, "BOM glued to the id column name");
	csvusers_free(&c);
}

Test(csvusers, blank_lines_skipped_but_counted)
{
	struct csvusers	c;

	parse_ok("\n" HDR "\n1,a,a@example.com,\n  \n\t\n\n"
	    "2,b,b@example.com,\n", &c);
	cr_assert_eq(c.nrows, 2);
	cr_assert_eq(c.nerrors, 0);
	cr_assert_eq(c.rows[0].line, 4);
	cr_assert_eq(c.rows[1].line, 8);
	csvusers_free(&c);
}

Test(csvusers, quoted_fields)
{
	struct csvusers	c;

	parse_ok(HDR
	    "1,\"Doe, John\",\"john@example.com\",\"2025-01-01 00:00:00\"\n"
	    "2,\"say \"\"hi\"\"\",hi@example.com,\n"
	    "3,  padded  ,pad@example.com,\n", &c);
	cr_assert_eq(c.nrows, 3);
	cr_assert_str_eq(c.rows[0].username, "Doe, John");
	cr_assert_str_eq(c.rows[0].created_at, "2025-01-01 00:00:00");
	cr_assert_str_eq(c.rows[1].username, "say \"hi\"");
	/* libcsv trims blanks around unquoted fields. */
	cr_assert_str_eq(c.rows[2].username, "padded");
	csvusers_free(&c);
}

Test(csvusers, quoted_newline_line_numbers)
{
	struct csvusers	c;

	/* An extra column may hold newlines; username may not. */
	parse_ok("id,username,email,notes\n"
	    "1,a,a@example.com,\"line one\r\nline two\nline three\"\n"
	    "2,\"multi\nline\",b@example.com,\n"
	    "3,c,c@example.com,\n", &c);
	cr_assert_eq(c.nrows, 2);
	cr_assert_eq(c.rows[0].line, 2);
	cr_assert_eq(c.rows[1].id, 3);
	cr_assert_eq(c.rows[1].line, 7);
	cr_assert_eq(c.nerrors, 1);
	error_is(&c, 0, 5, "username: must not contain control characters");
	csvusers_free(&c);
}

/* ---------------------------------------------------------- file errors */

Test(csvusers, empty_file)
{
	parse_fails("", 0, "empty CSV");
	parse_fails("\n\n\r\n", 0, "empty CSV");
	parse_fails("  \t \r\n\n", 0, "empty CSV");
	parse_fails("\xef\xbb\xbf", 0, "empty CSV");
	parse_fails("\xef\xbb\xbf\r\n", 0, "empty CSV");
}

Test(csvusers, header_only_is_fine)
{
	struct csvusers	c;

	parse_ok("id,username,email,created_at", &c);
	cr_assert_eq(c.nrows, 0);
	cr_assert_eq(c.nerrors, 0);
	cr_assert_eq(c.skipped, 0);
	csvusers_free(&c);

	parse_ok(HDR "\n\n", &c);
	cr_assert_eq(c.nrows, 0);
	csvusers_free(&c);
}

Test(csvusers, header_problems)
{
	parse_fails("id,email\n1,a@example.com\n", 0,
	    "CSV header has no username column");
	parse_fails("id,username\n1,a\n", 0,
	    "CSV header has no email column");
	parse_fails("id,username,email,EMAIL\n", 0,
	    "CSV header names a column twice");
	/* A header-less file: its first row is taken as the header. */
	parse_fails("1,alice,alice@example.com\n", 0,
	    "CSV header has no username column");
	parse_fails("user name,e-mail\n", 0,
	    "CSV header has no username column");
}

/* ----------------------------------------------------------- row errors */

Test(csvusers, bad_rows_are_reported_and_skipped)
{
	struct csvusers	c;

	parse_ok(HDR
	    "1,ok1,ok1@example.com,\n"
	    "abc,x,x@example.com,\n"
	    "0,x,x0@example.com,\n"
	    "-4,x,x4@example.com,\n"
	    "1.5,x,x5@example.com,\n"
	    "99999999999999999999,x,x9@example.com,\n"
	    "8,,x8@example.com,\n"
	    "9,   ,x9@example.com,\n"
	    "10,x,not-an-email,\n"
	    "11,x,x11@example.com,2023-02-29 00:00:00\n"
	    "12,x,x12@example.com,yesterday\n"
	    "13,x,x13@example.com\n"
	    "14,x,x14@example.com,,extra\n"
	    "15,ok2,ok2@example.com,\n", &c);

	cr_assert_eq(c.nrows, 2);
	cr_assert_eq(c.rows[0].id, 1);
	cr_assert_eq(c.rows[1].id, 15);
	cr_assert_eq(c.rows[1].line, 15);
	cr_assert_eq(c.skipped, 12);
	cr_assert_eq(c.nerrors, 12);

	error_is(&c, 0, 3, "id: must be a positive integer");
	error_is(&c, 1, 4, "id: must be a positive integer");
	error_is(&c, 2, 5, "id: must be a positive integer");
	error_is(&c, 3, 6, "id: must be a positive integer");
	error_is(&c, 4, 7, "id: must be a positive integer");
	error_is(&c, 5, 8, "username: must not be empty");
	/* Quoted blanks survive libcsv's trimming and then fail here. */
	error_is(&c, 6, 9, "username: must not be empty");
	error_is(&c, 7, 10,
	    "email: must contain exactly one '@'");
	error_is(&c, 8, 11, "created_at: must be a real date and time");
	error_is(&c, 9, 12,
	    "created_at: must be a timestamp YYYY-MM-DD HH:MM:SS");
	error_is(&c, 10, 13, "expected 4 fields, found 3");
	error_is(&c, 11, 14, "expected 4 fields, found 5");
	csvusers_free(&c);
}

Test(csvusers, quoted_blank_username)
{
	struct csvusers	c;

	parse_ok(HDR "1,\"   \",a@example.com,\n", &c);
	cr_assert_eq(c.nrows, 0);
	error_is(&c, 0, 2, "username: must not be blank");
	csvusers_free(&c);
}

Test(csvusers, invalid_utf8_and_nul)
{
	static const char	csv[] = HDR
	    "1,caf\xc3\xa9,cafe@example.com,\n"
	    "2,caf\xe9,latin1@example.com,\n"
	    "3,nul,n\0l@example.com,\n"
	    "4,\xed\xa0\x80,surrogate@example.com,\n"
	    "5\0,x,x5@example.com,\n";
	struct csvusers		c;
	const char		*why;

	cr_assert_eq(csvusers_parse(csv, sizeof(csv) - 1, &c, &why), 0);
	cr_assert_eq(c.nrows, 1);
	cr_assert_str_eq(c.rows[0].username, "caf\xc3\xa9");
	cr_assert_eq(c.nerrors, 4);
	error_is(&c, 0, 3, "username: must be valid UTF-8");
	error_is(&c, 1, 4, "email: must not contain NUL characters");
	error_is(&c, 2, 5, "username: must be valid UTF-8");
	error_is(&c, 3, 6, "id: must be a positive integer");
	csvusers_free(&c);
}

/* ----------------------------------------------------------- duplicates */

Test(csvusers, duplicate_id_keeps_first)
{
	struct csvusers	c;

	parse_ok(HDR
	    "5,first,first@example.com,\n"
	    "5,second,second@example.com,\n"
	    "6,third,third@example.com,\n", &c);
	cr_assert_eq(c.nrows, 2);
	cr_assert_str_eq(c.rows[0].username, "first");
	cr_assert_str_eq(c.rows[1].username, "third");
	error_is(&c, 0, 3, "duplicate id 5 (first on line 2)");
	csvusers_free(&c);
}

Test(csvusers, duplicate_email_case_insensitive)
{
	struct csvusers	c;

	parse_ok(HDR
	    ",a,Alice@Example.COM,\n"
	    ",b,alice@example.com,\n"
	    "7,c,ALICE@EXAMPLE.COM,\n"
	    ",d,alice@example.org,\n", &c);
	cr_assert_eq(c.nrows, 2);
	cr_assert_str_eq(c.rows[0].email, "Alice@Example.COM");
	cr_assert_str_eq(c.rows[1].email, "alice@example.org");
	cr_assert_eq(c.skipped, 2);
	error_is(&c, 0, 3, "duplicate email (first on line 2)");
	error_is(&c, 1, 4, "duplicate email (first on line 2)");
	csvusers_free(&c);
}

Test(csvusers, rejected_row_claims_nothing)
{
	struct csvusers	c;

	/* Line 2 is bad, so line 3 is the first real owner of id 9. */
	parse_ok(HDR
	    "9,bad,not-an-email,\n"
	    "9,good,good@example.com,\n"
	    "10,dup,good@example.com,\n", &c);
	cr_assert_eq(c.nrows, 1);
	cr_assert_eq(c.rows[0].line, 3);
	cr_assert_str_eq(c.rows[0].username, "good");
	cr_assert_eq(c.nerrors, 2);
	error_is(&c, 1, 4, "duplicate email (first on line 3)");
	csvusers_free(&c);
}

/* Enough rows to make both hash tables grow several times. */
Test(csvusers, duplicates_in_large_file)
{
	struct csvusers	c;
	const char	*why;
	char		*csv;
	size_t		 cap, len, i;

	cap = 4 * 1024 * 1024;
	csv = malloc(cap);
	cr_assert_not_null(csv);
	len = (size_t)snprintf(csv, cap, "%s", HDR);
	for (i = 1; i <= 20000; i++)
		len += (size_t)snprintf(csv + len, cap - len,
		    "%zu,u%zu,u%zu@example.com,\n", i, i, i);
	/* Then repeat every 100th id, and every 100th email under new ids. */
	for (i = 100; i <= 20000; i += 100) {
		len += (size_t)snprintf(csv + len, cap - len,
		    "%zu,again,fresh%zu@example.com,\n", i, i);
		len += (size_t)snprintf(csv + len, cap - len,
		    "%zu,again,U%zu@EXAMPLE.com,\n", 100000 + i, i);
	}
	cr_assert_lt(len, cap);

	cr_assert_eq(csvusers_parse(csv, len, &c, &why), 0);
	free(csv);
	cr_assert_eq(c.nrows, 20000);
	cr_assert_eq(c.skipped, 400);
	cr_assert_eq(c.nerrors, CSVUSERS_MAX_ERRORS);
	error_is(&c, 0, 20002, "duplicate id 100 (first on line 101)");
	error_is(&c, 1, 20003, "duplicate email (first on line 101)");
	cr_assert_eq(c.rows[19999].id, 20000);
	csvusers_free(&c);
}

Test(csvusers, errors_capped_but_all_counted)
{
	struct csvusers	c;
	json_t		*errors;
	const char	*why;
	char		*csv;
	size_t		 cap, len, i;

	cap = 64 * 1024;
	csv = malloc(cap);
	cr_assert_not_null(csv);
	len = (size_t)snprintf(csv, cap, "%s", HDR);
	for (i = 0; i < 250; i++) {
		len += (size_t)snprintf(csv + len, cap - len,
		    i % 5 == 0 ? "%zu,ok,ok%zu@example.com,\n" :
		    "%zu,bad,bad%zu,\n", i + 1, i);
	}

	cr_assert_eq(csvusers_parse(csv, len, &c, &why), 0);
	free(csv);
	cr_assert_eq(c.nrows, 50);
	cr_assert_eq(c.skipped, 200);
	cr_assert_eq(c.nerrors, CSVUSERS_MAX_ERRORS);
	error_is(&c, 0, 3, "email: must contain exactly one '@'");
	/* The 100th bad row is data row 125 (4 bad in every 5): line 126. */
	cr_assert_eq(c.errors[99].line, 126);

	errors = csvusers_errors_json(&c);
	cr_assert_eq(json_array_size(errors), CSVUSERS_MAX_ERRORS);
	json_decref(errors);
	csvusers_free(&c);
}

/* ----------------------------------------------------------------- JSON */

Test(csvusers, rows_json)
{
	struct csvusers	c;
	char		*s;

	parse_ok(HDR
	    "1,ann,ann@example.com,2025-01-01 00:00:00\n"
	    ",\"B \"\"b\"\"\",b@example.com,\n", &c);
	s = dump(csvusers_rows_json(&c));
	cr_assert_str_eq(s,
	    "[{\"line\":2,\"id\":1,\"username\":\"ann\","
	    "\"email\":\"ann@example.com\","
	    "\"created_at\":\"2025-01-01 00:00:00\"},"
	    "{\"line\":3,\"id\":null,\"username\":\"B \\\"b\\\"\","
	    "\"email\":\"b@example.com\",\"created_at\":null}]");
	free(s);
	csvusers_free(&c);
}

Test(csvusers, errors_json)
{
	struct csvusers	c;
	char		*s;

	parse_ok(HDR "1,a,bad,\n\n1,b,\n", &c);
	s = dump(csvusers_errors_json(&c));
	cr_assert_str_eq(s,
	    "[{\"line\":2,\"error\":\"email: must contain exactly one '@'\"},"
	    "{\"line\":4,\"error\":\"expected 4 fields, found 3\"}]");
	free(s);

	s = dump(csvusers_rows_json(&c));
	cr_assert_str_eq(s, "[]");
	free(s);
	csvusers_free(&c);
}

/* ------------------------------------------------------------ seed file */

/*
 * The sample the project generates (tools/seedgen, its default size: the
 * shape of the hackathon's seed); `make unit` writes it and names it in
 * SEED_USERS_CSV.
 */
Test(csvusers, seed_file)
{
	struct csvusers		 c;
	const char		*why, *path;
	char			*data;
	size_t			 len = 0, i;

	path = getenv("SEED_USERS_CSV");
	cr_assert_not_null(path, "SEED_USERS_CSV is not set: run make unit");
	data = read_file(path, &len);
	cr_assert_not_null(data, "cannot read %s", path);

	cr_assert_eq(csvusers_parse(data, len, &c, &why), 0);
	free(data);
	cr_assert_eq(c.nrows, 400);
	cr_assert_eq(c.nerrors, 0, "first error line %ld: %s",
	    c.nerrors ? c.errors[0].line : 0,
	    c.nerrors ? c.errors[0].message : "");
	cr_assert_eq(c.skipped, 0);
	for (i = 0; i < c.nrows; i++) {
		cr_assert_eq(c.rows[i].line, (long)i + 2);
		cr_assert(c.rows[i].has_id);
		cr_assert_not_null(c.rows[i].created_at);
	}
	csvusers_free(&c);
}

/* ------------------------------------------------------------- helpers */

static void
parse_ok(const char *csv, struct csvusers *c)
{
	const char	*why = "untouched";

	cr_assert_eq(csvusers_parse(csv, strlen(csv), c, &why), 0,
	    "refused: %s", why);
	cr_assert_null(why);
}

static void
parse_fails(const char *csv, size_t len, const char *want)
{
	struct csvusers	c;
	const char	*why = NULL;

	if (len == 0)
		len = strlen(csv);
	cr_assert_eq(csvusers_parse(csv, len, &c, &why), -1);
	cr_assert_not_null(why);
	cr_assert_str_eq(why, want);
	cr_assert_eq(c.nrows, 0);
	cr_assert_eq(c.nerrors, 0);
	cr_assert_null(c.rows);
}

static void
error_is(const struct csvusers *c, size_t i, long line, const char *msg)
{
	cr_assert_lt(i, c->nerrors, "no error #%zu", i);
	cr_expect_eq(c->errors[i].line, line, "error #%zu on line %ld",
	    i, c->errors[i].line);
	cr_expect_str_eq(c->errors[i].message, msg, "error #%zu", i);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	*fp;
	char	*data;
	long	 size;

	if ((fp = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fseek(fp, 0, SEEK_END) == -1 || (size = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) == -1) {
		fclose(fp);
		return (NULL);
	}

	data = malloc((size_t)size + 1);
	cr_assert_not_null(data);
	*len = fread(data, 1, (size_t)size, fp);
	fclose(fp);
	cr_assert_eq(*len, (size_t)size);

	return (data);
}

static char *
dump(json_t *json)
{
	char	*s;

	cr_assert_not_null(json);
	s = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(json);
	cr_assert_not_null(s);

	return (s);
}
