/*
 * The one shape every error takes:
 *   {"error": msg, "code": code, "status": n[, "fields": {...}]}
 * Pure logic (jansson only), so it is tested directly.
 */
#ifndef APIERROR_H
#define APIERROR_H

#include <stddef.h>
#include <jansson.h>

/* snake_case code for a status when the caller has none more precise. */
const char	*apierror_code(int status);
/* Standard message for a status ("not found", ...). */
const char	*apierror_message(int status);

/*
 * Serialises an error body; fields is borrowed and may be NULL. Returns a
 * malloc'd NUL-terminated string; *len gets its length.
 */
char		*apierror_body(int status, const char *code, const char *msg,
		    json_t *fields, size_t *len);

#endif
