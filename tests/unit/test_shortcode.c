/*
 * Short codes: shape and alphabet of random codes, a statistical check
 * that rejection sampling left no modulo bias, and the reserved words.
 */

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "core/shortcode.h"

#define DRAWS	10000

static int	char_index(char c);
static int	cmp_code(const void *a, const void *b);

static const char	alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

Test(shortcode, generate_shape)
{
	char	code[SHORTCODE_LEN + 1];
	int	i, j;

	for (i = 0; i < DRAWS; i++) {
		memset(code, '!', sizeof(code));
		cr_assert_eq(shortcode_generate(code), 0);
		cr_assert_eq(strlen(code), 6, "code %d is \"%s\"", i, code);
		for (j = 0; j < SHORTCODE_LEN; j++) {
			cr_assert_geq(char_index(code[j]), 0,
			    "bad char 0x%02x in \"%s\"",
			    (unsigned char)code[j], code);
		}
		cr_assert(shortcode_is_wellformed(code, strlen(code)));
	}
}

/*
 * 60000 characters over 62 bins: chi-square has 61 degrees of freedom
 * (mean 61, sd 11). "byte % 62" bias scores about 400; 150 is beyond
 * 8 sd of a fair generator, so this test does not flake.
 */
Test(shortcode, generate_distribution)
{
	char	code[SHORTCODE_LEN + 1];
	long	count[62], pos[SHORTCODE_LEN][62];
	double	expected, chi2, d;
	int	i, j, k, distinct;

	memset(count, 0, sizeof(count));
	memset(pos, 0, sizeof(pos));

	for (i = 0; i < DRAWS; i++) {
		cr_assert_eq(shortcode_generate(code), 0);
		for (j = 0; j < SHORTCODE_LEN; j++) {
			k = char_index(code[j]);
			cr_assert_geq(k, 0);
			count[k]++;
			pos[j][k]++;
		}
	}

	expected = (double)DRAWS * SHORTCODE_LEN / 62.0;
	chi2 = 0;
	for (k = 0; k < 62; k++) {
		d = (double)count[k] - expected;
		chi2 += d * d / expected;
		cr_assert_gt(count[k], expected * 0.7, "'%c' drawn %ld times",
		    alphabet[k], count[k]);
		cr_assert_lt(count[k], expected * 1.3, "'%c' drawn %ld times",
		    alphabet[k], count[k]);
	}
	cr_assert_lt(chi2, 150.0, "chi-square %.1f", chi2);

	/* Every position varies: no constant or mostly-fixed position. */
	for (j = 0; j < SHORTCODE_LEN; j++) {
		distinct = 0;
		for (k = 0; k < 62; k++)
			distinct += pos[j][k] > 0;
		cr_assert_eq(distinct, 62, "position %d uses %d chars", j,
		    distinct);
	}
}

/*
 * 10000 codes from 62^6: the expected number of equal pairs is 0.0009,
 * so even one is suspicious and three means the source is not random.
 */
Test(shortcode, generate_unique)
{
	char	(*codes)[SHORTCODE_LEN + 1];
	int	i, dups;

	codes = calloc(DRAWS, sizeof(*codes));
	cr_assert_not_null(codes);
	for (i = 0; i < DRAWS; i++)
		cr_assert_eq(shortcode_generate(codes[i]), 0);

	qsort(codes, DRAWS, sizeof(*codes), cmp_code);
	dups = 0;
	for (i = 1; i < DRAWS; i++)
		dups += strcmp(codes[i - 1], codes[i]) == 0;
	free(codes);

	cr_assert_lt(dups, 3, "%d duplicate codes", dups);
}

Test(shortcode, reserved_words)
{
	static const char	*words[] = {
		"users", "urls", "events", "health", "ready", "metrics",
		"docs", "openapi.json", "static", "favicon.ico", "robots.txt",
	};
	size_t			 i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		cr_assert(shortcode_is_reserved(words[i]), "%s", words[i]);
}

Test(shortcode, reserved_case_insensitive)
{
	cr_assert(shortcode_is_reserved("USERS"));
	cr_assert(shortcode_is_reserved("Health"));
	cr_assert(shortcode_is_reserved("mEtRiCs"));
	cr_assert(shortcode_is_reserved("OpenAPI.JSON"));
	cr_assert(shortcode_is_reserved("Favicon.ICO"));
}

Test(shortcode, not_reserved)
{
	cr_assert_not(shortcode_is_reserved(""));
	cr_assert_not(shortcode_is_reserved("user"));
	cr_assert_not(shortcode_is_reserved("userss"));
	cr_assert_not(shortcode_is_reserved("users/"));
	cr_assert_not(shortcode_is_reserved(" users"));
	cr_assert_not(shortcode_is_reserved("openapi"));
	cr_assert_not(shortcode_is_reserved("favicon"));
	cr_assert_not(shortcode_is_reserved("abc123"));
}

Test(shortcode, wellformed_lengths)
{
	const char	*s = "abcdefghijklmnopqrstuvwxyzABCDEFGH";

	cr_assert_not(shortcode_is_wellformed(s, 0));
	cr_assert_not(shortcode_is_wellformed(s, 2));
	cr_assert(shortcode_is_wellformed(s, 3));
	cr_assert(shortcode_is_wellformed(s, 6));
	cr_assert(shortcode_is_wellformed(s, 32));
	cr_assert_not(shortcode_is_wellformed(s, 33));
}

Test(shortcode, wellformed_chars)
{
	cr_assert(shortcode_is_wellformed("a_b-C9", 6));
	cr_assert(shortcode_is_wellformed("---", 3));
	cr_assert(shortcode_is_wellformed("___", 3));
	cr_assert_not(shortcode_is_wellformed("ab.c", 4));
	cr_assert_not(shortcode_is_wellformed("ab/c", 4));
	cr_assert_not(shortcode_is_wellformed("ab c", 4));
	cr_assert_not(shortcode_is_wellformed("ab%c", 4));
	cr_assert_not(shortcode_is_wellformed("ab+c", 4));
	cr_assert_not(shortcode_is_wellformed("h\xc3\xa9llo", 6));
	/* The length is what counts, not the C string. */
	cr_assert_not(shortcode_is_wellformed("abc\0def", 7));
	cr_assert(shortcode_is_wellformed("abc\0def", 3));
}

static int
char_index(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return (-1);

	return ((int)(p - alphabet));
}

static int
cmp_code(const void *a, const void *b)
{
	return (strcmp(a, b));
}
