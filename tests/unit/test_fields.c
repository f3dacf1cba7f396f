/* Typed field reads and locating the field of a jansson error. */

#include <stdlib.h>
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

/*
 * The scan never reads at or past pos: text lives in a buffer of exactly
 * len bytes (no NUL), so under ASan (make unit-asan) a read of text[len]
 * is a heap-buffer-overflow. A backslash just before pos used to jump the
 * scan one byte past it.
 */
Test(fields, offset_scan_stays_before_pos)
{
	static const char	*texts[] = {
		"{\"a\":\"x\\", "{\"a\\", "{\"a\":1,\"b\\", "{\"k\":\"\\\\\\",
	};
	char			 buf[32], *text;
	size_t			 i, len;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		len = strlen(texts[i]);
		text = malloc(len);
		cr_assert_not_null(text);
		memcpy(text, texts[i], len);
		(void)field_at_offset(text, len, len, buf, sizeof(buf));
		(void)field_at_offset(text, len, len + 7, buf, sizeof(buf));
		free(text);
	}
	/* The member whose value is cut by pos is "a", not its value. */
	cr_expect_str_eq(field_at_offset("{\"a\":\"x\\", 8, 8, buf,
	    sizeof(buf)), "a");
}

/* 100 'é' (200 bytes) into 128 bytes: 63 of them, not 63 and a half. */
Test(fields, long_key_is_cut_between_characters)
{
	char		 text[512], buf[128], want[256];
	const char	*got;
	size_t		 i, n;

	n = 0;
	text[n++] = '{';
	text[n++] = '"';
	for (i = 0; i < 100; i++) {
		memcpy(text + n, "\xc3\xa9", 2);
		n += 2;
	}
	memcpy(text + n, "\":1e999}", 9);
	got = field_at_offset(text, strlen(text), strlen(text) - 2, buf,
	    sizeof(buf));
	cr_assert_not_null(got);
	cr_expect(utf8_valid(got, strlen(got)), "cut inside a character");
	for (i = 0; i < 63; i++)
		memcpy(want + 2 * i, "\xc3\xa9", 2);
	want[126] = '\0';
	cr_expect_str_eq(got, want);
}

/* The 422 names the field as the client meant it, escapes decoded. */
Test(fields, escaped_key_is_decoded)
{
	expect_field("{\"a\\u00e9\": 1e999}", "a\xc3\xa9");
	expect_field("{\"q\\\"\\\\\": 99999999999999999999999}", "q\"\\");
	expect_field("{\"x\": 1, \"\\ud83d\\ude00\" : 1e999}",
	    "\xf0\x9f\x98\x80");
}
