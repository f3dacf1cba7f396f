/*
 * The users CSV of POST /users/bulk: any bytes (the file part of the
 * multipart body, NULs and broken quotes included) through
 * csvusers_parse(), and the JSON it hands to the database.
 *
 * Properties: a refused file has one of the documented reasons and
 * leaves nothing behind; an accepted one holds only rows whose fields
 * pass the validators, with positive ids, no two rows sharing an id or an
 * e-mail (ASCII case-insensitively); at most CSVUSERS_MAX_ERRORS errors
 * are described and every bad row is counted; lines are after the
 * header, rows and errors each in file order and never on the same line;
 * the rows and errors JSON parse back with the same values; and parsing
 * the same bytes again gives the same result.
 */

#include <string.h>
#include <strings.h>

#include "core/csvusers.h"
#include "core/validate.h"
#include "fuzz.h"

static const char	*reasons[] = {
	"empty CSV", "CSV header names a column twice",
	"CSV header has no username column", "CSV header has no email column",
};

static void	check_rows(const struct csvusers *);
static void	check_json(const struct csvusers *);
static char	*dump(json_t *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvusers	 c, again;
	const char	*why;
	char		*text, *a, *b;
	size_t		 i;
	int		 rc;

	text = fz_copy(data, size);
	rc = csvusers_parse(text, size, &c, &why);
	if (rc == -1) {
		for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]) &&
		    strcmp(why, reasons[i]) != 0; i++)
			;
		CHECK(i < sizeof(reasons) / sizeof(reasons[0]),
		    "undocumented reason \"%s\"", why);
		CHECK(c.nrows == 0 && c.nerrors == 0 && c.rows == NULL &&
		    c.errors == NULL, "a refused file kept rows");
		free(text);
		return (0);
	}
	CHECK(why == NULL, "accepted with a reason");
	check_rows(&c);
	check_json(&c);

	CHECK(csvusers_parse(text, size, &again, &why) == 0, "second parse");
	a = dump(csvusers_rows_json(&c));
	b = dump(csvusers_rows_json(&again));
	CHECK(!strcmp(a, b) && c.skipped == again.skipped, "not the same "
	    "result twice");
	free(a);
	free(b);
	csvusers_free(&again);
	csvusers_free(&c);
	free(text);
	return (0);
}

static void
check_rows(const struct csvusers *c)
{
	const struct csvusers_row	*r;
	size_t				 i, j, k;

	CHECK(c->nerrors <= CSVUSERS_MAX_ERRORS && c->nerrors ==
	    (c->skipped < CSVUSERS_MAX_ERRORS ? c->skipped :
	    CSVUSERS_MAX_ERRORS), "%zu errors for %zu skipped", c->nerrors,
	    c->skipped);
	for (i = 0; i < c->nrows; i++) {
		r = &c->rows[i];
		CHECK(r->line >= 2, "row on line %ld", r->line);
		CHECK(i == 0 || r->line > c->rows[i - 1].line, "rows out of "
		    "order");
		CHECK(validate_username(r->username, strlen(r->username)) ==
		    NULL, "row %zu: username \"%s\"", i, r->username);
		CHECK(validate_email(r->email, strlen(r->email)) == NULL,
		    "row %zu: email \"%s\"", i, r->email);
		CHECK(r->created_at == NULL || validate_timestamp(
		    r->created_at, strlen(r->created_at)) == NULL,
		    "row %zu: created_at \"%s\"", i, r->created_at);
		CHECK(!r->has_id || r->id > 0, "row %zu: id", i);
		for (j = 0; j < i; j++) {
			CHECK(!(r->has_id && c->rows[j].has_id &&
			    r->id == c->rows[j].id), "rows %zu and %zu share "
			    "an id", j, i);
			CHECK(strcasecmp(r->email, c->rows[j].email) != 0,
			    "rows %zu and %zu share an e-mail", j, i);
		}
		for (k = 0; k < c->nerrors; k++)
			CHECK(c->errors[k].line != r->line, "line %ld is a row "
			    "and an error", r->line);
	}
	for (k = 0; k < c->nerrors; k++) {
		CHECK(c->errors[k].line >= 2 && (k == 0 || c->errors[k].line >
		    c->errors[k - 1].line), "error lines");
		CHECK(c->errors[k].message[0] != '\0', "empty message");
	}
}

static void
check_json(const struct csvusers *c)
{
	json_t	*rows, *errs, *back, *v;
	char	*text;
	size_t	 i;

	rows = csvusers_rows_json(c);
	text = json_dumps(rows, JSON_COMPACT);
	back = json_loads(text, 0, NULL);
	CHECK(back != NULL && json_array_size(back) == c->nrows,
	    "rows JSON \"%s\"", text);
	for (i = 0; i < c->nrows; i++) {
		v = json_array_get(back, i);
		CHECK(json_integer_value(json_object_get(v, "line")) ==
		    c->rows[i].line && !strcmp(json_string_value(
		    json_object_get(v, "email")), c->rows[i].email) &&
		    !strcmp(json_string_value(json_object_get(v,
		    "username")), c->rows[i].username), "row %zu in JSON", i);
		CHECK(c->rows[i].has_id ? json_integer_value(json_object_get(v,
		    "id")) == c->rows[i].id : json_is_null(json_object_get(v,
		    "id")), "row %zu: id in JSON", i);
	}
	json_decref(back);
	json_decref(rows);
	free(text);

	errs = csvusers_errors_json(c);
	text = json_dumps(errs, JSON_COMPACT);
	back = json_loads(text, 0, NULL);
	CHECK(back != NULL && json_array_size(back) == c->nerrors,
	    "errors JSON \"%s\"", text);
	json_decref(back);
	json_decref(errs);
	free(text);
}

static char *
dump(json_t *j)
{
	char	*text = json_dumps(j, JSON_COMPACT);

	CHECK(text != NULL, "json_dumps");
	json_decref(j);
	return (text);
}
