/*
 * Header values arrive as arbitrary bytes, while PostgreSQL text and JSON
 * both insist on valid UTF-8. Rather than refuse a redirect over a broken
 * User-Agent, the bad bytes are replaced, so what is stored is always
 * valid and still shows where the damage was.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

static size_t	utf8_sequence(const unsigned char *, size_t);

static const char replacement[] = "\xef\xbf\xbd";

char *
text_clean(const char *s, size_t max_bytes)
{
	const unsigned char	*in;
	size_t			 len, i, n, out_len;
	char			*out;

	if (s == NULL)
		s = "";

	in = (const unsigned char *)s;
	len = strlen(s);
	if ((out = malloc(max_bytes + 1)) == NULL)
		abort();

	out_len = 0;
	for (i = 0; i < len; i += n) {
		const void	*src;
		size_t		 src_len;

		n = utf8_sequence(in + i, len - i);
		if (n == 0 || (n == 1 && (in[i] < 0x20 || in[i] == 0x7f))) {
			src = replacement;
			src_len = sizeof(replacement) - 1;
			n = n == 0 ? 1 : n;
		} else {
			src = in + i;
			src_len = n;
		}

		if (out_len + src_len > max_bytes)
			break;
		memcpy(out + out_len, src, src_len);
		out_len += src_len;
	}

	out[out_len] = '\0';
	return (out);
}

/* Length of the valid UTF-8 sequence at p, or 0 when it is invalid. */
static size_t
utf8_sequence(const unsigned char *p, size_t avail)
{
	uint32_t	cp;
	size_t		n, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return (0);

	if (avail < n)
		return (0);

	cp = p[0] & (0xff >> (n + 1));
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}

	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);

	return (n);
}
