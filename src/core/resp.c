/*
 * RESP command framing: see resp.h.
 */

#include <stdint.h>
#include <string.h>

#include "core/numfmt.h"
#include "core/resp.h"

static size_t	arg_len(const char **, const size_t *, int);
static size_t	header(char *, char, size_t);
static size_t	digits(size_t);

size_t
resp_len(int argc, const char **argv, const size_t *argvlen)
{
	size_t	len, n;
	int	i;

	len = 1 + digits((size_t)argc) + 2;
	for (i = 0; i < argc; i++) {
		n = arg_len(argv, argvlen, i);
		len += 1 + digits(n) + 2 + n + 2;
	}
	return (len);
}

size_t
resp_write(char *out, int argc, const char **argv, const size_t *argvlen)
{
	char	*p = out;
	size_t	 n;
	int	 i;

	p += header(p, '*', (size_t)argc);
	for (i = 0; i < argc; i++) {
		n = arg_len(argv, argvlen, i);
		p += header(p, '$', n);
		memcpy(p, argv[i], n);
		p += n;
		*p++ = '\r';
		*p++ = '\n';
	}
	return ((size_t)(p - out));
}

static size_t
arg_len(const char **argv, const size_t *argvlen, int i)
{
	return (argvlen != NULL ? argvlen[i] : strlen(argv[i]));
}

/* "<type><n>\r\n" */
static size_t
header(char *out, char type, size_t n)
{
	size_t	len;

	out[0] = type;
	len = 1 + numfmt_pad(out + 1, (uint64_t)n, 1);
	out[len++] = '\r';
	out[len++] = '\n';
	return (len);
}

static size_t
digits(size_t n)
{
	size_t	d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return (d);
}
