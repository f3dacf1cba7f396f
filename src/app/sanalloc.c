/*
 * kore_malloc() and friends on libc's allocator, for the asan flavor (see
 * sanalloc.h). Like Kore's, they never return NULL. Empty in every other
 * flavor.
 */

#if defined(SHORTENER_SANITIZE)

#include <stdlib.h>
#include <string.h>

#include "app/sanalloc.h"
#include "core/xalloc.h"

void *
sanalloc_malloc(size_t len)
{
	return (xmalloc(len));
}

void *
sanalloc_calloc(size_t nmemb, size_t len)
{
	void	*p;

	p = xreallocarray(NULL, nmemb, len);
	memset(p, 0, nmemb == 0 || len == 0 ? 1 : nmemb * len);
	return (p);
}

void *
sanalloc_realloc(void *ptr, size_t len)
{
	return (xreallocarray(ptr, len, 1));
}

void
sanalloc_free(void *ptr)
{
	free(ptr);
}

char *
sanalloc_strdup(const char *s)
{
	return (xstrdup(s));
}

#else

/* ISO C wants at least one declaration in a translation unit. */
typedef int	sanalloc_unused;

#endif
