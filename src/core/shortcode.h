/*
 * Short codes: random ones drawn from the kernel CSPRNG and the rules a
 * custom alias must follow. Pure logic, no Kore.
 */
#ifndef SHORTCODE_H
#define SHORTCODE_H

#include <stddef.h>

#define SHORTCODE_LEN		6
#define SHORTCODE_CUSTOM_MIN	3
#define SHORTCODE_CUSTOM_MAX	32

/* Fills out with SHORTCODE_LEN chars of [A-Za-z0-9] and a NUL; 0 or -1. */
int	shortcode_generate(char out[SHORTCODE_LEN + 1]);
/* n chars of [A-Za-z0-9], uniform, from the CSPRNG (no NUL); 0 or -1. */
int	shortcode_random(char *out, size_t n);

/* 1 when s (NUL-terminated) names a top-level route of the service. */
int	shortcode_is_reserved(const char *s);

/*
 * 1 when s has the shape of a short code a redirect may look up
 * ([A-Za-z0-9_-]{3,32}); cheap pre-filter before any cache or database.
 */
int	shortcode_is_wellformed(const char *s, size_t len);

#endif
