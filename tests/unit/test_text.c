/*
 * text_clean: what a stored User-Agent or Referer may hold. Broken UTF-8,
 * controls (C0, DEL, C1) and bidirectional embeddings, overrides and
 * isolates become U+FFFD; the size bound cuts between characters.
 */

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/text.h"
#include "core/validate.h"

#define FFFD	"\xef\xbf\xbd"

static void
clean_is(const char *in, size_t max, const char *want)
{
	char	*got = text_clean(in, max);

	cr_expect_str_eq(got, want, "text_clean(\"%s\", %zu)", in, max);
	cr_expect(utf8_valid(got, strlen(got)));
	cr_expect_leq(strlen(got), max);
	free(got);
}

Test(text, plain_text_is_kept)
{
	clean_is("Mozilla/5.0 (X11; Linux x86_64)", 512,
	    "Mozilla/5.0 (X11; Linux x86_64)");
	clean_is("caf\xc3\xa9 \xe2\x80\x8f \xf0\x9f\x98\x80", 512,
	    "caf\xc3\xa9 \xe2\x80\x8f \xf0\x9f\x98\x80");
	clean_is(NULL, 8, "");
}

Test(text, c0_and_del_are_replaced)
{
	clean_is("a\tb\x1b[31mc\x7f", 512, "a" FFFD "b" FFFD "[31mc" FFFD);
}

/* U+0085 NEL, U+009B CSI: two bytes each, one replacement each. */
Test(text, c1_controls_are_replaced)
{
	clean_is("a\xc2\x85z", 512, "a" FFFD "z");
	clean_is("\xc2\x9b" "31m", 512, FFFD "31m");
	clean_is("\xc2\x80\xc2\x9f\xc2\xa0", 512, FFFD FFFD "\xc2\xa0");
}

/* LRE..RLO (U+202A..U+202E) and LRI..PDI (U+2066..U+2069). */
Test(text, bidi_controls_are_replaced)
{
	clean_is("x\xe2\x80\xaeyz\xe2\x80\xac", 512, "x" FFFD "yz" FFFD);
	clean_is("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xad", 512, FFFD FFFD FFFD);
	clean_is("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", 512,
	    FFFD FFFD FFFD FFFD);
	/* Neighbours of the ranges are ordinary characters. */
	clean_is("\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa", 512,
	    "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
}

Test(text, broken_utf8_is_replaced_byte_by_byte)
{
	clean_is("a\xff" "b", 512, "a" FFFD "b");
	clean_is("\xc0\xaf", 512, FFFD FFFD);	/* overlong '/' */
	clean_is("\xed\xa0\x80", 512, FFFD FFFD FFFD);	/* surrogate */
	clean_is("\xe2\x82", 512, FFFD FFFD);	/* truncated */
}

Test(text, bound_cuts_between_characters)
{
	clean_is("ab\xc3\xa9", 3, "ab");
	clean_is("a\x01", 3, "a");
	clean_is("a\x01", 4, "a" FFFD);
	clean_is("abc", 0, "");
}
