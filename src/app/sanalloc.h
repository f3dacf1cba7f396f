/*
 * The asan flavor only: conf/build.conf force-includes this header into
 * every file of the module, so that the module's own kore_malloc() family
 * becomes libc's and AddressSanitizer sees the glue's heap objects.
 *
 * Kore 4.1 serves every kore_malloc() of 8 KB or less from its own pools
 * (mem.c: mmap'd regions cut into blocks). To ASan such a block is never
 * allocated nor freed: an overflow, a use after free or a leak of a
 * request's context or a Redis ticket would go unseen. Nothing the module
 * allocates this way is freed by Kore, nor the other way round (the
 * dispatcher's onfree frees and clears req->hdlr_extra before Kore would
 * free it), so the two allocators never meet. Kore's own allocations keep
 * its pools.
 *
 * The names are object-like macros so that Kore's prototypes in
 * <kore/kore.h> turn into these and function pointers (state_free =
 * kore_free) follow too.
 */
#ifndef SANALLOC_H
#define SANALLOC_H

#include <stddef.h>

#define kore_malloc	sanalloc_malloc
#define kore_calloc	sanalloc_calloc
#define kore_realloc	sanalloc_realloc
#define kore_free	sanalloc_free
#define kore_strdup	sanalloc_strdup

void	*sanalloc_malloc(size_t);
void	*sanalloc_calloc(size_t, size_t);
void	*sanalloc_realloc(void *, size_t);
void	 sanalloc_free(void *);
char	*sanalloc_strdup(const char *);

#endif
