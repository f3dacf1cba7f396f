/*
 * Header values arrive as arbitrary bytes, while PostgreSQL text and JSON
 * both insist on valid UTF-8. Rather than refuse a redirect over a broken
 * User-Agent, the bad bytes are replaced, so what is stored is always
 * valid and still shows where the damage was.
 *
 * Controls are replaced as well as broken bytes: C1 controls (U+0080..
 * U+009F, two bytes in UTF-8) are as much terminal escapes as C0 ones
 * (U+009B is CSI), and the bidirectional embeddings, overrides and
 * isolates reorder whatever is displayed after them ("Trojan Source"),
 * so a stored User-Agent could disguise itself in a dashboard or a
 * terminal. The invisible marks U+200E/U+200F stay: they change no order.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/validate.h"

static int	cp_is_unsafe(uint32_t);

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
		if (n == 0 || cp_is_unsafe(cp)) {
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

/* C0, DEL, C1, and the bidirectional embeddings, overrides, isolates. */
static int
cp_is_unsafe(uint32_t cp)
{
	return (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
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
