/*
 * JSON request bodies, as the dispatcher and the handlers read them: any
 * bytes through json_loadb() with the dispatcher's flags, then, for an
 * object, through every resource's reader (core/bodies.c: field readers
 * and validators); for a number too large, through field_at_offset() and
 * the 422 that names the field.
 *
 * Properties: a reader succeeds exactly when it recorded no problem; it
 * only names its own fields; each problem is there exactly when the
 * member has the wrong JSON type (strict: "1" is no integer, true no
 * number, null only where allowed) or fails its validator, which the
 * target checks independently; a value it returns is the member's own
 * (same bytes, same length, embedded NULs included); defaults are the
 * documented ones; and every error body (apierror_body) is JSON that
 * parses back with the same fields. The lifecycle fields of a link:
 * expires_at must also lie after the readers' clock (NOW; its epoch
 * computed here with timegm(3)), max_clicks lie in 1..10^12.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/apierror.h"
#include "core/bodies.h"
#include "core/validate.h"
#include "fuzz.h"

/* 2026-01-01T00:00:00: the clock handed to the readers. */
#define NOW	INT64_C(1767225600)

/*
 * How a member must look; the reader's validator for strings. K_EXPIRY:
 * a string validate_expiry() takes, later than NOW; K_CLICKS: an integer
 * from 1 to URL_MAX_CLICKS_MAX.
 */
enum kind { K_INT, K_BOOL, K_STRING, K_OBJECT, K_EXPIRY, K_CLICKS };

struct field {
	const char	*name;
	enum kind	 kind;
	int		 required;
	int		 nullable;
	field_check	 check;
};

static const struct field	user_create[] = {
	{ "username", K_STRING, 1, 0, validate_username },
	{ "email", K_STRING, 1, 0, validate_email },
};
static const struct field	user_update[] = {
	{ "username", K_STRING, 0, 0, validate_username },
	{ "email", K_STRING, 0, 0, validate_email },
};
static const struct field	url_create[] = {
	{ "user_id", K_INT, 1, 0, NULL },
	{ "original_url", K_STRING, 1, 0, validate_url },
	{ "title", K_STRING, 0, 1, validate_title },
	{ "is_active", K_BOOL, 0, 0, NULL },
	{ "short_code", K_STRING, 0, 1, validate_custom_code },
	{ "expires_at", K_EXPIRY, 0, 1, validate_expiry },
	{ "max_clicks", K_CLICKS, 0, 1, NULL },
};
/* POST /urls with a key scoped to a user: user_id may be left out. */
static const struct field	url_create_owned[] = {
	{ "user_id", K_INT, 0, 0, NULL },
	{ "original_url", K_STRING, 1, 0, validate_url },
	{ "title", K_STRING, 0, 1, validate_title },
	{ "is_active", K_BOOL, 0, 0, NULL },
	{ "short_code", K_STRING, 0, 1, validate_custom_code },
	{ "expires_at", K_EXPIRY, 0, 1, validate_expiry },
	{ "max_clicks", K_CLICKS, 0, 1, NULL },
};
static const struct field	url_update[] = {
	{ "original_url", K_STRING, 0, 0, validate_url },
	{ "title", K_STRING, 0, 1, validate_title },
	{ "is_active", K_BOOL, 0, 0, NULL },
	{ "expires_at", K_EXPIRY, 0, 1, validate_expiry },
	{ "max_clicks", K_CLICKS, 0, 1, NULL },
};
static const struct field	event_create[] = {
	{ "url_id", K_INT, 1, 0, NULL },
	{ "user_id", K_INT, 1, 0, NULL },
	{ "event_type", K_STRING, 1, 0, validate_event_type },
	{ "details", K_OBJECT, 0, 1, NULL },
};

#define N(a)	(sizeof(a) / sizeof(a[0]))

static void	check_reader(json_t *, const struct field *, size_t, int,
		    json_t *);
