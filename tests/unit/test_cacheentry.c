/* Cache entry encoding: what a redirect trusts from Redis. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/cacheentry.h"

Test(cacheentry, round_trip)
{
	struct cache_entry	in, out;
	char			*v;
	size_t			 len;
	const char		*url = "https://example.com/a:b?c=1:2";

	in.url_id = 42;
	in.user_id = 7;
	in.expires_at = 0;
	in.capped = 0;
	in.url = url;
	in.url_len = strlen(url);
	v = cache_entry_encode(&in, &len);
	cr_expect_str_eq(v, "2:42:7:0:0:https://example.com/a:b?c=1:2");
	cr_expect_eq(len, strlen(v));
	cr_assert_eq(cache_entry_decode(v, len, &out), CACHE_ENTRY_URL);
	cr_expect_eq(out.url_id, 42);
	cr_expect_eq(out.user_id, 7);
	cr_expect_eq(out.expires_at, 0);
	cr_expect_eq(out.capped, 0);
	cr_expect_eq(out.url_len, in.url_len);
	cr_expect(memcmp(out.url, url, out.url_len) == 0);
	free(v);
}

Test(cacheentry, lifecycle_fields)
{
	struct cache_entry	in, out;
	char			*v;
	size_t			 len;

	memset(&in, 0, sizeof(in));
	in.url_id = 3;
	in.user_id = 9;
	in.expires_at = 1758320705;
	in.capped = 1;
	in.url = "http://x";
	in.url_len = 8;
	v = cache_entry_encode(&in, &len);
	cr_expect_str_eq(v, "2:3:9:1758320705:1:http://x");
	cr_assert_eq(cache_entry_decode(v, len, &out), CACHE_ENTRY_URL);
	cr_expect_eq(out.expires_at, 1758320705);
	cr_expect_eq(out.capped, 1);
	cr_expect(!cache_entry_expired(&out, 1758320704));
	cr_expect(cache_entry_expired(&out, 1758320705));
	out.expires_at = 0;
	cr_expect(!cache_entry_expired(&out, INT64_MAX));
	free(v);
}

Test(cacheentry, markers)
{
	struct cache_entry	e;

	cr_expect_eq(cache_entry_decode("!", 1, &e), CACHE_ENTRY_ABSENT);
	cr_expect_eq(cache_entry_decode("~", 1, &e), CACHE_ENTRY_TOMBSTONE);
}

Test(cacheentry, anything_else_is_invalid)
{
	static const char *bad[] = {
		"", "1", "1:", "1:1:1:http://x", "2:1:1:http://x",
		"2:0:1:0:0:http://x", "2:-1:1:0:0:http://x", "2:1:1:0:0:",
		"2:1:1:0:http://x", "2:a:1:0:0:http://x", "2:01:1:0:0:http://x",
		"2:99999999999999999999:1:0:0:http://x", "2:1:1:01:0:http://x",
		"2:1:1:-5:0:http://x", "2:1:1:0:2:http://x", "2:1:1:0:10:http://x",
		"2:1:1:x:0:http://x", "!!", "~x",
	};
	struct cache_entry	e;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(cache_entry_decode(bad[i], strlen(bad[i]), &e),
		    CACHE_ENTRY_INVALID, "%s", bad[i]);
	}
	cr_expect_eq(cache_entry_decode("2:1:1:0:0:ht\0p", 14, &e),
	    CACHE_ENTRY_INVALID);
}

Test(cacheentry, keys)
{
	char	buf[CACHE_KEY_MAX];
	char	tiny[4];

	cr_assert_eq(cache_key(buf, sizeof(buf), "abc123"), 0);
	cr_expect_str_eq(buf, "sc:abc123");
	cr_expect_eq(cache_key(tiny, sizeof(tiny), "abc"), -1);
}

Test(cacheentry, key_fits_exactly_or_not_at_all)
{
	char	buf[8];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(cache_key(buf, sizeof(buf), "abcd"), 0);	/* 7 + NUL */
	cr_expect_str_eq(buf, "sc:abcd");
	memset(buf, 'x', sizeof(buf));
	cr_expect_eq(cache_key(buf, sizeof(buf), "abcde"), -1);
	cr_expect_eq(buf[0], 'x');	/* nothing written */
}

/* Written without printf: the same bytes as printf for any numbers. */
Test(cacheentry, encode_matches_printf_at_the_limits)
{
	int64_t			 v[] = { 1, 9, 10, 1234567890123, INT64_MAX };
	struct cache_entry	 in, out;
	char			 want[256], *got;
	size_t			 i, len;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		in.url_id = v[i];
		in.user_id = v[sizeof(v) / sizeof(v[0]) - 1 - i];
		in.expires_at = v[i] - 1;
		in.capped = (int)(i % 2);
		in.url = "https://example.com/x";
		in.url_len = strlen(in.url);
		(void)snprintf(want, sizeof(want), "2:%lld:%lld:%lld:%d:%s",
		    (long long)in.url_id, (long long)in.user_id,
		    (long long)in.expires_at, in.capped, in.url);
		got = cache_entry_encode(&in, &len);
		cr_expect_str_eq(got, want);
		cr_expect_eq(len, strlen(want));
		cr_expect_eq(cache_entry_decode(got, len, &out),
		    CACHE_ENTRY_URL, "%s", got);
		cr_expect_eq(out.url_id, in.url_id);
		cr_expect_eq(out.user_id, in.user_id);
		cr_expect_eq(out.expires_at, in.expires_at);
		free(got);
	}
}

/*
 * The widest numbers an entry can be asked to carry, negative ones
 * included (decoding refuses those, as it always did): the buffer is
 * sized for them, and ASan (make unit-asan) sees any byte past it.
 */
Test(cacheentry, encode_fits_the_widest_numbers)
{
	int64_t			 v[] = { INT64_MIN, -1, INT64_MAX };
	struct cache_entry	 in;
	char			 want[256], *got;
	size_t			 i, len;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		in.url_id = in.user_id = in.expires_at = v[i];
		in.capped = 1;
		in.url = "";
		in.url_len = 0;
		(void)snprintf(want, sizeof(want), "2:%lld:%lld:%lld:1:",
		    (long long)v[i], (long long)v[i], (long long)v[i]);
		got = cache_entry_encode(&in, &len);
		cr_expect_str_eq(got, want);
		cr_expect_eq(len, strlen(want));
		free(got);
	}
}
