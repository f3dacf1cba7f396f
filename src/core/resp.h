/*
 * Redis commands in RESP, the protocol's own framing, written without
 * printf: an array of bulk strings, "*<argc>\r\n" then "$<len>\r\n<arg>\r\n"
 * for each argument. hiredis formats a command through its printf-like
 * parser and a growing sds string, ~5 000 instructions for a GET and
 * ~10 000 for a cache fill (valgrind, docs/performance.md); a command of
 * known arguments needs their lengths added up and the bytes copied once.
 * Arguments are binary safe. Pure logic.
 */
#ifndef RESP_H
#define RESP_H

#include <stddef.h>

/* Bytes resp_write() writes for these arguments. */
size_t	resp_len(int argc, const char **argv, const size_t *argvlen);

/*
 * Writes the command to out, which holds at least resp_len() bytes (no
 * NUL is added: hiredis wants one after them, the caller's), and returns
 * that length. argvlen[i] is the length of
 * argv[i]; argvlen NULL: every argument is a C string.
 */
size_t	resp_write(char *out, int argc, const char **argv,
	    const size_t *argvlen);

#endif
