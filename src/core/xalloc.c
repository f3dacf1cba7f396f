/*
 * Allocation failure is fatal in the pure core, as it is in Kore
 * (kore_malloc). Aborting, instead of printing and exiting, leaves a core
 * dump and keeps this file free of any logging dependency.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

void *
xmalloc(size_t len)
{
	void	*p;

	/* malloc(0) may return NULL; a 1-byte block keeps "never NULL" true. */
	if ((p = malloc(len == 0 ? 1 : len)) == NULL)
		abort();

	return (p);
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		abort();
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		abort();

	return (p);
}

char *
xmemdup(const void *p, size_t len)
{
	char	*s;

	if (len == SIZE_MAX)
		abort();

	s = xmalloc(len + 1);
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';

	return (s);
}

char *
xstrdup(const char *s)
{
	return (xmemdup(s, strlen(s)));
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);

	if (r == -1)
		abort();

	return (s);
}
