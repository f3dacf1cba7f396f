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
#include "core/validate.h"

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
		uint32_t	 cp;

		n = utf8_decode(in + i, len - i, &cp);
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

int
text_header_safe(const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return (0);
	}
	return (1);
}
