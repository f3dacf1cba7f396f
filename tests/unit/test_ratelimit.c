/*
 * Rate limit windows: the verdict from a count and a window's end, and a
 * worker's own table (the fallback while Redis cannot answer).
 */

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "core/keycache.h"
#include "core/ratelimit.h"

Test(ratelimit, judge)
{
	struct ratelimit_result	r;

	ratelimit_judge(3, 1, 59001, &r);
	cr_expect(r.allowed);
	cr_expect_eq(r.limit, 3);
	cr_expect_eq(r.remaining, 2);
	cr_expect_eq(r.reset_s, 60);
	ratelimit_judge(3, 3, 1, &r);
	cr_expect(r.allowed);
	cr_expect_eq(r.remaining, 0);
	cr_expect_eq(r.reset_s, 1);
	ratelimit_judge(3, 4, 30000, &r);
	cr_expect_not(r.allowed);
	cr_expect_eq(r.remaining, 0);
	cr_expect_eq(r.reset_s, 30);
	/* No TTL (should not happen): a whole window. */
	ratelimit_judge(3, 1, -1, &r);
	cr_expect_eq(r.reset_s, 60);
}

Test(ratelimit, local_windows)
{
	struct ratelimit_local	t;
	struct ratelimit_result	r;
	int			i;

	cr_assert_eq(ratelimit_local_init(&t, 10), 0);
	cr_expect_eq(t.nslots, 16);
	for (i = 1; i <= 5; i++) {
		ratelimit_local_hit(&t, "k:1", 1000 + (uint64_t)i, 5, &r);
		cr_expect(r.allowed, "request %d", i);
		cr_expect_eq(r.remaining, (uint32_t)(5 - i));
	}
	ratelimit_local_hit(&t, "k:1", 2000, 5, &r);
	cr_expect_not(r.allowed);
	cr_expect_eq(r.reset_s, 60);
	/* Another bucket has its own budget. */
	ratelimit_local_hit(&t, "a:198.51.100.7", 2000, 5, &r);
	cr_expect(r.allowed);
	cr_expect_eq(r.remaining, 4);
	/* The next window starts afresh. */
	ratelimit_local_hit(&t, "k:1", 1001 + RATELIMIT_WINDOW_MS, 5, &r);
	cr_expect(r.allowed);
	cr_expect_eq(r.remaining, 4);
	ratelimit_local_free(&t);
}

Test(ratelimit, a_full_table_stays_bounded)
{
	struct ratelimit_local	t;
	struct ratelimit_result	r;
	char			b[32];
	int			i;

	cr_assert_eq(ratelimit_local_init(&t, 8), 0);
	for (i = 0; i < 1000; i++) {
		(void)snprintf(b, sizeof(b), "a:10.0.%d.%d", i / 256, i % 256);
		ratelimit_local_hit(&t, b, (uint64_t)i, 1, &r);
		cr_expect(r.allowed);
	}
	ratelimit_local_free(&t);
}

Test(keycache, put_get_expire_drop)
{
	struct keycache		c;
	struct keycache_entry	e, got;

	cr_assert_eq(keycache_init(&c, 16), 0);
	memset(&e, 0, sizeof(e));
	(void)snprintf(e.hash, sizeof(e.hash), "%064d", 7);
	e.key_id = 7;
	e.scope = APIKEY_SCOPE_USER;
	e.owner = 42;
	e.until_ms = 1000;
	keycache_put(&c, &e);
	cr_assert(keycache_get(&c, e.hash, 999, &got));
	cr_expect_eq(got.key_id, 7);
	cr_expect_eq(got.owner, 42);
	cr_expect_not(keycache_get(&c, e.hash, 1000, &got));
	cr_expect_not(keycache_get(&c, "ff00", 10, &got));
	keycache_drop(&c, e.hash);
	cr_expect_not(keycache_get(&c, e.hash, 10, &got));
	keycache_free(&c);
}
