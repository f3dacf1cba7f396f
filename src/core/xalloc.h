/*
 * Allocation for the pure core. The Kore glue has kore_malloc(), which
 * never returns NULL; the core cannot include Kore, yet wants the same
 * contract: running out of memory is fatal (abort), so no caller threads
 * a NULL check through its logic for a case it cannot handle anyway.
 */
#ifndef XALLOC_H
#define XALLOC_H

#include <stddef.h>

void	*xmalloc(size_t len);
void	*xreallocarray(void *ptr, size_t nmemb, size_t size);
/* Copies len bytes of p and appends a NUL. */
char	*xmemdup(const void *p, size_t len);
char	*xstrdup(const char *s);
/* asprintf(3) that cannot fail. */
char	*xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
