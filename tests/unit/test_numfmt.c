/* Decimal integers without printf: every digit, sign and limit. */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/numfmt.h"

static void
int64_is(int64_t v, const char *want)
{
	char	out[NUMFMT_INT64_MAX + 1];
	size_t	n;

	n = numfmt_int64(out, v);
	out[n] = '\0';
	cr_expect_str_eq(out, want);
	cr_expect_eq(n, strlen(want));
}

Test(numfmt, int64_matches_printf)
{
	char	want[32];
	int64_t	samples[] = { 0, 1, -1, 9, 10, 99, 100, 12345, -987654321,
		    1767323045000007, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	size_t	i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		(void)snprintf(want, sizeof(want), "%lld",
		    (long long)samples[i]);
		int64_is(samples[i], want);
	}
}

Test(numfmt, pad)
{
	char	out[NUMFMT_INT64_MAX + 1];
	size_t	n;

	n = numfmt_pad(out, 7, 3);
	out[n] = '\0';
	cr_expect_str_eq(out, "007");
	n = numfmt_pad(out, 0, 3);
	out[n] = '\0';
	cr_expect_str_eq(out, "000");
	n = numfmt_pad(out, 12345, 3);
	out[n] = '\0';
	cr_expect_str_eq(out, "12345", "wider than width: all digits");
	n = numfmt_pad(out, 0, 1);
	out[n] = '\0';
	cr_expect_str_eq(out, "0");
	n = numfmt_pad(out, UINT64_MAX, 1);
	out[n] = '\0';
	cr_expect_str_eq(out, "18446744073709551615");
}

Test(numfmt, hex64_matches_printf)
{
	char		want[32], out[NUMFMT_HEX64_LEN + 1];
	uint64_t	samples[] = { 0, 1, 0xf, 0x10, 0xdeadbeef,
		    0x0123456789abcdefULL, 0x8000000000000000ULL, UINT64_MAX };
	size_t		i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		(void)snprintf(want, sizeof(want), "%016llx",
		    (unsigned long long)samples[i]);
		memset(out, 'x', sizeof(out));
		numfmt_hex64(out, samples[i]);
		cr_expect_eq(out[NUMFMT_HEX64_LEN], 'x', "no byte past 16");
		out[NUMFMT_HEX64_LEN] = '\0';
		cr_expect_str_eq(out, want);
	}
}
