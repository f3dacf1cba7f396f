/*
 * API keys: their shape, that they are drawn fresh, their hash (checked
 * against SHA-256 test vectors), where a request may carry them, scopes.
 */

#include <criterion/criterion.h>

#include <string.h>

#include "core/apikey.h"

#define LIT(s)	(s), (sizeof(s) - 1)

static const char	good[] = "shk_0123456789abcdefghijABCDEFGHIJ0123456789";

Test(apikey, generated_keys_have_the_shape_and_differ)
{
	char	a[APIKEY_LEN + 1], b[APIKEY_LEN + 1];

	cr_assert_eq(apikey_generate(a), 0);
	cr_assert_eq(apikey_generate(b), 0);
	cr_expect_eq(strlen(a), APIKEY_LEN);
	cr_expect(apikey_wellformed(a, strlen(a)));
	cr_expect(strncmp(a, "shk_", 4) == 0);
	cr_expect_str_neq(a, b);
}

Test(apikey, shape)
{
	cr_expect(apikey_wellformed(LIT(good)));
	cr_expect_not(apikey_wellformed(LIT("shk_0123")));
	cr_expect_not(apikey_wellformed(
	    LIT("shk_0123456789abcdefghijABCDEFGHIJ01234567890")));
	cr_expect_not(apikey_wellformed(
	    LIT("skh_0123456789abcdefghijABCDEFGHIJ0123456789")));
	cr_expect_not(apikey_wellformed(
	    LIT("shk_0123456789abcdefghij-BCDEFGHIJ0123456789")));
	cr_expect_not(apikey_wellformed(
	    LIT("shk_0123456789abcdefghij\0BCDEFGHIJ0123456789")));
}

Test(apikey, hash_is_sha256_hex)
{
	char	h[APIKEY_HASH_LEN + 1];

	apikey_hash(LIT(""), h);
	cr_expect_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	apikey_hash(LIT("abc"), h);
	cr_expect_str_eq(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

Test(apikey, headers)
{
	const char	*k;
	size_t		 n;

	cr_expect_eq(apikey_from_headers(NULL, NULL, &k, &n), APIKEY_ABSENT);

	cr_assert_eq(apikey_from_headers(good, NULL, &k, &n), APIKEY_PRESENT);
	cr_expect_eq(n, APIKEY_LEN);
	cr_expect(strncmp(k, good, n) == 0);

	cr_assert_eq(apikey_from_headers(NULL, "Bearer shk_0123456789abcdefghij"
	    "ABCDEFGHIJ0123456789", &k, &n), APIKEY_PRESENT);
	cr_expect(strncmp(k, good, n) == 0);
	cr_expect_eq(apikey_from_headers(NULL, "bearer  shk_0123456789abcdefgh"
	    "ijABCDEFGHIJ0123456789 ", &k, &n), APIKEY_PRESENT);

	/* Both, the same key: fine; two keys: refused. */
	cr_expect_eq(apikey_from_headers(good, "Bearer shk_0123456789abcdefghij"
	    "ABCDEFGHIJ0123456789", &k, &n), APIKEY_PRESENT);
	cr_expect_eq(apikey_from_headers(good, "Bearer shk_0123456789abcdefghij"
	    "ABCDEFGHIJ0123456780", &k, &n), APIKEY_INVALID);

	/* Another scheme alone is no key; beside X-Api-Key, ignored. */
	cr_expect_eq(apikey_from_headers(NULL, "Basic dXNlcjpwYXNz", &k, &n),
	    APIKEY_INVALID);
	cr_expect_eq(apikey_from_headers(good, "Basic dXNlcjpwYXNz", &k, &n),
	    APIKEY_PRESENT);
	cr_expect_eq(apikey_from_headers(NULL, "Bearer", &k, &n),
	    APIKEY_INVALID);
	cr_expect_eq(apikey_from_headers("not-a-key", NULL, &k, &n),
	    APIKEY_INVALID);
	cr_expect_eq(apikey_from_headers("", NULL, &k, &n), APIKEY_INVALID);
}

Test(apikey, scopes)
{
	cr_expect_eq(apikey_scope_parse(LIT("admin")), APIKEY_SCOPE_ADMIN);
	cr_expect_eq(apikey_scope_parse(LIT("user")), APIKEY_SCOPE_USER);
	cr_expect_eq(apikey_scope_parse(LIT("read-only")), APIKEY_SCOPE_READ);
	cr_expect_eq(apikey_scope_parse(LIT("Admin")), APIKEY_SCOPE_NONE);
	cr_expect_eq(apikey_scope_parse(LIT("read")), APIKEY_SCOPE_NONE);
	cr_expect_str_eq(apikey_scope_name(APIKEY_SCOPE_READ), "read-only");
	cr_expect_null(apikey_scope_name(APIKEY_SCOPE_NONE));
}
