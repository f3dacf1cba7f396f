/* Cache entry encoding: what a redirect trusts from Redis. */

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
	in.url = url;
	in.url_len = strlen(url);
	v = cache_entry_encode(&in, &len);
	cr_expect_str_eq(v, "1:42:7:https://example.com/a:b?c=1:2");
	cr_expect_eq(len, strlen(v));
	cr_assert_eq(cache_entry_decode(v, len, &out), CACHE_ENTRY_URL);
	cr_expect_eq(out.url_id, 42);
	cr_expect_eq(out.user_id, 7);
	cr_expect_eq(out.url_len, in.url_len);
	cr_expect(memcmp(out.url, url, out.url_len) == 0);
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
		"", "1", "1:", "2:1:1:http://x", "1:0:1:http://x",
		"1:-1:1:http://x", "1:1:1:", "1:1:http://x", "1:a:1:http://x",
		"1:01:1:http://x", "1:99999999999999999999:1:http://x",
		"!!", "~x",
	};
	struct cache_entry	e;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(cache_entry_decode(bad[i], strlen(bad[i]), &e),
		    CACHE_ENTRY_INVALID, "%s", bad[i]);
	}
	cr_expect_eq(cache_entry_decode("1:1:1:ht\0p", 10, &e),
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
