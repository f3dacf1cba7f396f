/* JSON log lines: escaping, truncation at field boundaries. */

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "core/logline.h"

Test(logline, fields_and_escaping)
{
	struct logline	 l;
	char		 buf[256];
	json_t		*j;
	size_t		 n;

	logline_begin(&l, buf, sizeof(buf));
	logline_str(&l, "path", "/a\"b\\c\n\x01");
	logline_int(&l, "status", 404);
	logline_ms(&l, "duration_ms", 1.23456);
	logline_str(&l, "cache", NULL);
	n = logline_end(&l);

	cr_assert_eq(buf[n - 1], '\n');
	cr_expect_eq(l.truncated, 0);
	j = json_loadb(buf, n, 0, NULL);
	cr_assert_not_null(j, "%.*s", (int)n, buf);
	cr_expect_str_eq(json_string_value(json_object_get(j, "path")),
	    "/a\"b\\c\n\x01");
	cr_expect_eq(json_integer_value(json_object_get(j, "status")), 404);
	cr_expect_float_eq(json_real_value(json_object_get(j, "duration_ms")),
	    1.235, 1e-9);
	cr_expect(json_is_null(json_object_get(j, "cache")));
	json_decref(j);
}

Test(logline, overflow_drops_whole_fields)
{
	struct logline	 l;
	char		 buf[40], big[100];
	json_t		*j;
	size_t		 n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	logline_begin(&l, buf, sizeof(buf));
	logline_str(&l, "a", "1");
	logline_str(&l, "big", big);
	logline_int(&l, "n", 7);
	n = logline_end(&l);

	cr_expect_eq(l.truncated, 1);
	cr_assert_leq(n, sizeof(buf));
	j = json_loadb(buf, n, 0, NULL);
	cr_assert_not_null(j, "%.*s", (int)n, buf);
	cr_expect_null(json_object_get(j, "big"));
	cr_expect_eq(json_integer_value(json_object_get(j, "n")), 7);
	json_decref(j);
}

Test(logline, empty_object)
{
	struct logline	l;
	char		buf[8];

	logline_begin(&l, buf, sizeof(buf));
	cr_expect_eq(logline_end(&l), 3);
	cr_expect(memcmp(buf, "{}\n", 3) == 0);
}

/* The text of one logline_ms field, as written. */
static const char *
ms_text(double v, char *buf, size_t len)
{
	struct logline	 l;
	char		 line[128];
	const char	*p;
	size_t		 n;

	logline_begin(&l, line, sizeof(line));
	logline_ms(&l, "d", v);
	n = logline_end(&l);
	line[n - 2] = '\0';		/* drop "}\n" */
	p = strchr(line, ':') + 1;
	(void)snprintf(buf, len, "%s", p);
	return (buf);
}

Test(logline, milliseconds_have_three_decimals)
{
	char	b[64];

	cr_expect_str_eq(ms_text(0.0, b, sizeof(b)), "0.000");
	cr_expect_str_eq(ms_text(2.5, b, sizeof(b)), "2.500");
	cr_expect_str_eq(ms_text(0.0004, b, sizeof(b)), "0.000");
	cr_expect_str_eq(ms_text(0.0006, b, sizeof(b)), "0.001");
	cr_expect_str_eq(ms_text(12345.6789, b, sizeof(b)), "12345.679");
	cr_expect_str_eq(ms_text(0.9996, b, sizeof(b)), "1.000",
	    "rounding carries into the whole milliseconds");
}

Test(logline, impossible_durations_are_null_not_broken_json)
{
	char	b[64];

	cr_expect_str_eq(ms_text(-1.0, b, sizeof(b)), "null");
	cr_expect_str_eq(ms_text(0.0 / 0.0, b, sizeof(b)), "null");
	cr_expect_str_eq(ms_text(1e300, b, sizeof(b)), "null");
}

/*
 * A request path is raw bytes from the request line: invalid UTF-8 in it
 * made the whole line invalid JSON (found by tests/fuzz/fuzz_logline.c).
 * Each byte of a broken sequence is logged as U+FFFD; valid multi-byte
 * characters pass as they are.
 */
Test(logline, invalid_utf8_becomes_replacement_characters)
{
	struct logline	 l;
	char		 buf[256];
	json_t		*j;
	size_t		 n;

	logline_begin(&l, buf, sizeof(buf));
	logline_str(&l, "path", "/a\xff" "b\xc3(\xe2\x82\xac\xed\xa0\x80");
	logline_str(&l, "k\xfe", "caf\xc3\xa9");
	n = logline_end(&l);

	j = json_loadb(buf, n, 0, NULL);
	cr_assert_not_null(j, "not JSON: %.*s", (int)n, buf);
	cr_expect_str_eq(json_string_value(json_object_get(j, "path")),
	    "/a\xef\xbf\xbd" "b\xef\xbf\xbd(\xe2\x82\xac"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	cr_expect_str_eq(json_string_value(json_object_get(j,
	    "k\xef\xbf\xbd")), "caf\xc3\xa9");
	json_decref(j);
}
