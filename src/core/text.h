/*
 * Copies of client-supplied text (User-Agent, Referer) that are safe to
 * store and to show: valid UTF-8, no control characters, no bidirectional
 * formatting characters, bounded in size.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>

/*
 * Returns a malloc'd NUL-terminated copy of s with every invalid UTF-8
 * sequence (each byte of it), every control character (C0, DEL, C1:
 * U+0000..U+001F, U+007F..U+009F) and every bidirectional embedding,
 * override or isolate (U+202A..U+202E, U+2066..U+2069) replaced by U+FFFD,
 * cut at a character boundary so that it holds at most max_bytes bytes.
 * s may be NULL ("").
 */
char	*text_clean(const char *s, size_t max_bytes);

/*
 * 1 when the len bytes of s may go into a response header as they are:
 * no control character (CR and LF split a response), no DEL.
 */
int	text_header_safe(const char *s, size_t len);

#endif
