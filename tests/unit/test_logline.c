/* JSON log lines: escaping, truncation at field boundaries. */

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
