/*
 * Copies of client-supplied text (User-Agent, Referer) that are safe to
 * store: valid UTF-8, no control characters, bounded in size.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>

/*
 * Returns a malloc'd NUL-terminated copy of s with every invalid UTF-8
 * sequence and control character replaced by U+FFFD, cut at a character
 * boundary so that it holds at most max_bytes bytes. s may be NULL ("").
 */
char	*text_clean(const char *s, size_t max_bytes);

/*
 * 1 when the len bytes of s may go into a response header as they are:
 * no control character (CR and LF split a response), no DEL.
 */
int	text_header_safe(const char *s, size_t len);

#endif
