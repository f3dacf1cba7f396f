/*
 * RESP framing: byte for byte what hiredis' own formatter writes for the
 * same arguments (its redisFormatCommandArgv is the oracle), binary
 * arguments and lengths of every digit count included.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>

#include "core/resp.h"

static void
same_as_hiredis(int argc, const char **argv, const size_t *argvlen)
{
	char	*want, *got;
	size_t	 len, n;
	int	 wlen;

	wlen = redisFormatCommandArgv(&want, argc, argv, argvlen);
	cr_assert_gt(wlen, 0);
	len = resp_len(argc, argv, argvlen);
	cr_assert_eq(len, (size_t)wlen);
	got = malloc(len + 1);
	cr_assert_not_null(got);
	got[len] = 'X';		/* nothing written past the length */
	n = resp_write(got, argc, argv, argvlen);
	cr_assert_eq(n, len);
	cr_expect_eq(got[len], 'X');
	cr_expect_eq(memcmp(got, want, (size_t)wlen), 0);
	free(got);
	redisFreeCommand(want);
}

Test(resp, a_get_and_a_fill)
{
	const char	*get[] = { "GET", "sc:abc123" };
	const char	*fill[] = { "SET", "sc:abc123",
			    "2:42:7:0:0:https://example.com/a?b=c", "EX", "3600",
			    "NX" };

	same_as_hiredis(2, get, NULL);
	same_as_hiredis(6, fill, NULL);
}

Test(resp, binary_arguments_with_their_lengths)
{
	const char	*argv[] = { "SET", "k\r\nx", "a\0b\r\n", "" };
	size_t		 argvlen[] = { 3, 4, 5, 0 };

	same_as_hiredis(4, argv, argvlen);
}

Test(resp, lengths_of_every_digit_count)
{
	static char	 big[123457];
	const char	*argv[2] = { "SET", big };
	size_t		 argvlen[2] = { 3, 0 };
	size_t		 sizes[] = { 0, 1, 9, 10, 99, 100, 999, 1000, 9999,
			    10000, 99999, 100000, sizeof(big) };
	size_t		 i;

	memset(big, 'v', sizeof(big));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		argvlen[1] = sizes[i];
		same_as_hiredis(2, argv, argvlen);
	}
}

Test(resp, many_arguments)
{
	const char	*argv[1000];
	char		 keys[1000][16];
	int		 i;

	for (i = 0; i < 1000; i++) {
		(void)snprintf(keys[i], sizeof(keys[i]), "sc:%d", i);
		argv[i] = keys[i];
	}
	same_as_hiredis(0, argv, NULL);
	same_as_hiredis(1, argv, NULL);
	same_as_hiredis(9, argv, NULL);
	same_as_hiredis(10, argv, NULL);
	same_as_hiredis(1000, argv, NULL);
}
