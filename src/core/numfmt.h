/*
 * Integers without printf. Every redirect formats a few (a log line, a
 * click's batch row, its request id), and vfprintf's machinery cost more
 * than the digits themselves. Pure logic.
 */
#ifndef NUMFMT_H
#define NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Longest output of numfmt_int64: "-9223372036854775808". */
#define NUMFMT_INT64_MAX	20

/* Writes v in decimal to out (no NUL) and returns the length. */
size_t	numfmt_int64(char out[NUMFMT_INT64_MAX], int64_t v);

/*
 * Writes v zero-padded to width digits (more if v needs them; width at
 * most NUMFMT_INT64_MAX) and returns the length: numfmt_pad(out, 7, 3)
 * is "007".
 */
size_t	numfmt_pad(char out[NUMFMT_INT64_MAX], uint64_t v, size_t width);

/* Writes v as 16 lower-case hex digits, as printf's "%016" PRIx64. */
#define NUMFMT_HEX64_LEN	16
void	numfmt_hex64(char out[NUMFMT_HEX64_LEN], uint64_t v);

#endif