static int	expect_problem(json_t *, const struct field *);
static void	check_error_body(int, json_t *);
static void	same_string(json_t *, const char *, const char *, size_t);
static void	check_overflow(const char *, size_t, int);
static void	check_lifecycle(json_t *, const struct url_body *);
static int64_t	epoch(const char *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct user_body	 ub;
	struct url_body		 rb;
	struct event_body	 eb;
	json_error_t		 err;
	json_t			*body, *errors, *m;
	char			*text;

	text = fz_copy(data, size);
	body = json_loadb(text, size, JSON_ALLOW_NUL, &err);
	if (body == NULL) {
		if (json_error_code(&err) == json_error_numeric_overflow)
			check_overflow(text, size, err.position);
		free(text);
		return (0);
	}
	if (!json_is_object(body))
		goto out;

	errors = json_object();
	check_reader(body, user_create, N(user_create),
	    body_user(body, 1, &ub, errors), errors);
	same_string(body, "username", ub.username, ub.username_len);
	same_string(body, "email", ub.email, ub.email_len);
	json_object_clear(errors);

	check_reader(body, user_update, N(user_update),
	    body_user(body, 0, &ub, errors), errors);
	json_object_clear(errors);

	check_reader(body, url_create, N(url_create),
	    body_url_create(body, NOW, FIELD_REQUIRED, &rb, errors), errors);
	if (json_object_size(errors) == 0) {
		same_string(body, "original_url", rb.original_url,
		    rb.original_url_len);
		if (rb.title == FIELD_SET)
			same_string(body, "title", rb.title_text,
			    rb.title_len);
		same_string(body, "short_code", rb.short_code,
		    rb.short_code_len);
		m = json_object_get(body, "is_active");
		CHECK(rb.is_active == (m == NULL || json_is_true(m)),
		    "is_active %d", rb.is_active);
		CHECK(rb.user_id == json_integer_value(json_object_get(body,
		    "user_id")), "user_id");
		m = json_object_get(body, "title");
		CHECK(rb.title == (m == NULL ? FIELD_ABSENT : json_is_null(m) ?
		    FIELD_NULL : FIELD_SET), "title %d", rb.title);
		check_lifecycle(body, &rb);
	}
	json_object_clear(errors);

	check_reader(body, url_create_owned, N(url_create_owned),
	    body_url_create(body, NOW, 0, &rb, errors), errors);
	if (json_object_size(errors) == 0)
		CHECK(rb.has_user_id == (json_object_get(body, "user_id") !=
		    NULL), "has_user_id %d", rb.has_user_id);
	json_object_clear(errors);

	check_reader(body, url_update, N(url_update),
	    body_url_update(body, NOW, &rb, errors), errors);
	if (json_object_size(errors) == 0)
		check_lifecycle(body, &rb);
	json_object_clear(errors);

	check_reader(body, event_create, N(event_create),
	    body_event_create(body, &eb, errors), errors);
	if (json_object_size(errors) == 0) {
		same_string(body, "event_type", eb.event_type,
		    eb.event_type_len);
		m = json_object_get(body, "details");
		CHECK(eb.details == (m != NULL && json_is_object(m) ? m :
		    NULL), "details");
	}
	json_decref(errors);
out:
	json_decref(body);
	free(text);
	return (0);
}

/*
 * rc is the reader's verdict and errors its problems: exactly the
 * expected ones, each under one of its fields, and a 422 that reads back.
 */
static void
check_reader(json_t *body, const struct field *f, size_t n, int rc,
    json_t *errors)
{
	const char	*key;
	json_t		*v;
	size_t		 i, expected = 0;

	CHECK(rc == (json_object_size(errors) == 0 ? 0 : -1),
	    "verdict %d with %zu problems", rc, json_object_size(errors));
	for (i = 0; i < n; i++) {
		v = json_object_get(errors, f[i].name);
		if (expect_problem(body, &f[i])) {
			expected++;
			CHECK(v != NULL && json_is_string(v),
			    "no problem recorded for %s", f[i].name);
		} else {
			CHECK(v == NULL, "%s: unexpected \"%s\"", f[i].name,
			    json_string_value(v));
		}
	}
	json_object_foreach(errors, key, v) {
		for (i = 0; i < n && strcmp(key, f[i].name) != 0; i++)
			;
		CHECK(i < n, "a problem for a field it does not read: %s",
		    key);
	}
	CHECK(json_object_size(errors) == expected, "%zu problems, %zu "
	    "expected", json_object_size(errors), expected);
	if (expected > 0)
		check_error_body(422, errors);
}

