/*
 * What the fuzz targets share (one libFuzzer target per
 * tests/fuzz/fuzz_NAME.c; scripts/fuzz.py builds and runs them,
 * docs/testing.md explains).
 *
 * A target checks properties, not only "no crash": CHECK() states one and
 * ends the run with abort() when it does not hold, which libFuzzer treats
 * as a crash and saves as a reproducer. The input is either one value as
 * it arrives from a client, or a little program read with the fz_*()
 * helpers below (take a byte, a number, a string), so that the fuzzer can
 * build structured values (a multipart body, a sequence of log fields)
 * and the target can check what the code made of them.
 *
 * Every buffer handed to the code under test is an exact-size heap copy,
 * so that AddressSanitizer catches a read one byte past its end.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "\nproperty violated at %s:%d: %s\n", \
			    __FILE__, __LINE__, #cond);			\
			fprintf(stderr, "  " __VA_ARGS__);		\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

/* The rest of the input, consumed from the front. */
struct fz {
	const uint8_t	*p;
	size_t		 n;
};

static inline void
fz_init(struct fz *f, const uint8_t *data, size_t size)
{
	f->p = data;
	f->n = size;
}

/* 0 once the input is used up: programs end by themselves. */
static inline uint8_t
fz_u8(struct fz *f)
{
	if (f->n == 0)
		return (0);
	f->n--;
	return (*f->p++);
}

static inline uint64_t
fz_u64(struct fz *f)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | fz_u8(f);
	return (v);
}

/* A number in [0, max], taking as few bytes as max needs. */
static inline size_t
fz_range(struct fz *f, size_t max)
{
	size_t	v = 0, m;

	for (m = max; m > 0; m >>= 8)
		v = v << 8 | fz_u8(f);
	return (max == 0 ? 0 : v % (max + 1));
}

/*
 * Up to max bytes, length first, as a malloc'd NUL-terminated copy; *len
 * gets the length (the bytes may hold NULs of their own).
 */
static inline char *
fz_bytes(struct fz *f, size_t max, size_t *len)
{
	size_t	 n = fz_range(f, max);
	char	*s;

	if (n > f->n)
		n = f->n;
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, f->p, n);
	s[n] = '\0';
	f->p += n;
	f->n -= n;
	if (len != NULL)
		*len = n;
	return (s);
}

/* The same, cut at its first NUL: a C string. */
static inline char *
fz_str(struct fz *f, size_t max)
{
	return (fz_bytes(f, max, NULL));
}

/* An exact-size heap copy of data (no NUL added). */
static inline char *
fz_copy(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	return (s);
}

/* A NUL-terminated copy of data up to its first NUL. */
static inline char *
fz_cstr(const uint8_t *data, size_t size)
{
	const uint8_t	*nul = memchr(data, 0, size);
	size_t		 n = nul != NULL ? (size_t)(nul - data) : size;
	char		*s;

	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return (s);
}

#endif
