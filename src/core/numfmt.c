/*
 * Integers without printf: see numfmt.h.
 */

#include "core/numfmt.h"

size_t
numfmt_int64(char out[NUMFMT_INT64_MAX], int64_t v)
{
	uint64_t	u;
	size_t		n = 0;

	u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	if (v < 0)
		out[n++] = '-';
	return (n + numfmt_pad(out + n, u, 1));
}

size_t
numfmt_pad(char out[NUMFMT_INT64_MAX], uint64_t v, size_t width)
{
	char	digits[NUMFMT_INT64_MAX];
	size_t	n = 0, len = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || n < width);
	while (n > 0)
		out[len++] = digits[--n];
	return (len);
}

void
numfmt_hex64(char out[NUMFMT_HEX64_LEN], uint64_t v)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = NUMFMT_HEX64_LEN; i > 0; i--) {
		out[i - 1] = hex[v & 0xf];
		v >>= 4;
	}
}
