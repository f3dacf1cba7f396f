/* Typed field reads and locating the field of a jansson error. */

#include <string.h>

#include <criterion/criterion.h>

#include "core/fields.h"
#include "core/validate.h"

static json_t *
parse(const char *text)
{
	json_t	*j = json_loads(text, 0, NULL);

	cr_assert_not_null(j, "test JSON must parse: %s", text);
	return (j);
}

Test(fields, string_types_are_strict)
{
	json_t		*body, *errors;
	const char	*s;
	size_t		 len;

	body = parse("{\"a\":\"x\",\"b\":1,\"c\":null,\"d\":true}");
	errors = json_object();
	cr_expect_eq(field_string(body, "a", FIELD_REQUIRED, NULL, errors, &s,
	    &len), FIELD_SET);
	cr_expect_str_eq(s, "x");
	cr_expect_eq(field_string(body, "b", 0, NULL, errors, &s, &len),
	    FIELD_INVALID);
	cr_expect_eq(field_string(body, "c", 0, NULL, errors, &s, &len),
	    FIELD_INVALID);
	cr_expect_eq(field_string(body, "c", FIELD_NULLABLE, NULL, errors, &s,
	    &len), FIELD_NULL);
	cr_expect_eq(field_string(body, "d", 0, NULL, errors, &s, &len),
	    FIELD_INVALID);
	cr_expect_eq(field_string(body, "zz", 0, NULL, errors, &s, &len),
	    FIELD_ABSENT);
	cr_expect_eq(field_string(body, "zz", FIELD_REQUIRED, NULL, errors, &s,
	    &len), FIELD_INVALID);
	cr_expect_str_eq(json_string_value(json_object_get(errors, "zz")),
	    "is required");
	cr_expect_str_eq(json_string_value(json_object_get(errors, "b")),
	    "must be a string");
	json_decref(body);
	json_decref(errors);
}

Test(fields, validator_message_is_recorded)
{
	json_t		*body, *errors;
	const char	*s;
	size_t		 len;

	body = parse("{\"url\":\"ftp://x\"}");
	errors = json_object();
	cr_expect_eq(field_string(body, "url", FIELD_REQUIRED, validate_url,
	    errors, &s, &len), FIELD_INVALID);
	cr_expect_not_null(json_object_get(errors, "url"));
	json_decref(body);
	json_decref(errors);
}

Test(fields, integers_are_not_booleans_or_reals)
{
	json_t	*body, *errors;
	int64_t	 v;
	int	 b;

	body = parse("{\"i\":-7,\"t\":true,\"r\":1.0,\"s\":\"1\"}");
	errors = json_object();
	cr_expect_eq(field_int(body, "i", 0, errors, &v), FIELD_SET);
	cr_expect_eq(v, -7);
	cr_expect_eq(field_int(body, "t", 0, errors, &v), FIELD_INVALID);
	cr_expect_eq(field_int(body, "r", 0, errors, &v), FIELD_INVALID);
	cr_expect_eq(field_int(body, "s", 0, errors, &v), FIELD_INVALID);
	cr_expect_eq(field_bool(body, "t", 0, errors, &b), FIELD_SET);
	cr_expect_eq(b, 1);
	cr_expect_eq(field_bool(body, "i", 0, errors, &b), FIELD_INVALID);
	cr_expect_eq(json_object_size(errors), 4);
	json_decref(body);
	json_decref(errors);
}

Test(fields, objects_only)
{
	json_t	*body, *errors, *o;

	body = parse("{\"o\":{},\"a\":[],\"s\":\"{}\",\"n\":3}");
	errors = json_object();
	cr_expect_eq(field_object(body, "o", 0, errors, &o), FIELD_SET);
	cr_expect_eq(field_object(body, "a", 0, errors, &o), FIELD_INVALID);
	cr_expect_eq(field_object(body, "s", 0, errors, &o), FIELD_INVALID);
	cr_expect_eq(field_object(body, "n", 0, errors, &o), FIELD_INVALID);
	json_decref(body);
	json_decref(errors);
}

static void
expect_field(const char *text, const char *want)
{
	json_error_t	 err;
	char		 buf[32];
	const char	*got;

	cr_assert_null(json_loads(text, 0, &err));
	got = field_at_offset(text, strlen(text), (size_t)err.position, buf,
	    sizeof(buf));
	if (want == NULL)
		cr_expect_null(got, "%s", text);
	else
		cr_expect_str_eq(got, want, "%s", text);
}

Test(fields, overflow_is_located)
{
	expect_field("{\"user_id\": 99999999999999999999999, \"x\": 1}",
	    "user_id");
	expect_field("{\"a\": \"q,\\\"b\\\":\", \"url_id\": 1e400}", "url_id");
	expect_field("{\"details\": {\"k\": [1, 2, 1e999]}}", "details");
	expect_field("[1e999]", NULL);
}
