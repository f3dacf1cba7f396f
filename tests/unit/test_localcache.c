/* The worker-local cache table: deadlines, slot reuse, bounded size. */

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/localcache.h"

static struct cache_entry
entry(int64_t url_id, const char *url)
{
	struct cache_entry	e;

	e.url_id = url_id;
	e.user_id = url_id + 1000;
	e.expires_at = url_id * 10;
	e.capped = (int)(url_id & 1);
	e.url = url;
	e.url_len = strlen(url);
	return (e);
}

Test(localcache, hit_until_the_deadline_and_never_after)
{
	struct localcache	lc;
	struct cache_entry	e = entry(42, "https://example.com/x"), got;

	cr_assert_eq(localcache_init(&lc, 16), 0);
	cr_assert_eq(localcache_put(&lc, "abc123", &e, 1000), 0);

	cr_assert_eq(localcache_get(&lc, "abc123", 999, &got), 1);
	cr_expect_eq(got.url_id, 42);
	cr_expect_eq(got.user_id, 1042);
	cr_expect_eq(got.expires_at, 420, "the expiry travels with the copy");
	cr_expect_eq(got.capped, 0);
	cr_expect_str_eq(got.url, "https://example.com/x");
	cr_expect_eq(got.url_len, strlen("https://example.com/x"));

	cr_expect_eq(localcache_get(&lc, "abc123", 1000, &got), 0,
	    "an entry is dead at its deadline");
	cr_expect_eq(localcache_get(&lc, "abc123", 10, &got), 0,
	    "an expired entry is gone, not revived by an earlier clock");
	localcache_free(&lc);
}

Test(localcache, the_url_is_a_copy)
{
	struct localcache	lc;
	char			url[] = "https://example.com/original";
	struct cache_entry	e = entry(1, url), got;

	cr_assert_eq(localcache_init(&lc, 4), 0);
	cr_assert_eq(localcache_put(&lc, "code1", &e, 50), 0);
	url[8] = 'X';
	cr_assert_eq(localcache_get(&lc, "code1", 1, &got), 1);
	cr_expect_str_eq(got.url, "https://example.com/original");
	localcache_free(&lc);
}

Test(localcache, other_codes_miss)
{
	struct localcache	lc;
	struct cache_entry	e = entry(1, "https://a.example/"), got;

	cr_assert_eq(localcache_init(&lc, 1), 0);
	cr_assert_eq(localcache_put(&lc, "aaa", &e, 50), 0);
	cr_expect_eq(localcache_get(&lc, "aab", 1, &got), 0);
	cr_expect_eq(localcache_get(&lc, "aa", 1, &got), 0);
	cr_expect_eq(localcache_get(&lc, "aaaa", 1, &got), 0);
	localcache_free(&lc);
}

/* One slot: every put replaces the last, and only the last is found. */
Test(localcache, a_full_table_replaces_instead_of_growing)
{
	struct localcache	lc;
	struct cache_entry	e1 = entry(1, "https://one.example/");
	struct cache_entry	e2 = entry(2, "https://two.example/"), got;

	cr_assert_eq(localcache_init(&lc, 1), 0);
	cr_expect_eq(lc.mask, 0);
	cr_assert_eq(localcache_put(&lc, "one", &e1, 50), 0);
	cr_assert_eq(localcache_put(&lc, "two", &e2, 50), 0);
	cr_expect_eq(localcache_get(&lc, "one", 1, &got), 0);
	cr_assert_eq(localcache_get(&lc, "two", 1, &got), 1);
	cr_expect_eq(got.url_id, 2);
	localcache_free(&lc);
}

Test(localcache, slot_count_is_a_power_of_two)
{
	struct localcache	lc;

	cr_assert_eq(localcache_init(&lc, 1000), 0);
	cr_expect_eq(lc.mask, 1023);
	localcache_free(&lc);
	cr_assert_eq(localcache_init(&lc, 0), 0);
	cr_expect_eq(lc.mask, 0);
	localcache_free(&lc);
}

Test(localcache, many_codes_in_a_big_table_mostly_stay)
{
	struct localcache	lc;
	struct cache_entry	e = entry(7, "https://x.example/"), got;
	char			code[16];
	int			i, found = 0;

	cr_assert_eq(localcache_init(&lc, 4096), 0);
	for (i = 0; i < 100; i++) {
		(void)snprintf(code, sizeof(code), "c%05d", i);
		cr_assert_eq(localcache_put(&lc, code, &e, 50), 0);
	}
	for (i = 0; i < 100; i++) {
		(void)snprintf(code, sizeof(code), "c%05d", i);
		found += localcache_get(&lc, code, 1, &got);
	}
	/* 100 keys in 4096 slots: a collision or two at most, not a rule. */
	cr_expect_geq(found, 95, "found %d of 100", found);
	localcache_free(&lc);
}

Test(localcache, clear_forgets_everything)
{
	struct localcache	lc;
	struct cache_entry	e = entry(1, "https://a.example/"), got;

	cr_assert_eq(localcache_init(&lc, 8), 0);
	cr_assert_eq(localcache_put(&lc, "abc", &e, 50), 0);
	localcache_clear(&lc);
	cr_expect_eq(localcache_get(&lc, "abc", 1, &got), 0);
	localcache_free(&lc);
}

Test(localcache, refuses_codes_it_cannot_hold)
{
	struct localcache	lc;
	struct cache_entry	e = entry(1, "https://a.example/");
	char			longcode[SHORTCODE_CUSTOM_MAX + 2];

	memset(longcode, 'a', sizeof(longcode) - 1);
	longcode[sizeof(longcode) - 1] = '\0';
	cr_assert_eq(localcache_init(&lc, 8), 0);
	cr_expect_eq(localcache_put(&lc, longcode, &e, 50), -1);
	cr_expect_eq(localcache_put(&lc, "", &e, 50), -1);
	localcache_free(&lc);
}

Test(localcache, an_unused_table_answers_nothing)
{
	struct localcache	lc = { NULL, 0 };
	struct cache_entry	e = entry(1, "https://a.example/"), got;

	cr_expect_eq(localcache_get(&lc, "abc", 1, &got), 0);
	cr_expect_eq(localcache_put(&lc, "abc", &e, 50), -1);
	localcache_clear(&lc);
	localcache_free(&lc);
}