/* The contract's rules, independently of fields.c. */
static int
expect_problem(json_t *body, const struct field *f)
{
	json_t	*m = json_object_get(body, f->name);

	if (m == NULL)
		return (f->required);
	if (json_is_null(m))
		return (!f->nullable);
	switch (f->kind) {
	case K_INT:
		return (!json_is_integer(m));
	case K_BOOL:
		return (!json_is_boolean(m));
	case K_OBJECT:
		return (!json_is_object(m));
	case K_STRING:
		if (!json_is_string(m))
			return (1);
		return (f->check(json_string_value(m),
		    json_string_length(m)) != NULL);
	case K_EXPIRY:
		if (!json_is_string(m) || f->check(json_string_value(m),
		    json_string_length(m)) != NULL)
			return (1);
		return (epoch(json_string_value(m)) <= NOW);
	case K_CLICKS:
		return (!json_is_integer(m) || json_integer_value(m) < 1 ||
		    json_integer_value(m) > URL_MAX_CLICKS_MAX);
	}
	return (1);
}

static void
check_error_body(int status, json_t *fields)
{
	json_t	*back;
	char	*text;
	size_t	 len;

	text = apierror_body(status, NULL, NULL, fields, &len);
	CHECK(strlen(text) == len, "error body length");
	back = json_loadb(text, len, 0, NULL);
	CHECK(back != NULL && json_integer_value(json_object_get(back,
	    "status")) == status && json_is_string(json_object_get(back,
	    "error")) && json_is_string(json_object_get(back, "code")),
	    "error body \"%s\"", text);
	CHECK(fields == NULL || json_equal(json_object_get(back, "fields"),
	    fields), "fields lost in \"%s\"", text);
	json_decref(back);
	free(text);
}

/* An accepted link's expiry and cap: the members themselves, or null. */
static void
check_lifecycle(json_t *body, const struct url_body *b)
{
	json_t	*m;

	m = json_object_get(body, "expires_at");
	CHECK(b->expires_at == (m == NULL ? FIELD_ABSENT : json_is_null(m) ?
	    FIELD_NULL : FIELD_SET), "expires_at %d", b->expires_at);
	if (b->expires_at == FIELD_SET) {
		same_string(body, "expires_at", b->expires_at_text,
		    b->expires_at_len);
		CHECK(timestamp_epoch(b->expires_at_text) ==
		    epoch(b->expires_at_text), "timestamp_epoch(\"%s\") = %"
		    PRId64 ", timegm %" PRId64, b->expires_at_text,
		    timestamp_epoch(b->expires_at_text),
		    epoch(b->expires_at_text));
	}
	m = json_object_get(body, "max_clicks");
	CHECK(b->max_clicks == (m == NULL ? FIELD_ABSENT : json_is_null(m) ?
	    FIELD_NULL : FIELD_SET), "max_clicks %d", b->max_clicks);
	CHECK(b->max_clicks != FIELD_SET || b->max_clicks_value ==
	    json_integer_value(m), "max_clicks value");
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS" (validated), by timegm. */
static int64_t
epoch(const char *s)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	CHECK(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6,
	    "expiry \"%s\" accepted but unreadable", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return ((int64_t)timegm(&tm));
}

/* A string the reader returned is the member itself. */
static void
same_string(json_t *body, const char *name, const char *s, size_t len)
{
	json_t	*m;

	if (s == NULL)
		return;
	m = json_object_get(body, name);
	CHECK(m != NULL && json_is_string(m) && json_string_value(m) == s &&
	    json_string_length(m) == len, "%s is not the member's string",
	    name);
}

/*
 * What the dispatcher does with a number too large: the field name
 * (field_at_offset into its 128 bytes) is valid UTF-8 that fits, and the
 * 422 naming it reads back.
 */
static void
check_overflow(const char *text, size_t len, int position)
{
	json_t		*fields;
	const char	*name;
	char		 key[128];

	name = field_at_offset(text, len, position > 0 ? (size_t)position :
	    0, key, sizeof(key));
	if (name != NULL)
		CHECK(strlen(name) < sizeof(key) &&
		    utf8_valid(name, strlen(name)), "field name \"%s\"", name);
	fields = json_object();
	CHECK(json_object_set_new(fields, name != NULL ? name : "body",
	    json_string("number is out of range")) == 0, "field name \"%s\" "
	    "refused by jansson", name);
	check_error_body(422, fields);
	json_decref(fields);
}
